"""The sync engine: one cycle = backfill what is not yet mirrored, one incremental CDC step, quarantine retry,
and a periodic drift check. Each step fetches from QBO first, then plans and writes in one transaction together
with the cursor that covers the rows (plan, then execute).

Cursors (``entity_cursor.last_updated``) are low watermarks in QBO time: everything that changed before them is
mirrored. Each cycle asks CDC for changes since ``min(cursor) - sync.overlap_seconds`` (the overlap re-reads late
commits and absorbs clock skew; rows already mirrored are skipped by SyncToken + content hash, so re-reading
costs no writes). A complete CDC answer moves the cursor to the answer's server ``time``; it moves only when rows
were written or when it has fallen more than the overlap behind, so an idle cycle writes nothing and makes exactly
one API call.

Fallback ("catch-up"): when the CDC answer may be truncated (after retrying CDC per entity) or the cursor is older
than the CDC look-back, the entity is read with paged queries instead. Name lists (never deleted) are read with
``MetaData.LastUpdatedTime >= cursor``; documents are swept completely, because a deleted document vanishes from
queries and only an Id comparison can see that it is gone — the cost is one request per 1000 documents, paid
only when one poll window holds more than 1000 changes of that entity.

Backorder ledger: unless built with ``ledger=False``, the engine runs
:func:`syncd.backorders.service.ledger_step` in its own transaction at the start of a cycle (items a crashed
cycle left in ``dirty_item``) and after the cycle's mirror writes (the items they touched, queued in
``dirty_item`` by the same transactions as the rows). It runs after *all* entities of the cycle are written, not
inside each entity's transaction, because an Item written before its Invoices would show the ledger a
half-applied change (QtyOnHand already reduced, the sale not yet there) and derive events that the next
transaction takes back. With nothing queued on an already reviewed day it does no ledger work.

The backfill and the local time used as a first cursor assume QBO's clock is within ``sync.overlap_seconds`` of
ours (NTP); the drift check repairs anything a larger skew could have missed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import structlog
from sqlalchemy import func, select
from sqlmodel import Session

from syncd.config import CompanyConfig, Config
from syncd.connectors.base import MIRRORED_ENTITIES, NAME_LISTS, Connector
from syncd.errors import AuthError, FatalSyncError, SyncdError
from syncd.mirror.db import SessionFactory, run_in_transaction
from syncd.mirror.models import ENTITY_TABLES, Company, EntityCursor, Quarantine, table_of
from syncd.mirror.tokens import ensure_company
from syncd.mirror.types import loads
from syncd.sync import apply as A
from syncd.sync.pager import sweep
from syncd.sync.plan import EntityPlan, plan_entity
from syncd.sync.result import CountingConnector, CycleResult, DriftReport

log = structlog.get_logger(__name__)
T = TypeVar("T")
#: Stay this far inside the CDC look-back so a window near 30 days is never sent to QBO.
LOOKBACK_MARGIN = timedelta(hours=1)


def qbo_time(at: datetime) -> str:
    """A timestamp literal for a QBO query: whole seconds (rounded down), UTC offset spelled out."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat()


@dataclass
class _Tally:
    touched: set[str] = field(default_factory=set)
    written: int = 0
    deleted: int = 0
    quarantined: int = 0
    per_entity: dict[str, int] = field(default_factory=dict)
    backfilled: list[str] = field(default_factory=list)
    caught_up: list[str] = field(default_factory=list)
    drift: list[DriftReport] = field(default_factory=list)

    def add(self, plan: EntityPlan, touched: set[str]) -> None:
        self.touched |= touched
        self.written += plan.writes
        self.deleted += len(plan.deletes)
        self.quarantined += len(plan.quarantine)
        if plan.writes:
            self.per_entity[plan.entity] = self.per_entity.get(plan.entity, 0) + plan.writes


class SyncEngine:
    """Keeps one company's mirror. Not thread-safe; one engine (and one worker) per company at a time."""

    def __init__(
        self, config: Config, company: CompanyConfig, connector: Connector, session_factory: SessionFactory,
        *, clock: Callable[[], datetime] | None = None, ledger: bool = True,
    ) -> None:
        self.config = config
        self.company = company
        self.name = company.name
        self.api = CountingConnector(connector)
        self.sessions = session_factory
        self.clock = clock or (lambda: datetime.now(UTC))
        self.entities: tuple[str, ...] = tuple(e for e in MIRRORED_ENTITIES if e in config.sync.entities)
        self.overlap = timedelta(seconds=config.sync.overlap_seconds)
        self.lookback = timedelta(days=config.sync.cdc_lookback_days)
        self.page_size = config.sync.page_size
        self.drift_every = timedelta(hours=float(config.sync.drift_check_hours))
        self._tally = _Tally()
        self.ledger = ledger

    # ---- the cycle -----------------------------------------------------------------------------------------

    def run_once(self, full: bool = False) -> CycleResult:
        """Run one cycle. ``full`` re-reads every entity completely (repairing and deleting what differs).

        Raises the connector's errors (:class:`AuthError`, :class:`RetriableError`, :class:`QBOError`) and
        :class:`FatalSyncError` after recording them as the company's last error; what was committed before the
        failure stays committed and the next cycle resumes from it.
        """
        started = self.clock()
        self._tally = _Tally()
        calls_before = self.api.calls
        log.info("sync.cycle_start", company=self.name, full=full)
        try:
            self._tx(self._check_company)
            self._ledger_step()
            if full:
                for entity in self.entities:
                    self._reconcile(entity, cursor_to=self.clock(), finish_backfill=True)
                    self._tally.backfilled.append(entity)
            else:
                for entity in self.entities:
                    if not self._cursor(entity).backfill_done:
                        self._backfill(entity)
                self._incremental()
            self._retry_quarantine()
            if not full:
                self._maybe_drift_check()
            self._ledger_step()
        except Exception as exc:
            self._record_failure(exc)
            raise
        finished = self.clock()
        self._tx(lambda s: self._record_success(s, finished))
        t = self._tally
        result = CycleResult(
            company=self.name, started_at=started, finished_at=finished, touched_item_ids=frozenset(t.touched),
            api_calls=self.api.calls - calls_before, rows_written=t.written, rows_deleted=t.deleted,
            quarantined=t.quarantined, backfilled=tuple(t.backfilled), caught_up=tuple(t.caught_up),
            drift=tuple(t.drift), per_entity=dict(t.per_entity),
        )
        log.info("sync.cycle_done", company=self.name, rows_written=result.rows_written,
                 touched_items=len(result.touched_item_ids), api_calls=result.api_calls,
                 quarantined=result.quarantined)
        return result

    def _ledger_step(self) -> None:
        """Recompute the backorder ledger for the queued items (see the module docstring)."""
        if not self.ledger:
            return
        from syncd.backorders.service import ledger_step

        outcome = self._tx(lambda s: ledger_step(s, self.name, self.config, self.clock()))
        if outcome.items or outcome.events:
            log.info("ledger.recomputed", company=self.name, items=outcome.items, events=outcome.events,
                     rows_written=outcome.rows_written, rebuilt=outcome.rebuilt, reviewed=outcome.reviewed)

    # ---- helpers -------------------------------------------------------------------------------------------

    def _tx(self, fn: Callable[[Session], T]) -> T:
        return run_in_transaction(self.sessions, fn)

    def _cursor(self, entity: str) -> EntityCursor:
        with self.sessions() as session:
            row = session.get(EntityCursor, (self.name, entity))
            return row if row is not None else EntityCursor(company=self.name, entity=entity)

    def _check_company(self, session: Session) -> None:
        row = ensure_company(session, self.name, self.company.realm_id)
        if row.realm_id != self.company.realm_id:
            raise FatalSyncError(
                f"the database mirrors realm {row.realm_id} as company {self.name!r}, but the config says realm "
                f"{self.company.realm_id}; use another database or company name"
            )

    def _plan(
        self, session: Session, entity: str, objects: Sequence[Any], *, complete: set[str] | None = None,
        release_stale: bool = False, authoritative: bool = False,
    ) -> EntityPlan:
        if complete is not None:
            existing = A.load_all_existing(session, self.name, entity)
        else:
            ids = [str(o["Id"]) for o in objects if isinstance(o, Mapping) and o.get("Id") not in (None, "")]
            existing = A.load_existing(session, self.name, entity, ids)
        held = A.load_held(session, self.name, entity)

        def lookup(refs: set[str]) -> set[str]:
            if "Item" not in self.entities:
                return refs  # items are not mirrored (sync.entities): references cannot be checked
            return A.known_items(session, self.name, refs)

        return plan_entity(
            entity, objects, existing, held, lookup,
            complete_ids=complete, mirror_ids=list(existing) if complete is not None else (),
            release_stale=release_stale, authoritative=authoritative,
        )

    def _write(
        self, entity: str, objects: Sequence[Any], *, complete: set[str] | None = None,
        cursor: Callable[[EntityCursor, EntityPlan, datetime], None] | None = None, release_stale: bool = False,
        authoritative: bool = False,
    ) -> EntityPlan:
        """Plan and apply one batch, and update the entity cursor, in one transaction."""

        def work(session: Session) -> tuple[EntityPlan, set[str]]:
            now = self.clock()
            plan = self._plan(session, entity, objects, complete=complete, release_stale=release_stale,
                              authoritative=authoritative)
            touched = A.apply_plan(session, self.name, plan, now) if plan.writes else set()
            if cursor is not None:
                cursor(A.get_cursor(session, self.name, entity), plan, now)
            return plan, touched

        plan, touched = self._tx(work)
        self._tally.add(plan, touched)
        if plan.quarantine:
            for q in plan.quarantine:
                log.warning("sync.quarantined", company=self.name, entity=entity, qbo_id=q.qbo_id, reason=q.reason)
        return plan

    # ---- backfill ------------------------------------------------------------------------------------------

    def _backfill(self, entity: str) -> None:
        """Paged read of every object, ordered by Id; each page commits with its resume point."""
        state = self._cursor(entity)
        started = state.backfill_started_at or self.clock()
        log.info("sync.backfill", company=self.name, entity=entity, resume_at=state.backfill_next_start)
        for page in sweep(self.api, entity, page_size=self.page_size,
                          position=state.backfill_next_start, last_id=state.backfill_last_id):

            def advance(c: EntityCursor, _plan: EntityPlan, now: datetime, page: Any = page) -> None:
                c.backfill_next_start = page.position
                c.backfill_last_id = page.last_id
                if c.backfill_started_at is None:
                    c.backfill_started_at = started
                if page.last:
                    c.backfill_done = True
                    A.advance_cursor(c, c.backfill_started_at, now)
                c.updated_at = now

            self._write(entity, page.rows, cursor=advance)
        self._tally.backfilled.append(entity)

    # ---- incremental ---------------------------------------------------------------------------------------

    def _incremental(self) -> None:
        cursors = {e: self._cursor(e) for e in self.entities}
        ready = [e for e in self.entities if cursors[e].backfill_done]
        if not ready:
            return
        now = self.clock()
        horizon = now - self.lookback + LOOKBACK_MARGIN

        def since(e: str) -> datetime:
            last = cursors[e].last_updated or cursors[e].backfill_started_at or now
            return last - self.overlap

        stale = [e for e in ready if since(e) < horizon]
        fresh = [e for e in ready if e not in stale]
        for entity in stale:
            log.info("sync.cursor_beyond_lookback", company=self.name, entity=entity)
            self._catch_up(entity, since(entity), upper=None)
        if not fresh:
            return
        window = min(since(e) for e in fresh)
        answer = self.api.cdc(fresh, window)
        if answer.server_time - window > self.lookback - LOOKBACK_MARGIN:
            # QBO's clock says the window is beyond the look-back (ours is behind): its answer may be incomplete.
            for entity in fresh:
                self._catch_up(entity, since(entity), upper=answer.server_time)
            return
        if not answer.truncated:
            for entity in fresh:
                self._apply_window(entity, answer.objects.get(entity, ()), answer.server_time)
            return
        # The whole answer hit QBO's 1000-object cap. Ask per entity: most entities fit on their own; those
        # that still do not are caught up with paged queries.
        log.info("sync.cdc_truncated", company=self.name, window_start=qbo_time(window))
        for entity in fresh:
            one = self.api.cdc([entity], since(entity))
            if one.truncated:
                self._catch_up(entity, since(entity), upper=one.server_time)
            else:
                self._apply_window(entity, one.objects.get(entity, ()), one.server_time)

    def _apply_window(self, entity: str, objects: Sequence[Any], server_time: datetime) -> None:
        """Apply one entity's complete CDC answer; the cursor moves to the answer's server time."""

        def advance(c: EntityCursor, plan: EntityPlan, now: datetime) -> None:
            behind = c.last_updated is None or server_time - c.last_updated > self.overlap
            if plan.writes or behind:
                A.advance_cursor(c, server_time, now)

        self._write(entity, objects, cursor=advance)

    def _catch_up(self, entity: str, since: datetime, upper: datetime | None) -> None:
        """Paged fallback for one entity (see the module docstring); the cursor moves to when it started."""
        start = upper or self.clock()
        self._tally.caught_up.append(entity)
        if entity not in NAME_LISTS:
            self._reconcile(entity, cursor_to=start)
            return
        where = f"MetaData.LastUpdatedTime >= '{qbo_time(since)}'"
        for page in sweep(self.api, entity, where=where, page_size=self.page_size):
            self._write(entity, page.rows)

        def advance(c: EntityCursor, _plan: EntityPlan, now: datetime) -> None:
            A.advance_cursor(c, start, now)

        self._write(entity, (), cursor=advance)

    def _reconcile(self, entity: str, *, cursor_to: datetime | None, finish_backfill: bool = False) -> int:
        """Read every object of ``entity``; write what differs, delete what QBO no longer has. Returns writes."""
        seen: set[str] = set()
        writes = 0
        for page in sweep(self.api, entity, page_size=self.page_size):
            seen |= page.ids
            writes += self._write(entity, page.rows, authoritative=True).writes

        def finish(c: EntityCursor, _plan: EntityPlan, now: datetime) -> None:
            if finish_backfill and not c.backfill_done:
                c.backfill_done = True
                c.backfill_started_at = c.backfill_started_at or cursor_to
                c.updated_at = now
            if cursor_to is not None:
                A.advance_cursor(c, cursor_to, now)

        writes += self._write(entity, (), complete=seen, cursor=finish).writes
        return writes

    # ---- quarantine and drift ------------------------------------------------------------------------------

    def _retry_quarantine(self) -> None:
        """Re-plan quarantined records against the current mirror (an unknown Item may have arrived since)."""
        with self.sessions() as session:
            rows = session.execute(
                select(Quarantine.entity, Quarantine.raw).where(Quarantine.company == self.name)  # type: ignore[call-overload]
            ).all()
        held: dict[str, list[Any]] = {}
        for entity, raw in rows:
            if entity in ENTITY_TABLES:
                try:
                    held.setdefault(entity, []).append(loads(raw))
                except ValueError:
                    continue
        for entity in self.entities:
            if held.get(entity):
                self._write(entity, held[entity], release_stale=True)

    def _maybe_drift_check(self) -> None:
        with self.sessions() as session:
            company = session.get(Company, self.name)
            last = company.last_drift_check_at if company is not None else None
        now = self.clock()
        if last is None or now - last < self.drift_every:
            return
        log.info("sync.drift_check", company=self.name)
        for entity in self.entities:
            if not self._cursor(entity).backfill_done:
                continue
            qbo_count = self.api.count(entity)
            mirror_count = self._mirror_count(entity)
            repaired = self._reconcile(entity, cursor_to=None)
            self._tally.drift.append(DriftReport(entity, qbo_count, mirror_count, repaired))
            if repaired or qbo_count != mirror_count:
                log.warning("sync.drift_repaired", company=self.name, entity=entity, qbo_count=qbo_count,
                            mirror_count=mirror_count, repaired=repaired)

        def mark(session: Session) -> None:
            row = ensure_company(session, self.name)
            row.last_drift_check_at = now

        self._tx(mark)

    def _mirror_count(self, entity: str) -> int:
        table = table_of(ENTITY_TABLES[entity][0])
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(table).where(table.c.company == self.name))
                       or 0)

    # ---- outcome -------------------------------------------------------------------------------------------

    def _record_success(self, session: Session, finished: datetime) -> None:
        row = ensure_company(session, self.name, self.company.realm_id)
        row.last_success_at = finished
        if row.last_drift_check_at is None and all(self._cursor(e).backfill_done for e in self.entities):
            row.last_drift_check_at = finished  # the backfill just compared everything

    def _record_failure(self, exc: Exception) -> None:
        message = str(exc) if isinstance(exc, SyncdError) else f"{type(exc).__name__}: {exc}"
        at = self.clock()

        def write(session: Session) -> None:
            row = ensure_company(session, self.name)
            row.last_error = message[:2000]
            row.last_error_at = at
            if isinstance(exc, AuthError):
                row.needs_reconnect = True
                row.reconnect_reason = message[:500]

        try:
            self._tx(write)
        except Exception as db_exc:  # noqa: BLE001 - the original error matters more than recording it
            log.error("sync.record_failure_failed", company=self.name, error=type(db_exc).__name__)
        log.error("sync.cycle_failed", company=self.name, error=type(exc).__name__, message=message[:500])
