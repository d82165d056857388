"""``syncd sync --once [--company NAME] [--full] [--config PATH]``: run one sync cycle per company.

Loads the config, migrates the mirror database to the current schema, and runs
:meth:`syncd.sync.engine.SyncEngine.run_once` for the named company (or every configured company), printing one
summary line per company. ``--full`` re-reads every entity completely and repairs what differs (also what a
normal cycle would not notice). Exit codes: 0 all companies synced, 1 a sync failed (the others still ran),
2 configuration problems. The long-running daemon is ``syncd run``; this command always runs exactly one cycle.
"""

from __future__ import annotations

import argparse
import sys

from syncd.config import Config, load_config
from syncd.errors import ConfigError, SyncdError, render


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("sync", help="run one sync cycle (mirror QuickBooks into the database)")
    p.add_argument("--once", action="store_true", help="run one cycle and exit (the only mode of this command)")
    p.add_argument("--company", metavar="NAME", help="only this company (default: every configured company)")
    p.add_argument("--full", action="store_true", help="re-read everything and repair differences")
    p.add_argument("--config", metavar="PATH", help="config file (default: $SYNCD_CONFIG, ./syncd.toml, …)")
    p.set_defaults(handler=_sync)


def database_url(config: Config) -> str:
    try:
        return config.database.resolve_url()
    except ValueError as exc:
        raise ConfigError([f"database.url_env: {exc}"]) from None


def _sync(args: argparse.Namespace) -> int:
    from syncd import logs
    from syncd.mirror.db import make_engine, make_session_factory, upgrade
    from syncd.mirror.tokens import DbTokenStore
    from syncd.sync.engine import SyncEngine

    config = load_config(args.config)
    companies = [config.get_company(args.company)] if args.company else list(config.company)
    if not companies:
        raise ConfigError(["company: no [[company]] configured (see config.example.toml)"])
    logs.configure(config.logging.level, config.logging.format)
    engine = make_engine(database_url(config))
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)
        tokens = DbTokenStore(sessions)
        from syncd.connectors.quickbooks import QuickBooksConnector

        status = 0
        for company in companies:
            try:
                connector = QuickBooksConnector(company, tokens)
                result = SyncEngine(config, company, connector, sessions).run_once(full=args.full)
            except ConfigError:
                raise
            except SyncdError as exc:
                print(f"{company.name}: sync failed", file=sys.stderr)
                print(render(exc), file=sys.stderr)
                status = 1
                continue
            print(result.summary(), flush=True)
        return status
    finally:
        engine.dispose()
