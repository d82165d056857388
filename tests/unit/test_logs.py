"""Logging: secrets redacted, and a replaced stderr never breaks a later log call."""

from __future__ import annotations

import io
import json
import sys

import pytest
import structlog

from syncd import logs


def test_secret_looking_keys_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("info", "json")
    structlog.get_logger().info("tokens.saved", company="acme", refresh_token="RT-123", client_secret="cs",
                                body='{"x": 1}')
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["company"] == "acme"
    assert line["refresh_token"] == line["client_secret"] == line["body"] == logs.REDACTED
    assert "RT-123" not in json.dumps(line)


def test_logging_after_stderr_was_replaced_and_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    logs.configure("info", "json")
    structlog.get_logger().info("one")
    first.close()  # what pytest's capture does to the stream a previous test configured with
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    structlog.get_logger().info("two")
    assert json.loads(second.getvalue())["event"] == "two"
