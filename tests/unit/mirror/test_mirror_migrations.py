"""The Alembic revisions against the models, and revision 0005 (sales lines carry their header's date and void
flag) on a database that already holds data, on SQLite and PostgreSQL (``db_url``, see conftest)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import syncd.backorders.models  # their tables are part of the schema the migrations build
import syncd.purchasing.models  # noqa: F401
from syncd.mirror.db import MIGRATIONS_DIR, make_engine, upgrade
from syncd.mirror.models import InvoiceLine, SalesReceiptLine, table_of
from syncd.mirror.types import DecimalType, UTCDateTime

T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)
#: column types the old-schema rows below need (everything else is text or a plain integer)
TYPES: dict[str, Any] = {"last_updated": UTCDateTime(), "mirrored_at": UTCDateTime(), "qty": DecimalType(),
                         "txn_date": sa.Date(), "voided": sa.Boolean()}


def _alembic() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _downgrade(engine: Engine, revision: str) -> None:
    cfg = _alembic()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def _versions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(sa.text("SELECT version_num FROM alembic_version")))


def _insert(conn: sa.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert through a bare table clause, so it works whatever revision the schema is at."""
    t = sa.table(table, *(sa.column(k, TYPES.get(k)) for k in rows[0]))
    conn.execute(sa.insert(t), rows)


def _head(company: str, ident: str, txn_date: date | None) -> dict[str, Any]:
    return {"company": company, "id": ident, "sync_token": "0", "last_updated": T0, "raw": "{}", "raw_hash": "x",
            "mirrored_at": T0, "doc_number": f"D-{ident}", "txn_date": txn_date}


def _line(company: str, fk: str, ident: str, seq: int, item: str | None, qty: str | None) -> dict[str, Any]:
    return {"company": company, fk: ident, "seq": seq, "line_id": str(seq + 1),
            "detail_type": "SalesItemLineDetail" if item else "DescriptionOnly", "item_id": item,
            "qty": Decimal(qty) if qty is not None else None}


#: header (company, id) → (txn_date, voided); "other" reuses acme's ids, so the backfill must match on company too
Docs = dict[tuple[str, str], tuple[date | None, bool]]
INVOICES: Docs = {("acme", "1"): (date(2025, 2, 1), False), ("acme", "2"): (date(2025, 2, 5), True),
                  ("acme", "3"): (None, False), ("other", "1"): (date(2024, 12, 31), True)}
RECEIPTS: Docs = {("acme", "1"): (date(2025, 1, 20), False), ("acme", "2"): (date(2025, 1, 21), True),
                  ("other", "2"): (date(2024, 11, 30), False)}


def _fill_old_schema(engine: Engine) -> None:
    with engine.begin() as conn:
        for table, fk, docs in (("invoice", "invoice_id", INVOICES),
                                ("sales_receipt", "sales_receipt_id", RECEIPTS)):
            _insert(conn, table, [_head(c, i, d) | {"customer_id": "1", "voided": v}
                                  for (c, i), (d, v) in docs.items()])
            _insert(conn, f"{table}_line", [
                ln for c, i in docs
                for ln in (_line(c, fk, i, 0, "10", "3"), _line(c, fk, i, 1, None, None),
                           _line(c, fk, i, 2, "11", "1.5"))
            ])
        _insert(conn, "purchase_order", [_head("acme", "1", date(2025, 1, 2)) | {"manually_closed": False}])
        _insert(conn, "purchase_order_line", [_line("acme", "purchase_order_id", "1", 0, "10", "5")])


def _line_copies(engine: Engine, model: type[SQLModel], fk: str) -> dict[tuple[str, str, int], tuple[Any, Any]]:
    lt = table_of(model)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(lt.c.company, lt.c[fk], lt.c.seq, lt.c.txn_date, lt.c.voided))
        return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}


def _expected(docs: Docs) -> dict[tuple[str, str, int], tuple[Any, Any]]:
    return {(c, i, seq): value for (c, i), value in docs.items() for seq in range(3)}


def _indexes(engine: Engine, table: str) -> dict[str, list[str | None]]:
    return {ix["name"]: ix["column_names"] for ix in sa.inspect(engine).get_indexes(table) if ix["name"]}


def _columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def test_revisions_have_one_head_merging_ledger_and_purchasing() -> None:
    script = ScriptDirectory.from_config(_alembic())
    assert script.get_heads() == ["0005"]
    rev = script.get_revision("0005")
    assert rev is not None and rev.down_revision == ("0002", "0004")


def test_migrated_schema_equals_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            assert compare_metadata(ctx, SQLModel.metadata) == []
    finally:
        engine.dispose()


def test_0005_backfills_sales_lines_from_their_headers_and_downgrades(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0002")
        upgrade(engine, "0004")
        assert _versions(engine) == {"0002", "0004"}
        _fill_old_schema(engine)

        upgrade(engine)
        assert _versions(engine) == {"0005"}
        assert _line_copies(engine, InvoiceLine, "invoice_id") == _expected(INVOICES)
        assert _line_copies(engine, SalesReceiptLine, "sales_receipt_id") == _expected(RECEIPTS)
        demand = ["company", "item_id", "txn_date", "qty", "detail_type", "voided"]
        assert _indexes(engine, "invoice_line") == {"ix_invoice_line_demand": demand}
        assert _indexes(engine, "sales_receipt_line") == {"ix_sales_receipt_line_demand": demand}
        # supply lines are untouched
        assert "txn_date" not in _columns(engine, "purchase_order_line")
        assert _indexes(engine, "purchase_order_line") == {"ix_purchase_order_line_item": ["company", "item_id"]}
        assert _indexes(engine, "bill_line") == {"ix_bill_line_item": ["company", "item_id"],
                                                 "ix_bill_line_po": ["company", "po_id"]}
        # a writer that does not know the new columns still gets a valid (not voided) line
        with engine.begin() as conn:
            _insert(conn, "invoice_line", [_line("acme", "invoice_id", "3", 3, "12", "2")])
        assert _line_copies(engine, InvoiceLine, "invoice_id")[("acme", "3", 3)] == (None, False)

        _downgrade(engine, "0004")
        assert _versions(engine) == {"0002", "0004"}
        for table in ("invoice_line", "sales_receipt_line"):
            assert {"txn_date", "voided"}.isdisjoint(_columns(engine, table))
            assert _indexes(engine, table) == {f"ix_{table}_item": ["company", "item_id"]}
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM invoice_line")) == 3 * len(INVOICES) + 1
            assert conn.scalar(sa.text("SELECT count(*) FROM sales_receipt_line")) == 3 * len(RECEIPTS)
            qty = conn.scalar(sa.select(sa.column("qty", DecimalType())).select_from(sa.table("invoice_line"))
                              .where(sa.text("company = 'other' AND seq = 2")))
            assert qty == Decimal("1.5")

        upgrade(engine)  # and up again
        again = _expected(INVOICES) | {("acme", "3", 3): (None, False)}
        assert _line_copies(engine, InvoiceLine, "invoice_id") == again
    finally:
        engine.dispose()


@pytest.mark.parametrize("table", ["invoice_line", "sales_receipt_line"])
def test_demand_reads_are_index_only_on_sqlite(tmp_path: Any, table: str) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/mirror.db")
    upgrade(engine)
    params = ("acme", "10", "2025-03-01", "SalesItemLineDetail")
    try:
        with engine.connect() as conn:
            def plan(sql: str) -> str:
                return " | ".join(r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))

            count = plan(f"SELECT count(*) FROM {table} WHERE company = ? AND item_id = ? AND txn_date < ? "
                         "AND detail_type = ? AND qty IS NOT NULL AND voided = 0")
            assert f"USING COVERING INDEX ix_{table}_demand (company=? AND item_id=? AND txn_date<?)" in count
            newest = plan(f"SELECT txn_date, qty FROM {table} WHERE company = ? AND item_id = ? AND txn_date < ? "
                          "AND detail_type = ? AND voided = 0 ORDER BY txn_date DESC LIMIT 50")
            assert f"USING COVERING INDEX ix_{table}_demand" in newest and "TEMP B-TREE" not in newest
    finally:
        engine.dispose()
