"""Per-entity rules: required fields, defaults and server-computed fields (lines, totals, names), and void.

Pure functions over plain dicts; the store supplies ``lookup`` and the company's default accounts. Shapes follow
the recorded samples in qbo_samples/ (create__invoice, void__invoice, item_inventory_create_response,
purchaseorder_object_example, all__vendors_by_5, create__customer, deactivate__account).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from syncd.sandbox import faults
from syncd.sandbox.entities import (
    EXPENSE_FORMS,
    LINE_TYPES,
    SALES_FORMS,
    USD,
    Lookup,
    dec,
    default_due,
    money,
    quantity,
    resolve_refs,
)

ZERO = Decimal(0)

_CLASSIFICATION = {
    "Bank": "Asset",
    "Other Current Asset": "Asset",
    "Fixed Asset": "Asset",
    "Other Asset": "Asset",
    "Accounts Receivable": "Asset",
    "Equity": "Equity",
    "Expense": "Expense",
    "Other Expense": "Expense",
    "Cost of Goods Sold": "Expense",
    "Accounts Payable": "Liability",
    "Credit Card": "Liability",
    "Long Term Liability": "Liability",
    "Other Current Liability": "Liability",
    "Income": "Revenue",
    "Other Income": "Revenue",
}
_STICKY_ITEM = ("Type", "TrackQtyOnHand", "QtyOnHand", "InvStartDate")


@dataclass(frozen=True)
class Context:
    """What a rule may consult besides the body: referenced objects, company accounts, today's company date."""

    lookup: Lookup
    today: date
    ap_account: str | None
    undeposited_account: str | None


def finalize(
    entity: str, doc: dict[str, Any], old: dict[str, Any] | None, sent: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    """Validate ``doc`` (merged body) and fill server-computed fields. ``sent`` = keys the client wrote.

    Refs are validated only where the client wrote them, so editing an invoice sparsely does not fail because an
    item on an untouched line was later made inactive.
    """
    for key in sent:
        if key in doc:
            resolve_refs(entity, doc[key], ctx.lookup, key)
    if entity == "Item":
        return _item(doc, old)
    if entity in ("Vendor", "Customer"):
        return _party(entity, doc, old, ctx)
    if entity == "Account":
        return _account(doc, old)
    return _transaction(entity, doc, old, ctx)


def _require(doc: dict[str, Any], *names: str) -> None:
    for name in names:
        if doc.get(name) in (None, "", [], {}):
            raise faults.required_param(name)


def _item(doc: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    if old is not None:
        for key in _STICKY_ITEM:  # stock state survives a full update that leaves it out
            if key not in doc and key in old:
                doc[key] = old[key]
    _require(doc, "Name")
    name = str(doc["Name"])
    if ":" in name or "\t" in name or "\n" in name or len(name) > 100:
        raise faults.business_validation("Item Name must be ≤100 characters without colons, tabs or newlines")
    # UNCONFIRMED default Type when none is sent (PQB sends ""): Service — an untracked type, so a forgotten Type
    # can never move stock.
    doc.setdefault("Type", "Service")
    if doc["Type"] not in ("Inventory", "NonInventory", "Service", "Group", "Category"):
        raise faults.business_validation(f"Invalid item Type {doc['Type']}")
    if old is not None and old.get("Type") == "Inventory" and doc["Type"] != "Inventory":
        raise faults.business_validation("An inventory item cannot change its Type")
    if doc["Type"] == "Inventory":
        doc.setdefault("TrackQtyOnHand", True)
        _require(doc, "QtyOnHand", "InvStartDate", "IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef")
    if old is not None and old.get("TrackQtyOnHand") is True and doc.get("TrackQtyOnHand") is not True:
        raise faults.business_validation("TrackQtyOnHand cannot be set to false once true")
    for key in ("QtyOnHand", "ReorderPoint", "UnitPrice", "PurchaseCost"):
        if key in doc:
            doc[key] = quantity(dec(doc[key], key))
    doc.setdefault("Active", True)
    doc.setdefault("Taxable", False)
    doc.setdefault("UnitPrice", 0)
    doc.setdefault("PurchaseCost", 0)
    doc.setdefault("TrackQtyOnHand", False)
    parent = doc.get("ParentRef")
    if parent:
        doc["SubItem"] = True
        doc["FullyQualifiedName"] = f"{parent['name']}:{name}"
        doc["Level"] = parent["name"].count(":") + 1
    else:
        doc.pop("SubItem", None)
        doc.pop("Level", None)
        doc["FullyQualifiedName"] = name
    return doc


def _party(entity: str, doc: dict[str, Any], old: dict[str, Any] | None, ctx: Context) -> dict[str, Any]:
    if not doc.get("DisplayName"):
        parts = [doc.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
        composed = " ".join(str(p) for p in parts if p) or doc.get("CompanyName")
        if not composed:
            raise faults.required_param("DisplayName")
        doc["DisplayName"] = composed
    doc.setdefault("PrintOnCheckName", doc["DisplayName"])
    doc.setdefault("Active", True)
    doc.setdefault("CurrencyRef", dict(USD))
    # Balances are computed by QBO (read-only here: payments are not modelled), so keep the stored value.
    doc["Balance"] = (old or {}).get("Balance", 0)
    if entity == "Vendor":
        # The recorded vendors carry no FullyQualifiedName [VCR all__vendors_by_5]; match that shape.
        doc.pop("FullyQualifiedName", None)
        doc.setdefault("Vendor1099", False)
        return doc
    doc["BalanceWithJobs"] = (old or {}).get("BalanceWithJobs", 0)
    doc.setdefault("Taxable", True)  # as in VCR create__customer
    doc.setdefault("BillWithParent", False)
    doc.setdefault("PreferredDeliveryMethod", "Print")
    parent = doc.get("ParentRef")
    if parent:
        doc["Job"] = True
        doc["FullyQualifiedName"] = f"{parent['name']}:{doc['DisplayName']}"
        doc["Level"] = parent["name"].count(":") + 1
    else:
        doc["Job"] = False
        doc.pop("Level", None)
        doc["FullyQualifiedName"] = doc["DisplayName"]
    return doc


def _account(doc: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    _require(doc, "Name", "AccountType")
    if doc["AccountType"] not in _CLASSIFICATION:
        raise faults.business_validation(f"Invalid AccountType {doc['AccountType']}")
    doc["Classification"] = _CLASSIFICATION[doc["AccountType"]]
    doc.setdefault("Active", True)
    doc.setdefault("CurrencyRef", dict(USD))
    parent = doc.get("ParentRef")
    doc["SubAccount"] = bool(parent)
    doc["FullyQualifiedName"] = f"{parent['name']}:{doc['Name']}" if parent else doc["Name"]
    doc["CurrentBalance"] = (old or {}).get("CurrentBalance", 0)
    doc["CurrentBalanceWithSubAccounts"] = (old or {}).get("CurrentBalanceWithSubAccounts", 0)
    return doc


def _lines(
    entity: str, doc: dict[str, Any], old: dict[str, Any] | None, ctx: Context
) -> tuple[list, Decimal, Decimal]:
    """Normalise lines → (lines, subtotal of item lines, total). Line Ids survive when the client echoes them;
    new lines get ids above any the document ever had (VCR update__sales_receipt: line 5 replaced → Id 6)."""
    allowed = LINE_TYPES["sales" if entity in SALES_FORMS else "expense"]
    old_ids = {str(ln.get("Id")) for ln in (old or {}).get("Line", []) if ln.get("Id")}
    next_id = max([int(i) for i in old_ids if i.isdigit()] + [int((old or {}).get("_maxLineId", 0))]) + 1
    out: list[dict[str, Any]] = []
    subtotal = discount = ZERO
    for raw in doc.get("Line") or []:
        kind = raw.get("DetailType")
        if kind == "SubTotalLineDetail":
            continue  # server-computed; clients echo it back on full updates
        if kind not in allowed:
            raise faults.business_validation(f"Line DetailType {kind!r} is not valid for {entity}")
        line: dict[str, Any] = {}
        given = str(raw.get("Id", ""))
        if given in old_ids:
            line["Id"] = given
        else:
            line["Id"] = str(next_id)
            next_id += 1
        line["LineNum"] = len(out) + 1
        if raw.get("Description"):
            line["Description"] = raw["Description"]
        detail = dict(raw.get(kind) or {})
        amount = _line_amount(raw, detail, kind)
        line["Amount"] = money(amount) if amount is not None else None
        if line["Amount"] is None:
            del line["Amount"]
        line["DetailType"] = kind
        if kind in ("SalesItemLineDetail", "ItemBasedExpenseLineDetail"):
            if not detail.get("ItemRef"):
                raise faults.required_param("ItemRef", "Line.ItemRef")
            item = ctx.lookup("Item", str(detail["ItemRef"]["value"])) or {}
            if kind == "ItemBasedExpenseLineDetail" and not item.get("ExpenseAccountRef"):
                raise faults.business_validation("You must select an account for this transaction.")
            for key in ("Qty", "UnitPrice"):
                if key in detail:
                    detail[key] = quantity(dec(detail[key], key))
            if kind == "SalesItemLineDetail":
                detail.setdefault("TaxCodeRef", {"value": "NON"})
            else:
                detail.setdefault("BillableStatus", "NotBillable")
                detail.setdefault("TaxCodeRef", {"value": "NON"})
            if detail.get("TaxInclusiveAmt") == 0:
                del detail["TaxInclusiveAmt"]  # PQB's placeholder, not a value QBO echoes back
            subtotal += amount or ZERO
        elif kind == "AccountBasedExpenseLineDetail":
            if not detail.get("AccountRef"):
                raise faults.required_param("AccountRef", "Line.AccountRef")
            detail.setdefault("BillableStatus", "NotBillable")
            subtotal += amount or ZERO
        elif kind == "GroupLineDetail":
            subtotal += amount or ZERO
        elif kind == "DiscountLineDetail":
            discount += amount or ZERO
        if kind != "DescriptionOnly" or detail:
            line[kind] = detail
        for key in ("LinkedTxn", "CustomField", "ProjectRef"):
            if raw.get(key):
                line[key] = raw[key]
        out.append(line)
    if not out:
        raise faults.required_param("Line")
    doc["_maxLineId"] = next_id - 1  # internal: never reuse a line id; stripped before rendering
    return out, subtotal, subtotal - discount


def _line_amount(raw: dict[str, Any], detail: dict[str, Any], kind: str) -> Decimal | None:
    if "Amount" in raw:
        return dec(raw["Amount"], "Amount")
    if "Qty" in detail and "UnitPrice" in detail:
        return dec(detail["Qty"], "Qty") * dec(detail["UnitPrice"], "UnitPrice")
    if kind in ("DescriptionOnly",):
        return None
    raise faults.required_param("Amount", "Line.Amount")


def _transaction(
    entity: str, doc: dict[str, Any], old: dict[str, Any] | None, ctx: Context
) -> dict[str, Any]:
    required = {
        "Invoice": ("CustomerRef", "Line"),
        "SalesReceipt": ("Line",),
        "PurchaseOrder": ("VendorRef", "Line"),
        "Bill": ("VendorRef", "Line"),
        "Purchase": ("AccountRef", "PaymentType", "Line"),
    }[entity]
    _require(doc, *required)
    if old is not None:
        # Server-assigned numbering and dates survive a full update that leaves them out (never renumber).
        for key in ("DocNumber", "TxnDate"):
            if key not in doc and key in old:
                doc[key] = old[key]
        doc["_maxLineId"] = old.get("_maxLineId", 0)
    doc.setdefault("TxnDate", ctx.today.isoformat())
    doc.setdefault("CurrencyRef", dict(USD))
    lines, subtotal, total = _lines(entity, doc, old, ctx)
    if entity in SALES_FORMS:
        lines.append(
            {"Amount": money(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
        )
    doc["Line"] = lines
    doc["TotalAmt"] = money(total)
    if entity in SALES_FORMS:
        doc.setdefault("LinkedTxn", [])
        doc.setdefault("TxnTaxDetail", {"TotalTax": 0})
        doc.setdefault("ApplyTaxAfterDiscount", False)
        doc.setdefault("EmailStatus", "NotSet")
        customer = (
            ctx.lookup("Customer", str(doc["CustomerRef"]["value"])) if doc.get("CustomerRef") else None
        )
        for addr in ("BillAddr", "ShipAddr"):
            if customer and addr not in doc and customer.get(addr):
                doc[addr] = dict(customer[addr])
    if entity == "Invoice":
        for flag in (
            "AllowIPNPayment",
            "AllowOnlinePayment",
            "AllowOnlineCreditCardPayment",
            "AllowOnlineACHPayment",
        ):
            doc.setdefault(flag, False)
        doc.setdefault("DueDate", default_due(doc["TxnDate"]))
        doc.setdefault("PrintStatus", "NeedToPrint")  # as in VCR create__invoice
        doc["Balance"] = money(total)  # payments are not modelled: an invoice stays fully open
    elif entity == "SalesReceipt":
        doc.setdefault("PrintStatus", "NotSet")
        doc["Balance"] = 0
        if "DepositToAccountRef" not in doc and ctx.undeposited_account:
            doc["DepositToAccountRef"] = {"value": ctx.undeposited_account, "name": "Undeposited Funds"}
    if entity in ("PurchaseOrder", "Bill") and "APAccountRef" not in doc and ctx.ap_account:
        # "implied if only one AP account" [PO]; every sandbox company has exactly one.
        doc["APAccountRef"] = {"value": ctx.ap_account, "name": "Accounts Payable (A/P)"}
    if entity == "PurchaseOrder":
        doc.setdefault("EmailStatus", "NotSet")
        vendor = ctx.lookup("Vendor", str(doc["VendorRef"]["value"]))
        if vendor and "VendorAddr" not in doc and vendor.get("BillAddr"):
            doc["VendorAddr"] = dict(vendor["BillAddr"])
        # Header LinkedTxn and POStatus are maintained from linked bills by the store (inventory.py).
        doc["LinkedTxn"] = list((old or {}).get("LinkedTxn", []))
        if not doc["LinkedTxn"]:
            doc.pop("LinkedTxn")
    if entity == "Bill":
        doc.setdefault("DueDate", default_due(doc["TxnDate"]))
        doc.setdefault("LinkedTxn", [])
        doc["Balance"] = money(total)
    if entity == "Purchase" and doc["PaymentType"] not in ("Cash", "Check", "CreditCard"):
        raise faults.business_validation(f"Invalid PaymentType {doc['PaymentType']}")
    return doc


def void(entity: str, doc: dict[str, Any]) -> dict[str, Any]:
    """Voided shape as recorded [VCR void__invoice]: PrivateNote "Voided", amounts 0, Qty/UnitPrice removed from
    item lines, LinkedTxn emptied. Stock effects follow from the lines (no Qty → no movement)."""
    out = dict(doc)
    lines = []
    for line in doc.get("Line", []):
        line = dict(line)
        if "Amount" in line:
            line["Amount"] = 0
        kind = line.get("DetailType")
        if kind in ("SalesItemLineDetail", "ItemBasedExpenseLineDetail") and kind in line:
            detail = {k: v for k, v in line[kind].items() if k not in ("Qty", "UnitPrice")}
            line[kind] = detail
        lines.append(line)
    out["Line"] = lines
    out["PrivateNote"] = "Voided"
    out["TotalAmt"] = 0
    out["Balance"] = 0
    out["LinkedTxn"] = []
    return out


def is_expense(entity: str) -> bool:
    return entity in EXPENSE_FORMS
