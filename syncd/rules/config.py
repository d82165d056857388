"""The ``[reorder]`` config section: modes, defaults and per-item / glob rules.

Contract
--------
* :class:`ReorderConfig` validates everything it can see on its own and raises a pydantic ``ValidationError``
  whose locations point at the offending key (``rule[2].max`` inside ``reorder``), so the loader's generic
  renderer and :func:`config_errors` print ``reorder.rule[2].max: must be greater than min (got 3 <= 5)``.
* Field errors (types, signs, unknown keys) are reported first by pydantic; cross-field checks (max <= min,
  max with reorder_qty, selectors, duplicates, ``"auto"`` without a lead time ...) run once every field is
  well typed, and all of them are reported together.
* A rule inherits every parameter it does not set from ``[reorder.defaults]``, with two groups taken as a
  whole: ``min``/``reorder_point`` are one setting, and the *quantity group* ``max`` / ``reorder_qty`` /
  ``cover_days`` is inherited only when the rule sets none of the three (so a rule's ``reorder_qty`` never
  meets a default ``max``).  Cross-field checks run on that merged view and are reported at the rule's own
  key.
* Whether a vendor name exists needs the mirror: :func:`check_vendors` does it later, with the same format.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from syncd.configbase import Dec, Section, _to_decimal, dotted, format_errors

Rounding = Literal["up", "down_within_max", "none"]
Mode = Literal["off", "plan", "approve", "auto"]

PosDec = Annotated[Dec, Field(gt=0)]
NonNegDec = Annotated[Dec, Field(ge=0)]
VendorRef = Annotated[str, Field(min_length=1, max_length=500)]

AUTO = "auto"
SELECTORS = ("id", "name", "sku", "match")
QUANTITY_GROUP = ("max", "reorder_qty", "cover_days")


def fmt(value: Decimal | int) -> str:
    """Render a quantity without exponent or spurious trailing zeros: ``Decimal('12.50')`` -> ``12.5``."""
    d = Decimal(value)
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1)))
    return format(d.normalize(), "f")


def _min_value(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return AUTO
    try:
        number = _to_decimal(value)
    except ValueError as exc:
        raise ValueError(f'expected a number or "auto", got {value!r}') from exc
    if isinstance(number, Decimal) and number < 0:
        raise ValueError(f"must be at least 0 (got {value})")
    return number


class Alternate(Section):
    """An alternate vendor (name or QBO Id) and how much of one line it may take (no limit when unset)."""

    vendor: VendorRef
    max_qty: PosDec | None = None


class RuleParams(Section):
    """Reorder parameters; every field is optional so rules can inherit from ``[reorder.defaults]``."""

    # "auto" or a number >= 0; the before-validator converts and checks, so the union never reports twice.
    min: Decimal | Literal["auto"] | None = None
    reorder_point: Decimal | Literal["auto"] | None = None
    max: PosDec | None = None
    reorder_qty: PosDec | None = None
    multiple: PosDec | None = None
    moq: NonNegDec | None = None
    rounding: Rounding | None = None
    lead_time_days: Annotated[StrictInt, Field(ge=0)] | None = None
    safety_stock: NonNegDec | None = None
    demand_window_days: Annotated[StrictInt, Field(ge=1)] | None = None
    cover_days: PosDec | None = None
    vendor: VendorRef | None = None
    max_qty: PosDec | None = None
    alternates: tuple[Alternate, ...] | None = None
    use_qbo_reorder_point: bool | None = None

    @field_validator("min", "reorder_point", mode="before")
    @classmethod
    def _auto_or_number(cls, value: Any) -> Any:
        return _min_value(value)

    @property
    def min_key(self) -> str | None:
        """Which spelling of the reorder point this table uses (``min`` or ``reorder_point``), if any."""
        if self.min is not None:
            return "min"
        if self.reorder_point is not None:
            return "reorder_point"
        return None

    @property
    def reorder_min(self) -> Decimal | Literal["auto"] | None:
        """The reorder point whichever key spelled it."""
        return self.min if self.min is not None else self.reorder_point

    def sets(self, key: str) -> bool:
        """True when this table itself sets ``key`` (``min`` covers both spellings)."""
        if key == "min":
            return self.min_key is not None
        return getattr(self, key) is not None


class Rule(RuleParams):
    """A ``[[reorder.rule]]``: exactly one selector plus parameters."""

    id: Annotated[str, Field(min_length=1)] | None = None
    name: Annotated[str, Field(min_length=1)] | None = None
    sku: Annotated[str, Field(min_length=1)] | None = None
    match: Annotated[str, Field(min_length=1)] | None = None

    @property
    def selector(self) -> tuple[str, str]:
        """``(kind, value)`` of the rule's selector; valid only on a loaded config (exactly one is set)."""
        for key in SELECTORS:
            value = getattr(self, key)
            if value is not None:
                return key, value
        raise ValueError("rule has no selector")


class Merged:
    """A rule's parameters after inheritance from defaults, remembering where each value came from."""

    def __init__(self, rule: RuleParams, rule_prefix: str, defaults: RuleParams | None) -> None:
        self.values: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        quantity_own = any(rule.sets(k) for k in QUANTITY_GROUP)
        for key in RuleParams.model_fields:
            if key == "reorder_point":
                continue
            own_key = rule.min_key if key == "min" else key
            if rule.sets(key):
                self.values[key] = rule.reorder_min if key == "min" else getattr(rule, key)
                self.sources[key] = f"{rule_prefix}.{own_key}"
                continue
            if defaults is None or (key in QUANTITY_GROUP and quantity_own) or not defaults.sets(key):
                self.values[key] = None
                continue
            self.values[key] = defaults.reorder_min if key == "min" else getattr(defaults, key)
            self.sources[key] = f"reorder.defaults.{defaults.min_key if key == 'min' else key}"

    def get(self, key: str) -> Any:
        return self.values.get(key)


class ReorderConfig(Section):
    """``[reorder]``.

    ``mode``: ``off`` (nothing computed), ``plan`` (report only), ``approve`` (POs stored pending until
    approved; a PO whose total is strictly below ``auto_approve_below`` is approved at once), ``auto``
    (pushed at once). ``ap_account``: AP account name or Id; when unset the company's only AP account is used.
    ``memo``: text for the PO's vendor-visible ``Memo``.
    """

    mode: Mode = "plan"
    auto_approve_below: PosDec | None = None
    ap_account: Annotated[str, Field(min_length=1)] | None = None
    memo: Annotated[str, Field(max_length=4000)] | None = None
    defaults: RuleParams = RuleParams()
    rule: tuple[Rule, ...] = ()

    @model_validator(mode="after")
    def _cross_checks(self) -> ReorderConfig:
        problems: list[InitErrorDetails] = []

        def report(loc: tuple[Any, ...], message: str, value: Any) -> None:
            problems.append(
                InitErrorDetails(
                    type=PydanticCustomError("reorder_rule", "{message}", {"message": message}),
                    loc=loc,
                    input=value,
                )
            )

        _check_table(self.defaults, ("defaults",), None, report)
        first_seen: dict[tuple[str, str], int] = {}
        for i, rule in enumerate(self.rule):
            chosen = [k for k in SELECTORS if getattr(rule, k) is not None]
            if len(chosen) != 1:
                got = ", ".join(chosen) if chosen else "none"
                report(("rule", i), f"needs exactly one of id, name, sku, match (got {got})", None)
            else:
                kind, value = rule.selector
                norm = value if kind == "id" else value.casefold()
                if (kind, norm) in first_seen:
                    j = first_seen[(kind, norm)]
                    first = getattr(self.rule[j], kind)
                    report(("rule", i, kind), f"duplicate of reorder.rule[{j}].{kind} = {first!r}", value)
                else:
                    first_seen[(kind, norm)] = i
            _check_table(rule, ("rule", i), self.defaults, report)
        if problems:
            raise ValidationError.from_exception_data("ReorderConfig", problems)
        return self


def _check_table(
    table: RuleParams, prefix: tuple[Any, ...], defaults: RuleParams | None, report: Any
) -> None:
    """Cross-field checks of one table (defaults or a rule merged over defaults); errors at this table's
    keys."""
    if table.min is not None and table.reorder_point is not None:
        report(
            (*prefix, "reorder_point"),
            "give either min or reorder_point, not both (same setting)",
            table.reorder_point,
        )
    if table.max is not None and table.reorder_qty is not None:
        report(
            (*prefix, "reorder_qty"),
            "give either max (order-up-to) or reorder_qty (fixed quantity), not both",
            table.reorder_qty,
        )
    if table.cover_days is not None and (table.max is not None or table.reorder_qty is not None):
        other = "max" if table.max is not None else "reorder_qty"
        report(
            (*prefix, "cover_days"),
            f"cover_days computes max from demand; give either {other} or cover_days",
            table.cover_days,
        )
    seen_vendors = {table.vendor.casefold()} if table.vendor else set()
    for j, alt in enumerate(table.alternates or ()):
        if alt.vendor.casefold() in seen_vendors:
            report((*prefix, "alternates", j, "vendor"), f"vendor {alt.vendor!r} is listed twice", alt.vendor)
        seen_vendors.add(alt.vendor.casefold())

    where = dotted(("reorder", *prefix))
    merged = Merged(table, where, defaults)

    def key_for(*candidates: str) -> tuple[Any, ...]:
        # Report at the first candidate key this table sets itself, so the admin edits the right line.
        for key in candidates:
            if table.sets(key):
                return (*prefix, table.min_key if key == "min" else key)
        return prefix

    low, high = merged.get("min"), merged.get("max")
    if isinstance(low, Decimal) and high is not None and high <= low:
        loc = key_for("max", "min")
        if loc[-1] == "max":
            src = "" if merged.sources["min"].startswith(where) else f" from {merged.sources['min']}"
            report(loc, f"must be greater than min (got {fmt(high)} <= {fmt(low)}{src})", high)
        elif loc != prefix:
            report(
                loc,
                f"must be less than max (got {fmt(low)} >= {fmt(high)} from {merged.sources['max']})",
                low,
            )
    if low == AUTO and merged.get("lead_time_days") is None:
        report(
            key_for("min", "lead_time_days"),
            '"auto" needs lead_time_days (in this table or in reorder.defaults)',
            AUTO,
        )
    # Defaults may hold a cover_days for the rules that say "auto"; a rule (or a numeric min) may not.
    cover = merged.get("cover_days")
    if cover is not None and low != AUTO and (isinstance(low, Decimal) or defaults is not None):
        loc = key_for("cover_days", "min")
        if loc[-1] == "cover_days":
            report(loc, 'cover_days only applies with reorder_point = "auto"', cover)
        elif loc != prefix:
            report(
                loc,
                f'cover_days (from {merged.sources["cover_days"]}) only applies with reorder_point = "auto";'
                " set max or reorder_qty here",
                low,
            )


def config_errors(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> list[str]:
    """Format every error of ``exc`` as ``<dotted key>: <message>`` (the loader's shared formatter).

    ``prefix`` is prepended to each location (pass ``("reorder",)`` when ``exc`` came from validating the
    section alone; errors raised through the whole config already carry it).
    """
    return format_errors(exc, prefix)


def find_vendor(ref: str, vendors: Mapping[str, str]) -> tuple[str, str] | None:
    """Resolve a vendor written in config (QBO Id, or DisplayName case-insensitively) to ``(id, name)``.

    ``vendors`` maps vendor Id -> DisplayName (active vendors of the mirror). An Id wins over a name; a name
    that matches several vendors case-insensitively only resolves on an exact-case match.
    """
    if ref in vendors:
        return ref, vendors[ref]
    exact = [vid for vid, name in vendors.items() if name == ref]
    if len(exact) == 1:
        return exact[0], vendors[exact[0]]
    folded = [vid for vid, name in vendors.items() if name.casefold() == ref.casefold()]
    if len(folded) == 1:
        return folded[0], vendors[folded[0]]
    return None


def check_vendors(config: ReorderConfig, vendors: Mapping[str, str]) -> list[str]:
    """Every vendor named in ``[reorder]`` that the mirror does not know, as ``<dotted key>: unknown vendor
    ...``.

    ``vendors`` maps vendor Id -> DisplayName. Pure: the caller reads the mirror.
    """
    tables: list[tuple[tuple[Any, ...], RuleParams]] = [(("reorder", "defaults"), config.defaults)]
    tables += [(("reorder", "rule", i), rule) for i, rule in enumerate(config.rule)]
    out: list[str] = []
    for prefix, table in tables:
        refs: list[tuple[tuple[Any, ...], str]] = []
        if table.vendor is not None:
            refs.append(((*prefix, "vendor"), table.vendor))
        refs += [
            ((*prefix, "alternates", j, "vendor"), a.vendor) for j, a in enumerate(table.alternates or ())
        ]
        for loc, ref in refs:
            if find_vendor(ref, vendors) is None:
                out.append(
                    f"{dotted(loc)}: unknown vendor {ref!r} (no active QBO vendor has this name or Id)"
                )
    return out
