"""Fixtures for mirror/sync unit tests: recorded QBO payloads (``/work/shared/qbo_samples`` or
``$SYNCD_QBO_SAMPLES``) parsed the way the connector parses them (every number a ``Decimal``), and ``db_url``, an
empty database on SQLite and (when ``SYNCD_TEST_PG_DSN`` is set) PostgreSQL, as in tests/system/conftest.py."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine

SAMPLES = Path(os.environ.get("SYNCD_QBO_SAMPLES", "/work/shared/qbo_samples"))


def _decimalize(value: Any) -> Any:
    # The VCR files were converted to JSON with floats; re-read numbers as the connector does.
    return json.loads(json.dumps(value), parse_float=Decimal, parse_int=Decimal)


@pytest.fixture
def vcr() -> Any:
    """``vcr(name, i)`` → the i-th response body of ``qbo_api_vcr/<name>.json`` (Decimal numbers)."""
    if not SAMPLES.exists():
        pytest.skip(f"recorded samples not found at {SAMPLES}")

    def load(name: str, index: int = -1) -> Any:
        interactions = json.loads((SAMPLES / "qbo_api_vcr" / f"{name}.json").read_text())
        return _decimalize(interactions[index]["response"]["body"])

    return load


@pytest.fixture
def doc() -> Any:
    """``doc(name)`` → ``intuit_docs/<name>.json`` (Decimal numbers)."""
    if not SAMPLES.exists():
        pytest.skip(f"recorded samples not found at {SAMPLES}")

    def load(name: str) -> Any:
        return json.loads((SAMPLES / "intuit_docs" / f"{name}.json").read_text(), parse_float=Decimal,
                          parse_int=Decimal)

    return load


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file, or a private schema of ``$SYNCD_TEST_PG_DSN`` (skipped when
    unset, unless ``SYNCD_REQUIRE_POSTGRES=1``), dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/mirror.db"
        return
    dsn = os.environ.get("SYNCD_TEST_PG_DSN")
    if not dsn:
        if os.environ.get("SYNCD_REQUIRE_POSTGRES") == "1":
            pytest.fail("SYNCD_REQUIRE_POSTGRES=1 but SYNCD_TEST_PG_DSN is not set (run scripts/pg-test-server.sh)")
        pytest.skip("PostgreSQL not configured: set SYNCD_TEST_PG_DSN (scripts/pg-test-server.sh prints it)")
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
