"""Hypothesis properties of the backorder ledger (STYLE habit 11).

1. Per item, backordered total == min(max(0, -QtyOnHand), total demand).
2. No line later in fill order is filled (even partly) while an earlier one is short; fill order does not
depend
   on input order; pegs never exceed what a PO line has left, and PO ETAs never go backwards along fill order.
3. Recomputing from the same mirror (same ``now``) yields identical state and no events.
4. After any sequence of mirror changes, recomputing only the touched items (plus the items
   :func:`items_needing_review` names as the calendar moves) equals recomputing every item.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.ledger.core import allocate, covers, items_needing_review, recompute
from syncd.ledger.model import ZERO, DemandLine, DocType, ItemInput, LineKey, LineState, SupplyLine
from syncd.ledger.policy import CustomerPriority, FillPolicy, ItemOverride, Selector

SETTINGS = settings(max_examples=200, deadline=None)
EPOCH = date(2024, 3, 1)
START = datetime(2024, 3, 4, 8, 30, tzinfo=UTC)
CUSTOMERS = (("1", "Acme"), ("2", "Acme West"), ("3", "Bolt"), ("4", "Cogs"))
ITEM_IDS = ("1", "2", "3", "10")
DOC_TYPES: tuple[DocType, ...] = ("Invoice", "SalesReceipt")
SELECTORS: list[tuple[Selector, str]] = [("id", "1"), ("match", "SKU-1*"), ("name", "Item 3")]

quantities = st.one_of(st.integers(0, 8).map(Decimal), st.sampled_from([Decimal("0.5"), Decimal("2.5")]))
on_hand = st.one_of(st.integers(-25, 8).map(Decimal), st.sampled_from([Decimal("-3.5"), Decimal("1.5")]))
days = st.integers(0, 25).map(lambda n: EPOCH + timedelta(days=n))
leads = st.one_of(st.none(), st.integers(0, 20))


class Ids:
    """Fresh QBO-like Ids for documents and PO lines within one example."""

    def __init__(self) -> None:
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return str(self.n)


# Few doc ids, shared across doc types and lines, so every tie-break of the fill order is exercised; line ids
# come from a counter, so keys stay unique.
line_specs = st.tuples(
    st.sampled_from(DOC_TYPES),
    st.sampled_from(["1", "2", "9", "10"]),
    days,
    st.sampled_from(CUSTOMERS),
    quantities,
)
po_specs = st.tuples(st.sampled_from(["1", "2"]), days, quantities, st.one_of(st.none(), days), leads)
LineSpec = tuple[DocType, str, date, tuple[str, str], Decimal]
PoSpec = tuple[str, date, Decimal, date | None, int | None]
item_specs = st.tuples(on_hand, leads, st.lists(line_specs, max_size=6), st.lists(po_specs, max_size=3))


def demand_line(spec: LineSpec, ids: Ids, item_id: str) -> DemandLine:
    doc_type, doc_id, txn_date, (customer_id, name), qty = spec
    return DemandLine(
        doc_type=doc_type,
        doc_id=doc_id,
        line_id=ids.next(),
        txn_date=txn_date,
        customer_id=customer_id,
        customer_name=name,
        item_id=item_id,
        qty=qty,
    )


def supply_line(spec: PoSpec, ids: Ids) -> SupplyLine:
    po_line_id, txn_date, remaining, due, lead = spec
    po_id = ids.next()
    return SupplyLine(
        po_id=po_id,
        po_line_id=po_line_id,
        vendor_id="V1",
        txn_date=txn_date,
        remaining=remaining,
        due_date=due,
        po_number=f"P-{po_id}",
        lead_time_days=lead,
    )


def item_input(data: st.DataObject, ids: Ids, item_id: str) -> ItemInput:
    qoh, lead, lines, pos = data.draw(item_specs)
    return ItemInput(
        item_id=item_id,
        item_name=f"Item {item_id}",
        qty_on_hand=qoh,
        demand=tuple(demand_line(spec, ids, item_id) for spec in lines),
        supply=tuple(supply_line(spec, ids) for spec in pos),
        sku=f"SKU-{item_id}",
        lead_time_days=lead,
    )


@st.composite
def policies(draw: st.DrawFn) -> FillPolicy:
    priorities = tuple(
        draw(
            st.one_of(
                st.builds(
                    CustomerPriority,
                    rank=st.integers(1, 3),
                    customer_id=st.sampled_from([c for c, _ in CUSTOMERS]),
                ),
                st.builds(
                    CustomerPriority,
                    rank=st.integers(1, 3),
                    customer=st.sampled_from(["Acme*", "bolt", "*s"]),
                ),
            )
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    overrides = tuple(
        ItemOverride(
            selector=sel, value=value, allow_backorder=draw(st.booleans()), lead_time_days=draw(leads)
        )
        for sel, value in draw(st.lists(st.sampled_from(SELECTORS), max_size=2, unique=True))
    )
    return FillPolicy(
        priorities=priorities,
        overrides=overrides,
        default_allow_backorder=draw(st.booleans()),
        default_lead_time_days=draw(leads),
    )


def world(data: st.DataObject, ids: Ids) -> dict[str, ItemInput]:
    chosen = data.draw(st.lists(st.sampled_from(ITEM_IDS), min_size=1, max_size=4, unique=True))
    return {item_id: item_input(data, ids, item_id) for item_id in chosen}


# ---------------------------------------------------------------------------------------------- 1 and 2


@SETTINGS
@given(data=st.data(), policy=policies())
def test_backordered_total_is_min_of_shortage_and_demand(data: st.DataObject, policy: FillPolicy) -> None:
    items = world(data, Ids())
    result = recompute(items.values(), {}, policy, START)
    for item in items.values():
        expected = min(max(ZERO, -item.qty_on_hand), sum((d.qty for d in item.demand), ZERO))
        assert allocate(item, policy).backordered == expected
        assert (
            sum((s.backordered for s in result.states.values() if s.item_id == item.item_id), ZERO)
            == expected
        )


@SETTINGS
@given(data=st.data(), policy=policies())
def test_no_later_line_is_filled_while_an_earlier_one_is_short(
    data: st.DataObject, policy: FillPolicy
) -> None:
    item = item_input(data, Ids(), "1")
    allocation = allocate(item, policy)
    lines = allocation.lines
    assert [a.line for a in lines] == sorted(item.demand, key=policy.sort_key)
    first_short = next((i for i, a in enumerate(lines) if a.backordered > 0), len(lines))
    for a in lines[:first_short]:
        assert a.backordered == 0
    for a in lines[first_short + 1 :]:
        assert a.backordered == a.line.qty, "a line after a short one kept stock"

    shuffled = replace(
        item,
        demand=tuple(data.draw(st.permutations(item.demand))),
        supply=tuple(data.draw(st.permutations(item.supply))),
    )
    assert allocate(shuffled, policy) == allocation

    used: dict[tuple[str, str], Decimal] = {}
    for a in lines:
        assert sum((p.qty for p in a.pegged), ZERO) <= a.backordered
        for p in a.pegged:
            used[(p.po_id, p.po_line_id)] = used.get((p.po_id, p.po_line_id), ZERO) + p.qty
    for po in item.supply:
        assert used.get((po.po_id, po.po_line_id), ZERO) <= po.remaining

    states = recompute([item], {}, policy, START).states
    po_etas = [
        s.eta
        for s in sorted(states.values(), key=lambda s: s.fill_rank)
        if s.eta is not None and s.eta_kind == "po"
    ]
    assert po_etas == sorted(po_etas), "a later line expects its PO before an earlier line"


# ---------------------------------------------------------------------------------------------- 3


@SETTINGS
@given(data=st.data(), policy=policies(), hours=st.integers(0, 24 * 40))
def test_recompute_from_the_same_mirror_changes_nothing(
    data: st.DataObject, policy: FillPolicy, hours: int
) -> None:
    items = world(data, Ids())
    now = START + timedelta(hours=hours)
    first = recompute(items.values(), {}, policy, now)
    again = recompute(reversed(list(items.values())), first.states, policy, now)
    assert again.states == first.states
    assert again.events == []
    assert items_needing_review(first.states, now.date()) == frozenset()


# ---------------------------------------------------------------------------------------------- 4


def _change(data: st.DataObject, ids: Ids, items: dict[str, ItemInput]) -> tuple[set[str], set[str]]:
    """Apply one random mirror change in place; return (touched item ids, dropped item ids)."""
    kinds = [
        "qoh",
        "add_line",
        "void_line",
        "edit_qty",
        "move_line",
        "po_due",
        "po_receive",
        "po_add",
        "lead",
        "drop",
        "add_item",
    ]
    kind = data.draw(st.sampled_from(kinds))
    if kind == "add_item" or not items:
        free = [i for i in ITEM_IDS if i not in items]
        if not free:
            return set(), set()
        item_id = data.draw(st.sampled_from(free))
        items[item_id] = item_input(data, ids, item_id)
        return {item_id}, set()
    item_id = data.draw(st.sampled_from(sorted(items)))
    item = items[item_id]
    if kind == "drop":
        del items[item_id]
        return set(), {item_id}
    if kind == "qoh":
        items[item_id] = replace(item, qty_on_hand=data.draw(on_hand))
    elif kind == "lead":
        items[item_id] = replace(item, lead_time_days=data.draw(leads))
    elif kind == "add_line":
        items[item_id] = replace(
            item,
            demand=item.demand + (demand_line(data.draw(line_specs), ids, item_id),),
            qty_on_hand=item.qty_on_hand - data.draw(quantities),
        )
    elif kind == "po_add":
        items[item_id] = replace(item, supply=item.supply + (supply_line(data.draw(po_specs), ids),))
    elif kind in ("void_line", "edit_qty", "move_line") and item.demand:
        i = data.draw(st.integers(0, len(item.demand) - 1))
        line = item.demand[i]
        rest = item.demand[:i] + item.demand[i + 1 :]
        if kind == "void_line":
            items[item_id] = replace(item, demand=rest, qty_on_hand=item.qty_on_hand + line.qty)
        elif kind == "edit_qty":
            new = replace(line, qty=data.draw(quantities))
            items[item_id] = replace(
                item, demand=rest + (new,), qty_on_hand=item.qty_on_hand + line.qty - new.qty
            )
        else:
            target_id = data.draw(st.sampled_from(sorted(items)))
            items[item_id] = replace(item, demand=rest, qty_on_hand=item.qty_on_hand + line.qty)
            target = items[target_id]
            items[target_id] = replace(
                target,
                demand=target.demand + (replace(line, item_id=target_id),),
                qty_on_hand=target.qty_on_hand - line.qty,
            )
            return {item_id, target_id}, set()
    elif kind in ("po_due", "po_receive") and item.supply:
        i = data.draw(st.integers(0, len(item.supply) - 1))
        po = item.supply[i]
        if kind == "po_due":
            po = replace(po, due_date=data.draw(st.one_of(st.none(), days)))
        else:
            po = replace(po, remaining=data.draw(st.integers(0, int(po.remaining)).map(Decimal)))
        items[item_id] = replace(item, supply=(*item.supply[:i], po, *item.supply[i + 1 :]))
    return {item_id}, set()


@SETTINGS
@given(data=st.data(), policy=policies())
def test_incremental_recompute_equals_full_recompute(data: st.DataObject, policy: FillPolicy) -> None:
    ids = Ids()
    items = world(data, ids)
    now = START
    full = recompute(items.values(), {}, policy, now)
    inc_states: dict[LineKey, LineState] = dict(full.states)
    full_states = full.states
    for _ in range(data.draw(st.integers(1, 8))):
        touched: set[str] = set()
        dropped: set[str] = set()
        for _ in range(data.draw(st.integers(0, 3))):
            t, d = _change(data, ids, items)
            touched |= t
            dropped |= d
        # An item dropped and added back within the step is simply touched.
        touched = {t for t in touched | dropped if t in items}
        dropped = {d for d in dropped if d not in items}
        now += timedelta(hours=data.draw(st.integers(0, 24 * 9)))
        extra = set(data.draw(st.lists(st.sampled_from(sorted(items)), max_size=2))) if items else set()
        review = {i for i in items_needing_review(inc_states, now.date()) if i in items}

        incremental = recompute(
            [items[i] for i in touched | extra | review], inc_states, policy, now, dropped=dropped
        )
        everything = recompute(items.values(), full_states, policy, now, dropped=dropped)
        assert incremental.states == everything.states
        assert incremental.events == everything.events
        inc_states, full_states = incremental.states, everything.states


# 5. The shortcuts the stored ledger takes for speed give the results of the plain definitions.

_texts = st.one_of(st.sampled_from(["1", "2", "9", "10", "010", "A7", "a", "²"]), st.text(max_size=3))
_lines = st.builds(
    DemandLine,
    doc_type=st.sampled_from(DOC_TYPES),
    doc_id=_texts,
    line_id=_texts,
    txn_date=days,
    customer_id=st.sampled_from([c for c, _ in CUSTOMERS]),
    customer_name=st.sampled_from([n for _, n in CUSTOMERS]),
    item_id=st.just("1"),
    qty=st.just(Decimal(1)),
)


@SETTINGS
@given(demand=st.lists(_lines, max_size=12), policy=policies())
def test_fill_order_key_orders_lines_like_sort_key(demand: list[DemandLine], policy: FillPolicy) -> None:
    assert sorted(demand, key=policy.fill_order_key()) == sorted(demand, key=policy.sort_key)
    plain = replace(policy, priorities=())
    assert sorted(demand, key=plain.fill_order_key()) == sorted(demand, key=plain.sort_key)


@SETTINGS
@given(data=st.data(), policy=policies(), qoh=st.integers(0, 8).map(Decimal))
def test_an_item_not_short_without_previous_state_gets_no_state_and_no_event(
    data: st.DataObject, policy: FillPolicy, qoh: Decimal
) -> None:
    """Why syncd.backorders.loader may skip reading a quiet item's demand and supply (``skip_quiet``)."""
    item = replace(item_input(data, Ids(), "1"), qty_on_hand=qoh)
    result = recompute([item], {}, policy, START, today=EPOCH)
    assert result.states == {}
    assert result.events == []


def _date_suffix(item: ItemInput, cut: date, previous: dict[LineKey, LineState]) -> ItemInput:
    """``item`` with only its lines dated ``cut`` or later, as syncd.backorders.loader reads a short item's tail."""
    kept = tuple(line for line in item.demand if line.txn_date >= cut)
    left = [line for line in item.demand if line.txn_date < cut]
    return replace(
        item,
        demand=kept,
        rank_base=len(left),
        live_elsewhere=frozenset(line.key for line in left if line.key in previous),
    )


@SETTINGS
@given(data=st.data(), policy=policies())
def test_a_date_suffix_covering_the_shortage_gives_the_complete_result(
    data: st.DataObject, policy: FillPolicy
) -> None:
    """Why the incremental step may read only the newest lines of a short item (``ItemInput`` partial demand).

    Previous states come from an earlier version of the items, so lines that left the short tail (filled) or the
    item (cancelled) are exercised, as are ranks after lines before the cut were added, edited or voided.
    """
    plain = replace(policy, priorities=())
    assert plain.date_first and (policy.date_first == (not policy.priorities))
    ids = Ids()
    items = world(data, ids)
    now = START
    previous = recompute(items.values(), {}, plain, now).states
    for _ in range(data.draw(st.integers(0, 3))):
        _change(data, ids, items)
    now += timedelta(hours=data.draw(st.integers(0, 24 * 9)))
    complete = recompute(items.values(), previous, plain, now)
    partial_items = []
    for item in items.values():
        # Cut just after one of the item's own dates most of the time, so short tails are cut through.
        own = sorted({line.txn_date + timedelta(days=1) for line in item.demand})
        cut = data.draw(st.sampled_from(own) if own and data.draw(st.booleans()) else days)
        partial = _date_suffix(item, cut, previous)
        partial_items.append(partial if covers(partial) else item)
    partial_result = recompute(partial_items, previous, plain, now)
    assert partial_result.states == complete.states
    assert partial_result.events == complete.events


@SETTINGS
@given(data=st.data())
def test_covers_means_the_backordered_units_are_all_in_the_suffix(data: st.DataObject) -> None:
    item = item_input(data, Ids(), "1")
    cut = data.draw(days)
    kept = [line for line in item.demand if line.txn_date >= cut]
    shortage = max(ZERO, -item.qty_on_hand)
    assert covers(replace(item, demand=tuple(kept))) == (sum((x.qty for x in kept), ZERO) >= shortage)
    assert covers(replace(item, qty_on_hand=Decimal("NaN"), demand=()))
