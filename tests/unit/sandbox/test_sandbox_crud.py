"""Entity CRUD against the Store: server-assigned fields, PQB body tolerance, SyncToken, sparse/full update,
validation codes, void and delete shapes compared with the recorded QBO samples."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_support import REALM, Company, sample

from syncd.sandbox.faults import QBOFault
from syncd.sandbox.store import Store


def code_of(fn: Any, *args: Any) -> str:
    with pytest.raises(QBOFault) as exc:
        fn(*args)
    return exc.value.errors[0].code


def vcr_body(name: str, index: int) -> dict[str, Any]:
    return sample(f"qbo_api_vcr/{name}.json")[index]["response"]["body"]


def test_resolve_entity_is_case_insensitive(store: Store) -> None:
    assert store.resolve_entity("purchaseorder") == "PurchaseOrder"
    assert store.resolve_entity("SALESRECEIPT") == "SalesReceipt"
    assert store.resolve_entity("estimate") is None


def test_realms(store: Store) -> None:
    assert store.has_realm(REALM) and not store.has_realm("42")
    store.create_realm("42", "Other")
    assert store.realms() == sorted([REALM, "42"])
    assert {
        "Inventory Asset",
        "Sales of Product Income",
        "Cost of Goods Sold",
        "Accounts Payable (A/P)",
        "Checking",
    } <= set(store.accounts("42"))
    with pytest.raises(QBOFault) as exc:
        store.read("nope", "Item", "1")
    assert exc.value.status == 401


def test_item_create_matches_intuit_example(store: Store, co: Company) -> None:
    """Same keys and server-filled values as item_inventory_create_response.json."""
    body = sample("intuit_docs/item_inventory_create_request.json")
    for key, acct in (
        ("IncomeAccountRef", "Sales of Product Income"),
        ("AssetAccountRef", "Inventory Asset"),
        ("ExpenseAccountRef", "Cost of Goods Sold"),
    ):
        body[key] = co.ref(acct)
    got = store.create(REALM, "Item", body)
    want = sample("intuit_docs/item_inventory_create_response.json")["Item"]
    assert set(got) == set(want)
    assert (
        got["SyncToken"] == "0" and got["Id"].isdigit() and got["domain"] == "QBO" and got["sparse"] is False
    )
    assert got["FullyQualifiedName"] == "Garden Supplies" and got["QtyOnHand"] == 10
    assert got["IncomeAccountRef"]["name"] == "Sales of Product Income"
    assert got["MetaData"]["CreateTime"].endswith(("-08:00", "-07:00"))
    assert store.read(REALM, "item", got["Id"]) == got


def test_invoice_create_matches_recorded_shape(store: Store, co: Company) -> None:
    """VCR create__invoice: subtotal line without Id, TaxCodeRef NON, DocNumber, DueDate, Balance, names."""
    want = vcr_body("create__invoice", 0)["Invoice"]
    addr = {"Line1": "4581 Finch St.", "City": "Bayshore"}
    cust = co.customer("Amy's Bird Sanctuary", BillAddr=addr, ShipAddr=addr)
    svc = store.create(
        REALM, "Item", {"Name": "Services", "Type": "Service", "IncomeAccountRef": co.ref("Services")}
    )
    got = store.create(
        REALM,
        "Invoice",
        {
            "Line": [
                {
                    "Amount": 100.0,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": svc["Id"]}},
                }
            ],
            "CustomerRef": {"value": cust["Id"]},
        },
    )
    assert set(want) - set(got) <= {"CustomField"}  # no custom field definitions in the sandbox company
    assert got["Line"] == [
        {
            "Id": "1",
            "LineNum": 1,
            "Amount": 100.0,
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {
                "ItemRef": {"value": svc["Id"], "name": "Services"},
                "TaxCodeRef": {"value": "NON"},
            },
        },
        {"Amount": 100.0, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}},
    ]
    assert got["CustomerRef"] == {"value": cust["Id"], "name": "Amy's Bird Sanctuary"}
    assert got["TotalAmt"] == 100.0 and got["Balance"] == 100.0 and got["DocNumber"] == "1001"
    assert got["BillAddr"]["City"] == "Bayshore"
    second = store.create(
        REALM,
        "Invoice",
        {"Line": got["Line"][:1], "CustomerRef": {"value": cust["Id"]}, "DocNumber": "INV-7"},
    )
    assert second["DocNumber"] == "INV-7"
    third = store.create(REALM, "Invoice", {"Line": got["Line"][:1], "CustomerRef": {"value": cust["Id"]}})
    assert third["DocNumber"] == "1002"


def test_pqb_purchase_order_body_is_accepted(store: Store, co: Company) -> None:
    """The exact body python-quickbooks 0.9.12 sends (int SyncToken, empty Ref names/types, LineNum 0 ...)."""
    body = sample("client_requests/python_quickbooks_po_create_body.json")
    vendor, item = co.vendor(), co.item("Garden Supplies")
    body["VendorRef"]["value"] = vendor["Id"]
    body["APAccountRef"]["value"] = co.accounts["Accounts Payable (A/P)"]
    body["Line"][0]["ItemBasedExpenseLineDetail"]["ItemRef"]["value"] = item["Id"]
    po = store.create(REALM, "PurchaseOrder", body)
    assert po["POStatus"] == "Open" and po["SyncToken"] == "0" and po["TotalAmt"] == 25.0
    assert po["VendorRef"] == {"value": vendor["Id"], "name": "Hicks Hardware"}
    line = po["Line"][0]
    assert line["LineNum"] == 1 and line["Id"] == "1" and "LinkedTxn" not in line
    assert line["ItemBasedExpenseLineDetail"]["ItemRef"] == {"value": item["Id"], "name": "Garden Supplies"}
    assert "LinkedTxn" not in po and "CustomField" not in po
    assert po["DocNumber"].isdigit() and po["APAccountRef"]["name"] == "Accounts Payable (A/P)"


def test_money_is_decimal_exact(store: Store, co: Company) -> None:
    c, it = co.customer(), co.item()
    inv = store.create(
        REALM,
        "Invoice",
        {
            "CustomerRef": {"value": c["Id"]},
            "Line": [
                {
                    "Amount": "0.10",
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": it["Id"]}},
                }
                for _ in range(3)
            ],
        },
    )
    assert inv["TotalAmt"] == 0.3  # float accumulation would give 0.30000000000000004


def test_unknown_property_is_2010(store: Store, co: Company) -> None:
    with pytest.raises(QBOFault) as exc:
        store.create(REALM, "Invoice", {"BadJson": True})
    err = exc.value.errors[0]
    assert (
        err.code == "2010"
        and "BadJson" in err.detail
        and "com.intuit.schema.finance.v3.Invoice" in err.detail
    )
    assert code_of(store.create, REALM, "Vendor", {"DisplayName": "x", "Line": []}) == "2010"
    assert code_of(store.create, REALM, "Item", {"Name": "x", "Bogus": None}) == "2010"


def test_required_fields_are_2020(store: Store, co: Company) -> None:
    c, v, it = co.customer(), co.vendor(), co.item()
    line = [
        {
            "Amount": 1,
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": it["Id"]}},
        }
    ]
    xline = [
        {
            "Amount": 1,
            "DetailType": "ItemBasedExpenseLineDetail",
            "ItemBasedExpenseLineDetail": {"ItemRef": {"value": it["Id"]}, "Qty": 1},
        }
    ]
    assert code_of(store.create, REALM, "Invoice", {"Line": line}) == "2020"
    assert code_of(store.create, REALM, "Invoice", {"CustomerRef": {"value": c["Id"]}, "Line": []}) == "2020"
    assert code_of(store.create, REALM, "PurchaseOrder", {"Line": xline}) == "2020"
    assert code_of(store.create, REALM, "PurchaseOrder", {"VendorRef": {"value": v["Id"]}}) == "2020"
    assert code_of(store.create, REALM, "Bill", {"Line": xline}) == "2020"
    assert code_of(store.create, REALM, "Bill", {"VendorRef": {"value": v["Id"]}, "Line": []}) == "2020"
    full = {
        "Name": "Widget",
        "Type": "Inventory",
        "QtyOnHand": 1,
        "InvStartDate": "2024-01-01",
        "IncomeAccountRef": co.ref("Sales of Product Income"),
        "ExpenseAccountRef": co.ref("Cost of Goods Sold"),
        "AssetAccountRef": co.ref("Inventory Asset"),
    }
    for missing in (
        "Name",
        "QtyOnHand",
        "InvStartDate",
        "IncomeAccountRef",
        "ExpenseAccountRef",
        "AssetAccountRef",
    ):
        body = {k: v for k, v in full.items() if k != missing}
        with pytest.raises(QBOFault) as exc:
            store.create(REALM, "Item", body)
        assert exc.value.errors[0].code == "2020" and missing in exc.value.errors[0].detail


def test_references_missing_2500_inactive_610(store: Store, co: Company) -> None:
    it = co.item()
    line = [
        {
            "Amount": 1,
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": it["Id"]}},
        }
    ]
    assert code_of(store.create, REALM, "Invoice", {"CustomerRef": {"value": "999"}, "Line": line}) == "2500"
    gone = co.customer("Gone")
    store.update(REALM, "Customer", {"Id": gone["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    assert (
        code_of(store.create, REALM, "Invoice", {"CustomerRef": {"value": gone["Id"]}, "Line": line}) == "610"
    )


def test_duplicate_names_are_6240(store: Store, co: Company) -> None:
    co.item("Pump")
    assert code_of(co.item, "pump") == "6240"
    co.customer("Acme")
    assert code_of(co.vendor, "Acme") == "6240"  # DisplayName is unique across Customer and Vendor
    v = co.vendor("Other")
    assert (
        code_of(
            store.update,
            REALM,
            "Vendor",
            {"Id": v["Id"], "SyncToken": "0", "sparse": True, "DisplayName": "ACME"},
        )
        == "6240"
    )
    renamed = store.update(
        REALM, "Vendor", {"Id": v["Id"], "SyncToken": "0", "sparse": True, "DisplayName": "Other"}
    )
    assert renamed["SyncToken"] == "1"  # re-saving its own name is not a duplicate


def test_ids_and_missing_objects(store: Store, co: Company) -> None:
    assert code_of(store.read, REALM, "Item", "abc") == "2030"
    assert code_of(store.read, REALM, "Item", "424242") == "610"
    assert code_of(store.update, REALM, "Item", {"Id": "x1", "SyncToken": "0"}) == "2030"
    assert code_of(store.update, REALM, "Item", {"Id": "424242", "SyncToken": "0", "Name": "a"}) == "610"
    assert code_of(store.read, REALM, "Widget", "1") == "500"


def test_synctoken_bumps_and_stale_is_5010(store: Store, co: Company) -> None:
    v = co.vendor("Hicks")
    co.tick(2)
    v1 = store.update(
        REALM, "Vendor", {"Id": v["Id"], "SyncToken": 0, "sparse": True, "CompanyName": "Hicks Inc"}
    )
    assert v1["SyncToken"] == "1" and v1["MetaData"]["CreateTime"] == v["MetaData"]["CreateTime"]
    assert v1["MetaData"]["LastUpdatedTime"] > v["MetaData"]["LastUpdatedTime"]
    with pytest.raises(QBOFault) as exc:
        store.update(
            REALM, "Vendor", {"Id": v["Id"], "SyncToken": "0", "sparse": True, "CompanyName": "late"}
        )
    assert exc.value.errors[0].code == "5010" and exc.value.errors[0].message == "Stale Object Error"
    assert store.read(REALM, "Vendor", v["Id"])["CompanyName"] == "Hicks Inc"
    assert code_of(store.update, REALM, "Vendor", {"Id": v["Id"], "CompanyName": "x"}) == "2020"


def test_sparse_update_keeps_other_fields(store: Store, co: Company) -> None:
    v = co.vendor("Hicks", CompanyName="Hicks Hardware", PrimaryEmailAddr={"Address": "a@b.c"})
    got = store.update(
        REALM,
        "Vendor",
        {"Id": v["Id"], "SyncToken": "0", "sparse": True, "PrimaryEmailAddr": {"Address": "new@b.c"}},
    )
    assert got["CompanyName"] == "Hicks Hardware" and got["PrimaryEmailAddr"] == {"Address": "new@b.c"}


def test_full_update_clears_omitted_fields(store: Store, co: Company) -> None:
    v = co.vendor("Hicks", CompanyName="Hicks Hardware", PrimaryEmailAddr={"Address": "a@b.c"})
    got = store.update(REALM, "Vendor", {"Id": v["Id"], "SyncToken": "0", "DisplayName": "Hicks"})
    assert "CompanyName" not in got and "PrimaryEmailAddr" not in got
    assert got["DisplayName"] == "Hicks" and got["Active"] is True


def test_full_update_of_echoed_object_round_trips(store: Store, co: Company) -> None:
    """PQB re-sends everything it read (MetaData, FullyQualifiedName, subtotal line ...) on save."""
    c, it = co.customer(), co.item()
    inv = co.sale("Invoice", c, [(it, 2, 10)])
    again = store.update(REALM, "Invoice", dict(inv))
    assert again["SyncToken"] == "1"
    assert {k: v for k, v in again.items() if k not in ("SyncToken", "MetaData")} == {
        k: v for k, v in inv.items() if k not in ("SyncToken", "MetaData")
    }
    assert co.qty(it) == 8  # stock moved once, not twice


def test_sent_line_array_replaces_lines_and_new_ids_are_fresh(store: Store, co: Company) -> None:
    """VCR update__sales_receipt: a line sent without Id replaces the old one and gets a new Id."""
    c, it = co.customer(), co.item()
    sr = co.sale("SalesReceipt", c, [(it, 1, 10), (it, 2, 10)])
    got = store.update(
        REALM,
        "SalesReceipt",
        {
            "Id": sr["Id"],
            "SyncToken": "0",
            "sparse": True,
            "Line": [
                {
                    "Amount": 337.5,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": it["Id"]}, "UnitPrice": 75, "Qty": 4.5},
                }
            ],
        },
    )
    assert [ln.get("Id") for ln in got["Line"]] == ["3", None]
    assert got["Line"][0]["SalesItemLineDetail"]["Qty"] == 4.5 and got["TotalAmt"] == 337.5
    assert got["Balance"] == 0 and got["DepositToAccountRef"]["name"] == "Undeposited Funds"
    assert got["CustomerRef"]["value"] == c["Id"]  # sparse: header untouched


def test_item_reorder_point_null_in_sparse_update(store: Store, co: Company) -> None:
    it = co.item(ReorderPoint=5)
    with pytest.raises(QBOFault):
        store.update(REALM, "Item", {"Id": it["Id"], "SyncToken": "0", "sparse": True, "ReorderPoint": None})
    assert store.read(REALM, "Item", it["Id"])["ReorderPoint"] == 5
    cleared = store.update(
        REALM,
        "Item",
        {"Id": it["Id"], "SyncToken": "0", "sparse": True, "Description": None, "ReorderPoint": 7},
    )
    assert cleared["ReorderPoint"] == 7
    full = {k: v for k, v in cleared.items() if k != "ReorderPoint"}
    assert "ReorderPoint" not in store.update(REALM, "Item", full)  # a full update may clear it


def test_track_qty_cannot_be_turned_off(store: Store, co: Company) -> None:
    it = co.item()
    assert (
        code_of(
            store.update,
            REALM,
            "Item",
            {"Id": it["Id"], "SyncToken": "0", "sparse": True, "TrackQtyOnHand": False},
        )
        == "6000"
    )


def test_name_list_delete_is_unsupported(store: Store, co: Company) -> None:
    it = co.item()
    assert code_of(store.delete, REALM, "Item", {"Id": it["Id"], "SyncToken": "0"}) == "500"
    inactive = store.update(
        REALM, "Item", {"Id": it["Id"], "SyncToken": "0", "sparse": True, "Active": False}
    )
    assert inactive["Active"] is False and inactive["SyncToken"] == "1"
    assert store.query(REALM, "SELECT COUNT(*) FROM Item") == {"totalCount": 0}


def test_delete_invoice_matches_recording(store: Store, co: Company) -> None:
    want = vcr_body("delete__invoice", 1)["Invoice"]
    c, it = co.customer(), co.item()
    inv = co.sale("Invoice", c, [(it, 1, 100)])
    assert code_of(store.delete, REALM, "Invoice", {"Id": inv["Id"], "SyncToken": "5"}) == "5010"
    got = store.delete(REALM, "Invoice", {"Id": inv["Id"], "SyncToken": "0"})
    assert got == want | {"Id": inv["Id"]}
    assert code_of(store.read, REALM, "Invoice", inv["Id"]) == "610"
    # deleting the already-deleted invoice → 610 [VCR batch__basic]
    assert code_of(store.delete, REALM, "Invoice", {"Id": inv["Id"], "SyncToken": "0"}) == "610"


def test_void_matches_recording(store: Store, co: Company) -> None:
    before, after = vcr_body("void__invoice", 0)["Invoice"], vcr_body("void__invoice", 1)["Invoice"]
    c, it = co.customer(), co.item()
    inv = co.sale("Invoice", c, [(it, 4, 25)])
    co.tick(5)
    assert code_of(store.void, REALM, "Invoice", {"Id": inv["Id"], "SyncToken": "3"}) == "5010"
    got = store.void(REALM, "Invoice", {"Id": inv["Id"], "SyncToken": "0"})
    # the recorded transformation: which keys changed and to what
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {"SyncToken", "MetaData", "PrivateNote", "Line", "TotalAmt", "Balance"}
    assert got["SyncToken"] == "1" and got["PrivateNote"] == "Voided"
    assert got["TotalAmt"] == 0 and got["Balance"] == 0 and got["LinkedTxn"] == []
    assert got["Line"][0]["Amount"] == 0 and got["Line"][-1] == after["Line"][-1]
    assert (
        "Qty" not in got["Line"][0]["SalesItemLineDetail"]
        and "UnitPrice" not in got["Line"][0]["SalesItemLineDetail"]
    )
    assert got["MetaData"]["LastUpdatedTime"] > inv["MetaData"]["LastUpdatedTime"]
    assert {k for k in got if got[k] != inv.get(k)} == changed


def test_void_only_for_sales_forms(store: Store, co: Company) -> None:
    po = co.po(co.vendor(), [(co.item(), 1, 5)])
    assert code_of(store.void, REALM, "PurchaseOrder", {"Id": po["Id"], "SyncToken": "0"}) == "500"


def test_create_with_id_is_an_update(store: Store, co: Company) -> None:
    v = co.vendor("A")
    got = store.create(
        REALM, "Vendor", {"Id": v["Id"], "SyncToken": "0", "sparse": True, "CompanyName": "A Co"}
    )
    assert got["Id"] == v["Id"] and got["SyncToken"] == "1"


def test_customer_and_vendor_shapes(store: Store, co: Company) -> None:
    want = vcr_body("create__customer", 0)["Customer"]
    got = store.create(REALM, "Customer", {"DisplayName": "Doe5, Jane", "Title": "", "GivenName": None})
    assert set(want) - set(got) == {"DefaultTaxCodeRef"}
    assert got["FullyQualifiedName"] == got["PrintOnCheckName"] == "Doe5, Jane"
    v = store.create(REALM, "Vendor", {"GivenName": "Bessie", "FamilyName": "Williams"})
    assert (
        v["DisplayName"] == "Bessie Williams" and "FullyQualifiedName" not in v and v["Vendor1099"] is False
    )


def test_missing_id_on_write_is_2020(store: Store, co: Company) -> None:
    assert code_of(store.delete, REALM, "Invoice", {"SyncToken": "0"}) == "2020"
    assert code_of(store.void, REALM, "Invoice", {"SyncToken": "0"}) == "2020"


def test_unquoted_number_matches_text_property(store: Store, co: Company) -> None:
    c, it = co.customer(), co.item()
    inv = co.sale("Invoice", c, [(it, 1, 1)])
    res = store.query(REALM, f"SELECT * FROM Invoice WHERE DocNumber = {inv['DocNumber']}")
    assert [i["Id"] for i in res["Invoice"]] == [inv["Id"]]
