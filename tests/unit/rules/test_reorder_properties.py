"""Hypothesis properties of the reorder quantity (SPEC §4 invariants)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.rules.match import EffectiveRule
from syncd.rules.reorder import OpenPO, PendingIntent, PositionInputs, compute

TODAY = date(2024, 5, 1)
PROPS = settings(max_examples=300, deadline=None)


def dec(lo: str, hi: str, places: int = 2) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=Decimal(lo), max_value=Decimal(hi), places=places, allow_nan=False, allow_infinity=False
    )


@st.composite
def situations(draw, rounding=None, need_max=False, need_multiple=False):
    """A rule plus a position at or below its min (so a reorder triggers)."""
    low = draw(dec("0", "100"))
    use_max = need_max or draw(st.booleans())
    high = low + draw(dec("0.01", "200")) if use_max else None
    fixed = None if use_max else draw(dec("0.5", "50"))
    multiple = draw(dec("0.25", "24")) if need_multiple else draw(st.none() | dec("0.25", "24"))
    moq = draw(st.none() | dec("0", "150", 1))
    policy = rounding or draw(st.sampled_from(["up", "down_within_max", "none"]))
    rule = EffectiveRule(
        item_id="1",
        source="test",
        min=low,
        auto_min=False,
        max=high,
        reorder_qty=fixed,
        multiple=multiple,
        moq=moq,
        rounding=policy,
    )
    position = low - draw(dec("0", "150"))
    on_order = draw(dec("0", "20"))
    # Split the position over on-hand (possibly negative: backorders), an open PO and a hand-typed PO.
    inputs = PositionInputs(
        "1", position - on_order, (OpenPO("1001", on_order / 2), OpenPO("88", on_order / 2, True))
    )
    return rule, inputs, position


@PROPS
@given(situations())
def test_triggered_order_is_positive_and_lifts_position_above_min(case):
    rule, inputs, position = case
    d = compute(inputs, rule, TODAY)
    assert d.triggered and d.position == position
    assert d.quantity > 0
    assert position + d.quantity > rule.min
    if rule.moq is not None:
        assert d.quantity >= rule.moq
    if rule.multiple is not None and rule.rounding != "none":
        assert d.quantity % rule.multiple == 0
    assert d.explanation.names()[-1] == "order"


@PROPS
@given(situations())
def test_replanning_with_the_order_counted_proposes_nothing(case):
    rule, inputs, _ = case
    d = compute(inputs, rule, TODAY)
    as_intent = PositionInputs(
        "1", inputs.qty_on_hand, inputs.open_pos, (PendingIntent("plan p", d.quantity),)
    )
    assert not compute(as_intent, rule, TODAY).triggered
    # ... and once mirrored as an open PO (the intent resolved) it still proposes nothing.
    as_po = PositionInputs("1", inputs.qty_on_hand, (*inputs.open_pos, OpenPO("2001", d.quantity)))
    assert not compute(as_po, rule, TODAY).triggered


def _feasible_within_max(position: Decimal, rule: EffectiveRule) -> bool:
    """Brute force: is there k >= 1 with moq <= k×M and min < P + k×M <= max?"""
    assert rule.max is not None and rule.multiple is not None
    k = 1
    moq = rule.moq or Decimal(0)
    while position + k * rule.multiple <= rule.max:
        q = k * rule.multiple
        if q >= moq and position + q > rule.min:
            return True
        k += 1
    return False


@PROPS
@given(situations(rounding="down_within_max", need_max=True, need_multiple=True))
def test_down_within_max_stays_within_max_exactly_when_possible(case):
    rule, inputs, position = case
    d = compute(inputs, rule, TODAY)
    within = position + d.quantity <= rule.max
    assert within == _feasible_within_max(position, rule)
    # The explanation says so exactly when the order goes past max.
    assert ("exceeds max" in d.explanation.step("order").text) == (not within)


@PROPS
@given(situations(rounding="down_within_max", need_max=True))
def test_down_within_max_without_multiple_exceeds_max_only_for_moq(case):
    rule, inputs, position = case
    rule = EffectiveRule(**{**rule.__dict__, "multiple": None})
    d = compute(inputs, rule, TODAY)
    assert (position + d.quantity <= rule.max) == ((rule.moq or 0) <= rule.max - position)


@PROPS
@given(situations(rounding="up"))
def test_up_is_the_smallest_multiple_not_below_the_base_and_moq(case):
    rule, inputs, position = case
    d = compute(inputs, rule, TODAY)
    base = Decimal(d.explanation.step("base").result)
    floor = max(base, rule.moq or Decimal(0))
    assert d.quantity >= floor
    if rule.multiple is not None:
        assert d.quantity - rule.multiple < floor
    else:
        assert d.quantity == floor


@PROPS
@given(st.data())
def test_fixed_reorder_quantity_uses_the_fewest_lots(data):
    low = data.draw(dec("0", "100"))
    lot = data.draw(dec("0.5", "50"))
    position = low - data.draw(dec("0", "150"))
    rule = EffectiveRule(item_id="1", source="test", min=low, auto_min=False, reorder_qty=lot)
    d = compute(PositionInputs("1", position), rule, TODAY)
    assert d.quantity % lot == 0
    assert position + d.quantity > low >= position + d.quantity - lot


@PROPS
@given(dec("-100", "300"), dec("0", "100"), dec("0.01", "100"))
def test_trigger_is_exactly_position_at_or_below_min(position, low, gap):
    rule = EffectiveRule(item_id="1", source="test", min=low, auto_min=False, max=low + gap)
    d = compute(PositionInputs("1", position), rule, TODAY)
    assert d.triggered == (position <= low)
    assert (d.quantity > 0) == d.triggered
