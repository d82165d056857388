"""Tables of the reorder plans and of the PO outbox (``po_intent``).

An intent row is written (and committed) **before** its PurchaseOrder is sent to QBO, and carries everything the
POST needs: the exact body and the deterministic ``request_id``. Its ``status`` moves only along::

    pending_approval -> approved | rejected
    approved -> pushing                     (committed before the POST)
    pushing  -> created                     (QBO answered, or reconciliation found the PO; mirrored in the same tx)
    pushing  -> approved                    (reconciliation: QBO has no such PO, so it may be resent)
    pushing  -> failed                      (QBO refused the create with a fault: nothing was created)

``created``, ``rejected`` and ``failed`` are final. Quantities and money are exact decimals; the body and the
explanation are JSON text written with :func:`syncd.mirror.types.dumps` (Decimals exact, never floats).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from syncd.mirror.models import NAME, QBO_ID
from syncd.mirror.types import DecimalType, UTCDateTime

PENDING = "pending_approval"
APPROVED = "approved"
REJECTED = "rejected"
PUSHING = "pushing"
CREATED = "created"
FAILED = "failed"
STATUSES = (PENDING, APPROVED, REJECTED, PUSHING, CREATED, FAILED)
#: Intents whose quantity is (or is about to be) on order but may not be in the mirror yet.
OPEN_STATUSES = (PENDING, APPROVED, PUSHING)


class ReorderPlan(SQLModel, table=True):
    """One planning pass that proposed something (or reported problems). ``problems``: JSON list of strings."""

    __tablename__ = "reorder_plan"

    id: str = Field(primary_key=True, max_length=64)
    company: str = Field(max_length=NAME, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    mode: str = Field(max_length=16)
    today: date
    summary: str = Field(sa_type=Text)
    problems: str = Field(default="[]", sa_type=Text)
    pos: str = Field(default="[]", sa_type=Text)  # JSON: the planned POs as shown by `syncd reorder plan`


class POIntent(SQLModel, table=True):
    """One purchase order syncd means to create in QBO (the outbox row). See the module docstring."""

    __tablename__ = "po_intent"
    __table_args__ = (Index("ix_po_intent_company_status", "company", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    company: str = Field(max_length=NAME)
    plan_id: str = Field(max_length=64, foreign_key="reorder_plan.id")
    vendor_id: str = Field(max_length=QBO_ID)
    vendor_name: str = Field(sa_type=Text)
    request_id: str = Field(max_length=50, unique=True)
    status: str = Field(max_length=24)
    approval: str = Field(sa_type=Text)  # why this status (auto, threshold, approved by CLI …)
    body: str = Field(sa_type=Text)  # the exact QBO create body (JSON)
    explanation: str = Field(sa_type=Text)  # JSON list, one entry per line: item, qty, price, amount, steps
    total: Decimal = Field(sa_type=DecimalType, nullable=False)
    due_date: date
    qbo_po_id: str | None = Field(default=None, max_length=QBO_ID)
    qbo_doc_number: str | None = Field(default=None, max_length=64)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ReorderMeta(SQLModel, table=True):
    """Reorder bookkeeping per company: what the last full planning pass depended on (see
    :func:`syncd.purchasing.cycle.run_reorder`). An idle cycle whose marks all match skips planning."""

    __tablename__ = "reorder_meta"

    company: str = Field(primary_key=True, max_length=NAME)
    settings_hash: str = Field(max_length=64)
    planned_on: date
    intents_mark: str = Field(sa_type=Text)  # per status: count and latest updated_at of the company's intents
    planned_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
