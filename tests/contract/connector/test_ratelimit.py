"""Unit tests of the per-realm limiter with a fake clock (the only connector tests that avoid HTTP)."""

from __future__ import annotations

import threading
import time

import pytest

from syncd.config import LimitsConfig
from syncd.connectors.ratelimit import RealmLimiter, limiter_for


class FakeTime:
    """A clock whose sleep advances it, recording each sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_window_admits_rpm_then_waits_for_the_oldest_to_age_out() -> None:
    t = FakeTime()
    limiter = RealmLimiter(3, 10, clock=t.clock, sleep=t.sleep)
    for _ in range(3):
        with limiter.slot():
            t.now += 1
    assert t.sleeps == []
    with limiter.slot():
        pass
    # First start was at 1000; the window frees it at 1060, reached from 1003.
    assert t.now == pytest.approx(1060.0)
    stats = limiter.stats
    assert stats.calls == 4 and stats.waits == 1
    assert stats.waited_seconds == pytest.approx(57.0)


def test_sustained_rate_never_exceeds_rpm_in_any_minute() -> None:
    t = FakeTime()
    limiter = RealmLimiter(10, 10, clock=t.clock, sleep=t.sleep)
    starts: list[float] = []
    for _ in range(35):
        with limiter.slot():
            starts.append(t.now)
        t.now += 0.5
    for s in starts:
        assert sum(1 for x in starts if s <= x < s + 60) <= 10
    assert starts[-1] - starts[0] >= 180  # 35 requests at 10/min need at least three full windows


def test_burst_window_caps_requests_per_second() -> None:
    t = FakeTime()
    limiter = RealmLimiter(500, 10, clock=t.clock, sleep=t.sleep)
    starts = []
    for _ in range(25):
        with limiter.slot():
            starts.append(t.now)
    for s in starts:
        assert sum(1 for x in starts if s <= x < s + 1.1) <= 10  # QBO: 10 per second, with transit slack
    assert starts[10] - starts[0] == pytest.approx(1.1)


def test_pause_holds_every_request_until_it_ends_and_never_shortens() -> None:
    t = FakeTime()
    limiter = RealmLimiter(100, 10, clock=t.clock, sleep=t.sleep)
    limiter.pause(30)
    limiter.pause(5)  # a shorter pause must not cut the first one short
    with limiter.slot():
        assert t.now == pytest.approx(1030.0)


def test_in_flight_cap_blocks_the_extra_thread() -> None:
    limiter = RealmLimiter(1000, 2)
    release = threading.Event()
    entered = threading.Semaphore(0)

    def worker() -> None:
        with limiter.slot():
            entered.release()
            release.wait(5)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for th in threads:
        th.start()
    assert entered.acquire(timeout=2) and entered.acquire(timeout=2)
    assert not entered.acquire(timeout=0.2)  # the third is held back
    assert limiter.in_flight == 2
    release.set()
    assert entered.acquire(timeout=2)
    for th in threads:
        th.join(5)
    assert limiter.in_flight == 0
    assert limiter.stats.max_in_flight_seen == 2


def test_concurrent_threads_respect_the_window() -> None:
    limiter = RealmLimiter(20, 10, window_seconds=0.5, burst_limit=1000)
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            with limiter.slot():
                with lock:
                    starts.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    assert len(starts) == 60
    starts.sort()
    for i, s in enumerate(starts):
        assert sum(1 for x in starts[i:] if x < s + 0.5 - 0.01) <= 20


def test_registry_shares_per_api_base_and_realm_and_keeps_the_strictest_limits() -> None:
    a = limiter_for("http://127.0.0.1:1/v3", "42", LimitsConfig(requests_per_minute=300, max_in_flight=8))
    b = limiter_for("http://127.0.0.1:1/v3/", "42", LimitsConfig(requests_per_minute=100, max_in_flight=9))
    c = limiter_for("http://127.0.0.1:2/v3", "42", LimitsConfig())
    assert a is b and a is not c
    assert (a.requests_per_minute, a.max_in_flight) == (100, 8)


def test_stats_difference() -> None:
    t = FakeTime()
    limiter = RealmLimiter(100, 10, clock=t.clock, sleep=t.sleep)
    before = limiter.stats
    with limiter.slot():
        pass
    limiter.note_throttled()
    limiter.note_retry()
    delta = limiter.stats - before
    assert (delta.calls, delta.throttled, delta.retries) == (1, 1, 1)
