"""Execute an :class:`~syncd.sync.plan.EntityPlan` inside the caller's transaction, and read the state plans need.

Everything here takes an open :class:`~sqlmodel.Session` whose transaction the caller owns
(:func:`syncd.mirror.db.run_in_transaction`), so rows, quarantine, dirty items and the cursor that covers them
commit together or not at all.

:func:`apply_plan` returns the Item ids whose demand, supply or stock changed: items that were upserted, and
every item referenced by the old or new lines of a document that was deleted, created or changed. They are also
added to the ``dirty_item`` table in the same transaction.

A sales document (Invoice, SalesReceipt) counts as changed only when what is read of it as demand changed
(:data:`DEMAND_READ`: the backorder ledger, :mod:`syncd.backorders.loader`, and the reorder plan's sales history,
:func:`syncd.purchasing.inputs.read_demand`). QBO sends an invoice again whenever anything on it changes — a
payment moves its Balance, sending it moves its EmailStatus — and such a rewrite touches no item, so the ledger
and the reorder plan do no work for it. Purchase orders and bills always touch their items.

A Customer touches the items on its sales documents when the name the ledger shows on each backordered line
(:data:`CUSTOMER_READ`) changed or went away, so the ledger's stored names follow a rename. Other customer changes
(QBO resends a customer whenever its Balance moves) and new customers touch nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from syncd.mirror.models import ENTITY_TABLES, DirtyItem, EntityCursor, Item, Quarantine, table_of
from syncd.mirror.types import content_hash, dumps, loads
from syncd.sync.plan import EntityPlan, Existing, Held

CHUNK = 500
T = TypeVar("T")

#: Header columns a line table may repeat on each line (Invoice / SalesReceipt lines carry their document's date
#: and void flag, see :class:`syncd.mirror.models.SalesLine`). Lines are always rewritten with their header, so
#: copying the header's values here keeps them equal.
HEADER_COLUMNS_ON_LINES = ("txn_date", "voided")

#: Per sales entity, the header and line columns read of a document as demand: by the ledger (date, void flag,
#: customer and number shown on each backordered line; line key, detail type, item and quantity) and by the reorder
#: plan's sales history (item, quantity, date, void flag). A document rewritten with these unchanged touches no
#: item. Keep in step with the readers when either starts reading another column. ``seq`` comes first: lines
#: are compared in its order.
DEMAND_READ: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = dict.fromkeys(
    ("Invoice", "SalesReceipt"),
    (("txn_date", "voided", "customer_id", "doc_number"), ("seq", "line_id", "detail_type", "item_id", "qty")),
)

#: the Customer columns the ledger shows on a backordered line (joined to the sales document's ``customer_id``)
CUSTOMER_READ = ("display_name",)

#: a document's demand as read: (header values, line values in ``seq`` order), both in :data:`DEMAND_READ` order
DemandView = tuple[tuple[Any, ...], tuple[tuple[Any, ...], ...]]


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def load_existing(session: Session, company: str, entity: str, ids: Iterable[str]) -> dict[str, Existing]:
    """SyncToken and content hash of the given ids that the mirror holds."""
    model = ENTITY_TABLES[entity][0]
    table = table_of(model)
    out: dict[str, Existing] = {}
    for part in chunks(sorted(set(ids))):
        rows = session.execute(
            select(table.c.id, table.c.sync_token, table.c.raw_hash)
            .where(table.c.company == company, table.c.id.in_(part))
        )
        out.update({r.id: Existing(r.sync_token, r.raw_hash) for r in rows})
    return out


def load_all_existing(session: Session, company: str, entity: str) -> dict[str, Existing]:
    """Every id the mirror holds for the entity (full sweeps)."""
    table = table_of(ENTITY_TABLES[entity][0])
    rows = session.execute(
        select(table.c.id, table.c.sync_token, table.c.raw_hash).where(table.c.company == company)
    )
    return {r.id: Existing(r.sync_token, r.raw_hash) for r in rows}


def load_held(session: Session, company: str, entity: str) -> dict[str, Held]:
    rows = session.execute(
        select(Quarantine.sync_token, Quarantine.reason, Quarantine.raw, Quarantine.qbo_id)  # type: ignore[call-overload]
        .where(Quarantine.company == company, Quarantine.entity == entity)
    )
    out: dict[str, Held] = {}
    for token, reason, raw, qbo_id in rows:
        try:
            digest = content_hash(loads(raw))
        except ValueError:
            digest = ""
        out[qbo_id] = Held(token, reason, digest)
    return out


def known_items(session: Session, company: str, candidates: Iterable[str]) -> set[str]:
    """The subset of ``candidates`` that are Items in the mirror."""
    table = table_of(Item)
    found: set[str] = set()
    for part in chunks(sorted(set(candidates))):
        found.update(session.scalars(select(table.c.id).where(table.c.company == company, table.c.id.in_(part))))
    return found


def _line_items(session: Session, company: str, entity: str, ids: Sequence[str]) -> set[str]:
    _, line_model, fk = ENTITY_TABLES[entity]
    if line_model is None or fk is None or not ids:
        return set()
    lt = table_of(line_model)
    found: set[str] = set()
    for part in chunks(list(ids)):
        found.update(
            v for v in session.scalars(
                select(lt.c.item_id).where(lt.c.company == company, lt.c[fk].in_(part), lt.c.item_id.is_not(None))
                .distinct()
            ) if v is not None
        )
    return found


def _stored_columns(
    session: Session, company: str, table: Any, ids: Sequence[str], columns: Sequence[str]
) -> dict[str, tuple[Any, ...]]:
    """``columns`` of the stored rows of ``table`` among ``ids`` (id -> values in ``columns`` order)."""
    out: dict[str, tuple[Any, ...]] = {}
    for part in chunks(list(ids)):
        for row in session.execute(select(table.c.id, *(table.c[c] for c in columns))
                                   .where(table.c.company == company, table.c.id.in_(part))):
            out[row[0]] = tuple(row[1:])
    return out


def _stored_demand(session: Session, company: str, entity: str, ids: Sequence[str]) -> dict[str, DemandView]:
    """The :data:`DEMAND_READ` view of the stored documents among ``ids`` (absent ids are new documents)."""
    model, line_model, fk = ENTITY_TABLES[entity]
    assert line_model is not None and fk is not None
    head_columns, line_columns = DEMAND_READ[entity]
    heads = _stored_columns(session, company, table_of(model), ids, head_columns)
    lt = table_of(line_model)
    lines: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for part in chunks(list(ids)):
        for row in session.execute(select(lt.c[fk], *(lt.c[c] for c in line_columns))
                                   .where(lt.c.company == company, lt.c[fk].in_(part))):
            lines[row[0]].append(tuple(row[1:]))
    return {i: (head, tuple(sorted(lines.get(i, ()), key=lambda line: line[0]))) for i, head in heads.items()}


def _new_demand(entity: str, parsed: Any) -> DemandView:
    """The :data:`DEMAND_READ` view of a document as it is about to be written."""
    head_columns, line_columns = DEMAND_READ[entity]
    lines = sorted((tuple(line.get(c) for c in line_columns) for line in parsed.lines), key=lambda line: line[0])
    return tuple(parsed.values.get(c) for c in head_columns), tuple(lines)


def _view_items(view: DemandView, entity: str) -> set[str]:
    at = DEMAND_READ[entity][1].index("item_id")
    return {line[at] for line in view[1] if line[at] is not None}


def _renamed_customers(session: Session, company: str, plan: EntityPlan) -> list[str]:
    """Customers of ``plan`` whose :data:`CUSTOMER_READ` columns change: stored ones written with new values,
    deleted ones, and ones released from quarantine (their documents may be mirrored already, showing a stand-in
    name). Other customers new to the mirror have no mirrored document yet (QBO needs the customer first, and a
    cycle writes customers before sales documents), so their documents are not looked for."""
    table = table_of(ENTITY_TABLES["Customer"][0])
    stored = _stored_columns(session, company, table, [p.id for p in plan.upserts], CUSTOMER_READ)
    released = set(plan.release)
    renamed = [
        p.id for p in plan.upserts
        if (p.id in stored and stored[p.id] != tuple(p.values.get(c) for c in CUSTOMER_READ)) or p.id in released
    ]
    return renamed + list(plan.deletes)


def _customer_items(session: Session, company: str, customer_ids: Sequence[str]) -> set[str]:
    """Items on the sales lines of documents of ``customer_ids`` (a rename is rare; this reads their documents)."""
    found: set[str] = set()
    for entity in DEMAND_READ:
        model, line_model, fk = ENTITY_TABLES[entity]
        assert line_model is not None and fk is not None
        head, lt = table_of(model), table_of(line_model)
        for part in chunks(sorted(set(customer_ids))):
            found.update(session.scalars(
                select(lt.c.item_id).distinct()
                .join(head, and_(head.c.company == lt.c.company, head.c.id == lt.c[fk]))
                .where(head.c.company == company, head.c.customer_id.in_(part), lt.c.item_id.is_not(None))
            ))
    return found


def _remove(session: Session, company: str, entity: str, ids: Sequence[str]) -> None:
    model, line_model, fk = ENTITY_TABLES[entity]
    table = table_of(model)
    for part in chunks(list(ids)):
        if line_model is not None and fk is not None:
            lt = table_of(line_model)
            session.execute(delete(lt).where(lt.c.company == company, lt.c[fk].in_(part)))
        session.execute(delete(table).where(table.c.company == company, table.c.id.in_(part)))


def _copied_to_lines(line_model: type[SQLModel] | None) -> tuple[str, ...]:
    """The :data:`HEADER_COLUMNS_ON_LINES` that ``line_model``'s table has."""
    if line_model is None:
        return ()
    lt = table_of(line_model)
    return tuple(c for c in HEADER_COLUMNS_ON_LINES if c in lt.c)


def apply_plan(session: Session, company: str, plan: EntityPlan, now: datetime) -> set[str]:
    """Write ``plan``; return the touched Item ids (also recorded in ``dirty_item``)."""
    entity = plan.entity
    model, line_model, fk = ENTITY_TABLES[entity]
    table = table_of(model)
    copied = _copied_to_lines(line_model)
    upsert_ids = [p.id for p in plan.upserts]
    demand = entity in DEMAND_READ
    # Documents whose lines touch their items: all for other entities, changed ones for sales (module docstring).
    changed = set(upsert_ids)
    if demand:
        touched = _line_items(session, company, entity, plan.deletes)
        stored = _stored_demand(session, company, entity, upsert_ids)
        for p in plan.upserts:
            before, after = stored.get(p.id), _new_demand(entity, p)
            if before == after:
                changed.discard(p.id)
            elif before is not None:
                touched |= _view_items(before, entity)
    else:
        touched = _line_items(session, company, entity, upsert_ids + plan.deletes)
    if entity == "Item":
        touched.update(upsert_ids)
    if entity == "Customer":
        touched |= _customer_items(session, company, _renamed_customers(session, company, plan))
    _remove(session, company, entity, upsert_ids + plan.deletes)
    headers: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for p in plan.upserts:
        headers.append({
            "company": company, "id": p.id, "sync_token": p.sync_token, "last_updated": p.last_updated,
            "raw": dumps(p.raw), "raw_hash": p.raw_hash, "mirrored_at": now, **p.values,
        })
        from_header = {c: p.values[c] for c in copied}
        for line in p.lines:
            lines.append({"company": company, str(fk): p.id, **line, **from_header})
            if line.get("item_id") and p.id in changed:
                touched.add(line["item_id"])
    for part in chunks(headers):
        session.execute(insert(table), list(part))
    if line_model is not None and lines:
        lt = table_of(line_model)
        for part in chunks(lines):
            session.execute(insert(lt), list(part))
    _apply_quarantine(session, company, plan, now)
    mark_dirty(session, company, touched, now)
    return touched


def _apply_quarantine(session: Session, company: str, plan: EntityPlan, now: datetime) -> None:
    for qbo_id in set(plan.release):
        row = session.get(Quarantine, (company, plan.entity, qbo_id))
        if row is not None:
            session.delete(row)
    for entry in plan.quarantine:
        row = session.get(Quarantine, (company, plan.entity, entry.qbo_id))
        try:
            raw_text = dumps(entry.raw)
        except (TypeError, ValueError):
            raw_text = dumps(repr(entry.raw))
        if row is None:
            row = Quarantine(company=company, entity=plan.entity, qbo_id=entry.qbo_id, first_seen=now,
                             reason=entry.reason, raw=raw_text)
            session.add(row)
        row.sync_token = entry.sync_token
        row.reason = entry.reason
        row.raw = raw_text
        row.last_seen = now
    session.flush()


def mark_dirty(session: Session, company: str, item_ids: Iterable[str], now: datetime) -> None:
    """Add items to ``dirty_item`` (existing rows keep their ``since``)."""
    rows = [{"company": company, "item_id": i, "since": now} for i in sorted(set(item_ids))]
    if not rows:
        return
    table = table_of(DirtyItem)
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - only the two supported backends
        raise RuntimeError(f"unsupported database {dialect}")
    for part in chunks(rows):
        session.execute(stmt, list(part))


def get_cursor(session: Session, company: str, entity: str) -> EntityCursor:
    """The entity's cursor row, created (not yet backfilled) when missing."""
    row = session.get(EntityCursor, (company, entity))
    if row is None:
        row = EntityCursor(company=company, entity=entity)
        session.add(row)
        session.flush()
    return row


def advance_cursor(row: EntityCursor, to: datetime | None, now: datetime) -> bool:
    """Move ``last_updated`` forward to ``to`` (never backwards). True when it moved."""
    if to is None or (row.last_updated is not None and to <= row.last_updated):
        return False
    row.last_updated = to
    row.updated_at = now
    return True
