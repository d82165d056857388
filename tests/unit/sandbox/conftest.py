"""Fixtures for the sandbox data-layer tests: a fresh Store with one company and a small builder for objects."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_support import REALM, Company

from syncd.sandbox.clock import Clock
from syncd.sandbox.store import Store


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> Iterator[Store]:
    s = Store(None, clock)
    s.create_realm(REALM, "Sandbox Test Co")
    yield s
    s.close()


@pytest.fixture
def co(store: Store, clock: Clock) -> Company:
    return Company(store, clock)
