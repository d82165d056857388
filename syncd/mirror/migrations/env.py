"""Alembic environment. Uses the connection passed in ``config.attributes["connection"]`` by
:func:`syncd.mirror.db.upgrade`; otherwise the ``sqlalchemy.url`` option (e.g. ``alembic -x`` tooling)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import syncd.mirror.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from syncd.mirror.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///syncd.db")
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `syncd sync` or db.upgrade(url)")
run_migrations_online()
