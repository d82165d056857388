"""The ledger's own rows on SQLite and PostgreSQL: ``backorder_line`` writes (inserts, in-place updates, deletes)
and exact reads, and the one-query read of the ``dirty_item`` queue with its quiet items."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

from syncd.backorders.loader import _quiet_ids, dirty_split
from syncd.backorders.store import load_states, write_states
from syncd.ledger.model import LineKey, LineState, Peg
from syncd.mirror.db import make_engine, make_session_factory, run_in_transaction, upgrade
from syncd.mirror.models import Item, table_of
from syncd.sync.apply import mark_dirty

T = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
PEG = Peg("77", "PO-1001", "1", "9", Decimal("2.5"), date(2025, 3, 10), "due")


def _state(doc_id: str, item_id: str = "5", **kw: object) -> LineState:
    base: dict[str, object] = dict(
        key=LineKey("Invoice", doc_id, "1"), item_id=item_id, item_name="Blue Widget", customer_id="3",
        customer_name="Acme Corp", doc_number=f"10{doc_id}", txn_date=date(2025, 2, 27), ordered=Decimal(4),
        backordered=Decimal("2.5"), fill_rank=int(doc_id), short_since=T, eta=date(2025, 3, 10), eta_kind="po",
        pegged=(PEG,),
    )
    return LineState(**(base | kw))  # type: ignore[arg-type]


def _by_key(*states: LineState) -> dict[LineKey, LineState]:
    return {s.key: s for s in states}


def test_write_states_inserts_updates_in_place_and_deletes_exactly(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    other = _state("90", item_id="6")
    first = _by_key(_state("1"), _state("2"), _state("3"))

    def store(previous: dict[LineKey, LineState], current: dict[LineKey, LineState]) -> int:
        return int(run_in_transaction(sessions, lambda s: write_states(s, "acme", previous, current, T)))

    assert store({}, _by_key(other)) == 1
    assert store({}, first) == 3
    # the same keys in another company: never touched by acme's writes
    elsewhere = _by_key(_state("3"), _state("1"))
    assert run_in_transaction(sessions, lambda s: write_states(s, "globex", {}, elsewhere, T)) == 2
    with sessions() as s:
        assert load_states(s, "acme", ["5"]) == first
        assert load_states(s, "acme") == first | _by_key(other)

    # "1" changes in every kind of field, "2" stays, "3" is gone, "4" is new: 3 rows written, "2" untouched
    later = T + timedelta(hours=2)
    second = _by_key(
        replace(
            first[LineKey("Invoice", "1", "1")], backordered=Decimal("0.125"), ordered=Decimal("12.5"),
            eta=None, eta_kind="estimate", estimate_basis=date(2025, 3, 2), overdue_eta=date(2025, 3, 1),
            pegged=(PEG, replace(PEG, po_line_id="2", qty=Decimal(1), expected=None, expected_kind="unknown")),
            short_since=later, oversold=True, customer_name="Acme (renamed)", doc_number=None, fill_rank=7,
        ),
        first[LineKey("Invoice", "2", "1")],
        _state("4", backordered=Decimal("1000000.5")),
    )
    assert store(first, second) == 3
    with sessions() as s:
        stored = load_states(s, "acme", ["5"])
        assert stored == second
        assert stored[LineKey("Invoice", "1", "1")].short_since == later
        assert stored[LineKey("Invoice", "1", "1")].short_since.tzinfo is not None
        assert load_states(s, "acme", ["6"]) == _by_key(other)

    # the same states again: nothing written
    assert store(second, second) == 0
    with sessions() as s:
        assert load_states(s, "acme") == second | _by_key(other)
        assert load_states(s, "globex") == elsewhere
    engine.dispose()


def test_gone_states_are_deleted_by_primary_key_on_sqlite(tmp_path: Path) -> None:
    """A row-value ``IN`` list of keys is not searched on the primary key by SQLite: it scanned every stored line
    of the company, a cost that grew with the ledger rather than with the change. Each delete must be a primary-key
    search."""
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    sessions = make_session_factory(engine)
    states = _by_key(*(_state(str(n)) for n in range(1, 40)))
    run_in_transaction(sessions, lambda s: write_states(s, "acme", {}, states, T))
    seen: list[tuple[str, Any]] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append((a[2], a[3])))
    kept = {k: v for k, v in states.items() if int(k.doc_id) % 3}
    assert run_in_transaction(sessions, lambda s: write_states(s, "acme", states, kept, T)) == 13
    deletes = [(sql, params) for sql, params in seen if sql.lstrip().upper().startswith("DELETE")]
    assert deletes
    with engine.connect() as conn:
        for sql, params in deletes:
            one = params[0] if isinstance(params, list) else params
            plan = " | ".join(r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", one))
            assert "(company=? AND doc_type=? AND doc_id=? AND line_id=?)" in plan, plan
            assert "SCAN backorder_line" not in plan, plan
    with sessions() as s:
        assert load_states(s, "acme") == kept
    engine.dispose()


def test_dirty_split_reads_the_queue_and_its_quiet_items_like_the_per_id_check(db_url: str) -> None:
    """The daemon's one-query read of the queue agrees with the per-id quiet check for every kind of item."""
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    head = {"sync_token": "0", "last_updated": T, "raw": "{}", "raw_hash": "x", "mirrored_at": T}
    tracked = {"type": "Inventory", "active": True, "track_qty_on_hand": True}
    items = {  # id -> (item row fields or None when not mirrored, quiet?)
        "1": (tracked | {"qty_on_hand": Decimal(5)}, True),
        "2": (tracked | {"qty_on_hand": Decimal(0)}, True),
        "3": (tracked | {"qty_on_hand": Decimal("-0.5")}, False),  # short
        "4": (tracked | {"qty_on_hand": Decimal(5)}, False),  # has a stored state (may be filled)
        "5": (tracked | {"qty_on_hand": None}, False),
        "6": (tracked | {"qty_on_hand": Decimal(5), "active": False}, False),
        "7": (tracked | {"qty_on_hand": Decimal(5), "type": "NonInventory"}, False),
        "8": (tracked | {"qty_on_hand": Decimal(5), "track_qty_on_hand": False}, False),
        "9": (None, False),  # queued but not (or no longer) mirrored
    }

    def fill(s: Any) -> None:
        rows = [head | {"company": "acme", "id": i, "name": f"Item {i}"} | f for i, (f, _) in items.items() if f]
        s.execute(insert(table_of(Item)), rows)
        s.execute(insert(table_of(Item)), [head | {"company": "other", "id": "1", "name": "x"} | tracked
                                           | {"qty_on_hand": Decimal(1)}])
        write_states(s, "acme", {}, _by_key(_state("1", item_id="4")), T)
        mark_dirty(s, "acme", list(items), T)
        mark_dirty(s, "other", ["1", "2"], T)

    run_in_transaction(sessions, fill)
    with sessions() as s:
        queued, quiet = dirty_split(s, "acme")
        assert queued == set(items)
        assert quiet == {i for i, (_, calm) in items.items() if calm} == {"1", "2"}
        assert _quiet_ids(s, "acme", sorted(items)) == quiet
        assert dirty_split(s, "other") == ({"1", "2"}, {"1"})
        assert dirty_split(s, "nobody") == (set(), set())
    engine.dispose()
