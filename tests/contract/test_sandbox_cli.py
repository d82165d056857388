"""``python -m syncd.sandbox`` / ``syncd sandbox`` as a process: one JSON line, SIGTERM → exit 0, --state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests
from quickbooks.objects.item import Item
from sandbox_testkit import make_qb

ROOT = Path(__file__).resolve().parents[2]


def _start(*args: str) -> tuple[subprocess.Popen[str], dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "syncd.sandbox", "--port", "0", "--items", "5",
                             "--vendors", "2", "--customers", "2", "--invoices", "3", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""
    return proc, json.loads(line)


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=15)
    return proc.returncode, out


def test_prints_one_json_line_serves_and_exits_0_on_sigterm():
    proc, info = _start("--seed", "3")
    try:
        assert {"api_base", "discovery_url", "realm_id", "client_id", "client_secret", "redirect_uri",
                "refresh_token", "verifier_token"} <= info.keys()
        assert info["api_base"].endswith("/v3")
        with requests.Session() as s:
            s.trust_env = False
            assert s.get(info["discovery_url"]).status_code == 200
            assert s.get(info["control_url"] + "/info").json()["realm_id"] == info["realm_id"]
        assert Item.count(qb=make_qb(info)) == 5
    finally:
        code, rest = _stop(proc)
    assert code == 0
    assert rest == ""  # nothing after the one line


def test_bad_arguments_exit_2():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "syncd.sandbox", "--fault-rate", "7"], check=False,
                          capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=30)
    assert done.returncode == 2 and "fault-rate" in done.stderr and done.stdout == ""


def test_state_file_keeps_company_and_tokens_across_restart(tmp_path):
    state = str(tmp_path / "sandbox.sqlite")
    proc, info = _start("--state", state)
    try:
        qb = make_qb(info)
        rotated = qb.refresh_token
        item = Item.all(max_results=1, qb=qb)[0]
        item.Name = "Renamed Before Restart"
        item.save(qb=qb)
    finally:
        assert _stop(proc)[0] == 0
    proc, again = _start("--state", state, "--items", "9")
    try:
        assert (again["realm_id"], again["client_id"], again["client_secret"]) == (
            info["realm_id"], info["client_id"], info["client_secret"])
        qb2 = make_qb(again, refresh_token=rotated)  # the token issued before the restart still refreshes
        assert Item.get(item.Id, qb=qb2).Name == "Renamed Before Restart"
        assert Item.count(qb=qb2) == 5  # not reseeded
    finally:
        assert _stop(proc)[0] == 0
