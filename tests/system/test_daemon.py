"""`syncd run`: systemd notify protocol, one worker per company (file lock / advisory lock), fail-over, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from syncsupport import REPO, SECRET_ENV, config_text, start_sandbox

from syncd.connectors.base import TokenState
from syncd.mirror.db import make_engine, make_session_factory, upgrade
from syncd.mirror.tokens import DbTokenStore


class Lines:
    """Collects a child's stderr lines (structlog JSON when not on a terminal) from a background thread."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert proc.stderr is not None
        self._thread = threading.Thread(target=self._pump, args=(proc.stderr,), daemon=True)
        self._thread.start()

    def _pump(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line)

    def events(self) -> list[str]:
        out = []
        for line in list(self.lines):
            try:
                out.append(json.loads(line)["event"])
            except (ValueError, KeyError, TypeError):
                continue
        return out

    def wait_for(self, event: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if event in self.events():
                return
            time.sleep(0.2)
        raise AssertionError(f"no {event!r} within {timeout}s; got {self.events()} / {''.join(self.lines)[-2000:]}")


def _notify_socket(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.5)
    return sock


def _messages(sock: socket.socket, until: str, timeout: float) -> list[str]:
    got: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got += sock.recv(4096).decode().split("\n")
        except TimeoutError:
            continue
        if until in got:
            return got
    raise AssertionError(f"no {until} within {timeout}s; got {got}")


def test_daemon_notifies_systemd_holds_one_worker_per_company_and_fails_over(db_url: str, tmp_path: Path) -> None:
    sandbox, info = start_sandbox()
    try:
        config = tmp_path / "syncd.toml"
        config.write_text(config_text(info, db_url, {"interval_seconds": 10}).replace(
            'level = "warning"', 'level = "info"\nformat = "json"'))
        engine = make_engine(db_url)
        upgrade(engine)
        DbTokenStore(make_session_factory(engine)).save("acme", TokenState(None, None, info["refresh_token"], None))
        engine.dispose()
        env = dict(os.environ, PYTHONPATH=str(REPO), OAUTHLIB_INSECURE_TRANSPORT="1",
                   **{SECRET_ENV: info["client_secret"]})
        notify = _notify_socket(tmp_path / "notify.sock")
        cmd = [sys.executable, "-m", "syncd", "run", "--config", str(config)]
        first = subprocess.Popen(cmd, env=dict(env, NOTIFY_SOCKET=str(tmp_path / "notify.sock"),
                                                WATCHDOG_USEC="2000000"),
                                 stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        first_log = Lines(first)
        got = _messages(notify, "READY=1", 30)
        assert any(m.startswith("STATUS=syncing acme every 10s") for m in got)
        assert "WATCHDOG=1" in _messages(notify, "WATCHDOG=1", 10)
        first_log.wait_for("daemon.cycle_done", 60)

        second = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        second_log = Lines(second)
        second_log.wait_for("daemon.company_held_elsewhere", 30)
        assert "daemon.cycle_done" not in second_log.events()

        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
        assert "STOPPING=1" in _messages(notify, "STOPPING=1", 5)
        assert "daemon.stopped" in first_log.events()

        second_log.wait_for("daemon.cycle_done", 30)  # fail-over on its next tick
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
        notify.close()
        # no secret or token ever reached the logs
        logs = "".join(first_log.lines + second_log.lines)
        assert info["client_secret"] not in logs and info["refresh_token"] not in logs
    finally:
        sandbox.stop()
