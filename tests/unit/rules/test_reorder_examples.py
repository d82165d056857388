"""Reference cases for the reorder quantity, in the spirit of Odoo's / ERPNext's / SOS's min-max test tables.

Each case: a rule as TOML, the stock situation, the expected quantity, and fragments the explanation must
contain (so a finance reader sees every input and step).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from rules_testkit import TODAY, D, decide, rule_for

from syncd.rules.reorder import DemandDay, OpenPO, PositionInputs, compute

MINMAX = "[[reorder.rule]]\nid = '1'\nmin = 5\nmax = 20\n"

CASES = [
    # id, rule TOML, on_hand, open POs, intents, expected Q, explanation fragments
    (
        "minmax",
        MINMAX,
        3,
        (),
        (),
        "17",
        [
            "position = on_hand 3 + open POs 0 + intents 0 = 3",
            "position 3 <= min 5 → reorder",
            "Q = max 20 − position 3 = 17",
            "order 17; position after = 3 + 17 = 20 > min 5",
        ],
    ),
    ("minmax at min triggers", MINMAX, 5, (), (), "15", ["position 5 <= min 5 → reorder"]),
    ("above min: nothing", MINMAX, 6, (), (), "0", ["position 6 > min 5 → no reorder"]),
    (
        "fixed qty, one lot",
        "[[reorder.rule]]\nid='1'\nmin=5\nreorder_qty=10\n",
        3,
        (),
        (),
        "10",
        ["Q = n × reorder_qty = 1 × 10 = 10 (smallest n with position 3 + n × 10 > min 5)"],
    ),
    (
        "fixed qty, shortfall above it",
        "[[reorder.rule]]\nid='1'\nmin=50\nreorder_qty=10\n",
        12,
        (),
        (),
        "40",
        ["Q = n × reorder_qty = 4 × 10 = 40", "position after = 12 + 40 = 52 > min 50"],
    ),
    (
        "fixed qty, exact boundary needs one more lot",
        "[[reorder.rule]]\nid='1'\nmin=50\nreorder_qty=10\n",
        10,
        (),
        (),
        "50",
        ["5 × 10 = 50", "position after = 10 + 50 = 60 > min 50"],
    ),
    (
        "multiple, up",
        MINMAX + "multiple = 6\n",
        3,
        (),
        (),
        "18",
        ["Q = round 17 up to a multiple of 6 = 18", "exceeds max 20: rounding up to a multiple of 6"],
    ),
    (
        "multiple, already whole",
        MINMAX + "multiple = 17\n",
        3,
        (),
        (),
        "17",
        ["Q = 17 is already a multiple of 17"],
    ),
    (
        "multiple, down_within_max",
        MINMAX + "multiple = 6\nrounding = 'down_within_max'\n",
        3,
        (),
        (),
        "12",
        [
            "Q = round 17 down to a multiple of 6 = 12 (position 3 + 12 = 15 > min 5)",
            "order 12; position after = 3 + 12 = 15 > min 5",
        ],
    ),
    (
        "down_within_max would leave position <= min: rounds up",
        "[[reorder.rule]]\nid='1'\nmin=10\nmax=14\nmultiple=6\nrounding='down_within_max'\n",
        3,
        (),
        (),
        "12",
        [
            "rounding 11 down to a multiple of 6 gives 6, but position 3 + 6 = 9 <= min 10 → round up = 12",
            "exceeds max 14: no multiple of 6 (>= moq) lies in (min − position, max − position] = (7, 11]",
        ],
    ),
    (
        "down_within_max never rounds to zero",
        "[[reorder.rule]]\nid='1'\nmin=2\nmax=5\nmultiple=6\nrounding='down_within_max'\n",
        1,
        (),
        (),
        "6",
        ["rounding 4 down to a multiple of 6 gives 0 → round up = 6"],
    ),
    (
        "multiple, none",
        MINMAX + "multiple = 6\nrounding = 'none'\n",
        3,
        (),
        (),
        "17",
        ["Q = 17 (rounding none: multiple 6 not applied)"],
    ),
    (
        "MOQ above max - P",
        MINMAX + "moq = 25\n",
        3,
        (),
        (),
        "25",
        ["Q = max(Q 17, moq 25) = 25", "exceeds max 20: moq 25 > max − position = 17"],
    ),
    ("MOQ below Q changes nothing", MINMAX + "moq = 10\n", 3, (), (), "17", ["Q = max(Q 17, moq 10) = 17"]),
    (
        "MOQ then multiple up",
        MINMAX + "moq = 25\nmultiple = 6\n",
        3,
        (),
        (),
        "30",
        ["Q = max(Q 17, moq 25) = 25", "Q = round 25 up to a multiple of 6 = 30"],
    ),
    (
        "down_within_max keeps MOQ",
        "[[reorder.rule]]\nid='1'\nmin=5\nmax=40\nmoq=10\nmultiple=4\nrounding='down_within_max'\n",
        5,
        (),
        (),
        "32",
        ["Q = max(Q 35, moq 10) = 35", "Q = round 35 down to a multiple of 4 = 32"],
    ),
    (
        "down_within_max below MOQ rounds up",
        "[[reorder.rule]]\nid='1'\nmin=30\nmax=40\nmoq=10\nmultiple=4\nrounding='down_within_max'\n",
        30,
        (),
        (),
        "12",
        # Q = 10 -> down 8 < MOQ -> up 12; P + Q = 42 > max as no multiple of 4 lies in [10, 10].
        [
            "rounding 10 down to a multiple of 4 gives 8, below moq 10 → round up = 12",
            "exceeds max 40: no multiple of 4 (>= moq) lies in (min − position, max − position] = (0, 10]",
        ],
    ),
    (
        "open POs counted",
        "[[reorder.rule]]\nid='1'\nmin=15\nmax=30\n",
        2,
        (("1001", 6, False), ("1003", 4, False)),
        (),
        "18",
        [
            "position = on_hand 2 + open POs 10 (PO 1001: 6, PO 1003: 4) + intents 0 = 12",
            "Q = max 30 − position 12 = 18",
        ],
    ),
    (
        "hand-typed PO counted",
        MINMAX,
        2,
        (("88", 5, True),),
        (),
        "0",
        ["open POs 5 (PO 88 (hand-typed): 5)", "position 7 > min 5 → no reorder"],
    ),
    (
        "over-received PO counts as zero",
        MINMAX,
        2,
        (("90", -3, False),),
        (),
        "18",
        ["PO 90: 0 (over-received, counted as 0)", "= 2"],
    ),
    (
        "backordered stock",
        MINMAX,
        -4,
        (),
        (),
        "24",
        ["on_hand -4 (backordered 4)", "Q = max 20 − position -4 = 24"],
    ),
    (
        "unmirrored intents counted",
        MINMAX,
        2,
        (),
        (("plan p1", 10),),
        "0",
        ["intents 10 (plan p1: 10)", "position 12 > min 5 → no reorder"],
    ),
    (
        "fractional quantities",
        "[[reorder.rule]]\nid='1'\nmin=1.5\nmax=4.25\nmultiple=0.5\n",
        "0.5",
        (),
        (),
        "4",
        ["Q = max 4.25 − position 0.5 = 3.75", "Q = round 3.75 up to a multiple of 0.5 = 4"],
    ),
]


@pytest.mark.parametrize(
    "toml_text, on_hand, pos, intents, expected, fragments",
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_reference_case(toml_text, on_hand, pos, intents, expected, fragments):
    decision = decide(toml_text, on_hand, pos, intents)
    assert decision.quantity == D(expected)
    assert decision.triggered == (D(expected) > 0)
    text = decision.explanation.text()
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in:\n{text}"


def test_explanation_steps_in_order_and_as_json():
    d = decide(MINMAX + "moq = 25\nmultiple = 6\n", 3, (("1001", 0, False),))
    assert d.explanation.names() == ("rule", "position", "trigger", "base", "moq", "multiple", "order")
    data = json.loads(d.explanation.to_json())
    assert [s["name"] for s in data] == list(d.explanation.names())
    base = data[3]
    assert base == {
        "name": "base",
        "formula": "Q = max − P",
        "inputs": {"max": "20", "position": "3"},
        "result": "17",
        "text": "Q = max 20 − position 3 = 17",
    }
    assert data[0]["text"].startswith("reorder.rule[0] (id = '1'): min 5 (reorder.rule[0].min), max 20")


def test_not_triggered_explanation_stops_at_trigger():
    d = decide(MINMAX, 9)
    assert d.explanation.names() == ("rule", "position", "trigger")
    assert d.quantity == 0 and d.position == 9 and d.min == 5 and d.max == 20


AUTO = """
[reorder.defaults]
lead_time_days = 14
[[reorder.rule]]
id = '1'
reorder_point = "auto"
safety_stock = 3
demand_window_days = 90
cover_days = 30
"""


def _demand(*pairs):
    return tuple(DemandDay(TODAY - timedelta(days=ago), D(qty)) for ago, qty in pairs)


def test_auto_reorder_point_from_demand_history():
    # 45 units over the 90 days ending today: 0.5/day; min = ceil(0.5 × 14 + 3) = 10; max = 10 + ceil(0.5 ×
    # 30) = 25.
    demand = _demand((0, 20), (30, 15), (89, 10), (90, 1000))  # 90 days ago is outside the window
    inputs = PositionInputs("1", D(4), demand=demand)
    d = compute(inputs, rule_for(AUTO), TODAY)
    assert (d.min, d.max, d.quantity) == (10, 25, 21)
    text = d.explanation.text()
    assert "average daily demand = 45 sold 2024-02-02..2024-05-01 (3 days with sales) / 90 days = 0.5" in text
    assert "min = ceil(avg 0.5 × lead_time_days 14 + safety_stock 3) = ceil(10) = 10" in text
    assert "max = min 10 + ceil(avg 0.5 × cover_days 30) = 10 + 15 = 25" in text
    assert "Q = max 25 − position 4 = 21" in text


def test_auto_reorder_point_rounds_up_fractional_demand():
    # 10 units over 7 days, lead 3: 10 × 3 / 7 = 4.28… -> min 5 (no float error at the ceiling).
    rule = rule_for(
        "[[reorder.rule]]\nid='1'\nmin='auto'\nlead_time_days=3\ndemand_window_days=7\nreorder_qty=6\n"
    )
    d = compute(PositionInputs("1", D(5), demand=_demand((1, 10))), rule, TODAY)
    assert d.min == 5 and d.quantity == 6
    assert "= 1.4286…" in d.explanation.text()


def test_auto_without_demand_is_a_problem_not_an_order():
    d = compute(PositionInputs("1", D(0)), rule_for(AUTO), TODAY)
    assert not d.triggered and d.quantity == 0
    assert d.problem == "max 3 is not greater than min 3 (no demand in the window?)"
    assert "not reordered" in d.explanation.text()


def test_open_po_listing_keeps_every_po():
    inputs = PositionInputs(
        "1", D(-2), (OpenPO("1001", D(2)), OpenPO("1001", D(3)), OpenPO("77", D(1), True))
    )
    d = compute(inputs, rule_for(MINMAX), TODAY)
    assert "open POs 6 (PO 1001: 2, PO 1001: 3, PO 77 (hand-typed): 1)" in d.explanation.text()
    assert d.position == 4 and d.quantity == 16
