"""Rows of ``backorder_line`` / ``backorder_event`` to and from the ledger's values. Set-based reads and writes.

Contracts:

* :func:`load_states` returns exactly the stored states of the given items (all items when ``item_ids`` is
  None) as :class:`~syncd.ledger.model.LineState`; ``state_row(load(row)) == row`` for every stored row.
* :func:`write_states` makes the stored states of the items in ``scope`` equal ``current`` restricted to those
  items, writing only rows whose state changed (an unchanged recompute writes nothing).
* :func:`append_events` inserts events; it never updates or deletes one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import bindparam, delete, insert, or_, select, type_coerce, update
from sqlalchemy.types import TypeEngine
from sqlmodel import Session

from syncd.backorders.models import BackorderEvent, BackorderLine
from syncd.ledger.model import EtaKind, ExpectedKind, LedgerEvent, LineKey, LineState, Peg
from syncd.ledger.report import dec
from syncd.mirror.models import table_of
from syncd.mirror.types import MemoDate, MemoDecimal, MemoUTCDateTime

#: bound parameters per IN list; far below SQLite's and PostgreSQL's limits
CHUNK = 500

LINE = table_of(BackorderLine)
EVENT = table_of(BackorderEvent)


def chunked(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def pegs_to_json(pegs: Iterable[Peg]) -> str:
    return json.dumps(
        [
            [p.po_id, p.po_number, p.po_line_id, p.vendor_id, dec(p.qty),
             p.expected.isoformat() if p.expected else None, p.expected_kind]
            for p in pegs
        ],
        separators=(",", ":"),
    )


@lru_cache(maxsize=4096)
def pegs_from_json(text: str) -> tuple[Peg, ...]:
    """Pegs from their stored JSON. Cached: many states share a text (``[]``, one PO line), and pegs are frozen."""
    return tuple(
        Peg(po_id, po_number, po_line_id, vendor_id, Decimal(qty), _day(expected), cast(ExpectedKind, kind))
        for po_id, po_number, po_line_id, vendor_id, qty, expected, kind in json.loads(text)
    )


def state_row(company: str, state: LineState, now: datetime) -> dict[str, Any]:
    """The ``backorder_line`` row of one state."""
    return {
        "company": company,
        "doc_type": state.key.doc_type,
        "doc_id": state.key.doc_id,
        "line_id": state.key.line_id,
        "item_id": state.item_id,
        "item_name": state.item_name,
        "customer_id": state.customer_id,
        "customer_name": state.customer_name,
        "doc_number": state.doc_number,
        "txn_date": state.txn_date,
        "ordered": state.ordered,
        "backordered": state.backordered,
        "fill_rank": state.fill_rank,
        "short_since": state.short_since,
        "eta": state.eta,
        "eta_kind": state.eta_kind,
        "estimate_basis": state.estimate_basis,
        "overdue_eta": state.overdue_eta,
        "oversold": state.oversold,
        "pegged": pegs_to_json(state.pegged),
        "updated_at": now,
    }


#: the ``backorder_line`` columns a state is read from, in the order :func:`_state` takes them
STATE_COLUMNS = (
    "doc_type", "doc_id", "line_id", "item_id", "item_name", "customer_id", "customer_name", "doc_number",
    "txn_date", "ordered", "backordered", "fill_rank", "short_since", "eta", "eta_kind", "pegged",
    "estimate_basis", "overdue_eta", "oversold",
)


#: what a day, a quantity or a timestamp is read as in bulk: each distinct stored value converted once
_MEMO_TYPES: dict[str, TypeEngine[Any]] = {
    **dict.fromkeys(("txn_date", "eta", "estimate_basis", "overdue_eta"), MemoDate()),
    **dict.fromkeys(("ordered", "backordered"), MemoDecimal()),
    "short_since": MemoUTCDateTime(),
}
_STATE_SELECT = tuple(
    type_coerce(LINE.c[name], _MEMO_TYPES[name]).label(name) if name in _MEMO_TYPES else LINE.c[name]
    for name in STATE_COLUMNS
)


def _state(values: Sequence[Any]) -> LineState:
    (doc_type, doc_id, line_id, item_id, item_name, customer_id, customer_name, doc_number, txn_date, ordered,
     backordered, fill_rank, short_since, eta, eta_kind, pegged, estimate_basis, overdue_eta, oversold) = values
    return LineState(
        key=LineKey(doc_type, doc_id, line_id),
        item_id=item_id,
        item_name=item_name,
        customer_id=customer_id,
        customer_name=customer_name,
        doc_number=doc_number,
        txn_date=txn_date,
        ordered=ordered,
        backordered=backordered,
        fill_rank=fill_rank,
        short_since=short_since,
        eta=eta,
        eta_kind=cast(EtaKind, eta_kind),
        pegged=pegs_from_json(pegged),
        estimate_basis=estimate_basis,
        overdue_eta=overdue_eta,
        oversold=bool(oversold),
    )


def state_from_row(row: Any) -> LineState:
    """The state of one ``backorder_line`` row (any row with a ``_mapping`` holding :data:`STATE_COLUMNS`)."""
    m = row._mapping
    return _state([m[name] for name in STATE_COLUMNS])


def load_states(session: Session, company: str, item_ids: Iterable[str] | None = None) -> dict[LineKey, LineState]:
    """Stored states of ``item_ids`` (every item when None)."""
    out: dict[LineKey, LineState] = {}
    base = select(*_STATE_SELECT).where(LINE.c.company == company)
    if item_ids is None:
        parts: Iterable[Any] = [base]
    else:
        parts = (base.where(LINE.c.item_id.in_(part)) for part in chunked(sorted(set(item_ids))))
    for stmt in parts:
        for row in session.execute(stmt):
            state = _state(row)
            out[state.key] = state
    return out


def write_states(
    session: Session,
    company: str,
    previous: Mapping[LineKey, LineState],
    current: Mapping[LineKey, LineState],
    now: datetime,
) -> int:
    """Store ``current`` in place of ``previous`` (both restricted to the recomputed items); returns rows written.

    A key only in ``previous`` is deleted, a key only in ``current`` inserted, a key in both whose state changed
    updated in place (by primary key). ``previous`` must be what is stored for those items (read in the same
    transaction).
    """
    gone = [k for k in previous if k not in current]
    fresh: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for key, state in current.items():
        before = previous.get(key)
        if before is None:
            fresh.append(state_row(company, state, now))
        elif before != state:
            changed.append(_update_row(company, state, now))
    for part in chunked(gone, 1000):
        session.execute(_DELETE, [_key_params(company, key) for key in part])
    for part in chunked(changed, 1000):
        session.execute(_UPDATE, list(part))
    for part in chunked(fresh, 1000):
        session.execute(insert(LINE), list(part))
    return len(gone) + len(changed) + len(fresh)


#: the key columns of ``backorder_line``, bound as ``key_<name>`` in :data:`_UPDATE`
_KEY = ("company", "doc_type", "doc_id", "line_id")
#: one row of ``backorder_line`` by primary key, the key bound as ``key_<name>``
_BY_KEY = tuple(LINE.c[name] == bindparam(f"key_{name}") for name in _KEY)
#: update one state row by primary key (executemany); SQLAlchemy sets the columns the parameter rows name, which
#: :func:`_update_row` makes every column but the key
_UPDATE = update(LINE).where(*_BY_KEY)
#: delete one state row by primary key (executemany). A row-value ``IN`` list of keys is not searched on the
#: primary key by SQLite, which then scans every stored line of the company: a cost that grew with the ledger, not
#: with the change
_DELETE = delete(LINE).where(*_BY_KEY)


def _key_params(company: str, key: LineKey) -> dict[str, str]:
    """The ``key_<name>`` parameters of :data:`_DELETE` for one state's key."""
    return {f"key_{name}": value for name, value in zip(_KEY, (company, *key), strict=True)}


def _update_row(company: str, state: LineState, now: datetime) -> dict[str, Any]:
    row = state_row(company, state, now)
    return {(f"key_{name}" if name in _KEY else name): value for name, value in row.items()}


def event_row(company: str, event: LedgerEvent) -> dict[str, Any]:
    return {
        "company": company,
        "at": event.at,
        "kind": event.kind,
        "doc_type": event.key.doc_type,
        "doc_id": event.key.doc_id,
        "line_id": event.key.line_id,
        "item_id": event.item_id,
        "customer_id": event.customer_id,
        "doc_number": event.doc_number,
        "qty_before": event.qty_before,
        "qty_after": event.qty_after,
        "eta_before": event.eta_before,
        "eta_after": event.eta_after,
        "eta_kind_before": event.eta_kind_before,
        "eta_kind_after": event.eta_kind_after,
        "detail": event.detail,
    }


def append_events(session: Session, company: str, events: Sequence[LedgerEvent]) -> None:
    rows = [event_row(company, e) for e in events]
    for part in chunked(rows, 1000):
        session.execute(insert(EVENT), list(part))


def load_events(session: Session, company: str, item_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Stored events (as row dicts, oldest first), optionally only for ``item_ids``."""
    stmt = select(EVENT).where(EVENT.c.company == company).order_by(EVENT.c.id)
    if item_ids is not None:
        ids = sorted(set(item_ids))
        if not ids:
            return []
        stmt = stmt.where(or_(*(EVENT.c.item_id.in_(p) for p in chunked(ids))))
    return [dict(r._mapping) for r in session.execute(stmt)]
