"""``syncd reorder plan [--format table|json] [--company NAME] [--config PATH]``: what would be ordered and why.

Reads the mirror as it is (run ``syncd sync --once`` first for fresh numbers), applies the ``[reorder]`` rules and
prints the plan — one PO per vendor with each line's explanation, plus problems — **changing nothing**: no plan or
intent is stored, nothing is sent to QuickBooks (the planning transaction is rolled back). With
``reorder.mode = "off"`` the rules are still evaluated as in ``plan`` mode, and the output says nothing will be
ordered. Exit codes: 0; 2 on configuration problems, including vendors in ``[reorder]`` unknown to the mirror
(reported by dotted key, e.g. ``reorder.rule[1].vendor``).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from syncd.commands._common import load, open_mirror
from syncd.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("reorder", help="reorder rules: show what would be ordered and why")
    rsub = p.add_subparsers(dest="reorder_command", metavar="ACTION")
    rsub.required = True
    plan = rsub.add_parser("plan", help="show the reorder plan from the mirror, changing nothing")
    plan.add_argument("--format", choices=("table", "json"), default="table")
    plan.add_argument("--company", metavar="NAME", help="only this company (default: every company)")
    plan.add_argument("--config", metavar="PATH", help="config file (default: $SYNCD_CONFIG, ./syncd.toml, …)")
    plan.set_defaults(handler=_plan)


def _plan(args: argparse.Namespace) -> int:
    from syncd.purchasing.planner import make_plan
    from syncd.purchasing.render import plan_json, plan_table

    config = load(args.config)
    companies = [config.get_company(args.company)] if args.company else list(config.company)
    reorder = config.reorder
    note = ""
    if reorder.mode == "off":
        reorder = reorder.model_copy(update={"mode": "plan"})
        note = "; reorder.mode is off: nothing will be ordered"
    with open_mirror(config) as (engine, sessions):
        today = datetime.now(UTC).date()
        docs, texts, problems = [], [], []
        for company in companies:
            with sessions() as session:
                try:
                    result = make_plan(session, company.name, reorder, "preview", today)
                except ConfigError as exc:
                    problems += exc.problems
                    continue
                finally:
                    session.rollback()
            if args.format == "json":
                docs.append({"company": company.name} | plan_json(result))
            else:
                texts.append(f"== {company.name} ==\n" + plan_table(result, note))
        if problems:
            raise ConfigError(sorted(set(problems)))
        if args.format == "json":
            print(json.dumps({"companies": docs}, indent=2, ensure_ascii=False))
        else:
            print("\n\n".join(texts))
        return 0
