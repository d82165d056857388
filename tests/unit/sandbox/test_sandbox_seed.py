"""Seeding: deterministic by seed, realistic shapes, and QtyOnHand = start + received - sold."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sandbox_support import REALM

from syncd.sandbox.clock import Clock
from syncd.sandbox.seed import SeedSummary, seed_company
from syncd.sandbox.store import Store

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SIZE = {"items": 120, "vendors": 6, "customers": 25, "invoices": 300}


def dump(store: Store, entity: str) -> list[dict[str, Any]]:
    """Every object of ``entity`` (paging through the public query API)."""
    out, start = [], 1
    while True:
        page = store.query(
            REALM,
            f"SELECT * FROM {entity} WHERE Active IN (true, false) STARTPOSITION {start} MAXRESULTS 1000"
            if entity in ("Item", "Vendor", "Customer")
            else f"SELECT * FROM {entity} STARTPOSITION {start} MAXRESULTS 1000",
        )
        if not page:
            return out
        out += page[entity]
        start += 1000


@pytest.fixture(scope="module")
def seeded() -> Any:
    store = Store(None, Clock())
    summary = seed_company(store, REALM, seed=42, **SIZE, now=NOW)
    yield store, summary
    store.close()


def test_summary_counts_match_store(seeded: tuple[Store, SeedSummary]) -> None:
    store, s = seeded
    assert isinstance(s, SeedSummary) and s.seconds >= 0
    assert len(dump(store, "Item")) == s.items == SIZE["items"]
    assert len(dump(store, "Vendor")) == s.vendors and len(dump(store, "Customer")) == s.customers
    invoices = dump(store, "Invoice")
    assert len(invoices) == s.invoices == SIZE["invoices"]
    assert sum(len(i["Line"]) - 1 for i in invoices) == s.invoice_lines
    assert all(1 <= len(i["Line"]) - 1 <= 8 for i in invoices)
    assert len(dump(store, "SalesReceipt")) == s.sales_receipts == SIZE["invoices"] // 10
    pos = dump(store, "PurchaseOrder")
    assert (
        len(pos)
        == s.purchase_orders
        == s.purchase_orders_open + s.purchase_orders_partial + s.purchase_orders_closed
    )
    assert len(dump(store, "Bill")) == s.bills
    assert s.purchase_orders_open and s.purchase_orders_partial and s.purchase_orders_closed


def test_history_is_90_days_before_now(seeded: tuple[Store, SeedSummary]) -> None:
    store, _ = seeded
    dates = [i["TxnDate"] for i in dump(store, "Invoice")]
    assert min(dates) >= (NOW - timedelta(days=91)).date().isoformat()
    assert max(dates) <= NOW.date().isoformat()


def test_qty_on_hand_equals_start_plus_received_minus_sold(seeded: tuple[Store, SeedSummary]) -> None:
    """Recompute movements from the documents themselves; the residual (start qty) must be ≥ 0 for every item,
    and items with movement must show them: QtyOnHand - received + sold = start ≥ 0."""
    store, summary = seeded
    moved: dict[str, Decimal] = defaultdict(Decimal)
    for entity, kind, sign in (
        ("Invoice", "SalesItemLineDetail", -1),
        ("SalesReceipt", "SalesItemLineDetail", -1),
        ("Bill", "ItemBasedExpenseLineDetail", 1),
    ):
        for doc in dump(store, entity):
            for line in doc["Line"]:
                if line["DetailType"] == kind:
                    moved[line[kind]["ItemRef"]["value"]] += sign * Decimal(str(line[kind]["Qty"]))
    items = dump(store, "Item")
    tracked = [i for i in items if i.get("TrackQtyOnHand")]
    assert tracked and all(i["Type"] == "Inventory" for i in tracked)
    for item in tracked:
        start = Decimal(str(item["QtyOnHand"])) - moved[item["Id"]]
        assert start >= 0, item["Name"]
    short = [i for i in tracked if i["QtyOnHand"] < 0]
    assert len(short) == summary.short_items and 0 < len(short) < len(tracked) / 3
    assert all("QtyOnHand" not in i for i in items if not i.get("TrackQtyOnHand"))


def test_po_receiving_is_consistent(seeded: tuple[Store, SeedSummary]) -> None:
    store, _ = seeded
    received: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    bills_of: dict[str, set[str]] = defaultdict(set)
    for bill in dump(store, "Bill"):
        for line in bill["Line"]:
            [link] = line["LinkedTxn"]
            received[(link["TxnId"], link["TxnLineId"])] += Decimal(
                str(line["ItemBasedExpenseLineDetail"]["Qty"])
            )
            bills_of[link["TxnId"]].add(bill["Id"])
    for po in dump(store, "PurchaseOrder"):
        full = all(
            received[(po["Id"], ln["Id"])] >= Decimal(str(ln["ItemBasedExpenseLineDetail"]["Qty"]))
            for ln in po["Line"]
        )
        assert po["POStatus"] == ("Closed" if full else "Open")
        assert {lt["TxnId"] for lt in po.get("LinkedTxn", [])} == bills_of[po["Id"]]
        assert po["DueDate"] >= po["TxnDate"]


def test_seeded_links_drive_live_receiving(seeded: tuple[Store, SeedSummary]) -> None:
    """Deleting a seeded bill reopens its closed PO: the link table was seeded, not only the JSON."""
    store, _ = seeded
    closed = store.query(REALM, "SELECT * FROM PurchaseOrder WHERE POStatus = 'Closed' MAXRESULTS 1")
    po = closed["PurchaseOrder"][0]
    for link in po["LinkedTxn"]:
        bill = store.read(REALM, "Bill", link["TxnId"])
        store.delete(REALM, "Bill", {"Id": bill["Id"], "SyncToken": bill["SyncToken"]})
    assert store.read(REALM, "PurchaseOrder", po["Id"])["POStatus"] == "Open"


def test_shapes_match_api_created_objects(seeded: tuple[Store, SeedSummary]) -> None:
    """A seeded invoice has the same keys as one created through the API; names are realistic; emails set."""
    store, _ = seeded
    seeded_inv = dump(store, "Invoice")[0]
    api_inv = store.create(
        REALM,
        "Invoice",
        {
            "CustomerRef": seeded_inv["CustomerRef"],
            "Line": seeded_inv["Line"][:1],
            "BillEmail": {"Address": "x@example.com"},
        },
    )
    assert set(seeded_inv) == set(api_inv)
    assert seeded_inv["Line"][0].keys() == api_inv["Line"][0].keys()
    item = next(i for i in dump(store, "Item") if i["Type"] == "Inventory" and "ReorderPoint" in i)
    assert item["Sku"].startswith("SKU-") and item["PrefVendorRef"]["name"]
    assert (
        isinstance(item["PurchaseCost"], (int, float))
        and item["AssetAccountRef"]["name"] == "Inventory Asset"
    )
    assert all(v["PrimaryEmailAddr"]["Address"] for v in dump(store, "Vendor"))
    assert all("@" in i["BillEmail"]["Address"] for i in dump(store, "Invoice") if i["Id"] != api_inv["Id"])
    assert "_maxLineId" not in json.dumps(seeded_inv)


def test_same_seed_same_data_different_seed_different() -> None:
    def snapshot(seed: int) -> str:
        store = Store(None, Clock())
        try:
            seed_company(store, REALM, seed=seed, items=30, vendors=3, customers=5, invoices=40, now=NOW)
            return json.dumps(
                [
                    dump(store, e)
                    for e in (
                        "Item",
                        "Vendor",
                        "Customer",
                        "Invoice",
                        "SalesReceipt",
                        "PurchaseOrder",
                        "Bill",
                    )
                ],
                sort_keys=True,
            )
        finally:
            store.close()

    assert snapshot(7) == snapshot(7)
    assert snapshot(7) != snapshot(8)


def test_seeding_fires_no_events() -> None:
    store = Store(None, Clock())
    events: list[object] = []
    store.add_listener(events.append)
    seed_company(store, REALM, seed=1, items=10, vendors=2, customers=2, invoices=5, now=NOW)
    store.close()
    assert events == []
