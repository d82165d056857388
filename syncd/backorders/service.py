"""Recompute the stored ledger from the mirror: incremental, full rebuild, daily review. The edges of the pure core.

Each function runs inside the caller's transaction (a :class:`sqlmodel.Session` with a transaction begun) and
commits nothing itself, so the ledger rows, their events and the removal of the items from ``dirty_item``
commit together — or not at all.

Contracts
---------
:func:`recompute_items`
    For ``item_ids``: reads their inputs (:mod:`syncd.backorders.loader`: a short item's tail of demand lines
    when fill order is FIFO, else complete lines) and stored states, runs :func:`syncd.ledger.recompute`, writes
    the changed states, appends the events, and removes those ids from ``dirty_item``. Quiet items (QtyOnHand
    >= 0 and no stored state) cost one short row of one query: their result is known to be empty, so their
    demand and supply are not read. Ids that are not tracked items have their lines cancelled. States of other
    items are not read or written. Running it twice with the same mirror and ``now`` writes nothing and appends
    no event.
:func:`recompute_dirty`
    :func:`recompute_items` of the items queued in ``dirty_item`` (what the sync queued), read together with which
    of them are quiet in one query.
:func:`rebuild_all`
    The same for every item of the company (plus any item that has stored states but is gone from the mirror),
    in chunks of :data:`REBUILD_CHUNK` items so memory stays bounded; equal to recomputing all items at once,
    because the core treats items independently.
:func:`review`
    The once-a-day pass: recomputes the items :func:`syncd.ledger.items_needing_review` lists for ``today``
    (overdue PO ETAs, estimates the calendar overtook) and records the day. A second call on the same day does
    nothing.
:func:`ledger_step`
    What the sync engine runs: a rebuild when the ledger-relevant config changed (or was never recorded),
    else the queued dirty items (:func:`recompute_dirty`), then the review when the day changed. With nothing
    queued on a reviewed day it reads two small rows and does no ledger work (SPEC §8).

Company-local day
    ``today`` is the date of ``now`` in the company's time zone. The config has no time-zone key yet, so
    :func:`company_today` is called with ``tz=None`` and uses UTC; pass an IANA zone name when one exists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select
from sqlmodel import Session

from syncd.backorders.loader import all_item_ids, dirty_split, load_items
from syncd.backorders.models import BackorderMeta
from syncd.backorders.store import LINE, append_events, load_states, write_states
from syncd.config import Config
from syncd.ledger import LedgerError, items_needing_review, recompute
from syncd.ledger.policy import FillPolicy
from syncd.sync.changes import clear_dirty_items, dirty_items

log = structlog.get_logger(__name__)

#: items per rebuild chunk (inputs of one chunk are held in memory at once)
REBUILD_CHUNK = 1000


@dataclass
class LedgerOutcome:
    """What a ledger pass did: items recomputed, state rows written, events appended, input errors."""

    items: int = 0
    rows_written: int = 0
    events: int = 0
    errors: list[LedgerError] = field(default_factory=list)
    rebuilt: bool = False
    reviewed: bool = False
    #: items read as a short tail, and demand lines read (see syncd.backorders.loader)
    tail_items: int = 0
    lines_read: int = 0

    def add(self, other: LedgerOutcome) -> None:
        self.items += other.items
        self.rows_written += other.rows_written
        self.events += other.events
        self.errors.extend(other.errors)
        self.tail_items += other.tail_items
        self.lines_read += other.lines_read
        self.rebuilt = self.rebuilt or other.rebuilt
        self.reviewed = self.reviewed or other.reviewed


def company_today(now: datetime, tz: str | None = None) -> date:
    """The company-local date of the aware instant ``now``: in zone ``tz`` if given, else UTC."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(ZoneInfo(tz) if tz else UTC).date()


def policy_fingerprint(config: Config) -> str:
    """A hash of every setting the ledger's result depends on (``[backorders]`` and ``[reorder]`` lead times)."""
    text = config.backorders.model_dump_json() + "\n" + config.reorder.model_dump_json()
    return hashlib.sha256(text.encode()).hexdigest()


def _recompute(
    session: Session, company: str, item_ids: Iterable[str], config: Config, policy: FillPolicy, now: datetime,
    today: date, *, tail: bool, quiet: set[str] | None = None,
) -> LedgerOutcome:
    ids = sorted(set(item_ids))
    if not ids:
        return LedgerOutcome()
    # Quiet items (not short, no stored state) get no state and no event whatever their lines: skip reading
    # their demand and supply, and their (absent) states. With ``tail`` short items are read from their stored
    # tail on. See syncd.backorders.loader.
    loaded = load_items(
        session, company, ids, config.reorder, skip_quiet=True, with_states=True, tail=tail and policy.date_first,
        quiet=quiet,
    )
    previous = loaded.previous
    result = recompute(loaded.items, previous, policy, now, today=today, dropped=loaded.dropped)
    touched = {i for i in ids if i not in loaded.quiet}
    current = {k: s for k, s in result.states.items() if s.item_id in touched}
    written = write_states(session, company, previous, current, now)
    append_events(session, company, result.events)
    clear_dirty_items(session, company, ids)
    for error in result.errors:
        log.warning("ledger.input_error", company=company, code=error.code, item_id=error.item_id, ref=error.ref)
    return LedgerOutcome(
        len(ids), written, len(result.events), list(result.errors),
        tail_items=len(loaded.tail), lines_read=loaded.lines_read,
    )


def recompute_items(
    session: Session, company: str, item_ids: Iterable[str], config: Config, now: datetime,
    *, today: date | None = None, tail: bool = True,
) -> LedgerOutcome:
    """Recompute ``item_ids`` in the caller's transaction (module docstring). ``tail=False`` reads every item's
    complete inputs, as the rebuild does (same result, property-tested; for checks and comparisons)."""
    day = today if today is not None else company_today(now)
    return _recompute(session, company, item_ids, config, config.backorders.to_policy(), now, day, tail=tail)


def recompute_dirty(
    session: Session, company: str, config: Config, now: datetime, *, today: date | None = None,
) -> LedgerOutcome:
    """Recompute the items queued in ``dirty_item`` and dequeue them: :func:`recompute_items` of the queue, with
    the queue and its quiet items read in one query (:func:`syncd.backorders.loader.dirty_split`)."""
    day = today if today is not None else company_today(now)
    queued, quiet = dirty_split(session, company)
    policy = config.backorders.to_policy()
    return _recompute(session, company, queued, config, policy, now, day, tail=True, quiet=quiet)


def rebuild_all(
    session: Session, company: str, config: Config, now: datetime, *, today: date | None = None,
) -> LedgerOutcome:
    """Recompute every item of the company, chunk by chunk, and record the config fingerprint."""
    day = today if today is not None else company_today(now)
    policy = config.backorders.to_policy()
    ids = set(all_item_ids(session, company))
    ids.update(session.scalars(select(LINE.c.item_id).distinct().where(LINE.c.company == company)))
    ids.update(dirty_items(session, company))
    ordered = sorted(ids)
    outcome = LedgerOutcome(rebuilt=True)
    for i in range(0, len(ordered), REBUILD_CHUNK):
        outcome.add(
            _recompute(session, company, ordered[i : i + REBUILD_CHUNK], config, policy, now, day, tail=False)
        )
    meta = _meta(session, company)
    meta.policy_hash = policy_fingerprint(config)
    meta.rebuilt_at = now
    log.info("ledger.rebuilt", company=company, items=outcome.items, events=outcome.events)
    return outcome


def review(
    session: Session, company: str, config: Config, now: datetime, *, today: date | None = None,
) -> LedgerOutcome:
    """The daily pass (module docstring). Returns an empty outcome when ``today`` was already reviewed."""
    day = today if today is not None else company_today(now)
    meta = _meta(session, company)
    if meta.reviewed_on is not None and meta.reviewed_on >= day:
        return LedgerOutcome()
    due = items_needing_review(load_states(session, company), day)
    outcome = recompute_items(session, company, due, config, now, today=day)
    meta.reviewed_on = day
    outcome.reviewed = True
    return outcome


def ledger_step(
    session: Session, company: str, config: Config, now: datetime, *, today: date | None = None,
) -> LedgerOutcome:
    """The engine's ledger pass: rebuild on a config change, else drain ``dirty_item``; then the daily review."""
    day = today if today is not None else company_today(now)
    meta = session.get(BackorderMeta, company)
    if meta is None or meta.policy_hash != policy_fingerprint(config):
        outcome = rebuild_all(session, company, config, now, today=day)
    else:
        outcome = recompute_dirty(session, company, config, now, today=day)
    meta = _meta(session, company)
    if meta.reviewed_on is None or meta.reviewed_on < day:
        outcome.add(review(session, company, config, now, today=day))
    return outcome


def _meta(session: Session, company: str) -> BackorderMeta:
    meta = session.get(BackorderMeta, company)
    if meta is None:
        meta = BackorderMeta(company=company)
        session.add(meta)
        session.flush()
    return meta
