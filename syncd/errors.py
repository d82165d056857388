"""Errors grouped by how they are handled (STYLE habit 7).

- :class:`ConfigError` — the admin must edit the TOML; carries every problem, each naming its dotted key.
- :class:`AuthError` — the QuickBooks connection needs ``syncd auth``; the company is marked as needing reconnection.
- :class:`RetriableError` — throttling, 5xx, timeouts, dropped connections: retry with backoff.
- :class:`SkippableRecordError` — one malformed record: quarantine it, keep syncing.
- :class:`FatalSyncError` — anything that must stop the cycle without being retried.

:func:`render` turns any of them into the one message an admin reads, naming the key or command that fixes it.
"""

from __future__ import annotations

from collections.abc import Sequence


class SyncdError(Exception):
    """Base of syncd's own errors."""

    #: What the admin can do about it; rendered after the message.
    hint: str = ""


class ConfigError(SyncdError):
    """The configuration is invalid. ``problems`` holds one ``dotted.key: message`` string per problem."""

    hint = "fix the keys above in the config file, then run `syncd config check`"

    def __init__(self, problems: Sequence[str], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        where = f" in {source}" if source else ""
        super().__init__(f"{len(self.problems)} configuration problem(s){where}")


class AuthError(SyncdError):
    """QuickBooks refused the credentials (``invalid_grant``, revoked app, wrong realm)."""

    def __init__(self, message: str, company: str | None = None) -> None:
        self.company = company
        cmd = f"syncd auth --company {company}" if company else "syncd auth"
        self.hint = f"reconnect QuickBooks with `{cmd}`"
        super().__init__(message)


class RetriableError(SyncdError):
    """A transient failure; ``retry_after`` (seconds) when the server said how long to wait."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class SkippableRecordError(SyncdError):
    """One record cannot be mirrored. ``record`` names it (e.g. ``Invoice 1042``)."""

    def __init__(self, record: str, reason: str) -> None:
        self.record = record
        self.reason = reason
        super().__init__(f"{record}: {reason}")


class FatalSyncError(SyncdError):
    """The cycle cannot go on; not retried automatically."""


def render(exc: BaseException) -> str:
    """A human message for an error, one problem per line, with the fix."""
    if isinstance(exc, ConfigError):
        lines = [f"error: {exc}:"] + [f"  {p}" for p in exc.problems]
    else:
        lines = [f"error: {exc}"]
    hint = getattr(exc, "hint", "")
    if hint:
        lines.append(f"hint: {hint}")
    return "\n".join(lines)
