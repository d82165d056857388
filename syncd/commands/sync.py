"""``syncd sync --once [--company NAME] [--full] [--config PATH]``: run one sync cycle per company.

Loads the config, migrates the mirror database to the current schema, and runs
:meth:`syncd.sync.engine.SyncEngine.run_once` for the named company (or every configured company), printing one
summary line per company. When ``reorder.mode`` is not ``off``, each company whose sync succeeded then runs its
reorder step (:func:`syncd.purchasing.cycle.run_reorder`: reconcile interrupted PO pushes, plan, store, push what
is approved) and prints a second line ``<company>: reorder <mode>: …``. ``--full`` re-reads every entity
completely and repairs what differs (also what a normal cycle would not notice). Exit codes: 0 all companies
synced, 1 a sync or reorder step failed (the others still ran), 2 configuration problems (also ``[reorder]``
vendors unknown to the mirror, after the syncs ran). The long-running daemon is ``syncd run``; this command always
runs exactly one cycle.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from syncd.commands._common import load, open_mirror
from syncd.config import Config
from syncd.errors import ConfigError, SyncdError, render

if TYPE_CHECKING:
    from syncd.connectors.base import Connector
    from syncd.mirror.db import SessionFactory
    from syncd.sync.result import CycleResult


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("sync", help="run one sync cycle (mirror QuickBooks into the database)")
    p.add_argument("--once", action="store_true", help="run one cycle and exit (the only mode of this command)")
    p.add_argument("--company", metavar="NAME", help="only this company (default: every configured company)")
    p.add_argument("--full", action="store_true", help="re-read everything and repair differences")
    p.add_argument("--config", metavar="PATH", help="config file (default: $SYNCD_CONFIG, ./syncd.toml, …)")
    p.set_defaults(handler=_sync)



def _sync(args: argparse.Namespace) -> int:
    from syncd.mirror.tokens import DbTokenStore
    from syncd.sync.engine import SyncEngine

    config = load(args.config)
    companies = [config.get_company(args.company)] if args.company else list(config.company)
    if not companies:
        raise ConfigError(["company: no [[company]] configured (see config.example.toml)"])
    with open_mirror(config) as (engine, sessions):
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
            status = max(status, _reorder(config, company.name, connector, sessions, result))
        return status


def _reorder(config: Config, company: str, connector: Connector, sessions: SessionFactory,
             result: CycleResult) -> int:
    """The company's reorder step after a successful sync; its exit status contribution (0, 1 or 2)."""
    if config.reorder.mode == "off":
        return 0
    from datetime import UTC, datetime

    from syncd.purchasing.cycle import run_reorder, sync_changed_inputs

    try:
        outcome = run_reorder(
            company, config.reorder, connector, sessions, lambda: datetime.now(UTC),
            touched_item_ids=result.touched_item_ids,
            sync_changed=sync_changed_inputs(result.touched_item_ids, result.per_entity, result.rows_deleted),
        )
    except ConfigError as exc:
        print(f"{company}: reorder not planned", file=sys.stderr)
        print(render(exc), file=sys.stderr)
        return 2
    except SyncdError as exc:
        print(f"{company}: reorder failed", file=sys.stderr)
        print(render(exc), file=sys.stderr)
        return 1
    print(outcome.summary(), flush=True)
    return 0
