"""The reorder step of a sync cycle (run after a successful sync when ``reorder.mode != "off"``).

Order, per company: reconcile interrupted pushes (so the stock position counts what QBO already has) → plan from
the mirror (unknown vendors → :class:`~syncd.errors.ConfigError`, nothing planned) → store the plan and its
intents in one transaction → in ``approve`` and ``auto`` mode push every ``approved`` intent (auto-approved ones
and those approved earlier by ``syncd po approve`` that are not yet in QBO).

Mode ``plan`` stores the plan (``reorder_plan``) and creates no intent and no PO; ``off`` does nothing at all.

Idle cycles skip planning (SPEC §8: cost grows with what changed). After every full planning pass the company's
``reorder_meta`` row records the ``[reorder]`` settings hash, the company day and a mark of the outbox (per status:
count and latest ``updated_at`` of the company's intents, taken after the pushes). The next step skips planning
(reconciliation of ``pushing`` intents and the push of ``approved`` ones still run; both are one small query
when there is nothing to do) when all of these hold:

* the caller says what the cycle's sync changed (``touched_item_ids`` not ``None``) and it touched no item and
  wrote no row of an entity the plan reads (:data:`PLAN_ENTITIES`: vendors, AP accounts, …);
* the settings hash and the company day equal the recorded ones (the ``auto`` reorder point's window moves daily);
* the outbox mark is unchanged (``syncd po approve|reject``, reconciliation and pushes move it).

Otherwise the whole company is planned as before. The row is written only when a step completes, so a failed or
interrupted step plans again next time.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from syncd.backorders.service import company_today
from syncd.mirror.db import SessionFactory, run_in_transaction
from syncd.mirror.types import dumps
from syncd.purchasing.executor import Executor, POConnector
from syncd.purchasing.models import CREATED, FAILED, PENDING, POIntent, ReorderMeta
from syncd.purchasing.planner import PlanResult, make_plan, plan_summary, store_plan
from syncd.rules.config import ReorderConfig

#: Mirror entities the plan reads; a cycle that wrote any of them plans again even if it touched no item.
PLAN_ENTITIES = frozenset({"Item", "Vendor", "Account", "PurchaseOrder", "Bill", "Invoice", "SalesReceipt"})


#: What a skipped step reports (nothing it depends on changed, so nothing new can be due).
SKIPPED = "nothing changed since the last plan, nothing to order"


def settings_hash(config: ReorderConfig) -> str:
    """A hash of every ``[reorder]`` setting."""
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()


def intents_mark(session: Session, company: str) -> str:
    """Per status: count and latest ``updated_at`` of the company's intents (any transition changes it)."""
    rows = session.execute(
        select(
            col(POIntent.status), func.count(), func.max(col(POIntent.updated_at)), func.max(col(POIntent.id))
        )
        .where(col(POIntent.company) == company).group_by(col(POIntent.status))
    ).all()
    return dumps(sorted([r[0], int(r[1]), r[2].isoformat() if r[2] else None, r[3]] for r in rows))


def sync_changed_inputs(touched_item_ids: Collection[str] | None, per_entity: Mapping[str, int] | None = None,
                        rows_deleted: int = 0) -> bool:
    """Whether a cycle's sync may have changed what the plan reads (``None``: unknown, so yes)."""
    if touched_item_ids is None:
        return True
    return bool(touched_item_ids) or rows_deleted > 0 or any(
        n and e in PLAN_ENTITIES for e, n in (per_entity or {}).items())


def new_plan_id(now: datetime) -> str:
    """A unique plan id, searchable with QBO ``LIKE``: ``P<UTC yyyymmddHHMMSS>-<8 hex>``."""
    return f"P{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class ReorderOutcome:
    """What one reorder step did, for the ``syncd sync`` summary line."""

    company: str
    mode: str
    plan_id: str | None
    planned: str
    created: int
    pending: int
    failed: int
    skipped: bool = False

    def summary(self) -> str:
        if self.mode == "off":
            return f"{self.company}: reorder off"
        text = f"{self.company}: reorder {self.mode}: {self.planned}"
        if self.plan_id:
            text += f" (plan {self.plan_id})"
        if self.mode in ("approve", "auto"):
            text += f"; {self.created} PO(s) created in QuickBooks, {self.pending} awaiting approval"
            if self.failed:
                text += f", {self.failed} failed (see `syncd po list`)"
        return text


def run_reorder(company: str, config: ReorderConfig, connector: POConnector, sessions: SessionFactory,
                clock: Callable[[], datetime], *, touched_item_ids: Collection[str] | None = None,
                sync_changed: bool | None = None) -> ReorderOutcome:
    """One reorder step (see the module docstring). Raises ``ConfigError`` and the connector's errors.

    ``touched_item_ids``: the items the cycle's sync touched (``CycleResult.touched_item_ids``); ``None`` (unknown)
    always plans. ``sync_changed``: whether the sync wrote anything else the plan reads (default: derived from
    ``touched_item_ids`` alone)."""
    if config.mode == "off":
        return ReorderOutcome(company, "off", None, "", 0, 0, 0)
    executor = Executor(company, connector, sessions, clock)
    executor.reconcile()
    now = clock()
    today = company_today(now)
    fingerprint = settings_hash(config)
    if touched_item_ids is None:
        changed = True
    else:
        changed = sync_changed if sync_changed is not None else bool(touched_item_ids)
    if not changed and _unchanged_since_last_plan(sessions, company, fingerprint, today):
        # Approved intents left over (none, normally) are still pushed; that moves the outbox mark, so the
        # next step plans again (a failed push gives its need back).
        pushed = executor.push_approved() if config.mode in ("approve", "auto") else []
        return ReorderOutcome(
            company, config.mode, None, SKIPPED, sum(1 for i in pushed if i.status == CREATED), 0,
            sum(1 for i in pushed if i.status == FAILED), skipped=True,
        )
    plan_id = new_plan_id(now)

    def plan_and_store(session: Session) -> PlanResult:
        result = make_plan(session, company, config, plan_id, today)
        store_plan(session, company, result.plan, now)
        return result

    result = run_in_transaction(sessions, plan_and_store)
    stored = bool(result.plan.pos or result.plan.problems)
    pushed = executor.push_approved() if config.mode in ("approve", "auto") else []
    ids = {p.request_id for p in result.plan.pos}
    with sessions() as s:
        mine = s.execute(select(POIntent).where(col(POIntent.company) == company,
                                                col(POIntent.request_id).in_(ids))).scalars().all()
        pending = sum(1 for i in mine if i.status == PENDING)
    _record(sessions, company, fingerprint, today, now)
    created = sum(1 for i in pushed if i.status == CREATED)
    return ReorderOutcome(
        company, config.mode, plan_id if stored else None, plan_summary(result.plan), created,
        pending, sum(1 for i in pushed if i.status == FAILED),
    )


def _unchanged_since_last_plan(sessions: SessionFactory, company: str, fingerprint: str, today: date) -> bool:
    with sessions() as s:
        meta = s.get(ReorderMeta, company)
        return (meta is not None and meta.settings_hash == fingerprint and meta.planned_on == today
                and meta.intents_mark == intents_mark(s, company))


def _record(sessions: SessionFactory, company: str, fingerprint: str, today: date, now: datetime) -> None:
    """Remember what this completed step depended on (the outbox mark as it is after the pushes)."""

    def work(session: Session) -> None:
        meta = session.get(ReorderMeta, company)
        if meta is None:
            meta = ReorderMeta(company=company, settings_hash=fingerprint, planned_on=today,
                               intents_mark="", planned_at=now)
            session.add(meta)
        meta.settings_hash = fingerprint
        meta.planned_on = today
        meta.planned_at = now
        meta.intents_mark = intents_mark(session, company)

    run_in_transaction(sessions, work)
