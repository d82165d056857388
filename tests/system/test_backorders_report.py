"""``syncd backorders`` as a subprocess over a ledger built by real sync cycles (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from typing import Any

from syncsupport import Harness

from syncd.ledger.report import CSV_COLUMNS, SCHEMA

ROW_KEYS = {
    "item_id": str, "item": str, "customer_id": str, "customer": str, "document_type": str, "document_id": str,
    "document": str, "line_id": str, "txn_date": str, "ordered": str, "backordered": str, "uncovered": str,
    "fill_rank": int, "short_since": str, "eta": (str, type(None)), "eta_kind": str, "eta_estimated": bool,
    "po_id": (str, type(None)), "po_number": (str, type(None)), "overdue": bool, "oversold": bool, "pegged": list,
}
PEG_KEYS = {"po_id", "po_number", "po_line_id", "vendor_id", "qty", "expected", "expected_kind"}


def _short_company(h: Harness) -> None:
    """Make every tracked item short by 3 and sync, so the ledger has lines (some pegged to seeded POs)."""
    store, realm = h.sandbox.store, h.realm
    for ident, doc in h.truth("Item").items():
        if doc.get("Type") == "Inventory":
            store.update(realm, "Item", {"Id": ident, "SyncToken": h.get("Item", ident)["SyncToken"],
                                         "sparse": True, "QtyOnHand": Decimal(-3)})
    h.cycle()


def test_report_formats_follow_the_documented_schema(make_harness: Any) -> None:
    h: Harness = make_harness(items=8, invoices=40, customers=5)
    h.cycle()
    _short_company(h)

    out = h.run_cli("backorders", "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) == {"schema", "company", "generated_at", "by", "lines"}
    assert (doc["schema"], doc["company"], doc["by"]) == (SCHEMA, "acme", "item")
    lines = doc["lines"]
    assert lines
    for row in lines:
        assert set(row) == set(ROW_KEYS)
        for key, kind in ROW_KEYS.items():
            assert isinstance(row[key], kind), (key, row[key])
        assert Decimal(row["backordered"]) > 0 and "E" not in row["ordered"]
        date.fromisoformat(row["txn_date"])
        assert row["eta_estimated"] == (row["eta_kind"] == "estimate")
        for peg in row["pegged"]:
            assert set(peg) == PEG_KEYS
    # every tracked item is 3 short (or less when it has fewer units sold)
    per_item: dict[str, Decimal] = {}
    for row in lines:
        per_item[row["item_id"]] = per_item.get(row["item_id"], Decimal(0)) + Decimal(row["backordered"])
    assert all(v <= 3 for v in per_item.values()) and Decimal(3) in per_item.values()

    out = h.run_cli("backorders", "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == len(lines) + 1

    for by in ("item", "customer", "po"):
        out = h.run_cli("backorders", "--by", by)
        assert out.returncode == 0, out.stderr
        text = out.stdout
        assert "Customer" in text and "Short since" in text and "ETA" in text
        total = sum(per_item.values(), Decimal(0))
        assert f"Total: {total} short on {len(lines)} line(s)" in text, text
        assert ".00000000" not in text
    first = lines[0]
    assert first["customer"] in h.run_cli("backorders", "--by", "customer").stdout


def test_report_config_problems_exit_2(make_harness: Any) -> None:
    h: Harness = make_harness(items=3, invoices=3, customers=2)
    out = h.run_cli("backorders", "--company", "nope")
    assert out.returncode == 2 and "company" in out.stderr
    h.cycle()
    out = h.run_cli("backorders")
    assert out.returncode == 0, out.stderr
