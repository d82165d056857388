"""Benchmark of the stored backorder ledger: full rebuild vs. incremental recompute (issue #4). Not a timed test.

The mirror is built directly in SQLite with bulk inserts of rows shaped like the mirror tables (going through
the sandbox and the sync engine for 1M invoice lines would measure the sync, not the ledger). It is built once
per set of parameters and cached under ``bench/.state/``; each run works on a fresh copy. Shape, seeded:
``--items`` tracked Inventory items (about 35% get a QtyOnHand drawn from [-sold/3, 20], so many are short),
``--customers`` customers, invoices of ``--lines-per-invoice`` lines up to ``--lines`` invoice lines, dated evenly
over 2024 in Id order, one open PO line per 4 items with a bill receiving part of every other one.

Scenarios (``--scenario``, default all):

``uniform``
    Every invoice line's item is drawn uniformly from all items; the ``--changed`` edited invoices are drawn
    uniformly from all invoices.
``skewed``
    80/20 popularity: a seeded random 20% of the items receive each line with probability 0.8 (uniformly among
    them), the other 80% of the items share the remaining 0.2; the edited invoices are drawn uniformly from the
    25,000 most recent invoices.

Measured per scenario, each in one transaction like the daemon runs them:

1. ``rebuild_all`` over the whole company (every state new: every short line gets an ``opened`` event);
2. the incremental recompute after ``--changed`` invoices were edited (line quantities changed and the
   touched items queued in ``dirty_item`` as the sync does): :func:`syncd.backorders.service.ledger_step`.

Wall time, peak RSS of the process (``ru_maxrss`` after the step), the load average and the ratio are printed
and written as Markdown to ``--out`` (default ``bench/RESULTS_ledger.md``).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

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
STATE = Path(__file__).with_name(".state")


def _head(ident: str) -> dict[str, Any]:
    return {"company": COMPANY, "id": ident, "sync_token": "0", "last_updated": T0, "raw": "{}",
            "raw_hash": "x", "mirrored_at": T0}


def _bulk(conn: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        conn.execute(insert(table_of(model)), rows[i : i + BATCH])


def build(url: str, items: int, customers: int, lines: int, per_invoice: int, seed: int, hot: float = 0.0) -> int:
    """Fill the mirror; returns the number of invoices.

    Item popularity: with ``hot == 0`` every line's item is drawn uniformly from all items. With ``hot > 0`` a
    seeded random ``hot`` share of the items (e.g. 20%) is "popular": each line picks a popular item (uniformly
    among them) with probability ``1 - hot`` (e.g. 80%), else an item uniformly among the others (80/20 rule).
    """
    rnd = random.Random(seed)
    order = list(range(1, items + 1))
    random.Random(seed + 7).shuffle(order)
    n_hot = int(items * hot)
    popular, rest = order[:n_hot], order[n_hot:]

    def draw() -> int:
        if n_hot and rnd.random() < 1 - hot:
            return popular[rnd.randrange(n_hot)]
        if n_hot:
            return rest[rnd.randrange(len(rest))]
        return rnd.randint(1, items)

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
                    item = draw()
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


def change_invoices(sessions: Any, invoices: int, changed: int, seed: int, recent: int | None = None) -> int:
    """Edit ``changed`` invoices' line quantities and queue their items, as a sync would; returns items.

    The invoices are drawn uniformly without replacement from all invoices, or from the ``recent`` newest ones
    (highest Ids and dates) when given.
    """
    rnd = random.Random(seed + 1)
    first = 1 if recent is None else max(1, invoices - recent + 1)
    chosen = [str(n) for n in rnd.sample(range(first, invoices + 1), changed)]
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


#: name -> (share of popular items, or 0 for uniform; changed invoices drawn from the newest N, or None for all)
SCENARIOS: dict[str, tuple[float, int | None]] = {"uniform": (0.0, None), "skewed": (0.2, 25_000)}


def mirror_file(args: argparse.Namespace, hot: float) -> tuple[Path, float]:
    """A pristine copy of the mirror for these parameters, built once and cached under ``bench/.state``."""
    cache = STATE / (f"ledger-i{args.items}-c{args.customers}-l{args.lines}-p{args.lines_per_invoice}"
                     f"-h{hot:g}-s{args.seed}.sqlite")
    if cache.exists():
        return cache, 0.0
    STATE.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    t = time.perf_counter()
    build(f"sqlite:///{tmp}", args.items, args.customers, args.lines, args.lines_per_invoice, args.seed, hot)
    tmp.rename(cache)
    return cache, time.perf_counter() - t


def touched_lines(session: Any) -> tuple[int, int]:
    """Invoice lines of the queued items, and of those among them that are short or have ledger states."""
    dirty = "SELECT item_id FROM dirty_item WHERE company = :c"
    busy = (f"SELECT id FROM item WHERE company = :c AND id IN ({dirty}) AND (qty_on_hand < 0 OR EXISTS "
            "(SELECT 1 FROM backorder_line b WHERE b.company = :c AND b.item_id = item.id))")
    count = "SELECT count(*) FROM invoice_line WHERE company = :c AND item_id IN ({})"
    every = session.execute(text(count.format(dirty)), {"c": COMPANY}).scalar_one()
    some = session.execute(text(count.format(busy)), {"c": COMPANY}).scalar_one()
    return int(every), int(some)


def load_avg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def run(args: argparse.Namespace, name: str) -> dict[str, Any]:
    hot, recent = SCENARIOS[name]
    cache, build_s = mirror_file(args, hot)
    work = Path(tempfile.mkdtemp()) / "ledger-bench.db"
    shutil.copyfile(cache, work)
    invoices = args.lines // args.lines_per_invoice
    url = f"sqlite:///{work}"
    config = Config()
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = T0 + timedelta(hours=1)
    out: dict[str, Any] = {"name": name, "build_s": build_s, "invoices": invoices, "load_before": load_avg()}

    t = time.perf_counter()
    full = run_in_transaction(sessions, lambda s: rebuild_all(s, COMPANY, config, now))
    out["full_s"] = time.perf_counter() - t
    out["full_rss"] = rss_mb()
    out["full"] = full
    print(f"[{name}] rebuild_all: {out['full_s']:.2f} s, {full.events} events, peak RSS {out['full_rss']:.0f} MB",
          flush=True)
    # the daily review of the first day, so the incremental step below measures the dirty items only
    run_in_transaction(sessions, lambda s: ledger_step(s, COMPANY, config, now))

    out["touched"] = change_invoices(sessions, invoices, args.changed, args.seed, recent)
    out["touched_lines"], out["busy_lines"] = run_in_transaction(sessions, touched_lines)
    later = now + timedelta(minutes=5)
    t = time.perf_counter()
    inc = run_in_transaction(sessions, lambda s: ledger_step(s, COMPANY, config, later))
    out["inc_s"] = time.perf_counter() - t
    out["inc"] = inc
    out["load_after"] = load_avg()
    out["ratio"] = out["full_s"] / out["inc_s"] if out["inc_s"] else float("inf")
    print(f"[{name}] incremental ({args.changed} invoices, {out['touched']} items, {inc.items} recomputed): "
          f"{out['inc_s']:.3f} s, {inc.events} events; ratio {out['ratio']:.1f}x", flush=True)
    engine.dispose()
    shutil.rmtree(work.parent, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--customers", type=int, default=5_000)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--lines-per-invoice", type=int, default=4)
    ap.add_argument("--changed", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    ap.add_argument("--out", default=str(Path(__file__).with_name("RESULTS_ledger.md")))
    args = ap.parse_args(argv)

    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    results = [run(args, n) for n in names]

    rows = []
    for r in results:
        full, inc = r["full"], r["inc"]
        rows.append(
            f"| {r['name']} | {r['full_s']:.2f} s | {r['full_rss']:.0f} MB | {full.items:,} items, "
            f"{full.rows_written:,} state rows, {full.events:,} events | {r['inc_s']:.3f} s | "
            f"{r['touched']:,} touched items ({r['touched'] / args.items:.1%}) with {r['touched_lines']:,} lines "
            f"({r['touched_lines'] / args.lines:.1%}); {r['busy_lines']:,} lines of short/stateful ones read; "
            f"{inc.rows_written:,} state rows, {inc.events:,} events | **{r['ratio']:.1f}x** | {r['load_before']} → {r['load_after']} |"
        )
    table = "\n".join(rows)
    doc = f"""# Backorder ledger benchmark (issue #4)

Produced by `python bench/bench_ledger.py` (seed {args.seed}) on {platform.machine()}, Python
{platform.python_version()}, `os.cpu_count()` = {os.cpu_count()}, SQLite {sqlite3.sqlite_version}. The mirror is
bulk-inserted directly into SQLite (rows shaped like the mirror tables), not synced through the sandbox: this
measures the ledger only. Each step runs in one transaction, as the daemon runs it.

Data per scenario: {args.items:,} tracked items, {args.customers:,} customers, {args.lines // args.lines_per_invoice:,} invoices x
{args.lines_per_invoice} lines = {args.lines:,} invoice lines, {len(range(1, args.items + 1, 4)):,} open PO lines
(half partly received by bills); about a third of the items are given a negative QtyOnHand.

| scenario | full rebuild | peak RSS | full: work | incremental | incremental: work | full / incr. | load avg (1/5/15 min) before → after |
|---|---|---|---|---|---|---|---|
{table}

Goals: full rebuild < 60 s; incremental >= 50x cheaper than the full rebuild.
"""
    Path(args.out).write_text(doc)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
