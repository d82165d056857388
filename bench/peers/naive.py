"""Runner of the naive baseline (``naive_refresh.py``): a full python-quickbooks refresh every cycle.

Its name-list reads use ``Entity.all()`` as written, which QBO answers with **active** objects only (QBO_FACTS §1),
so its backfill check compares against active counts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from harness import ENTITIES, SYNCD_PYTHON, base_env, run_measured

from peers import PhaseRun
from peers.venvs import installed_version

SCRIPT = Path(__file__).resolve().parent / "naive_refresh.py"


class Naive:
    name = "naive"
    label = "naive full refresh (python-quickbooks .all())"

    def __init__(self, active_truth: dict[str, int]) -> None:
        self.active_truth = active_truth

    def versions(self) -> dict[str, str]:
        root = SYNCD_PYTHON.parent.parent
        return {d: installed_version(root, d) for d in ("python-quickbooks", "intuit-oauth")}

    def setup(self, info: dict[str, Any], workdir: Path) -> None:
        self.dir = workdir
        self.db = workdir / "naive.db"
        for suffix in ("", ".token"):
            Path(str(self.db) + suffix).unlink(missing_ok=True)
        Path(str(self.db) + ".token").write_text(info["refresh_token"])
        self.settings = workdir / "settings.json"
        self.settings.write_text(json.dumps({k: info[k] for k in (
            "client_id", "client_secret", "redirect_uri", "discovery_url", "api_base", "realm_id")}))

    def run(self, phase: str) -> PhaseRun:
        out = self.dir / f"{phase}.out"
        m = run_measured([str(SYNCD_PYTHON), str(SCRIPT), "--settings", str(self.settings), "--db", str(self.db)],
                         env=base_env(), stdout=out, stderr=self.dir / f"{phase}.err")
        received: dict[str, int] = {}
        if m.returncode == 0:
            received = json.loads(out.read_text().strip().splitlines()[-1])
        notes = [f"exit code {m.returncode}"] if m.returncode != 0 else []
        return PhaseRun(m, received, notes)

    def _tokens(self, entity: str) -> dict[str, str]:
        with sqlite3.connect(self.db) as db:
            return dict(db.execute(f"SELECT id, sync_token FROM {entity}").fetchall())

    def verify_backfill(self, truth: dict[str, int]) -> list[str]:
        problems = []
        for entity in ENTITIES:
            have = len(self._tokens(entity))
            if have != self.active_truth[entity]:
                problems.append(f"{entity}: holds {have} of {self.active_truth[entity]} active")
        return problems

    def verify_changes(self, changed: dict[str, dict[str, str]]) -> list[str]:
        problems = []
        for entity, want in changed.items():
            have = self._tokens(entity)
            lost = [i for i, t in want.items() if have.get(i) != t]
            if lost:
                problems.append(f"{entity}: {len(lost)} of {len(want)} changes missing (e.g. Id {lost[0]})")
        return problems
