"""What the commands share: the config with logging applied, and the migrated mirror database.

Modules whose name starts with ``_`` are not commands (:mod:`syncd.cli` skips them).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from syncd.config import Config, load_config
from syncd.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from syncd.mirror.db import SessionFactory


def load(path: str | None) -> Config:
    """Load the config (every problem at once, as :class:`ConfigError`) and apply its ``[logging]``."""
    from syncd import logs

    config = load_config(path)
    logs.configure(config.logging.level, config.logging.format)
    return config


def database_url(config: Config) -> str:
    try:
        return config.database.resolve_url()
    except ValueError as exc:
        raise ConfigError([f"database.url_env: {exc}"]) from None


@contextmanager
def open_mirror(config: Config) -> Iterator[tuple[Engine, SessionFactory]]:
    """The configured database, migrated to the current schema (idempotent), and a session factory on it."""
    from syncd.mirror.db import make_engine, make_session_factory, upgrade

    engine = make_engine(database_url(config))
    try:
        upgrade(engine)
        yield engine, make_session_factory(engine)
    finally:
        engine.dispose()
