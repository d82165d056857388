"""Benchmark plumbing shared by every contender: the sandbox as a separate process, its request counters, and
child processes measured for wall time, CPU time and peak RSS.

Everything stays on loopback: the sandbox binds 127.0.0.1 and the peers' Intuit URLs are rewritten to it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
SYNCD_PYTHON = Path(sys.executable)

#: The entities syncd mirrors, and the stream names the Airbyte and Singer connectors give them.
ENTITIES: tuple[str, ...] = (
    "Account", "Vendor", "Customer", "Item", "PurchaseOrder", "Bill", "Invoice", "SalesReceipt",
)
STREAMS: dict[str, str] = {
    "Account": "accounts", "Vendor": "vendors", "Customer": "customers", "Item": "items",
    "PurchaseOrder": "purchase_orders", "Bill": "bills", "Invoice": "invoices", "SalesReceipt": "sales_receipts",
}
NAME_LISTS = frozenset({"Account", "Vendor", "Customer", "Item"})
QBO_LIMITS = {"per_minute": 500, "per_second": 10, "concurrent": 10, "batch_per_minute": 40}


# ---- measured child processes ----------------------------------------------------------------------------------

@dataclass
class Measured:
    """One child process: exit code, wall seconds, CPU seconds (user + system) and peak RSS in MB."""

    returncode: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    stdout: Path
    stderr: Path


GNU_TIME = Path("/usr/bin/time")


def run_measured(argv: list[str], *, env: dict[str, str], stdout: Path, stderr: Path, cwd: Path | None = None,
                 timeout_s: float = 1800) -> Measured:
    """Run ``argv`` to completion and measure it.

    Peak RSS must be the program's own: a child forked from this (large) harness process inherits its resident
    set, and Linux carries that high-water mark into ``ru_maxrss`` across ``exec``. So the program is started
    by GNU ``time`` (a few hundred kB), whose child it is, and ``time`` reports that child's maximum RSS and
    CPU. Wall time is measured here around the whole run (``time`` adds about a millisecond).
    """
    report = Path(str(stderr) + ".time")
    full = [str(GNU_TIME), "-f", "%M %U %S", "-o", str(report), *argv]
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(full, env=env, stdout=out, stderr=err, cwd=cwd, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            code = proc.wait()
        wall = time.perf_counter() - started
    fields = report.read_text().split()[-3:] if report.exists() else []
    if len(fields) != 3:
        return Measured(code or -1, wall, float("nan"), float("nan"), stdout, stderr)
    max_kb, user, system = fields
    return Measured(code, wall, float(user) + float(system), int(max_kb) / 1024, stdout, stderr)


def base_env() -> dict[str, str]:
    """A clean environment for children: no inherited PYTHONPATH or virtualenv, loopback HTTP allowed."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


# ---- the sandbox process ---------------------------------------------------------------------------------------

@dataclass
class SandboxProcess:
    """``syncd sandbox`` in its own process (so its CPU never counts against a contender)."""

    state: Path
    args: list[str] = field(default_factory=list)
    log: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def start(self, timeout_s: float = 1200) -> dict[str, Any]:
        argv = [str(SYNCD_PYTHON), "-m", "syncd", "sandbox", "--state", str(self.state), "--port", "0",
                "--log-level", "WARNING", *self.args]
        if self.log:
            with open(self.log, "ab") as err:
                self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, env=base_env(), cwd=REPO)
        else:
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=base_env(),
                                         cwd=REPO)
        assert self.proc.stdout is not None
        line = b""
        deadline = time.monotonic() + timeout_s
        while not line and time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if self.proc.poll() is not None and not line:
                raise RuntimeError(f"sandbox exited with {self.proc.returncode}; see {self.log}")
        self.info = json.loads(line)
        return self.info

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    # -- control endpoints (never throttled, never counted) --
    def control(self, name: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.info['control_url']}/{name}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())

    def reset_stats(self) -> dict[str, Any]:
        return self.control("stats", {"reset": True})

    def stats(self) -> dict[str, Any]:
        return self.control("stats")

    def set_latency(self, ms: float) -> None:
        self.control("faults", {"latency_ms": ms, "jitter_ms": 0})

    def set_limits(self, **limits: int) -> None:
        self.control("limits", {"reset": True, **limits})


def realm_counts(stats: dict[str, Any], realm: str) -> dict[str, int]:
    return dict(stats.get("realms", {}).get(realm, {}))


def copy_state(src: Path, dst: Path) -> None:
    """Copy a (cleanly closed) SQLite state file; stale WAL/SHM files of ``dst`` are removed first."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(dst) + suffix).unlink(missing_ok=True)
    shutil.copyfile(src, dst)
    for suffix in ("-wal", "-shm"):
        if Path(str(src) + suffix).exists() and Path(str(src) + suffix).stat().st_size:
            shutil.copyfile(str(src) + suffix, str(dst) + suffix)


# ---- a plain HTTP client for the harness's own API traffic (setup and changes, never measured) ----------------

class Api:
    """Minimal QBO client (bearer token from the sandbox's token endpoint) for setting up and changing data."""

    def __init__(self, info: dict[str, Any]) -> None:
        from urllib.parse import parse_qs, urlsplit

        import requests

        self.info = info
        self.session = requests.Session()
        self.session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16))
        # A connection of its own (the authorization-code flow, as a second user would connect the app), so the
        # harness never rotates the refresh token a contender holds.
        consent = self.session.get(info["base_url"] + "/connect/oauth2", allow_redirects=False, timeout=60, params={
            "client_id": info["client_id"], "redirect_uri": info["redirect_uri"], "response_type": "code",
            "scope": "com.intuit.quickbooks.accounting", "state": "bench"})
        code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
        token = self.session.post(
            info["base_url"] + "/oauth2/v1/tokens/bearer",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": info["redirect_uri"]},
            auth=(info["client_id"], info["client_secret"]), timeout=60,
        )
        token.raise_for_status()
        self.session.headers.update({"Authorization": "Bearer " + token.json()["access_token"],
                                     "Accept": "application/json"})
        self.base = f"{info['api_base']}/company/{info['realm_id']}"

    def query(self, statement: str) -> dict[str, Any]:
        r = self.session.post(self.base + "/query", data=statement.encode(),
                              headers={"Content-Type": "application/text"}, timeout=300)
        r.raise_for_status()
        return r.json()["QueryResponse"]

    def read(self, entity: str, ident: str) -> dict[str, Any]:
        r = self.session.get(f"{self.base}/{entity.lower()}/{ident}", timeout=60)
        r.raise_for_status()
        return r.json()[entity]

    def post(self, entity: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        r = self.session.post(f"{self.base}/{entity.lower()}", params={"requestid": request_id}, json=body,
                              timeout=60)
        doc = r.json()
        if r.status_code != 200 or "Fault" in doc:
            raise RuntimeError(f"{entity} write failed: HTTP {r.status_code} {json.dumps(doc)[:300]}")
        return doc[entity]

    def cdc(self, entities: list[str], since: str) -> dict[str, list[dict[str, Any]]]:
        r = self.session.get(self.base + "/cdc", params={"entities": ",".join(entities), "changedSince": since},
                             timeout=300)
        r.raise_for_status()
        out: dict[str, list[dict[str, Any]]] = {}
        for part in r.json().get("CDCResponse", []):
            for qr in part.get("QueryResponse", []):
                for key, value in qr.items():
                    if isinstance(value, list):
                        out.setdefault(key, []).extend(value)
        return out

    def all_ids(self, entity: str) -> dict[str, str]:
        """Id → SyncToken of every object (inactive name-list rows included)."""
        where = " WHERE Active IN (true, false)" if entity in NAME_LISTS else ""
        out: dict[str, str] = {}
        start = 1
        while True:
            page = self.query(f"SELECT * FROM {entity}{where} ORDERBY Id STARTPOSITION {start} MAXRESULTS 1000")
            rows = page.get(entity, [])
            out.update({r["Id"]: r["SyncToken"] for r in rows})
            if len(rows) < 1000:
                return out
            start += 1000
