"""Turn reorder decisions into a purchase-order plan: one PO per vendor per cycle (SPEC §4).

:func:`build_plan` is pure and deterministic: the same decisions, items, vendors, config, ``plan_id`` and
``today`` give the same :class:`Plan`, byte for byte (request ids included), so a crashed cycle re-plans
identically.

Contract
--------
* Each triggered decision becomes one line on its primary vendor's PO, up to that vendor's ``max_qty``; the
  rest goes to the alternates in order, each up to its own ``max_qty``. When the rule has an order multiple
  (and rounding is not ``none``) a vendor's cap is rounded down to a multiple so every part stays a whole case
  pack. Quantity that no vendor can take is reported in ``Plan.problems`` — never dropped silently.
* All lines for one vendor go on one PO; POs are ordered by vendor name, lines by item name.
* Unit price = the item's QBO ``PurchaseCost`` (0 and a problem when it has none); amount =
  ``qty × unit_price`` quantized to cents with ``ROUND_HALF_UP``; ``total`` = sum of line amounts.
* ``due_date = today + the longest lead_time_days`` among the PO's lines.
* ``private_note`` starts with ``syncd plan <plan_id> req <request_id>`` (so
  ``PrivateNote LIKE '%<plan_id>%'`` finds the plan's POs after a crash) followed by a short per-line
  explanation, at most 4000 characters.
* ``request_id`` = ``syncd-`` + 40 hex chars of SHA-256 over (plan_id, vendor_id): deterministic, 46 chars
  (QBO allows 50).
* Status by mode: ``plan`` → ``planned`` (never pushed); ``approve`` → ``pending``, or ``approved`` when the
  PO's total is strictly below ``auto_approve_below``; ``auto`` → ``approved``. ``blocked`` when the AP
  account cannot be determined. ``off`` → an empty plan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from syncd.rules.config import ReorderConfig, find_vendor, fmt
from syncd.rules.match import ItemFacts
from syncd.rules.reorder import Explanation, ReorderDecision, Step

CENTS = Decimal("0.01")
NOTE_LIMIT = 4000
ZERO = Decimal(0)


@dataclass(frozen=True)
class PlannedLine:
    """One ItemBasedExpenseLine: ``explanation`` is the decision's steps plus the vendor split and price."""

    item_id: str
    item_name: str
    qty: Decimal
    unit_price: Decimal
    amount: Decimal
    explanation: Explanation


@dataclass(frozen=True)
class PlannedPO:
    """One purchase order to create in QBO (or to show, in ``plan`` mode)."""

    vendor_id: str
    vendor_name: str
    lines: tuple[PlannedLine, ...]
    due_date: date
    private_note: str
    memo: str | None
    request_id: str
    total: Decimal
    status: str  # planned | pending | approved | blocked
    approval: str  # why this status, in words
    ap_account_id: str | None  # None: none known; QBO implies the only AP account


@dataclass(frozen=True)
class PlanProblem:
    """Something the admin should know: unplaced quantity, unknown vendor, missing price or AP account."""

    item_id: str | None
    message: str


@dataclass(frozen=True)
class Plan:
    plan_id: str
    mode: str
    today: date
    pos: tuple[PlannedPO, ...]
    problems: tuple[PlanProblem, ...]


def request_id_for(plan_id: str, vendor_id: str) -> str:
    """Deterministic QBO ``requestid`` for the PO of ``vendor_id`` in ``plan_id`` (46 chars)."""
    digest = hashlib.sha256(f"{plan_id}\x1f{vendor_id}".encode()).hexdigest()
    return f"syncd-{digest[:40]}"


def _check_plan_id(plan_id: str) -> None:
    # The id is searched with QBO LIKE '%<id>%' (only % is a wildcard; quotes would need escaping).
    if not plan_id or len(plan_id) > 64 or any(c in plan_id for c in "%'\\\"") or plan_id != plan_id.strip():
        raise ValueError(
            f"plan_id must be 1-64 characters without quotes, backslash, % or edge spaces: {plan_id!r}"
        )


def _resolve_ap(
    config: ReorderConfig, ap_accounts: Mapping[str, str] | None
) -> tuple[str | None, str | None]:
    """``(account id, problem)`` for the AP account: config value, else the single AP account known."""
    known = dict(ap_accounts or {})
    if config.ap_account is not None:
        if not known:
            return config.ap_account, None
        for aid, name in known.items():
            if config.ap_account == aid or config.ap_account.casefold() == name.casefold():
                return aid, None
        return None, f"reorder.ap_account: unknown AP account {config.ap_account!r}"
    if len(known) > 1:
        names = ", ".join(sorted(known.values()))
        return None, f"reorder.ap_account: the company has several AP accounts ({names}); name one"
    return (next(iter(known)) if known else None), None


def _short(line: PlannedLine, decision: ReorderDecision) -> str:
    rule = decision.rule
    if rule.reorder_qty is not None:
        size = f"reorder_qty {fmt(rule.reorder_qty)}"
    else:
        size = f"max {fmt(decision.max)}" if decision.max is not None else "no max"
    low = fmt(decision.min) if decision.min is not None else "?"
    return f"{line.item_name} x{fmt(line.qty)}: position {fmt(decision.position)} <= min {low}, {size}"


def _note(plan_id: str, request_id: str, parts: list[str]) -> str:
    head = f"syncd plan {plan_id} req {request_id}. Reorder: "
    note = head + "; ".join(parts) + "."
    if len(note) > NOTE_LIMIT:
        note = note[: NOTE_LIMIT - 1] + "…"
    return note


def _status(config: ReorderConfig, total: Decimal, blocked: str | None) -> tuple[str, str]:
    if blocked:
        return "blocked", blocked
    if config.mode == "plan":
        return "planned", "mode plan: report only"
    if config.mode == "auto":
        return "approved", "mode auto"
    limit = config.auto_approve_below
    if limit is not None and total < limit:
        return "approved", f"auto-approved: total {total} < auto_approve_below {fmt(limit)}"
    return "pending", "awaiting approval (syncd po approve)"


def build_plan(
    decisions: Iterable[ReorderDecision],
    items: Mapping[str, ItemFacts],
    vendors: Mapping[str, str],
    config: ReorderConfig,
    plan_id: str,
    today: date,
    ap_accounts: Mapping[str, str] | None = None,
) -> Plan:
    """Group triggered decisions into one PO per vendor (see the module docstring for the contract).

    ``items``: item Id -> facts (name, PurchaseCost). ``vendors``: active vendor Id -> DisplayName.
    ``ap_accounts``: AP account Id -> name from the mirror (empty/None: unknown, QBO picks its only one).
    Raises ``ValueError`` for a ``plan_id`` unusable in a QBO LIKE search.
    """
    _check_plan_id(plan_id)
    if config.mode == "off":
        return Plan(plan_id, config.mode, today, (), ())
    problems: list[PlanProblem] = []
    buckets: dict[str, list[tuple[PlannedLine, ReorderDecision]]] = {}
    names: dict[str, str] = {}

    todo = [d for d in decisions if d.triggered and d.quantity > 0]
    todo.sort(key=lambda d: ((items[d.item_id].name.casefold() if d.item_id in items else ""), d.item_id))
    for decision in todo:
        item = items.get(decision.item_id)
        if item is None:
            problems.append(PlanProblem(decision.item_id, "item not in the mirror: not ordered"))
            continue
        rule = decision.rule
        price = item.purchase_cost
        if price is None:
            problems.append(PlanProblem(item.id, f"{item.name}: no PurchaseCost in QBO, unit price 0"))
            price = ZERO
        candidates: list[tuple[str | None, Decimal | None, str]] = [
            (rule.vendor, rule.max_qty, rule.source_of("vendor") if rule.vendor else "none")
        ]
        candidates += [
            (a.vendor, a.max_qty, f"alternate {k + 1} of {rule.source}")
            for k, a in enumerate(rule.alternates)
        ]
        remaining = decision.quantity
        used: set[str] = set()
        for ref, cap, source in candidates:
            if remaining <= 0:
                break
            if ref is None:
                problems.append(
                    PlanProblem(
                        item.id,
                        f"{item.name}: no vendor (set vendor in {rule.source} or "
                        "reorder.defaults, or the item's preferred vendor in QBO)",
                    )
                )
                continue
            found = find_vendor(ref, vendors)
            if found is None:
                problems.append(PlanProblem(item.id, f"{item.name}: unknown vendor {ref!r} ({source})"))
                continue
            vid, vname = found
            if vid in used:
                continue
            used.add(vid)
            limit, cap_text = remaining, ""
            if cap is not None:
                usable, cap_text = cap, f", max_qty {fmt(cap)}"
                if rule.multiple is not None and rule.rounding != "none":
                    # Keep every vendor's part a whole number of case packs.
                    usable = (cap // rule.multiple) * rule.multiple
                    if usable != cap:
                        cap_text += f" (in multiples of {fmt(rule.multiple)}: {fmt(usable)})"
                limit = min(remaining, usable)
            if limit <= 0:
                continue
            remaining -= limit
            amount = (limit * price).quantize(CENTS, rounding=ROUND_HALF_UP)
            vendor_step = Step(
                "vendor",
                "vendor = rule > PrefVendorRef > default; alternates past max_qty",
                (("vendor", vname), ("source", source), ("qty", fmt(limit))),
                vid,
                f"{vname} (Id {vid}, {source}): {fmt(limit)} of {fmt(decision.quantity)}{cap_text}",
            )
            price_src = "PurchaseCost" if item.purchase_cost is not None else "no PurchaseCost"
            price_step = Step(
                "amount",
                "amount = qty × unit_price, half-up to cents",
                (("qty", fmt(limit)), ("unit_price", str(price))),
                str(amount),
                f"amount = {fmt(limit)} × {price} ({price_src}) = {amount} (rounded half-up to cents)",
            )
            line = PlannedLine(
                item.id,
                item.name,
                limit,
                price,
                amount,
                decision.explanation.extended(vendor_step, price_step),
            )
            buckets.setdefault(vid, []).append((line, decision))
            names[vid] = vname
        if remaining > 0:
            problems.append(
                PlanProblem(
                    item.id,
                    f"{item.name}: {fmt(remaining)} of {fmt(decision.quantity)} not "
                    "placed: every vendor's max_qty is reached (add an alternate)",
                )
            )

    ap_id, ap_problem = _resolve_ap(config, ap_accounts)
    if ap_problem:
        problems.append(PlanProblem(None, ap_problem))
    pos = []
    for vid in sorted(buckets, key=lambda v: (names[v].casefold(), v)):
        entries = buckets[vid]
        lines = tuple(line for line, _ in entries)
        total = sum((line.amount for line in lines), ZERO)
        lead = max(d.rule.lead_time_days for _, d in entries)
        rid = request_id_for(plan_id, vid)
        status, approval = _status(config, total, ap_problem)
        pos.append(
            PlannedPO(
                vendor_id=vid,
                vendor_name=names[vid],
                lines=lines,
                due_date=today + timedelta(days=lead),
                private_note=_note(plan_id, rid, [_short(line, d) for line, d in entries]),
                memo=config.memo,
                request_id=rid,
                total=total,
                status=status,
                approval=approval,
                ap_account_id=ap_id,
            )
        )
    return Plan(plan_id, config.mode, today, tuple(pos), tuple(problems))
