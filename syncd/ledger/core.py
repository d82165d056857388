"""The backorder ledger's pure core: allocation, ETA pegging and state carry-over.

Three passes, each a plain function of its inputs (no database, no HTTP, no clock: ``now`` is passed in):

``allocate(item, policy) -> Allocation``
    Time-free. Sorts the item's demand lines in fill order and backorders the *last* ``S`` units
    (``S = max(0, -QtyOnHand)``), so ``sum(backordered) == min(S, total demand)`` and no line is short
    while a later one has stock. Backordered units, taken in fill order, are pegged to open PO lines sorted
    by expected date (DueDate, else PO date + vendor lead time, else unknown and last; ties by PO number, PO
    Id, line Id).
``settle(allocation, item, policy, previous, now, today) -> dict[LineKey, LineState]``
    Turns the allocation into states for the short lines, carrying the episode facts over from ``previous``:
    ``short_since`` (``now`` when a line opens), the estimate basis, the overdue and oversold flags.
``diff(previous, current, live, now) -> list[LedgerEvent]`` (in :mod:`syncd.ledger.events`)

:func:`recompute` chains them for the items a change set touched and leaves every other item's states as they
were, which is why an incremental recompute equals a full one (property-tested). Bad input records become
:class:`~syncd.ledger.model.LedgerError` values and are left out; the rest is computed.

Time dependence, and what the caller must do about it
    Only ``overdue`` (a PO ETA before ``today``) and an estimate that ``today`` has overtaken (re-estimated
    from ``today``) change with the calendar alone. :func:`items_needing_review` lists the items where that
    happened so a daily pass can add them to the touched set; with that, nothing else needs recomputing on an
    idle day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from syncd.ledger.events import diff
from syncd.ledger.model import (
    ZERO,
    DemandLine,
    EtaKind,
    ExpectedKind,
    ItemInput,
    LedgerError,
    LedgerEvent,
    LineAllocation,
    LineKey,
    LineState,
    Peg,
    SupplyLine,
)
from syncd.ledger.policy import FillPolicy, natural

__all__ = ["Allocation", "Recomputed", "allocate", "covers", "diff", "items_needing_review", "recompute", "settle"]


@dataclass(frozen=True, slots=True)
class Allocation:
    """Result of :func:`allocate` for one item. ``lines`` holds every valid demand line, in fill order.

    ``valid`` is False when the item itself is unusable (e.g. QtyOnHand not a finite Decimal); then ``lines``
    is empty and :func:`recompute` keeps the item's previous states untouched.
    """

    item_id: str
    shortage: Decimal
    lines: tuple[LineAllocation, ...]
    errors: tuple[LedgerError, ...]
    valid: bool = True

    @property
    def backordered(self) -> Decimal:
        return sum((a.backordered for a in self.lines), ZERO)


class Recomputed(NamedTuple):
    """Result of :func:`recompute`: the whole new state map, the events to append, and input errors."""

    states: dict[LineKey, LineState]
    events: list[LedgerEvent]
    errors: list[LedgerError]


def _bad_quantity(value: object) -> str | None:
    if not isinstance(value, Decimal) or isinstance(value, bool):
        return f"must be a Decimal, got {type(value).__name__}"
    if not value.is_finite():
        return f"must be finite, got {value}"
    if value < 0:
        return f"must not be negative, got {value}"
    return None


def _valid_demand(item: ItemInput) -> tuple[list[DemandLine], list[LedgerError]]:
    lines: list[DemandLine] = []
    errors: list[LedgerError] = []
    seen: set[LineKey] = set()
    item_id = item.item_id
    for line in item.demand:
        qty = line.qty
        key = line.key
        # Fast path for the usual line (right item, a finite non-negative Decimal, first time seen); the
        # checks below are the same as _bad_quantity's, in the same order, so the errors are unchanged.
        if (
            line.item_id == item_id
            and type(qty) is Decimal
            and qty.is_finite()
            and qty >= 0
            and key not in seen
        ):
            seen.add(key)
            lines.append(line)
            continue
        ref = f"{line.document} line {line.line_id}"
        problem = _bad_quantity(qty)
        if line.item_id != item_id:
            errors.append(
                LedgerError(
                    "wrong_item",
                    item_id,
                    ref,
                    f"line is for item {line.item_id}, not {item_id}",
                    key,
                )
            )
        elif problem is not None:
            code = "negative_qty" if problem.startswith("must not be negative") else "bad_qty"
            errors.append(LedgerError(code, item_id, ref, f"Qty {problem}", key))
        elif key in seen:
            errors.append(LedgerError("duplicate_line", item_id, ref, "line appears twice; kept the first", key))
        else:  # a Decimal subclass that passed _bad_quantity
            seen.add(key)
            lines.append(line)
    return lines, errors


def _valid_supply(item: ItemInput) -> tuple[list[SupplyLine], list[LedgerError]]:
    supply: list[SupplyLine] = []
    errors: list[LedgerError] = []
    seen: set[tuple[str, str]] = set()
    for po in item.supply:
        problem = _bad_quantity(po.remaining)
        if problem is not None:
            code = "negative_remaining" if problem.startswith("must not be negative") else "bad_qty"
            errors.append(LedgerError(code, item.item_id, po.ref, f"remaining quantity {problem}"))
        elif (po.po_id, po.po_line_id) in seen:
            errors.append(
                LedgerError(
                    "duplicate_po_line", item.item_id, po.ref, "PO line appears twice; kept the first"
                )
            )
        else:
            seen.add((po.po_id, po.po_line_id))
            if po.remaining > 0:
                supply.append(po)
    return supply, errors


def covers(item: ItemInput) -> bool:
    """Whether ``item.demand`` holds at least the shortage ``S`` in valid lines, so it may be a partial (suffix)
    input (see :class:`~syncd.ledger.model.ItemInput`). Lines the core rejects do not count. An unusable
    QtyOnHand counts as covered: :func:`allocate` rejects the item whatever its lines."""
    qoh = item.qty_on_hand
    if not isinstance(qoh, Decimal) or not qoh.is_finite():
        return True
    need = max(ZERO, -qoh)
    have = ZERO
    for line in _valid_demand(item)[0]:
        if have >= need:
            break
        have += line.qty
    return have >= need


def expected_date(po: SupplyLine, fallback_lead_days: int | None) -> tuple[date | None, ExpectedKind]:
    """When a PO line is expected: its DueDate, else its date plus the vendor's (or the item's) lead time."""
    if po.due_date is not None:
        return po.due_date, "due"
    lead = (
        po.lead_time_days if po.lead_time_days is not None and po.lead_time_days >= 0 else fallback_lead_days
    )
    if lead is None:
        return None, "unknown"
    return po.txn_date + timedelta(days=lead), "lead_time"


def allocate(item: ItemInput, policy: FillPolicy) -> Allocation:
    """Backorder the last ``S`` units in fill order and peg them to open PO lines. Pure and deterministic."""
    if not isinstance(item.qty_on_hand, Decimal) or not item.qty_on_hand.is_finite():
        message = f"QtyOnHand must be a finite Decimal, got {item.qty_on_hand!r}"
        error = LedgerError("bad_qty_on_hand", item.item_id, f"item {item.item_name}", message)
        return Allocation(item.item_id, ZERO, (), (error,), valid=False)
    lines, errors = _valid_demand(item)
    supply, supply_errors = _valid_supply(item)
    errors.extend(supply_errors)
    lead = policy.lead_time_days(item)

    ordered = sorted(lines, key=policy.fill_order_key())
    shortage = max(ZERO, -item.qty_on_hand)
    short = [ZERO] * len(ordered)
    left = shortage
    for i in range(len(ordered) - 1, -1, -1):
        if left <= 0:
            break
        short[i] = min(left, ordered[i].qty)
        left -= short[i]

    # Supply queue: earliest expected first, unknown dates last; names break ties so the order is total.
    queue = [(po, *expected_date(po, lead)) for po in supply]
    queue.sort(
        key=lambda q: (
            q[1] is None,
            q[1] or date.min,
            natural(q[0].po_number or ""),
            natural(q[0].po_id),
            natural(q[0].po_line_id),
        )
    )
    left_on_po = [po.remaining for po, _, _ in queue]
    head = 0
    base = item.rank_base
    result: list[LineAllocation] = []
    for rank, (line, bo) in enumerate(zip(ordered, short, strict=True)):
        pegs: list[Peg] = []
        need = bo
        while need > 0 and head < len(queue):
            po, when, kind = queue[head]
            take = min(need, left_on_po[head])
            pegs.append(Peg(po.po_id, po.po_number, po.po_line_id, po.vendor_id, take, when, kind))
            need -= take
            left_on_po[head] -= take
            if left_on_po[head] <= 0:
                head += 1
        result.append(LineAllocation(line, base + rank, bo, tuple(pegs)))
    return Allocation(item.item_id, shortage, tuple(result), tuple(errors))


def _eta(
    alloc: LineAllocation, lead: int | None, prev: LineState | None, today: date
) -> tuple[date | None, EtaKind, date | None]:
    """(eta, eta_kind, estimate_basis) for a short line."""
    if alloc.uncovered == ZERO:
        last = alloc.pegged[-1]
        return (last.expected, "po", None) if last.expected is not None else (None, "unknown", None)
    if lead is None:
        return None, "unknown", None
    basis = today
    # An estimate is kept from the day it was made until the calendar overtakes it, so it does not move daily.
    if (
        prev is not None
        and prev.eta_kind == "estimate"
        and prev.estimate_basis is not None
        and prev.estimate_basis + timedelta(days=lead) >= today
    ):
        basis = prev.estimate_basis
    return basis + timedelta(days=lead), "estimate", basis


def settle(
    allocation: Allocation,
    item: ItemInput,
    policy: FillPolicy,
    previous: Mapping[LineKey, LineState],
    now: datetime,
    today: date,
) -> dict[LineKey, LineState]:
    """States of one item's short lines, carrying episode facts over from ``previous`` (same item only)."""
    allow = policy.allow_backorder(item)
    lead = policy.lead_time_days(item)
    states: dict[LineKey, LineState] = {}
    for alloc in allocation.lines:
        if alloc.backordered <= 0:
            continue
        line = alloc.line
        prev = previous.get(line.key)
        if prev is not None and prev.item_id != item.item_id:
            prev = None  # the line moved to this item: a new episode
        eta, kind, basis = _eta(alloc, lead, prev, today)
        states[line.key] = LineState(
            key=line.key,
            item_id=item.item_id,
            item_name=item.item_name,
            customer_id=line.customer_id,
            customer_name=line.customer_name,
            doc_number=line.doc_number,
            txn_date=line.txn_date,
            ordered=line.qty,
            backordered=alloc.backordered,
            fill_rank=alloc.fill_rank,
            short_since=prev.short_since if prev is not None else now,
            eta=eta,
            eta_kind=kind,
            pegged=alloc.pegged,
            estimate_basis=basis,
            overdue_eta=eta if kind == "po" and eta is not None and eta < today else None,
            oversold=not allow,
        )
    return states


def items_needing_review(states: Mapping[LineKey, LineState], today: date) -> frozenset[str]:
    """Items whose state would change on ``today`` with no change in the mirror.

    That is: a PO ETA before ``today`` not yet flagged overdue, or an estimated ETA ``today`` has overtaken.
    Add them to the touched set of a recompute (e.g. once a day) to keep incremental equal to full.
    """
    due: set[str] = set()
    for state in states.values():
        if state.eta is None or state.eta >= today:
            continue
        if state.eta_kind == "estimate" or (state.eta_kind == "po" and state.overdue_eta != state.eta):
            due.add(state.item_id)
    return frozenset(due)


def recompute(
    items: Iterable[ItemInput],
    previous: Mapping[LineKey, LineState],
    policy: FillPolicy,
    now: datetime,
    *,
    today: date | None = None,
    dropped: Iterable[str] = (),
) -> Recomputed:
    """Recompute the touched ``items`` and return the whole new state map plus events and errors.

    Contract:
    - ``items`` are the complete inputs of every touched item: all its live demand lines and open PO lines. An
      edit that moves a line between items touches both. Item ids must be distinct (``ValueError`` otherwise).
    - ``dropped`` are item ids no longer tracked (inactivated, not Inventory any more); their lines are
      cancelled. An id in both ``items`` and ``dropped`` is simply recomputed.
    - States of items neither in ``items`` nor ``dropped`` are returned unchanged (same objects).
    - An item whose input is unusable keeps its previous states; the problem is reported in ``errors``.
    - ``now`` must be aware; ``today`` defaults to ``now.date()`` (pass the company's local date explicitly).
    - ``previous`` is not modified. Events are ordered by item, then line key, then a fixed kind order.
    Recomputing with the same inputs, ``previous`` set to the result and the same ``now`` gives the same
    states and no events. After a config change, recompute every item.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    day = today if today is not None else now.date()
    item_list = sorted(items, key=lambda i: natural(i.item_id))
    ids = [i.item_id for i in item_list]
    if len(set(ids)) != len(ids):
        raise ValueError("recompute() got the same item twice")
    gone = sorted(set(dropped) - set(ids), key=natural)
    touched = set(ids) | set(gone)

    by_item: dict[str, dict[LineKey, LineState]] = {}
    states: dict[LineKey, LineState] = {}
    for key, state in previous.items():
        if state.item_id in touched:
            by_item.setdefault(state.item_id, {})[key] = state
        else:
            states[key] = state

    events: list[LedgerEvent] = []
    errors: list[LedgerError] = []
    for item in item_list:
        prev = by_item.get(item.item_id, {})
        allocation = allocate(item, policy)
        errors.extend(allocation.errors)
        if not allocation.valid:
            states.update(prev)
            continue
        current = settle(allocation, item, policy, prev, now, day)
        live = {a.line.key for a in allocation.lines} | item.live_elsewhere
        events.extend(diff(prev, current, live=live, now=now))
        states.update(current)
    for item_id in gone:
        events.extend(diff(by_item.get(item_id, {}), {}, live=(), now=now, reason="item no longer tracked"))
    return Recomputed(states, events, errors)
