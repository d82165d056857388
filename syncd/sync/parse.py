"""Raw QBO JSON → mirror row values. Pure functions: no session, no clock, no I/O.

:func:`parse_object` is the one entry point. It returns a :class:`Parsed` record (header values, line values,
the Item ids the lines reference), or a :class:`Deleted` marker for a CDC deletion stub, or raises
:class:`~syncd.errors.SkippableRecordError` naming what is wrong (missing ``Id``/``SyncToken``/
``MetaData.LastUpdatedTime``, a non-numeric or float quantity, an item line without ``ItemRef``, a number the
mirror cannot hold exactly, …). Whether referenced items exist is checked later, against the mirror
(:mod:`syncd.sync.plan`), because that needs the database.

Numbers must arrive as ``Decimal`` or ``int`` (the connector parses JSON with ``parse_float=Decimal``); numeric
strings are accepted; floats are rejected so a float can never enter the mirror.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from syncd.errors import SkippableRecordError
from syncd.mirror.types import check_decimal, content_hash

JSON = Mapping[str, Any]
MAX_ID_LEN = 32


@dataclass(frozen=True)
class Parsed:
    """One valid object: common fields, entity-specific header ``values``, ``lines`` (for documents)."""

    entity: str
    id: str
    sync_token: str
    last_updated: datetime
    values: Mapping[str, Any]
    lines: tuple[Mapping[str, Any], ...]
    item_refs: frozenset[str]
    raw: JSON = field(repr=False)
    raw_hash: str


@dataclass(frozen=True)
class Deleted:
    """A CDC deletion stub (``status: "Deleted"``)."""

    entity: str
    id: str
    last_updated: datetime | None


def record_name(entity: str, raw: Any) -> str:
    """``Invoice 1042`` — how errors and quarantine name a record."""
    ident = raw.get("Id") if isinstance(raw, Mapping) else None
    return f"{entity} {ident}" if ident not in (None, "") else f"{entity} (no Id)"


class _Reader:
    """Typed field access that raises SkippableRecordError naming the record and the field."""

    def __init__(self, entity: str, raw: JSON) -> None:
        self.entity = entity
        self.raw = raw
        self.name = record_name(entity, raw)

    def fail(self, reason: str) -> SkippableRecordError:
        return SkippableRecordError(self.name, reason)

    def id(self) -> str:
        value = self.raw.get("Id")
        if value is None or isinstance(value, bool) or str(value).strip() == "":
            raise self.fail("missing Id")
        text = str(value).strip()
        if len(text) > MAX_ID_LEN:
            raise self.fail(f"Id longer than {MAX_ID_LEN} characters")
        return text

    def sync_token(self) -> str:
        value = self.raw.get("SyncToken")
        if value is None or isinstance(value, bool) or str(value).strip() == "":
            raise self.fail("missing SyncToken")
        return str(value).strip()

    def last_updated(self, required: bool = True) -> datetime | None:
        meta = self.raw.get("MetaData")
        value = meta.get("LastUpdatedTime") if isinstance(meta, Mapping) else None
        if value is None:
            if required:
                raise self.fail("missing MetaData.LastUpdatedTime")
            return None
        return self.timestamp(value, "MetaData.LastUpdatedTime")

    def timestamp(self, value: Any, where: str) -> datetime:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise self.fail(f"{where} is not a timestamp: {str(value)[:40]!r}") from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise self.fail(f"{where} has no UTC offset: {str(value)[:40]!r}")
        return parsed

    def decimal(self, value: Any, where: str) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, (bool, float)):
            raise self.fail(f"{where} is a {type(value).__name__}, not an exact number")
        try:
            number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise self.fail(f"{where} is not numeric: {str(value)[:40]!r}") from None
        problem = check_decimal(number)
        if problem:
            raise self.fail(f"{where}: {problem}")
        return number + 0  # drops a negative zero's sign; keeps the digits

    def text(self, value: Any, where: str, max_len: int | None = None) -> str | None:
        if value is None:
            return None
        if isinstance(value, (Mapping, list, bool)):
            raise self.fail(f"{where} is not text")
        text = str(value)
        if max_len is not None and len(text) > max_len:
            raise self.fail(f"{where} longer than {max_len} characters")
        return text

    def boolean(self, value: Any, where: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(f"{where} is not true/false: {str(value)[:20]!r}")
        return value

    def day(self, value: Any, where: str) -> date | None:
        if value in (None, ""):
            return None
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise self.fail(f"{where} is not a date: {str(value)[:40]!r}") from None

    def ref(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(f"{where} is not a reference object")
        ident = value.get("value")
        if ident is None or str(ident).strip() == "":
            return None
        text = str(ident).strip()
        if len(text) > MAX_ID_LEN:
            raise self.fail(f"{where}.value longer than {MAX_ID_LEN} characters")
        return text

    def email(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(f"{where} is not an address object")
        return self.text(value.get("Address"), f"{where}.Address")


# ---- lines -------------------------------------------------------------------------------------------------

_ITEM_DETAIL = {"sales": "SalesItemLineDetail", "expense": "ItemBasedExpenseLineDetail"}


def _raw_lines(r: _Reader) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, line) for every line, group components flattened, sub-total lines dropped."""
    lines = r.raw.get("Line", [])
    if lines is None:
        return
    if not isinstance(lines, list):
        raise r.fail("Line is not a list")
    for i, line in enumerate(lines):
        where = f"Line[{i}]"
        if not isinstance(line, Mapping):
            raise r.fail(f"{where} is not an object")
        detail_type = line.get("DetailType")
        if detail_type == "SubTotalLineDetail":
            continue
        if detail_type == "GroupLineDetail":
            group = line.get("GroupLineDetail")
            inner = group.get("Line", []) if isinstance(group, Mapping) else None
            if not isinstance(inner, list):
                raise r.fail(f"{where}.GroupLineDetail.Line is not a list")
            for j, sub in enumerate(inner):
                if not isinstance(sub, Mapping):
                    raise r.fail(f"{where}.GroupLineDetail.Line[{j}] is not an object")
                yield f"{where}.GroupLineDetail.Line[{j}]", sub
            continue
        yield where, line


def _lines(r: _Reader, kind: str) -> tuple[tuple[dict[str, Any], ...], frozenset[str]]:
    item_detail = _ITEM_DETAIL[kind]
    out: list[dict[str, Any]] = []
    refs: set[str] = set()
    for seq, (where, line) in enumerate(_raw_lines(r)):
        detail_type = r.text(line.get("DetailType"), f"{where}.DetailType", 64)
        if not detail_type:
            raise r.fail(f"{where} has no DetailType")
        num = line.get("LineNum")
        row: dict[str, Any] = {
            "seq": seq,
            "line_id": r.text(line.get("Id"), f"{where}.Id", MAX_ID_LEN),
            "line_num": int(num) if isinstance(num, (int, Decimal)) and not isinstance(num, bool) else None,
            "detail_type": detail_type,
            "item_id": None, "qty": None, "unit_price": None,
            "amount": r.decimal(line.get("Amount"), f"{where}.Amount"),
        }
        if kind == "expense":
            row["po_id"] = None
            row["po_line_id"] = None
        if detail_type == item_detail:
            detail = line.get(item_detail)
            if not isinstance(detail, Mapping):
                raise r.fail(f"{where} has no {item_detail} object")
            item_id = r.ref(detail.get("ItemRef"), f"{where}.{item_detail}.ItemRef")
            if item_id is None:
                raise r.fail(f"{where}.{item_detail} has no ItemRef")
            row["item_id"] = item_id
            row["qty"] = r.decimal(detail.get("Qty"), f"{where}.{item_detail}.Qty")
            row["unit_price"] = r.decimal(detail.get("UnitPrice"), f"{where}.{item_detail}.UnitPrice")
            refs.add(item_id)
        if kind == "expense":
            row["po_id"], row["po_line_id"] = _po_link(r, line.get("LinkedTxn"), f"{where}.LinkedTxn")
        out.append(row)
    return tuple(out), frozenset(refs)


def _po_link(r: _Reader, linked: Any, where: str) -> tuple[str | None, str | None]:
    """The first PurchaseOrder link of a bill line (TxnId, TxnLineId)."""
    if linked is None:
        return None, None
    if not isinstance(linked, list):
        raise r.fail(f"{where} is not a list")
    for link in linked:
        if isinstance(link, Mapping) and link.get("TxnType") == "PurchaseOrder" and link.get("TxnId") is not None:
            return (r.text(link.get("TxnId"), f"{where}.TxnId", MAX_ID_LEN),
                    r.text(link.get("TxnLineId"), f"{where}.TxnLineId", MAX_ID_LEN))
    return None, None


# ---- entities ----------------------------------------------------------------------------------------------


def _item(r: _Reader) -> dict[str, Any]:
    g = r.raw.get
    return {
        "name": r.text(g("Name"), "Name"),
        "sku": r.text(g("Sku"), "Sku", 100),
        "type": r.text(g("Type"), "Type", 32),
        "active": r.boolean(g("Active"), "Active", True),
        "track_qty_on_hand": r.boolean(g("TrackQtyOnHand"), "TrackQtyOnHand", False),
        "qty_on_hand": r.decimal(g("QtyOnHand"), "QtyOnHand"),
        "reorder_point": r.decimal(g("ReorderPoint"), "ReorderPoint"),
        "unit_price": r.decimal(g("UnitPrice"), "UnitPrice"),
        "purchase_cost": r.decimal(g("PurchaseCost"), "PurchaseCost"),
        "pref_vendor_id": r.ref(g("PrefVendorRef"), "PrefVendorRef"),
    }


def _vendor(r: _Reader) -> dict[str, Any]:
    g = r.raw.get
    return {
        "display_name": r.text(g("DisplayName"), "DisplayName"),
        "company_name": r.text(g("CompanyName"), "CompanyName"),
        "email": r.email(g("PrimaryEmailAddr"), "PrimaryEmailAddr"),
        "active": r.boolean(g("Active"), "Active", True),
    }


def _customer(r: _Reader) -> dict[str, Any]:
    g = r.raw.get
    return {
        "display_name": r.text(g("DisplayName"), "DisplayName"),
        "email": r.email(g("PrimaryEmailAddr"), "PrimaryEmailAddr"),
        "active": r.boolean(g("Active"), "Active", True),
    }


def _account(r: _Reader) -> dict[str, Any]:
    g = r.raw.get
    return {
        "name": r.text(g("Name"), "Name"),
        "account_type": r.text(g("AccountType"), "AccountType", 64),
        "account_sub_type": r.text(g("AccountSubType"), "AccountSubType", 64),
        "active": r.boolean(g("Active"), "Active", True),
    }


def is_voided(private_note: str | None, total: Decimal | None) -> bool:
    """QBO has no void flag: a voided sales form has PrivateNote "Voided" and a zero total (QBO_FACTS §9)."""
    return private_note is not None and private_note.strip().lower().startswith("voided") and (total or 0) == 0


def _sales(r: _Reader) -> dict[str, Any]:
    g = r.raw.get
    note = r.text(g("PrivateNote"), "PrivateNote")
    total = r.decimal(g("TotalAmt"), "TotalAmt")
    return {
        "doc_number": r.text(g("DocNumber"), "DocNumber", 64),
        "txn_date": r.day(g("TxnDate"), "TxnDate"),
        "due_date": r.day(g("DueDate"), "DueDate"),
        "customer_id": r.ref(g("CustomerRef"), "CustomerRef"),
        "bill_email": r.email(g("BillEmail"), "BillEmail"),
        "private_note": note,
        "voided": is_voided(note, total),
        "total_amt": total,
    }


def _purchase_order(r: _Reader) -> dict[str, Any]:
    g = r.raw.get
    return {
        "doc_number": r.text(g("DocNumber"), "DocNumber", 64),
        "txn_date": r.day(g("TxnDate"), "TxnDate"),
        "due_date": r.day(g("DueDate"), "DueDate"),
        "expected_date": r.day(g("ExpectedDate"), "ExpectedDate"),
        "vendor_id": r.ref(g("VendorRef"), "VendorRef"),
        "po_status": r.text(g("POStatus"), "POStatus", 16),
        "manually_closed": r.boolean(g("ManuallyClosed"), "ManuallyClosed", False),
        "private_note": r.text(g("PrivateNote"), "PrivateNote"),
        "memo": r.text(g("Memo"), "Memo"),
        "total_amt": r.decimal(g("TotalAmt"), "TotalAmt"),
    }


def _bill(r: _Reader) -> dict[str, Any]:
    g = r.raw.get
    return {
        "doc_number": r.text(g("DocNumber"), "DocNumber", 64),
        "txn_date": r.day(g("TxnDate"), "TxnDate"),
        "due_date": r.day(g("DueDate"), "DueDate"),
        "vendor_id": r.ref(g("VendorRef"), "VendorRef"),
        "private_note": r.text(g("PrivateNote"), "PrivateNote"),
        "total_amt": r.decimal(g("TotalAmt"), "TotalAmt"),
    }


_HEADERS = {
    "Item": (_item, None), "Vendor": (_vendor, None), "Customer": (_customer, None), "Account": (_account, None),
    "Invoice": (_sales, "sales"), "SalesReceipt": (_sales, "sales"),
    "PurchaseOrder": (_purchase_order, "expense"), "Bill": (_bill, "expense"),
}
ENTITIES = tuple(_HEADERS)


def is_deletion_stub(raw: JSON) -> bool:
    return str(raw.get("status", "")).lower() == "deleted"


def parse_object(entity: str, raw: Any) -> Parsed | Deleted:
    """Parse one QBO object of ``entity``. Raises SkippableRecordError for a record that cannot be mirrored."""
    if entity not in _HEADERS:
        raise ValueError(f"not a mirrored entity: {entity}")
    if not isinstance(raw, Mapping):
        raise SkippableRecordError(f"{entity} (no Id)", "not a JSON object")
    r = _Reader(entity, raw)
    if is_deletion_stub(raw):
        return Deleted(entity, r.id(), r.last_updated(required=False))
    ident, token, updated = r.id(), r.sync_token(), r.last_updated()
    assert updated is not None
    header, kind = _HEADERS[entity]
    values = header(r)
    lines: tuple[dict[str, Any], ...] = ()
    refs: frozenset[str] = frozenset()
    if kind is not None:
        lines, refs = _lines(r, kind)
    return Parsed(entity, ident, token, updated, values, lines, refs, raw, content_hash(raw))


def id_sort_key(ident: str) -> tuple[int, int, str]:
    """Order of QBO Ids: numeric ids numerically, anything else after them as text."""
    text = str(ident)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)
