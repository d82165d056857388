"""CLI subcommands. Each module here defines ``register(subparsers)``; :mod:`syncd.cli` discovers them.

A command handler takes the parsed ``argparse.Namespace`` and returns the process exit code:
0 success, 1 operational failure (e.g. QuickBooks unreachable), 2 bad input (config, arguments).
"""
