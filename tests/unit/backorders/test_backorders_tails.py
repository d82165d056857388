"""The incremental step's short-tail reads give exactly what complete reads give, through the real SQL.

Hypothesis drives one random mirror history into two SQLite mirrors at once: items, invoices and sales receipts
(dated, some undated, some voided, lines moving between items, negative quantities), open PO lines, and edits the
sync would make (line quantity, TxnDate, void, delete, QtyOnHand, new documents). After every step the touched
items are queued and drained in mirror A the way the daemon does (``recompute_dirty``: the queue and its quiet
items in one query, short tails) and recomputed in mirror B from complete inputs (``tail=False``, as the rebuild
reads). Stored states and the appended events must be identical — which
is what makes the core's partial-input property (tests/unit/ledger) hold end to end, SQL bounds and counts
included.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from syncd.backorders.service import recompute_dirty, recompute_items
from syncd.backorders.store import load_events, load_states
from syncd.config import Config
from syncd.mirror.db import make_engine, make_session_factory, run_in_transaction, upgrade
from syncd.mirror.models import (
    Customer,
    Invoice,
    InvoiceLine,
    Item,
    PurchaseOrder,
    PurchaseOrderLine,
    SalesReceipt,
    SalesReceiptLine,
    table_of,
)
from syncd.purchasing.inputs import read_demand
from syncd.sync.apply import CUSTOMER_READ, DEMAND_READ, HEADER_COLUMNS_ON_LINES, mark_dirty
from syncd.sync.changes import dirty_items

C = "acme"
T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)
EPOCH = date(2025, 1, 1)
ITEMS = ("1", "2", "3")
DOCS = {"Invoice": (Invoice, InvoiceLine, "invoice_id"), "SalesReceipt": (SalesReceipt, SalesReceiptLine,
                                                                         "sales_receipt_id")}


def _head(ident: str) -> dict[str, Any]:
    return {"company": C, "id": ident, "sync_token": "0", "last_updated": T0, "raw": "{}", "raw_hash": "x",
            "mirrored_at": T0}


def _seed(engine: Engine) -> None:
    """Upgrade an empty database and add customers, items and open PO lines (every test starts from this)."""
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(table_of(Customer)), [_head(c) | {"display_name": f"Customer {c}", "active": True}
                                                  for c in ("1", "2")])
        conn.execute(insert(table_of(Item)), [
            _head(i) | {"name": f"Item {i}", "type": "Inventory", "active": True, "track_qty_on_hand": True,
                        "qty_on_hand": Decimal(0)}
            for i in ITEMS
        ])
        conn.execute(insert(table_of(PurchaseOrder)), [
            _head(str(p)) | {"doc_number": f"PO-{p}", "vendor_id": "1", "po_status": "Open", "manually_closed": False,
                             "txn_date": date(2025, 2, 1), "due_date": date(2025, 3, 1) + timedelta(days=7 * p)}
            for p in (1, 2)
        ])
        conn.execute(insert(table_of(PurchaseOrderLine)), [
            {"company": C, "purchase_order_id": str(p), "seq": 0, "line_id": "1", "item_id": item,
             "detail_type": "ItemBasedExpenseLineDetail", "qty": Decimal(3)}
            for p, item in ((1, "1"), (2, "2"))
        ])


@pytest.fixture(scope="module")
def template() -> Iterator[Path]:
    """A seeded SQLite mirror (:func:`_seed`), copied for every Hypothesis example."""
    folder = Path(tempfile.mkdtemp())
    path = folder / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    _seed(engine)
    engine.dispose()
    yield path
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def mirror(db_url: str) -> Iterator[tuple[World, Any]]:
    """A seeded mirror on SQLite and on PostgreSQL (the tail reads' SQL differs per dialect): (world, sessions)."""
    engine = make_engine(db_url)
    _seed(engine)
    try:
        yield World((engine, engine)), make_session_factory(engine)
    finally:
        engine.dispose()


@dataclass
class Doc:
    kind: str
    ident: str
    day: date | None
    customer: str
    voided: bool = False
    lines: list[tuple[str, Decimal]] = field(default_factory=list)  # (item, qty); line Id = position + 1


@dataclass
class World:
    """The mirror as a test-side model; every change is written to both databases the same way."""

    engines: tuple[Engine, Engine]
    qoh: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(ITEMS, Decimal(0)))
    docs: dict[tuple[str, str], Doc] = field(default_factory=dict)
    next_id: int = 1

    def write(self, doc: Doc | None, key: tuple[str, str] | None = None) -> None:
        kind, ident = key if key is not None else (doc.kind, doc.ident)  # type: ignore[union-attr]
        head_model, line_model, fk = DOCS[kind]
        head, lines = table_of(head_model), table_of(line_model)
        for engine in self.engines:
            with engine.begin() as conn:
                conn.execute(delete(lines).where(lines.c.company == C, lines.c[fk] == ident))
                conn.execute(delete(head).where(head.c.company == C, head.c.id == ident))
                if doc is None:
                    continue
                conn.execute(insert(head), [_head(ident) | {"doc_number": f"{kind[0]}-{ident}", "txn_date": doc.day,
                                                            "customer_id": doc.customer, "voided": doc.voided}])
                if doc.lines:
                    conn.execute(insert(lines), [
                        {"company": C, fk: ident, "seq": n, "line_id": str(n + 1), "item_id": item, "qty": qty,
                         "detail_type": "SalesItemLineDetail", "txn_date": doc.day, "voided": doc.voided}
                        for n, (item, qty) in enumerate(doc.lines)
                    ])

    def set_qoh(self, item: str, qoh: Decimal) -> None:
        self.qoh[item] = qoh
        t = table_of(Item)
        for engine in self.engines:
            with engine.begin() as conn:
                conn.execute(update(t).where(t.c.company == C, t.c.id == item).values(qty_on_hand=qoh))


days = st.one_of(st.none(), st.integers(0, 40).map(lambda n: EPOCH + timedelta(days=n)))
quantities = st.one_of(st.integers(0, 6).map(Decimal), st.just(Decimal("1.5")), st.just(Decimal(-1)))
line_lists = st.lists(st.tuples(st.sampled_from(ITEMS), quantities), min_size=1, max_size=3)


def _step(data: st.DataObject, world: World) -> set[str]:
    """One change the sync could bring; returns the touched items (as apply_plan marks them dirty)."""
    kinds = ["new", "new", "new", "qoh", "qoh"] + (["edit_qty", "redate", "void", "delete", "move"] if world.docs else [])
    kind = data.draw(st.sampled_from(kinds))
    if kind == "new":
        doc = Doc(data.draw(st.sampled_from(sorted(DOCS))), str(world.next_id), data.draw(days),
                  data.draw(st.sampled_from(["1", "2"])), lines=data.draw(line_lists))
        world.next_id += 1
        world.docs[(doc.kind, doc.ident)] = doc
        world.write(doc)
        for item, qty in doc.lines:  # QBO takes sold units off QtyOnHand
            world.set_qoh(item, world.qoh[item] - max(qty, Decimal(0)))
        return {item for item, _ in doc.lines}
    if kind == "qoh":
        item = data.draw(st.sampled_from(ITEMS))
        world.set_qoh(item, world.qoh[item] + data.draw(st.integers(-6, 8).map(Decimal)))
        return {item}
    key = data.draw(st.sampled_from(sorted(world.docs)))
    doc = world.docs[key]
    before = {item for item, _ in doc.lines}
    if kind == "delete":
        del world.docs[key]
        world.write(None, key)
        return before
    if kind == "void":
        doc.voided = True
    elif kind == "redate":
        doc.day = data.draw(days)
    else:
        i = data.draw(st.integers(0, len(doc.lines) - 1))
        item, qty = doc.lines[i]
        doc.lines[i] = (data.draw(st.sampled_from(ITEMS)), qty) if kind == "move" else (item, data.draw(quantities))
    world.write(doc)
    return before | {item for item, _ in doc.lines}


def _stored(engine: Engine) -> tuple[dict[Any, Any], list[tuple[Any, ...]]]:
    sessions = make_session_factory(engine)
    states = run_in_transaction(sessions, lambda s: load_states(s, C))
    events = run_in_transaction(sessions, lambda s: load_events(s, C))
    return states, [tuple(v for k, v in sorted(e.items()) if k != "id") for e in events]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_tail_reads_store_what_complete_reads_store(template: Path, data: st.DataObject) -> None:
    folder = Path(tempfile.mkdtemp())
    engines = []
    for name in ("tail", "complete"):
        shutil.copyfile(template, folder / f"{name}.db")
        engines.append(make_engine(f"sqlite:///{folder / name}.db"))
    tail_engine, complete_engine = engines
    world = World((tail_engine, complete_engine))
    config = Config()
    now = T0
    try:
        for _ in range(data.draw(st.integers(1, 12))):
            touched: set[str] = set()
            for _ in range(data.draw(st.integers(1, 3))):
                touched |= _step(data, world)
            now += timedelta(hours=data.draw(st.integers(1, 30)))
            # the daemon's path on one side (the sync queues the items, the ledger drains the queue, reading
            # tails), complete reads of the same items on the other
            def drain(s: Session, touched: set[str] = touched, now: datetime = now) -> Any:
                mark_dirty(s, C, touched, now)
                return recompute_dirty(s, C, config, now)

            run_in_transaction(make_session_factory(tail_engine), drain)
            run_in_transaction(
                make_session_factory(complete_engine),
                lambda s, touched=touched, now=now: recompute_items(s, C, touched, config, now, tail=False),
            )
            assert _stored(tail_engine) == _stored(complete_engine)
            assert run_in_transaction(make_session_factory(tail_engine), lambda s: dirty_items(s, C)) == set()
    finally:
        for engine in engines:
            engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def test_tail_reads_are_taken_and_read_fewer_lines(mirror: tuple[World, Any]) -> None:
    """A short item with a long history: the incremental step reads its tail, not every line."""
    world, sessions = mirror
    for n in range(30):  # 30 days of one unit sold a day; QtyOnHand ends at -3
        doc = Doc("Invoice", str(n + 1), EPOCH + timedelta(days=n), "1", lines=[("3", Decimal(1))])
        world.write(doc)
    world.set_qoh("3", Decimal(-3))
    first = run_in_transaction(sessions, lambda s: recompute_items(s, C, ["3"], Config(), T0))
    # no stored state yet: read from the latest day whose lines cover the shortage (days 28-30), not complete
    assert first.tail_items == 1 and first.lines_read == 3
    states = run_in_transaction(sessions, lambda s: load_states(s, C))
    assert sorted((s.fill_rank, s.key.doc_id) for s in states.values()) == [(27, "28"), (28, "29"), (29, "30")]
    world.write(Doc("Invoice", "31", EPOCH + timedelta(days=30), "2", lines=[("3", Decimal(2))]))
    world.set_qoh("3", Decimal(-5))
    later = T0 + timedelta(hours=1)
    second = run_in_transaction(sessions, lambda s: recompute_items(s, C, ["3"], Config(), later))
    assert second.tail_items == 1
    assert second.lines_read == 4  # days 27-30 (3 states' dates on) plus the new line
    states = run_in_transaction(sessions, lambda s: load_states(s, C))
    ranks = sorted((s.fill_rank, s.key.doc_id, s.backordered) for s in states.values())
    assert ranks == [(27, "28", Decimal(1)), (28, "29", Decimal(1)), (29, "30", Decimal(1)),
                     (30, "31", Decimal(2))]


def _run(sessions: Any, items: list[str], now: datetime) -> Any:
    return run_in_transaction(sessions, lambda s: recompute_items(s, C, items, Config(), now))


def test_a_receipt_moves_the_tail_past_a_day_with_several_lines(mirror: tuple[World, Any]) -> None:
    """Ranks stay positions in the whole fill order when the tail starts after a day holding several lines."""
    world, sessions = mirror
    day = EPOCH + timedelta(days=5)
    world.write(Doc("Invoice", "1", EPOCH, "1", lines=[("3", Decimal(1))]))
    world.write(Doc("Invoice", "2", day, "1", lines=[("3", Decimal(1)), ("3", Decimal(1))]))
    world.write(Doc("SalesReceipt", "3", day, "2", lines=[("3", Decimal(1))]))
    world.write(Doc("Invoice", "4", day + timedelta(days=1), "2", lines=[("3", Decimal(2))]))
    world.set_qoh("3", Decimal(-5))  # everything but the first invoice is short
    _run(sessions, ["3"], T0)
    world.set_qoh("3", Decimal(-2))  # a receipt of 3: only invoice 4 stays short
    outcome = _run(sessions, ["3"], T0 + timedelta(hours=1))
    assert outcome.tail_items == 1
    states = run_in_transaction(sessions, lambda s: load_states(s, C))
    assert [(s.key.doc_id, s.fill_rank, s.backordered) for s in states.values()] == [("4", 4, Decimal(2))]
    kinds = sorted((e["doc_type"], e["doc_id"], e["line_id"], e["kind"])
                   for e in run_in_transaction(sessions, lambda s: load_events(s, C)) if e["kind"] != "opened")
    assert kinds == [("Invoice", "2", "1", "filled"), ("Invoice", "2", "2", "filled"),
                     ("SalesReceipt", "3", "1", "filled")]


def test_a_short_line_moved_to_another_item_is_cancelled_not_filled(mirror: tuple[World, Any]) -> None:
    world, sessions = mirror
    doc = Doc("Invoice", "1", EPOCH, "1", lines=[("3", Decimal(2)), ("3", Decimal(1))])
    world.write(Doc("Invoice", "9", EPOCH - timedelta(days=3), "1", lines=[("3", Decimal(4))]))
    world.write(doc)
    world.set_qoh("3", Decimal(-3))
    _run(sessions, ["3"], T0)
    doc.lines = [("2", Decimal(2)), ("3", Decimal(1))]  # line 1 is edited to item 2
    world.write(doc)
    world.set_qoh("2", Decimal(-2))
    world.set_qoh("3", Decimal(-1))
    outcome = _run(sessions, ["2", "3"], T0 + timedelta(hours=1))
    assert outcome.tail_items == 2  # item 3 from its stored tail, item 2 (no stored state) from its newest day
    events = [(e["item_id"], e["doc_id"], e["line_id"], e["kind"])
              for e in run_in_transaction(sessions, lambda s: load_events(s, C))]
    assert events[2:] == [("2", "1", "1", "opened"), ("3", "1", "1", "cancelled")]


def test_each_item_is_read_from_its_own_bound(mirror: tuple[World, Any]) -> None:
    """Several items in one tail read, each short since a different day: every item gets exactly its own tail
    (the bounds travel as one parameter, paired by item), and a complete read afterwards changes nothing."""
    world, sessions = mirror
    for n in range(20):  # item 1 sells every day, item 2 every other day, item 3 every fourth day
        sold = [item for item, every in (("1", 1), ("2", 2), ("3", 4)) if n % every == 0]
        world.write(Doc("Invoice", str(n + 1), EPOCH + timedelta(days=n), "1",
                        lines=[(item, Decimal(1)) for item in sold]))
    for item, qoh in (("1", -2), ("2", -3), ("3", -4)):
        world.set_qoh(item, Decimal(qoh))
    run_in_transaction(sessions, lambda s: recompute_items(s, C, ITEMS, Config(), T0))
    # a new sale of each item: each tail starts at its earliest stored state (days 18, 14 and 4)
    world.write(Doc("Invoice", "21", EPOCH + timedelta(days=20), "2", lines=[(item, Decimal(1)) for item in ITEMS]))
    for item, qoh in (("1", -3), ("2", -4), ("3", -5)):
        world.set_qoh(item, Decimal(qoh))
    later = T0 + timedelta(hours=1)
    outcome = run_in_transaction(sessions, lambda s: recompute_items(s, C, ITEMS, Config(), later))
    assert outcome.tail_items == 3
    assert outcome.lines_read == (2 + 1) + (3 + 1) + (4 + 1)
    states = run_in_transaction(sessions, lambda s: load_states(s, C))
    short = sorted((s.item_id, s.key.doc_id, s.fill_rank) for s in states.values())
    assert short == [("1", "19", 18), ("1", "20", 19), ("1", "21", 20),  # fill ranks count from 0
                     ("2", "15", 7), ("2", "17", 8), ("2", "19", 9), ("2", "21", 10),
                     ("3", "13", 3), ("3", "17", 4), ("3", "21", 5), ("3", "5", 1), ("3", "9", 2)]
    again = run_in_transaction(sessions, lambda s: recompute_items(s, C, ITEMS, Config(), later, tail=False))
    assert (again.rows_written, again.events) == (0, 0)


def test_tail_and_count_reads_search_the_item_index_per_bound_on_sqlite(tmp_path: Path) -> None:
    """SQLite cannot estimate how many rows ``json_each`` yields; without ``MATERIALIZED`` it chose to scan every
    line of the company (minutes on the benchmark's mirror). Each statement reading the bounds must loop over them
    and search the per-item index."""
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    _seed(engine)
    world, sessions = World((engine, engine)), make_session_factory(engine)
    seen: list[tuple[str, Any]] = []
    try:
        docs = [Doc("Invoice", str(n + 1), EPOCH + timedelta(days=n), "1", lines=[("3", Decimal(1))]) for n in range(6)]
        for doc in docs:
            world.write(doc)
        world.set_qoh("3", Decimal(-3))
        _run(sessions, ["3"], T0)
        world.set_qoh("3", Decimal(-2))
        event.listen(engine, "before_cursor_execute", lambda *a: seen.append((a[2], a[3])))
        assert _run(sessions, ["3"], T0 + timedelta(hours=1)).tail_items == 1  # the tail still covers
        docs[-1].lines = [("3", Decimal(0))]
        world.write(docs[-1])
        assert _run(sessions, ["3"], T0 + timedelta(hours=2)).tail_items == 1  # it does not: extended
        bounded = [(sql, params) for sql, params in seen if "json_each" in sql]
        # tail lines and counts before them twice, per-day sums and the extended tail once; each for invoices
        # and sales receipts
        assert len(bounded) == 2 * (2 + 2 + 1 + 1)
        with engine.connect() as conn:
            for sql, params in bounded:
                plan = " | ".join(r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
                table = "sales_receipt_line" if "sales_receipt_line" in sql else "invoice_line"
                assert plan.index("SCAN want") < plan.index(f"SEARCH {table}"), plan  # the bounds drive the join
                if "count(" in sql:  # lines before the bound, undated ones included: the item's index entries
                    assert f"SEARCH {table} USING COVERING INDEX ix_{table}_demand (company=? AND item_id=?)" in plan
                elif "sum(" in sql:  # per-day sums before the bound: index only, up to the bound
                    assert f"COVERING INDEX ix_{table}_demand (company=? AND item_id=? AND txn_date<?)" in plan, plan
                else:  # the tail: a range of the item's entries from its bound on
                    assert f"INDEX ix_{table}_demand (company=? AND item_id=? AND txn_date>?)" in plan, plan
                assert f"SCAN {table}" not in plan, plan
    finally:
        engine.dispose()


def test_the_sales_columns_read_as_demand_are_those_the_sync_compares(tmp_path: Path) -> None:
    """The sync queues a rewritten sales document's items only when its :data:`DEMAND_READ` view changed, and a
    customer's only when its :data:`CUSTOMER_READ` columns changed. Every column of a sales header or line, or of
    a customer, that the ledger (complete and tail reads) or the reorder plan's sales history reads must therefore
    be in those views, or an edit to it would leave the ledger stale."""
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    _seed(engine)
    world, sessions = World((engine, engine)), make_session_factory(engine)
    statements: list[str] = []
    try:
        for n, kind in enumerate(("Invoice", "SalesReceipt", "Invoice")):
            world.write(Doc(kind, str(n + 1), EPOCH + timedelta(days=n), "1", lines=[("3", Decimal(1))]))
        world.set_qoh("3", Decimal(-2))
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        _run(sessions, ["3"], T0)  # complete read
        world.set_qoh("3", Decimal(-1))
        _run(sessions, ["3"], T0 + timedelta(hours=1))  # tail read, count before it, live stored lines
        run_in_transaction(sessions, lambda s: read_demand(s, C, EPOCH + timedelta(days=5), 30))
    finally:
        engine.dispose()
    read: dict[str, set[str]] = {}
    for entity, (head_model, line_model, fk) in DOCS.items():
        head, lines = table_of(head_model).name, table_of(line_model).name
        for table in (head, lines):
            read[table] = {m for sql in statements for m in re.findall(rf"\b{table}\.(\w+)", sql)}
        head_columns, line_columns = DEMAND_READ[entity]
        assert read[lines], entity  # the lines were read at all
        assert read[head] - {"company", "id"} <= set(head_columns), entity
        # a line's copies of its header's date and void flag are rewritten with the header (apply_plan)
        assert read[lines] - {"company", fk} <= set(line_columns) | set(HEADER_COLUMNS_ON_LINES), entity
    # the customer's name is joined in: a change to it queues the items on the customer's documents
    customer = {m for sql in statements for m in re.findall(r"\bcustomer\.(\w+)", sql)} - {"company", "id"}
    assert customer and customer <= set(CUSTOMER_READ)


def test_a_tail_an_edit_shrank_is_read_from_an_earlier_day_not_complete(mirror: tuple[World, Any]) -> None:
    """Quantities in the short tail edited down (QtyOnHand unchanged, as the benchmark edits): the lines from the
    earliest stored state on no longer hold the shortage. The step finds on the index the day from which they do,
    reads from there, and stores what a complete read stores."""
    world, sessions = mirror
    docs = [Doc("Invoice", str(n + 1), EPOCH + timedelta(days=n), "1", lines=[("3", Decimal(1))]) for n in range(10)]
    for doc in docs:
        world.write(doc)
    world.set_qoh("3", Decimal(-3))
    run_in_transaction(sessions, lambda s: recompute_items(s, C, ["3"], Config(), T0))  # invoices 8-10 short
    for doc in docs[8:]:  # invoices 9 and 10 down to no units: 2 of the 3 short units must come from earlier
        doc.lines = [("3", Decimal(0))]
        world.write(doc)
    later = T0 + timedelta(hours=1)
    outcome = run_in_transaction(sessions, lambda s: recompute_items(s, C, ["3"], Config(), later))
    assert outcome.tail_items == 1
    assert outcome.lines_read == 5  # days 5-9 (invoices 6-10), not all 10 lines
    states = run_in_transaction(sessions, lambda s: load_states(s, C))
    assert sorted((s.key.doc_id, s.fill_rank, s.backordered) for s in states.values()) == [
        ("6", 5, Decimal(1)), ("7", 6, Decimal(1)), ("8", 7, Decimal(1))]
    again = run_in_transaction(sessions, lambda s: recompute_items(s, C, ["3"], Config(), later, tail=False))
    assert (again.rows_written, again.events) == (0, 0)
