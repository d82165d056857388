"""SQL tables of the stored backorder ledger (created by migration ``0002``, branch ``ledger``).

``backorder_line``
    One row per demand line that is short now (``backordered > 0``), keyed by
    ``(company, doc_type, doc_id, line_id)`` — the ledger's :class:`~syncd.ledger.model.LineKey`. It holds
    the whole :class:`~syncd.ledger.model.LineState`; ``pegged`` is JSON text (decimals as strings). Rows are
    replaced only when their state changed, and deleted when the line is no longer short.
``backorder_event``
    Append-only: one row per :class:`~syncd.ledger.model.LedgerEvent`, never updated or deleted. ``id`` grows
    with insertion, so ``ORDER BY id`` is the order events were derived in.
``backorder_meta``
    Per company: the company-local day the last review pass ran (so it runs once a day) and a fingerprint of
    the ledger-relevant config (a changed policy triggers a full rebuild).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from syncd.mirror.models import NAME, QBO_ID
from syncd.mirror.types import DecimalType, UTCDateTime

DOC_TYPE = 16
KIND = 16


class BackorderLine(SQLModel, table=True):
    """Current state of one backordered line (see :class:`syncd.ledger.model.LineState`)."""

    __tablename__ = "backorder_line"
    __table_args__ = (Index("ix_backorder_line_item", "company", "item_id"),)

    company: str = Field(primary_key=True, max_length=NAME)
    doc_type: str = Field(primary_key=True, max_length=DOC_TYPE)
    doc_id: str = Field(primary_key=True, max_length=QBO_ID)
    line_id: str = Field(primary_key=True, max_length=QBO_ID)
    item_id: str = Field(max_length=QBO_ID)
    item_name: str = Field(sa_type=Text)
    customer_id: str = Field(max_length=QBO_ID)
    customer_name: str = Field(sa_type=Text)
    doc_number: str | None = Field(default=None, max_length=64)
    txn_date: date
    ordered: Decimal = Field(sa_type=DecimalType)
    backordered: Decimal = Field(sa_type=DecimalType)
    fill_rank: int
    short_since: datetime = Field(sa_type=UTCDateTime, nullable=False)
    eta: date | None = None
    eta_kind: str = Field(max_length=KIND)
    estimate_basis: date | None = None
    overdue_eta: date | None = None
    oversold: bool = Field(default=False)
    pegged: str = Field(sa_type=Text)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class BackorderEvent(SQLModel, table=True):
    """One entry of the append-only ledger history (see :class:`syncd.ledger.model.LedgerEvent`)."""

    __tablename__ = "backorder_event"
    __table_args__ = (
        Index("ix_backorder_event_at", "company", "at"),
        Index("ix_backorder_event_item", "company", "item_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    company: str = Field(max_length=NAME)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    kind: str = Field(max_length=KIND)
    doc_type: str = Field(max_length=DOC_TYPE)
    doc_id: str = Field(max_length=QBO_ID)
    line_id: str = Field(max_length=QBO_ID)
    item_id: str = Field(max_length=QBO_ID)
    customer_id: str = Field(max_length=QBO_ID)
    doc_number: str | None = Field(default=None, max_length=64)
    qty_before: Decimal = Field(sa_type=DecimalType)
    qty_after: Decimal = Field(sa_type=DecimalType)
    eta_before: date | None = None
    eta_after: date | None = None
    eta_kind_before: str | None = Field(default=None, max_length=KIND)
    eta_kind_after: str | None = Field(default=None, max_length=KIND)
    detail: str = Field(sa_type=Text)


class BackorderMeta(SQLModel, table=True):
    """Ledger bookkeeping per company."""

    __tablename__ = "backorder_meta"

    company: str = Field(primary_key=True, max_length=NAME)
    reviewed_on: date | None = None
    policy_hash: str | None = Field(default=None, max_length=64)
    rebuilt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
