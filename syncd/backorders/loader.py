"""Read the ledger's inputs (:class:`~syncd.ledger.model.ItemInput`) for a set of items from the mirror.

Set-based: per chunk of item ids, one query for the items (with whether each has stored ledger states), one per
sales-document kind for demand, one for open PO lines and one for the bill lines received against them — never a
query per item or per document (one bound parameter carries the per-item date bounds, :func:`_want`).

Quiet items (``skip_quiet=True``)
    A tracked item with ``QtyOnHand >= 0`` and no stored ``backorder_line`` row has shortage 0 and no previous
    state, so :func:`syncd.ledger.recompute` would give it no state and no event whatever its demand and supply.
    With ``skip_quiet`` such items are reported in :attr:`Loaded.quiet` and their demand and supply are not read
    at all — on a typical company most items are quiet, so this is most of the ledger's read cost. (Input errors
    in a quiet item's lines, e.g. a negative quantity, are then not reported: they could not change its result.)

Short tails (``tail=True``, the incremental path)
    Only the last ``S`` units in fill order are backordered, and without priority rules fill order starts with
    TxnDate. So a short item whose stored states date back to day ``D`` is read from ``D`` on — an index range
    scan on ``(company, item_id, txn_date)``, the document's date being copied onto its lines by the mirror — and
    that suffix is used alone if it still covers the shortage. If an edit shrank it below the shortage, per-day
    sums on the same index give the latest earlier day from which it covers again, and the item is read from
    there. A short item with no stored state yet (a sale or a stock change just made it short) is read the same
    way, from the latest day whose lines from it on cover its shortage. A count on the index gives the fill ranks
    of the lines before the suffix, and a lookup by document tells which stored lines left out are still live
    (filled, not cancelled). An item that is not short reads no lines at all. Anything else (a shortage only
    undated lines make up, an item whose whole demand is short, priority rules) is read complete. The result
    equals the complete read (property-tested in the core and end to end); its cost follows the short tails, not
    the items' whole history. The full rebuild
    reads complete inputs: it is the reference the incremental path is checked against, and it reports input
    errors in every line.

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

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Date,
    String,
    Table,
    and_,
    case,
    column,
    exists,
    func,
    select,
    text,
    type_coerce,
)
from sqlmodel import Session

from syncd.backorders.store import LINE, chunked, load_states
from syncd.ledger.core import covers
from syncd.ledger.model import DemandLine, DocType, ItemInput, LineKey, LineState, SupplyLine
from syncd.mirror.models import (
    BillLine,
    Customer,
    DirtyItem,
    Invoice,
    InvoiceLine,
    Item,
    PurchaseOrder,
    PurchaseOrderLine,
    SalesReceipt,
    SalesReceiptLine,
    table_of,
)
from syncd.mirror.types import MemoDate, MemoDecimal
from syncd.rules.config import ReorderConfig
from syncd.rules.match import EffectiveRule, ItemFacts, resolve_rule

ITEM = table_of(Item)
CUSTOMER = table_of(Customer)
DIRTY = table_of(DirtyItem)
PO = table_of(PurchaseOrder)
PO_LINE = table_of(PurchaseOrderLine)
BILL_LINE = table_of(BillLine)
SALES: tuple[tuple[DocType, Table, Table, str], ...] = (
    ("Invoice", table_of(Invoice), table_of(InvoiceLine), "invoice_id"),
    ("SalesReceipt", table_of(SalesReceipt), table_of(SalesReceiptLine), "sales_receipt_id"),
)
SALES_DETAIL = "SalesItemLineDetail"
DEFAULT_DAY = date(1970, 1, 1)
#: a bound after every date: "before it" is all of an item's dated lines (see :func:`_earlier_bounds`)
AFTER_ALL = date.max
#: items whose inputs are read per round of queries (bounded memory; fewer, larger queries than store.CHUNK)
LOAD_CHUNK = 1000
#: items checked for quietness per query: a quiet item costs one short row, so most of a change set is decided at
#: once (well below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters)
QUIET_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Loaded:
    """Inputs of the tracked items among those asked for, and the ids that are not tracked (``dropped``)."""

    items: tuple[ItemInput, ...]
    dropped: frozenset[str]
    #: tracked items left out because they are not short and have no stored state (``skip_quiet``)
    quiet: frozenset[str] = frozenset()
    #: stored states of every requested item that is not quiet (``with_states`` / ``tail``)
    previous: dict[LineKey, LineState] = field(default_factory=dict)
    #: items whose demand was read as a short tail (``tail``), the rest of ``items`` was read complete
    tail: frozenset[str] = frozenset()
    #: demand lines read
    lines_read: int = 0


DEC = MemoDecimal()
DAY = MemoDate()


def _line_id(line_id: str | None, seq: int) -> str:
    return line_id if line_id else f"seq{seq}"


def sets_lead_times(reorder: ReorderConfig) -> bool:
    """Whether ``[reorder]`` sets ``lead_time_days`` anywhere (defaults or a rule); if not, :func:`lead_time` is
    None for every item and need not resolve each item's rule."""
    return reorder.defaults.sets("lead_time_days") or any(rule.sets("lead_time_days") for rule in reorder.rule)


def lead_time(facts: ItemFacts, reorder: ReorderConfig) -> int | None:
    """The ``[reorder]`` lead time for the item, if a rule or the defaults set one explicitly."""
    rule = resolve_rule(facts, reorder)
    if isinstance(rule, EffectiveRule) and rule.source_of("lead_time_days") != "default":
        return rule.lead_time_days
    return None


@lru_cache(maxsize=4)
def _want(dialect: str) -> Any:
    """``WITH want AS MATERIALIZED (...)``: per-item date bounds as rows (``column1`` item id, ``column2`` since)
    unpacked from ONE bound parameter (see :func:`_want_params`): a JSON array read with ``json_each`` on SQLite
    (JSON1 and ``MATERIALIZED`` are built in since 3.38 and 3.35), two arrays ``unnest``-ed on PostgreSQL.

    One parameter, so the statement is the same text for any number of items and SQLAlchemy's per-execution work
    (cache key, parameter processing) does not grow with the list; an earlier ``VALUES`` list of two bound
    parameters per item spent more on that than the database spent on the rows. ``MATERIALIZED`` makes the list
    the outer loop of the join: SQLite cannot estimate a table-valued function's rows and otherwise scanned every
    line of the company, whereas this way each row is one range scan of the per-item index. SQLite compares the
    bound's ISO text with the ISO text it stores dates as."""
    if dialect == "postgresql":
        body = (
            "SELECT * FROM unnest(CAST(:want_items AS text[]), CAST(:want_since AS date[])) "
            "AS want_rows(column1, column2)"
        )
    else:
        body = (
            "SELECT json_extract(value, '$[0]') AS column1, json_extract(value, '$[1]') AS column2 "
            "FROM json_each(:want_rows)"
        )
    return text(body).columns(column("column1", String), column("column2", Date)).cte("want").prefix_with(
        "MATERIALIZED"
    )


def _want_params(since: Mapping[str, date], dialect: str) -> dict[str, Any]:
    """The one parameter of :func:`_want` (two arrays on PostgreSQL) holding ``since`` (item id -> first day)."""
    pairs = sorted(since.items())
    if dialect == "postgresql":
        return {"want_items": [item_id for item_id, _ in pairs], "want_since": [day for _, day in pairs]}
    return {"want_rows": json.dumps([[item_id, day.isoformat()] for item_id, day in pairs])}


def _live_line(lines: Table) -> Any:
    """A line that is demand (SPEC §3): a sales-item line with a quantity on a document that is not voided.

    The document's date and void flag are read from the line (the mirror copies them from the header), so the
    per-item index ``(company, item_id, txn_date, qty, detail_type, voided)`` answers without the header."""
    return and_(lines.c.detail_type == SALES_DETAIL, lines.c.qty.is_not(None), lines.c.voided.is_(False))


def _demand(
    session: Session, company: str, ids: Sequence[str], since: Mapping[str, date] | None = None
) -> dict[str, list[DemandLine]]:
    """Demand lines of ``ids``: all of them, or with ``since`` only those dated on or after the item's bound."""
    out: dict[str, list[DemandLine]] = defaultdict(list)
    if not ids:
        return out
    want: Any = None
    params: dict[str, Any] = {}
    if since is not None:
        dialect = session.get_bind().dialect.name
        params = _want_params({i: since[i] for i in ids}, dialect)
        want = _want(dialect)
    for doc_type, head, lines, fk in SALES:
        stmt = select(
            lines.c[fk], lines.c.line_id, lines.c.seq, lines.c.item_id, type_coerce(lines.c.qty, DEC),
            type_coerce(lines.c.txn_date, DAY), head.c.doc_number, head.c.customer_id, CUSTOMER.c.display_name,
        )
        if want is not None:
            stmt = stmt.select_from(want).join(
                lines,
                and_(
                    lines.c.company == company,
                    lines.c.item_id == want.c.column1,
                    lines.c.txn_date >= want.c.column2,
                ),
            )
        else:
            stmt = stmt.where(lines.c.company == company, lines.c.item_id.in_(ids))
        stmt = (
            stmt.join(head, and_(head.c.company == lines.c.company, head.c.id == lines.c[fk]))
            .outerjoin(CUSTOMER, and_(CUSTOMER.c.company == head.c.company, CUSTOMER.c.id == head.c.customer_id))
            .where(_live_line(lines))
        )
        for doc_id, line_id, seq, item_id, qty, txn_date, doc_number, customer_id, customer_name in session.execute(
            stmt, params
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


def _valid_before(company: str, want: Any, lines: Table, *, undated: bool) -> Any:
    """``SELECT want.column1 FROM want JOIN lines``: the valid demand lines (a non-negative quantity, as the core
    counts them) of each listed item dated before its bound, with undated lines (which sort first) or without;
    answered from the per-item index alone. Callers add their aggregate and grouping."""
    day = func.coalesce(lines.c.txn_date, DEFAULT_DAY) if undated else lines.c.txn_date
    return (
        select(want.c.column1)
        .select_from(want)
        .join(lines, and_(lines.c.company == company, lines.c.item_id == want.c.column1, day < want.c.column2))
        .where(_live_line(lines), lines.c.qty >= 0)
    )


def _count_before(session: Session, company: str, since: Mapping[str, date]) -> dict[str, int]:
    """Per item, the valid demand lines dated before its bound: the fill ranks a tail read leaves out.

    Valid as the core counts them (:func:`syncd.ledger.core.allocate`): a non-negative quantity. A line without a
    date sorts first (:data:`DEFAULT_DAY`), so it is counted. Answered from the per-item index alone."""
    counts: dict[str, int] = defaultdict(int)
    if not since:
        return counts
    dialect = session.get_bind().dialect.name
    params = _want_params(since, dialect)
    want = _want(dialect)
    for _doc_type, _head, lines, _fk in SALES:
        stmt = _valid_before(company, want, lines, undated=True).add_columns(func.count()).group_by(want.c.column1)
        for item_id, n in session.execute(stmt, params):
            counts[item_id] += int(n)
    return counts


def _valid_units(lines: Iterable[DemandLine]) -> Decimal:
    """Units of the lines the core counts as demand (a finite, non-negative quantity)."""
    return sum((line.qty for line in lines if line.qty.is_finite() and line.qty >= 0), Decimal(0))


def _earlier_bounds(
    session: Session, company: str, since: Mapping[str, date], short_by: Mapping[str, Decimal]
) -> dict[str, date]:
    """Per item, the latest day before its bound in ``since`` from which the valid demand lines dated before that
    bound add up to at least ``short_by`` units: a new, earlier bound whose tail covers the shortage again. Read
    from per-day sums on the per-item index (no line row, no header). An item whose dated lines before the bound
    do not add up to it (it needs undated lines, or its stock data is off) is left out: read it complete."""
    dialect = session.get_bind().dialect.name
    params = _want_params(since, dialect)
    want = _want(dialect)
    per_day: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for _doc_type, _head, lines, _fk in SALES:
        stmt = (
            _valid_before(company, want, lines, undated=False)
            .add_columns(type_coerce(lines.c.txn_date, DAY), type_coerce(func.sum(lines.c.qty), DEC))
            .group_by(want.c.column1, lines.c.txn_date)
        )
        for item_id, txn_date, units in session.execute(stmt, params):
            per_day[item_id][txn_date] += units
    bounds: dict[str, date] = {}
    for item_id, days in per_day.items():
        have = Decimal(0)
        for txn_date in sorted(days, reverse=True):
            have += days[txn_date]
            if have >= short_by[item_id]:
                bounds[item_id] = txn_date
                break
    return bounds


def _live_keys(session: Session, company: str, wanted: Mapping[LineKey, str]) -> set[LineKey]:
    """Which of the line keys ``wanted`` (key -> item id) are valid demand lines of that item now."""
    live: set[LineKey] = set()
    for doc_type, _head, lines, fk in SALES:
        docs = sorted({k.doc_id for k in wanted if k.doc_type == doc_type})
        for part in chunked(docs):
            stmt = select(lines.c[fk], lines.c.line_id, lines.c.seq, lines.c.item_id).where(
                lines.c.company == company, lines.c[fk].in_(part), _live_line(lines), lines.c.qty >= 0
            )
            for doc_id, line_id, seq, item_id in session.execute(stmt):
                key = LineKey(doc_type, doc_id, _line_id(line_id, seq))
                if wanted.get(key) == item_id:
                    live.add(key)
    return live


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


def _calm(has_state: Any) -> Any:
    """The SQL condition of a quiet item row of ``ITEM`` (as :func:`_tracked` says tracked, ``QtyOnHand >= 0``),
    ``has_state`` being whether it has a stored ledger state."""
    return and_(
        ITEM.c.type == "Inventory",
        ITEM.c.track_qty_on_hand.is_(True),
        ITEM.c.active.is_(True),
        ITEM.c.qty_on_hand.is_not(None),
        ITEM.c.qty_on_hand >= 0,
        ~has_state,
    )


def _quiet_ids(session: Session, company: str, ids: Sequence[str]) -> set[str]:
    """The quiet items among ``ids``: tracked, ``QtyOnHand >= 0`` and no stored state (:func:`_calm`).

    Decided in SQL so that the many quiet items of a change set cost one short row each, not a whole item row."""
    has_state = exists().where(LINE.c.company == ITEM.c.company, LINE.c.item_id == ITEM.c.id)
    stmt = select(ITEM.c.id).where(ITEM.c.company == company, ITEM.c.id.in_(ids), _calm(has_state))
    return set(session.scalars(stmt))


def dirty_split(session: Session, company: str) -> tuple[set[str], set[str]]:
    """The items queued in ``dirty_item`` and, among them, the quiet ones: one query for the whole queue.

    The same answer as :func:`syncd.sync.changes.dirty_items` followed by the quiet check of :func:`load_items`,
    without sending the queue's ids back to the database."""
    has_state = exists().where(LINE.c.company == DIRTY.c.company, LINE.c.item_id == DIRTY.c.item_id)
    stmt = (
        select(DIRTY.c.item_id, case((_calm(has_state), 1), else_=0))
        .select_from(DIRTY)
        .outerjoin(ITEM, and_(ITEM.c.company == DIRTY.c.company, ITEM.c.id == DIRTY.c.item_id))
        .where(DIRTY.c.company == company)
    )
    queued: set[str] = set()
    quiet: set[str] = set()
    for item_id, calm in session.execute(stmt):
        queued.add(item_id)
        if calm:
            quiet.add(item_id)
    return queued, quiet


def _covered_by_stock(row: Any) -> bool:
    qoh = row.qty_on_hand
    return isinstance(qoh, Decimal) and qoh.is_finite() and qoh >= 0


def load_items(
    session: Session,
    company: str,
    item_ids: Iterable[str],
    reorder: ReorderConfig,
    *,
    skip_quiet: bool = False,
    with_states: bool = False,
    tail: bool = False,
    quiet: Iterable[str] | None = None,
) -> Loaded:
    """Inputs for ``item_ids``: every live demand line and open PO line of each tracked item.

    An Inventory item whose QtyOnHand is missing is treated as untracked (QBO always sends it for tracked
    items). Items come back in the order of their ids' chunks; :func:`syncd.ledger.recompute` sorts anyway.
    With ``skip_quiet``, quiet items (module docstring) are listed in ``quiet`` instead of ``items``; a caller
    that already knows them (:func:`dirty_split`, in the same transaction) passes them as ``quiet``. With
    ``with_states`` (implied by ``tail``) the stored states of the other requested items are read too.

    With ``tail`` (only valid when fill order starts with TxnDate, :attr:`syncd.ledger.FillPolicy.date_first`),
    demand is read as a partial input where that is safe (:class:`~syncd.ledger.model.ItemInput`): an item that
    is not short needs no line at all, only which of its stored lines are still live; a short item with stored
    states is read from the earliest date among them, and kept partial if those lines still cover its shortage
    (:func:`syncd.ledger.core.covers`), else from the earlier day that makes up the difference
    (:func:`_earlier_bounds`); a short item without stored states is read from the latest day whose lines from
    it on cover its shortage (the same per-day sums). Every other item is read complete.
    """
    ids = sorted(set(item_ids))
    items: list[ItemInput] = []
    dropped: set[str] = set()
    previous: dict[LineKey, LineState] = {}
    tailed: set[str] = set()
    lines_read = 0
    explicit_leads = sets_lead_times(reorder)
    calm: set[str] = set()
    if quiet is not None:
        calm.update(set(quiet).intersection(ids))
    elif skip_quiet:
        for part in chunked(ids, QUIET_CHUNK):
            calm.update(_quiet_ids(session, company, part))
    for part in chunked([i for i in ids if i not in calm], LOAD_CHUNK):
        found = {
            r.id: r
            for r in session.execute(
                select(
                    ITEM.c.id, ITEM.c.name, ITEM.c.sku, ITEM.c.type, ITEM.c.active, ITEM.c.track_qty_on_hand,
                    ITEM.c.qty_on_hand, ITEM.c.reorder_point, ITEM.c.pref_vendor_id, ITEM.c.purchase_cost,
                ).where(ITEM.c.company == company, ITEM.c.id.in_(part))
            )
        }
        tracked = sorted(i for i, r in found.items() if _tracked(r))
        dropped.update(set(part).difference(tracked))
        stored: dict[str, list[LineState]] = defaultdict(list)
        if with_states or tail:
            states = load_states(session, company, part)
            previous.update(states)
            for state in states.values():
                stored[state.item_id].append(state)
        if not tracked:
            continue
        demand: dict[str, list[DemandLine]] = {}
        base: dict[str, int] = {}
        elsewhere: dict[str, frozenset[LineKey]] = {}
        if tail:
            demand, base, elsewhere = _tails(session, company, tracked, found, stored)
            tailed.update(demand)
        complete = [i for i in tracked if i not in demand]
        demand.update(_demand(session, company, complete))
        # With tail, an item that is not short was given no lines: nothing is pegged, so its POs are not read.
        supply = _supply(session, company, [i for i in tracked if not (tail and _covered_by_stock(found[i]))])
        for item_id in tracked:
            r = found[item_id]
            name = r.name or f"Item {item_id}"
            lead = None
            if explicit_leads:
                facts = ItemFacts(item_id, name, r.sku, r.reorder_point, r.pref_vendor_id, r.purchase_cost)
                lead = lead_time(facts, reorder)
            lines = tuple(demand.get(item_id, ()))
            lines_read += len(lines)
            items.append(
                ItemInput(
                    item_id=item_id,
                    item_name=name,
                    qty_on_hand=r.qty_on_hand,
                    demand=lines,
                    supply=tuple(supply.get(item_id, ())),
                    sku=r.sku,
                    lead_time_days=lead,
                    rank_base=base.get(item_id, 0),
                    live_elsewhere=elsewhere.get(item_id, frozenset()),
                )
            )
    return Loaded(tuple(items), frozenset(dropped), frozenset(calm), previous, frozenset(tailed), lines_read)


def _tail_covers(row: Any, lines: Sequence[DemandLine]) -> bool:
    """Whether ``lines`` (a suffix of the item ``row``'s demand) cover its shortage (:func:`covers`)."""
    return covers(ItemInput(row.id, "", row.qty_on_hand, demand=tuple(lines)))


def _tails(
    session: Session,
    company: str,
    tracked: Sequence[str],
    found: Mapping[str, Any],
    stored: Mapping[str, Sequence[LineState]],
) -> tuple[dict[str, list[DemandLine]], dict[str, int], dict[str, frozenset[LineKey]]]:
    """Partial demand for the items of ``tracked`` where it is safe (see :func:`load_items`).

    Returns (demand, rank_base, live_elsewhere) for those items only; the caller reads the others complete."""
    since: dict[str, date] = {}
    fresh: dict[str, Decimal] = {}
    demand: dict[str, list[DemandLine]] = {}
    for item_id in tracked:
        row = found[item_id]
        if _covered_by_stock(row):
            demand[item_id] = []  # nothing can be short: only the stored lines' fate (filled or cancelled) counts
            continue
        if not isinstance(row.qty_on_hand, Decimal) or not row.qty_on_hand.is_finite():
            continue  # the core rejects the item; read complete so its error is the usual one
        dates = [s.txn_date for s in stored.get(item_id, ())]
        if dates and min(dates) > DEFAULT_DAY:
            since[item_id] = min(dates)
        elif not dates:
            fresh[item_id] = -row.qty_on_hand
    got = _demand(session, company, sorted(since), since)
    short_by: dict[str, Decimal] = {}
    for item_id in since:
        lines = got.get(item_id, [])
        if _tail_covers(found[item_id], lines):
            demand[item_id] = lines
        else:
            short_by[item_id] = -found[item_id].qty_on_hand - _valid_units(lines)
    # A short item with no stored state (it just went short: a sale, a stock count) has no tail to start from:
    # its bound is found on the index from its newest day backwards, as for a tail an edit shrank.
    short_by.update(fresh)
    since.update(dict.fromkeys(fresh, AFTER_ALL))
    if short_by:
        # An edit shrank these tails below the shortage (or the item has none yet): read them from an earlier day
        # that makes up the difference, found on the index, rather than complete. Anything still short of it is
        # read complete.
        earlier = _earlier_bounds(session, company, {i: since[i] for i in short_by}, short_by)
        got = _demand(session, company, sorted(earlier), earlier)
        for item_id, day in earlier.items():
            lines = got.get(item_id, [])
            if _tail_covers(found[item_id], lines):
                demand[item_id] = lines
                since[item_id] = day
    base = _count_before(session, company, {i: since[i] for i in demand if i in since})
    wanted: dict[LineKey, str] = {}
    for item_id, lines in demand.items():
        seen = {line.key for line in lines}
        wanted.update({s.key: item_id for s in stored.get(item_id, ()) if s.key not in seen})
    by_item: dict[str, set[LineKey]] = defaultdict(set)
    for key in _live_keys(session, company, wanted) if wanted else ():
        by_item[wanted[key]].add(key)
    return demand, dict(base), {item_id: frozenset(keys) for item_id, keys in by_item.items()}


def all_item_ids(session: Session, company: str) -> Iterator[str]:
    """Every mirrored item id of the company (tracked or not), sorted."""
    yield from session.scalars(select(ITEM.c.id).where(ITEM.c.company == company).order_by(ITEM.c.id))
