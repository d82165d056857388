"""``syncd sync`` and ``syncd status`` as an admin runs them: summaries, exit codes, failures in status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from syncsupport import Harness

from syncd.cli import main


def test_sync_command_summary_status_and_revoked_connection(make_harness: Any, capsys: Any) -> None:
    h: Harness = make_harness()
    ok = h.run_cli("sync", "--once", "--company", "acme")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("acme: ok,") and "backfilled" in ok.stdout

    capsys.readouterr()
    assert main(["status", "--config", str(h.config_path)]) == 0
    text = capsys.readouterr().out
    assert "acme (realm" in text and "Invoice" in text and "quarantined:   0" in text

    h.sandbox.revoke_tokens()
    failed = h.run_cli("sync", "--once")
    assert failed.returncode == 1
    assert "acme: sync failed" in failed.stderr and "syncd auth" in failed.stderr

    capsys.readouterr()
    assert main(["status", "--json", "--config", str(h.config_path)]) == 1
    doc = json.loads(capsys.readouterr().out)["companies"][0]
    assert doc["needs_reconnect"] is True and doc["last_error"]
    assert doc["last_success_at"] is not None and doc["last_error_at"] > doc["last_success_at"]
    assert doc["entities"]["Item"]["rows"] == len(h.truth("Item"))
    assert doc["token"] is not None and doc["token"]["refresh_expires_at"] is not None


def test_config_problems_exit_2(tmp_path: Path, capsys: Any) -> None:
    missing = tmp_path / "nope.toml"
    assert main(["sync", "--once", "--config", str(missing)]) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text('[sync]\noverlap_seconds = -1\n')
    assert main(["status", "--config", str(bad)]) == 2
    assert "sync.overlap_seconds" in capsys.readouterr().err
    none = tmp_path / "empty.toml"
    none.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/m.db"\n')
    assert main(["sync", "--once", "--config", str(none)]) == 2
