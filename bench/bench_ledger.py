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
2. the incremental recompute after ``--changed`` invoices were edited (line quantities changed, each item's
   QtyOnHand moved by the opposite as QBO moves it — ``--stock fixed`` leaves it — and the touched items queued in
   ``dirty_item`` as the sync does): :func:`syncd.backorders.service.ledger_step`, on an
   engine whose statement cache a rolled-back run of the same step warmed, as a daemon's engine is after its
   first cycle (see :func:`timed`);
3. the floor of any incremental design: the step's own writes and nothing else (:func:`step_writes`,
   :func:`floor_step`), and the floor with the reads that any design needs on top (:func:`oracle_reads`): what an
   oracle that knows the answer would still spend;
4. for comparison, the same step with every item queued and nothing changed.

1, 2 and 3 alternate ``--repeat`` times, and the ratios are reported both of the medians and per (rebuild, step)
pair.

Wall time, peak RSS of the process (``ru_maxrss`` after the step), the load average and the ratio are printed
and written as Markdown to ``--out`` (default ``bench/RESULTS_ledger.md``), replacing its generated part and keeping
everything from its ``## Write-up`` heading on.

``--pg DSN`` runs the same on a PostgreSQL server (the pristine mirror is kept there as a database, copies are made
from it as templates; results go to ``bench/RESULTS_ledger_postgresql.md``), e.g.
``python bench/bench_ledger.py --pg "$(bash scripts/pg-test-server.sh)"``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, make_url, select, text
from sqlalchemy.pool import NullPool

from syncd.backorders.loader import SALES
from syncd.backorders.models import BackorderEvent
from syncd.backorders.service import ledger_step, rebuild_all
from syncd.backorders.store import chunked, load_states, write_states
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
from syncd.sync.changes import clear_dirty_items, dirty_items

COMPANY = "bench"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
BATCH = 20_000
STATE = Path(__file__).with_name(".state")
#: the heading after which ``--out`` holds hand-written notes that a new run keeps
WRITE_UP = "## Write-up"
#: mirror schema head the cached mirrors were built at (a new migration needs a new cache)
SCHEMA = "0005"


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
                day = date(2024, 1, 1) + timedelta(days=n * 365 // invoices)
                heads.append(_head(str(n)) | {"doc_number": f"INV-{n}", "customer_id": str(rnd.randint(1, customers)),
                                              "txn_date": day, "voided": False})
                for seq in range(per_invoice):
                    item = draw()
                    qty = rnd.randint(1, 5)
                    sold[item] = sold.get(item, 0) + qty
                    # the mirror copies the document's date and void flag onto its lines (migration 0005)
                    body.append({"company": COMPANY, "invoice_id": str(n), "seq": seq, "line_id": str(seq + 1),
                                 "detail_type": "SalesItemLineDetail", "item_id": str(item), "qty": Decimal(qty),
                                 "txn_date": day, "voided": False})
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


def change_invoices(
    sessions: Any, invoices: int, changed: int, seed: int, recent: int | None = None, *, stock_follows: bool = True
) -> int:
    """Edit ``changed`` invoices' line quantities and queue their items, as a sync would; returns items.

    The invoices are drawn uniformly without replacement from all invoices, or from the ``recent`` newest ones
    (highest Ids and dates) when given. With ``stock_follows`` (the default, what QBO does) each item's QtyOnHand
    moves by the opposite of its lines' change in quantity: a sale lowers stock, so an invoice edited from 3 to 5
    units leaves 2 fewer on hand, and the sync brings the Item back changed too (the same items are queued).
    Without it QtyOnHand stays put, which QBO never does for an inventory item but which earlier sessions measured.
    """
    rnd = random.Random(seed + 1)
    first = 1 if recent is None else max(1, invoices - recent + 1)
    chosen = [str(n) for n in rnd.sample(range(first, invoices + 1), changed)]
    lines = table_of(InvoiceLine)
    items_table = table_of(Item)

    def work(session: Any) -> int:
        moved: dict[str, Decimal] = {}
        for part in range(0, len(chosen), 500):
            ids = chosen[part : part + 500]
            qty = Decimal(rnd.randint(1, 9))
            for item_id, old in session.execute(select(lines.c.item_id, lines.c.qty).where(
                lines.c.company == COMPANY, lines.c.invoice_id.in_(ids)
            )):
                moved[item_id] = moved.get(item_id, Decimal(0)) + qty - Decimal(old)
            session.execute(lines.update().where(lines.c.company == COMPANY, lines.c.invoice_id.in_(ids))
                            .values(qty=qty))
        if stock_follows:
            ids = sorted(i for i, delta in moved.items() if delta)
            on_hand = {item_id: qoh for item_id, qoh in session.execute(
                select(items_table.c.id, items_table.c.qty_on_hand).where(
                    items_table.c.company == COMPANY, items_table.c.id.in_(ids)
                )
            )}
            for item_id in ids:
                session.execute(items_table.update().where(
                    items_table.c.company == COMPANY, items_table.c.id == item_id
                ).values(qty_on_hand=on_hand[item_id] - moved[item_id]))
        mark_dirty(session, COMPANY, moved, T0)
        return len(moved)

    return int(run_in_transaction(sessions, work))


#: what ``--stock`` means, for the results
STOCK_NOTE = {
    "follows": "each edit moves the item's QtyOnHand by the opposite of its change in quantity, as QBO does",
    "fixed": "QtyOnHand stays put when an invoice's quantities change; QBO would move it",
}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: name -> (share of popular items, or 0 for uniform; changed invoices drawn from the newest N, or None for all)
SCENARIOS: dict[str, tuple[float, int | None]] = {"uniform": (0.0, None), "skewed": (0.2, 25_000)}


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


def _cache_key(args: argparse.Namespace, hot: float) -> str:
    return (f"ledger-i{args.items}-c{args.customers}-l{args.lines}-p{args.lines_per_invoice}-h{hot:g}-s{args.seed}"
            f"-m{SCHEMA}")


class SqliteFiles:
    """Databases as SQLite files: the pristine mirror cached under ``bench/.state``, copies in a temp folder."""

    label = "SQLite"

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp())

    def version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"

    def url(self, db: str) -> str:
        return f"sqlite:///{db}"

    def pristine(self, args: argparse.Namespace, hot: float) -> tuple[str, float]:
        """The mirror for these parameters, built once and cached; (database, seconds spent building it now)."""
        cache = STATE / f"{_cache_key(args, hot)}.sqlite"
        if cache.exists():
            return str(cache), 0.0
        STATE.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        t = time.perf_counter()
        build(self.url(str(tmp)), args.items, args.customers, args.lines, args.lines_per_invoice, args.seed, hot)
        tmp.rename(cache)
        return str(cache), time.perf_counter() - t

    def copy(self, source: str, name: str) -> str:
        target = self.folder / f"{name}.db"
        shutil.copyfile(source, target)
        return str(target)

    def settle(self, db: str) -> None:
        """Fold the WAL into the file: every measured step starts from such a file, as a daemon's cycle starts
        after the last one's WAL was checkpointed."""
        engine = make_engine(self.url(db))
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class PostgresDatabases:
    """Databases on a PostgreSQL server (``--pg``): the pristine mirror kept as database ``bench_<parameters>``,
    copies made with ``CREATE DATABASE ... TEMPLATE``, statistics gathered after each bulk change (as autovacuum
    would) with ``VACUUM ANALYZE``."""

    label = "PostgreSQL"

    def __init__(self, dsn: str) -> None:
        self.base = make_url(dsn)
        self.admin = create_engine(self.base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.made: list[str] = []

    def version(self) -> str:
        with self.admin.connect() as conn:
            return f"PostgreSQL {conn.exec_driver_sql('SHOW server_version').scalar_one()}"

    def url(self, db: str) -> str:
        return self.base.set(database=db).render_as_string(hide_password=False)

    def _exists(self, db: str) -> bool:
        with self.admin.connect() as conn:
            return conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": db}).first() is not None

    def _run(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(sql)

    def pristine(self, args: argparse.Namespace, hot: float) -> tuple[str, float]:
        db = "bench_" + _cache_key(args, hot).replace("-", "_").replace(".", "_")
        if self._exists(db):
            return db, 0.0
        tmp = db[:55] + "_tmp"
        self._run(f'DROP DATABASE IF EXISTS "{tmp}" WITH (FORCE)')
        self._run(f'CREATE DATABASE "{tmp}"')
        t = time.perf_counter()
        build(self.url(tmp), args.items, args.customers, args.lines, args.lines_per_invoice, args.seed, hot)
        self.settle(tmp)
        self._run(f'ALTER DATABASE "{tmp}" RENAME TO "{db}"')
        return db, time.perf_counter() - t

    def copy(self, source: str, name: str) -> str:
        target = f"bench_work_{name}"
        self._run(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        self._run(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
        if target not in self.made:
            self.made.append(target)
        return target

    def settle(self, db: str) -> None:
        engine = create_engine(self.url(db), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        engine.dispose()

    def close(self) -> None:
        for db in self.made:
            self._run(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        self.admin.dispose()


Backend = SqliteFiles | PostgresDatabases


def timed(backend: Backend, source: str, step: Any, *, warm: bool = False) -> tuple[float, Any]:
    """Run ``step(session)`` in one transaction on a fresh copy of database ``source``; (seconds, result).

    With ``warm`` the engine first runs ``step`` once in a transaction that is rolled back, so SQLAlchemy's
    statement cache (per engine) is warm as in a daemon past its first cycle, and the database is unchanged. On
    SQLite the timed run then opens a new connection (the daemon's SQLite engine opens one per transaction,
    NullPool), so SQLite's page cache and memory map start cold as in the daemon; on PostgreSQL it reuses the
    pooled connection, as the daemon's pool does."""
    work = backend.copy(source, "step")
    engine = make_engine(backend.url(work))
    sessions = make_session_factory(engine)
    if warm:
        with sessions() as session:
            session.begin()
            step(session)
            session.rollback()
    t = time.perf_counter()
    result = run_in_transaction(sessions, step)
    seconds = time.perf_counter() - t
    engine.dispose()
    return seconds, result


EVENT = table_of(BackorderEvent)


def step_writes(backend: Backend, snapshot: str, step: Any) -> tuple[dict[Any, Any], dict[Any, Any], list[Any]]:
    """What ``step`` changes in the stored ledger of ``snapshot``: (previous, current, new event rows).

    Found by running it on a copy and comparing the stored states (and events) before and after, so it is the
    step's output whatever the step's own bookkeeping: ``previous`` holds the states it deleted or changed,
    ``current`` the states it inserted or changed, each restricted to those keys."""
    work = backend.copy(snapshot, "diff")
    engine = make_engine(backend.url(work))
    sessions = make_session_factory(engine)

    def states(session: Any) -> tuple[dict[Any, Any], int]:
        last = session.scalar(select(EVENT.c.id).order_by(EVENT.c.id.desc()).limit(1))
        return load_states(session, COMPANY), last or 0

    before, last = run_in_transaction(sessions, states)
    run_in_transaction(sessions, step)
    after, _ = run_in_transaction(sessions, states)
    columns = [c for c in EVENT.c if c.name != "id"]
    events = run_in_transaction(sessions, lambda s: [dict(r._mapping) for r in s.execute(
        select(*columns).where(EVENT.c.company == COMPANY, EVENT.c.id > last).order_by(EVENT.c.id))])
    engine.dispose()
    keys = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return ({k: before[k] for k in keys if k in before}, {k: after[k] for k in keys if k in after}, events)


def floor_step(previous: dict[Any, Any], current: dict[Any, Any], events: list[Any], now: datetime) -> Any:
    """The least any incremental design must do for this change set: read and clear the queue, write exactly the
    state rows and events the step writes (through the same store code), in one transaction. No mirror read, no
    stored state read, no allocation: a lower bound on the step, not a design."""
    def step(session: Any) -> int:
        queued = dirty_items(session, COMPANY)
        written = write_states(session, COMPANY, previous, current, now)
        for part in chunked(events, 1000):
            session.execute(insert(EVENT), list(part))
        clear_dirty_items(session, COMPANY, queued)
        return written + len(events)
    return step


def _keys(dialect: str) -> str:
    """``WITH k AS MATERIALIZED (...)``: state keys as rows ``(a, b, c)`` = (doc type, doc id, line id) from one
    bound parameter (:func:`_key_params`), a JSON array on SQLite and three arrays on PostgreSQL, as the loader
    binds its per-item bounds; ``MATERIALIZED`` makes the list the outer loop, one key lookup per row."""
    if dialect == "postgresql":
        body = ("SELECT * FROM unnest(CAST(:ka AS text[]), CAST(:kb AS text[]), CAST(:kc AS text[])) "
                "AS k_rows(a, b, c)")
    else:
        body = ("SELECT json_extract(value, '$[0]') AS a, json_extract(value, '$[1]') AS b, "
                "json_extract(value, '$[2]') AS c FROM json_each(:keys)")
    return f"WITH k AS MATERIALIZED ({body}) "


def _key_params(keys: Any, dialect: str) -> dict[str, Any]:
    rows = sorted(keys)
    if dialect == "postgresql":
        return {name: [key[i] for key in rows] for i, name in enumerate(("ka", "kb", "kc"))}
    return {"keys": json.dumps([list(key) for key in rows])}


#: what a state copies from its demand line, document and customer
LINE_FIELDS = ("item_id", "customer_id", "customer_name", "doc_number", "txn_date", "ordered")


def _line_of(state: Any) -> tuple[Any, ...]:
    return tuple(getattr(state, name) for name in LINE_FIELDS)


def oracle_reads(previous: dict[Any, Any], current: dict[Any, Any]) -> Any:
    """The reads that no incremental design reading its inputs from the database can skip for this change set,
    even knowing in advance which states change: the stock of every queued item (whether and how far it is
    short), the stored state of every state the step deletes or changes (the events carry the quantity and ETA
    before), and the demand line, its document and its customer of every state it inserts or whose line changed
    (:data:`LINE_FIELDS`; a state whose line is unchanged can copy them from its stored state). Each is a key
    lookup, no range; returns the rows read. (With :func:`floor_step` the queue is read twice, a few
    milliseconds.)"""
    lined = [k for k, state in current.items() if k not in previous or _line_of(previous[k]) != _line_of(state)]

    def reads(session: Any) -> int:
        dialect = session.get_bind().dialect.name
        stock = text("SELECT d.item_id, i.qty_on_hand FROM dirty_item d JOIN item i "
                     "ON i.company = d.company AND i.id = d.item_id WHERE d.company = :c")
        n = len(session.execute(stock, {"c": COMPANY}).all())
        states = text(_keys(dialect) + "SELECT l.* FROM k JOIN backorder_line l ON l.company = :c "
                      "AND l.doc_type = k.a AND l.doc_id = k.b AND l.line_id = k.c")
        n += len(session.execute(states, {"c": COMPANY, **_key_params(previous, dialect)}).all())
        for doc_type, head_table, line_table, fk in SALES:
            head, lines = head_table.name, line_table.name
            keys = [k for k in lined if k[0] == doc_type]
            if not keys:
                continue
            demand = text(
                _keys(dialect) + f"SELECT l.{fk}, l.line_id, l.seq, l.item_id, l.qty, l.txn_date, h.doc_number, "
                f"h.customer_id, cu.display_name FROM k JOIN {lines} l ON l.company = :c AND l.{fk} = k.b "
                f"AND l.line_id = k.c JOIN {head} h ON h.company = l.company AND h.id = l.{fk} "
                "LEFT JOIN customer cu ON cu.company = h.company AND cu.id = h.customer_id")
            n += len(session.execute(demand, {"c": COMPANY, **_key_params(keys, dialect)}).all())
        return n
    return reads


def _against_full(out: dict[str, Any], side: str, timings: list[tuple[float, Any]]) -> Any:
    """Store ``<side>_runs``, ``<side>_s`` (median) and ``<side>_ratios`` (each pair's rebuild over it) in ``out``,
    which already holds ``full_runs``; returns the last run's result."""
    out[f"{side}_runs"] = [seconds for seconds, _ in timings]
    out[f"{side}_s"] = statistics.median(out[f"{side}_runs"])
    out[f"{side}_ratios"] = [f / i for f, i in zip(out["full_runs"], out[f"{side}_runs"], strict=True)]
    return timings[-1][1]


def run(args: argparse.Namespace, name: str, backend: Backend) -> dict[str, Any]:
    hot, recent = SCENARIOS[name]
    cache, build_s = backend.pristine(args, hot)
    invoices = args.lines // args.lines_per_invoice
    config = Config()
    now = T0 + timedelta(hours=1)
    later = now + timedelta(minutes=5)
    out: dict[str, Any] = {"name": name, "build_s": build_s, "invoices": invoices, "load_before": load_avg()}

    # 1. the state the incremental step starts from: rebuilt, the first day reviewed, then the edits
    rebuilt = backend.copy(cache, "rebuilt")
    engine = make_engine(backend.url(rebuilt))
    sessions = make_session_factory(engine)
    run_in_transaction(sessions, lambda s: rebuild_all(s, COMPANY, config, now))
    run_in_transaction(sessions, lambda s: ledger_step(s, COMPANY, config, now))
    out["touched"] = change_invoices(sessions, invoices, args.changed, args.seed, recent,
                                     stock_follows=args.stock == "follows")
    out["touched_lines"], out["busy_lines"] = run_in_transaction(sessions, touched_lines)
    engine.dispose()
    backend.settle(rebuilt)
    snapshot = backend.copy(rebuilt, "changed")
    previous, current, events = step_writes(backend, snapshot, lambda s: ledger_step(s, COMPANY, config, later))
    floor = floor_step(previous, current, events, later)
    needed = oracle_reads(previous, current)

    def oracle(session: Any) -> tuple[int, int]:
        return needed(session), floor(session)

    # 2. --repeat pairs, alternating: the full rebuild from the pristine mirror, then the incremental step on a copy
    #    of the changed state, on an engine whose statement cache was warmed by the same step rolled back (a running
    #    daemon keeps its engine from cycle to cycle). Alternating keeps the two sides of each ratio close in time
    #    on a machine whose speed drifts (see the write-up).
    fulls, incs, floors, oracles = [], [], [], []
    for _ in range(args.repeat):
        fulls.append(timed(backend, cache, lambda s: rebuild_all(s, COMPANY, config, now)))
        incs.append(timed(backend, snapshot, lambda s: ledger_step(s, COMPANY, config, later), warm=True))
        floors.append(timed(backend, snapshot, floor, warm=True))
        oracles.append(timed(backend, snapshot, oracle, warm=True))
    out["full_runs"] = [f for f, _ in fulls]
    out["full_s"] = statistics.median(out["full_runs"])
    out["full_rss"] = rss_mb()
    out["full"] = full = fulls[-1][1]
    out["inc"] = inc = _against_full(out, "inc", incs)
    out["ratio"] = out["full_s"] / out["inc_s"] if out["inc_s"] else float("inf")
    out["pair_ratios"] = out.pop("inc_ratios")
    out["floor_rows"] = _against_full(out, "floor", floors)
    assert out["floor_rows"] == inc.rows_written + inc.events, (out["floor_rows"], inc)
    out["oracle_read"] = _against_full(out, "oracle", oracles)[0]
    print(f"[{name}] rebuild_all: {_runs(out['full_runs'])}, {full.events} events, peak RSS {out['full_rss']:.0f} MB",
          flush=True)
    print(f"[{name}] incremental ({args.changed} invoices, {out['touched']} items, {inc.items} recomputed, "
          f"{inc.tail_items} read as tails, {inc.lines_read} lines read): {_runs(out['inc_runs'], 3)}, "
          f"{inc.events} events; ratio of medians {out['ratio']:.1f}x, per pair "
          f"{' '.join(f'{x:.1f}' for x in out['pair_ratios'])}", flush=True)
    print(f"[{name}] floor (queue + the step's {out['floor_rows']} written rows + commit): "
          f"{_runs(out['floor_runs'], 3)}; full / floor {out['full_s'] / out['floor_s']:.1f}x, per pair "
          f"{' '.join(f'{x:.1f}' for x in out['floor_ratios'])}", flush=True)
    print(f"[{name}] floor + the {out['oracle_read']} rows any design must read: {_runs(out['oracle_runs'], 3)}; "
          f"full / that {out['full_s'] / out['oracle_s']:.1f}x, per pair "
          f"{' '.join(f'{x:.1f}' for x in out['oracle_ratios'])}", flush=True)

    # 4. every item queued with nothing changed: the incremental path's own cost per item, for comparison with the
    #    rebuild (same items, short tails instead of complete reads, nothing to write)
    def everything(session: Any) -> Any:
        mark_dirty(session, COMPANY, list(session.scalars(select(table_of(Item).c.id))), T0)
        return ledger_step(session, COMPANY, config, later)

    incremented = backend.copy(snapshot, "incremented")
    engine = make_engine(backend.url(incremented))
    run_in_transaction(make_session_factory(engine), lambda s: ledger_step(s, COMPANY, config, later))
    engine.dispose()
    backend.settle(incremented)
    out["every_s"], out["every"] = every_s, every = timed(backend, incremented, everything)
    out["load_after"] = load_avg()
    print(f"[{name}] every item through the incremental path: {every_s:.2f} s, {every.tail_items} tails, "
          f"{every.lines_read} lines read, {every.rows_written} rows written", flush=True)
    return out


def _spread(values: list[float], digits: int) -> str:
    """``median s`` and, below it, ``(min-max)``: the table's form of several runs."""
    return f"{statistics.median(values):.{digits}f} s ({min(values):.{digits}f}-{max(values):.{digits}f})"


def _runs(values: list[float], digits: int = 2) -> str:
    """``median s (min-max of n)``"""
    return (f"{statistics.median(values):.{digits}f} s (median; {min(values):.{digits}f}-{max(values):.{digits}f} "
            f"over {len(values)} runs)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--customers", type=int, default=5_000)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--lines-per-invoice", type=int, default=4)
    ap.add_argument("--changed", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=5, help="runs of the rebuild and of the incremental step")
    ap.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    ap.add_argument("--stock", choices=["follows", "fixed"], default="follows",
                    help="whether an edited invoice line moves its item's QtyOnHand, as QBO does (default), or not "
                    "(what sessions 1-4 measured)")
    ap.add_argument("--pg", metavar="DSN", help="run on this PostgreSQL server instead of SQLite (a role that may "
                    "create databases, e.g. what scripts/pg-test-server.sh prints)")
    ap.add_argument("--out", help="Markdown results (default bench/RESULTS_ledger.md, or RESULTS_ledger_postgresql.md)")
    args = ap.parse_args(argv)
    default_out = "RESULTS_ledger_postgresql.md" if args.pg else "RESULTS_ledger.md"
    args.out = args.out or str(Path(__file__).with_name(default_out))

    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    backend: Backend = PostgresDatabases(args.pg) if args.pg else SqliteFiles()
    try:
        database = backend.version()
        results = [run(args, n, backend) for n in names]
    finally:
        backend.close()

    rows = []
    for r in results:
        full, inc = r["full"], r["inc"]
        rows.append(
            f"| {r['name']} | {_spread(r['full_runs'], 2)} | {r['full_rss']:.0f} MB | {full.items:,} items, "
            f"{full.rows_written:,} state rows, {full.events:,} events | {_spread(r['inc_runs'], 3)} | "
            f"{r['touched']:,} touched items ({r['touched'] / args.items:.1%}) with {r['touched_lines']:,} lines "
            f"({r['touched_lines'] / args.lines:.1%}), {r['busy_lines']:,} of them in short/stateful items; "
            f"{inc.tail_items:,} items read as short tails, {inc.lines_read:,} lines read; "
            f"{inc.rows_written:,} state rows, {inc.events:,} events | **{r['ratio']:.1f}x** | "
            f"{statistics.median(r['pair_ratios']):.1f}x ({min(r['pair_ratios']):.1f}-{max(r['pair_ratios']):.1f}) | "
            f"{_spread(r['floor_runs'], 3)} | {r['full_s'] / r['floor_s']:.1f}x; per pair "
            f"{statistics.median(r['floor_ratios']):.1f}x ({min(r['floor_ratios']):.1f}-{max(r['floor_ratios']):.1f}) | "
            f"{_spread(r['oracle_runs'], 3)} ({r['oracle_read']:,} rows read) | {r['full_s'] / r['oracle_s']:.1f}x; "
            f"per pair {statistics.median(r['oracle_ratios']):.1f}x "
            f"({min(r['oracle_ratios']):.1f}-{max(r['oracle_ratios']):.1f}) | "
            f"{r['every_s']:.2f} s ({r['every'].tail_items:,} tails, {r['every'].lines_read:,} lines read) | "
            f"{r['load_before']} → {r['load_after']} |"
        )
    table = "\n".join(rows)
    if args.pg:
        backend_note = (" on the same machine (the test server of scripts/pg-test-server.sh: default settings but "
                        "`fsync=off`); peak RSS is this client process only")
        copies = "`CREATE DATABASE ... TEMPLATE`, after `VACUUM ANALYZE` as autovacuum would run after bulk changes"
        connection = "then the same pooled connection, as the daemon's connection pool keeps its connections"
    else:
        backend_note = ""
        copies = "a file copy, with its WAL checkpointed"
        connection = ("then a new connection, so SQLite's own caches start cold as in the daemon (one connection "
                      "per transaction)")
    doc = f"""# Backorder ledger benchmark (issue #4)

Produced by `python bench/bench_ledger.py` (seed {args.seed}) on {platform.machine()}, Python
{platform.python_version()}, `os.cpu_count()` = {os.cpu_count()}, {database}{backend_note}. The mirror is
bulk-inserted directly into {backend.label} (rows shaped like the mirror tables), not synced through the sandbox:
this measures the ledger only. Each step runs in one transaction, as the daemon runs it.

Data per scenario: {args.items:,} tracked items, {args.customers:,} customers, {args.lines // args.lines_per_invoice:,} invoices x
{args.lines_per_invoice} lines = {args.lines:,} invoice lines, {len(range(1, args.items + 1, 4)):,} open PO lines
(half partly received by bills); about a third of the items are given a negative QtyOnHand.
Edits: `--stock {args.stock}` ({STOCK_NOTE[args.stock]}).

| scenario | full rebuild | peak RSS | full: work | incremental | incremental: work | full / incr. (medians) | full / incr. per pair | floor: the step's writes only | full / floor | floor + the reads any design needs | full / that | every item via the incremental path | load avg (1/5/15 min) before → after |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
{table}

Times are the median of {args.repeat} runs (min-max in brackets), each on a fresh copy of the same database
({copies}). Rebuild and incremental runs alternate (rebuild, step, rebuild, step, ...), so each pair
ran at nearly the same time on a machine whose speed drifts; "per pair" is the median (min-max) of the ratios of
the pairs, "medians" the ratio of the two medians. Each incremental run uses an engine whose statement cache
was warmed by running the same step once and rolling it back (as in a daemon past its first cycle: it keeps its
engine), {connection}. The rebuild is timed on a new engine (its handful of statements compile in milliseconds).

Goals: full rebuild < 60 s; incremental >= 50x cheaper than the full rebuild.

"Floor" is the least any incremental design must do for this change set, timed like the step in each pair: read
and clear the queue, then write exactly the state rows and events the step wrote (found by comparing the stored
ledger before and after it), through the same store code, and commit. It reads no mirror row and no stored
state and allocates nothing, so no design that keeps this stored ledger and its history can be cheaper; "full /
floor" is the most any such design could reach against this rebuild. "Floor + the reads any design needs" adds,
in the same transaction, the reads that an oracle knowing which states change would still make, each a lookup by
key: the stock of every queued item, the stored state of every state deleted or changed (its event carries the
quantity and ETA before), and the demand line with its document and customer of every state inserted or whose
line changed (a state whose line did not change can copy them from its stored state). A design must also find
which lines change and allocate them; this column leaves that out.

"Every item via the incremental path" queues all {args.items:,} items after the incremental step, with nothing
changed, and runs the same step: what the incremental machinery costs when it is handed everything (no writes).
"""
    out = Path(args.out)
    # keep the hand-written write-ups that follow the generated part
    kept = out.read_text().partition(WRITE_UP)[1:] if out.exists() else ("", "")
    out.write_text(doc + ("\n" + "".join(kept) if kept[0] else ""))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
