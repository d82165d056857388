"""`syncd auth` (OAuth code flow, both ways of completing it) and `syncd demo` (the README's first command)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from syncsupport import REPO, SECRET_ENV, config_text, start_sandbox


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(info: dict[str, Any]) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), OAUTHLIB_INSECURE_TRANSPORT="1", **{SECRET_ENV: info["client_secret"]})


def _status(config: Path, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "syncd", "status", "--json", "--config", str(config)],
                          capture_output=True, text=True, env=env, timeout=60)
    doc = json.loads(done.stdout)
    return doc["companies"][0] if isinstance(doc, dict) and "companies" in doc else doc[0]


@pytest.fixture
def auth_setup(tmp_path: Path) -> Any:
    port = _free_port()
    redirect = f"http://127.0.0.1:{port}/callback"
    sandbox, info = start_sandbox(redirect_uri=redirect)
    config = tmp_path / "syncd.toml"
    config.write_text(config_text(info, f"sqlite:///{tmp_path}/m.db", {}))
    yield sandbox, info, config
    sandbox.stop()


def test_auth_with_local_callback_saves_tokens_and_never_prints_them(auth_setup: Any) -> None:
    _, info, config = auth_setup
    env = _env(info)
    proc = subprocess.Popen([sys.executable, "-m", "syncd", "auth", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    url = ""
    for line in proc.stdout:  # the URL line, then "Waiting for QuickBooks to redirect …"
        if line.strip().startswith("http"):
            url = line.strip()
        if line.startswith("Waiting"):
            break
    assert "response_type=code" in url and "state=" in url
    # The browser: consent, then follow the redirect to syncd's one-shot callback server.
    landed = requests.get(url, timeout=30)
    assert landed.status_code == 200 and "connected" in landed.text
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"connected to QuickBooks company {info['realm_id']}" in out
    assert info["refresh_token"] not in out + err  # tokens never printed or logged
    status = _status(config, env)
    assert status["needs_reconnect"] is False
    assert status["token"]["refresh_expires_at"] is not None


def test_auth_with_pasted_redirect_url_and_wrong_company(auth_setup: Any) -> None:
    sandbox, info, config = auth_setup
    env = _env(info)
    second = sandbox.add_company(seed=3, items=5, vendors=2, customers=2, invoices=3)
    disc = requests.get(info["discovery_url"], timeout=10).json()
    params = {"client_id": info["client_id"], "redirect_uri": info["redirect_uri"], "response_type": "code",
              "scope": "com.intuit.quickbooks.accounting", "state": "s1", "realmId": second["realm_id"]}
    wrong = requests.get(disc["authorization_endpoint"], params=params, allow_redirects=False, timeout=10)
    assert wrong.status_code == 302
    done = subprocess.run([sys.executable, "-m", "syncd", "auth", "--config", str(config),
                           "--redirect-url", wrong.headers["Location"]],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1
    assert f"QuickBooks company {second['realm_id']} was authorized, but realm_id is {info['realm_id']}" in done.stderr
    assert "syncd auth" in done.stderr  # the hint names the command that fixes it

    params["realmId"] = info["realm_id"]
    right = requests.get(disc["authorization_endpoint"], params=params, allow_redirects=False, timeout=10)
    done = subprocess.run([sys.executable, "-m", "syncd", "auth", "--config", str(config),
                           "--redirect-url", right.headers["Location"]],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    sync = subprocess.run([sys.executable, "-m", "syncd", "sync", "--once", "--config", str(config)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert sync.returncode == 0, sync.stderr
    assert "backfilled" in sync.stdout


def test_demo_tells_the_whole_story(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "syncd", "demo", "--dir", str(tmp_path / "demo")],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)),
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert ": OK (demo)" in out
    assert "connected to QuickBooks company" in out
    backfill, incremental, idle = re.findall(r"demo: ok, .*", out)[:3]
    assert "backfilled Account,Vendor,Customer,Item,PurchaseOrder,Bill,Invoice,SalesReceipt" in backfill
    assert "1 API call(s)" in incremental and "0 row(s) written" not in incremental
    assert "0 row(s) written" in idle and "1 API call(s)" in idle
    assert "so 8 are backordered" in out
    secret = (tmp_path / "demo" / "client-secret")
    assert oct(secret.stat().st_mode & 0o777) == "0o600"
    assert secret.read_text().strip() not in out + done.stderr
