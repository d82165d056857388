"""Every entity the daemon mirrors, over HTTP with python-quickbooks objects (unmodified).

Asserts the exception class python-quickbooks raises for each fault (QBO_FACTS §6): 610 →
ObjectNotFoundException, 2010/4001 → ValidationException, 5010 and 6240 (the unmapped 5000-9999 gap) →
plain QuickbooksException, "500" Unsupported Operation → UnsupportedException.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from quickbooks.exceptions import (
    ObjectNotFoundException,
    QuickbooksException,
    UnsupportedException,
    ValidationException,
)
from quickbooks.objects.account import Account
from quickbooks.objects.base import Ref
from quickbooks.objects.bill import Bill
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import (
    ItemBasedExpenseLine,
    ItemBasedExpenseLineDetail,
    SalesItemLine,
    SalesItemLineDetail,
)
from quickbooks.objects.item import Item
from quickbooks.objects.purchaseorder import PurchaseOrder
from quickbooks.objects.salesreceipt import SalesReceipt
from quickbooks.objects.vendor import Vendor


@pytest.fixture
def sandbox(make_sandbox):
    return make_sandbox(per_second=0)  # data tests, not throttle tests


def _ref(value: str) -> Ref:
    ref = Ref()
    ref.value = value
    return ref


def _stock(qb, item_id: str) -> Decimal:
    return Decimal(str(Item.get(item_id, qb=qb).QtyOnHand))


def _tracked_item(qb) -> Item:
    return Item.filter(Type="Inventory", max_results=1, qb=qb)[0]


def test_vendor_customer_account_create_read_update(qb):
    vendor = Vendor()
    vendor.DisplayName = "Contract Test Supplies"
    vendor.CompanyName = "Contract Test Supplies LLC"
    vendor = vendor.save(qb=qb)
    assert vendor.Id and vendor.SyncToken == "0" and vendor.Active is True
    assert Vendor.get(vendor.Id, qb=qb).CompanyName == "Contract Test Supplies LLC"

    customer = Customer()
    customer.DisplayName = "Contract Test Customer"
    customer = customer.save(qb=qb)
    customer.Notes = "prefers email"
    customer = customer.save(qb=qb)  # python-quickbooks sends a full update
    assert customer.SyncToken == "1" and Customer.get(customer.Id, qb=qb).Notes == "prefers email"

    account = Account()
    account.Name = "Contract Test Expenses"
    account.AccountType = "Expense"
    account = account.save(qb=qb)
    assert Account.get(account.Id, qb=qb).AccountType == "Expense"


def test_sparse_update_keeps_unsent_fields_and_full_update_clears_them(qb):
    vendor = Vendor()
    vendor.DisplayName = "Sparse Vendor"
    vendor.CompanyName = "Sparse Co"
    vendor.Notes = "keep me"
    vendor = vendor.save(qb=qb)

    sparse = qb.update_object("Vendor", json.dumps({"Id": vendor.Id, "SyncToken": vendor.SyncToken, "sparse": True,
                                         "CompanyName": "Sparse Co 2"}))["Vendor"]
    assert sparse["CompanyName"] == "Sparse Co 2" and sparse["Notes"] == "keep me" and sparse["SyncToken"] == "1"

    full = qb.update_object("Vendor", json.dumps({"Id": vendor.Id, "SyncToken": "1", "DisplayName": "Sparse Vendor"}))["Vendor"]
    assert "CompanyName" not in full and "Notes" not in full and full["SyncToken"] == "2"


def test_stale_synctoken_is_plain_quickbooks_exception_5010(qb):
    customer = Customer.all(max_results=1, qb=qb)[0]
    stale = customer.SyncToken
    customer.Notes = "first writer"
    customer.save(qb=qb)
    with pytest.raises(QuickbooksException) as info:
        qb.update_object("Customer", json.dumps({"Id": customer.Id, "SyncToken": stale, "sparse": True, "Notes": "second"}))
    assert type(info.value) is QuickbooksException  # 5000-9999 is python-quickbooks' unmapped gap
    assert int(info.value.error_code) == 5010 and "Stale Object Error" in info.value.message


def test_missing_object_is_610(qb):
    with pytest.raises(ObjectNotFoundException) as info:
        Vendor.get("987654", qb=qb)
    assert int(info.value.error_code) == 610


def test_unknown_property_is_2010(qb):
    with pytest.raises(ValidationException) as info:
        qb.create_object("Vendor", json.dumps({"DisplayName": "Odd Vendor", "FavouriteColour": "teal"}))
    assert int(info.value.error_code) == 2010
    assert "FavouriteColour" in info.value.detail


def test_duplicate_display_name_across_customers_and_vendors_is_6240(qb):
    taken = Customer.all(max_results=1, qb=qb)[0].DisplayName
    vendor = Vendor()
    vendor.DisplayName = taken
    with pytest.raises(QuickbooksException) as info:
        vendor.save(qb=qb)
    assert type(info.value) is QuickbooksException and int(info.value.error_code) == 6240


def test_items_are_inactivated_not_deleted(qb):
    item = Item.all(max_results=1, qb=qb)[0]
    with pytest.raises(UnsupportedException):
        qb.delete_object("Item", json.dumps({"Id": item.Id, "SyncToken": item.SyncToken}))
    item.Active = False
    item.save(qb=qb)
    assert item.Id not in {i.Id for i in Item.all(max_results=1000, qb=qb)}  # name lists: active only
    inactive = Item.filter(Active=False, qb=qb)
    assert [i.Id for i in inactive] == [item.Id]


def test_sales_receipt_lowers_stock_and_void_restores_it(qb):
    item = _tracked_item(qb)
    before = _stock(qb, item.Id)
    detail = SalesItemLineDetail()
    detail.ItemRef = _ref(item.Id)
    detail.Qty = before + 4  # oversell: QBO lets QtyOnHand go negative
    detail.UnitPrice = 2
    line = SalesItemLine()
    line.Amount = float((before + 4) * 2)
    line.SalesItemLineDetail = detail
    receipt = SalesReceipt()
    receipt.CustomerRef = _ref(Customer.all(max_results=1, qb=qb)[0].Id)
    receipt.Line = [line]
    receipt = receipt.save(qb=qb)
    assert _stock(qb, item.Id) == Decimal(-4)
    receipt.void(qb=qb)
    voided = SalesReceipt.get(receipt.Id, qb=qb)
    assert voided.PrivateNote == "Voided" and voided.TotalAmt == 0
    assert _stock(qb, item.Id) == before


def _po(qb, item: Item, qty: int) -> PurchaseOrder:
    detail = ItemBasedExpenseLineDetail()
    detail.ItemRef = _ref(item.Id)
    detail.Qty = qty
    detail.UnitPrice = 3
    line = ItemBasedExpenseLine()
    line.Amount = 3 * qty
    line.ItemBasedExpenseLineDetail = detail
    po = PurchaseOrder()
    po.VendorRef = _ref(Vendor.all(max_results=1, qb=qb)[0].Id)
    po.Line = [line]
    return po.save(qb=qb)


def _bill_against(qb, po: PurchaseOrder, qty: int) -> Bill:
    po_line = po.Line[0]
    return Bill.from_json(qb.create_object("Bill", json.dumps({
        "VendorRef": {"value": po.VendorRef.value},
        "Line": [{
            "DetailType": "ItemBasedExpenseLineDetail", "Amount": 3 * qty,
            "LinkedTxn": [{"TxnId": po.Id, "TxnType": "PurchaseOrder", "TxnLineId": po_line.Id}],
            "ItemBasedExpenseLineDetail": {"ItemRef": {"value": po_line.ItemBasedExpenseLineDetail.ItemRef.value},
                                           "Qty": qty, "UnitPrice": 3},
        }],
    }))["Bill"])


def test_bills_receive_stock_and_close_the_purchase_order(qb):
    item = _tracked_item(qb)
    before = _stock(qb, item.Id)
    po = _po(qb, item, 10)
    assert _stock(qb, item.Id) == before  # a PO is non-posting

    first = _bill_against(qb, po, 4)
    assert _stock(qb, item.Id) == before + 4
    assert PurchaseOrder.get(po.Id, qb=qb).POStatus == "Open"  # partly received

    _bill_against(qb, po, 6)
    received = PurchaseOrder.get(po.Id, qb=qb)
    assert received.POStatus == "Closed"
    assert {t.TxnType for t in received.LinkedTxn} == {"Bill"}

    first.delete(qb=qb)
    assert _stock(qb, item.Id) == before + 6
    assert PurchaseOrder.get(po.Id, qb=qb).POStatus == "Open"  # reopened: 4 no longer received


def test_query_paging_limits_and_empty_pages(qb):
    vendors = Vendor.all(max_results=1000, qb=qb)
    pages = [Vendor.all(start_position=s, max_results=3, qb=qb) for s in range(1, len(vendors) + 1, 3)]
    assert [v.Id for page in pages for v in page] == [v.Id for v in vendors]  # STARTPOSITION is 1-based
    assert Vendor.all(start_position=len(vendors) + 1, max_results=3, qb=qb) == []  # {"QueryResponse": {}}
    past = qb.query(f"SELECT * FROM Vendor STARTPOSITION {len(vendors) + 1}")
    assert past["QueryResponse"] == {} and set(past) == {"QueryResponse", "time"}
    with pytest.raises(ValidationException) as info:
        Vendor.all(max_results=1500, qb=qb)
    assert int(info.value.error_code) == 4001
    assert "value 1500 is too large. Max allowed value is 1000" in info.value.detail
    desc = Vendor.all(order_by="Id DESC", max_results=1000, qb=qb)
    assert [v.Id for v in desc] == sorted((v.Id for v in vendors), key=int, reverse=True)
    lower = qb.query("select * from Vendor maxresults 2")["QueryResponse"]
    assert lower["maxResults"] == 2 and len(lower["Vendor"]) == 2
