"""``tap-quickbooks`` (singer-io) from PyPI, run as a Singer tap: ``tap-quickbooks --config --catalog [--state]``,
records on stdout.

How it talks to QBO (``tap_quickbooks/client.py``, ``sync.py``, ``query_builder.py``):
* every selected entity stream is read through ``POST /v3/company/{realm}/batch?minorversion=75`` whose
  ``BatchItemRequest`` holds one ``Query`` per stream (``SELECT * FROM X WHERE Metadata.LastUpdatedTime >= '…'
  [AND Active IN (true, false)] ORDER BY Metadata.LastUpdatedTime ASC STARTPOSITION n MAXRESULTS 1000``), looping
  until no stream returns rows — so QBO's batch throttle (40 batch requests per minute per realm) bounds it;
* OAuth via requests-oauthlib's ``OAuth2Session`` auto-refresh (``client_id``/``client_secret`` in the form body
  and as HTTP Basic) against ``https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer``; it writes the rotated
  refresh token back into its config file itself;
* hosts are module constants (``PROD_ENDPOINT_BASE`` …): rewritten at run time by the redirect shim.

The catalog comes from the tap's own ``do_discover()`` (run in its venv); ``--discover`` would add an auth check
against ``/companyinfo``, an entity the sandbox does not model — not needed for a sync.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from harness import STREAMS, base_env, run_measured

from peers import PhaseRun
from peers.airbyte import _missing
from peers.venvs import ensure, installed_version, redirect_env

REQUIREMENTS = ["tap-quickbooks==2.5.0"]
_ENTITY_OF = {v: k for k, v in STREAMS.items()}

_CATALOG = """
import json, sys
from tap_quickbooks.discover import do_discover
want = set(json.loads(sys.argv[1]))
catalog = do_discover().to_dict()
for stream in catalog["streams"]:
    for entry in stream["metadata"]:
        if list(entry["breadcrumb"]) == []:
            entry["metadata"]["selected"] = stream["tap_stream_id"] in want
print(json.dumps(catalog))
"""


class Singer:
    name = "singer"
    label = "tap-quickbooks (Singer)"

    def __init__(self, start_date: str) -> None:
        self.start_date = start_date
        self.root = ensure("singer", REQUIREMENTS)
        self.exe = str(self.root / "bin" / "tap-quickbooks")
        self.last: dict[str, dict[str, str]] = {}

    def versions(self) -> dict[str, str]:
        return {d: installed_version(self.root, d) for d in ("tap-quickbooks", "singer-python")}

    def setup(self, info: dict[str, Any], workdir: Path) -> None:
        self.info, self.dir = info, workdir
        self.env = redirect_env(base_env(), info["base_url"])
        self.config = workdir / "config.json"
        self.catalog = workdir / "catalog.json"
        self.state = workdir / "state.json"
        self.state.unlink(missing_ok=True)
        self.config.write_text(json.dumps({
            "client_id": info["client_id"], "client_secret": info["client_secret"],
            "refresh_token": info["refresh_token"], "realm_id": info["realm_id"], "start_date": self.start_date,
            "user_agent": "syncd-bench (loopback sandbox)", "sandbox": False, "max_results": "1000",
        }))
        out = subprocess.run([str(self.root / "bin" / "python"), "-c", _CATALOG, json.dumps(sorted(_ENTITY_OF))],
                             capture_output=True, text=True, check=True, env=base_env())
        self.catalog.write_text(out.stdout)

    def run(self, phase: str) -> PhaseRun:
        argv = [self.exe, "--config", str(self.config), "--catalog", str(self.catalog)]
        if self.state.exists():
            argv += ["--state", str(self.state)]
        out = self.dir / f"{phase}.jsonl"
        m = run_measured(argv, env=self.env, stdout=out, stderr=self.dir / f"{phase}.err")
        seen: dict[str, dict[str, str]] = {}
        state: Any = None
        with open(out, "rb") as fh:
            for raw in fh:
                if not raw.startswith(b"{"):
                    continue
                msg = json.loads(raw)
                if msg.get("type") == "RECORD":
                    entity = _ENTITY_OF.get(msg["stream"])
                    if entity:
                        rec = msg["record"]
                        seen.setdefault(entity, {})[str(rec["Id"])] = str(rec.get("SyncToken"))
                elif msg.get("type") == "STATE":
                    state = msg["value"]
        if state is not None:
            self.state.write_text(json.dumps(state))
        notes = [f"exit code {m.returncode}"] if m.returncode != 0 else []
        backoffs = (self.dir / f"{phase}.err").read_text(errors="replace").count("Backing off")
        if backoffs:
            notes.append(f"{backoffs} backoff(s) after HTTP 429 (60 s each)")
        self.last = seen
        return PhaseRun(m, {e: len(v) for e, v in seen.items()}, notes)

    def verify_backfill(self, truth: dict[str, int]) -> list[str]:
        return [f"{e}: received {len(self.last.get(e, {}))} of {n}" for e, n in truth.items()
                if len(self.last.get(e, {})) != n]

    def verify_changes(self, changed: dict[str, dict[str, str]]) -> list[str]:
        return _missing(self.last, changed)
