"""Human-readable and JSON views of plans and intents for ``syncd reorder plan`` and ``syncd po``.

Written for a purchasing person: vendor, lines (item, qty, unit price, amount), total, due date, status, the QBO
PO number once created, and why each line exists (the explanation steps, one per line of text).
"""

from __future__ import annotations

from typing import Any

from syncd.mirror.types import loads
from syncd.purchasing.models import POIntent
from syncd.purchasing.planner import PlanResult, planned_po_dict


def _indent(text: str, pad: str) -> str:
    return "\n".join(pad + line for line in text.splitlines())


def _lines_table(lines: list[dict[str, Any]], why: bool) -> list[str]:
    width = max([len(ln["item_name"]) for ln in lines] + [4])
    out = [f"    {'item':<{width}}  {'qty':>10}  {'unit price':>12}  {'amount':>12}"]
    for ln in lines:
        out.append(f"    {ln['item_name']:<{width}}  {ln['qty']:>10}  {ln['unit_price']:>12}  {ln['amount']:>12}")
        if why:
            out.append(_indent(ln["why"], "        "))
    return out


def plan_table(result: PlanResult, mode_note: str = "") -> str:
    """The plan as text: one block per PO with every line's explanation, then problems and skipped items."""
    plan = result.plan
    head = f"Reorder plan (mode {plan.mode}{mode_note}), {plan.today.isoformat()}"
    out = [f"{head}: {result.items_checked} item(s) checked"]
    if not plan.pos:
        out.append("Nothing to order.")
    for po in plan.pos:
        d = planned_po_dict(po)
        out.append("")
        out.append(f"PO to {po.vendor_name} (vendor Id {po.vendor_id}) — total {po.total}, due "
                   f"{po.due_date.isoformat()}, {po.status}: {po.approval}")
        out += _lines_table(d["lines"], why=True)
    if plan.problems:
        out.append("")
        out.append("Problems:")
        out += [f"  - {p.message}" for p in plan.problems]
    return "\n".join(out)


def plan_json(result: PlanResult) -> dict[str, Any]:
    """The plan as a JSON document (``pos``, ``problems``, ``not_triggered``, ``not_reordered``)."""
    plan = result.plan
    return {
        "mode": plan.mode, "today": plan.today.isoformat(), "items_checked": result.items_checked,
        "pos": [planned_po_dict(p) for p in plan.pos],
        "problems": [{"item_id": p.item_id, "message": p.message} for p in plan.problems],
        "not_triggered": [{"item_id": d.item_id, "why": d.explanation.text()}
                          for d in result.decisions if not d.triggered],
        "not_reordered": [{"item_id": n.item_id, "reason": n.reason} for n in result.not_reordered],
    }


def intent_dict(intent: POIntent) -> dict[str, Any]:
    """An intent as JSON-ready data (``syncd po list/show --format json``)."""
    return {
        "id": intent.id, "company": intent.company, "plan_id": intent.plan_id, "vendor_id": intent.vendor_id,
        "vendor_name": intent.vendor_name, "status": intent.status, "approval": intent.approval,
        "total": str(intent.total), "due_date": intent.due_date.isoformat(), "request_id": intent.request_id,
        "qbo_po_id": intent.qbo_po_id, "qbo_doc_number": intent.qbo_doc_number, "attempts": intent.attempts,
        "last_error": intent.last_error, "created_at": intent.created_at.isoformat(),
        "updated_at": intent.updated_at.isoformat(), "lines": loads(intent.explanation),
    }


def intents_table(intents: list[POIntent]) -> str:
    """``syncd po list``: one row per intent."""
    if not intents:
        return "No purchase orders."
    rows = [("ID", "STATUS", "VENDOR", "LINES", "TOTAL", "DUE", "QBO PO", "PLAN")]
    for i in intents:
        number = i.qbo_doc_number or (f"Id {i.qbo_po_id}" if i.qbo_po_id else "-")
        rows.append((str(i.id), i.status, i.vendor_name, str(len(loads(i.explanation))), str(i.total),
                     i.due_date.isoformat(), number, i.plan_id))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def intent_text(intent: POIntent) -> str:
    """``syncd po show``: the whole PO with every line's explanation."""
    d = intent_dict(intent)
    number = intent.qbo_doc_number or "-"
    out = [
        f"PO intent {intent.id} for {intent.vendor_name} (vendor Id {intent.vendor_id}) — status {intent.status}",
        f"  why this status: {intent.approval}",
        f"  total {intent.total}, due {d['due_date']}, plan {intent.plan_id}",
        f"  QuickBooks PO number: {number}" + (f" (Id {intent.qbo_po_id})" if intent.qbo_po_id else ""),
        f"  requestid {intent.request_id}, {intent.attempts} attempt(s)",
    ]
    if intent.last_error:
        out.append(f"  last error: {intent.last_error}")
    out += _lines_table(d["lines"], why=True)
    return "\n".join(out)
