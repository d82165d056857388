"""structlog set-up: JSON under systemd, readable on a terminal; secrets and bodies never logged.

The redaction processor is a last line of defence: code must not pass secrets to the logger in the first
place, but any event key that looks like a secret or a body is replaced before rendering.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import Any

import structlog
from structlog.typing import EventDict, WrappedLogger

_SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|authorization|auth_header|cookie|api_key|body|payload|content|dsn)", re.I
)
REDACTED = "[redacted]"


def redact(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Replace values of secret-looking keys (``refresh_token``, ``client_secret``, ``body`` …)."""
    for key in list(event_dict):
        if key != "event" and _SECRET_KEY.search(key):
            event_dict[key] = REDACTED
    return event_dict


class _StderrLogger:
    """Writes each rendered line to whatever ``sys.stderr`` is *now* (not the stream at configure time), so a
    redirected or replaced stderr — a test's capture, a daemon's reopened journal stream — never sees a write to
    a closed file."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def _stderr_logger(*_: Any) -> _StderrLogger:
    return _StderrLogger()


def under_systemd() -> bool:
    return bool(os.environ.get("INVOCATION_ID") or os.environ.get("JOURNAL_STREAM"))


def configure(level: str = "info", fmt: str = "auto") -> None:
    """Configure structlog and the stdlib root logger (libraries log through it)."""
    use_json = fmt == "json" or (fmt == "auto" and (under_systemd() or not sys.stderr.isatty()))
    lvl = getattr(logging, level.upper())
    logging.basicConfig(level=lvl, stream=sys.stderr, format="%(message)s", force=True)
    # requests-oauthlib logs token bodies at DEBUG; never let that through.
    for noisy in ("requests_oauthlib", "oauthlib", "urllib3", "intuitlib", "quickbooks"):
        logging.getLogger(noisy).setLevel(max(lvl, logging.WARNING))
    renderer: Any = structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
