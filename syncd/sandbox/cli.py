"""``syncd sandbox``: run the QBO stand-in until SIGTERM/SIGINT.

Contract: once the server accepts connections, exactly one JSON line (the info dict of
:meth:`syncd.sandbox.app.Sandbox.start`, plus ``pid``) is printed to stdout and flushed; nothing else goes to stdout.
SIGTERM or SIGINT stops the server and the process exits 0. Bad arguments exit 2 (argparse). With ``--state PATH``
the company, its change history and the OAuth tokens survive a restart and an existing realm is not reseeded.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from types import FrameType

from syncd.sandbox.app import Sandbox, SandboxOptions
from syncd.sandbox.chaos import FAULT_KINDS


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in FAULT_KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"known kinds: {','.join(FAULT_KINDS)}")
    return kinds


def build_parser() -> argparse.ArgumentParser:
    d = SandboxOptions()
    p = argparse.ArgumentParser(prog="syncd sandbox", description="Run a local QuickBooks Online v3 stand-in.")
    p.add_argument("--host", default=d.host)
    p.add_argument("--port", type=_non_negative_int, default=d.port, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--items", type=_non_negative_int, default=d.items)
    p.add_argument("--vendors", type=_non_negative_int, default=d.vendors)
    p.add_argument("--customers", type=_non_negative_int, default=d.customers)
    p.add_argument("--invoices", type=_non_negative_int, default=d.invoices)
    p.add_argument("--latency-ms", type=float, default=d.latency_ms)
    p.add_argument("--jitter-ms", type=float, default=d.jitter_ms)
    p.add_argument("--fault-rate", type=_rate, default=d.fault_rate)
    p.add_argument("--fault-kinds", type=_kinds, default=d.fault_kinds,
                   help=f"comma-separated subset of {','.join(FAULT_KINDS)}")
    p.add_argument("--timeout-hold-s", type=float, default=d.timeout_hold_s)
    p.add_argument("--webhook-url", default=None)
    p.add_argument("--webhook-format", choices=("legacy", "cloudevents"), default=d.webhook_format)
    p.add_argument("--throttle-shape", choices=("xml", "json"), default=d.throttle_shape)
    p.add_argument("--per-minute", type=_non_negative_int, default=d.per_minute)
    p.add_argument("--per-second", type=_non_negative_int, default=d.per_second)
    p.add_argument("--concurrent", type=_non_negative_int, default=d.concurrent)
    p.add_argument("--access-ttl", type=_non_negative_int, default=d.access_ttl)
    p.add_argument("--redirect-uri", default=d.redirect_uri)
    p.add_argument("--state", default=None, help="SQLite file that keeps company and tokens across restarts")
    p.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return p


def options_from_args(args: argparse.Namespace) -> SandboxOptions:
    return SandboxOptions(
        host=args.host, port=args.port, seed=args.seed, items=args.items, vendors=args.vendors,
        customers=args.customers, invoices=args.invoices, latency_ms=args.latency_ms, jitter_ms=args.jitter_ms,
        fault_rate=args.fault_rate, fault_kinds=args.fault_kinds, timeout_hold_s=args.timeout_hold_s,
        webhook_url=args.webhook_url, webhook_format=args.webhook_format, throttle_shape=args.throttle_shape,
        per_minute=args.per_minute, per_second=args.per_second, concurrent=args.concurrent,
        access_ttl=args.access_ttl, redirect_uri=args.redirect_uri, state=args.state)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:
        argv = argv[1:]
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        options = options_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    stopping = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    sandbox = Sandbox(options)
    try:
        info = sandbox.start()
        sys.stdout.write(json.dumps({**info, "pid": os.getpid()}) + "\n")
        sys.stdout.flush()
        while not stopping.wait(0.5):
            pass
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
