"""One planning pass: mirror snapshot → pure core (:func:`~syncd.rules.reorder.compute`,
:func:`~syncd.rules.plan.build_plan`) → optionally stored as a plan and outbox intents.

* :func:`vendor_errors` — every vendor named in ``[reorder]`` that the mirror does not know, by dotted key
  (``reorder.rule[1].vendor: unknown vendor …``); the callers raise them as a :class:`~syncd.errors.ConfigError`.
* :func:`make_plan` — reads and computes, writes nothing (``syncd reorder plan`` runs it and rolls back).
* :func:`store_plan` — writes the plan row and, in ``approve``/``auto`` mode, one intent per planned PO
  (``pending_approval`` or ``approved``, as the core decided; POs ``blocked`` by an unknown AP account get no
  intent and stay in the plan's problems). A plan that proposes nothing and reports nothing is not stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from syncd.errors import ConfigError
from syncd.mirror.types import dumps
from syncd.purchasing.body import explanation_of, po_body
from syncd.purchasing.inputs import MirrorInputs, read_inputs, read_vendors
from syncd.purchasing.models import APPROVED, PENDING, POIntent, ReorderPlan
from syncd.rules.config import AUTO, ReorderConfig, check_vendors
from syncd.rules.match import NotReordered, resolve_rule
from syncd.rules.plan import Plan, PlannedPO, build_plan
from syncd.rules.reorder import ReorderDecision, compute

STATUS_OF_PLANNED = {"pending": PENDING, "approved": APPROVED}


@dataclass(frozen=True)
class PlanResult:
    """The plan, the decisions it came from (triggered or not), and the items no rule applies to."""

    plan: Plan
    decisions: tuple[ReorderDecision, ...]
    not_reordered: tuple[NotReordered, ...]
    inputs: MirrorInputs

    @property
    def items_checked(self) -> int:
        return len(self.decisions)


def vendor_errors(session: Session, company: str, config: ReorderConfig) -> list[str]:
    """``check_vendors`` against the mirror's active vendors."""
    return check_vendors(config, read_vendors(session, company))


def make_plan(session: Session, company: str, config: ReorderConfig, plan_id: str, today: date) -> PlanResult:
    """Compute the plan from the mirror (see the module docstring). Raises ``ConfigError`` for unknown vendors."""
    problems = vendor_errors(session, company, config)
    if problems:
        raise ConfigError(problems)
    tables = (config.defaults, *config.rule)
    windows = [r.demand_window_days or 0 for r in tables]
    # Demand is only an input of reorder_point = "auto": without such a table it is not read at all.
    uses_demand = any(AUTO in (r.min, r.reorder_point) for r in tables)
    demand_days = max([w for w in windows if w] + [90]) if uses_demand else 0
    inputs = read_inputs(session, company, today, demand_days)
    decisions: list[ReorderDecision] = []
    skipped: list[NotReordered] = []
    for iid in sorted(inputs.items, key=lambda i: (inputs.items[i].name.casefold(), i)):
        rule = resolve_rule(inputs.items[iid], config)
        if isinstance(rule, NotReordered):
            skipped.append(rule)
            continue
        decisions.append(compute(inputs.positions[iid], rule, today))
    plan = build_plan(decisions, inputs.items, inputs.vendors, config, plan_id, today, inputs.ap_accounts)
    return PlanResult(plan, tuple(decisions), tuple(skipped), inputs)


def planned_po_dict(po: PlannedPO) -> dict[str, Any]:
    """A planned PO as JSON-ready data (what ``syncd reorder plan --format json`` prints per PO)."""
    return {
        "vendor_id": po.vendor_id, "vendor_name": po.vendor_name, "status": po.status, "approval": po.approval,
        "total": str(po.total), "due_date": po.due_date.isoformat(), "request_id": po.request_id,
        "ap_account_id": po.ap_account_id, "memo": po.memo, "private_note": po.private_note,
        "lines": explanation_of(po),
    }


def plan_summary(plan: Plan) -> str:
    """One line: how many POs, lines and what total, by status."""
    if not plan.pos:
        return "nothing to order" + (f", {len(plan.problems)} problem(s)" if plan.problems else "")
    lines = sum(len(p.lines) for p in plan.pos)
    total = sum((p.total for p in plan.pos), start=plan.pos[0].total * 0)
    by: dict[str, int] = {}
    for p in plan.pos:
        by[p.status] = by.get(p.status, 0) + 1
    states = ", ".join(f"{n} {s}" for s, n in sorted(by.items()))
    extra = f", {len(plan.problems)} problem(s)" if plan.problems else ""
    return f"{len(plan.pos)} PO(s), {lines} line(s), total {total} ({states}){extra}"


def store_plan(session: Session, company: str, plan: Plan, now: datetime) -> list[POIntent]:
    """Write the plan and its intents in the caller's transaction; return the intents (flushed, with ids)."""
    if not plan.pos and not plan.problems:
        return []
    session.add(ReorderPlan(
        id=plan.plan_id, company=company, created_at=now, mode=plan.mode, today=plan.today,
        summary=plan_summary(plan), problems=dumps([p.message for p in plan.problems]),
        pos=dumps([planned_po_dict(p) for p in plan.pos]),
    ))
    session.flush()
    intents: list[POIntent] = []
    for po in plan.pos:
        status = STATUS_OF_PLANNED.get(po.status)
        if status is None:  # planned (mode plan) or blocked: nothing to push
            continue
        intent = POIntent(
            company=company, plan_id=plan.plan_id, vendor_id=po.vendor_id, vendor_name=po.vendor_name,
            request_id=po.request_id, status=status, approval=po.approval, body=dumps(po_body(po)),
            explanation=dumps(explanation_of(po)), total=po.total, due_date=po.due_date, attempts=0,
            created_at=now, updated_at=now,
        )
        session.add(intent)
        intents.append(intent)
    session.flush()
    return intents
