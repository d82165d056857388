"""Database set-up: engines for SQLite (WAL) and PostgreSQL, sessions, migrations, retried transactions.

* :func:`make_engine` — SQLite gets ``journal_mode=WAL``, ``foreign_keys=ON``, ``busy_timeout`` and
  ``synchronous=NORMAL`` on every connection, reads through a memory map (:data:`SQLITE_MMAP_BYTES`) with a
  64 MiB page cache (the ledger's incremental step reads scattered pages of a large file; the defaults, 2 MiB
  and ``read()`` calls, made it markedly slower, see bench/RESULTS_ledger.md), and a real ``BEGIN`` at the start
  of each transaction (the stdlib driver otherwise starts transactions lazily at the first write, so a plan read
  and its write would not share one snapshot). PostgreSQL (``postgresql+psycopg://``) uses pre-ping so a dropped
  connection is replaced.
* :func:`make_session_factory` — ``sessionmaker`` of :class:`sqlmodel.Session` (``session.exec(select(...))``
  works), ``expire_on_commit=False``.
* :func:`upgrade` — runs the Alembic migrations shipped in :mod:`syncd.mirror.migrations` to ``heads`` (the
  ledger and purchasing revisions branch independently from the mirror schema; 0005 merges them, so today there
  is one head).
* :func:`run_in_transaction` — runs ``fn(session)`` in one transaction, committed when it returns; the whole
  transaction is retried (tenacity) only on connection-level errors (``OperationalError``, disconnects, SQLite
  "database is locked"). ``fn`` must therefore be re-runnable: it reads what it needs inside the transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import structlog
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine
from tenacity import RetryCallState, retry, retry_if_exception, stop_after_attempt, wait_exponential

log = structlog.get_logger(__name__)
T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 15_000
MIGRATIONS_DIR = Path(__file__).with_name("migrations")

SessionFactory = Callable[[], Session]


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://…``) with the pragmas above."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, poolclass=NullPool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        _sqlite_setup(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


#: address space SQLite may map per connection to read the database file (page cache memory, not heap)
SQLITE_MMAP_BYTES = 1 << 30


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the stdlib driver (SQLAlchemy's documented recipe).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


def make_session_factory(url_or_engine: str | Engine) -> sessionmaker[Session]:
    """Sessions bound to an engine (built from a URL if given one)."""
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False)


_upgrade_lock = threading.Lock()


def upgrade(url_or_engine: str | Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` with the packaged Alembic migrations. Idempotent."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with _upgrade_lock, engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    if isinstance(url_or_engine, str):
        engine.dispose()


def is_connection_error(exc: BaseException) -> bool:
    """True for errors worth retrying the whole transaction for: lost connections and lock timeouts."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning("db.transaction_retry", attempt=state.attempt_number, error=type(exc).__name__ if exc else None)


def run_in_transaction(
    session_factory: SessionFactory, fn: Callable[[Session], T], *, attempts: int = 5,
) -> T:
    """Run ``fn`` in one transaction and commit; retry the whole transaction on connection errors only."""

    @retry(
        retry=retry_if_exception(is_connection_error), stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.2, max=5), before_sleep=_log_retry, reraise=True,
    )
    def attempt() -> T:
        with session_factory() as session, session.begin():
            return fn(session)

    return attempt()
