"""``syncd run [--config PATH]``: the daemon — every company synced on schedule until SIGTERM.

Each cycle of a company is what ``syncd sync --once`` does for it: the sync (with the backorder ledger), then
the reorder step unless ``reorder.mode = "off"``. See :mod:`syncd.daemon.runner` for scheduling, overlap,
locks, shutdown and the systemd protocol. Exit codes: 0 after a clean stop, 2 configuration problems.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from syncd.commands._common import database_url, load, open_mirror
from syncd.config import CompanyConfig, Config

if TYPE_CHECKING:
    from syncd.mirror.db import SessionFactory


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("run", help="run the daemon: sync every company on schedule until stopped")
    p.add_argument("--config", metavar="PATH", help="config file (default: $SYNCD_CONFIG, ./syncd.toml, …)")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from syncd.daemon.locks import lock_for
    from syncd.daemon.runner import Daemon
    from syncd.errors import ConfigError

    config = load(args.config)
    if not config.company:
        raise ConfigError(["company: no [[company]] configured (see config.example.toml)"])
    with open_mirror(config) as (engine, sessions):
        url = database_url(config)
        locks = {c.name: lock_for(engine, url, c.name) for c in config.company}
        return Daemon(config, company_cycle(config, sessions), locks).run()


def company_cycle(config: Config, sessions: SessionFactory) -> Callable[[CompanyConfig], str]:
    """A function running one whole cycle of a company; connectors (tokens, rate limits) live across cycles."""
    from syncd.connectors.quickbooks import QuickBooksConnector
    from syncd.mirror.tokens import DbTokenStore
    from syncd.purchasing.cycle import run_reorder, sync_changed_inputs
    from syncd.sync.engine import SyncEngine

    tokens = DbTokenStore(sessions)
    connectors: dict[str, QuickBooksConnector] = {}

    def cycle(company: CompanyConfig) -> str:
        connector = connectors.get(company.name)
        if connector is None:
            connector = connectors[company.name] = QuickBooksConnector(company, tokens)
        result = SyncEngine(config, company, connector, sessions).run_once()
        summary = result.summary()
        if config.reorder.mode != "off":
            outcome = run_reorder(
                company.name, config.reorder, connector, sessions, lambda: datetime.now(UTC),
                touched_item_ids=result.touched_item_ids,
                sync_changed=sync_changed_inputs(result.touched_item_ids, result.per_entity, result.rows_deleted),
            )
            summary += "; " + outcome.summary()
        return summary

    return cycle
