"""The change set a sync hands to the ledger: Item ids whose demand, supply or stock changed.

Each sync transaction adds the Items it touched to ``dirty_item`` together with the rows that touched them
(:func:`syncd.sync.apply.mark_dirty`); :class:`~syncd.sync.result.CycleResult.touched_item_ids` returns the same
ids for the cycle. A consumer that must not lose work across crashes recomputes from :func:`dirty_items` and then
calls :func:`clear_dirty_items` with the ids it finished, in the transaction that stores its results.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlmodel import Session

from syncd.mirror.models import DirtyItem, table_of
from syncd.sync.apply import chunks

#: ids per DELETE: a whole change set at once, well below SQLite's and PostgreSQL's bound-parameter limits
CLEAR_CHUNK = 5000


def dirty_items(session: Session, company: str) -> set[str]:
    """Items waiting for a ledger recompute."""
    t = table_of(DirtyItem)
    return set(session.scalars(select(t.c.item_id).where(t.c.company == company)))


def clear_dirty_items(session: Session, company: str, item_ids: Iterable[str]) -> None:
    """Forget ``item_ids`` (call in the transaction that stores their recomputed ledger)."""
    t = table_of(DirtyItem)
    for part in chunks(sorted(set(item_ids)), CLEAR_CHUNK):
        session.execute(delete(t).where(t.c.company == company, t.c.item_id.in_(part)))
