"""Benchmark of the stored backorder ledger: full rebuild vs. incremental recompute (issue #4). Not a timed test.

The mirror is built directly in SQLite with bulk inserts of rows shaped like the mirror tables (going through
the sandbox and the sync engine for 1M invoice lines would measure the sync, not the ledger). Shape, seeded:
``--items`` tracked Inventory items (about a third of them short), ``--customers`` customers, invoices of
``--lines-per-invoice`` lines up to ``--lines`` invoice lines (items drawn uniformly), one open PO line per 4
items with a bill receiving part of every other one.

Measured, each in one transaction like the daemon runs them:

1. ``rebuild_all`` over the whole company (every state new: every short line gets an ``opened`` event);
2. the incremental recompute after ``--changed`` random invoices were edited (line quantities changed and the
   touched items queued in ``dirty_item`` as the sync does): :func:`syncd.backorders.service.ledger_step`.

Wall time, peak RSS of the process (``ru_maxrss`` after the step) and the ratio are printed and written as
Markdown to ``--out`` (default ``bench/RESULTS_ledger.md``).
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from syncd.backorders.service import ledger_step, rebuild_all
from syncd.config import Config
from syncd.mirror.db import make_engine, make_session_factory, run_in_transaction, upgrade
from syncd.mirror.models import (
    Bill,
    BillLine,
    Customer,
    Invoice,
    InvoiceLine,
    Item,
    PurchaseOrder,
    PurchaseOrderLine,
    table_of,
)
from syncd.sync.apply import mark_dirty

COMPANY = "bench"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
BATCH = 20_000


def _head(ident: str) -> dict[str, Any]:
    return {"company": COMPANY, "id": ident, "sync_token": "0", "last_updated": T0, "raw": "{}",
            "raw_hash": "x", "mirrored_at": T0}


def _bulk(conn: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        conn.execute(insert(table_of(model)), rows[i : i + BATCH])


def build(url: str, items: int, customers: int, lines: int, per_invoice: int, seed: int) -> int:
    """Fill the mirror; returns the number of invoices."""
    rnd = random.Random(seed)
    engine = make_engine(url)
    upgrade(engine)
    invoices = lines // per_invoice
    sold: dict[int, int] = {}
    with engine.begin() as conn:
        _bulk(conn, Customer, [_head(str(c)) | {"display_name": f"Customer {c}", "active": True}
                               for c in range(1, customers + 1)])
        for start in range(1, invoices + 1, 10_000):
            heads, body = [], []
            for n in range(start, min(invoices, start + 9_999) + 1):
                heads.append(_head(str(n)) | {"doc_number": f"INV-{n}", "customer_id": str(rnd.randint(1, customers)),
                                              "txn_date": date(2024, 1, 1) + timedelta(days=n * 365 // invoices),
                                              "voided": False})
                for seq in range(per_invoice):
                    item = rnd.randint(1, items)
                    qty = rnd.randint(1, 5)
                    sold[item] = sold.get(item, 0) + qty
                    body.append({"company": COMPANY, "invoice_id": str(n), "seq": seq, "line_id": str(seq + 1),
                                 "detail_type": "SalesItemLineDetail", "item_id": str(item), "qty": Decimal(qty)})
            _bulk(conn, Invoice, heads)
            _bulk(conn, InvoiceLine, body)
        item_rows = []
        for i in range(1, items + 1):
            total = sold.get(i, 0)
            on_hand = Decimal(rnd.randint(-total // 3, 20)) if rnd.random() < 0.35 else Decimal(rnd.randint(0, 50))
            item_rows.append(_head(str(i)) | {"name": f"Item {i:06d}", "sku": f"SKU-{i}", "type": "Inventory",
                                              "active": True, "track_qty_on_hand": True, "qty_on_hand": on_hand})
        _bulk(conn, Item, item_rows)
        pos, po_lines, bills, bill_lines = [], [], [], []
        for p, item in enumerate(range(1, items + 1, 4), start=1):
            pos.append(_head(str(p)) | {"doc_number": f"PO-{p}", "vendor_id": str(p % 50 + 1), "po_status": "Open",
                                        "txn_date": date(2024, 12, 1), "due_date": date(2025, 1, 1) + timedelta(days=p % 60),
                                        "manually_closed": False})
            po_lines.append({"company": COMPANY, "purchase_order_id": str(p), "seq": 0, "line_id": "1",
                             "detail_type": "ItemBasedExpenseLineDetail", "item_id": str(item),
                             "qty": Decimal(rnd.randint(5, 40))})
            if p % 2 == 0:
                bills.append(_head(str(p)) | {"vendor_id": str(p % 50 + 1), "txn_date": date(2024, 12, 20)})
                bill_lines.append({"company": COMPANY, "bill_id": str(p), "seq": 0, "line_id": "1",
                                   "detail_type": "ItemBasedExpenseLineDetail", "item_id": str(item),
                                   "qty": Decimal(2), "po_id": str(p), "po_line_id": "1"})
        _bulk(conn, PurchaseOrder, pos)
        _bulk(conn, PurchaseOrderLine, po_lines)
        _bulk(conn, Bill, bills)
        _bulk(conn, BillLine, bill_lines)
    engine.dispose()
    return invoices


def change_invoices(sessions: Any, invoices: int, changed: int, seed: int) -> int:
    """Edit ``changed`` random invoices' line quantities and queue their items, as a sync would; returns items."""
    rnd = random.Random(seed + 1)
    chosen = [str(n) for n in rnd.sample(range(1, invoices + 1), changed)]
    lines = table_of(InvoiceLine)

    def work(session: Any) -> int:
        items = set(session.scalars(select(lines.c.item_id).where(lines.c.company == COMPANY,
                                                                    lines.c.invoice_id.in_(chosen))))
        for part in range(0, len(chosen), 500):
            session.execute(lines.update().where(lines.c.company == COMPANY,
                                                 lines.c.invoice_id.in_(chosen[part : part + 500]))
                            .values(qty=Decimal(rnd.randint(1, 9))))
        mark_dirty(session, COMPANY, items, T0)
        return len(items)

    return int(run_in_transaction(sessions, work))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--customers", type=int, default=5_000)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--lines-per-invoice", type=int, default=4)
    ap.add_argument("--changed", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--db", help="SQLite file (default: a temporary one)")
    ap.add_argument("--out", default=str(Path(__file__).with_name("RESULTS_ledger.md")))
    args = ap.parse_args(argv)

    path = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / "ledger-bench.db"
    url = f"sqlite:///{path}"
    t = time.perf_counter()
    invoices = build(url, args.items, args.customers, args.lines, args.lines_per_invoice, args.seed)
    build_s = time.perf_counter() - t
    print(f"built mirror: {args.lines} invoice lines, {invoices} invoices, {args.items} items in {build_s:.1f} s",
          flush=True)
    config = Config()
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = T0 + timedelta(hours=1)

    t = time.perf_counter()
    full = run_in_transaction(sessions, lambda s: rebuild_all(s, COMPANY, config, now))
    full_s = time.perf_counter() - t
    full_rss = rss_mb()
    print(f"rebuild_all: {full_s:.2f} s, {full.events} events, peak RSS {full_rss:.0f} MB", flush=True)
    # the daily review of the first day, so the incremental step below measures the dirty items only
    run_in_transaction(sessions, lambda s: ledger_step(s, COMPANY, config, now))

    touched = change_invoices(sessions, invoices, args.changed, args.seed)
    later = now + timedelta(minutes=5)
    t = time.perf_counter()
    inc = run_in_transaction(sessions, lambda s: ledger_step(s, COMPANY, config, later))
    inc_s = time.perf_counter() - t
    inc_rss = rss_mb()
    ratio = full_s / inc_s if inc_s else float("inf")
    print(f"incremental ({args.changed} invoices, {touched} items): {inc_s:.3f} s, {inc.events} events; "
          f"ratio {ratio:.1f}x", flush=True)
    engine.dispose()

    share = touched / args.items
    text = f"""# Backorder ledger benchmark (issue #4)

Produced by `python bench/bench_ledger.py` (seed {args.seed}) on {platform.machine()}, {platform.python_version()},
`os.cpu_count()` = {__import__('os').cpu_count()}, SQLite {__import__('sqlite3').sqlite_version}. The mirror is bulk-inserted directly
into SQLite (rows shaped like the mirror tables), not synced through the sandbox: this measures the ledger only.

Data: {args.items:,} tracked items, {args.customers:,} customers, {invoices:,} invoices x {args.lines_per_invoice} lines =
{args.lines:,} invoice lines (items drawn uniformly), {len(range(1, args.items + 1, 4)):,} open PO lines, half
partly received by bills. Building the mirror took {build_s:.0f} s (not part of the measurement).

| step | wall time | peak RSS (process) | work |
|---|---|---|---|
| full rebuild (`rebuild_all`, empty ledger) | {full_s:.2f} s | {full_rss:.0f} MB | {full.items:,} items, {full.rows_written:,} state rows, {full.events:,} events |
| incremental after {args.changed:,} changed invoices (`ledger_step`) | {inc_s:.3f} s | {inc_rss:.0f} MB | {inc.items:,} touched items, {inc.rows_written:,} state rows, {inc.events:,} events |

**Ratio full / incremental: {ratio:.1f}x** (goal >= 50x). Full rebuild goal < 60 s: {"met" if full_s < 60 else "NOT met"}.

Reading the ratio: the ledger recomputes whole items (fill order needs every live line of an item), so the
incremental cost is proportional to the lines of the *touched items*, not to the changed invoices. Here the
{args.changed:,} invoices touch {touched:,} of {args.items:,} items ({share:.1%}); the ideal ratio is therefore
about {1 / share if share else 0:.0f}x before fixed costs. Peak RSS is the process maximum, so the incremental
row includes the rebuild's peak.
"""
    Path(args.out).write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
