"""Backorder ledger examples, written as the finance team would describe them.

A *world* is a small text table (one record per line, ``#`` starts a comment)::

    stock       W      -6     lead=10 sku=SKU-W       # item W, QtyOnHand -6, vendor lead time 10 days
    invoice     INV-1  2024-03-01  Acme     W 4  G 1  # invoice INV-1 for Acme: 4 of W, then 1 of G
    salesreceipt SR-1  2024-03-02  Walk-in  W 1
    po          P-7    2024-03-01  due=2024-03-10 vendor=V1 lead=14  W 2   # remaining 2 of W

Documents get their QBO Id from the digits of their number, lines are numbered 1, 2, ... in the order written.
The expected ledger is a table of short lines (``eta``: a PO date, ``~date`` for an estimate, ``unknown``;
``via``: the PO lines covering the line and the units nothing covers); events are one per line.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from syncd.ledger.config import BackorderConfig
from syncd.ledger.core import allocate, items_needing_review, recompute
from syncd.ledger.events import eta_text
from syncd.ledger.model import DemandLine, ItemInput, LedgerEvent, LineKey, LineState, SupplyLine
from syncd.ledger.policy import CustomerPriority, FillPolicy, ItemOverride
from syncd.ledger.report import CSV_COLUMNS, by_customer, by_item, by_po, to_csv_rows, to_json_rows

NOW = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)

# ---------------------------------------------------------------------------------------------- notation help


def world(text: str) -> list[ItemInput]:
    """Parse the world notation of the module docstring into ItemInputs (in order of ``stock`` rows)."""
    items: dict[str, tuple[Decimal, dict[str, str]]] = {}
    demand: dict[str, list[DemandLine]] = {}
    supply: dict[str, list[SupplyLine]] = {}
    for raw in text.splitlines():
        tokens = raw.split("#", 1)[0].split()
        if not tokens:
            continue
        opts = dict(t.split("=", 1) for t in tokens if "=" in t)
        pos = [t for t in tokens if "=" not in t]
        kind = pos[0]
        if kind == "stock":
            items[pos[1]] = (Decimal(pos[2]), opts)
            continue
        number, day, rest = pos[1], date.fromisoformat(pos[2]), pos[3:]
        doc_id = re.sub(r"\D", "", number)
        if kind in ("invoice", "salesreceipt"):
            customer, pairs = rest[0], rest[1:]
            for n, (item, qty) in enumerate(zip(pairs[::2], pairs[1::2], strict=True), start=1):
                demand.setdefault(item, []).append(
                    DemandLine(
                        doc_type="Invoice" if kind == "invoice" else "SalesReceipt",
                        doc_id=doc_id,
                        line_id=str(n),
                        txn_date=day,
                        customer_id=customer.lower(),
                        customer_name=customer,
                        item_id=item,
                        qty=Decimal(qty),
                        doc_number=number,
                    )
                )
        elif kind == "po":
            due = date.fromisoformat(opts["due"]) if "due" in opts else None
            lead = int(opts["lead"]) if "lead" in opts else None
            for n, (item, qty) in enumerate(zip(rest[::2], rest[1::2], strict=True), start=1):
                supply.setdefault(item, []).append(
                    SupplyLine(
                        po_id=doc_id,
                        po_line_id=str(n),
                        vendor_id=opts.get("vendor", "V1"),
                        txn_date=day,
                        remaining=Decimal(qty),
                        due_date=due,
                        po_number=number,
                        lead_time_days=lead,
                    )
                )
        else:
            raise ValueError(f"unknown record {kind!r}")
    return [
        ItemInput(
            item_id=name,
            item_name=name,
            qty_on_hand=qoh,
            demand=tuple(demand.get(name, ())),
            supply=tuple(supply.get(name, ())),
            sku=spec.get("sku"),
            lead_time_days=int(spec["lead"]) if "lead" in spec else None,
        )
        for name, (qoh, spec) in items.items()
    ]


def table(text: str) -> list[str]:
    """An expected table with its spacing normalised (blank lines and comments dropped)."""
    rows = [" ".join(line.split("#", 1)[0].split()) for line in text.splitlines()]
    return [r for r in rows if r]


def ledger(states: dict[LineKey, LineState]) -> list[str]:
    """The current ledger in the expected-table notation, by item then fill order."""
    rows = ["doc item customer short eta via"]
    for s in sorted(states.values(), key=lambda s: (s.item_id, s.fill_rank)):
        via = [f"{p.po_number}:{p.qty}" for p in s.pegged]
        if s.uncovered > 0:
            via.append(f"unpegged:{s.uncovered}")
        rows.append(
            f"{s.doc_number} {s.item_id} {s.customer_name} {s.backordered} {eta_text(s.eta, s.eta_kind)} "
            f"{','.join(via)}"
        )
    return rows


def happened(events: list[LedgerEvent], states: dict[LineKey, LineState] | None = None) -> list[str]:
    """Events in the notation ``kind doc item before->after`` (ETA events show ETAs instead of quantities)."""
    out = []
    for e in events:
        if e.kind == "eta_changed":
            what = f"{eta_text(e.eta_before, e.eta_kind_before)}->{eta_text(e.eta_after, e.eta_kind_after)}"
        elif e.kind == "overdue":
            what = eta_text(e.eta_after, e.eta_kind_after)
        elif e.kind == "oversold":
            what = str(e.qty_after)
        else:
            what = f"{e.qty_before}->{e.qty_after}"
        out.append(f"{e.kind} {e.doc_number} {e.item_id} {what}")
    return out


class Ledger:
    """Runs successive worlds through :func:`recompute` like the daemon would, keeping state between steps."""

    def __init__(self, policy: FillPolicy | None = None) -> None:
        self.policy = policy or FillPolicy()
        self.states: dict[LineKey, LineState] = {}
        self.now = NOW

    def step(self, text: str, *, now: datetime | None = None, dropped: tuple[str, ...] = ()) -> list[str]:
        self.now = now or self.now
        result = recompute(world(text), self.states, self.policy, self.now, dropped=dropped)
        assert result.errors == []
        self.states = result.states
        return happened(result.events)

    @property
    def table(self) -> list[str]:
        return ledger(self.states)


# ---------------------------------------------------------------------------------------------- acceptance ca

THREE_INVOICES = """
stock    W  {qoh}
invoice  INV-1  2024-03-01  Acme     W 4
invoice  INV-2  2024-03-02  Globex   W 3
invoice  INV-3  2024-03-03  Initech  W 2
"""


def test_partial_fills_across_several_invoices() -> None:
    book = Ledger()
    events = book.step(THREE_INVOICES.format(qoh=-6))
    # 9 sold, 3 in stock: the oldest invoice gets 3 of its 4, the later two wait for everything.
    assert book.table == table("""
        doc    item  customer  short  eta      via
        INV-1  W     Acme      1      unknown  unpegged:1
        INV-2  W     Globex    3      unknown  unpegged:3
        INV-3  W     Initech   2      unknown  unpegged:2
    """)
    assert events == ["opened INV-1 W 0->1", "opened INV-2 W 0->3", "opened INV-3 W 0->2"]
    assert book.step(THREE_INVOICES.format(qoh=-6)) == []  # nothing changed, nothing to say


def test_receipt_fills_the_oldest_first() -> None:
    book = Ledger()
    book.step(THREE_INVOICES.format(qoh=-6))
    # A bill receives 4 units: QtyOnHand -6 -> -2. INV-1 and INV-2 are complete, INV-3 still waits.
    assert book.step(THREE_INVOICES.format(qoh=-2)) == ["filled INV-1 W 1->0", "filled INV-2 W 3->0"]
    assert book.table == table("""
        doc    item  customer  short  eta      via
        INV-3  W     Initech   2      unknown  unpegged:2
    """)
    assert book.step(THREE_INVOICES.format(qoh=-1)) == ["partially_filled INV-3 W 2->1"]
    assert book.step(THREE_INVOICES.format(qoh=0)) == ["filled INV-3 W 1->0"]
    assert book.states == {}


def test_void_releases_stock_to_later_lines() -> None:
    book = Ledger()
    book.step(THREE_INVOICES.format(qoh=-3))
    assert book.table == table("""
        doc    item  customer  short  eta      via
        INV-2  W     Globex    1      unknown  unpegged:1
        INV-3  W     Initech   2      unknown  unpegged:2
    """)
    # INV-1 (filled from stock) is voided: QBO puts its 4 units back, QtyOnHand -3 -> 1, for INV-2 and INV-3.
    voided = """
        stock    W  1
        invoice  INV-2  2024-03-02  Globex   W 3
        invoice  INV-3  2024-03-03  Initech  W 2
    """
    assert book.step(voided) == ["filled INV-2 W 1->0", "filled INV-3 W 2->0"]


def test_voiding_a_short_line_cancels_it_and_keeps_the_others() -> None:
    book = Ledger()
    book.step(THREE_INVOICES.format(qoh=-6))
    short_since = book.states[LineKey("Invoice", "1", "1")].short_since
    # INV-3 (2 short) is voided, QtyOnHand -6 -> -4; INV-1 and INV-2 keep their shortage and their start time.
    voided = """
        stock    W  -4
        invoice  INV-1  2024-03-01  Acme     W 4
        invoice  INV-2  2024-03-02  Globex   W 3
    """
    assert book.step(voided, now=NOW + timedelta(hours=2)) == ["cancelled INV-3 W 2->0"]
    assert book.states[LineKey("Invoice", "1", "1")].short_since == short_since == NOW


PO_WORLD = """
stock    W  -5
invoice  INV-1  2024-03-01  Acme    W 3
invoice  INV-2  2024-03-02  Globex  W 4
po       P-7    2024-03-01  due={p7}  W 2
po       P-8    2024-03-01  due={p8}  W 10
"""


def test_backorders_are_pegged_to_pos_in_fill_order() -> None:
    book = Ledger()
    events = book.step(PO_WORLD.format(p7="2024-03-10", p8="2024-03-20"))
    assert book.table == table("""
        doc    item  customer  short  eta         via
        INV-1  W     Acme      1      2024-03-10  P-7:1
        INV-2  W     Globex    4      2024-03-20  P-7:1,P-8:3    # ETA of the PO covering its last unit
    """)
    assert events == ["opened INV-1 W 0->1", "opened INV-2 W 0->4"]


def test_po_pushed_out_changes_etas() -> None:
    book = Ledger()
    book.step(PO_WORLD.format(p7="2024-03-10", p8="2024-03-20"))
    # The vendor moves P-7 to the 25th: P-8 is now the earliest and covers both lines.
    assert book.step(PO_WORLD.format(p7="2024-03-25", p8="2024-03-20")) == [
        "eta_changed INV-1 W 2024-03-10->2024-03-20",
    ]  # INV-2 is re-pegged but its ETA stays the 20th: no event
    assert book.table == table("""
        doc    item  customer  short  eta         via
        INV-1  W     Acme      1      2024-03-20  P-8:1
        INV-2  W     Globex    4      2024-03-20  P-8:4
    """)
    assert book.step(PO_WORLD.format(p7="2024-03-25", p8="2024-04-01")) == [
        "eta_changed INV-1 W 2024-03-20->2024-03-25",
        "eta_changed INV-2 W 2024-03-20->2024-04-01",
    ]


def test_overdue_po_fires_once_per_eta() -> None:
    book = Ledger()
    text = PO_WORLD.format(p7="2024-03-10", p8="2024-03-20")
    book.step(text)
    assert items_needing_review(book.states, NOW.date()) == frozenset()
    # Nothing changes in QBO, but the calendar reaches the 11th: P-7 is late for INV-1.
    day11 = NOW.replace(day=11)
    assert items_needing_review(book.states, day11.date()) == {"W"}
    assert book.step(text, now=day11) == ["overdue INV-1 W 2024-03-10"]
    assert items_needing_review(book.states, day11.date()) == frozenset()
    assert book.step(text, now=day11 + timedelta(days=1)) == []  # still late, already said
    # The vendor confirms a new (also past) date: a new ETA, late again.
    assert book.step(PO_WORLD.format(p7="2024-03-11", p8="2024-03-20"), now=day11 + timedelta(days=1)) == [
        "eta_changed INV-1 W 2024-03-10->2024-03-11",
        "overdue INV-1 W 2024-03-11",
    ]


def test_line_opened_against_a_late_po_is_overdue_at_once() -> None:
    book = Ledger()
    events = book.step(PO_WORLD.format(p7="2024-03-01", p8="2024-03-20"))
    assert events == ["opened INV-1 W 0->1", "overdue INV-1 W 2024-03-01", "opened INV-2 W 0->4"]


PRIORITY_WORLD = """
stock    W  -3
invoice  INV-1  2024-03-01  Acme         W 4
invoice  INV-2  2024-03-02  GlobexCorp   W 3
invoice  INV-3  2024-03-03  Initech      W 1
"""


def test_priority_allocation_serves_preferred_customers_first() -> None:
    fifo = Ledger()
    fifo.step(PRIORITY_WORLD)
    assert fifo.table == table("""
        doc    item  customer    short  eta      via
        INV-2  W     GlobexCorp  2      unknown  unpegged:2
        INV-3  W     Initech     1      unknown  unpegged:1
    """)
    config = BackorderConfig.model_validate(
        tomllib.loads(
            """
        [[priority]]
        customer = "globex*"    # case-insensitive glob on the customer name
        rank = 1
        [[priority]]
        customer_id = "initech"
        rank = 2
    """,
            parse_float=Decimal,
        )
    )
    ranked = Ledger(config.to_policy())
    ranked.step(PRIORITY_WORLD)
    # Globex then Initech are served before Acme although Acme ordered first: Acme waits for 3.
    assert ranked.table == table("""
        doc    item  customer  short  eta      via
        INV-1  W     Acme      3      unknown  unpegged:3
    """)


def test_priority_changes_who_gets_the_po_first() -> None:
    text = """
        stock    W  -4
        invoice  INV-1  2024-03-01  Acme     W 2
        invoice  INV-2  2024-03-02  Globex   W 2
        po       P-7    2024-03-01  due=2024-03-10  W 2
        po       P-8    2024-03-01  due=2024-03-30  W 2
    """
    book = Ledger(FillPolicy(priorities=(CustomerPriority(rank=1, customer="Globex"),)))
    book.step(text)
    assert book.table == table("""
        doc    item  customer  short  eta         via
        INV-2  W     Globex    2      2024-03-10  P-7:2
        INV-1  W     Acme      2      2024-03-30  P-8:2
    """)


def test_oversold_item_raises_oversold_once_per_episode() -> None:
    policy = FillPolicy(overrides=(ItemOverride("match", "SKU-*", allow_backorder=False),))
    book = Ledger(policy)
    text = """
        stock    W  {qoh}  sku=SKU-W
        stock    G  -1
        invoice  INV-1  2024-03-01  Acme   W 4  G 1
        invoice  INV-2  2024-03-02  Globex W 3
    """
    assert book.step(text.format(qoh=-2)) == [
        "opened INV-1 G 0->1",  # G allows backorders: a plain backorder
        "opened INV-2 W 0->2",
        "oversold INV-2 W 2",  # W does not
    ]
    assert book.step(text.format(qoh=-2)) == []
    assert book.step(text.format(qoh=-4)) == [
        "opened INV-1 W 0->1",
        "oversold INV-1 W 1",
        "increased INV-2 W 2->3",
    ]
    assert book.step(text.format(qoh=0)) == ["filled INV-1 W 1->0", "filled INV-2 W 3->0"]
    assert book.step(text.format(qoh=-1)) == ["opened INV-2 W 0->1", "oversold INV-2 W 1"]  # a new episode


# ---------------------------------------------------------------------------------------------- ETA details


def test_uncovered_units_get_a_lead_time_estimate_that_holds_until_overtaken() -> None:
    text = """
        stock    W  -5  lead=10
        invoice  INV-1  2024-03-01  Acme    W 5
        po       P-7    2024-03-01  due=2024-03-08  W 2
    """
    book = Ledger()
    assert book.step(text) == ["opened INV-1 W 0->5"]
    assert book.table == table("""
        doc    item  customer  short  eta          via
        INV-1  W     Acme      5      ~2024-03-15  P-7:2,unpegged:3   # 3 units not on order: today + 10 days
    """)
    assert book.step(text, now=NOW + timedelta(days=4)) == []  # the estimate does not drift with the calendar
    later = NOW + timedelta(days=11)  # the 16th: the estimate of the 15th is stale
    assert items_needing_review(book.states, later.date()) == {"W"}
    assert book.step(text, now=later) == ["eta_changed INV-1 W ~2024-03-15->~2024-03-26"]


def test_po_without_due_date_is_expected_after_the_vendor_lead_time() -> None:
    text = """
        stock    W  -3  lead=30
        invoice  INV-1  2024-03-01  Acme    W 3
        po       P-7    2024-03-02  lead=7     W 2      # vendor of P-7 delivers in 7 days
        po       P-8    2024-03-01             W 1      # no vendor lead time: the item's 30 days
    """
    book = Ledger()
    book.step(text)
    assert book.table == table("""
        doc    item  customer  short  eta         via
        INV-1  W     Acme      3      2024-03-31  P-7:2,P-8:1
    """)
    assert book.states[LineKey("Invoice", "1", "1")].pegged[0].expected == date(2024, 3, 9)


def test_without_any_lead_time_the_eta_is_unknown_but_still_pegged() -> None:
    book = Ledger()
    book.step("""
        stock    W  -2
        invoice  INV-1  2024-03-01  Acme    W 2
        po       P-7    2024-03-02  W 2
    """)
    assert book.table == table("""
        doc    item  customer  short  eta      via
        INV-1  W     Acme      2      unknown  P-7:2
    """)


def test_default_lead_time_from_config_and_po_confirming_an_estimate() -> None:
    book = Ledger(FillPolicy(default_lead_time_days=14))
    base = """
        stock    W  -2
        invoice  INV-1  2024-03-01  Acme    W 2
    """
    assert book.step(base) == ["opened INV-1 W 0->2"]
    assert book.table[1].endswith("~2024-03-19 unpegged:2")
    assert book.step(base + "po P-7 2024-03-05 due=2024-03-12 W 5") == [
        "eta_changed INV-1 W ~2024-03-19->2024-03-12"
    ]


# ---------------------------------------------------------------------------------------------- edits and err


def test_line_moved_to_another_item_is_cancelled_there_and_opened_here() -> None:
    book = Ledger()
    book.step("""
        stock    W  -2
        stock    G  0
        invoice  INV-1  2024-03-01  Acme  W 2
    """)
    # The invoice line is edited from W to G: QBO gives W its 2 back and takes 2 from G.
    assert book.step("""
        stock    W  0
        stock    G  -2
        invoice  INV-1  2024-03-01  Acme  G 2
    """) == ["opened INV-1 G 0->2", "cancelled INV-1 W 2->0"]


def test_item_no_longer_tracked_cancels_its_lines() -> None:
    book = Ledger()
    book.step(THREE_INVOICES.format(qoh=-1))
    result = recompute([], book.states, book.policy, NOW, dropped=("W",))
    assert happened(result.events) == ["cancelled INV-3 W 1->0"]
    assert result.events[0].detail == "item no longer tracked"
    assert result.states == {}


def test_bad_lines_become_errors_and_the_rest_is_computed() -> None:
    items = world("""
        stock    W  -3
        invoice  INV-1  2024-03-01  Acme    W -2     # a negative quantity: not demand
        invoice  INV-2  2024-03-02  Globex  W 4
        po       P-7    2024-03-01  due=2024-03-10  W -1
    """)
    result = recompute(items, {}, FillPolicy(), NOW)
    assert [(e.code, e.key, e.ref) for e in result.errors] == [
        ("negative_qty", LineKey("Invoice", "1", "1"), "INV-1 line 1"),
        ("negative_remaining", None, "PO P-7 line 1"),
    ]
    assert ledger(result.states) == table("""
        doc    item  customer  short  eta      via
        INV-2  W     Globex    3      unknown  unpegged:3
    """)


def test_unusable_item_keeps_its_previous_state() -> None:
    book = Ledger()
    book.step(THREE_INVOICES.format(qoh=-1))
    broken = world(THREE_INVOICES.format(qoh="NaN"))
    result = recompute(broken, book.states, book.policy, NOW)
    assert [e.code for e in result.errors] == ["bad_qty_on_hand"]
    assert result.states == book.states and result.events == []


def test_fill_order_is_fifo_by_date_then_document_then_line_whatever_the_input_order() -> None:
    items = world("""
        stock    W  -100
        invoice  INV-10  2024-03-02  Acme  W 1  W 1
        invoice  INV-9   2024-03-02  Acme  W 1
        salesreceipt SR-3 2024-03-01 Walk  W 1
    """)
    (item,) = items
    shuffled = ItemInput(item.item_id, item.item_name, item.qty_on_hand, tuple(reversed(item.demand)))
    for candidate in (item, shuffled):
        order = [(a.line.document, a.line.line_id) for a in allocate(candidate, FillPolicy()).lines]
        assert order == [("SR-3", "1"), ("INV-9", "1"), ("INV-10", "1"), ("INV-10", "2")]


# ---------------------------------------------------------------------------------------------- reports


def test_reports_group_by_item_customer_and_po_with_a_stable_json_schema() -> None:
    book = Ledger(FillPolicy(default_lead_time_days=10))
    book.step("""
        stock    W  -5
        stock    G  -1
        invoice  INV-1  2024-03-01  Acme    W 3  G 1
        invoice  INV-2  2024-03-02  Globex  W 2
        po       P-7    2024-03-01  due=2024-03-10  vendor=V9  W 4
    """)
    rows = to_json_rows(book.states.values())
    assert [
        (r["item"], r["document"], r["backordered"], r["eta"], r["eta_estimated"], r["po_number"])
        for r in rows
    ] == [
        ("G", "INV-1", "1", "2024-03-15", True, None),
        ("W", "INV-1", "3", "2024-03-10", False, "P-7"),
        ("W", "INV-2", "2", "2024-03-15", True, None),
    ]
    first = rows[1]
    assert set(first) == set(CSV_COLUMNS) | {"pegged"}
    assert first["short_since"] == "2024-03-05T09:00:00+00:00"
    assert first["pegged"] == [
        {
            "po_id": "7",
            "po_number": "P-7",
            "po_line_id": "1",
            "vendor_id": "V9",
            "qty": "3",
            "expected": "2024-03-10",
            "expected_kind": "due",
        }
    ]
    assert json.loads(json.dumps(rows)) == rows  # plain JSON types only, decimals as strings

    csv = to_csv_rows(book.states.values())
    assert csv[0] == list(CSV_COLUMNS) and len(csv) == 4
    assert csv[2][CSV_COLUMNS.index("eta_estimated")] == "false"

    assert [
        (r.item_id, r.lines, r.backordered, r.eta, r.estimated) for r in by_item(book.states.values())
    ] == [
        ("G", 1, Decimal(1), date(2024, 3, 15), True),
        ("W", 2, Decimal(5), date(2024, 3, 15), True),
    ]
    assert [(r.customer_name, r.items, r.backordered) for r in by_customer(book.states.values())] == [
        ("Acme", 2, Decimal(4)),
        ("Globex", 1, Decimal(2)),
    ]
    assert [
        (r.po_number, r.vendor_id, r.expected, r.lines, r.pegged) for r in by_po(book.states.values())
    ] == [
        ("P-7", "V9", date(2024, 3, 10), 2, Decimal(4)),
        (None, None, None, 2, Decimal(2)),  # units no PO covers
    ]


def test_events_carry_what_an_alert_needs() -> None:
    (event,) = recompute(
        world("""
            stock    W  -4
            invoice  INV-2  2024-03-02  Globex  W 4
            po       P-8    2024-03-01  due=2024-03-20  W 10
        """),
        {},
        FillPolicy(),
        NOW,
    ).events
    assert (event.kind, event.key, event.customer_id, event.doc_number, event.at) == (
        "opened",
        LineKey("Invoice", "2", "1"),
        "globex",
        "INV-2",
        NOW,
    )
    assert (event.eta_after, event.eta_kind_after) == (date(2024, 3, 20), "po")
    assert event.detail == "4 of 4 short, ETA 2024-03-20 (PO P-8)"


def test_more_bad_input_is_reported_not_raised() -> None:
    (item,) = world("""
        stock    W  -9
        invoice  INV-1  2024-03-01  Acme    W 2
        invoice  INV-2  2024-03-02  Globex  W 3
    """)
    first, second = item.demand
    strays = (
        second,  # the same line twice
        replace(first, line_id="2", item_id="G"),  # a line of another item
        replace(first, line_id="3", qty=2.0),  # type: ignore[arg-type]  # a float slipped through
        replace(first, line_id="4", qty=Decimal("NaN")),
    )
    allocation = allocate(replace(item, demand=item.demand + strays), FillPolicy())
    assert [(e.code, e.ref) for e in allocation.errors] == [
        ("duplicate_line", "INV-2 line 1"),
        ("wrong_item", "INV-1 line 2"),
        ("bad_qty", "INV-1 line 3"),
        ("bad_qty", "INV-1 line 4"),
    ]
    assert allocation.backordered == Decimal(5)


def test_caller_mistakes_raise() -> None:
    items = world(THREE_INVOICES.format(qoh=-1))
    with pytest.raises(ValueError, match="aware"):
        recompute(items, {}, FillPolicy(), datetime(2024, 3, 5, 9, 0))
    with pytest.raises(ValueError, match="same item twice"):
        recompute(items + items, {}, FillPolicy(), NOW)
