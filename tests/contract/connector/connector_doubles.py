"""Test doubles for the connector contract tests: a TokenStore that records event order, a movable clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from syncd.config import CompanyConfig, LimitsConfig, RetryConfig, SecretSource
from syncd.connectors.base import TokenState
from syncd.connectors.quickbooks import QuickBooksConnector

SECRET_ENV = "SYNCD_TEST_QBO_CLIENT_SECRET"
COMPANY = "acme"


@dataclass
class Event:
    kind: str  # "save", "reconnect", "api", "token"
    access_token: str | None = None
    refresh_token: str | None = None
    status: int | None = None
    detail: str = ""


@dataclass
class MemoryTokenStore:
    """TokenStore double: keeps one state per company and appends every save/mark to a shared event log.

    ``fail_saves`` makes ``save`` raise (a database that cannot commit).
    """

    states: dict[str, TokenState] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    reconnect: dict[str, str] = field(default_factory=dict)
    fail_saves: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, company: str) -> TokenState | None:
        with self.lock:
            return self.states.get(company)

    def save(self, company: str, state: TokenState) -> None:
        with self.lock:
            if self.fail_saves:
                raise OSError("database is locked")
            self.states[company] = state
            self.events.append(Event("save", state.access_token, state.refresh_token))

    def mark_needs_reconnect(self, company: str, reason: str) -> None:
        with self.lock:
            self.reconnect[company] = reason
            self.events.append(Event("reconnect", detail=reason))

    def record(self, event: Event) -> None:
        with self.lock:
            self.events.append(event)

    def saves(self) -> list[Event]:
        with self.lock:
            return [e for e in self.events if e.kind == "save"]


class WallClock:
    """An aware clock for the connector that a test can move forward."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def company_config(info: dict[str, Any], *, retry: dict[str, Any] | None = None,
                   limits: dict[str, Any] | None = None) -> CompanyConfig:
    retry_values: dict[str, Any] = {
        "attempts": 6, "initial_backoff_seconds": "0.01", "max_backoff_seconds": "0.1",
        "throttle_backoff_seconds": "0.2", "timeout_seconds": "2",
    }
    retry_values.update(retry or {})
    return CompanyConfig(
        name=COMPANY, realm_id=info["realm_id"], client_id=info["client_id"],
        client_secret=SecretSource(env=SECRET_ENV), environment=info["discovery_url"],
        api_base=info["api_base"], redirect_uri=info["redirect_uri"],
        retry=RetryConfig(**retry_values), limits=LimitsConfig(**(limits or {})),
    )


#: make_connector(retry=…, limits=…, clock=…, token_store=…) -> QuickBooksConnector
ConnectorFactory = Callable[..., QuickBooksConnector]
