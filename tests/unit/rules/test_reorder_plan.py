"""Purchase-order plans: one PO per vendor, alternates past max_qty, price, notes, request ids, approval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rules_testkit import TODAY, D, load

from syncd.rules.match import EffectiveRule, ItemFacts, resolve_rule
from syncd.rules.plan import build_plan, request_id_for
from syncd.rules.reorder import PendingIntent, PositionInputs, compute

VENDORS = {"55": "Acme Supply", "56": "Bolt & Co", "57": "Zed Parts"}
ITEMS = {
    "1": ItemFacts("1", "Pump", "P-1", purchase_cost=D("2.345")),
    "2": ItemFacts("2", "Filter", "F-1", purchase_cost=D("10"), pref_vendor_id="57"),
    "3": ItemFacts("3", "Anode", "A-1", purchase_cost=D("1.50")),
}
CONFIG = """
[reorder]
mode = "auto"
[reorder.defaults]
vendor = "Acme Supply"
lead_time_days = 5
[[reorder.rule]]
id = "1"
min = 10
max = 100
multiple = 6
max_qty = 40
lead_time_days = 12
alternates = [{vendor = "Bolt & Co", max_qty = 25}, {vendor = "Zed Parts", max_qty = 20}]
[[reorder.rule]]
id = "2"
min = 5
reorder_qty = 8
[[reorder.rule]]
id = "3"
min = 5
max = 9
"""


def plan_for(
    config_text: str = CONFIG, on_hand: dict[str, int] | None = None, plan_id: str = "p-20240501-1", **kwargs
):
    config = load(config_text)
    on_hand = on_hand if on_hand is not None else {"1": 0, "2": 0, "3": 0}
    decisions = []
    for item_id, qty in on_hand.items():
        rule = resolve_rule(ITEMS[item_id], config)
        assert isinstance(rule, EffectiveRule)
        decisions.append(compute(PositionInputs(item_id, D(qty)), rule, TODAY))
    return decisions, build_plan(decisions, ITEMS, VENDORS, config, plan_id, TODAY, **kwargs)


def test_one_po_per_vendor_with_all_its_lines_and_alternates_by_max_qty():
    _, plan = plan_for()
    # Pump: Q = 100 rounded up to 102; Acme takes 36 (max_qty 40 in cases of 6), Bolt 24 (25 -> 24), Zed 18
    # (20 -> 18) leaving 24 unplaced. Anode (Acme by default) 9. Filter (PrefVendorRef Zed) 8.
    by_vendor = {po.vendor_name: [(line.item_name, line.qty) for line in po.lines] for po in plan.pos}
    assert by_vendor == {
        "Acme Supply": [("Anode", 9), ("Pump", 36)],
        "Bolt & Co": [("Pump", 24)],
        "Zed Parts": [("Filter", 8), ("Pump", 18)],
    }
    assert [p.message for p in plan.problems] == [
        "Pump: 24 of 102 not placed: every vendor's max_qty is reached (add an alternate)"
    ]
    acme = plan.pos[0]
    pump = acme.lines[1]
    text = pump.explanation.text()
    assert (
        "vendor: Acme Supply (Id 55, reorder.defaults.vendor): 36 of 102, max_qty 40 (in multiples of 6: 36)"
        in text
    )
    assert "Q = round 100 up to a multiple of 6 = 102" in text
    bolt_text = plan.pos[1].lines[0].explanation.text()
    assert "Bolt & Co (Id 56, alternate 1 of reorder.rule[0] (id = '1')): 24 of 102, max_qty 25" in bolt_text


def test_prices_amounts_totals_and_due_dates():
    _, plan = plan_for()
    acme = plan.pos[0]
    anode, pump = acme.lines
    assert (pump.unit_price, pump.amount) == (D("2.345"), D("84.42"))  # 36 × 2.345 = 84.42
    assert (anode.unit_price, anode.amount) == (D("1.50"), D("13.50"))
    assert acme.total == D("97.92")
    assert "amount = 36 × 2.345 (PurchaseCost) = 84.42 (rounded half-up to cents)" in pump.explanation.text()
    assert acme.due_date == TODAY + timedelta(days=12)  # the longest lead time on the PO
    assert plan.pos[1].due_date == TODAY + timedelta(days=12)


def test_half_up_rounding_of_amounts():
    config = "[reorder]\nmode='auto'\n[[reorder.rule]]\nid='1'\nmin=0\nmax=1\nvendor='55'\n"
    _, plan = plan_for(config, {"1": 0})
    assert plan.pos[0].lines[0].amount == D("2.35")  # 2.345 -> 2.35, not banker's 2.34


def test_private_note_request_id_and_memo():
    _, plan = plan_for(CONFIG.replace('mode = "auto"', 'mode = "auto"\nmemo = "Ship to dock 2"'))
    for po in plan.pos:
        assert po.private_note.startswith(f"syncd plan p-20240501-1 req {po.request_id}. Reorder: ")
        assert len(po.request_id) <= 50
        assert po.request_id == request_id_for("p-20240501-1", po.vendor_id)
        assert po.memo == "Ship to dock 2"
    assert "Pump x36: position 0 <= min 10, max 100" in plan.pos[0].private_note
    assert "Filter x8: position 0 <= min 5, reorder_qty 8" in plan.pos[2].private_note
    assert len({po.request_id for po in plan.pos}) == 3
    assert request_id_for("p-20240501-2", "55") != request_id_for("p-20240501-1", "55")


def test_plan_is_deterministic():
    assert plan_for()[1] == plan_for()[1]


def test_private_note_is_capped_at_4000_chars_keeping_the_plan_id():
    items = {
        str(i): ItemFacts(str(i), f"Item number {i:04d} with a long name", purchase_cost=D(1))
        for i in range(300)
    }
    config = load("[reorder]\nmode='auto'\n[reorder.defaults]\nmin=1\nmax=5\nvendor='55'\n")
    decisions = [compute(PositionInputs(i, D(0)), resolve_rule(it, config), TODAY) for i, it in items.items()]
    plan = build_plan(decisions, items, VENDORS, config, "p-big", TODAY)
    (po,) = plan.pos
    assert len(po.lines) == 300
    assert len(po.private_note) == 4000 and po.private_note.endswith("…")
    assert "syncd plan p-big" in po.private_note


@pytest.mark.parametrize(
    "mode_toml, expected",
    [
        pytest.param("mode='plan'", ["planned"] * 3, id="plan"),
        pytest.param("mode='auto'", ["approved"] * 3, id="auto"),
        pytest.param("mode='approve'", ["pending"] * 3, id="approve"),
        # totals: Acme 97.92, Bolt 56.28, Zed 122.21 -> only those strictly below 97.92 auto-approve
        pytest.param(
            "mode='approve'\nauto_approve_below=97.92",
            ["pending", "approved", "pending"],
            id="approve under threshold",
        ),
    ],
)
def test_status_by_mode(mode_toml, expected):
    _, plan = plan_for(CONFIG.replace('mode = "auto"', mode_toml))
    assert [po.status for po in plan.pos] == expected
    assert plan.pos[1].total == D("56.28")
    if expected[1] == "approved" and expected[0] == "pending":
        assert plan.pos[1].approval == "auto-approved: total 56.28 < auto_approve_below 97.92"


def test_mode_off_plans_nothing():
    _, plan = plan_for(CONFIG.replace('mode = "auto"', "mode = 'off'"))
    assert plan.pos == () and plan.problems == ()


def test_ap_account_from_config_or_single_account():
    _, plan = plan_for(ap_accounts={"33": "Accounts Payable (A/P)"})
    assert {po.ap_account_id for po in plan.pos} == {"33"}
    _, plan = plan_for(
        CONFIG.replace('mode = "auto"', 'mode = "auto"\nap_account = "trade payables"'),
        ap_accounts={"33": "Accounts Payable (A/P)", "34": "Trade Payables"},
    )
    assert {po.ap_account_id for po in plan.pos} == {"34"}
    _, plan = plan_for()
    assert {po.ap_account_id for po in plan.pos} == {None}  # unknown: QBO implies its only AP account


def test_several_ap_accounts_without_config_block_the_plan():
    _, plan = plan_for(ap_accounts={"33": "Accounts Payable (A/P)", "34": "Trade Payables"})
    assert {po.status for po in plan.pos} == {"blocked"}
    assert plan.problems[-1].message == (
        "reorder.ap_account: the company has several AP accounts"
        " (Accounts Payable (A/P), Trade Payables); name one"
    )


def test_unknown_vendor_falls_to_alternate_and_is_reported():
    config = (
        "[reorder]\nmode='auto'\n[[reorder.rule]]\nid='1'\nmin=0\nmax=5\nvendor='Gone Ltd'\n"
        "alternates=[{vendor='Zed Parts'}]\n"
    )
    _, plan = plan_for(config, {"1": 0})
    assert [(po.vendor_name, po.lines[0].qty) for po in plan.pos] == [("Zed Parts", 5)]
    assert [p.message for p in plan.problems] == ["Pump: unknown vendor 'Gone Ltd' (reorder.rule[0].vendor)"]


def test_no_vendor_and_no_price_are_reported():
    items = {"9": ItemFacts("9", "Gasket")}
    config = load("[reorder]\nmode='auto'\n[[reorder.rule]]\nid='9'\nmin=0\nmax=5\n")
    decision = compute(PositionInputs("9", D(0)), resolve_rule(items["9"], config), TODAY)
    plan = build_plan([decision], items, VENDORS, config, "p1", TODAY)
    assert plan.pos == ()
    assert [p.message for p in plan.problems] == [
        "Gasket: no PurchaseCost in QBO, unit price 0",
        "Gasket: no vendor (set vendor in reorder.rule[0] (id = '9') or reorder.defaults,"
        " or the item's preferred vendor in QBO)",
        "Gasket: 5 of 5 not placed: every vendor's max_qty is reached (add an alternate)",
    ]


def test_untriggered_decisions_are_not_planned():
    _, plan = plan_for(on_hand={"1": 50, "2": 6, "3": 5})
    assert [line.item_name for po in plan.pos for line in po.lines] == ["Anode"]


@pytest.mark.parametrize("bad", ["", "50%", "it's", " p1", "x" * 65])
def test_plan_id_must_be_searchable(bad):
    with pytest.raises(ValueError):
        plan_for(plan_id=bad)


def test_replanning_with_the_plan_as_intents_orders_nothing():
    decisions, plan = plan_for(CONFIG.replace("max_qty = 40", "max_qty = 400"))
    placed: dict[str, D] = {}
    for po in plan.pos:
        for line in po.lines:
            placed[line.item_id] = placed.get(line.item_id, D(0)) + line.qty
    assert not plan.problems
    for decision in decisions:
        intents = (PendingIntent(f"plan {plan.plan_id}", placed[decision.item_id]),)
        again = compute(PositionInputs(decision.item_id, D(0), intents=intents), decision.rule, TODAY)
        assert not again.triggered, again.explanation.text()
