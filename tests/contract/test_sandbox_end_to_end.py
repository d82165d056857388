"""End to end with python-quickbooks objects, unmodified, against the sandbox over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from quickbooks.cdc import change_data_capture
from quickbooks.objects.base import Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import (
    ItemBasedExpenseLine,
    ItemBasedExpenseLineDetail,
    SalesItemLine,
    SalesItemLineDetail,
)
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.purchaseorder import PurchaseOrder
from quickbooks.objects.vendor import Vendor

from syncd.sandbox.timefmt import COMPANY_TZ


@pytest.fixture
def sandbox(make_sandbox):
    """These tests exercise data, not throttles: they are chattier than QBO's 10 requests per second allow."""
    return make_sandbox(per_second=0)


def _ref(obj) -> Ref:
    ref = Ref()
    ref.value = obj.Id
    return ref


def _inventory_item(qb) -> Item:
    return Item.filter(Type="Inventory", max_results=1, qb=qb)[0]


def _invoice(qb, item: Item, qty: int) -> Invoice:
    detail = SalesItemLineDetail()
    detail.ItemRef = _ref(item)
    detail.Qty = qty
    detail.UnitPrice = 10
    line = SalesItemLine()
    line.Amount = 10 * qty
    line.SalesItemLineDetail = detail
    inv = Invoice()
    inv.CustomerRef = _ref(Customer.all(max_results=1, qb=qb)[0])
    inv.Line = [line]
    return inv


def test_item_all_filter_count(qb, sandbox):
    items = Item.all(max_results=1000, qb=qb)
    assert len(items) == Item.count(qb=qb) == 20  # SMALL seed
    assert all(i.Active for i in items)
    inventory = Item.filter(Type="Inventory", qb=qb)
    assert inventory and all(i.Type == "Inventory" for i in inventory)
    assert Item.count("Type = 'Inventory'", qb=qb) == len(inventory)
    page = Item.all(max_results=5, start_position=6, qb=qb)
    assert [i.Id for i in page] == [i.Id for i in items[5:10]]


def test_invoice_create_update_void_delete_moves_stock(qb):
    item = _inventory_item(qb)
    before = Item.get(item.Id, qb=qb).QtyOnHand
    inv = _invoice(qb, item, 3).save(qb=qb)
    assert inv.Id and inv.SyncToken == "0" and inv.TotalAmt == 30 and inv.DocNumber
    assert Item.get(item.Id, qb=qb).QtyOnHand == before - 3

    inv.PrivateNote = "updated by test"
    inv = inv.save(qb=qb)
    assert inv.SyncToken == "1" and Invoice.get(inv.Id, qb=qb).PrivateNote == "updated by test"

    inv.void(qb=qb)
    voided = Invoice.get(inv.Id, qb=qb)
    assert (voided.TotalAmt, voided.Balance, voided.SyncToken) == (0, 0, "2")
    assert Item.get(item.Id, qb=qb).QtyOnHand == before  # void reverses the sale

    other = _invoice(qb, item, 1).save(qb=qb)
    result = other.delete(qb=qb)
    assert result["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": other.Id}
    assert Invoice.filter(Id=other.Id, qb=qb) == []


def test_purchase_order_create(qb):
    item = _inventory_item(qb)
    vendor = Vendor.all(max_results=1, qb=qb)[0]
    detail = ItemBasedExpenseLineDetail()
    detail.ItemRef = _ref(item)
    detail.Qty = 4
    detail.UnitPrice = 2.5
    line = ItemBasedExpenseLine()
    line.Amount = 10
    line.ItemBasedExpenseLineDetail = detail
    po = PurchaseOrder()
    po.VendorRef = _ref(vendor)
    po.Line = [line]
    saved = po.save(qb=qb, request_id="po-e2e-1")
    assert saved.Id and saved.POStatus == "Open" and saved.TotalAmt == 10
    assert PurchaseOrder.get(saved.Id, qb=qb).VendorRef.value == vendor.Id


def test_cdc_reports_changes_and_deletes(qb, sandbox):
    since = datetime.now(COMPANY_TZ).replace(tzinfo=None) - timedelta(seconds=2)  # PQB sends no offset
    item = _inventory_item(qb)
    kept = _invoice(qb, item, 1).save(qb=qb)
    gone = _invoice(qb, item, 1).save(qb=qb)
    gone.delete(qb=qb)
    cdc = change_data_capture([Invoice, Item], since, qb=qb)
    invoices = {i.Id: i for i in cdc.Invoice}
    assert kept.Id in invoices
    assert invoices[gone.Id].status == "Deleted"
    assert item.Id in {i.Id for i in cdc.Item}  # QtyOnHand moved
    later = change_data_capture([Invoice], datetime.now(COMPANY_TZ).replace(tzinfo=None) + timedelta(hours=1),
                                qb=qb)
    assert not hasattr(later, "Invoice")  # the no-change shape {"QueryResponse": [{}]}
