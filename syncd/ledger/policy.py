"""Fill policy: the order in which stock goes to demand, and per-item backorder rules. Pure values.

A :class:`FillPolicy` is built from the ``[backorders]`` TOML section (see :mod:`syncd.ledger.config`) or
directly in tests. ``FillPolicy()`` is plain FIFO, backorders allowed, no default lead time.

Fill order (``sort_key``)
    1. priority class: lines of customers matched by a priority rule come first, lowest ``rank`` first (a line
       matched by several rules takes its best rank; equal ranks tie and fall through); unmatched lines last;
    2. ``TxnDate``;
    3. document: QBO ``Id`` compared numerically when it is all digits (Ids grow with creation), then doc
    type;
    4. line ``Id`` (numerically when all digits).
    The key is total over distinct lines, so sorting is deterministic whatever the input order.

Item rules (``override_for``)
    The first rule that matches decides, with the precedence of ``[reorder]`` rules
    (:mod:`syncd.rules.match`): ``id`` (exact QBO Id), then ``name``, then ``sku`` (both case-insensitive),
    then ``match`` globs in file order (case-insensitive, against the name *or* the SKU). Settings the
    matching rule leaves unset fall back to the section defaults; rules are not merged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import translate
from functools import lru_cache
from typing import Literal

from syncd.ledger.model import DemandLine, ItemInput

Selector = Literal["id", "sku", "name", "match"]
_SELECTOR_PRECEDENCE: tuple[Selector, ...] = ("id", "name", "sku", "match")


def natural(text: str) -> tuple[int, int, str]:
    """Sort key putting all-digit strings first, in numeric order ("9" < "10"), then other strings."""
    # isdecimal, not isdigit: isdigit also accepts characters such as "²" that int() cannot parse.
    if text.isdecimal():
        return (0, int(text), text)
    return (1, 0, text)


@lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(translate(pattern), re.IGNORECASE)


def glob_matches(pattern: str, text: str | None) -> bool:
    """Shell-style glob (``*``, ``?``, ``[ab]``) over the whole text, case-insensitive."""
    return text is not None and _glob(pattern).match(text) is not None


@dataclass(frozen=True, slots=True)
class CustomerPriority:
    """Lines of matching customers are filled before others; lower ``rank`` first.

    Exactly one of ``customer_id`` (exact QBO Id) or ``customer`` (glob on the customer's display name) is
    set.
    """

    rank: int
    customer_id: str | None = None
    customer: str | None = None

    def matches(self, line: DemandLine) -> bool:
        if self.customer_id is not None:
            return line.customer_id == self.customer_id
        return self.customer is not None and glob_matches(self.customer, line.customer_name)


@dataclass(frozen=True, slots=True)
class ItemOverride:
    """Per-item settings chosen by ``selector``.

    ``id`` is exact; ``name``/``sku`` are case-insensitive; ``match`` is a case-insensitive glob on the name
    or the SKU.
    """

    selector: Selector
    value: str
    allow_backorder: bool | None = None
    lead_time_days: int | None = None

    def matches(self, item: ItemInput) -> bool:
        if self.selector == "id":
            return item.item_id == self.value
        if self.selector == "name":
            return item.item_name.casefold() == self.value.casefold()
        if self.selector == "sku":
            return item.sku is not None and item.sku.casefold() == self.value.casefold()
        return glob_matches(self.value, item.item_name) or glob_matches(self.value, item.sku)


@dataclass(frozen=True)
class FillPolicy:
    """How stock is allocated and which items may be backordered. Deterministic and side-effect free."""

    priorities: tuple[CustomerPriority, ...] = ()
    overrides: tuple[ItemOverride, ...] = ()
    default_allow_backorder: bool = True
    default_lead_time_days: int | None = None

    def priority_rank(self, line: DemandLine) -> int | None:
        """Best (lowest) rank of the priority rules matching the line's customer, or None."""
        ranks = [p.rank for p in self.priorities if p.matches(line)]
        return min(ranks) if ranks else None

    def sort_key(self, line: DemandLine) -> tuple[object, ...]:
        """Fill-order key (see module docstring): smaller keys get stock first."""
        rank = self.priority_rank(line)
        klass = (0, rank) if rank is not None else (1, 0)
        return (klass, line.txn_date, natural(line.doc_id), line.doc_type, natural(line.line_id))

    @property
    def date_first(self) -> bool:
        """Whether fill order starts with TxnDate (no priority rules): then the lines dated on or after any day
        form a suffix of the fill order, which a reader may take alone (see :class:`syncd.ledger.ItemInput`)."""
        return not self.priorities

    def fill_order_key(self) -> Callable[[DemandLine], tuple[object, ...]]:
        """A key function ordering lines exactly as :meth:`sort_key` does, cheaper when there are no priorities.

        Without priority rules every line has the same priority class, so it is left out of the key.
        """
        if self.priorities:
            return self.sort_key

        def key(line: DemandLine) -> tuple[object, ...]:
            doc_id = line.doc_id
            line_id = line.line_id
            return (
                line.txn_date,
                (0, int(doc_id), doc_id) if doc_id.isdecimal() else (1, 0, doc_id),
                line.doc_type,
                (0, int(line_id), line_id) if line_id.isdecimal() else (1, 0, line_id),
            )

        return key

    def override_for(self, item: ItemInput) -> ItemOverride | None:
        """The item rule that decides for ``item`` (precedence id > name > sku > first matching glob)."""
        for selector in _SELECTOR_PRECEDENCE:
            for rule in self.overrides:
                if rule.selector == selector and rule.matches(item):
                    return rule
        return None

    def allow_backorder(self, item: ItemInput) -> bool:
        rule = self.override_for(item)
        if rule is not None and rule.allow_backorder is not None:
            return rule.allow_backorder
        return self.default_allow_backorder

    def lead_time_days(self, item: ItemInput) -> int | None:
        """Effective lead time: the item rule's, else the item's (preferred vendor), else the default."""
        rule = self.override_for(item)
        if rule is not None and rule.lead_time_days is not None:
            return rule.lead_time_days
        if item.lead_time_days is not None and item.lead_time_days >= 0:
            return item.lead_time_days
        return self.default_lead_time_days
