"""Fixtures for the contract suite: a real sandbox over real HTTP, and python-quickbooks / intuit-oauth clients
pointed at it exactly as a user would (only ``api_url_v3`` and the discovery URL change)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from sandbox_testkit import make_qb

from syncd.sandbox.app import Sandbox, SandboxOptions

# requests-oauthlib refuses plain http unless told; the sandbox serves plain http on loopback.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

SMALL = {"items": 20, "vendors": 4, "customers": 5, "invoices": 20}


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Factory: ``make_sandbox(**SandboxOptions fields)`` → a started sandbox, stopped at teardown."""
    started: list[Sandbox] = []

    def _make(**overrides: Any) -> Sandbox:
        sb = Sandbox(SandboxOptions(**{**SMALL, **overrides}))
        sb.start()
        started.append(sb)
        return sb

    yield _make
    for sb in started:
        sb.stop()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox()


@pytest.fixture
def qb(sandbox: Sandbox) -> Any:
    return make_qb(sandbox.info)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.trust_env = False  # never route loopback calls through an environment proxy
        yield s
