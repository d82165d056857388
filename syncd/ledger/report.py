"""Backorder reports: rows grouped by item, customer and PO, and a stable JSON/CSV row schema. Pure functions.

JSON schema (``syncd.backorders/1``), one object per backordered line, as produced by :func:`to_json_rows`::

    item_id        string   QBO Item Id
    item           string   item name
    customer_id    string   QBO Customer Id
    customer       string   customer display name
    document_type  string   "Invoice" | "SalesReceipt"
    document_id    string   QBO Id of the document
    document       string   DocNumber, or "<type> <Id>" when the document has none
    line_id        string   QBO line Id
    txn_date       string   document date, YYYY-MM-DD
    ordered        string   line quantity (decimal as a string, never a float, no exponent)
    backordered    string   units of the line not yet filled (decimal string)
    uncovered      string   backordered units no open PO covers (decimal string)
    fill_rank      integer  0-based position in the item's fill order (lower is filled first)
    short_since    string   RFC 3339 instant with offset when the line became short
    eta            string|null  YYYY-MM-DD, null when unknown
    eta_kind       string   "po" (from a PO) | "estimate" (lead-time estimate) | "unknown"
    eta_estimated  boolean  eta_kind == "estimate"
    po_id          string|null  the PO covering the line's last unit (the ETA's source), if any
    po_number      string|null  that PO's DocNumber
    overdue        boolean  the PO ETA has passed while the line is still short
    oversold       boolean  the item does not allow backorders
    pegged         array    [{po_id, po_number, po_line_id, vendor_id, qty (decimal string),
                              expected (YYYY-MM-DD|null), expected_kind ("due"|"lead_time"|"unknown")}]

Rows are sorted by item name, item Id, then fill rank. Keys are only ever added in a later schema version,
never renamed or removed. :data:`CSV_COLUMNS` are the same keys minus ``pegged``, in the order above.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from syncd.ledger.model import ZERO, LineState, Peg
from syncd.ledger.policy import natural

SCHEMA = "syncd.backorders/1"

CSV_COLUMNS: tuple[str, ...] = (
    "item_id",
    "item",
    "customer_id",
    "customer",
    "document_type",
    "document_id",
    "document",
    "line_id",
    "txn_date",
    "ordered",
    "backordered",
    "uncovered",
    "fill_rank",
    "short_since",
    "eta",
    "eta_kind",
    "eta_estimated",
    "po_id",
    "po_number",
    "overdue",
    "oversold",
)


def dec(value: Decimal) -> str:
    """A Decimal as plain text: ``Decimal("1E+1")`` -> ``"10"``; never a float."""
    return format(value, "f")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _ordered(states: Iterable[LineState]) -> list[LineState]:
    return sorted(states, key=lambda s: (s.item_name, natural(s.item_id), s.fill_rank, s.key))


def _peg_json(peg: Peg) -> dict[str, Any]:
    return {
        "po_id": peg.po_id,
        "po_number": peg.po_number,
        "po_line_id": peg.po_line_id,
        "vendor_id": peg.vendor_id,
        "qty": dec(peg.qty),
        "expected": _day(peg.expected),
        "expected_kind": peg.expected_kind,
    }


def json_row(state: LineState) -> dict[str, Any]:
    """One line in the ``syncd.backorders/1`` schema (module docstring)."""
    peg = state.eta_peg
    return {
        "item_id": state.item_id,
        "item": state.item_name,
        "customer_id": state.customer_id,
        "customer": state.customer_name,
        "document_type": state.key.doc_type,
        "document_id": state.key.doc_id,
        "document": state.document,
        "line_id": state.key.line_id,
        "txn_date": state.txn_date.isoformat(),
        "ordered": dec(state.ordered),
        "backordered": dec(state.backordered),
        "uncovered": dec(state.uncovered),
        "fill_rank": state.fill_rank,
        "short_since": state.short_since.isoformat(),
        "eta": _day(state.eta),
        "eta_kind": state.eta_kind,
        "eta_estimated": state.eta_kind == "estimate",
        "po_id": peg.po_id if peg is not None else None,
        "po_number": peg.po_number if peg is not None else None,
        "overdue": state.overdue_eta is not None,
        "oversold": state.oversold,
        "pegged": [_peg_json(p) for p in state.pegged],
    }


def to_json_rows(states: Iterable[LineState]) -> list[dict[str, Any]]:
    """All backordered lines as JSON-ready dicts, in report order. ``json.dumps`` needs no custom encoder."""
    return [json_row(s) for s in _ordered(states) if s.backordered > 0]


def to_csv_rows(states: Iterable[LineState]) -> list[list[str]]:
    """Header plus one row per line (:data:`CSV_COLUMNS`); booleans as ``true``/``false``, nulls empty."""
    rows: list[list[str]] = [list(CSV_COLUMNS)]
    for row in to_json_rows(states):
        cells = []
        for col in CSV_COLUMNS:
            value = row[col]
            cells.append(
                ""
                if value is None
                else ("true" if value is True else "false" if value is False else str(value))
            )
        rows.append(cells)
    return rows


def _latest_eta(states: list[LineState]) -> date | None:
    """When everything in the group should have arrived: the latest ETA, or None if any ETA is unknown."""
    if any(s.eta is None for s in states):
        return None
    return max(s.eta for s in states if s.eta is not None) if states else None


@dataclass(frozen=True, slots=True)
class ItemRow:
    item_id: str
    item_name: str
    lines: int
    customers: int
    backordered: Decimal
    uncovered: Decimal
    short_since: datetime
    eta: date | None
    estimated: bool
    overdue: bool
    oversold: bool


@dataclass(frozen=True, slots=True)
class CustomerRow:
    customer_id: str
    customer_name: str
    lines: int
    items: int
    backordered: Decimal
    short_since: datetime
    eta: date | None
    estimated: bool


@dataclass(frozen=True, slots=True)
class PoRow:
    """Backordered units pegged to one PO (``po_id is None``: units no open PO covers)."""

    po_id: str | None
    po_number: str | None
    vendor_id: str | None
    expected: date | None
    items: int
    lines: int
    customers: int
    pegged: Decimal


def _group(states: Iterable[LineState], key: Any) -> dict[Any, list[LineState]]:
    groups: dict[Any, list[LineState]] = {}
    for s in states:
        if s.backordered > 0:
            groups.setdefault(key(s), []).append(s)
    return groups


def by_item(states: Iterable[LineState]) -> list[ItemRow]:
    """One row per item with backorders, sorted by item name then Id. ``eta``: when the last line is due."""
    rows = []
    for (_, _, item_id), group in sorted(
        _group(states, lambda s: (s.item_name, natural(s.item_id), s.item_id)).items()
    ):
        rows.append(
            ItemRow(
                item_id=item_id,
                item_name=group[0].item_name,
                lines=len(group),
                customers=len({s.customer_id for s in group}),
                backordered=sum((s.backordered for s in group), ZERO),
                uncovered=sum((s.uncovered for s in group), ZERO),
                short_since=min(s.short_since for s in group),
                eta=_latest_eta(group),
                estimated=any(s.eta_kind == "estimate" for s in group),
                overdue=any(s.overdue_eta is not None for s in group),
                oversold=any(s.oversold for s in group),
            )
        )
    return rows


def by_customer(states: Iterable[LineState]) -> list[CustomerRow]:
    """One row per waiting customer, by name then Id. ``eta``: when their last backordered unit is due."""
    rows = []
    groups = _group(states, lambda s: (s.customer_name.casefold(), natural(s.customer_id), s.customer_id))
    for (_, _, customer_id), group in sorted(groups.items()):
        rows.append(
            CustomerRow(
                customer_id=customer_id,
                customer_name=group[0].customer_name,
                lines=len(group),
                items=len({s.item_id for s in group}),
                backordered=sum((s.backordered for s in group), ZERO),
                short_since=min(s.short_since for s in group),
                eta=_latest_eta(group),
                estimated=any(s.eta_kind == "estimate" for s in group),
            )
        )
    return rows


def by_po(states: Iterable[LineState]) -> list[PoRow]:
    """One row per PO carrying backordered units, earliest expected first, then the uncovered remainder."""
    groups: dict[str | None, list[tuple[LineState, Decimal, Peg | None]]] = {}
    for s in states:
        if s.backordered <= 0:
            continue
        for peg in s.pegged:
            groups.setdefault(peg.po_id, []).append((s, peg.qty, peg))
        if s.uncovered > 0:
            groups.setdefault(None, []).append((s, s.uncovered, None))
    rows = []
    for po_id, entries in groups.items():
        pegs = [p for _, _, p in entries if p is not None]
        first = pegs[0] if pegs else None
        rows.append(
            PoRow(
                po_id=po_id,
                po_number=first.po_number if first else None,
                vendor_id=first.vendor_id if first else None,
                expected=max((p.expected for p in pegs if p.expected is not None), default=None),
                items=len({s.item_id for s, _, _ in entries}),
                lines=len({s.key for s, _, _ in entries}),
                customers=len({s.customer_id for s, _, _ in entries}),
                pegged=sum((q for _, q, _ in entries), ZERO),
            )
        )
    rows.sort(
        key=lambda r: (
            r.po_id is None,
            r.expected is None,
            r.expected or date.min,
            natural(r.po_number or ""),
            natural(r.po_id or ""),
        )
    )
    return rows
