"""The reorder step of a sync cycle (run after a successful sync when ``reorder.mode != "off"``).

Order, per company: reconcile interrupted pushes (so the stock position counts what QBO already has) → plan from
the mirror (unknown vendors → :class:`~syncd.errors.ConfigError`, nothing planned) → store the plan and its
intents in one transaction → in ``approve`` and ``auto`` mode push every ``approved`` intent (auto-approved ones
and those approved earlier by ``syncd po approve`` that are not yet in QBO).

Mode ``plan`` stores the plan (``reorder_plan``) and creates no intent and no PO; ``off`` does nothing at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from syncd.mirror.db import SessionFactory, run_in_transaction
from syncd.purchasing.executor import Executor, POConnector
from syncd.purchasing.models import CREATED, FAILED, PENDING, POIntent
from syncd.purchasing.planner import PlanResult, make_plan, plan_summary, store_plan
from syncd.rules.config import ReorderConfig


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
                clock: Callable[[], datetime]) -> ReorderOutcome:
    """One reorder step (see the module docstring). Raises ``ConfigError`` and the connector's errors."""
    if config.mode == "off":
        return ReorderOutcome(company, "off", None, "", 0, 0, 0)
    executor = Executor(company, connector, sessions, clock)
    executor.reconcile()
    now = clock()
    plan_id = new_plan_id(now)

    def plan_and_store(session: Session) -> PlanResult:
        result = make_plan(session, company, config, plan_id, now.date())
        store_plan(session, company, result.plan, now)
        return result

    result = run_in_transaction(sessions, plan_and_store)
    stored = bool(result.plan.pos or result.plan.problems)
    pushed = executor.push_approved() if config.mode in ("approve", "auto") else []
    ids = {p.request_id for p in result.plan.pos}
    with sessions() as s:
        mine = s.execute(select(POIntent).where(POIntent.company == company,
                                                POIntent.request_id.in_(ids))).scalars().all()  # type: ignore[attr-defined]
    created = sum(1 for i in pushed if i.status == CREATED)
    return ReorderOutcome(
        company, config.mode, plan_id if stored else None, plan_summary(result.plan), created,
        sum(1 for i in mine if i.status == PENDING), sum(1 for i in pushed if i.status == FAILED),
    )
