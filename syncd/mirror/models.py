"""SQL tables of the mirror and of each company's sync state.

Every mirrored table is keyed by ``(company, id)`` — ``company`` is the config name of the company
(``[[company]].name``), ``id`` QBO's ``Id`` — and keeps ``sync_token``, ``last_updated`` (QBO
``MetaData.LastUpdatedTime``, aware UTC), ``raw`` (the JSON text of the exact object QBO sent), ``raw_hash`` (used
to skip writes when nothing changed) and ``mirrored_at`` (when this row version was written; an idle cycle never
changes it).

Deletions are **physical**: a deleted document and its lines leave the mirror (name-list entities are never
deleted by QBO; they are inactivated, ``active = False``). Document lines are replaced as a whole on every change;
``seq`` is the position among the mirrored lines (sub-total lines are skipped, group components flattened).
Invoice and SalesReceipt lines also carry copies of their header's ``txn_date`` and ``voided``
(:class:`SalesLine`), rewritten with it.

Columns holding quantities and money are :class:`~syncd.mirror.types.DecimalType` (exact ``Decimal`` on both
backends); times are :class:`~syncd.mirror.types.UTCDateTime` (aware). Schema changes go through Alembic
(``syncd/mirror/migrations``); never ``create_all`` in production.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import cast

from sqlalchemy import ForeignKeyConstraint, Index, PrimaryKeyConstraint, Table, Text, false
from sqlmodel import Field, SQLModel

from syncd.mirror.types import DecimalType, UTCDateTime

NAME = 64
QBO_ID = 32


def _dec() -> Decimal | None:
    return Field(default=None, sa_type=DecimalType)  # type: ignore[no-any-return]


def _ts(nullable: bool = True) -> datetime | None:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable)  # type: ignore[no-any-return]


# ---- company state -----------------------------------------------------------------------------------------


class Company(SQLModel, table=True):
    """One QuickBooks company: its realm and the health ``syncd status`` reports."""

    __tablename__ = "company"

    name: str = Field(primary_key=True, max_length=NAME)
    realm_id: str | None = Field(default=None, max_length=QBO_ID)
    last_attempt_at: datetime | None = _ts()
    last_success_at: datetime | None = _ts()
    last_error: str | None = Field(default=None, sa_type=Text)
    last_error_at: datetime | None = _ts()
    needs_reconnect: bool = Field(default=False)
    reconnect_reason: str | None = Field(default=None, sa_type=Text)
    last_drift_check_at: datetime | None = _ts()


class OAuthToken(SQLModel, table=True):
    """The company's OAuth tokens (:class:`syncd.mirror.tokens.DbTokenStore`). Never logged."""

    __tablename__ = "oauth_token"

    company: str = Field(primary_key=True, max_length=NAME)
    access_token: str | None = Field(default=None, sa_type=Text)
    access_expires_at: datetime | None = _ts()
    refresh_token: str = Field(sa_type=Text)
    refresh_expires_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()


class EntityCursor(SQLModel, table=True):
    """Replication state of one entity of one company.

    ``last_updated`` is a low watermark: every change with ``LastUpdatedTime`` before it is in the mirror (each
    cycle re-reads ``sync.overlap_seconds`` before it). It never moves backwards. While ``backfill_done`` is
    false, ``backfill_next_start``/``backfill_last_id`` say where the paged backfill resumes.
    """

    __tablename__ = "entity_cursor"

    company: str = Field(primary_key=True, max_length=NAME)
    entity: str = Field(primary_key=True, max_length=NAME)
    backfill_done: bool = Field(default=False)
    backfill_next_start: int = Field(default=1)
    backfill_last_id: str | None = Field(default=None, max_length=QBO_ID)
    backfill_started_at: datetime | None = _ts()
    last_updated: datetime | None = _ts()
    updated_at: datetime | None = _ts()


class Quarantine(SQLModel, table=True):
    """A record that could not be mirrored, with why. Removed when a valid version (or its deletion) arrives."""

    __tablename__ = "quarantine"

    company: str = Field(primary_key=True, max_length=NAME)
    entity: str = Field(primary_key=True, max_length=NAME)
    qbo_id: str = Field(primary_key=True, max_length=80)
    sync_token: str | None = Field(default=None, max_length=QBO_ID)
    reason: str = Field(sa_type=Text)
    raw: str = Field(sa_type=Text)
    first_seen: datetime | None = _ts()
    last_seen: datetime | None = _ts()


class DirtyItem(SQLModel, table=True):
    """Items whose demand, supply or stock changed since the ledger last consumed them.

    Written in the same transaction as the rows that changed them, so a crash between the sync and the ledger
    recompute loses nothing; the ledger deletes the rows it has recomputed
    (:func:`syncd.sync.changes.clear_dirty_items`).
    """

    __tablename__ = "dirty_item"

    company: str = Field(primary_key=True, max_length=NAME)
    item_id: str = Field(primary_key=True, max_length=QBO_ID)
    since: datetime | None = _ts()


# ---- mirrored entities -------------------------------------------------------------------------------------


class Mirrored(SQLModel):
    """Columns every mirrored QBO object has."""

    company: str = Field(primary_key=True, max_length=NAME)
    id: str = Field(primary_key=True, max_length=QBO_ID)
    sync_token: str = Field(max_length=QBO_ID)
    last_updated: datetime = Field(sa_type=UTCDateTime, nullable=False)
    raw: str = Field(sa_type=Text)
    raw_hash: str = Field(max_length=64)
    mirrored_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Item(Mirrored, table=True):
    __tablename__ = "item"

    name: str | None = Field(default=None, sa_type=Text)
    sku: str | None = Field(default=None, max_length=100)
    type: str | None = Field(default=None, max_length=32)
    active: bool = Field(default=True)
    track_qty_on_hand: bool = Field(default=False)
    qty_on_hand: Decimal | None = _dec()
    reorder_point: Decimal | None = _dec()
    unit_price: Decimal | None = _dec()
    purchase_cost: Decimal | None = _dec()
    pref_vendor_id: str | None = Field(default=None, max_length=QBO_ID)


class Vendor(Mirrored, table=True):
    __tablename__ = "vendor"

    display_name: str | None = Field(default=None, sa_type=Text)
    company_name: str | None = Field(default=None, sa_type=Text)
    email: str | None = Field(default=None, sa_type=Text)
    active: bool = Field(default=True)


class Customer(Mirrored, table=True):
    __tablename__ = "customer"

    display_name: str | None = Field(default=None, sa_type=Text)
    email: str | None = Field(default=None, sa_type=Text)
    active: bool = Field(default=True)


class Account(Mirrored, table=True):
    __tablename__ = "account"

    name: str | None = Field(default=None, sa_type=Text)
    account_type: str | None = Field(default=None, max_length=64)
    account_sub_type: str | None = Field(default=None, max_length=64)
    active: bool = Field(default=True)


class SalesDoc(Mirrored):
    """Invoice / SalesReceipt header. ``voided``: QBO marks a void only by PrivateNote "Voided" + zero amounts."""

    doc_number: str | None = Field(default=None, max_length=64)
    txn_date: date | None = None
    due_date: date | None = None
    customer_id: str | None = Field(default=None, max_length=QBO_ID)
    bill_email: str | None = Field(default=None, sa_type=Text)
    private_note: str | None = Field(default=None, sa_type=Text)
    voided: bool = Field(default=False)
    total_amt: Decimal | None = _dec()


class Invoice(SalesDoc, table=True):
    __tablename__ = "invoice"


class SalesReceipt(SalesDoc, table=True):
    __tablename__ = "sales_receipt"


class DocLine(SQLModel):
    """One mirrored line. ``item_id``/``qty`` are set for item lines (``SalesItemLineDetail`` /
    ``ItemBasedExpenseLineDetail``); ``qty`` is None when QBO sent none (e.g. a voided line)."""

    company: str = Field(primary_key=True, max_length=NAME)
    seq: int = Field(primary_key=True)
    line_id: str | None = Field(default=None, max_length=QBO_ID)
    line_num: int | None = None
    detail_type: str = Field(max_length=64)
    item_id: str | None = Field(default=None, max_length=QBO_ID)
    qty: Decimal | None = _dec()
    unit_price: Decimal | None = _dec()
    amount: Decimal | None = _dec()


class SalesLine(DocLine):
    """An Invoice / SalesReceipt line, with copies of its header's ``txn_date`` and ``voided``.

    Denormalized so the ledger can range-scan an item's newest demand lines on ``ix_<table>_line_demand``
    without joining each line to its header. They cannot go stale: :func:`syncd.sync.apply.apply_plan` always
    deletes and re-inserts a document's lines together with its header, copying both values from it.
    """

    txn_date: date | None = None
    voided: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


def _line_keys(table: str, fk: str) -> tuple[object, ...]:
    return (
        PrimaryKeyConstraint("company", fk, "seq", name=f"pk_{table}_line"),
        ForeignKeyConstraint(["company", fk], [f"{table}.company", f"{table}.id"], ondelete="CASCADE",
                             name=f"fk_{table}_line_{table}"),
    )


def _line_args(table: str, fk: str) -> tuple[object, ...]:
    """Keys of a supply line table, and the (company, item_id) index its per-item reads use."""
    return _line_keys(table, fk) + (Index(f"ix_{table}_line_item", "company", "item_id"),)


def _sales_line_args(table: str, fk: str) -> tuple[object, ...]:
    """Keys of a sales (demand) line table. Its item index also covers the date, quantity, detail type and void
    flag, so counting or listing an item's live demand lines before a date reads the index only."""
    return _line_keys(table, fk) + (
        Index(f"ix_{table}_line_demand", "company", "item_id", "txn_date", "qty", "detail_type", "voided"),
    )


class InvoiceLine(SalesLine, table=True):
    __tablename__ = "invoice_line"
    __table_args__ = _sales_line_args("invoice", "invoice_id")

    invoice_id: str = Field(primary_key=True, max_length=QBO_ID)


class SalesReceiptLine(SalesLine, table=True):
    __tablename__ = "sales_receipt_line"
    __table_args__ = _sales_line_args("sales_receipt", "sales_receipt_id")

    sales_receipt_id: str = Field(primary_key=True, max_length=QBO_ID)


class PurchaseOrder(Mirrored, table=True):
    """PO header. Open supply = ``po_status == 'Open'`` and not ``manually_closed``."""

    __tablename__ = "purchase_order"
    __table_args__ = (Index("ix_purchase_order_status", "company", "po_status"),)

    doc_number: str | None = Field(default=None, max_length=64)
    txn_date: date | None = None
    due_date: date | None = None
    expected_date: date | None = None
    vendor_id: str | None = Field(default=None, max_length=QBO_ID)
    po_status: str | None = Field(default=None, max_length=16)
    manually_closed: bool = Field(default=False)
    private_note: str | None = Field(default=None, sa_type=Text)
    memo: str | None = Field(default=None, sa_type=Text)
    total_amt: Decimal | None = _dec()


class PurchaseOrderLine(DocLine, table=True):
    __tablename__ = "purchase_order_line"
    __table_args__ = _line_args("purchase_order", "purchase_order_id")

    purchase_order_id: str = Field(primary_key=True, max_length=QBO_ID)


class Bill(Mirrored, table=True):
    __tablename__ = "bill"

    doc_number: str | None = Field(default=None, max_length=64)
    txn_date: date | None = None
    due_date: date | None = None
    vendor_id: str | None = Field(default=None, max_length=QBO_ID)
    private_note: str | None = Field(default=None, sa_type=Text)
    total_amt: Decimal | None = _dec()


class BillLine(DocLine, table=True):
    """A bill line; ``po_id``/``po_line_id`` come from the line's ``LinkedTxn`` to a PurchaseOrder (received qty)."""

    __tablename__ = "bill_line"
    __table_args__ = _line_args("bill", "bill_id") + (Index("ix_bill_line_po", "company", "po_id"),)

    bill_id: str = Field(primary_key=True, max_length=QBO_ID)
    po_id: str | None = Field(default=None, max_length=QBO_ID)
    po_line_id: str | None = Field(default=None, max_length=QBO_ID)


def table_of(model: type[SQLModel]) -> Table:
    """The SQLAlchemy ``Table`` of a table model (typed, for Core statements)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


#: entity name → (header model, line model or None, line foreign-key column)
ENTITY_TABLES: dict[str, tuple[type[Mirrored], type[DocLine] | None, str | None]] = {
    "Item": (Item, None, None),
    "Vendor": (Vendor, None, None),
    "Customer": (Customer, None, None),
    "Account": (Account, None, None),
    "Invoice": (Invoice, InvoiceLine, "invoice_id"),
    "SalesReceipt": (SalesReceipt, SalesReceiptLine, "sales_receipt_id"),
    "PurchaseOrder": (PurchaseOrder, PurchaseOrderLine, "purchase_order_id"),
    "Bill": (Bill, BillLine, "bill_id"),
}

