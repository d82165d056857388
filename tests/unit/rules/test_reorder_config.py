"""``[reorder]`` loading: a complete example loads; every error message names its dotted key."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError
from rules_testkit import load

from syncd.configbase import Section
from syncd.rules.config import ReorderConfig, check_vendors, config_errors

EXAMPLE = """
[reorder]
mode = "approve"
auto_approve_below = 500.00
ap_account = "Accounts Payable (A/P)"
memo = "Please confirm delivery date."

[reorder.defaults]
lead_time_days = 10
rounding = "up"
vendor = "Acme Supply"
use_qbo_reorder_point = true
reorder_qty = 12

[[reorder.rule]]
sku = "PUMP-1"
min = 4
max = 20
multiple = 5
moq = 10
rounding = "down_within_max"
vendor = "Acme Supply"
max_qty = 15
alternates = [{ vendor = "Bolt & Co", max_qty = 30 }, { vendor = "57" }]

[[reorder.rule]]
match = "FILTER-*"
reorder_point = "auto"
safety_stock = 2.5
demand_window_days = 60
cover_days = 14
"""


def errors_of(toml_text: str) -> list[str]:
    with pytest.raises(ValidationError) as info:
        load(toml_text)
    return config_errors(info.value, ("reorder",))


def test_example_config_loads():
    config = load(EXAMPLE)
    assert config.mode == "approve" and config.auto_approve_below == Decimal("500.00")
    assert config.rule[0].alternates[0].max_qty == 30
    assert config.rule[1].reorder_min == "auto" and config.rule[1].safety_stock == Decimal("2.5")
    assert load("").mode == "plan"


def test_config_is_read_only():
    config = load(EXAMPLE)
    with pytest.raises(ValidationError):
        config.mode = "auto"  # type: ignore[misc]


@pytest.mark.parametrize(
    "toml_text, expected",
    [
        pytest.param(
            "[[reorder.rule]]\nname='a'\nmin=5\nmax=3\n",
            "reorder.rule[0].max: must be greater than min (got 3 <= 5)",
            id="max<=min",
        ),
        pytest.param(
            "[reorder.defaults]\nmin=5\n[[reorder.rule]]\nname='a'\nmax=5\n",
            "reorder.rule[0].max: must be greater than min (got 5 <= 5 from reorder.defaults.min)",
            id="max<=inherited min",
        ),
        pytest.param(
            "[reorder.defaults]\nmax=3\n[[reorder.rule]]\nname='a'\nmin=5\n",
            "reorder.rule[0].min: must be less than max (got 5 >= 3 from reorder.defaults.max)",
            id="min>=inherited max",
        ),
        pytest.param(
            "[reorder.defaults]\nmin=5\nmax=2\n",
            "reorder.defaults.max: must be greater than min (got 2 <= 5)",
            id="defaults max<=min",
        ),
        pytest.param(
            "[[reorder.rule]]\nname='a'\nmin=1\nmax=5\nreorder_qty=3\n",
            "reorder.rule[0].reorder_qty: give either max (order-up-to) or reorder_qty (fixed quantity),"
            " not both",
            id="max and reorder_qty",
        ),
        pytest.param(
            "[[reorder.rule]]\nname='a'\nmin=1\nreorder_point=2\nmax=5\n",
            "reorder.rule[0].reorder_point: give either min or reorder_point, not both (same setting)",
            id="min and reorder_point",
        ),
        pytest.param(
            "[[reorder.rule]]\nname='a'\nmin='auto'\nlead_time_days=3\nmax=50\ncover_days=5\n",
            "reorder.rule[0].cover_days: cover_days computes max from demand; give either max or cover_days",
            id="cover_days and max",
        ),
        pytest.param(
            "[[reorder.rule]]\nname='a'\nmin=3\ncover_days=5\n",
            'reorder.rule[0].cover_days: cover_days only applies with reorder_point = "auto"',
            id="cover_days without auto",
        ),
        pytest.param(
            "[[reorder.rule]]\nname='a'\nreorder_point='auto'\ncover_days=5\n",
            'reorder.rule[0].reorder_point: "auto" needs lead_time_days (in this table or in'
            " reorder.defaults)",
            id="auto without lead time",
        ),
        pytest.param(
            "[reorder.defaults]\ncover_days=30\n[[reorder.rule]]\nname='a'\nmin=3\n",
            "reorder.rule[0].min: cover_days (from reorder.defaults.cover_days) only applies with"
            ' reorder_point = "auto"; set max or reorder_qty here',
            id="inherited cover_days",
        ),
        pytest.param(
            "[[reorder.rule]]\nmin=1\nmax=2\n",
            "reorder.rule[0]: needs exactly one of id, name, sku, match (got none)",
            id="no selector",
        ),
        pytest.param(
            "[[reorder.rule]]\nname='a'\nsku='b'\nmin=1\nmax=2\n",
            "reorder.rule[0]: needs exactly one of id, name, sku, match (got name, sku)",
            id="two selectors",
        ),
        pytest.param(
            "[[reorder.rule]]\nname='Pump'\nmin=1\nmax=2\n[[reorder.rule]]\nname='PUMP'\nmin=1\nmax=3\n",
            "reorder.rule[1].name: duplicate of reorder.rule[0].name = 'Pump'",
            id="duplicate selector",
        ),
        pytest.param(
            "[[reorder.rule]]\nname='a'\nvendor='X'\nalternates=[{vendor='Y'},{vendor='x'}]\n",
            "reorder.rule[0].alternates[1].vendor: vendor 'x' is listed twice",
            id="duplicate vendor",
        ),
        pytest.param(
            "[reorder.defaults]\nmultiple=-2\n",
            "reorder.defaults.multiple: must be greater than 0 (got -2)",
            id="negative multiple",
        ),
        pytest.param(
            "[reorder.defaults]\nmin=-1\n",
            "reorder.defaults.min: must be at least 0 (got -1)",
            id="negative min",
        ),
        pytest.param(
            "[[reorder.rule]]\nname='a'\nmin='lots'\n",
            "reorder.rule[0].min: expected a number or \"auto\", got 'lots'",
            id="min not a number",
        ),
        pytest.param(
            "[reorder.defaults]\nmoq='ten'\n",
            "reorder.defaults.moq: not a number: 'ten'",
            id="moq not a number",
        ),
        pytest.param(
            "[reorder.defaults]\nlead_time_days=1.5\n",
            "reorder.defaults.lead_time_days: Input should be a valid integer (got 1.5)",
            id="lead time not int",
        ),
        pytest.param(
            "[reorder.defaults]\nrounding='nearest'\n",
            "reorder.defaults.rounding: must be one of 'up', 'down_within_max' or 'none' (got 'nearest')",
            id="bad rounding",
        ),
        pytest.param(
            "[reorder]\nmode='yolo'\n",
            "reorder.mode: must be one of 'off', 'plan', 'approve' or 'auto' (got 'yolo')",
            id="bad mode",
        ),
        pytest.param(
            "[reorder.defaults]\nreorder_quantity=5\n",
            "reorder.defaults.reorder_quantity: unknown key (check the spelling; see config.example.toml)",
            id="unknown key",
        ),
        pytest.param(
            "[[reorder.rule]]\nname='a'\nalternates=[{max_qty=5}]\n",
            "reorder.rule[0].alternates[0].vendor: required key is missing",
            id="alternate without vendor",
        ),
        pytest.param(
            "[reorder]\nmemo='" + "x" * 4001 + "'\n",
            "reorder.memo: String should have at most 4000 characters",
            id="memo too long",
        ),
    ],
)
def test_error_message(toml_text, expected):
    assert errors_of(toml_text) == [expected]


def test_all_cross_field_problems_reported_together():
    errors = errors_of("[[reorder.rule]]\nname='a'\nmin=5\nmax=3\n[[reorder.rule]]\nmin=1\nmax=2\n")
    assert errors == [
        "reorder.rule[0].max: must be greater than min (got 3 <= 5)",
        "reorder.rule[1]: needs exactly one of id, name, sku, match (got none)",
    ]


def test_python_float_rejected():
    with pytest.raises(ValidationError) as info:
        ReorderConfig.model_validate({"defaults": {"max": 2.5}})
    assert config_errors(info.value, ("reorder",)) == [
        "reorder.defaults.max: expected an exact decimal (write it in TOML, or pass Decimal/int/str),"
        " got a float"
    ]


def test_errors_through_the_whole_config_carry_the_section_key():
    class Whole(Section):
        reorder: ReorderConfig = ReorderConfig()

    with pytest.raises(ValidationError) as info:
        Whole.model_validate({"reorder": {"rule": [{"name": "a", "min": 5, "max": 3}]}})
    assert config_errors(info.value) == ["reorder.rule[0].max: must be greater than min (got 3 <= 5)"]


def test_check_vendors_reports_unknown_names_by_key():
    config = load(EXAMPLE)
    known = {"55": "Acme Supply", "57": "Zed Parts"}
    assert check_vendors(config, known) == [
        "reorder.rule[0].alternates[0].vendor: unknown vendor 'Bolt & Co'"
        " (no active QBO vendor has this name or Id)"
    ]
    assert check_vendors(config, {**known, "58": "bolt & co"}) == []  # names match case-insensitively


def test_defaults_may_hold_cover_days_for_auto_rules():
    config = load(
        "[reorder.defaults]\ncover_days=30\nlead_time_days=5\n[[reorder.rule]]\nmatch='*'\nmin='auto'\n"
    )
    assert config.defaults.cover_days == 30
