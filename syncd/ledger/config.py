"""The ``[backorders]`` TOML section and its translation into a :class:`~syncd.ledger.policy.FillPolicy`.

Example::

    [backorders]
    fill_order = "fifo"            # the only order so far: TxnDate, then document, then line
    allow_backorder = true         # default for items no [[backorders.item]] rule decides
    default_lead_time_days = 14    # for estimated ETAs when neither the rule nor the vendor gives one

    [[backorders.priority]]        # these customers get stock first; lower rank first
    customer = "Acme*"             # glob on the customer's display name, case-insensitive
    rank = 1

    [[backorders.priority]]
    customer_id = "12"             # exact QBO Customer Id; rank defaults to the entry's position (1-based)

    [[backorders.item]]
    match = "SKU-*"                # glob on the item's Name or Sku; or id = "...", name = "...", sku = "..."
    allow_backorder = false        # any shortage of these items is an "oversold" event
    lead_time_days = 21

Precedence and matching are documented in :mod:`syncd.ledger.policy`. Validation errors carry the location of
the offending key; :func:`describe_errors` renders them as ``backorders.priority[0].customer: ...``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from syncd.configbase import Section, format_errors
from syncd.ledger.policy import CustomerPriority, FillPolicy, ItemOverride, Selector

Pattern = Annotated[str, Field(min_length=1)]
Days = Annotated[StrictInt, Field(ge=0, le=3650)]
_ITEM_SELECTORS: tuple[Selector, ...] = ("id", "name", "sku", "match")


class PriorityRule(Section):
    """One ``[[backorders.priority]]`` entry: exactly one of ``customer`` (glob) or ``customer_id``."""

    customer: Pattern | None = None
    customer_id: Pattern | None = None
    rank: Annotated[StrictInt, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _one_selector(self) -> PriorityRule:
        if (self.customer is None) == (self.customer_id is None):
            raise ValueError("set exactly one of `customer` (name glob) or `customer_id`")
        return self

    @property
    def selector(self) -> tuple[str, str]:
        if self.customer_id is not None:
            return "customer_id", self.customer_id
        return "customer", self.customer or ""


class ItemRule(Section):
    """One ``[[backorders.item]]``: exactly one of ``id``, ``name``, ``sku``, ``match``, and settings."""

    id: Pattern | None = None
    sku: Pattern | None = None
    name: Pattern | None = None
    match: Pattern | None = None
    allow_backorder: StrictBool | None = None
    lead_time_days: Days | None = None

    @model_validator(mode="after")
    def _shape(self) -> ItemRule:
        chosen = [s for s in _ITEM_SELECTORS if getattr(self, s) is not None]
        if len(chosen) != 1:
            raise ValueError(
                "set exactly one of `id`, `name`, `sku` or `match`"
                + (f" (got {', '.join(chosen)})" if chosen else "")
            )
        if self.allow_backorder is None and self.lead_time_days is None:
            raise ValueError("set `allow_backorder` and/or `lead_time_days`; this rule changes nothing")
        return self

    @property
    def selector(self) -> tuple[Selector, str]:
        for name in _ITEM_SELECTORS:
            value = getattr(self, name)
            if value is not None:
                return name, value
        raise AssertionError("validated rule without selector")


class BackorderConfig(Section):
    """The ``[backorders]`` section. Every key is optional; the defaults give plain FIFO allocation."""

    fill_order: Literal["fifo"] = "fifo"
    allow_backorder: StrictBool = True
    default_lead_time_days: Days | None = None
    priority: tuple[PriorityRule, ...] = ()
    item: tuple[ItemRule, ...] = ()

    @model_validator(mode="after")
    def _distinct(self) -> BackorderConfig:
        # Reported at the repeated key itself (``backorders.item[3].match``), all at once, like ``[reorder]``.
        problems: list[InitErrorDetails] = []
        tables = (
            ("priority", [r.selector for r in self.priority]),
            ("item", [r.selector for r in self.item]),
        )
        for table, selectors in tables:
            first_seen: dict[tuple[str, str], int] = {}
            for i, (kind, value) in enumerate(selectors):
                norm = value if kind in ("id", "customer_id") else value.casefold()
                if (kind, norm) in first_seen:
                    j = first_seen[(kind, norm)]
                    message = f"duplicate of backorders.{table}[{j}].{kind} = {selectors[j][1]!r}"
                    problems.append(
                        InitErrorDetails(
                            type=PydanticCustomError("backorder_rule", "{message}", {"message": message}),
                            loc=(table, i, kind),
                            input=value,
                        )
                    )
                else:
                    first_seen[(kind, norm)] = i
        if problems:
            raise ValidationError.from_exception_data("BackorderConfig", problems)
        return self

    def to_policy(self) -> FillPolicy:
        """The pure policy the ledger core runs with. Ranks default to the entry's 1-based position."""
        priorities = tuple(
            CustomerPriority(
                rank=r.rank if r.rank is not None else i + 1, customer_id=r.customer_id, customer=r.customer
            )
            for i, r in enumerate(self.priority)
        )
        overrides = tuple(
            ItemOverride(
                selector=r.selector[0],
                value=r.selector[1],
                allow_backorder=r.allow_backorder,
                lead_time_days=r.lead_time_days,
            )
            for r in self.item
        )
        return FillPolicy(
            priorities=priorities,
            overrides=overrides,
            default_allow_backorder=self.allow_backorder,
            default_lead_time_days=self.default_lead_time_days,
        )


def describe_errors(exc: ValidationError, prefix: tuple[object, ...] = ("backorders",)) -> list[str]:
    """One ``<dotted key>: <message>`` line per problem, e.g. ``backorders.item[2].match: ...``.

    ``prefix`` is prepended to each location; pass ``()`` for errors raised through the whole config, which
    already carry ``backorders``. (The loader's shared formatter, :func:`syncd.configbase.format_errors`.)
    """
    return format_errors(exc, prefix)
