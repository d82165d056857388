"""The sandbox's notion of now: real time plus an offset that tests may advance (token expiry, CDC windows)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Monotone-enough wall clock with a test-controlled offset. Always returns aware UTC datetimes."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def timestamp(self) -> float:
        with self._lock:
            return time.time() + self._offset.total_seconds()

    def advance(self, delta: timedelta | float) -> None:
        """Move sandbox time forward (never backwards: QBO's clock does not go back)."""
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=float(delta))
        if delta < timedelta(0):
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += delta
