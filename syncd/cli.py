"""``syncd`` command line. Subcommands live in :mod:`syncd.commands` (one module each, auto-discovered)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import syncd.commands
from syncd import __version__
from syncd.errors import ConfigError, SyncdError, render


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncd",
        description="QuickBooks Online inventory daemon: mirror, backorder ledger, reorder rules, alerts.",
    )
    parser.add_argument("--version", action="version", version=f"syncd {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for info in sorted(pkgutil.iter_modules(syncd.commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"syncd.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:
        # The sandbox parses its own options (argparse would swallow `--help` and reorder `--port`).
        from syncd.sandbox.cli import main as sandbox_main

        return sandbox_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        print(render(exc), file=sys.stderr)
        return 2
    except SyncdError as exc:
        print(render(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
