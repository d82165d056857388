"""``airbyte-source-quickbooks`` from PyPI, run as Airbyte runs a Python source: ``source-quickbooks read
--config --catalog [--state]``, records on stdout.

How it talks to QBO (its ``manifest.yaml``, a low-code declarative source on airbyte-cdk):
* ``GET /v3/company/{realm}/query?query=SELECT * FROM X WHERE Metadata.LastUpdatedTime > '…' AND
  Metadata.LastUpdatedTime <= '…' [AND Active IN (true, false)] ORDER BY Metadata.LastUpdatedTime ASC
  STARTPOSITION n MAXRESULTS m`` — no ``minorversion``; one stream per entity, time-sliced in 30-day steps from
  ``start_date`` (or the stream's cursor) to now, each slice paged until a page is short;
* OAuth refresh by ``POST https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer`` with ``client_id`` and
  ``client_secret`` in the form body; the rotated refresh token comes back as a CONTROL message carrying the new
  config, which a platform would save — so does this runner.
* Hosts are hard-coded (``https://quickbooks.api.intuit.com`` or the sandbox host): rewritten at run time by the
  redirect shim.

``max_results`` is not in the connector's spec but its manifest reads ``config.max_results`` (default 200); the
benchmark sets QBO's maximum, 1000, the configuration most favourable to it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness import ENTITIES, STREAMS, base_env, run_measured

from peers import PhaseRun
from peers.venvs import ensure, installed_version, redirect_env

REQUIREMENTS = ["airbyte-source-quickbooks==4.0.4"]
_ENTITY_OF = {v: k for k, v in STREAMS.items()}


class Airbyte:
    name = "airbyte"
    label = "airbyte-source-quickbooks"

    def __init__(self, start_date: str) -> None:
        self.start_date = start_date
        self.root = ensure("airbyte", REQUIREMENTS)
        self.exe = str(self.root / "bin" / "source-quickbooks")
        self.last: dict[str, dict[str, str]] = {}

    def versions(self) -> dict[str, str]:
        return {d: installed_version(self.root, d) for d in ("airbyte-source-quickbooks", "airbyte-cdk")}

    def setup(self, info: dict[str, Any], workdir: Path) -> None:
        self.info, self.dir = info, workdir
        self.env = redirect_env(base_env(), info["base_url"])
        self.config = workdir / "config.json"
        self.catalog = workdir / "catalog.json"
        self.state = workdir / "state.json"
        self.state.unlink(missing_ok=True)
        expired = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.config.write_text(json.dumps({
            "realm_id": info["realm_id"], "client_id": info["client_id"], "client_secret": info["client_secret"],
            "refresh_token": info["refresh_token"], "access_token": "none-yet", "token_expiry_date": expired,
            "start_date": self.start_date, "sandbox": False, "max_results": 1000,
        }))
        # discover reads only the manifest (no API call); select the eight mirrored entities, incremental.
        m = run_measured([self.exe, "discover", "--config", str(self.config)], env=self.env,
                         stdout=workdir / "discover.jsonl", stderr=workdir / "discover.err")
        if m.returncode != 0:
            raise RuntimeError(f"airbyte discover failed; see {workdir / 'discover.err'}")
        streams: dict[str, Any] = {}
        for line in (workdir / "discover.jsonl").read_text().splitlines():
            msg = json.loads(line)
            if msg.get("type") == "CATALOG":
                streams = {s["name"]: s for s in msg["catalog"]["streams"]}
        self.catalog.write_text(json.dumps({"streams": [
            {"stream": streams[STREAMS[e]], "sync_mode": "incremental", "destination_sync_mode": "append_dedup",
             "cursor_field": ["airbyte_cursor"], "primary_key": [["Id"]]} for e in ENTITIES]}))

    def run(self, phase: str) -> PhaseRun:
        argv = [self.exe, "read", "--config", str(self.config), "--catalog", str(self.catalog)]
        if self.state.exists():
            argv += ["--state", str(self.state)]
        out = self.dir / f"{phase}.jsonl"
        m = run_measured(argv, env=self.env, stdout=out, stderr=self.dir / f"{phase}.err")
        seen: dict[str, dict[str, str]] = {}
        states: dict[str, Any] = {}
        notes: list[str] = []
        with open(out, "rb") as fh:
            for raw in fh:
                if not raw.startswith(b"{"):
                    continue
                msg = json.loads(raw)
                kind = msg.get("type")
                if kind == "RECORD":
                    rec = msg["record"]
                    entity = _ENTITY_OF.get(rec["stream"])
                    if entity:
                        seen.setdefault(entity, {})[str(rec["data"]["Id"])] = str(rec["data"].get("SyncToken"))
                elif kind == "STATE":
                    st = msg["state"]
                    if st.get("type") == "STREAM":
                        states[st["stream"]["stream_descriptor"]["name"]] = st
                elif kind == "CONTROL" and msg["control"].get("type") == "CONNECTOR_CONFIG":
                    # The platform's job: persist the rotated refresh token (and access token) it was handed.
                    self.config.write_text(json.dumps(msg["control"]["connectorConfig"]["config"]))
                elif kind == "TRACE" and msg["trace"].get("type") == "ERROR":
                    notes.append("error: " + msg["trace"]["error"].get("message", "")[:200])
        if states:
            self.state.write_text(json.dumps(list(states.values())))
        if m.returncode != 0:
            notes.append(f"exit code {m.returncode}")
        self.last = seen
        return PhaseRun(m, {e: len(v) for e, v in seen.items()}, notes)

    def verify_backfill(self, truth: dict[str, int]) -> list[str]:
        return [f"{e}: received {len(self.last.get(e, {}))} of {n}" for e, n in truth.items()
                if len(self.last.get(e, {})) != n]

    def verify_changes(self, changed: dict[str, dict[str, str]]) -> list[str]:
        return _missing(self.last, changed)


def _missing(got: dict[str, dict[str, str]], changed: dict[str, dict[str, str]]) -> list[str]:
    problems = []
    for entity, want in changed.items():
        have = got.get(entity, {})
        lost = [i for i, token in want.items() if have.get(i) != token]
        if lost:
            problems.append(f"{entity}: {len(lost)} of {len(want)} changes not received (e.g. Id {lost[0]})")
    return problems
