"""Fixtures for mirror/sync unit tests: recorded QBO payloads (``/work/shared/qbo_samples`` or
``$SYNCD_QBO_SAMPLES``) parsed the way the connector parses them (every number a ``Decimal``). ``db_url`` comes
from tests/conftest.py."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

SAMPLES = Path(os.environ.get("SYNCD_QBO_SAMPLES", "/work/shared/qbo_samples"))


def _decimalize(value: Any) -> Any:
    # The VCR files were converted to JSON with floats; re-read numbers as the connector does.
    return json.loads(json.dumps(value), parse_float=Decimal, parse_int=Decimal)


@pytest.fixture
def vcr() -> Any:
    """``vcr(name, i)`` → the i-th response body of ``qbo_api_vcr/<name>.json`` (Decimal numbers)."""
    if not SAMPLES.exists():
        pytest.skip(f"recorded samples not found at {SAMPLES}")

    def load(name: str, index: int = -1) -> Any:
        interactions = json.loads((SAMPLES / "qbo_api_vcr" / f"{name}.json").read_text())
        return _decimalize(interactions[index]["response"]["body"])

    return load


@pytest.fixture
def doc() -> Any:
    """``doc(name)`` → ``intuit_docs/<name>.json`` (Decimal numbers)."""
    if not SAMPLES.exists():
        pytest.skip(f"recorded samples not found at {SAMPLES}")

    def load(name: str) -> Any:
        return json.loads((SAMPLES / "intuit_docs" / f"{name}.json").read_text(), parse_float=Decimal,
                          parse_int=Decimal)

    return load
