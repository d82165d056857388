"""``syncd config check [PATH]``: validate the config file and report every problem by its dotted key."""

from __future__ import annotations

import argparse
import sys

from syncd.config import find_config, load_config


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("config", help="inspect the configuration")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION")
    csub.required = True
    check = csub.add_parser("check", help="validate a config file; exit 0 if valid, else print problems, exit 2")
    check.add_argument(
        "path", nargs="?", help="config file (default: $SYNCD_CONFIG, ./syncd.toml, /etc/syncd/syncd.toml)"
    )
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    path = find_config(args.path)
    config = load_config(path)
    names = ", ".join(c.name for c in config.company) or "no companies"
    print(f"{path}: OK ({names})", file=sys.stdout)
    return 0
