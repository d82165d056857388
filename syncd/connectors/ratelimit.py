"""Client-side rate limiting per QBO realm, shared by every connector of a process.

QBO throttles at 500 requests per minute and 10 requests per second per realm, and answers a 429 to the 11th
concurrent request (QBO_FACTS §3). :class:`RealmLimiter` keeps a process below all three: sliding windows of
request start times (``requests_per_minute`` per 60 s, and :data:`BURST_LIMIT` per :data:`BURST_WINDOW_SECONDS`)
and a cap on requests in flight (``max_in_flight``). After a 429 the whole realm pauses
(:meth:`RealmLimiter.pause`), so other threads stop hammering a throttled realm too.

Contract:

* :meth:`RealmLimiter.slot` is a context manager around exactly one HTTP request: on entry it waits until the
  realm is not paused, a window slot is free and fewer than ``max_in_flight`` requests are running; on exit it
  frees the in-flight place. It never raises on its own.
* Thread-safe. ``clock`` (monotonic seconds) and ``sleep`` are injectable so unit tests need no real time.
* :attr:`RealmLimiter.stats` returns a snapshot of the counters benchmarks read (calls, 429s, retries, waits).
* :func:`limiter_for` returns the one limiter of a (API base, realm) pair in this process.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from syncd.config import LimitsConfig

WINDOW_SECONDS = 60.0
#: QBO's per-second limit: "10 requests per second, per realm ID and app" (QBO_FACTS §3, sandbox and production).
#: The window is 10 % longer than a second because the server counts arrivals, we count departures: jitter in
#: transit must not squeeze an 11th request into the server's second. LimitsConfig has no key for it (yet).
BURST_LIMIT = 10
BURST_WINDOW_SECONDS = 1.1


@dataclass(frozen=True)
class LimiterStats:
    """Counters of one realm since the limiter was created. Subtract two snapshots to measure a run."""

    calls: int = 0  #: HTTP requests started (every attempt, every refresh-retry)
    throttled: int = 0  #: HTTP 429 answers seen
    retries: int = 0  #: requests re-sent after a 429, a 5xx, a timeout or a dropped connection
    refreshes_on_401: int = 0  #: requests re-sent after a 401 and a token refresh
    waits: int = 0  #: times a request had to wait for the window, a pause or an in-flight place
    waited_seconds: float = 0.0  #: total time spent in those waits (limiter clock)
    max_in_flight_seen: int = 0  #: highest number of concurrent requests observed

    def __sub__(self, other: LimiterStats) -> LimiterStats:
        return LimiterStats(
            calls=self.calls - other.calls,
            throttled=self.throttled - other.throttled,
            retries=self.retries - other.retries,
            refreshes_on_401=self.refreshes_on_401 - other.refreshes_on_401,
            waits=self.waits - other.waits,
            waited_seconds=self.waited_seconds - other.waited_seconds,
            max_in_flight_seen=self.max_in_flight_seen,
        )


class RealmLimiter:
    """Sliding-window rate limit plus in-flight cap for one realm (see module docstring)."""

    def __init__(
        self,
        requests_per_minute: int,
        max_in_flight: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        window_seconds: float = WINDOW_SECONDS,
        burst_limit: int = BURST_LIMIT,
        burst_window_seconds: float = BURST_WINDOW_SECONDS,
    ) -> None:
        if requests_per_minute < 1 or max_in_flight < 1:
            raise ValueError("requests_per_minute and max_in_flight must be >= 1")
        self.requests_per_minute = requests_per_minute
        self.max_in_flight = max_in_flight
        self._window = window_seconds
        self.burst_limit = burst_limit
        self._burst_window = burst_window_seconds
        self._burst: deque[float] = deque()
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self._in_flight = 0
        self._calls = 0
        self._throttled = 0
        self._retries = 0
        self._refreshes = 0
        self._waits = 0
        self._waited = 0.0
        self._max_seen = 0

    # -- admission ---------------------------------------------------------------------------------------------

    def _admit(self) -> float:
        """Admit one request now (return 0.0) or return how long to wait before asking again."""
        now = self._clock()
        with self._lock:
            while self._starts and self._starts[0] <= now - self._window:
                self._starts.popleft()
            while self._burst and self._burst[0] <= now - self._burst_window:
                self._burst.popleft()
            if now < self._paused_until:
                return self._paused_until - now
            if len(self._starts) >= self.requests_per_minute:
                return max(self._starts[0] + self._window - now, 1e-3)
            if len(self._burst) >= self.burst_limit:
                return max(self._burst[0] + self._burst_window - now, 1e-3)
            if self._in_flight >= self.max_in_flight:
                # No clock-based bound on when a place frees up; poll briefly. In-flight waits are short
                # (one HTTP round trip) so a small fixed poll costs little and keeps the code simple.
                return 0.01
            self._starts.append(now)
            self._burst.append(now)
            self._in_flight += 1
            self._calls += 1
            self._max_seen = max(self._max_seen, self._in_flight)
            return 0.0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one admission for the duration of a single HTTP request."""
        waited = False
        while True:
            delay = self._admit()
            if delay <= 0:
                break
            with self._lock:
                if not waited:
                    self._waits += 1
                self._waited += delay
            waited = True
            self._sleep(delay)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    # -- feedback from the transport -----------------------------------------------------------------------------

    def pause(self, seconds: float) -> None:
        """Hold every new request of this realm for ``seconds`` (after a 429). Never shortens a pause."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def note_throttled(self) -> None:
        with self._lock:
            self._throttled += 1

    def note_retry(self) -> None:
        with self._lock:
            self._retries += 1

    def note_refresh_retry(self) -> None:
        with self._lock:
            self._refreshes += 1

    @property
    def stats(self) -> LimiterStats:
        with self._lock:
            return LimiterStats(
                calls=self._calls, throttled=self._throttled, retries=self._retries,
                refreshes_on_401=self._refreshes, waits=self._waits, waited_seconds=self._waited,
                max_in_flight_seen=self._max_seen,
            )

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight


_REGISTRY: dict[tuple[str, str], RealmLimiter] = {}
_REGISTRY_LOCK = threading.Lock()


def limiter_for(api_base: str, realm_id: str, limits: LimitsConfig) -> RealmLimiter:
    """The process-wide limiter of ``realm_id`` at ``api_base``.

    Keyed by API base as well as realm because QBO's limit is per realm *of one server*: two local sandboxes may
    reuse a realm id. When several companies name the same realm with different limits, the strictest wins.
    """
    key = (api_base.rstrip("/"), realm_id)
    with _REGISTRY_LOCK:
        limiter = _REGISTRY.get(key)
        if limiter is None:
            limiter = RealmLimiter(
                limits.requests_per_minute, limits.max_in_flight, burst_limit=limits.requests_per_second
            )
            _REGISTRY[key] = limiter
        else:
            with limiter._lock:
                limiter.requests_per_minute = min(limiter.requests_per_minute, limits.requests_per_minute)
                limiter.max_in_flight = min(limiter.max_in_flight, limits.max_in_flight)
                limiter.burst_limit = min(limiter.burst_limit, limits.requests_per_second)
        return limiter
