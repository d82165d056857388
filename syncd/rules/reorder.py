"""The reorder computation: stock position, trigger and quantity, with an explanation of every step (SPEC §4).

:func:`compute` is pure: same inputs, same decision. Quantities are ``Decimal`` throughout; nothing is rounded
except by the order multiple and by ``ceil`` in the demand-based reorder point.

Semantics
---------
* Position ``P = QtyOnHand + Σ max(0, remaining)`` over every open PO line (syncd's and hand-typed)
  ``+ Σ unmirrored intents``. A negative on-hand (backordered stock) lowers ``P``; backorders are already
  inside QtyOnHand.
* Trigger when ``P <= min``. Quantity:

  1. with ``max``: ``Q = max - P``; with ``reorder_qty`` R: ``Q = n × R``, ``n`` the smallest
     with ``P + Q > min``;
  2. ``Q = max(Q, moq)``;
  3. multiple M: ``up`` rounds up; ``down_within_max`` rounds down unless the result is zero, below ``moq`` or
     leaves ``P + Q <= min`` — then it rounds up; ``none`` keeps Q.

* Invariants (property-tested): when triggered, ``Q > 0`` and ``P + Q > min``; counting Q as on order, the
  next computation does not trigger. Under ``down_within_max`` with a ``max``, ``P + Q <= max`` exactly when
  some multiple ``k × M`` (k >= 1) satisfies ``moq <= k × M`` and ``min - P < k × M <= max - P``; otherwise
  (MOQ above ``max - P``, or no multiple in that window) the order exceeds ``max`` and the explanation says
  why.
* ``reorder_point = "auto"``: demand is summed over the ``demand_window_days`` days ending ``today``
  (inclusive); ``min = ceil(demand × lead_time_days / window + safety_stock)`` and, with ``cover_days``,
  ``max = min + ceil(demand × cover_days / window)`` (average daily demand = demand / window). When the
  resulting ``max`` is not above ``min`` (no demand and no reorder_qty) the item is not reordered and
  ``problem`` says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

from syncd.rules.config import fmt
from syncd.rules.match import EffectiveRule

ZERO = Decimal(0)


@dataclass(frozen=True)
class OpenPO:
    """Remaining (ordered minus received) quantity of the item on one open QBO PO. ``ref`` is the DocNumber
    or Id."""

    ref: str
    remaining: Decimal
    hand_typed: bool = False


@dataclass(frozen=True)
class PendingIntent:
    """Quantity of the item in a syncd PO intent not yet seen in the mirror (``ref``: plan or request id)."""

    ref: str
    qty: Decimal


@dataclass(frozen=True)
class DemandDay:
    """Quantity of the item sold on one day (invoices and sales receipts, voids excluded); needed for
    ``auto``."""

    day: date
    qty: Decimal


@dataclass(frozen=True)
class PositionInputs:
    """Everything the computation reads about one item."""

    item_id: str
    qty_on_hand: Decimal
    open_pos: tuple[OpenPO, ...] = ()
    intents: tuple[PendingIntent, ...] = ()
    demand: tuple[DemandDay, ...] = ()


@dataclass(frozen=True)
class Step:
    """One explained step: ``formula`` in symbols, ``inputs`` with their values, ``result``, and ``text`` that
    substitutes the values (e.g. ``position = on_hand 4 + open POs 10 (PO 1001: 6, PO 1003: 4) + intents 0 =
    14``).
    """

    name: str
    formula: str
    inputs: tuple[tuple[str, str], ...]
    result: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "formula": self.formula,
            "inputs": dict(self.inputs),
            "result": self.result,
            "text": self.text,
        }


@dataclass(frozen=True)
class Explanation:
    """Ordered steps of one decision; renders as text (one line per step) and as JSON."""

    steps: tuple[Step, ...]

    def text(self) -> str:
        return "\n".join(f"{s.name}: {s.text}" for s in self.steps)

    def as_list(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.steps]

    def to_json(self) -> str:
        return json.dumps(self.as_list(), ensure_ascii=False)

    def step(self, name: str) -> Step | None:
        """The first step called ``name``, if any."""
        return next((s for s in self.steps if s.name == name), None)

    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.steps)

    def extended(self, *steps: Step) -> Explanation:
        return Explanation(self.steps + steps)


@dataclass(frozen=True)
class ReorderDecision:
    """Outcome for one item: ``quantity`` is 0 unless ``triggered``; ``problem`` is set when the rule could
    not
    be applied (then ``triggered`` is false)."""

    item_id: str
    rule: EffectiveRule
    triggered: bool
    quantity: Decimal
    position: Decimal
    min: Decimal | None
    max: Decimal | None
    explanation: Explanation
    problem: str | None = None

    @property
    def position_after(self) -> Decimal:
        return self.position + self.quantity


def _ceil(value: Decimal) -> Decimal:
    return value.to_integral_value(rounding=ROUND_CEILING)


def _avg(total: Decimal, days: int) -> str:
    avg = total / days
    return fmt(avg) if avg == avg.quantize(Decimal("0.0001")) else f"{avg.quantize(Decimal('0.0001'))}…"


def _step(
    name: str, formula: str, inputs: dict[str, Decimal | int | str], result: Decimal | str, text: str
) -> Step:
    rendered = tuple((k, v if isinstance(v, str) else fmt(v)) for k, v in inputs.items())
    return Step(name, formula, rendered, result if isinstance(result, str) else fmt(result), text)


def _position(inputs: PositionInputs) -> tuple[Decimal, Step]:
    on_hand = inputs.qty_on_hand
    po_total = ZERO
    po_parts = []
    for po in inputs.open_pos:
        counted = max(ZERO, po.remaining)
        po_total += counted
        label = f"PO {po.ref}{' (hand-typed)' if po.hand_typed else ''}: {fmt(counted)}"
        po_parts.append(label + (" (over-received, counted as 0)" if po.remaining < 0 else ""))
    intent_total = sum((i.qty for i in inputs.intents), ZERO)
    intent_parts = [f"{i.ref}: {fmt(i.qty)}" for i in inputs.intents]
    position = on_hand + po_total + intent_total
    backordered = f" (backordered {fmt(-on_hand)})" if on_hand < 0 else ""
    pos_list = f" ({', '.join(po_parts)})" if po_parts else ""
    int_list = f" ({', '.join(intent_parts)})" if intent_parts else ""
    text = (
        f"position = on_hand {fmt(on_hand)}{backordered} + open POs {fmt(po_total)}{pos_list}"
        f" + intents {fmt(intent_total)}{int_list} = {fmt(position)}"
    )
    step = _step(
        "position",
        "P = QtyOnHand + open PO remaining + unmirrored intents",
        {"on_hand": on_hand, "open_pos": po_total, "intents": intent_total},
        position,
        text,
    )
    return position, step


def _auto_levels(
    inputs: PositionInputs, rule: EffectiveRule, today: date
) -> tuple[Decimal, Decimal | None, list[Step]]:
    window = rule.demand_window_days
    start = today - timedelta(days=window - 1)
    days = [d for d in inputs.demand if start <= d.day <= today]
    total = sum((d.qty for d in days), ZERO)
    avg = _avg(total, window)
    lead, safety = Decimal(rule.lead_time_days), rule.safety_stock
    steps = [
        _step(
            "demand",
            "avg = demand in window / window days",
            {"demand": total, "window_days": window, "from": start.isoformat(), "to": today.isoformat()},
            avg,
            f"average daily demand = {fmt(total)} sold {start.isoformat()}..{today.isoformat()}"
            f" ({len(days)} days with sales) / {window} days = {avg}",
        )
    ]
    raw = total * lead / window + safety
    low = _ceil(raw)
    steps.append(
        _step(
            "min",
            "min = ceil(avg × lead_time_days + safety_stock)",
            {"avg": avg, "lead_time_days": lead, "safety_stock": safety},
            low,
            f"min = ceil(avg {avg} × lead_time_days {fmt(lead)} + safety_stock {fmt(safety)})"
            f" = ceil({_avg(raw, 1)})"
            f" = {fmt(low)}",
        )
    )
    high = rule.max
    if rule.cover_days is not None:
        cover = _ceil(total * rule.cover_days / window)
        high = low + cover
        steps.append(
            _step(
                "max",
                "max = min + ceil(avg × cover_days)",
                {"min": low, "avg": avg, "cover_days": rule.cover_days},
                high,
                f"max = min {fmt(low)} + ceil(avg {avg} × cover_days {fmt(rule.cover_days)}) = {fmt(low)}"
                f" + {fmt(cover)} = {fmt(high)}",
            )
        )
    return low, high, steps


def _round(q: Decimal, rule: EffectiveRule, position: Decimal, low: Decimal) -> tuple[Decimal, Step]:
    m = rule.multiple
    assert m is not None and m > 0
    moq = rule.moq or ZERO
    down = (q // m) * m
    up = down if down == q else down + m
    inputs: dict[str, Decimal | int | str] = {"Q": q, "multiple": m, "rounding": rule.rounding}
    if rule.rounding == "none":
        return q, _step(
            "multiple",
            "Q unchanged (rounding none)",
            inputs,
            q,
            f"Q = {fmt(q)} (rounding none: multiple {fmt(m)} not applied)",
        )
    if rule.rounding == "up" or down == q:
        if down == q:
            text = f"Q = {fmt(q)} is already a multiple of {fmt(m)}"
        else:
            text = f"Q = round {fmt(q)} up to a multiple of {fmt(m)} = {fmt(up)}"
        return up, _step("multiple", "Q = ceil(Q / M) × M", inputs, up, text)
    # down_within_max: the largest multiple not above Q, unless that breaks the order's purpose.
    if down <= 0:
        why = "gives 0"
    elif down < moq:
        why = f"gives {fmt(down)}, below moq {fmt(moq)}"
    elif position + down <= low:
        after = f"position {fmt(position)} + {fmt(down)} = {fmt(position + down)}"
        why = f"gives {fmt(down)}, but {after} <= min {fmt(low)}"
    else:
        return down, _step(
            "multiple",
            "Q = floor(Q / M) × M (down_within_max)",
            inputs,
            down,
            f"Q = round {fmt(q)} down to a multiple of {fmt(m)} = {fmt(down)}"
            f" (position {fmt(position)} + {fmt(down)} = {fmt(position + down)} > min {fmt(low)})",
        )
    return up, _step(
        "multiple",
        "Q = ceil(Q / M) × M (down_within_max fallback)",
        inputs,
        up,
        f"rounding {fmt(q)} down to a multiple of {fmt(m)} {why} → round up = {fmt(up)}",
    )


def _over_max_reason(rule: EffectiveRule, position: Decimal, low: Decimal, high: Decimal) -> str:
    room = high - position
    if rule.moq is not None and rule.moq > room:
        return f"moq {fmt(rule.moq)} > max − position = {fmt(room)}"
    if rule.multiple is not None and rule.rounding == "up":
        return f"rounding up to a multiple of {fmt(rule.multiple)}"
    m = rule.multiple or Decimal(1)
    window = f"({fmt(low - position)}, {fmt(room)}]"
    return f"no multiple of {fmt(m)} (>= moq) lies in (min − position, max − position] = {window}"


def compute(inputs: PositionInputs, rule: EffectiveRule, today: date) -> ReorderDecision:
    """Decide whether and how much to reorder one item (SPEC §4; see the module docstring for the contract).

    ``today`` is only read by ``reorder_point = "auto"`` (the end of the demand window).
    """
    steps: list[Step] = [
        _step("rule", "effective rule", {"source": rule.source}, rule.source, rule.summary())
    ]
    low, high = rule.min, rule.max
    if rule.auto_min:
        low, high, auto_steps = _auto_levels(inputs, rule, today)
        steps += auto_steps
    assert low is not None
    position, pos_step = _position(inputs)
    steps.append(pos_step)

    def done(triggered: bool, q: Decimal, problem: str | None = None) -> ReorderDecision:
        return ReorderDecision(
            inputs.item_id, rule, triggered, q, position, low, high, Explanation(tuple(steps)), problem
        )

    if rule.reorder_qty is None and (high is None or high <= low):
        problem = (
            f"max {fmt(high)} is not greater than min {fmt(low)}"
            if high is not None
            else "no max, reorder_qty or cover_days"
        )
        if rule.auto_min and rule.cover_days is not None:
            problem += " (no demand in the window?)"
        steps.append(
            _step(
                "problem",
                "max > min required",
                {"min": low, "max": high or ZERO},
                "not reordered",
                f"{problem}: not reordered",
            )
        )
        return done(False, ZERO, problem)

    triggered = position <= low
    steps.append(
        _step(
            "trigger",
            "P <= min",
            {"position": position, "min": low},
            "reorder" if triggered else "no reorder",
            f"position {fmt(position)} {'<=' if triggered else '>'} min {fmt(low)} → "
            f"{'reorder' if triggered else 'no reorder'}",
        )
    )
    if not triggered:
        return done(False, ZERO)

    if rule.reorder_qty is None:
        assert high is not None
        q = high - position
        steps.append(
            _step(
                "base",
                "Q = max − P",
                {"max": high, "position": position},
                q,
                f"Q = max {fmt(high)} − position {fmt(position)} = {fmt(q)}",
            )
        )
    else:
        r = rule.reorder_qty
        n = (low - position) // r + 1
        q = n * r
        steps.append(
            _step(
                "base",
                "Q = n × R, smallest n with P + n × R > min",
                {"reorder_qty": r, "position": position, "min": low},
                q,
                f"Q = n × reorder_qty = {fmt(n)} × {fmt(r)} = {fmt(q)}"
                f" (smallest n with position {fmt(position)}"
                f" + n × {fmt(r)} > min {fmt(low)})",
            )
        )
    if rule.moq is not None:
        raised = max(q, rule.moq)
        steps.append(
            _step(
                "moq",
                "Q = max(Q, MOQ)",
                {"Q": q, "moq": rule.moq},
                raised,
                f"Q = max(Q {fmt(q)}, moq {fmt(rule.moq)}) = {fmt(raised)}",
            )
        )
        q = raised
    if rule.multiple is not None:
        q, step = _round(q, rule, position, low)
        steps.append(step)

    after = position + q
    text = f"order {fmt(q)}; position after = {fmt(position)} + {fmt(q)} = {fmt(after)} > min {fmt(low)}"
    if high is not None and after > high:
        text += f"; exceeds max {fmt(high)}: {_over_max_reason(rule, position, low, high)}"
    steps.append(_step("order", "Q", {"position": position, "Q": q, "min": low}, q, text))
    return done(True, q)
