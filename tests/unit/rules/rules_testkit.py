"""Shared helpers for the reorder-rule tests: configs written in TOML, as an admin would write them."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal

from syncd.rules.config import ReorderConfig
from syncd.rules.match import EffectiveRule, ItemFacts, resolve_rule
from syncd.rules.reorder import OpenPO, PendingIntent, PositionInputs, ReorderDecision, compute

TODAY = date(2024, 5, 1)


def D(value: str | int) -> Decimal:
    return Decimal(value)


def load(toml_text: str) -> ReorderConfig:
    """Parse a ``[reorder]`` section the way the loader does (floats as Decimal)."""
    data = tomllib.loads(toml_text, parse_float=Decimal)
    return ReorderConfig.model_validate(data.get("reorder", {}))


def rule_for(toml_text: str, item: ItemFacts | None = None) -> EffectiveRule:
    """The effective rule for ``item`` (default: item 1 "Widget") under the given config; must resolve."""
    item = item or ItemFacts("1", "Widget", "W-1")
    resolved = resolve_rule(item, load(toml_text))
    assert isinstance(resolved, EffectiveRule), resolved
    return resolved


def decide(
    toml_text: str,
    on_hand: str | int,
    pos: tuple[tuple[str, str | int, bool], ...] = (),
    intents: tuple[tuple[str, str | int], ...] = (),
) -> ReorderDecision:
    """Decide for item 1; ``pos`` are (ref, remaining, hand_typed), ``intents`` are (ref, qty)."""
    inputs = PositionInputs(
        "1",
        D(on_hand),
        tuple(OpenPO(ref, D(rem), hand) for ref, rem, hand in pos),
        tuple(PendingIntent(ref, D(q)) for ref, q in intents),
    )
    return compute(inputs, rule_for(toml_text), TODAY)
