"""``syncd po list|show|approve|reject``: the purchase orders syncd planned, pushed or holds for approval.

* ``list [--status S] [--company NAME] [--format table|json]`` — one row per PO intent, newest first: id, status,
  vendor, lines, total, due date, QuickBooks PO number, plan.
* ``show ID [--format table|json]`` — one PO with every line (qty, unit price, amount) and why it exists.
* ``approve ID`` — a ``pending_approval`` PO becomes ``approved`` and is pushed to QuickBooks at once (through
  the outbox: exactly one PO, even if interrupted; an interrupted push completes at the next sync). Approving an
  ``approved`` PO that is not yet in QuickBooks retries its push.
* ``reject ID`` — a ``pending_approval`` (or not yet pushed ``approved``) PO becomes ``rejected``; it is never
  pushed. While the need remains, a later cycle proposes a new PO for it.

Exit codes: 0; 1 when the push failed (the reason is printed; see ``syncd po show ID``) or the PO is in a state
that does not allow the action; 2 on configuration problems or an unknown id.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Self

from sqlalchemy import select
from sqlmodel import Session

from syncd.commands._common import load, open_mirror
from syncd.errors import ConfigError, SyncdError, render
from syncd.purchasing.models import APPROVED, CREATED, PENDING, PUSHING, REJECTED, POIntent


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("po", help="purchase orders: list, show, approve, reject")
    psub = p.add_subparsers(dest="po_command", metavar="ACTION")
    psub.required = True
    ls = psub.add_parser("list", help="list purchase orders syncd planned or created")
    ls.add_argument("--status", help="only this status (pending_approval, approved, created, …)")
    ls.add_argument("--company", metavar="NAME")
    ls.add_argument("--format", choices=("table", "json"), default="table")
    ls.set_defaults(handler=_list)
    show = psub.add_parser("show", help="one purchase order with its lines and why")
    show.add_argument("id", type=int)
    show.add_argument("--format", choices=("table", "json"), default="table")
    show.set_defaults(handler=_show)
    for name, handler, text in (("approve", _approve, "approve and push to QuickBooks"),
                                ("reject", _reject, "reject (never pushed)")):
        q = psub.add_parser(name, help=text)
        q.add_argument("id", type=int)
        q.set_defaults(handler=handler)
    for q in (ls, show, *[psub.choices[n] for n in ("approve", "reject")]):
        q.add_argument("--config", metavar="PATH", help="config file (default: $SYNCD_CONFIG, ./syncd.toml, …)")


class _Db:
    def __init__(self, args: argparse.Namespace) -> None:
        self.config = load(args.config)
        self._stack = ExitStack()
        self.engine, self.sessions = self._stack.enter_context(open_mirror(self.config))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def intent(self, session: Session, ident: int) -> POIntent:
        found = session.get(POIntent, ident)
        if found is None:
            raise ConfigError([f"po: no purchase order intent with id {ident} (see `syncd po list`)"])
        return found


def _list(args: argparse.Namespace) -> int:
    from syncd.purchasing.render import intent_dict, intents_table

    with _Db(args) as db, db.sessions() as s:
        q = select(POIntent)
        if args.status:
            q = q.where(POIntent.status == args.status)
        if args.company:
            q = q.where(POIntent.company == args.company)
        rows = list(s.execute(q.order_by(POIntent.id.desc())).scalars())  # type: ignore[union-attr]
    if args.format == "json":
        print(json.dumps([intent_dict(i) for i in rows], indent=2, ensure_ascii=False))
    else:
        print(intents_table(rows))
    return 0


def _show(args: argparse.Namespace) -> int:
    from syncd.purchasing.render import intent_dict, intent_text

    with _Db(args) as db, db.sessions() as s:
        intent = db.intent(s, args.id)
    print(json.dumps(intent_dict(intent), indent=2, ensure_ascii=False) if args.format == "json"
          else intent_text(intent))
    return 0


def _transition(db: _Db, ident: int, allowed: tuple[str, ...], change: tuple[str, ...], status: str,
                why: str) -> tuple[bool, str]:
    """In one transaction: fail unless the intent's status is in ``allowed``; move it to ``status`` when it is
    in ``change``. Returns ``(ok, company or current status)``."""
    from syncd.mirror.db import run_in_transaction

    def work(s: Session) -> tuple[bool, str]:
        intent = db.intent(s, ident)
        if intent.status not in allowed:
            return False, intent.status
        if intent.status in change:
            intent.status = status
            intent.approval = why
            intent.updated_at = datetime.now(UTC)
        return True, intent.company

    return run_in_transaction(db.sessions, work)


def _approve(args: argparse.Namespace) -> int:
    from syncd.connectors.quickbooks import QuickBooksConnector
    from syncd.mirror.tokens import DbTokenStore
    from syncd.purchasing.executor import Executor

    with _Db(args) as db:
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        # A `pushing` PO is left as it is: the executor reconciles it against QuickBooks before any resend.
        ok, info = _transition(db, args.id, (PENDING, APPROVED, PUSHING), (PENDING,), APPROVED,
                               f"approved with `syncd po approve` at {when}")
        if not ok:
            print(f"po {args.id} is {info}: only a PO awaiting approval can be approved", file=sys.stderr)
            return 1
        company = db.config.get_company(info)
        connector = QuickBooksConnector(company, DbTokenStore(db.sessions))
        executor = Executor(company.name, connector, db.sessions, lambda: datetime.now(UTC))
        try:
            executor.push_approved(only=[args.id])
        except SyncdError as exc:
            print(f"po {args.id}: approved, but the push did not finish; the next `syncd sync` completes it",
                  file=sys.stderr)
            print(render(exc), file=sys.stderr)
            return 1
        with db.sessions() as s:
            intent = db.intent(s, args.id)
    if intent.status == CREATED:
        print(f"po {args.id}: approved and created in QuickBooks as PO {intent.qbo_doc_number or intent.qbo_po_id}")
        return 0
    print(f"po {args.id}: {intent.status}: {intent.last_error or 'not pushed'}", file=sys.stderr)
    return 1


def _reject(args: argparse.Namespace) -> int:
    with _Db(args) as db:
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        ok, info = _transition(db, args.id, (PENDING, APPROVED, REJECTED), (PENDING, APPROVED), REJECTED,
                               f"rejected with `syncd po reject` at {when}")
    if not ok:
        print(f"po {args.id} is {info}: only a PO not yet sent to QuickBooks can be rejected", file=sys.stderr)
        return 1
    print(f"po {args.id}: rejected (it will not be sent to QuickBooks)")
    return 0
