"""Quiet items cost nothing: an item that is not short and has no stored state has its lines left unread.

Runs the service against a small SQLite mirror filled with rows directly (no sandbox, no sync) and counts the SQL
statements that touch demand or supply tables with a SQLAlchemy event listener.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Self

import pytest
from sqlalchemy import event, insert, update
from sqlalchemy.engine import Engine

from syncd.backorders.service import recompute_items
from syncd.backorders.store import load_events, load_states
from syncd.config import Config
from syncd.ledger.model import LineKey
from syncd.mirror.db import make_engine, make_session_factory, run_in_transaction, upgrade
from syncd.mirror.models import Customer, Invoice, InvoiceLine, Item, table_of

C = "acme"
T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)
LINE_TABLES = ("invoice_line", "sales_receipt_line", "purchase_order_line", "bill_line")


def _head(ident: str) -> dict[str, Any]:
    return {"company": C, "id": ident, "sync_token": "0", "last_updated": T0, "raw": "{}", "raw_hash": "x",
            "mirrored_at": T0}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path}/mirror.db")
    upgrade(eng)
    with eng.begin() as conn:
        conn.execute(insert(table_of(Customer)), [_head("1") | {"display_name": "Acme Corp", "active": True}])
        conn.execute(insert(table_of(Item)), [
            _head(i) | {"name": f"Item {i}", "type": "Inventory", "active": True, "track_qty_on_hand": True,
                        "qty_on_hand": Decimal(q)}
            for i, q in (("1", 5), ("2", -2))
        ])
        conn.execute(insert(table_of(Invoice)), [
            _head(str(n)) | {"doc_number": f"INV-{n}", "customer_id": "1", "txn_date": date(2025, 2, n),
                             "voided": False}
            for n in (1, 2)
        ])
        conn.execute(insert(table_of(InvoiceLine)), [  # lines repeat their header's txn_date and voided
            {"company": C, "invoice_id": str(n), "seq": 0, "line_id": "1", "detail_type": "SalesItemLineDetail",
             "item_id": item, "qty": Decimal(3), "txn_date": date(2025, 2, n), "voided": False}
            for n, item in ((1, "1"), (2, "2"))
        ])
    yield eng
    eng.dispose()


class _Statements:
    """SQL statements run on an engine while the listener is attached."""

    def __init__(self, engine: Engine) -> None:
        self.seen: list[str] = []
        self.engine = engine

    def __enter__(self) -> Self:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.seen.append(statement)

    def reading_lines(self) -> list[str]:
        return [s for s in self.seen if any(t in s for t in LINE_TABLES)]


def _recompute(engine: Engine, items: list[str], now: datetime) -> Any:
    sessions = make_session_factory(engine)
    return run_in_transaction(sessions, lambda s: recompute_items(s, C, items, Config(), now))


def _states(engine: Engine) -> dict[LineKey, Any]:
    return run_in_transaction(make_session_factory(engine), lambda s: load_states(s, C))


def _kinds(engine: Engine) -> list[tuple[str, str]]:
    rows = run_in_transaction(make_session_factory(engine), lambda s: load_events(s, C))
    return [(r["item_id"], r["kind"]) for r in rows]


def test_item_not_short_without_states_reads_no_demand_or_supply(engine: Engine) -> None:
    with _Statements(engine) as sql:
        outcome = _recompute(engine, ["1"], T0)
    assert sql.reading_lines() == []
    assert outcome.events == 0 and outcome.rows_written == 0
    assert _states(engine) == {}


def test_short_item_is_read_and_a_filled_item_still_gets_its_filled_event(engine: Engine) -> None:
    with _Statements(engine) as sql:
        _recompute(engine, ["1", "2"], T0)
    assert sql.reading_lines(), "the short item's demand must be read"
    assert [s.item_id for s in _states(engine).values()] == ["2"]
    assert _kinds(engine) == [("2", "opened")]

    # a receipt brings item 2 back to stock: not short any more, but it has a stored state, so it is read
    with engine.begin() as conn:
        conn.execute(update(table_of(Item)).where(table_of(Item).c.id == "2").values(qty_on_hand=Decimal(4)))
    with _Statements(engine) as sql:
        outcome = _recompute(engine, ["2"], T0 + timedelta(hours=1))
    assert sql.reading_lines(), "an item with stored states must be read even when not short"
    assert outcome.events == 1
    assert _kinds(engine) == [("2", "opened"), ("2", "filled")]
    assert _states(engine) == {}

    # now it is quiet: nothing read, nothing written
    with _Statements(engine) as sql:
        outcome = _recompute(engine, ["2"], T0 + timedelta(hours=2))
    assert sql.reading_lines() == []
    assert outcome.events == 0 and outcome.rows_written == 0
