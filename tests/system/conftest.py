"""System-test fixtures: sandboxes and harnesses (``db_url``, a database per test, is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from syncsupport import Harness, start_sandbox


@pytest.fixture
def make_harness(db_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``make_harness(**sandbox_options, sync=dict(...), retry=dict(...))`` → a started :class:`Harness` (stopped afterwards)."""
    made: list[Harness] = []

    def make(sync: dict[str, Any] | None = None, retry: dict[str, Any] | None = None, **options: Any) -> Harness:
        sandbox, info = start_sandbox(**options)
        harness = Harness(sandbox, info, db_url, tmp_path, monkeypatch, sync or {}, retry)
        made.append(harness)
        return harness

    yield make
    for h in made:
        h.close()
