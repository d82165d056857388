"""Read the ledger's inputs (:class:`~syncd.ledger.model.ItemInput`) for a set of items from the mirror.

Set-based: per chunk of item ids, one query for the items (with whether each has stored ledger states), one per
sales-document kind for demand, one for open PO lines and one for the bill lines received against them — never a
query per item or per document.

Quiet items (``skip_quiet=True``)
    A tracked item with ``QtyOnHand >= 0`` and no stored ``backorder_line`` row has shortage 0 and no previous
    state, so :func:`syncd.ledger.recompute` would give it no state and no event whatever its demand and supply.
    With ``skip_quiet`` such items are reported in :attr:`Loaded.quiet` and their demand and supply are not read
    at all — on a typical company most items are quiet, so this is most of the ledger's read cost. (Input errors
    in a quiet item's lines, e.g. a negative quantity, are then not reported: they could not change its result.)

What counts (SPEC §3):

* **tracked item**: ``type = 'Inventory'``, ``track_qty_on_hand`` and ``active``. Requested ids that are not
  tracked (or not mirrored) are returned as *dropped*: their backorders are cancelled.
* **demand**: ``SalesItemLineDetail`` lines with a quantity of Invoices and SalesReceipts that are not voided
  (deleted documents are physically gone from the mirror). A line without a QBO line Id is keyed ``seq<n>``.
* **supply**: lines of POs with ``po_status = 'Open'`` and not ``manually_closed``; ``remaining = qty - sum(qty
  of bill lines linked to that PO line)`` (never below zero). Expected date is the PO's DueDate.
* **lead time** of an item: the ``lead_time_days`` of its ``[reorder]`` rule when that rule (or
  ``reorder.defaults``) sets one; otherwise None, so ``[backorders]`` decides (item rule, then
  ``default_lead_time_days``; see :class:`syncd.ledger.policy.FillPolicy`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Table, and_, exists, select, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

from syncd.backorders.store import LINE, chunked
from syncd.ledger.model import DemandLine, DocType, ItemInput, SupplyLine
from syncd.mirror.models import (
    BillLine,
    Customer,
    Invoice,
    InvoiceLine,
    Item,
    PurchaseOrder,
    PurchaseOrderLine,
    SalesReceipt,
    SalesReceiptLine,
    table_of,
)
from syncd.mirror.types import DecimalType
from syncd.rules.config import ReorderConfig
from syncd.rules.match import EffectiveRule, ItemFacts, resolve_rule

ITEM = table_of(Item)
CUSTOMER = table_of(Customer)
PO = table_of(PurchaseOrder)
PO_LINE = table_of(PurchaseOrderLine)
BILL_LINE = table_of(BillLine)
SALES: tuple[tuple[DocType, Table, Table, str], ...] = (
    ("Invoice", table_of(Invoice), table_of(InvoiceLine), "invoice_id"),
    ("SalesReceipt", table_of(SalesReceipt), table_of(SalesReceiptLine), "sales_receipt_id"),
)
SALES_DETAIL = "SalesItemLineDetail"
DEFAULT_DAY = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Loaded:
    """Inputs of the tracked items among those asked for, and the ids that are not tracked (``dropped``)."""

    items: tuple[ItemInput, ...]
    dropped: frozenset[str]
    #: tracked items left out because they are not short and have no stored state (``skip_quiet``)
    quiet: frozenset[str] = frozenset()


class _CachedDecimal(DecimalType):
    """:class:`DecimalType` converting each distinct stored value once per statement, not once per row.

    Line quantities and dates repeat a lot (a few hundred distinct values over a million lines), and the exact
    conversion (scale, trim) is the costly part of reading a row. Equal stored values give equal, canonical
    Decimals, so sharing one immutable Decimal between rows is exact.
    """

    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        return _memo(super().result_processor(dialect, coltype))


class _CachedDate(TypeDecorator[date]):
    """``Date`` converting each distinct stored value once (see :class:`_CachedDecimal`)."""

    impl = Date
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        return _memo(self.impl_instance.dialect_impl(dialect).result_processor(dialect, coltype))


def _memo(convert: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    if convert is None:
        return None
    cache: dict[Any, Any] = {}

    def process(value: Any) -> Any:
        if value is None:
            return None
        try:
            return cache[value]
        except KeyError:
            if len(cache) >= _MEMO_SIZE:
                cache.clear()
            out = cache[value] = convert(value)
            return out

    return process


_MEMO_SIZE = 4096
DEC = _CachedDecimal()
DAY = _CachedDate()


def _line_id(line_id: str | None, seq: int) -> str:
    return line_id if line_id else f"seq{seq}"


def lead_time(facts: ItemFacts, reorder: ReorderConfig) -> int | None:
    """The ``[reorder]`` lead time for the item, if a rule or the defaults set one explicitly."""
    rule = resolve_rule(facts, reorder)
    if isinstance(rule, EffectiveRule) and rule.source_of("lead_time_days") != "default":
        return rule.lead_time_days
    return None


def _demand(session: Session, company: str, ids: Sequence[str]) -> dict[str, list[DemandLine]]:
    out: dict[str, list[DemandLine]] = defaultdict(list)
    for doc_type, head, lines, fk in SALES:
        stmt = (
            select(
                lines.c[fk], lines.c.line_id, lines.c.seq, lines.c.item_id, type_coerce(lines.c.qty, DEC),
                type_coerce(head.c.txn_date, DAY), head.c.doc_number, head.c.customer_id, CUSTOMER.c.display_name,
            )
            .join(head, and_(head.c.company == lines.c.company, head.c.id == lines.c[fk]))
            .outerjoin(CUSTOMER, and_(CUSTOMER.c.company == head.c.company, CUSTOMER.c.id == head.c.customer_id))
            .where(
                lines.c.company == company,
                lines.c.item_id.in_(ids),
                lines.c.detail_type == SALES_DETAIL,
                lines.c.qty.is_not(None),
                head.c.voided.is_(False),
            )
        )
        for doc_id, line_id, seq, item_id, qty, txn_date, doc_number, customer_id, customer_name in session.execute(
            stmt
        ):
            out[item_id].append(
                DemandLine(
                    doc_type=doc_type,
                    doc_id=doc_id,
                    line_id=_line_id(line_id, seq),
                    txn_date=txn_date or DEFAULT_DAY,
                    customer_id=customer_id or "",
                    customer_name=customer_name or (f"Customer {customer_id}" if customer_id else "(no customer)"),
                    item_id=item_id,
                    qty=qty,
                    doc_number=doc_number,
                )
            )
    return out


def _supply(session: Session, company: str, ids: Sequence[str]) -> dict[str, list[SupplyLine]]:
    stmt = (
        select(
            PO_LINE.c.purchase_order_id, PO_LINE.c.line_id, PO_LINE.c.seq, PO_LINE.c.item_id,
            type_coerce(PO_LINE.c.qty, DEC),
            PO.c.vendor_id, PO.c.txn_date, PO.c.due_date, PO.c.doc_number,
        )
        .join(PO, and_(PO.c.company == PO_LINE.c.company, PO.c.id == PO_LINE.c.purchase_order_id))
        .where(
            PO_LINE.c.company == company,
            PO_LINE.c.item_id.in_(ids),
            PO_LINE.c.qty.is_not(None),
            PO.c.po_status == "Open",
            PO.c.manually_closed.is_(False),
        )
    )
    rows = session.execute(stmt).all()
    received = _received(session, company, sorted({r[0] for r in rows}))
    out: dict[str, list[SupplyLine]] = defaultdict(list)
    for po_id, line_id, seq, item_id, qty, vendor_id, txn_date, due_date, doc_number in rows:
        key = _line_id(line_id, seq)
        got = received.get((po_id, line_id), Decimal(0)) if line_id else Decimal(0)
        out[item_id].append(
            SupplyLine(
                po_id=po_id,
                po_line_id=key,
                vendor_id=vendor_id or "",
                txn_date=txn_date or DEFAULT_DAY,
                remaining=max(Decimal(0), qty - got),
                due_date=due_date,
                po_number=doc_number,
            )
        )
    return out


def _received(session: Session, company: str, po_ids: Sequence[str]) -> dict[tuple[str, str], Decimal]:
    """Quantity received per (PO Id, PO line Id) through linked bill lines."""
    got: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for part in chunked(po_ids):
        stmt = select(BILL_LINE.c.po_id, BILL_LINE.c.po_line_id, BILL_LINE.c.qty).where(
            BILL_LINE.c.company == company,
            BILL_LINE.c.po_id.in_(part),
            BILL_LINE.c.po_line_id.is_not(None),
            BILL_LINE.c.qty.is_not(None),
        )
        for po_id, po_line_id, qty in session.execute(stmt):
            got[(po_id, po_line_id)] += qty
    return got


def _tracked(row: Any) -> bool:
    return row.type == "Inventory" and bool(row.track_qty_on_hand) and bool(row.active) and (
        row.qty_on_hand is not None
    )


def _quiet(row: Any) -> bool:
    """Not short and no stored state: the ledger's result for the item is empty whatever its lines."""
    qoh = row.qty_on_hand
    return not row.has_state and isinstance(qoh, Decimal) and qoh.is_finite() and qoh >= 0


def load_items(
    session: Session, company: str, item_ids: Iterable[str], reorder: ReorderConfig, *, skip_quiet: bool = False
) -> Loaded:
    """Inputs for ``item_ids`` (complete: every live demand line and open PO line of each tracked item).

    An Inventory item whose QtyOnHand is missing is treated as untracked (QBO always sends it for tracked
    items). Items come back in the order of their ids' chunks; :func:`syncd.ledger.recompute` sorts anyway.
    With ``skip_quiet``, quiet items (module docstring) are listed in ``quiet`` instead of ``items``.
    """
    ids = sorted(set(item_ids))
    items: list[ItemInput] = []
    dropped: set[str] = set()
    quiet: set[str] = set()
    has_state = (
        exists().where(LINE.c.company == ITEM.c.company, LINE.c.item_id == ITEM.c.id).label("has_state")
    )
    for part in chunked(ids):
        found = {
            r.id: r
            for r in session.execute(
                select(
                    ITEM.c.id, ITEM.c.name, ITEM.c.sku, ITEM.c.type, ITEM.c.active, ITEM.c.track_qty_on_hand,
                    ITEM.c.qty_on_hand, ITEM.c.reorder_point, ITEM.c.pref_vendor_id, ITEM.c.purchase_cost,
                    has_state,
                ).where(ITEM.c.company == company, ITEM.c.id.in_(part))
            )
        }
        tracked = sorted(i for i, r in found.items() if _tracked(r))
        dropped.update(set(part).difference(tracked))
        if skip_quiet:
            calm = {i for i in tracked if _quiet(found[i])}
            quiet.update(calm)
            tracked = [i for i in tracked if i not in calm]
        if not tracked:
            continue
        demand = _demand(session, company, tracked)
        supply = _supply(session, company, tracked)
        for item_id in tracked:
            r = found[item_id]
            name = r.name or f"Item {item_id}"
            facts = ItemFacts(item_id, name, r.sku, r.reorder_point, r.pref_vendor_id, r.purchase_cost)
            items.append(
                ItemInput(
                    item_id=item_id,
                    item_name=name,
                    qty_on_hand=r.qty_on_hand,
                    demand=tuple(demand.get(item_id, ())),
                    supply=tuple(supply.get(item_id, ())),
                    sku=r.sku,
                    lead_time_days=lead_time(facts, reorder),
                )
            )
    return Loaded(tuple(items), frozenset(dropped), frozenset(quiet))


def all_item_ids(session: Session, company: str) -> Iterator[str]:
    """Every mirrored item id of the company (tracked or not), sorted."""
    yield from session.scalars(select(ITEM.c.id).where(ITEM.c.company == company).order_by(ITEM.c.id))
