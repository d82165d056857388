"""Injected latency and faults, reproducible by seed.

Contract:
* :meth:`Chaos.plan` is called once per ``/v3`` API request (after authentication and throttling) and returns a
  :class:`Plan`: how long to delay, and which fault (if any) to inject. Draws come from one ``random.Random(seed)``
  under a lock, three draws per request whatever the outcome, so the same sequence of requests against a sandbox
  with the same seed gets the same faults. (Concurrent requests may interleave differently between runs.)
* Fault kinds:
  ``500``  — answer the QBO ``SystemFault`` (HTTP 500) without doing anything;
  ``503``  — answer HTTP 503 "Service Unavailable" without doing anything;
  ``drop`` — close the connection without a response, without doing anything;
  ``timeout`` — hold the request ``timeout_hold_s`` seconds (longer than a sane client timeout, bounded by
  ``MAX_HOLD_S``, QBO's own 120 s cut-off plus slack), then drop it, without doing anything;
  ``after_write`` — perform the write, remember its response for ``requestid`` replay, then answer 500;
  ``after_write_drop`` — perform the write, remember it, then drop the connection.
  The ``after_write*`` kinds only apply to writes (entity POSTs and batch); reads draw from the other kinds.
* :meth:`Chaos.inject` scripts the next N eligible requests deterministically, ahead of the random draw.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

FAULT_KINDS = ("500", "503", "drop", "timeout", "after_write", "after_write_drop")
WRITE_ONLY_KINDS = ("after_write", "after_write_drop")
DEFAULT_KINDS = ("500", "503", "drop", "timeout", "after_write")
MAX_HOLD_S = 130.0


@dataclass(frozen=True)
class ChaosConfig:
    seed: int = 1
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    fault_rate: float = 0.0
    kinds: tuple[str, ...] = DEFAULT_KINDS
    timeout_hold_s: float = 10.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be within [0, 1]")
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency_ms and jitter_ms must be >= 0")
        unknown = [k for k in self.kinds if k not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; known: {list(FAULT_KINDS)}")
        if not 0.0 <= self.timeout_hold_s <= MAX_HOLD_S:
            raise ValueError(f"timeout_hold_s must be within [0, {MAX_HOLD_S}]")


@dataclass(frozen=True)
class Plan:
    delay_s: float
    fault: str | None

    @property
    def before_write(self) -> str | None:
        return self.fault if self.fault is not None and self.fault not in WRITE_ONLY_KINDS else None

    @property
    def after_write(self) -> str | None:
        return self.fault if self.fault in WRITE_ONLY_KINDS else None


class Chaos:
    """Thread-safe source of :class:`Plan` s. ``stop()`` cuts every pending delay or hold short."""

    def __init__(self, config: ChaosConfig = ChaosConfig()) -> None:
        self._config = config
        self._rng = random.Random(config.seed)
        self._lock = threading.Lock()
        self._script: deque[str] = deque()
        self._stopping = threading.Event()
        self.injected: dict[str, int] = {}

    @property
    def config(self) -> ChaosConfig:
        return self._config

    def configure(self, **changes: Any) -> ChaosConfig:
        """Change settings; a new ``seed`` restarts the random sequence from that seed."""
        if "kinds" in changes and changes["kinds"] is not None:
            changes["kinds"] = tuple(changes["kinds"])
        with self._lock:
            self._config = replace(self._config, **changes)
            if "seed" in changes:
                self._rng = random.Random(self._config.seed)
            return self._config

    def inject(self, kind: str, count: int = 1) -> None:
        """Give the next ``count`` eligible requests the fault ``kind`` (writes only for ``after_write*``)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        if count < 0:
            raise ValueError("count must be >= 0")
        with self._lock:
            self._script.extend([kind] * count)

    def clear_script(self) -> None:
        with self._lock:
            self._script.clear()

    def plan(self, *, is_write: bool) -> Plan:
        with self._lock:
            cfg = self._config
            u, k, j = self._rng.random(), self._rng.random(), self._rng.random()
            delay = max(0.0, cfg.latency_ms + (2.0 * j - 1.0) * cfg.jitter_ms) / 1000.0
            if self._script and (is_write or self._script[0] not in WRITE_ONLY_KINDS):
                fault: str | None = self._script.popleft()
            else:
                fault = None
                kinds = [x for x in cfg.kinds if is_write or x not in WRITE_ONLY_KINDS]
                if kinds and u < cfg.fault_rate:
                    fault = kinds[min(int(k * len(kinds)), len(kinds) - 1)]
            if fault is not None:
                self.injected[fault] = self.injected.get(fault, 0) + 1
            return Plan(delay, fault)

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` unless the sandbox is stopping."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def hold(self) -> None:
        self.sleep(self._config.timeout_hold_s)

    def stop(self) -> None:
        self._stopping.set()
