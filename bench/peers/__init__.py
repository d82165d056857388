"""The contenders of ``bench/bench_sync.py``: syncd itself, a naive python-quickbooks full refresh, and the two
QuickBooks connectors users install from PyPI (Airbyte's and Singer's), each run as its own process.

Every contender implements :class:`Contender`: ``setup`` once per sandbox, then ``run(phase)`` for the phases
``backfill``, ``idle`` and ``changes`` (each a separate process, as a scheduler would start it), then the
``verify_*`` checks that it really received the data — a run that got nothing is a failure, not a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from harness import Measured


@dataclass
class PhaseRun:
    """One measured run: the process figures, what the contender says it received, and notes."""

    measured: Measured
    received: dict[str, int] = field(default_factory=dict)  # entity → distinct objects received/written
    notes: list[str] = field(default_factory=list)
    cycle_s: float | None = None  # syncd only: the cycle's own duration from its summary line


class Contender(Protocol):
    name: str
    label: str

    def setup(self, info: dict[str, Any], workdir: Path) -> None: ...

    def run(self, phase: str) -> PhaseRun: ...

    def verify_backfill(self, truth: dict[str, int]) -> list[str]:
        """Problems (empty = it holds every object of every entity, as far as it can say)."""
        ...

    def verify_changes(self, changed: dict[str, dict[str, str]]) -> list[str]:
        """Problems (empty = every changed object was received at its new SyncToken)."""
        ...

    def versions(self) -> dict[str, str]: ...
