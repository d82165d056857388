"""Which reorder rule applies to an item, and the parameters it ends up with.

Contract of :func:`resolve_rule` (pure):

* Precedence: a rule selecting the item by ``id`` (exact QBO Id), then by ``name`` (case-insensitive), then by
  ``sku`` (case-insensitive), then the ``match`` globs in file order (case-insensitive ``fnmatch`` against the
  name *or* the SKU; the first match wins), then ``[reorder.defaults]`` alone.
* The chosen rule inherits unset parameters from ``[reorder.defaults]`` (see :mod:`syncd.rules.config`).
* Reorder point: the rule's ``min``/``reorder_point`` (``"auto"`` = computed from demand); when it sets none
  and ``use_qbo_reorder_point`` (default true) is on, the item's own QBO ``ReorderPoint``.
* Vendor: the matched rule's ``vendor`` > the item's ``PrefVendorRef`` > ``reorder.defaults.vendor``
  (``max_qty`` and ``alternates`` inherit field by field and ``max_qty`` limits whichever vendor is primary).
* The result is :class:`NotReordered` (with a reason an admin can act on) when the item ends up without a
  reorder point, or without a way to size the order (no ``max``, ``reorder_qty`` or, for ``"auto"``,
  ``cover_days``), or when a QBO ``ReorderPoint`` is not below the inherited ``max``. Such an item is simply
  never reordered.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fnmatch import fnmatchcase

from syncd.rules.config import AUTO, Merged, ReorderConfig, Rule, fmt

DEFAULT_ROUNDING = "up"
DEFAULT_DEMAND_WINDOW_DAYS = 90


@dataclass(frozen=True)
class ItemFacts:
    """What the rules read of a QBO item: Id, Name, Sku, ReorderPoint, PrefVendorRef, PurchaseCost."""

    id: str
    name: str
    sku: str | None = None
    reorder_point: Decimal | None = None
    pref_vendor_id: str | None = None
    purchase_cost: Decimal | None = None


@dataclass(frozen=True)
class AlternateVendor:
    """An alternate vendor reference as written in config, with its per-line limit (``None`` = unlimited)."""

    vendor: str
    max_qty: Decimal | None


@dataclass(frozen=True)
class EffectiveRule:
    """Fully resolved parameters for one item; ``sources`` says where each set value came from."""

    item_id: str
    source: str
    min: Decimal | None  # None iff auto_min
    auto_min: bool
    max: Decimal | None = None
    reorder_qty: Decimal | None = None
    cover_days: Decimal | None = None
    multiple: Decimal | None = None
    moq: Decimal | None = None
    rounding: str = DEFAULT_ROUNDING
    lead_time_days: int = 0
    safety_stock: Decimal = Decimal(0)
    demand_window_days: int = DEFAULT_DEMAND_WINDOW_DAYS
    vendor: str | None = None
    max_qty: Decimal | None = None
    alternates: tuple[AlternateVendor, ...] = ()
    sources: tuple[tuple[str, str], ...] = ()

    def source_of(self, key: str) -> str:
        """Where ``key`` was set (a dotted TOML key, ``QBO ReorderPoint``, ``QBO PrefVendorRef``) or
        ``default``."""
        return dict(self.sources).get(key, "default")

    def summary(self) -> str:
        """One line naming the rule and every parameter that shapes the quantity."""
        parts = [f"min {'auto' if self.auto_min else fmt(self.min or 0)} ({self.source_of('min')})"]
        for key in ("max", "reorder_qty", "cover_days", "multiple", "moq", "safety_stock"):
            value = getattr(self, key)
            if value is not None and not (key == "safety_stock" and value == 0):
                parts.append(f"{key} {fmt(value)}")
        parts.append(f"rounding {self.rounding}")
        parts.append(f"lead_time_days {self.lead_time_days}")
        if self.auto_min:
            parts.append(f"demand_window_days {self.demand_window_days}")
        return f"{self.source}: " + ", ".join(parts)


@dataclass(frozen=True)
class NotReordered:
    """The item is not reordered; ``reason`` tells the admin why and what to set."""

    item_id: str
    reason: str


def _select(item: ItemFacts, config: ReorderConfig) -> tuple[int, Rule] | None:
    name = item.name.casefold()
    sku = item.sku.casefold() if item.sku else None
    rules = list(enumerate(config.rule))
    for i, rule in rules:
        if rule.id is not None and rule.id == item.id:
            return i, rule
    for i, rule in rules:
        if rule.name is not None and rule.name.casefold() == name:
            return i, rule
    if sku is not None:
        for i, rule in rules:
            if rule.sku is not None and rule.sku.casefold() == sku:
                return i, rule
    for i, rule in rules:
        if rule.match is not None:
            pattern = rule.match.casefold()
            if fnmatchcase(name, pattern) or (sku is not None and fnmatchcase(sku, pattern)):
                return i, rule
    return None


def resolve_rule(item: ItemFacts, config: ReorderConfig) -> EffectiveRule | NotReordered:
    """The effective rule for ``item`` or why it is not reordered (see the module docstring)."""
    chosen = _select(item, config)
    if chosen is None:
        merged = Merged(config.defaults, "reorder.defaults", None)
        source = "reorder.defaults (no rule matches)"
        rule_sets_vendor = False
    else:
        i, rule = chosen
        kind, value = rule.selector
        merged = Merged(rule, f"reorder.rule[{i}]", config.defaults)
        source = f"reorder.rule[{i}] ({kind} = {value!r})"
        rule_sets_vendor = rule.vendor is not None
    sources = dict(merged.sources)

    low = merged.get("min")
    use_qbo = merged.get("use_qbo_reorder_point")
    if low is None and (use_qbo is None or use_qbo) and item.reorder_point is not None:
        low = item.reorder_point
        sources["min"] = "QBO ReorderPoint"
    if low is None:
        why = "no reorder rule matches" if chosen is None else f"{source} sets no min"
        qbo = "use_qbo_reorder_point is off" if use_qbo is False else "the item has no QBO ReorderPoint"
        return NotReordered(item.id, f"{why} and {qbo}: not reordered")

    high, fixed, cover = merged.get("max"), merged.get("reorder_qty"), merged.get("cover_days")
    if low == AUTO:
        if high is None and fixed is None and cover is None:
            return NotReordered(
                item.id, f'{source}: reorder_point "auto" needs max, reorder_qty or cover_days'
            )
    else:
        if high is None and fixed is None:
            return NotReordered(
                item.id,
                f"{source}: min {fmt(low)} ({sources['min']}) but no max or reorder_qty to size the order"
                " (set one in the rule or in reorder.defaults)",
            )
        if high is not None and high <= low:
            return NotReordered(
                item.id,
                f"{source}: max {fmt(high)} ({sources['max']}) is not greater than min {fmt(low)}"
                f" ({sources['min']})",
            )
        cover = None  # only meaningful with "auto"; config load rejects it where it can see it

    if rule_sets_vendor:
        vendor = merged.get("vendor")
    elif item.pref_vendor_id:
        vendor = item.pref_vendor_id
        sources["vendor"] = "QBO PrefVendorRef"
    else:
        vendor = config.defaults.vendor
        if vendor is not None:
            sources["vendor"] = "reorder.defaults.vendor"
        else:
            sources.pop("vendor", None)
    alternates = tuple(AlternateVendor(a.vendor, a.max_qty) for a in (merged.get("alternates") or ()))

    return EffectiveRule(
        item_id=item.id,
        source=source,
        min=None if low == AUTO else low,
        auto_min=low == AUTO,
        max=high,
        reorder_qty=fixed,
        cover_days=cover,
        multiple=merged.get("multiple"),
        moq=merged.get("moq"),
        rounding=merged.get("rounding") or DEFAULT_ROUNDING,
        lead_time_days=merged.get("lead_time_days") or 0,
        safety_stock=merged.get("safety_stock") or Decimal(0),
        demand_window_days=merged.get("demand_window_days") or DEFAULT_DEMAND_WINDOW_DAYS,
        vendor=vendor,
        max_qty=merged.get("max_qty"),
        alternates=alternates,
        sources=tuple(sorted(sources.items())),
    )
