"""Parsing raw QBO objects into mirror rows: recorded payloads and hand-written QBO-shaped dicts."""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from syncd.errors import SkippableRecordError
from syncd.sync.parse import Deleted, Parsed, id_sort_key, parse_object


def parsed(entity: str, raw: Any) -> Parsed:
    out = parse_object(entity, raw)
    assert isinstance(out, Parsed)
    return out


def invoice(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "Id": "130", "SyncToken": "2", "DocNumber": "1037", "TxnDate": "2024-03-01", "DueDate": "2024-03-31",
        "MetaData": {"CreateTime": "2024-03-01T10:00:00-08:00", "LastUpdatedTime": "2024-03-02T11:12:13-08:00"},
        "CustomerRef": {"value": "58", "name": "Amy's Bird Sanctuary"}, "BillEmail": {"Address": "amy@example.com"},
        "TotalAmt": Decimal("150.50"),
        "Line": [
            {"Id": "1", "LineNum": Decimal(1), "Amount": Decimal("100.00"), "DetailType": "SalesItemLineDetail",
             "SalesItemLineDetail": {"ItemRef": {"value": "11", "name": "Pump"}, "Qty": Decimal(4),
                                     "UnitPrice": Decimal(25)}},
            {"Id": "2", "LineNum": Decimal(2), "Amount": Decimal("50.50"), "DetailType": "SalesItemLineDetail",
             "SalesItemLineDetail": {"ItemRef": {"value": "12"}, "Qty": Decimal("2.5"),
                                     "UnitPrice": Decimal("20.2")}},
            {"Amount": Decimal("150.50"), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}},
        ],
    }
    base.update(over)
    return base


def test_invoice_header_and_lines() -> None:
    p = parsed("Invoice", invoice())
    assert (p.id, p.sync_token) == ("130", "2")
    assert p.last_updated == datetime(2024, 3, 2, 19, 12, 13, tzinfo=UTC)
    assert p.values["customer_id"] == "58" and p.values["bill_email"] == "amy@example.com"
    assert p.values["txn_date"] == date(2024, 3, 1) and p.values["total_amt"] == Decimal("150.50")
    assert p.values["voided"] is False
    assert [(ln["item_id"], ln["qty"], ln["unit_price"]) for ln in p.lines] == [
        ("11", Decimal(4), Decimal(25)), ("12", Decimal("2.5"), Decimal("20.2"))]
    assert p.item_refs == {"11", "12"}
    assert all(isinstance(ln["qty"], Decimal) for ln in p.lines)


def test_recorded_void_invoice_is_voided_and_keeps_lines_without_qty(vcr: Any) -> None:
    before = parsed("Invoice", vcr("void__invoice", 0)["Invoice"])
    after = parsed("Invoice", vcr("void__invoice", 1)["Invoice"])
    assert before.values["voided"] is False
    assert after.values["voided"] is True and after.values["private_note"] == "Voided"
    assert after.values["total_amt"] == 0
    assert [(ln["item_id"], ln["qty"], ln["amount"]) for ln in after.lines] == [("1", None, 0)]
    assert int(after.sync_token) > int(before.sync_token)


def test_recorded_sales_receipts(vcr: Any) -> None:
    receipts = vcr("all__sales_receipts", 0)["QueryResponse"]["SalesReceipt"]
    rows = [parsed("SalesReceipt", r) for r in receipts]
    first = rows[0]
    assert first.id == "17" and first.lines[0]["qty"] == Decimal("4.5")
    assert first.lines[0]["amount"] == Decimal("337.5")
    assert all(ln["detail_type"] != "SubTotalLineDetail" for r in rows for ln in r.lines)


def test_recorded_purchase_order(doc: Any) -> None:
    po = parsed("PurchaseOrder", doc("purchaseorder_object_example")["PurchaseOrder"])
    assert po.values["po_status"] == "Open" and po.values["vendor_id"] == "41"
    assert po.values["manually_closed"] is False and po.values["expected_date"] is None
    assert [(ln["item_id"], ln["qty"], ln["unit_price"]) for ln in po.lines] == [("38", 1, 25)]


def test_recorded_deleted_stub(doc: Any) -> None:
    stub = doc("cdc_response_example")["CDCResponse"][0]["QueryResponse"][1]["Estimate"][2]
    out = parse_object("Invoice", stub)
    assert isinstance(out, Deleted) and out.id == "979"
    assert out.last_updated == datetime(2015, 12, 23, 20, 55, 50, tzinfo=UTC)


def test_recorded_inactive_vendor(vcr: Any) -> None:
    vendors = vcr("get__inactive_vendors", 0)["QueryResponse"]["Vendor"]
    rows = [parsed("Vendor", v) for v in vendors]
    inactive = [r for r in rows if r.values["active"] is False]
    assert len(inactive) == 1 and "(deleted)" in (inactive[0].values["display_name"] or "")


def test_item_fields() -> None:
    raw = {"Id": "5", "SyncToken": "7", "MetaData": {"LastUpdatedTime": "2024-01-01T00:00:00Z"},
           "Name": "Pump", "Sku": "P-1", "Type": "Inventory", "TrackQtyOnHand": True, "QtyOnHand": Decimal(-3),
           "ReorderPoint": Decimal(10), "Active": False, "PrefVendorRef": {"value": "9"},
           "UnitPrice": Decimal("10.5"), "PurchaseCost": Decimal("4.25")}
    p = parsed("Item", raw)
    assert p.values == {
        "name": "Pump", "sku": "P-1", "type": "Inventory", "active": False, "track_qty_on_hand": True,
        "qty_on_hand": Decimal(-3), "reorder_point": Decimal(10), "unit_price": Decimal("10.5"),
        "purchase_cost": Decimal("4.25"), "pref_vendor_id": "9"}


def test_bill_line_links_purchase_order() -> None:
    raw = {"Id": "126", "SyncToken": "0", "MetaData": {"LastUpdatedTime": "2024-01-01T00:00:00-08:00"},
           "VendorRef": {"value": "41"}, "TotalAmt": Decimal(80),
           "Line": [{"Id": "1", "Amount": Decimal(80), "DetailType": "ItemBasedExpenseLineDetail",
                     "ItemBasedExpenseLineDetail": {"ItemRef": {"value": "11"}, "Qty": Decimal(8)},
                     "LinkedTxn": [{"TxnId": "257", "TxnType": "PurchaseOrder", "TxnLineId": "1"}]},
                    {"Id": "2", "Amount": Decimal(5), "DetailType": "AccountBasedExpenseLineDetail",
                     "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "7"}}}]}
    p = parsed("Bill", raw)
    assert [(ln["item_id"], ln["qty"], ln["po_id"], ln["po_line_id"]) for ln in p.lines] == [
        ("11", 8, "257", "1"), (None, None, None, None)]


def test_group_lines_are_flattened() -> None:
    group = {"Id": "9", "DetailType": "GroupLineDetail", "GroupLineDetail": {
        "GroupItemRef": {"value": "50"}, "Quantity": Decimal(1),
        "Line": [{"Id": "10", "Amount": Decimal(3), "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": {"value": "13"}, "Qty": Decimal(3)}}]}}
    p = parsed("Invoice", invoice(Line=[group]))
    assert [(ln["seq"], ln["item_id"], ln["qty"]) for ln in p.lines] == [(0, "13", 3)]


@pytest.mark.parametrize("mutate, reason", [
    (lambda r: r.pop("Id"), "missing Id"),
    (lambda r: r.pop("SyncToken"), "missing SyncToken"),
    (lambda r: r.pop("MetaData"), "missing MetaData.LastUpdatedTime"),
    (lambda r: r["MetaData"].update(LastUpdatedTime="2024-03-02T11:12:13"), "no UTC offset"),
    (lambda r: r["Line"][0]["SalesItemLineDetail"].update(Qty="four"), "Qty is not numeric"),
    (lambda r: r["Line"][0]["SalesItemLineDetail"].update(Qty=4.0), "not an exact number"),
    (lambda r: r["Line"][0]["SalesItemLineDetail"].pop("ItemRef"), "has no ItemRef"),
    (lambda r: r["Line"][0].pop("SalesItemLineDetail"), "has no SalesItemLineDetail"),
    (lambda r: r["Line"][0]["SalesItemLineDetail"].update(Qty=Decimal("1e20")), "too large"),
    (lambda r: r["Line"][0]["SalesItemLineDetail"].update(Qty=Decimal("0.123456789")), "decimal places"),
    (lambda r: r.update(TxnDate="March 1st"), "TxnDate is not a date"),
    (lambda r: r.update(Line="oops"), "Line is not a list"),
])
def test_malformed_records_are_skippable_with_a_reason(mutate: Any, reason: str) -> None:
    raw = deepcopy(invoice())
    mutate(raw)
    with pytest.raises(SkippableRecordError) as info:
        parse_object("Invoice", raw)
    assert reason in info.value.reason
    assert info.value.record.startswith("Invoice")


def test_numeric_strings_are_accepted() -> None:
    raw = invoice()
    raw["Line"][0]["SalesItemLineDetail"]["Qty"] = "4"
    assert parsed("Invoice", raw).lines[0]["qty"] == Decimal(4)


def test_raw_hash_ignores_key_order() -> None:
    a = invoice()
    b = dict(reversed(list(a.items())))
    assert parsed("Invoice", a).raw_hash == parsed("Invoice", b).raw_hash
    c = invoice(PrivateNote="changed")
    assert parsed("Invoice", c).raw_hash != parsed("Invoice", a).raw_hash


def test_voided_needs_zero_total() -> None:
    assert parsed("Invoice", invoice(PrivateNote="Voided", TotalAmt=Decimal(0))).values["voided"] is True
    assert parsed("Invoice", invoice(PrivateNote="Voided by mistake? no", TotalAmt=Decimal(5))).values[
        "voided"] is False


def test_id_sort_key_is_numeric() -> None:
    assert sorted(["10", "9", "100", "x"], key=id_sort_key) == ["9", "10", "100", "x"]
