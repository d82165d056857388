"""The stored backorder ledger over whole sync cycles against the sandbox (real HTTP), SQLite and PostgreSQL.

The story: sell beyond stock, receive a bill against the PO, void a short invoice, move the PO's due date,
let the calendar pass the due date. After each step the ledger's states and the events appended by that step's
cycle are checked exactly. Then: an incremental ledger after random change sets equals a full rebuild.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select
from syncsupport import Changer, Harness

from syncd.backorders.models import BackorderEvent, BackorderLine
from syncd.backorders.service import company_today, rebuild_all
from syncd.backorders.store import load_events, load_states
from syncd.mirror.models import DirtyItem
from syncd.sync.engine import SyncEngine


class Story:
    """A harness plus a movable engine clock and an event cursor (events appended since the last look)."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.offset = timedelta(0)
        self.seen = 0

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def cycle(self) -> Any:
        return SyncEngine(self.h.config, self.h.company, self.h.connector, self.h.sessions, clock=self.now).run_once()

    def new_events(self, item_id: str) -> list[tuple[str, str, Decimal, Decimal]]:
        with self.h.sessions() as s:
            rows = [r for r in load_events(s, "acme", [item_id]) if r["id"] > self.seen]
            self.seen = max([self.seen, *(r["id"] for r in load_events(s, "acme"))])
        return [(r["kind"], r["doc_id"], r["qty_before"], r["qty_after"]) for r in rows]

    def states(self, item_id: str) -> dict[str, tuple[Decimal, date | None, str, str | None]]:
        with self.h.sessions() as s:
            states = load_states(s, "acme", [item_id])
        return {k.doc_id: (st.backordered, st.eta, st.eta_kind, st.eta_peg.po_id if st.eta_peg else None)
                for k, st in states.items()}


def _inventory_item(h: Harness, qty: int) -> dict[str, Any]:
    accounts = h.sandbox.store.accounts(h.realm)
    ref = {k: {"value": accounts[name]} for k, name in (
        ("IncomeAccountRef", "Sales of Product Income"), ("AssetAccountRef", "Inventory Asset"),
        ("ExpenseAccountRef", "Cost of Goods Sold"))}
    return h.sandbox.store.create(h.realm, "Item", {
        "Name": "Ledger Widget", "Type": "Inventory", "TrackQtyOnHand": True, "QtyOnHand": Decimal(qty),
        "InvStartDate": (date.today() - timedelta(days=60)).isoformat(), **ref})


def _sale(h: Harness, item: str, customer: str, qty: int, day: date) -> dict[str, Any]:
    return h.sandbox.store.create(h.realm, "Invoice", {
        "CustomerRef": {"value": customer}, "TxnDate": day.isoformat(),
        "Line": [{"DetailType": "SalesItemLineDetail", "Amount": Decimal(qty * 5),
                  "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": Decimal(qty), "UnitPrice": Decimal(5)}}]})


def test_ledger_follows_sales_bill_void_due_date_and_calendar(make_harness: Any) -> None:
    h: Harness = make_harness(items=6, invoices=10, customers=4)
    story = Story(h)
    store, realm = h.sandbox.store, h.realm
    story.cycle()
    story.new_events("none")  # start the event cursor after the backfill's events
    item = _inventory_item(h, 5)["Id"]
    customers = sorted(h.truth("Customer"), key=int)
    vendor = min(h.truth("Vendor"), key=int)
    today = company_today(story.now())
    due = today + timedelta(days=5)
    po = store.create(realm, "PurchaseOrder", {
        "VendorRef": {"value": vendor}, "POStatus": "Open", "DueDate": due.isoformat(),
        "Line": [{"DetailType": "ItemBasedExpenseLineDetail", "Amount": Decimal(40),
                  "ItemBasedExpenseLineDetail": {"ItemRef": {"value": item}, "Qty": Decimal(10),
                                                 "UnitPrice": Decimal(4)}}]})
    _sale(h, item, customers[0], 3, today - timedelta(days=9))  # filled: the oldest sale gets stock
    b = _sale(h, item, customers[1], 4, today - timedelta(days=8))["Id"]
    c = _sale(h, item, customers[0], 2, today - timedelta(days=7))["Id"]
    d = _sale(h, item, customers[2], 3, today - timedelta(days=6))["Id"]

    # 1. sold 12 with 5 in stock: the last 7 units in FIFO order are short, all pegged to the open PO
    result = story.cycle()
    assert item in result.touched_item_ids
    assert story.states(item) == {b: (Decimal(2), due, "po", po["Id"]), c: (Decimal(2), due, "po", po["Id"]),
                                  d: (Decimal(3), due, "po", po["Id"])}
    assert story.new_events(item) == [("opened", b, 0, 2), ("opened", c, 0, 2), ("opened", d, 0, 3)]
    with h.sessions() as s:
        assert s.scalar(select(func.count()).select_from(DirtyItem)) == 0

    # 2. a bill receives 3 of the PO line: the oldest short lines are filled first
    line = po["Line"][0]
    store.create(realm, "Bill", {
        "VendorRef": {"value": vendor},
        "Line": [{"DetailType": "ItemBasedExpenseLineDetail", "Amount": Decimal(12),
                  "ItemBasedExpenseLineDetail": {"ItemRef": {"value": item}, "Qty": Decimal(3),
                                                 "UnitPrice": Decimal(4)},
                  "LinkedTxn": [{"TxnId": po["Id"], "TxnType": "PurchaseOrder", "TxnLineId": line["Id"]}]}]})
    story.cycle()
    assert story.states(item) == {c: (Decimal(1), due, "po", po["Id"]), d: (Decimal(3), due, "po", po["Id"])}
    assert story.new_events(item) == [("filled", b, 2, 0), ("partially_filled", c, 2, 1)]

    # 3. voiding a short invoice cancels its line and releases its units to the later line
    doc = h.get("Invoice", c)
    store.void(realm, "Invoice", {"Id": c, "SyncToken": doc["SyncToken"]})
    story.cycle()
    assert story.states(item) == {d: (Decimal(2), due, "po", po["Id"])}
    assert story.new_events(item) == [("cancelled", c, 1, 0), ("partially_filled", d, 3, 2)]

    # 4. the PO's due date moves: the ETA follows
    later = today + timedelta(days=8)
    doc = h.get("PurchaseOrder", po["Id"])
    store.update(realm, "PurchaseOrder", {"Id": po["Id"], "SyncToken": doc["SyncToken"], "sparse": True,
                                          "DueDate": later.isoformat()})
    story.cycle()
    assert story.states(item) == {d: (Decimal(2), later, "po", po["Id"])}
    events = story.new_events(item)
    assert events == [("eta_changed", d, 2, 2)]

    # 5. an idle cycle on the same day does no ledger work
    story.cycle()
    assert story.new_events(item) == []

    # 6. the calendar passes the due date with nothing changed in QBO: the daily review flags it overdue, once
    story.offset = timedelta(days=9)
    story.cycle()
    assert story.new_events(item) == [("overdue", d, 2, 2)]
    story.offset = timedelta(days=9, hours=1)
    story.cycle()
    assert story.new_events(item) == []


def test_incremental_ledger_equals_full_rebuild_after_random_changes(make_harness: Any) -> None:
    h: Harness = make_harness(items=12, invoices=80, customers=6)
    store, realm = h.sandbox.store, h.realm
    h.cycle()
    # make stock scarce so that random sales create, fill and cancel backorders
    for ident, doc in h.truth("Item").items():
        if doc.get("Type") == "Inventory":
            store.update(realm, "Item", {"Id": ident, "SyncToken": h.get("Item", ident)["SyncToken"],
                                         "sparse": True, "QtyOnHand": Decimal(2)})
    h.cycle()
    for seed in (21, 22, 23):
        Changer(h, seed=seed).run(n=8)
        h.cycle()
    with h.sessions() as s:
        incremental = load_states(s, "acme")
        kinds = {r["kind"] for r in load_events(s, "acme")}
    assert incremental, "the scenario must leave backordered lines"
    assert {"opened", "cancelled"} <= kinds
    now = datetime.now(UTC)

    def again(session: Any) -> Any:
        return rebuild_all(session, "acme", h.config, now)

    with h.sessions() as s, s.begin():
        outcome = again(s)
    assert (outcome.rows_written, outcome.events) == (0, 0), "a full rebuild must agree with the incremental ledger"

    def shape(states: Any) -> dict[Any, Any]:
        return {k: (v.item_id, v.backordered, v.fill_rank, v.eta, v.eta_kind, v.pegged) for k, v in states.items()}

    with h.sessions() as s, s.begin():
        s.execute(delete(BackorderLine))
        s.execute(delete(BackorderEvent))
        rebuild_all(s, "acme", h.config, now)
    with h.sessions() as s:
        assert shape(load_states(s, "acme")) == shape(incremental)


def test_a_renamed_customer_is_renamed_on_its_backordered_lines(make_harness: Any) -> None:
    """The ledger shows each short line's customer by name. QBO resends a customer whenever its balance moves;
    only a change of that name queues the items on the customer's documents, and the stored lines follow it
    without any backorder event."""
    h: Harness = make_harness(items=6, invoices=10, customers=4)
    story = Story(h)
    store, realm = h.sandbox.store, h.realm
    story.cycle()
    item = _inventory_item(h, 1)["Id"]
    customer = min(h.truth("Customer"), key=int)
    today = company_today(story.now())
    sold = _sale(h, item, customer, 3, today - timedelta(days=2))["Id"]
    story.cycle()
    story.new_events("none")

    def names() -> set[str]:
        with h.sessions() as s:
            return {st.customer_name for st in load_states(s, "acme", [item]).values()}

    assert story.states(item) == {sold: (Decimal(2), None, "unknown", None)}
    old = names()
    assert old == {h.get("Customer", customer)["DisplayName"]}

    doc = h.get("Customer", customer)
    store.update(realm, "Customer", {"Id": customer, "SyncToken": doc["SyncToken"], "sparse": True,
                                     "Notes": "prefers delivery on Mondays"})
    result = story.cycle()
    assert result.rows_written > 0 and result.touched_item_ids == frozenset()
    assert names() == old

    doc = h.get("Customer", customer)
    store.update(realm, "Customer", {"Id": customer, "SyncToken": doc["SyncToken"], "sparse": True,
                                     "DisplayName": "Renamed Trading Co"})
    result = story.cycle()
    assert item in result.touched_item_ids
    assert names() == {"Renamed Trading Co"}
    assert story.states(item) == {sold: (Decimal(2), None, "unknown", None)}
    assert story.new_events(item) == []
