"""What the sandbox knows about each QBO entity: names, known properties, and the rules that turn a write body
into the stored object (QBO_FACTS §0, §9).

Everything here is pure: functions take the incoming body, the previous stored object (or ``None``) and a
``lookup`` callable for referenced objects, and return a new object or raise :class:`QBOFault`. The store adds
``Id``, ``SyncToken``, ``MetaData`` and persistence.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from syncd.sandbox import faults
from syncd.sandbox.faults import QBOFault

NAME_LIST = ("Account", "Customer", "Item", "Vendor")
TRANSACTIONS = ("Bill", "Invoice", "Purchase", "PurchaseOrder", "SalesReceipt")
SUPPORTED = NAME_LIST + TRANSACTIONS
_CANONICAL = {n.lower(): n for n in SUPPORTED}
SALES_FORMS = ("Invoice", "SalesReceipt")
EXPENSE_FORMS = ("Bill", "Purchase", "PurchaseOrder")
VOIDABLE = SALES_FORMS
DELETABLE = TRANSACTIONS  # name-list entities are inactivated, never deleted [ITEM]
AUTO_DOC_NUMBER = ("Bill", "Invoice", "PurchaseOrder", "SalesReceipt")

# CDC rejects these by name [CDCR]; the remaining QBO entities below exist in QBO but are not modelled here, so a
# query names them validly (empty result) while CDC simply reports no changes for them.
CDC_EXCLUDED = ("JournalCode", "TimeActivity", "TaxAgency", "TaxCode", "TaxRate")
UNMODELLED = (
    "Attachable",
    "BillPayment",
    "Budget",
    "Class",
    "CompanyCurrency",
    "CompanyInfo",
    "CreditCardPayment",
    "CreditMemo",
    "Department",
    "Deposit",
    "Employee",
    "Estimate",
    "ExchangeRate",
    "InventoryAdjustment",
    "JournalEntry",
    "Payment",
    "PaymentMethod",
    "Preferences",
    "RecurringTransaction",
    "RefundReceipt",
    "Term",
    "Transfer",
    "VendorCredit",
) + CDC_EXCLUDED
_UNMODELLED = {n.lower(): n for n in UNMODELLED}

USD = {"value": "USD", "name": "United States Dollar"}

_COMMON = {"Id", "SyncToken", "MetaData", "domain", "sparse", "status"}
_TXN_COMMON = {
    "AttachableRef",
    "CurrencyRef",
    "CustomField",
    "DepartmentRef",
    "DocNumber",
    "ExchangeRate",
    "GlobalTaxCalculation",
    "HomeTotalAmt",
    "Line",
    "LinkedTxn",
    "PrivateNote",
    "RecurDataRef",
    "Tag",
    "TotalAmt",
    "TransactionLocationType",
    "TxnApprovalInfo",
    "TxnDate",
    "TxnSource",
    "TxnTaxDetail",
}
_SALES_COMMON = {
    "ApplyTaxAfterDiscount",
    "Balance",
    "BillAddr",
    "BillEmail",
    "BillEmailBcc",
    "BillEmailCc",
    "ClassRef",
    "CustomerMemo",
    "CustomerRef",
    "DeliveryInfo",
    "DepositToAccountRef",
    "EmailStatus",
    "FreeFormAddress",
    "HomeBalance",
    "PaymentMethodRef",
    "PaymentRefNum",
    "PrintStatus",
    "SalesTermRef",
    "ShipAddr",
    "ShipDate",
    "ShipFromAddr",
    "ShipMethodRef",
    "TrackingNum",
    "TaxExemptionRef",
    "ProjectRef",
}
_PARTY_COMMON = {
    "Active",
    "AlternatePhone",
    "Balance",
    "BillAddr",
    "CompanyName",
    "CurrencyRef",
    "DisplayName",
    "FamilyName",
    "Fax",
    "GivenName",
    "MiddleName",
    "Mobile",
    "Notes",
    "OtherContactInfo",
    "PrimaryEmailAddr",
    "PrimaryPhone",
    "PrintOnCheckName",
    "Source",
    "Suffix",
    "Title",
    "WebAddr",
    "GSTIN",
    "GSTRegistrationType",
    "BusinessNumber",
    "TaxIdentifier",
    "V4IDPseudonym",
}

# Generous lists: the Intuit reference, what python-quickbooks 0.9.12 objects serialize (it sends every attribute
# it has, and echoes unknown keys it read back), and the 83 Invoice properties quoted in VCR error__400_json.
KNOWN_PROPERTIES: dict[str, frozenset[str]] = {
    "Item": frozenset(
        _COMMON
        | {
            "AbatementRate",
            "Active",
            "AssetAccountRef",
            "ClassRef",
            "Description",
            "ExpenseAccountRef",
            "FullyQualifiedName",
            "IncomeAccountRef",
            "InvStartDate",
            "ItemCategoryType",
            "ItemEx",
            "Level",
            "Name",
            "ParentRef",
            "PrefVendorRef",
            "PurchaseCost",
            "PurchaseDesc",
            "PurchaseTaxCodeRef",
            "PurchaseTaxIncluded",
            "QtyOnHand",
            "ReorderPoint",
            "ReverseChargeRate",
            "SalesTaxCodeRef",
            "SalesTaxIncluded",
            "ServiceType",
            "Sku",
            "Source",
            "SubItem",
            "TaxClassificationRef",
            "Taxable",
            "TrackQtyOnHand",
            "Type",
            "UQCDisplayText",
            "UQCId",
            "UnitPrice",
        }
    ),
    "Vendor": frozenset(
        _COMMON
        | _PARTY_COMMON
        | {
            "APAccountRef",
            "AcctNum",
            "BillRate",
            "CostRate",
            "HasTPAR",
            "T4AEligible",
            "T5018Eligible",
            "TaxReportingBasis",
            "TermRef",
            "Vendor1099",
            "VendorEx",
            "VendorPaymentBankDetail",
        }
    ),
    "Customer": frozenset(
        _COMMON
        | _PARTY_COMMON
        | {
            "ARAccountRef",
            "BalanceWithJobs",
            "BillWithParent",
            "CustomerTypeRef",
            "DefaultTaxCodeRef",
            "FullyQualifiedName",
            "IsProject",
            "Job",
            "Level",
            "OpenBalanceDate",
            "ParentRef",
            "PaymentMethodRef",
            "PreferredDeliveryMethod",
            "PrimaryTaxIdentifier",
            "ResaleNum",
            "SalesTermRef",
            "SecondaryTaxIdentifier",
            "ShipAddr",
            "TaxExemptionReasonId",
            "Taxable",
        }
    ),
    "Account": frozenset(
        _COMMON
        | {
            "AccountAlias",
            "AccountSubType",
            "AccountType",
            "AcctNum",
            "Active",
            "Classification",
            "CurrencyRef",
            "CurrentBalance",
            "CurrentBalanceWithSubAccounts",
            "Description",
            "FullyQualifiedName",
            "Name",
            "ParentRef",
            "SubAccount",
            "TaxCodeRef",
            "TxnLocationType",
        }
    ),
    "Invoice": frozenset(
        _COMMON
        | _TXN_COMMON
        | _SALES_COMMON
        | {
            "AllowIPNPayment",
            "AllowOnlineACHPayment",
            "AllowOnlineCreditCardPayment",
            "AllowOnlinePayment",
            "AutoDocNumber",
            "ConvenienceFeeDetail",
            "Deposit",
            "DiscountRate",
            "DueDate",
            "EInvoiceStatus",
            "ECloudStatusTimeStamp",
            "FOB",
            "InvoiceEx",
            "InvoiceLink",
            "LessCIS",
            "PONumber",
            "PaymentDetailsMessage",
            "RemitToRef",
            "SalesRepRef",
            "TaxFormNum",
            "TaxFormType",
            "TxnStatus",
            "callToAction",
            "invoiceStatusLog",
        }
    ),
    "SalesReceipt": frozenset(_COMMON | _TXN_COMMON | _SALES_COMMON | {"CreditCardPayment", "TxnStatus"}),
    "PurchaseOrder": frozenset(
        _COMMON
        | _TXN_COMMON
        | {
            "APAccountRef",
            "ClassRef",
            "DueDate",
            "EmailStatus",
            "ExpectedDate",
            "FOB",
            "ManuallyClosed",
            "Memo",
            "POEmail",
            "POStatus",
            "SalesTermRef",
            "ShipAddr",
            "ShipMethodRef",
            "ShipTo",
            "TaxCodeRef",
            "VendorAddr",
            "VendorRef",
        }
    ),
    "Bill": frozenset(
        _COMMON
        | _TXN_COMMON
        | {
            "APAccountRef",
            "Balance",
            "DueDate",
            "HomeBalance",
            "SalesTermRef",
            "VendorAddr",
            "VendorRef",
        }
    ),
    "Purchase": frozenset(
        _COMMON
        | _TXN_COMMON
        | {
            "AccountRef",
            "Credit",
            "EntityRef",
            "PaymentMethodRef",
            "PaymentType",
            "PrintStatus",
            "PurchaseEx",
            "RemitToAddr",
        }
    ),
}

LINE_PROPERTIES = frozenset(
    {
        "AccountBasedExpenseLineDetail",
        "Amount",
        "CustomField",
        "Description",
        "DescriptionLineDetail",
        "DetailType",
        "DiscountLineDetail",
        "GroupLineDetail",
        "Id",
        "ItemBasedExpenseLineDetail",
        "LineEx",
        "LineNum",
        "LinkedTxn",
        "ProjectRef",
        "SalesItemLineDetail",
        "SubTotalLineDetail",
        "TaxLineDetail",
    }
)
LINE_TYPES = {
    "sales": (
        "SalesItemLineDetail",
        "GroupLineDetail",
        "DescriptionOnly",
        "DiscountLineDetail",
        "SubTotalLineDetail",
    ),
    "expense": ("ItemBasedExpenseLineDetail", "AccountBasedExpenseLineDetail", "DescriptionOnly"),
}

# Properties compared as numbers / booleans in queries (a quoted '5' still compares numerically).
NUMERIC_PROPERTIES = frozenset(
    {
        "Amount",
        "Balance",
        "BalanceWithJobs",
        "CurrentBalance",
        "PurchaseCost",
        "QtyOnHand",
        "ReorderPoint",
        "TotalAmt",
        "UnitPrice",
        "Level",
        "Deposit",
        "ExchangeRate",
    }
)
BOOLEAN_PROPERTIES = frozenset(
    {
        "Active",
        "Taxable",
        "TrackQtyOnHand",
        "SubItem",
        "Job",
        "BillWithParent",
        "Vendor1099",
        "SubAccount",
        "ManuallyClosed",
        "Credit",
        "SalesTaxIncluded",
        "IsProject",
    }
)

# Ref property → entity it points at. ParentRef points at the owner's own type.
REF_TARGETS = {
    "CustomerRef": "Customer",
    "VendorRef": "Vendor",
    "ItemRef": "Item",
    "PrefVendorRef": "Vendor",
    "APAccountRef": "Account",
    "ARAccountRef": "Account",
    "IncomeAccountRef": "Account",
    "ExpenseAccountRef": "Account",
    "AssetAccountRef": "Account",
    "DepositToAccountRef": "Account",
    "AccountRef": "Account",
    "ItemAccountRef": "Account",
}

Lookup = Callable[[str, str], "dict[str, Any] | None"]
"""``lookup(entity, id)`` → the stored object, or None when it does not exist."""


def canonical(name: str) -> str | None:
    """Case-insensitive entity/resource name → canonical modelled name (``purchaseorder`` → ``PurchaseOrder``)."""
    return _CANONICAL.get(name.strip().lower())


def unmodelled(name: str) -> str | None:
    """Canonical name of a real QBO entity the sandbox does not model, else None."""
    return _UNMODELLED.get(name.strip().lower())


def property_map(entity: str) -> dict[str, str]:
    """lower-case → canonical top-level property names of ``entity``."""
    return {p.lower(): p for p in KNOWN_PROPERTIES[entity]}


# ---- numbers -----------------------------------------------------------------------------------------------


def dec(value: Any, field: str = "") -> Decimal:
    """Decimal from a JSON number or numeric string (PQB encodes Decimal as a string). Rejects other types."""
    if isinstance(value, bool):
        raise faults.validation(
            "2010", "Request has invalid or unsupported property", f"{field}: not a number"
        )
    if isinstance(value, float):
        return Decimal(repr(value))  # shortest round-trip text, so 10.1 stays 10.1
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise faults.validation(
            "2010",
            "Request has invalid or unsupported property",
            f"Property Name:{field} has an invalid number value",
        ) from None


def money(d: Decimal) -> float:
    """Amounts render like QBO: ``100.0``, ``10.5`` (JSON numbers; float is only the wire format)."""
    return float(d)


def quantity(d: Decimal) -> int | float:
    """Qty / UnitPrice render as QBO does: ``75``, ``4.5``."""
    return int(d) if d == d.to_integral_value() else float(d)


# ---- body hygiene --------------------------------------------------------------------------------------------


def clean(value: Any) -> Any:
    """Drop what PQB sends for unset attributes: ``None``, ``""``, Refs' empty ``name``/``type``, empty objects
    and empty arrays (the server re-adds ``LinkedTxn: []`` where QBO shows it).

    UNCONFIRMED: QBO stores nothing for an empty string ("Only those properties with values are returned" [DQ]);
    treating "" as absent is what lets PQB's ``"Title": ""`` defaults round-trip without inventing values.
    """
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            c = clean(v)
            if c is None or c == "" or c == {}:  # (empty lists come back as None)
                continue
            out[k] = c
        return out
    if isinstance(value, list):
        return [c for c in (clean(v) for v in value) if c not in (None, "", {})] or None
    return value


def check_properties(entity: str, body: dict[str, Any]) -> None:
    """2010 for a top-level or line-level property QBO does not know for ``entity`` [VCR error__400_json]."""
    known = KNOWN_PROPERTIES[entity]
    for key in body:
        if key not in known:
            raise faults.unsupported_property(entity, key, sorted(known))
    lines = body.get("Line")
    if lines is None:
        return
    if not isinstance(lines, list):
        raise faults.malformed_body("Property Name:Line must be an array")
    for line in lines:
        if not isinstance(line, dict):
            raise faults.malformed_body("Property Name:Line elements must be objects")
        for key in line:
            if key not in LINE_PROPERTIES:
                raise faults.unsupported_property("Line", key, sorted(LINE_PROPERTIES))


def numeric_id(value: Any, element: str = "Id") -> int:
    """Parse an Id; non-numeric → 2030 [VCR error__500]."""
    text = str(value).strip() if value is not None else ""
    if not text.isdigit():
        raise faults.invalid_id(element)
    return int(text)


def missing_reference(prop: str, value: str) -> QBOFault:
    """A Ref to an object that does not exist: 2500 "Invalid Reference Id" [intuit/QuickBooks-V3-PHP-SDK#110].

    Choice: missing → 2500, inactive → 610 (the 610 Detail literally says "has been made inactive" [VCR
    batch__basic]). Both are ValidationFaults, so a client handles them alike.
    """
    return faults.validation(
        "2500", "Invalid Reference Id", f"Invalid Reference Id : {prop} assigned is not valid: {value}", prop
    )


def ref_name(entity: str, obj: dict[str, Any]) -> str:
    if entity == "Vendor":
        return str(obj.get("DisplayName", ""))
    return str(obj.get("FullyQualifiedName") or obj.get("DisplayName") or obj.get("Name") or "")


def resolve_refs(owner: str, node: Any, lookup: Lookup, key: str = "") -> None:
    """Fill ``name`` on every modelled Ref under ``node`` (in place); reject missing (2500) / inactive (610)."""
    if isinstance(node, list):
        for item in node:
            resolve_refs(owner, item, lookup, key)
        return
    if not isinstance(node, dict):
        return
    target = REF_TARGETS.get(key) or (owner if key == "ParentRef" and owner in NAME_LIST else None)
    if target is not None and "value" in node:
        ident = str(node["value"])
        obj = lookup(target, ident) if ident.isdigit() else None
        if obj is None:
            raise missing_reference(key, ident)
        if obj.get("Active") is False:
            raise faults.object_not_found()
        node.pop("type", None)
        node["name"] = ref_name(target, obj)
        return
    for k, v in node.items():
        if isinstance(v, (dict, list)):
            resolve_refs(owner, v, lookup, k)


def merge(entity: str, old: dict[str, Any] | None, body: dict[str, Any], sparse: bool) -> dict[str, Any]:
    """Combine a cleaned write body with the previous object.

    Full update: writable fields left out are cleared; sparse: only sent fields change [QBO_FACTS §0]. A sent
    ``Line`` array always replaces all lines. Server-maintained fields are re-derived later by :func:`finalize`.
    """
    if old is None or not sparse:
        return dict(body)
    out = dict(old)
    out.update(body)
    return out


def sparse_nulls(entity: str, raw: dict[str, Any], doc: dict[str, Any]) -> None:
    """In a sparse update an explicit ``null`` clears the field — except Item ``ReorderPoint`` [ITEM].

    UNCONFIRMED whether QBO rejects or ignores a null ReorderPoint; we reject (6000) so the attempt is visible.
    """
    for key, value in raw.items():
        if value is None and key not in ("Id", "SyncToken", "sparse"):
            if entity == "Item" and key == "ReorderPoint":
                raise faults.business_validation("ReorderPoint cannot be set to null for sparse updates")
            doc.pop(key, None)


def default_due(txn_date: str) -> str:
    """UNCONFIRMED default terms: the recorded sample company bills Net 30 (TxnDate 09-29 → DueDate 10-29)."""
    return (date.fromisoformat(txn_date) + timedelta(days=30)).isoformat()
