"""Fixtures: a real sandbox over HTTP, an in-memory TokenStore that records the order of events, connectors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
import requests
from connector_doubles import (
    COMPANY,
    SECRET_ENV,
    ConnectorFactory,
    Event,
    MemoryTokenStore,
    WallClock,
    company_config,
)

from syncd.connectors.base import TokenState
from syncd.connectors.quickbooks import QuickBooksConnector


@pytest.fixture
def sandbox_options() -> dict[str, Any]:
    """Override in a test module (or parametrize indirectly) to shape the sandbox."""
    return {}


@pytest.fixture
def sandbox(sandbox_options: dict[str, Any]) -> Iterator[Any]:
    from syncd.sandbox.app import Sandbox, SandboxOptions

    sb = Sandbox(SandboxOptions(**sandbox_options))
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def store(sandbox: Any) -> MemoryTokenStore:
    """Seeded like a fresh `syncd auth`: a refresh token, no access token yet."""
    s = MemoryTokenStore()
    s.states[COMPANY] = TokenState(None, None, sandbox.info["refresh_token"], None)
    return s


@pytest.fixture
def make_connector(sandbox: Any, store: MemoryTokenStore, monkeypatch: pytest.MonkeyPatch) -> ConnectorFactory:
    """Build a connector against the sandbox; every API and token-endpoint response lands in ``store.events``."""
    monkeypatch.setenv(SECRET_ENV, sandbox.info["client_secret"])

    def make(*, retry: dict[str, Any] | None = None, limits: dict[str, Any] | None = None,
             clock: Callable[[], datetime] | None = None, token_store: MemoryTokenStore | None = None,
             private_limiter: bool = True) -> QuickBooksConnector:
        from syncd.connectors.ratelimit import RealmLimiter

        cfg = company_config(sandbox.info, retry=retry, limits=limits)
        target = token_store or store
        limiter = RealmLimiter(cfg.limits.requests_per_minute, cfg.limits.max_in_flight) if private_limiter else None
        conn = QuickBooksConnector(cfg, target, clock=clock, limiter=limiter)

        def api_hook(resp: requests.Response, *args: Any, **kwargs: Any) -> None:
            auth = resp.request.headers.get("Authorization", "")
            target.record(Event("api", auth.removeprefix("Bearer "), status=resp.status_code,
                                detail=resp.request.method or ""))

        def token_hook(resp: requests.Response, *args: Any, **kwargs: Any) -> None:
            target.record(Event("token", status=resp.status_code, detail=resp.request.url or ""))

        conn._transport.session.hooks["response"].append(api_hook)
        conn.token_manager.auth_client.hooks["response"].append(token_hook)
        return conn

    return make


@pytest.fixture
def connector(make_connector: ConnectorFactory) -> QuickBooksConnector:
    return make_connector()


@pytest.fixture
def wall_clock() -> WallClock:
    return WallClock()
