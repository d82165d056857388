"""Mirror database set-up, column types and the DB token store, on SQLite (PostgreSQL runs in tests/system)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import OperationalError

from syncd.connectors.base import TokenState
from syncd.mirror.db import make_engine, make_session_factory, run_in_transaction, upgrade
from syncd.mirror.models import Company, Item
from syncd.mirror.tokens import DbTokenStore
from syncd.mirror.types import dumps, loads


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("db") / "mirror.db"
    u = f"sqlite:///{path}"
    upgrade(u)
    return u


def test_upgrade_creates_schema_and_is_idempotent(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    tables = set(inspect(engine).get_table_names())
    assert {"item", "invoice", "invoice_line", "entity_cursor", "quarantine", "alembic_version"} <= tables
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def _item(ident: str, qty: Decimal, at: datetime) -> Item:
    return Item(company="c", id=ident, sync_token="0", last_updated=at, raw="{}", raw_hash="h", mirrored_at=at,
                qty_on_hand=qty)


decimals = st.decimals(min_value=Decimal("-8999999999.99999999"), max_value=Decimal("8999999999.99999999"),
                       places=8, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(qty=decimals)
def test_decimals_round_trip_exactly(url: str, qty: Decimal) -> None:
    sessions = make_session_factory(url)
    at = datetime(2024, 1, 1, tzinfo=UTC)
    with sessions() as s, s.begin():
        s.merge(_item("d", qty, at))
    with sessions() as s:
        got = s.get(Item, ("c", "d"))
        assert got is not None and got.qty_on_hand == qty and isinstance(got.qty_on_hand, Decimal)


def test_sum_is_exact_and_datetimes_are_aware(url: str) -> None:
    sessions = make_session_factory(url)
    at = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=-7)))
    with sessions() as s, s.begin():
        for i, q in enumerate(["0.1", "0.2", "0.3"]):
            s.merge(_item(f"s{i}", Decimal(q), at))
    with sessions() as s:
        total = s.scalar(select(func.sum(Item.qty_on_hand)).where(Item.id.in_(["s0", "s1", "s2"])))
        assert total == Decimal("0.6")
        row = s.get(Item, ("c", "s0"))
        assert row is not None and row.last_updated == at and row.last_updated.tzinfo is not None
        assert s.scalar(select(func.count()).select_from(Item).where(Item.last_updated >= at)) >= 3


def test_floats_and_naive_datetimes_are_refused(url: str) -> None:
    sessions = make_session_factory(url)
    with pytest.raises(Exception, match="float"), sessions() as s, s.begin():
        s.merge(_item("f", 1.5, datetime(2024, 1, 1, tzinfo=UTC)))  # type: ignore[arg-type]
    with pytest.raises(Exception, match="aware"), sessions() as s, s.begin():
        s.merge(_item("n", Decimal(1), datetime(2024, 1, 1)))


def test_json_dumps_keeps_decimal_digits() -> None:
    doc = {"b": Decimal("10.10"), "a": [Decimal("1E+2"), 3, None, True, "x\"y"]}
    text = dumps(doc)
    assert loads(text) == doc and '"b":10.10' in text
    assert json.loads(dumps(doc, sort_keys=True))["a"][4] == 'x"y'


def test_token_store_round_trip_and_reconnect_flag(url: str) -> None:
    sessions = make_session_factory(url)
    store = DbTokenStore(sessions)
    assert store.load("acme") is None
    exp = datetime(2030, 1, 1, tzinfo=UTC)
    store.mark_needs_reconnect("acme", "invalid_grant")
    with sessions() as s:
        assert s.get(Company, "acme").needs_reconnect is True  # type: ignore[union-attr]
    state = TokenState("at", exp, "rt", exp + timedelta(days=100))
    store.save("acme", state)
    assert store.load("acme") == state
    with sessions() as s:
        assert s.get(Company, "acme").needs_reconnect is False  # type: ignore[union-attr]


def test_transactions_retry_only_connection_errors(url: str) -> None:
    sessions = make_session_factory(url)
    calls: list[int] = []

    def flaky(_s: object) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))
        return "ok"

    assert run_in_transaction(sessions, flaky) == "ok" and len(calls) == 3
    calls.clear()

    def broken(_s: object) -> None:
        calls.append(1)
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        run_in_transaction(sessions, broken)
    assert len(calls) == 1


def test_engine_creates_sqlite_parent_directory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/deep/er/m.db"
    upgrade(url)
    assert (tmp_path / "deep" / "er" / "m.db").exists()
