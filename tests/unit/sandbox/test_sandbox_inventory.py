"""Stock effects and PO receiving (QBO_FACTS §9): sales lower QtyOnHand, bills raise it, POs do nothing, updates
apply the difference, void/delete reverse, linked bills close and reopen POs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sandbox_support import REALM, Company

from syncd.sandbox import inventory
from syncd.sandbox.store import ChangeEvent, Store


def test_sales_lower_and_bills_raise_stock(store: Store, co: Company) -> None:
    c, v, it = co.customer(), co.vendor(), co.item(qty=10)
    co.sale("Invoice", c, [(it, 3, 10), (it, "1.5", 10)])
    assert co.qty(it) == Decimal("5.5")
    co.sale("SalesReceipt", c, [(it, 8, 10)])
    assert co.qty(it) == Decimal("-2.5")  # negative stock is allowed
    co.bill(v, [(it, 12, 4)])
    assert co.qty(it) == Decimal("9.5")
    store.create(
        REALM,
        "Purchase",
        {
            "AccountRef": co.ref("Checking"),
            "PaymentType": "Cash",
            "Line": [
                {
                    "Amount": 8,
                    "DetailType": "ItemBasedExpenseLineDetail",
                    "ItemBasedExpenseLineDetail": {"ItemRef": {"value": it["Id"]}, "Qty": 2, "UnitPrice": 4},
                }
            ],
        },
    )
    assert co.qty(it) == Decimal("11.5")


def test_purchase_orders_and_untracked_items_move_nothing(store: Store, co: Company) -> None:
    c, v, it = co.customer(), co.vendor(), co.item(qty=10)
    svc = store.create(
        REALM,
        "Item",
        {
            "Name": "Design",
            "Type": "Service",
            "IncomeAccountRef": co.ref("Services"),
            "ExpenseAccountRef": co.ref("Cost of Goods Sold"),
        },
    )
    co.po(v, [(it, 50, 3)])
    assert co.qty(it) == 10
    co.sale("Invoice", c, [(svc, 2, 10)])
    assert "QtyOnHand" not in store.read(REALM, "Item", svc["Id"])
    assert store.read(REALM, "Item", svc["Id"])["SyncToken"] == "0"


def test_stock_move_bumps_item_synctoken_and_time(store: Store, co: Company) -> None:
    c, it = co.customer(), co.item(qty=10)
    co.tick(10)
    co.sale("Invoice", c, [(it, 1, 10)])
    after = store.read(REALM, "Item", it["Id"])
    assert after["SyncToken"] == "1"
    assert after["MetaData"]["LastUpdatedTime"] > it["MetaData"]["LastUpdatedTime"]


def test_update_applies_difference(store: Store, co: Company) -> None:
    c, a, b = co.customer(), co.item("A", qty=10), co.item("B", qty=10)
    inv = co.sale("Invoice", c, [(a, 4, 10)])
    assert co.qty(a) == 6
    store.update(
        REALM,
        "Invoice",
        {
            "Id": inv["Id"],
            "SyncToken": "0",
            "sparse": True,
            "Line": [
                {
                    "Amount": 10,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": a["Id"]}, "Qty": 1, "UnitPrice": 10},
                },
                {
                    "Amount": 30,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": b["Id"]}, "Qty": 3, "UnitPrice": 10},
                },
            ],
        },
    )
    assert (co.qty(a), co.qty(b)) == (9, 7)


def test_void_and_delete_reverse(store: Store, co: Company) -> None:
    c, v, it = co.customer(), co.vendor(), co.item(qty=10)
    inv = co.sale("Invoice", c, [(it, 4, 10)])
    sr = co.sale("SalesReceipt", c, [(it, 1, 10)])
    bill = co.bill(v, [(it, 20, 3)])
    assert co.qty(it) == 25
    store.void(REALM, "Invoice", {"Id": inv["Id"], "SyncToken": "0"})
    assert co.qty(it) == 29
    store.void(REALM, "Invoice", {"Id": inv["Id"], "SyncToken": "1"})  # voiding again moves nothing more
    assert co.qty(it) == 29
    store.delete(REALM, "SalesReceipt", {"Id": sr["Id"], "SyncToken": "0"})
    assert co.qty(it) == 30
    store.delete(REALM, "Bill", {"Id": bill["Id"], "SyncToken": "0"})
    assert co.qty(it) == 10


def test_bill_receiving_closes_po_and_delete_reopens(store: Store, co: Company) -> None:
    v, a, b = co.vendor(), co.item("A", qty=0), co.item("B", qty=0)
    po = co.po(v, [(a, 10, 2), (b, 5, 3)])
    part = co.bill(v, [(a, 10, 2)], links=[(po["Id"], "1")])
    after_part = store.read(REALM, "PurchaseOrder", po["Id"])
    assert after_part["POStatus"] == "Open" and after_part["SyncToken"] == "1"
    assert after_part["LinkedTxn"] == [{"TxnId": part["Id"], "TxnType": "Bill"}]
    assert part["Line"][0]["LinkedTxn"] == [{"TxnId": po["Id"], "TxnType": "PurchaseOrder", "TxnLineId": "1"}]
    rest = co.bill(v, [(b, 2, 3), (b, 3, 3)], links=[(po["Id"], "2"), (po["Id"], "2")])
    closed = store.read(REALM, "PurchaseOrder", po["Id"])
    assert closed["POStatus"] == "Closed" and closed["SyncToken"] == "2"
    assert [lt["TxnId"] for lt in closed["LinkedTxn"]] == [part["Id"], rest["Id"]]
    assert (co.qty(a), co.qty(b)) == (10, 5)
    store.delete(REALM, "Bill", {"Id": rest["Id"], "SyncToken": "0"})
    reopened = store.read(REALM, "PurchaseOrder", po["Id"])
    assert reopened["POStatus"] == "Open" and reopened["SyncToken"] == "3"
    assert reopened["LinkedTxn"] == [{"TxnId": part["Id"], "TxnType": "Bill"}]
    assert co.qty(b) == 0


def test_bill_update_unlinking_reopens_po(store: Store, co: Company) -> None:
    v, a = co.vendor(), co.item("A", qty=0)
    po = co.po(v, [(a, 4, 2)])
    bill = co.bill(v, [(a, 4, 2)], links=[(po["Id"], "1")])
    assert store.read(REALM, "PurchaseOrder", po["Id"])["POStatus"] == "Closed"
    line = {k: val for k, val in bill["Line"][0].items() if k != "LinkedTxn"}
    store.update(REALM, "Bill", {"Id": bill["Id"], "SyncToken": "0", "sparse": True, "Line": [line]})
    assert store.read(REALM, "PurchaseOrder", po["Id"])["POStatus"] == "Open"
    assert co.qty(a) == 4  # the bill still received the stock


def test_invalid_link_is_silently_dropped(store: Store, co: Company) -> None:
    v, a = co.vendor(), co.item("A", qty=0)
    po = co.po(v, [(a, 4, 2)])
    bill = co.bill(v, [(a, 4, 2), (a, 1, 2)], links=[(po["Id"], "99"), ("777777", "1")])
    assert all("LinkedTxn" not in ln for ln in bill["Line"])
    assert store.read(REALM, "PurchaseOrder", po["Id"])["SyncToken"] == "0"


def test_manual_close_and_reopen(store: Store, co: Company) -> None:
    v, a = co.vendor(), co.item("A", qty=0)
    po = co.po(v, [(a, 4, 2)])
    closed = store.update(
        REALM, "PurchaseOrder", {"Id": po["Id"], "SyncToken": "0", "sparse": True, "POStatus": "Closed"}
    )
    assert closed["POStatus"] == "Closed" and closed["ManuallyClosed"] is True
    echoed = store.update(REALM, "PurchaseOrder", dict(closed))  # full update echoing the read object
    assert echoed["POStatus"] == "Closed"
    reopened = store.update(
        REALM,
        "PurchaseOrder",
        {"Id": po["Id"], "SyncToken": echoed["SyncToken"], "sparse": True, "POStatus": "Open"},
    )
    assert reopened["POStatus"] == "Open" and "ManuallyClosed" not in reopened
    via_flag = store.update(
        REALM,
        "PurchaseOrder",
        {"Id": po["Id"], "SyncToken": reopened["SyncToken"], "sparse": True, "ManuallyClosed": True},
    )
    assert via_flag["POStatus"] == "Closed"


def test_echoing_closed_status_of_received_po_is_not_a_manual_close(store: Store, co: Company) -> None:
    v, a = co.vendor(), co.item("A", qty=0)
    po = co.po(v, [(a, 4, 2)])
    bill = co.bill(v, [(a, 4, 2)], links=[(po["Id"], "1")])
    received = store.read(REALM, "PurchaseOrder", po["Id"])
    store.update(REALM, "PurchaseOrder", received | {"Memo": "thanks"})
    store.delete(REALM, "Bill", {"Id": bill["Id"], "SyncToken": "0"})
    assert store.read(REALM, "PurchaseOrder", po["Id"])["POStatus"] == "Open"


def test_listeners_see_side_effects(store: Store, co: Company) -> None:
    events: list[ChangeEvent] = []
    c, it = co.customer(), co.item(qty=3)
    store.add_listener(events.append)
    inv = co.sale("Invoice", c, [(it, 1, 1)])
    store.void(REALM, "Invoice", {"Id": inv["Id"], "SyncToken": "0"})
    store.delete(REALM, "Invoice", {"Id": inv["Id"], "SyncToken": "1"})
    assert [(e.entity, e.operation) for e in events] == [
        ("Invoice", "Create"),
        ("Item", "Update"),
        ("Invoice", "Void"),
        ("Item", "Update"),
        ("Invoice", "Delete"),
    ]
    assert all(e.realm == REALM and e.last_updated.tzinfo is not None for e in events)


def test_failed_write_is_rolled_back(store: Store, co: Company, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after stock already moved inside the transaction leaves no trace and fires no event."""
    events: list[ChangeEvent] = []
    c, it = co.customer(), co.item(qty=3)
    store.add_listener(events.append)
    original = store._after_write

    def explode(*args: object, **kwargs: object) -> None:
        original(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("crash after the stock moved")

    monkeypatch.setattr(store, "_after_write", explode)
    with pytest.raises(RuntimeError):
        co.sale("Invoice", c, [(it, 1, 1)])
    monkeypatch.undo()
    assert co.qty(it) == 3 and events == []
    assert store.query(REALM, "SELECT COUNT(*) FROM Invoice") == {"totalCount": 0}
    assert store.read(REALM, "Item", it["Id"])["SyncToken"] == "0"


def test_pure_effect_arithmetic() -> None:
    doc = {
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": "5"}, "Qty": 2},
            },
            {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "5"}}},
        ]
    }
    assert inventory.stock_effect("Invoice", doc) == {"5": Decimal(-2)}
    assert inventory.stock_effect("PurchaseOrder", doc) == {}
    assert inventory.net_change({"5": Decimal(-2)}, {}) == {"5": Decimal(2)}
