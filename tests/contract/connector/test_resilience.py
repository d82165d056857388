"""Throttling, server errors, timeouts and dropped connections converge; exhausted retries are RetriableError."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from connector_doubles import ConnectorFactory, MemoryTokenStore
from structlog.testing import capture_logs

from syncd.connectors.quickbooks import QuickBooksConnector
from syncd.errors import RetriableError


def hammer(conn: QuickBooksConnector, calls: int, threads: int) -> list[int]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda _: conn.count("Vendor"), range(calls)))


@pytest.mark.parametrize("shape", ["xml", "json"])
def test_429_storm_converges_with_backoff(make_connector: ConnectorFactory, sandbox: Any, shape: str) -> None:
    # The server allows 4 per second and 2 concurrent; the client is configured far above that. The throttle
    # wait is scaled down from QBO's 60 s to just over the server's 1 s window, as 60 s is to QBO's minute.
    conn = make_connector(limits={"max_in_flight": 8}, retry={"throttle_backoff_seconds": "1.0"})
    expected = conn.count("Vendor")
    sandbox.set_limits(per_second=4, concurrent=2, throttle_shape=shape)
    before = conn.stats
    started = time.monotonic()
    results = hammer(conn, 12, 8)
    elapsed = time.monotonic() - started
    delta = conn.stats - before
    assert results == [expected] * 12
    assert delta.throttled > 0 and delta.retries == delta.throttled
    assert delta.calls == 12 + delta.retries
    assert elapsed >= 1.0  # somebody really waited the throttle backoff


def test_client_limits_keep_the_realm_out_of_429s(make_connector: ConnectorFactory, sandbox: Any) -> None:
    conn = make_connector(limits={"max_in_flight": 2})
    conn.count("Vendor")
    sandbox.set_limits(concurrent=2)
    sandbox.set_latency(30)
    before = conn.stats
    hammer(conn, 16, 8)
    delta = conn.stats - before
    assert delta.throttled == 0
    assert delta.max_in_flight_seen == 2 and delta.waits > 0


def test_injected_5xx_drops_and_timeouts_converge(make_connector: ConnectorFactory, sandbox: Any) -> None:
    conn = make_connector(retry={"attempts": 10, "timeout_seconds": "0.5"})
    expected = conn.count("Vendor")
    sandbox.set_faults(0.3, kinds=["500", "503", "drop", "timeout"], seed=7, timeout_hold_s=1.0)
    before = conn.stats
    with capture_logs() as logs:
        results = hammer(conn, 20, 4)
    delta = conn.stats - before
    assert results == [expected] * 20
    assert delta.retries > 0
    retries = [e for e in logs if e["event"] == "qbo.retry"]
    assert len(retries) == delta.retries
    reasons = {e["reason"] for e in retries}
    assert reasons & {"HTTP 500", "HTTP 503"} and reasons & {"ConnectionError", "ReadTimeout", "ChunkedEncodingError"}


def test_exhausted_retries_raise_retriable_error(make_connector: ConnectorFactory, sandbox: Any) -> None:
    conn = make_connector(retry={"attempts": 3})
    conn.count("Vendor")
    sandbox.inject_fault("503", 3)
    before = conn.stats
    with pytest.raises(RetriableError):
        conn.count("Vendor")
    assert (conn.stats - before).calls == 3
    assert conn.count("Vendor") > 0  # the fault script is used up


def test_persistent_throttle_raises_retriable_with_retry_after(make_connector: ConnectorFactory,
                                                               sandbox: Any) -> None:
    conn = make_connector(retry={"attempts": 2})
    conn.count("Vendor")
    sandbox.set_limits(per_minute=1)
    with pytest.raises(RetriableError) as err:
        conn.count("Vendor")
    assert err.value.retry_after == pytest.approx(0.2)
    assert conn.stats.throttled >= 2


def test_logs_never_carry_tokens(make_connector: ConnectorFactory, store: MemoryTokenStore, sandbox: Any) -> None:
    conn = make_connector()
    with capture_logs() as logs:
        conn.count("Vendor")
        sandbox.inject_fault("500", 1)
        conn.count("Vendor")
        sandbox.advance_clock(3700)
        conn.count("Vendor")
    secrets = {s for e in store.events for s in (e.access_token, e.refresh_token) if s}
    secrets |= {sandbox.info["client_secret"], sandbox.info["refresh_token"]}
    text = repr(logs)
    assert logs and not any(s in text for s in secrets)
    assert {e["event"] for e in logs} >= {"qbo.token.refreshed", "qbo.retry", "qbo.unauthorized_refresh"}
