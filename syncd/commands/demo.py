"""``syncd demo [--dir DIR] [--seed N] [--items N] [--invoices N] [--keep-running]``: the whole story, no setup.

Starts the embedded QuickBooks sandbox with a seeded company, writes a config for it (the client secret in a
0600 file, as an admin would), connects through the real OAuth code flow, and then runs the same commands an
admin runs — ``config check``, ``auth``, ``sync --once``, ``status`` and, where the config enables them, the
backorder report and the reorder plan — printing each command before its output. Midway a simulated day of
business happens in "QuickBooks" (an oversold invoice, a partial receipt of an open PO) so the incremental
cycle, the ledger and the reorder rules have something to show.

Everything lands in ``--dir`` (default ``./demo-out``): ``syncd.toml``, the SQLite mirror ``syncd.db`` and the
sandbox state. With ``--keep-running`` the sandbox stays up so the commands can be tried by hand.
"""

from __future__ import annotations

import argparse
import os
import shlex
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from syncd import cli

DEMO_TOML = """\
# Written by `syncd demo`: a company on the local QuickBooks sandbox.
[database]
url = "sqlite:///{db}"

[logging]
level = "warning"
format = "console"

[sync]
overlap_seconds = 5

[[company]]
name = "demo"
realm_id = "{realm_id}"
client_id = "{client_id}"
client_secret = {{ file = "{secret_file}" }}
environment = "{discovery_url}"
api_base = "{api_base}"
redirect_uri = "{redirect_uri}"

[company.retry]
throttle_backoff_seconds = 2

[backorders]
default_lead_time_days = 10

[reorder]
mode = "auto"
memo = "Reorder raised by syncd (demo)"

[reorder.defaults]
# min comes from each item's own ReorderPoint in QuickBooks; order up to 3x it, in cases of 5.
use_qbo_reorder_point = true
max = 120
multiple = 5
lead_time_days = 7
"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="the end-to-end story against an embedded, seeded QuickBooks sandbox")
    p.add_argument("--dir", default="demo-out", help="where the config, database and sandbox state go")
    p.add_argument("--seed", type=int, default=7, help="seed of the sandbox company (same seed, same story)")
    p.add_argument("--items", type=int, default=120)
    p.add_argument("--invoices", type=int, default=600)
    p.add_argument("--keep-running", action="store_true", help="keep the sandbox up afterwards (Ctrl-C stops)")
    p.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from syncd.sandbox.app import Sandbox, SandboxOptions

    out = Path(args.dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("syncd.db", "syncd.db-wal", "syncd.db-shm", "sandbox.db", "sandbox.db-wal", "sandbox.db-shm"):
        (out / stale).unlink(missing_ok=True)
    options = SandboxOptions(
        seed=args.seed, items=args.items, vendors=12, customers=40, invoices=args.invoices,
        state=str(out / "sandbox.db"), redirect_uri="http://127.0.0.1:8765/callback",
    )
    _say("1. A QuickBooks company", "The embedded sandbox speaks QuickBooks Online v3; it is seeded with a "
         "realistic company (90 days of sales, open and partly received purchase orders, some items short).")
    with Sandbox(options) as sandbox:
        info = sandbox.info
        facts = _company_facts(sandbox, info["realm_id"])
        print(f"   {facts['items']} inventory items ({facts['short']} already short), {facts['vendors']} vendors, "
              f"{facts['invoices']} invoices, {facts['open_pos']} open purchase orders")
        print(f"   API base {info['api_base']}")

        config_path = _write_config(out, info)
        env_cmd = f"SYNCD_CONFIG={shlex.quote(str(config_path))}"
        _say("2. Configure", f"One TOML file ({config_path}); the client secret sits in a 0600 file beside it.")
        _run(["config", "check", str(config_path)])

        _say("3. Connect QuickBooks", "The OAuth code flow: the admin consents in the browser (simulated here) "
             "and pastes the redirect URL; tokens go to the database, never to the screen or the log.")
        redirect = _consent(config_path, info)
        _run(["auth", "--config", str(config_path), "--redirect-url", redirect],
             shown=["auth", "--redirect-url", "'…'"])

        _say("4. First sync", "Backfill of every entity, 1000 per page (resumable if interrupted); then the "
             "backorder ledger is built and the reorder rules (mode auto here) raise purchase orders in QuickBooks.")
        _run(["sync", "--once", "--config", str(config_path)])

        _say("5. Status", "What an admin checks at a glance.")
        _run(["status", "--config", str(config_path)])

        _say("6. A day of business in QuickBooks", "Someone invoices more than is in stock, and a vendor "
             "delivers part of an open purchase order.")
        for line in _simulate_day(sandbox, info["realm_id"]):
            print(f"   {line}")

        _say("7. Incremental sync", "One change-data-capture call picks up everything that changed.")
        _run(["sync", "--once", "--config", str(config_path)])
        _run_if_available("backorders", ["backorders", "--config", str(config_path)],
                          "8. Backorders", "Who waits for what, since when, and when stock arrives.")
        _run_if_available("po", ["po", "list", "--config", str(config_path)],
                          "9. Purchase orders syncd raised", "Mode auto: pushed once, explained line by line.")

        _say("10. Idle poll", "Nothing changed: exactly one API call, nothing written.")
        _run(["sync", "--once", "--config", str(config_path)])

        print(f"\nDone. Files are in {out}. Try the commands yourself with {env_cmd} syncd status")
        if args.keep_running:
            print(f"The sandbox keeps running at {info['api_base']}; Ctrl-C stops it.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return 0


def _say(title: str, text: str) -> None:
    print(f"\n== {title}\n   {text}", flush=True)


def _run(argv: list[str], shown: list[str] | None = None) -> None:
    print(f"\n$ syncd {' '.join(shown or [a if '/' not in a else Path(a).name for a in argv])}", flush=True)
    code = cli.main(argv)
    if code != 0:
        raise SystemExit(f"demo: `syncd {argv[0]}` failed with exit code {code}")


def _run_if_available(command: str, argv: list[str], title: str, text: str) -> None:
    import importlib.util

    if importlib.util.find_spec(f"syncd.commands.{command}") is None:
        return
    _say(title, text)
    _run(argv)


def _write_config(out: Path, info: dict[str, Any]) -> Path:
    secret = out / "client-secret"
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(info["client_secret"] + "\n")
    path = out / "syncd.toml"
    path.write_text(DEMO_TOML.format(db=out / "syncd.db", secret_file=secret, **info), encoding="utf-8")
    return path


def _consent(config_path: Path, info: dict[str, Any]) -> str:
    """What the admin's browser does: open the authorization URL, consent, land on the redirect URI."""
    import requests

    from syncd.config import load_config
    from syncd.connectors.oauth import authorization_url

    company = load_config(config_path).get_company("demo")
    answer = requests.get(authorization_url(company, "demo-state"), allow_redirects=False, timeout=30)
    if answer.status_code not in (301, 302, 303, 307) or "Location" not in answer.headers:
        raise SystemExit(f"demo: the sandbox's consent screen answered {answer.status_code}")
    return str(answer.headers["Location"])


def _company_facts(sandbox: Any, realm: str) -> dict[str, int]:
    store = sandbox.store

    def count(statement: str) -> int:
        return int(store.query(realm, statement).get("totalCount", 0))

    short = count("SELECT COUNT(*) FROM Item WHERE Type = 'Inventory' AND QtyOnHand < '0'")
    return {
        "items": count("SELECT COUNT(*) FROM Item WHERE Type = 'Inventory'"),
        "short": short,
        "vendors": count("SELECT COUNT(*) FROM Vendor"),
        "invoices": count("SELECT COUNT(*) FROM Invoice"),
        "open_pos": count("SELECT COUNT(*) FROM PurchaseOrder WHERE POStatus = 'Open'"),
    }


def _simulate_day(sandbox: Any, realm: str) -> list[str]:
    """Oversell one in-stock item and receive part of an open PO line, through the sandbox's QBO rules."""
    store = sandbox.store
    told = []
    items = store.query(realm, "SELECT * FROM Item WHERE Type = 'Inventory' MAXRESULTS 1000").get("Item", [])
    in_stock = [i for i in items if Decimal(str(i.get("QtyOnHand", 0))) > 0 and i.get("PrefVendorRef")]
    customer = store.query(realm, "SELECT * FROM Customer MAXRESULTS 1")["Customer"][0]
    if in_stock:
        item = in_stock[0]
        on_hand = Decimal(str(item["QtyOnHand"]))
        qty = on_hand + 8
        price = Decimal(str(item.get("UnitPrice") or 10))
        invoice = store.create(realm, "Invoice", {
            "CustomerRef": {"value": customer["Id"]},
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": float(qty * price),
                      "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": float(qty),
                                              "UnitPrice": float(price)}}],
        })
        told.append(f"Invoice {invoice.get('DocNumber')} to {customer['DisplayName']}: {qty} x {item['Name']} "
                    f"(only {on_hand} on hand, so 8 are backordered)")
    pos = store.query(realm, "SELECT * FROM PurchaseOrder WHERE POStatus = 'Open' MAXRESULTS 5").get(
        "PurchaseOrder", [])
    for po in pos:
        lines = [ln for ln in po.get("Line", []) if ln.get("DetailType") == "ItemBasedExpenseLineDetail"]
        if not lines:
            continue
        line = lines[0]
        detail = line["ItemBasedExpenseLineDetail"]
        got = max(Decimal(1), (Decimal(str(detail.get("Qty", 1))) / 2).to_integral_value())
        cost = Decimal(str(detail.get("UnitPrice") or 1))
        bill = store.create(realm, "Bill", {
            "VendorRef": po["VendorRef"],
            "Line": [{"DetailType": "ItemBasedExpenseLineDetail", "Amount": float(got * cost),
                      "LinkedTxn": [{"TxnId": po["Id"], "TxnType": "PurchaseOrder", "TxnLineId": line["Id"]}],
                      "ItemBasedExpenseLineDetail": {"ItemRef": detail["ItemRef"], "Qty": float(got),
                                                     "UnitPrice": float(cost)}}],
        })
        told.append(f"Bill {bill.get('Id')} from {po['VendorRef'].get('name', po['VendorRef']['value'])}: received "
                    f"{got} x {detail['ItemRef'].get('name', detail['ItemRef']['value'])} against PO "
                    f"{po.get('DocNumber')}")
        break
    return told
