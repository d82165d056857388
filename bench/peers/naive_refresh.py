"""The naive baseline, one cycle: what a small script on python-quickbooks does — ``Entity.all()`` page after page
for every entity, then replace the local copy (SQLite) with what was read. Run as its own process per cycle:

    python naive_refresh.py --settings settings.json --db naive.db

``settings.json`` holds the app credentials, realm, discovery URL and API base; the refresh token lives in
``<db>.token`` and is rotated there after every run (python-quickbooks refreshes on construction when it has no
access token). Prints one JSON line: rows written per entity.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.objects import Account, Bill, Customer, Invoice, Item, PurchaseOrder, SalesReceipt, Vendor

CLASSES = (Account, Vendor, Customer, Item, PurchaseOrder, Bill, Invoice, SalesReceipt)
PAGE = 1000


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--settings", required=True)
    p.add_argument("--db", required=True)
    args = p.parse_args()
    s = json.loads(Path(args.settings).read_text())
    token_file = Path(args.db + ".token")
    auth = AuthClient(s["client_id"], s["client_secret"], s["redirect_uri"], s["discovery_url"])
    qb = QuickBooks(auth_client=auth, refresh_token=token_file.read_text().strip(), company_id=s["realm_id"],
                    minorversion=75)
    token_file.write_text(auth.refresh_token)  # rotated: keep the newest
    qb.api_url_v3 = s["api_base"]  # python-quickbooks hard-codes Intuit's host as a class attribute

    db = sqlite3.connect(args.db)
    written: dict[str, int] = {}
    for cls in CLASSES:
        name = cls.qbo_object_name
        rows: list[tuple[str, str, str]] = []
        start = 1
        while True:
            page = cls.all(start_position=start, max_results=PAGE, qb=qb)
            rows.extend((o.Id, o.SyncToken, json.dumps(o.to_dict(), default=str)) for o in page)
            if len(page) < PAGE:
                break
            start += PAGE
        with db:
            db.execute(f"CREATE TABLE IF NOT EXISTS {name} (id TEXT PRIMARY KEY, sync_token TEXT, doc TEXT)")
            db.execute(f"DELETE FROM {name}")
            db.executemany(f"INSERT INTO {name} VALUES (?, ?, ?)", rows)
        written[name] = len(rows)
        del rows
    db.close()
    print(json.dumps(written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
