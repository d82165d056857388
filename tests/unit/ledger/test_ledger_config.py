"""The ``[backorders]`` section: the documented example loads into the intended policy, and every error names
the TOML key at fault."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from syncd.configbase import Section
from syncd.ledger import config as config_module
from syncd.ledger.config import BackorderConfig, describe_errors
from syncd.ledger.model import DemandLine, ItemInput
from syncd.ledger.policy import CustomerPriority, FillPolicy, ItemOverride


def load(text: str) -> BackorderConfig:
    return BackorderConfig.model_validate(tomllib.loads(text, parse_float=Decimal))


def problems(text: str) -> list[str]:
    with pytest.raises(ValidationError) as info:
        load(text)
    return describe_errors(info.value)


def docstring_example() -> str:
    doc = config_module.__doc__ or ""
    block = doc.split("Example::", 1)[1].split("Precedence", 1)[0]
    return (
        "\n".join(line[4:] for line in block.splitlines())
        .replace("[backorders]", "")
        .replace("backorders.", "")
    )


def test_documented_example_loads_into_the_intended_policy() -> None:
    policy = load(docstring_example()).to_policy()
    assert policy == FillPolicy(
        priorities=(CustomerPriority(rank=1, customer="Acme*"), CustomerPriority(rank=2, customer_id="12")),
        overrides=(ItemOverride("match", "SKU-*", allow_backorder=False, lead_time_days=21),),
        default_allow_backorder=True,
        default_lead_time_days=14,
    )


def test_empty_section_is_plain_fifo() -> None:
    assert load("").to_policy() == FillPolicy()


def test_policy_answers_per_item_with_rule_precedence() -> None:
    policy = load("""
        allow_backorder = true
        default_lead_time_days = 5
        [[item]]
        match = "widget*"
        allow_backorder = false
        [[item]]
        sku = "W-1"
        lead_time_days = 9
        [[item]]
        id = "7"
        allow_backorder = true
    """).to_policy()
    widget = ItemInput("3", "Widget large", Decimal(0), sku="W-1", lead_time_days=30)
    # the sku rule beats the glob and sets only the lead time; allow_backorder falls back to the section
    # default
    assert policy.allow_backorder(widget) is True and policy.lead_time_days(widget) == 9
    other = ItemInput("4", "WIDGET small", Decimal(0), lead_time_days=30)
    assert policy.allow_backorder(other) is False and policy.lead_time_days(other) == 30  # vendor lead time
    by_id = ItemInput("7", "Widget x", Decimal(0))
    assert policy.allow_backorder(by_id) is True and policy.lead_time_days(by_id) == 5


def test_priority_rank_defaults_to_position_and_best_match_wins() -> None:
    policy = load("""
        [[priority]]
        customer = "acme*"
        [[priority]]
        customer_id = "12"
        rank = 5
        [[priority]]
        customer = "*west"
    """).to_policy()

    def line(customer_id: str, name: str) -> DemandLine:
        return DemandLine("Invoice", "1", "1", date(2024, 1, 1), customer_id, name, "W", Decimal(1))

    assert policy.priority_rank(line("12", "ACME West")) == 1
    assert policy.priority_rank(line("12", "Bolt")) == 5
    assert policy.priority_rank(line("9", "Far West")) == 3
    assert policy.priority_rank(line("9", "Bolt")) is None


def test_config_is_read_only() -> None:
    cfg = load("allow_backorder = false")
    with pytest.raises(ValidationError):
        cfg.allow_backorder = True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('fill_order = "lifo"', "backorders.fill_order: must be one of 'fifo' (got 'lifo')"),
        ("allow_backorder = 1", "backorders.allow_backorder: Input should be a valid boolean (got 1)"),
        (
            "default_lead_time_days = -1",
            "backorders.default_lead_time_days: must be at least 0 (got -1)",
        ),
        (
            "default_lead_time_days = 2.5",
            "backorders.default_lead_time_days: Input should be a valid integer (got 2.5)",
        ),
        ("colour = 1", "backorders.colour: unknown key (check the spelling; see config.example.toml)"),
        ('[[priority]]\ncustomer = "  "', "backorders.priority[0].customer: must not be empty"),
        (
            '[[priority]]\ncustomer = "A*"\nrank = 0',
            "backorders.priority[0].rank: must be at least 1 (got 0)",
        ),
        (
            "[[priority]]\nrank = 1",
            "backorders.priority[0]: set exactly one of `customer` (name glob) or `customer_id`",
        ),
        (
            '[[priority]]\ncustomer = "A"\ncustomer_id = "1"',
            "backorders.priority[0]: set exactly one of `customer` (name glob) or `customer_id`",
        ),
        ('[[priority]]\ncustomer = "A"\nvip = true', "backorders.priority[0].vip: unknown key (check the spelling; see config.example.toml)"),
        (
            '[[item]]\nmatch = "SKU-*"',
            "backorders.item[0]: set `allow_backorder` and/or `lead_time_days`; this rule changes nothing",
        ),
        ('[[item]]\nmatch = ""\nallow_backorder = false', "backorders.item[0].match: must not be empty"),
        (
            '[[item]]\nid = "1"\nname = "W"\nallow_backorder = false',
            "backorders.item[0]: set exactly one of `id`, `name`, `sku` or `match` (got id, name)",
        ),
        (
            '[[item]]\nid = "1"\nallow_backorder = "no"',
            "backorders.item[0].allow_backorder: Input should be a valid boolean (got 'no')",
        ),
        (
            '[[item]]\nid = "1"\nlead_time_days = 99999',
            "backorders.item[0].lead_time_days: must be at most 3650 (got 99999)",
        ),
    ],
)
def test_each_error_names_its_key(text: str, expected: str) -> None:
    assert problems(text) == [expected]


def test_duplicates_are_reported_at_the_repeated_key_all_at_once() -> None:
    assert problems("""
        [[priority]]
        customer_id = "12"
        [[priority]]
        customer = "Acme*"
        [[priority]]
        customer = "ACME*"
        [[priority]]
        customer_id = "12"
        [[item]]
        sku = "W-1"
        allow_backorder = false
        [[item]]
        sku = "w-1"
        lead_time_days = 3
    """) == [
        "backorders.priority[2].customer: duplicate of backorders.priority[1].customer = 'Acme*'",
        "backorders.priority[3].customer_id: duplicate of backorders.priority[0].customer_id = '12'",
        "backorders.item[1].sku: duplicate of backorders.item[0].sku = 'W-1'",
    ]


def test_errors_through_an_enclosing_config_keep_their_full_key() -> None:
    class Whole(Section):
        backorders: BackorderConfig = BackorderConfig()

    with pytest.raises(ValidationError) as info:
        Whole.model_validate({"backorders": {"item": [{"id": "7", "allow_backorder": False}] * 2}})
    assert describe_errors(info.value, prefix=()) == [
        "backorders.item[1].id: duplicate of backorders.item[0].id = '7'"
    ]
