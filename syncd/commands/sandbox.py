"""``syncd sandbox …``: the local QuickBooks Online stand-in (its own argument parser, see syncd.sandbox.cli)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "sandbox",
        help="run the local QuickBooks Online v3 stand-in (see `syncd sandbox --help`)",
        add_help=False,
    )
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from syncd.sandbox.cli import main  # imported late: the daemon commands never load the sandbox

    return main(list(args.args))
