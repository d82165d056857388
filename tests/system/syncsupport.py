"""Helpers for the system tests: a sandbox + mirror database + engine, random QBO changes, and the comparison
of the mirror against the sandbox's own data (every mirrored column, extracted here independently of
``syncd.sync.parse``, and the raw document)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from syncd.config import Config, parse_config
from syncd.connectors.base import MIRRORED_ENTITIES, NAME_LISTS, TokenState
from syncd.connectors.quickbooks import QuickBooksConnector
from syncd.mirror.db import make_engine, make_session_factory, upgrade
from syncd.mirror.models import ENTITY_TABLES, EntityCursor, Quarantine
from syncd.mirror.tokens import DbTokenStore
from syncd.mirror.types import loads
from syncd.sandbox.app import Sandbox, SandboxOptions
from syncd.sync.engine import SyncEngine
from syncd.sync.result import CycleResult

SECRET_ENV = "SYNCD_TEST_SANDBOX_SECRET"
REPO = Path(__file__).resolve().parents[2]


def start_sandbox(**options: Any) -> tuple[Sandbox, dict[str, Any]]:
    defaults: dict[str, Any] = {"seed": 7, "items": 30, "vendors": 5, "customers": 8, "invoices": 60}
    sandbox = Sandbox(SandboxOptions(**(defaults | options)))
    return sandbox, sandbox.start()


def config_text(info: dict[str, Any], db_url: str, sync: dict[str, Any], retry: dict[str, Any] | None = None) -> str:
    sync_lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in sync.items())
    retry_lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in (retry or {}).items())
    return f"""
[database]
url = {json.dumps(db_url)}

[logging]
level = "warning"

[sync]
{sync_lines}

[[company]]
name = "acme"
realm_id = "{info['realm_id']}"
client_id = "{info['client_id']}"
client_secret = {{ env = "{SECRET_ENV}" }}
environment = "{info['discovery_url']}"
api_base = "{info['api_base']}"
redirect_uri = "{info['redirect_uri']}"

[company.retry]
{retry_lines}
"""


class Harness:
    """One sandbox company mirrored into one database by the real engine over real HTTP."""

    def __init__(self, sandbox: Sandbox, info: dict[str, Any], db_url: str, tmp_path: Path, monkeypatch: Any,
                 sync: dict[str, Any], retry: dict[str, Any] | None = None) -> None:
        self.sandbox, self.info, self.db_url = sandbox, info, db_url
        self.realm = info["realm_id"]
        monkeypatch.setenv(SECRET_ENV, info["client_secret"])
        monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
        self.config_path = tmp_path / "syncd.toml"
        self.config_path.write_text(config_text(info, db_url, sync, retry))
        self.config: Config = parse_config(self.config_path.read_text())
        self.company = self.config.company[0]
        self.engine = make_engine(db_url)
        upgrade(self.engine)
        self.sessions = make_session_factory(self.engine)
        self.tokens = DbTokenStore(self.sessions)
        self.tokens.save("acme", TokenState(None, None, info["refresh_token"], None))
        self.connector = QuickBooksConnector(self.company, self.tokens)

    def close(self) -> None:
        self.sandbox.stop()
        self.engine.dispose()

    def cycle(self, full: bool = False) -> CycleResult:
        return SyncEngine(self.config, self.company, self.connector, self.sessions).run_once(full=full)

    def run_cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.cli_command(*args), env=self.cli_env(), capture_output=True, text=True,
                              timeout=timeout, cwd=REPO, check=False)

    def cli_command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "syncd", *args, "--config", str(self.config_path)]

    def cli_env(self) -> dict[str, str]:
        return dict(os.environ, PYTHONPATH=str(REPO))

    # ---- the sandbox's truth ---------------------------------------------------------------------------------

    def truth(self, entity: str) -> dict[str, Any]:
        """Every object of ``entity`` in the sandbox, numbers as Decimal (as the connector reads them)."""
        where = " WHERE Active IN (true, false)" if entity in NAME_LISTS else ""
        out: dict[str, Any] = {}
        start = 1
        while True:
            page = self.sandbox.store.query(self.realm, f"SELECT * FROM {entity}{where} STARTPOSITION {start} "
                                                        "MAXRESULTS 1000").get(entity, [])
            for doc in page:
                out[doc["Id"]] = json.loads(json.dumps(doc), parse_float=Decimal, parse_int=Decimal)
            if len(page) < 1000:
                return out
            start += 1000

    def get(self, entity: str, ident: str) -> dict[str, Any]:
        return self.sandbox.store.read(self.realm, entity, ident)

    # ---- the mirror ------------------------------------------------------------------------------------------

    def mirror(self, entity: str) -> dict[str, dict[str, Any]]:
        """Mirror rows of ``entity`` as dicts, each with its ``lines`` (list of dicts in seq order)."""
        model, line_model, fk = ENTITY_TABLES[entity]
        table = model.__table__  # type: ignore[attr-defined]
        with self.sessions() as s:
            rows = {r.id: dict(r._mapping) for r in s.execute(select(table).where(table.c.company == "acme"))}
            for row in rows.values():
                row["lines"] = []
            if line_model is not None:
                lt = line_model.__table__  # type: ignore[attr-defined]
                for ln in s.execute(select(lt).where(lt.c.company == "acme").order_by(lt.c[fk], lt.c.seq)):
                    rows[ln._mapping[fk]]["lines"].append(dict(ln._mapping))
        return rows

    def stamps(self) -> dict[str, Any]:
        """Everything a no-change cycle must leave alone: (sync_token, mirrored_at) per row, cursors, lines."""
        out: dict[str, Any] = {}
        for entity in MIRRORED_ENTITIES:
            out[entity] = {i: (r["sync_token"], r["mirrored_at"], len(r["lines"]))
                           for i, r in self.mirror(entity).items()}
        with self.sessions() as s:
            out["cursors"] = {(c.entity): (c.last_updated, c.updated_at) for c in s.exec(select(EntityCursor)).scalars()}  # type: ignore[call-overload]
            out["quarantine"] = {(q.entity, q.qbo_id): q.last_seen for q in s.exec(select(Quarantine)).scalars()}  # type: ignore[call-overload]
        return out

    def quarantine(self) -> dict[tuple[str, str], str]:
        with self.sessions() as s:
            return {(q.entity, q.qbo_id): q.reason
                    for q in s.execute(select(Quarantine)).scalars()}

    def assert_mirror_equals_sandbox(self, skip: set[tuple[str, str]] = frozenset()) -> None:  # type: ignore[assignment]
        """Same ids per entity, same SyncToken and raw document, and every mirrored column as QBO has it."""
        for entity in MIRRORED_ENTITIES:
            truth = {i: d for i, d in self.truth(entity).items() if (entity, i) not in skip}
            mirror = {i: r for i, r in self.mirror(entity).items() if (entity, i) not in skip}
            missing, extra = sorted(set(truth) - set(mirror)), sorted(set(mirror) - set(truth))
            assert not missing and not extra, f"{entity}: missing {missing[:10]}, extra {extra[:10]}"
            for ident, doc in truth.items():
                row = mirror[ident]
                assert row["sync_token"] == doc["SyncToken"], f"{entity} {ident} SyncToken"
                assert loads(row["raw"]) == doc, f"{entity} {ident} raw document differs"
                expected = expected_columns(entity, doc)
                actual = {k: row[k] for k in expected if k != "lines"}
                keys = LINE_KEYS + (SALES_LINE_COPIES if entity in ("Invoice", "SalesReceipt") else ())
                actual["lines"] = [{k: ln[k] for k in keys}
                                   | ({"po_id": ln["po_id"], "po_line_id": ln["po_line_id"]} if entity == "Bill"
                                      else {}) for ln in row["lines"]]
                assert actual == expected, f"{entity} {ident}: mirror {actual} != QBO {expected}"


# ---- independent extraction of the mirrored columns ---------------------------------------------------------

LINE_KEYS = ("item_id", "qty", "unit_price", "amount", "detail_type")
#: header columns every Invoice / SalesReceipt line repeats
SALES_LINE_COPIES = ("txn_date", "voided")


def _ref(doc: dict[str, Any], key: str) -> str | None:
    ref = doc.get(key)
    return ref.get("value") if isinstance(ref, dict) else None


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _lines(doc: dict[str, Any], detail: str, bill: bool) -> list[dict[str, Any]]:
    out = []
    for line in doc.get("Line", []):
        if line.get("DetailType") == "SubTotalLineDetail":
            continue
        d = line.get(detail) if line.get("DetailType") == detail else None
        row = {"item_id": d["ItemRef"]["value"] if d else None, "qty": d.get("Qty") if d else None,
               "unit_price": d.get("UnitPrice") if d else None, "amount": line.get("Amount"),
               "detail_type": line.get("DetailType")}
        if bill:
            link = next((x for x in line.get("LinkedTxn", []) if x.get("TxnType") == "PurchaseOrder"), None)
            row |= {"po_id": link["TxnId"] if link else None, "po_line_id": link.get("TxnLineId") if link else None}
        out.append(row)
    return out


def expected_columns(entity: str, doc: dict[str, Any]) -> dict[str, Any]:
    g = doc.get
    if entity == "Item":
        return {"name": g("Name"), "sku": g("Sku"), "type": g("Type"), "active": g("Active", True),
                "track_qty_on_hand": g("TrackQtyOnHand", False), "qty_on_hand": g("QtyOnHand"),
                "reorder_point": g("ReorderPoint"), "unit_price": g("UnitPrice"),
                "purchase_cost": g("PurchaseCost"), "pref_vendor_id": _ref(doc, "PrefVendorRef"), "lines": []}
    if entity in ("Vendor", "Customer"):
        out = {"display_name": g("DisplayName"), "active": g("Active", True),
               "email": (g("PrimaryEmailAddr") or {}).get("Address"), "lines": []}
        if entity == "Vendor":
            out["company_name"] = g("CompanyName")
        return out
    if entity == "Account":
        return {"name": g("Name"), "account_type": g("AccountType"), "account_sub_type": g("AccountSubType"),
                "active": g("Active", True), "lines": []}
    common = {"doc_number": g("DocNumber"), "txn_date": _day(g("TxnDate")), "due_date": _day(g("DueDate")),
              "private_note": g("PrivateNote"), "total_amt": g("TotalAmt")}
    if entity in ("Invoice", "SalesReceipt"):
        voided = (g("PrivateNote") or "").startswith("Voided") and g("TotalAmt") == 0
        copies = {"txn_date": common["txn_date"], "voided": voided}
        return common | {"customer_id": _ref(doc, "CustomerRef"), "voided": voided,
                         "bill_email": (g("BillEmail") or {}).get("Address"),
                         "lines": [ln | copies for ln in _lines(doc, "SalesItemLineDetail", False)]}
    if entity == "PurchaseOrder":
        return common | {"vendor_id": _ref(doc, "VendorRef"), "po_status": g("POStatus"),
                         "manually_closed": g("ManuallyClosed", False), "expected_date": _day(g("ExpectedDate")),
                         "memo": g("Memo"), "lines": _lines(doc, "ItemBasedExpenseLineDetail", False)}
    return common | {"vendor_id": _ref(doc, "VendorRef"), "lines": _lines(doc, "ItemBasedExpenseLineDetail", True)}


# ---- random changes ------------------------------------------------------------------------------------------


class Changer:
    """Random creates, updates, voids, deletes and inactivations through the sandbox's store (as QBO would
    apply them). Returns the set of Item ids whose demand, supply or stock it changed."""

    def __init__(self, h: Harness, seed: int) -> None:
        self.h, self.rnd = h, random.Random(seed)
        self.store, self.realm = h.sandbox.store, h.realm

    def ids(self, entity: str, active_only: bool = False) -> list[str]:
        docs = self.h.truth(entity)
        return sorted((i for i, d in docs.items() if not active_only or d.get("Active", True)), key=int)

    def inventory(self) -> list[str]:
        return sorted((i for i, d in self.h.truth("Item").items()
                       if d.get("Type") == "Inventory" and d.get("Active", True)), key=int)

    def sales_lines(self, items: list[str]) -> list[dict[str, Any]]:
        return [{"DetailType": "SalesItemLineDetail", "Amount": Decimal(qty * 3),
                 "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": Decimal(qty), "UnitPrice": Decimal(3)}}
                for item, qty in ((self.rnd.choice(items), self.rnd.randint(1, 9)) for _ in range(self.rnd.randint(1, 3)))]

    def create_invoice(self, items: list[str], customers: list[str]) -> dict[str, Any]:
        return self.store.create(self.realm, "Invoice", {"CustomerRef": {"value": self.rnd.choice(customers)},
                                                         "Line": self.sales_lines(items)})

    def run(self, n: int = 12) -> None:
        r, store, realm = self.rnd, self.store, self.realm
        items, customers = self.inventory(), self.ids("Customer", active_only=True)
        vendors = self.ids("Vendor", active_only=True)
        for _ in range(n):
            self.create_invoice(items, customers)
        invoices = self.ids("Invoice")
        for ident in r.sample(invoices, k=min(n, len(invoices))):
            doc = self.h.get("Invoice", ident)
            action = r.choice(["note", "lines", "void", "delete"])
            head = {"Id": ident, "SyncToken": doc["SyncToken"]}
            if action == "note":
                store.update(realm, "Invoice", head | {"sparse": True, "PrivateNote": f"note {r.random():.6f}"})
            elif action == "lines":
                store.update(realm, "Invoice", head | {"sparse": True, "Line": self.sales_lines(items)})
            elif action == "void":
                store.void(realm, "Invoice", head)
            else:
                store.delete(realm, "Invoice", head)
        for ident in r.sample(self.ids("SalesReceipt"), k=2):
            doc = self.h.get("SalesReceipt", ident)
            store.void(realm, "SalesReceipt", {"Id": ident, "SyncToken": doc["SyncToken"]})
        po = store.create(realm, "PurchaseOrder", {
            "VendorRef": {"value": r.choice(vendors)}, "POStatus": "Open",
            "Line": [{"DetailType": "ItemBasedExpenseLineDetail", "Amount": Decimal(40),
                      "ItemBasedExpenseLineDetail": {"ItemRef": {"value": r.choice(items)}, "Qty": Decimal(10),
                                                     "UnitPrice": Decimal(4)}}]})
        line = po["Line"][0]
        store.create(realm, "Bill", {
            "VendorRef": po["VendorRef"],
            "Line": [{"DetailType": "ItemBasedExpenseLineDetail", "Amount": Decimal(16),
                      "ItemBasedExpenseLineDetail": {"ItemRef": line["ItemBasedExpenseLineDetail"]["ItemRef"],
                                                     "Qty": Decimal(4), "UnitPrice": Decimal(4)},
                      "LinkedTxn": [{"TxnId": po["Id"], "TxnType": "PurchaseOrder", "TxnLineId": line["Id"]}]}]})
        for entity in ("PurchaseOrder", "Bill"):
            victim = r.choice(self.ids(entity)[:-1])
            doc = self.h.get(entity, victim)
            store.delete(realm, entity, {"Id": victim, "SyncToken": doc["SyncToken"]})
        for entity, field in (("Vendor", "CompanyName"), ("Customer", "CompanyName")):
            ident = r.choice(self.ids(entity))
            doc = self.h.get(entity, ident)
            store.update(realm, entity, {"Id": ident, "SyncToken": doc["SyncToken"], "sparse": True,
                                         field: f"Renamed {r.randint(1, 10**6)}"})
        victim = r.choice(items)
        doc = self.h.get("Item", victim)
        store.update(realm, "Item", {"Id": victim, "SyncToken": doc["SyncToken"], "sparse": True, "Active": False})
