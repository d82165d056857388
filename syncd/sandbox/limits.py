"""QBO's per-realm throttles (QBO_FACTS.md §3).

Contract: :meth:`RateLimiter.acquire` either returns a :class:`Lease` (release it when the response is ready) or
raises the 429 ``ThrottleExceeded`` fault (:func:`faults.throttled`) in the configured shape — the observed XML body
by default, the (UNCONFIRMED) JSON Fault 3001 with ``throttle_shape="json"``.

Limits, each per realm, each ``0`` = off:
* ``per_minute`` (500) and ``per_second`` (10) requests in a sliding window, batch requests included;
* ``concurrent`` (10) requests in flight;
* ``batch_per_minute`` (40, "per realm ID and app" — the sandbox has one app) batch requests.

Windows use the sandbox clock, so a test can ``clock.advance(60)`` instead of waiting the minute Intuit asks for.
The token endpoint and the ``/_sandbox`` control endpoints are never throttled (the caller simply does not ask).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, replace
from typing import Any, Self

from syncd.sandbox import faults
from syncd.sandbox.clock import Clock

THROTTLE_SHAPES = ("xml", "json")


@dataclass(frozen=True)
class LimitConfig:
    per_minute: int = 500
    per_second: int = 10
    concurrent: int = 10
    batch_per_minute: int = 40
    throttle_shape: str = "xml"

    def __post_init__(self) -> None:
        if self.throttle_shape not in THROTTLE_SHAPES:
            raise ValueError(f"throttle_shape must be one of {THROTTLE_SHAPES}")
        for name in ("per_minute", "per_second", "concurrent", "batch_per_minute"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")


class _RealmState:
    __slots__ = ("batch", "in_flight", "minute", "second")

    def __init__(self) -> None:
        self.minute: deque[float] = deque()
        self.second: deque[float] = deque()
        self.batch: deque[float] = deque()
        self.in_flight = 0


class Lease:
    """One admitted request; ``release()`` is idempotent."""

    def __init__(self, limiter: RateLimiter, realm: str) -> None:
        self._limiter = limiter
        self._realm = realm
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._limiter._release(self._realm)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class RateLimiter:
    """Thread-safe per-realm admission control."""

    def __init__(self, clock: Clock, config: LimitConfig = LimitConfig()) -> None:
        self._clock = clock
        self._config = config
        self._lock = threading.Lock()
        self._realms: dict[str, _RealmState] = {}
        self.throttled_count = 0

    @property
    def config(self) -> LimitConfig:
        return self._config

    def configure(self, **changes: Any) -> LimitConfig:
        """Change some limits at run time (unknown names raise ``TypeError``)."""
        with self._lock:
            self._config = replace(self._config, **changes)
            return self._config

    def reset(self) -> None:
        """Forget all windows (in-flight counts are kept: those requests are still running)."""
        with self._lock:
            for st in self._realms.values():
                st.minute.clear()
                st.second.clear()
                st.batch.clear()

    def acquire(self, realm: str, *, batch: bool = False) -> Lease:
        cfg = self._config
        now = self._clock.timestamp()
        with self._lock:
            st = self._realms.setdefault(realm, _RealmState())
            _trim(st.minute, now - 60.0)
            _trim(st.second, now - 1.0)
            _trim(st.batch, now - 60.0)
            over = (
                (cfg.concurrent and st.in_flight >= cfg.concurrent)
                or (cfg.per_second and len(st.second) >= cfg.per_second)
                or (cfg.per_minute and len(st.minute) >= cfg.per_minute)
                or (batch and cfg.batch_per_minute and len(st.batch) >= cfg.batch_per_minute)
            )
            if over:
                # A rejected request does not count against the window (UNCONFIRMED for QBO); counting it would
                # let a client that retries too eagerly lock itself out forever, which is not what Intuit's
                # "wait 60 seconds before retrying" advice implies.
                self.throttled_count += 1
                raise faults.throttled(cfg.throttle_shape)
            st.minute.append(now)
            st.second.append(now)
            if batch:
                st.batch.append(now)
            st.in_flight += 1
        return Lease(self, realm)

    def _release(self, realm: str) -> None:
        with self._lock:
            st = self._realms.get(realm)
            if st is not None and st.in_flight > 0:
                st.in_flight -= 1

    def in_flight(self, realm: str) -> int:
        with self._lock:
            st = self._realms.get(realm)
            return st.in_flight if st else 0


def _trim(window: deque[float], older_than: float) -> None:
    while window and window[0] <= older_than:
        window.popleft()
