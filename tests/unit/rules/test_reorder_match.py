"""Which rule applies to an item: precedence, inheritance from defaults, QBO ReorderPoint, vendor cascade."""

from __future__ import annotations

import pytest
from rules_testkit import D, load

from syncd.rules.match import EffectiveRule, ItemFacts, NotReordered, resolve_rule

RULES = """
[reorder.defaults]
lead_time_days = 7
rounding = "down_within_max"
vendor = "Default Supply"
[[reorder.rule]]
match = "BOLT-*"
min = 1
max = 10
[[reorder.rule]]
match = "*bolt*"
min = 2
max = 20
[[reorder.rule]]
sku = "bolt-m6"
min = 3
max = 30
[[reorder.rule]]
name = "Hex Bolt M6"
min = 4
max = 40
[[reorder.rule]]
id = "42"
min = 5
max = 50
"""


@pytest.mark.parametrize(
    "item, expected_source, expected_min",
    [
        pytest.param(
            ItemFacts("42", "Hex Bolt M6", "BOLT-M6"), "reorder.rule[4] (id = '42')", 5, id="id wins"
        ),
        pytest.param(
            ItemFacts("7", "hex bolt m6", "BOLT-M6"),
            "reorder.rule[3] (name = 'Hex Bolt M6')",
            4,
            id="name beats sku, case-insensitive",
        ),
        pytest.param(
            ItemFacts("7", "Other", "Bolt-M6"), "reorder.rule[2] (sku = 'bolt-m6')", 3, id="sku beats globs"
        ),
        pytest.param(
            ItemFacts("7", "Carriage bolt", "BOLT-M8"),
            "reorder.rule[0] (match = 'BOLT-*')",
            1,
            id="first glob wins, glob on sku",
        ),
        pytest.param(
            ItemFacts("7", "Carriage Bolt", "CB-8"),
            "reorder.rule[1] (match = '*bolt*')",
            2,
            id="later glob on name",
        ),
    ],
)
def test_rule_precedence(item, expected_source, expected_min):
    rule = resolve_rule(item, load(RULES))
    assert isinstance(rule, EffectiveRule)
    assert rule.source == expected_source
    assert rule.min == expected_min
    # inherited from defaults
    assert rule.lead_time_days == 7 and rule.rounding == "down_within_max"
    assert rule.source_of("lead_time_days") == "reorder.defaults.lead_time_days"


def test_no_rule_and_no_reorder_point_is_not_reordered():
    result = resolve_rule(ItemFacts("9", "Washer"), load(RULES))
    assert result == NotReordered(
        "9", "no reorder rule matches and the item has no QBO ReorderPoint: not reordered"
    )


def test_qbo_reorder_point_used_when_no_rule_sets_min():
    config = load("[reorder.defaults]\nreorder_qty = 12\n")
    rule = resolve_rule(ItemFacts("9", "Washer", reorder_point=D(4)), config)
    assert isinstance(rule, EffectiveRule)
    assert (rule.min, rule.reorder_qty, rule.source_of("min")) == (4, 12, "QBO ReorderPoint")
    assert rule.source == "reorder.defaults (no rule matches)"


def test_qbo_reorder_point_ignored_when_switched_off():
    config = load("[reorder.defaults]\nreorder_qty = 12\nuse_qbo_reorder_point = false\n")
    result = resolve_rule(ItemFacts("9", "Washer", reorder_point=D(4)), config)
    assert isinstance(result, NotReordered)
    assert "use_qbo_reorder_point is off" in result.reason


def test_rule_min_beats_qbo_reorder_point():
    rule = resolve_rule(ItemFacts("42", "X", reorder_point=D(99)), load(RULES))
    assert (
        isinstance(rule, EffectiveRule) and rule.min == 5 and rule.source_of("min") == "reorder.rule[4].min"
    )


def test_qbo_reorder_point_without_a_way_to_size_the_order():
    result = resolve_rule(ItemFacts("9", "Washer", reorder_point=D(4)), load(""))
    assert isinstance(result, NotReordered)
    assert result.reason == (
        "reorder.defaults (no rule matches): min 4 (QBO ReorderPoint) but no max or reorder_qty"
        " to size the order (set one in the rule or in reorder.defaults)"
    )


def test_qbo_reorder_point_not_below_inherited_max():
    result = resolve_rule(
        ItemFacts("9", "Washer", reorder_point=D(40)), load("[reorder.defaults]\nmax = 30\n")
    )
    assert isinstance(result, NotReordered)
    assert "max 30 (reorder.defaults.max) is not greater than min 40 (QBO ReorderPoint)" in result.reason


def test_quantity_group_is_inherited_as_a_whole():
    config = load(
        "[reorder.defaults]\nmax = 100\nmultiple = 5\n[[reorder.rule]]\nid = '1'\nmin = 3\nreorder_qty = 8\n"
    )
    rule = resolve_rule(ItemFacts("1", "A"), config)
    assert isinstance(rule, EffectiveRule)
    assert (rule.max, rule.reorder_qty, rule.multiple) == (None, 8, 5)


def test_auto_needs_a_sizing_parameter():
    result = resolve_rule(
        ItemFacts("1", "A"), load("[[reorder.rule]]\nid='1'\nmin='auto'\nlead_time_days=3\n")
    )
    assert (
        isinstance(result, NotReordered)
        and 'reorder_point "auto" needs max, reorder_qty or cover_days' in result.reason
    )


@pytest.mark.parametrize(
    "item, expected_vendor, expected_source",
    [
        pytest.param(
            ItemFacts("1", "A", pref_vendor_id="56"),
            "Rule Vendor",
            "reorder.rule[0].vendor",
            id="rule beats PrefVendorRef",
        ),
        pytest.param(
            ItemFacts("2", "B", pref_vendor_id="56"),
            "56",
            "QBO PrefVendorRef",
            id="PrefVendorRef beats default",
        ),
        pytest.param(ItemFacts("2", "B"), "Default Supply", "reorder.defaults.vendor", id="default last"),
    ],
)
def test_vendor_cascade(item, expected_vendor, expected_source):
    config = load("""
[reorder.defaults]
vendor = "Default Supply"
max_qty = 100
[[reorder.rule]]
id = "1"
min = 1
max = 5
vendor = "Rule Vendor"
[[reorder.rule]]
id = "2"
min = 1
max = 5
alternates = [{vendor = "Alt", max_qty = 3}]
""")
    rule = resolve_rule(item, config)
    assert isinstance(rule, EffectiveRule)
    assert (rule.vendor, rule.source_of("vendor")) == (expected_vendor, expected_source)
    assert rule.max_qty == 100  # inherited field by field; limits whichever vendor is primary
