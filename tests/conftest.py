"""Fixtures shared by unit and system tests: a database per test (SQLite file, or a private PostgreSQL schema).

``db_url`` is parametrized over ``sqlite`` and ``postgresql``. PostgreSQL comes from ``SYNCD_TEST_PG_DSN``
(``scripts/pg-test-server.sh`` prints one); when it is unset the PostgreSQL cases are skipped, unless
``SYNCD_REQUIRE_POSTGRES=1``, which turns the skip into a failure. Each PostgreSQL test gets its own schema
(dropped afterwards) through ``options=-csearch_path=…``, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine


def _pg_dsn() -> str | None:
    dsn = os.environ.get("SYNCD_TEST_PG_DSN")
    if dsn:
        return dsn
    if os.environ.get("SYNCD_REQUIRE_POSTGRES") == "1":
        pytest.fail("SYNCD_REQUIRE_POSTGRES=1 but SYNCD_TEST_PG_DSN is not set (run scripts/pg-test-server.sh)")
    pytest.skip("PostgreSQL not configured: set SYNCD_TEST_PG_DSN (scripts/pg-test-server.sh prints it)")
    return None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh, empty database URL for this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/mirror.db"
        return
    dsn = _pg_dsn()
    assert dsn is not None
    schema = "t_" + uuid.uuid4().hex[:16]
    admin = create_engine(dsn)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in dsn else "?"
    try:
        yield f"{dsn}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()
