"""Paging through a QBO query without losing rows when the result set changes mid-read.

QBO pages with ``STARTPOSITION`` over a result that is re-evaluated on every request. Paging by position over
``ORDERBY MetaData.LastUpdatedTime`` is unsafe: a row already read that is updated moves to the end and every
later row shifts left by one, so the row at the page boundary is never read (and a deleted row does the same).
So every sweep here orders by ``Id`` — a key that never changes — and **re-checks its position**: each page
starts one row early, at the position where the last Id read should still be. If that row is no longer the last
Id read (rows before it were deleted, or left a filtered window), the pager backs up a page and reads forward
again; rows at or below the last Id read are dropped as already seen. Rows that *enter* the result (new Ids at
the end, or rows updated into a ``LastUpdatedTime >= x`` window) are either read later in the sweep or re-read by
the next cycle, whose window starts before this sweep did.

A sweep is resumable: each :class:`Page` carries ``(position, last_id)``, and a new :func:`sweep` started from them
continues where the committed page ended.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncd.connectors.base import Connector
from syncd.sync.parse import id_sort_key


@dataclass(frozen=True)
class Page:
    """New rows of one request (``rows``) and where the sweep stands after them."""

    rows: Sequence[Mapping[str, Any]]
    position: int  # 1-based position of ``last_id`` in the result, as last seen
    last_id: str | None
    ids: frozenset[str]  # every Id in the answer (including rows already seen)
    last: bool  # no more pages


def _id(row: Any) -> str | None:
    ident = row.get("Id") if isinstance(row, Mapping) else None
    return None if ident in (None, "") or isinstance(ident, (dict, list)) else str(ident)


def sweep(
    connector: Connector, entity: str, *, where: str | None = None, page_size: int = 1000,
    position: int = 1, last_id: str | None = None,
) -> Iterator[Page]:
    """Yield the pages of ``SELECT * FROM entity [WHERE where] ORDERBY Id`` from ``(position, last_id)``."""
    size = max(2, min(page_size, 1000))  # the one-row overlap needs pages of at least two rows
    pos = max(1, position)
    while True:
        rows = connector.query_page(entity, where=where, order_by="Id", start=pos, max_results=size)
        if last_id is not None and pos > 1:
            first = _id(rows[0]) if rows else None
            if first is None or id_sort_key(first) > id_sort_key(last_id):
                # The row we expected at ``pos`` is gone: rows before it disappeared. Back up and re-read.
                pos = max(1, pos - (size - 1))
                continue
        fresh: list[Mapping[str, Any]] = []
        newest = last_id
        for row in rows:
            ident = _id(row)
            if ident is None:
                fresh.append(row)  # malformed (no Id): handed on so it is quarantined
                continue
            if last_id is None or id_sort_key(ident) > id_sort_key(last_id):
                fresh.append(row)
            if newest is None or id_sort_key(ident) > id_sort_key(newest):
                newest = ident
        ids = frozenset(i for i in (_id(r) for r in rows) if i is not None)
        done = len(rows) < size
        if rows:
            pos = pos + len(rows) - 1
        last_id = newest
        yield Page(fresh, pos, last_id, ids, done)
        if done:
            return
