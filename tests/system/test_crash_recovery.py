"""``syncd sync --once`` killed with SIGKILL mid-backfill and mid-incremental; a rerun converges with no loss and
no duplicate row (the mirror is compared to the sandbox, lines included)."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from syncsupport import REPO, Changer, Harness

from syncd.connectors.base import MIRRORED_ENTITIES
from syncd.mirror.models import EntityCursor, Invoice


def kill_when(h: Harness, ready: Callable[[], bool], timeout: float = 60) -> str:
    """Start ``syncd sync --once`` in a subprocess, SIGKILL it as soon as ``ready()``; return its stderr."""
    proc = subprocess.Popen(h.cli_command("sync", "--once"), env=h.cli_env(), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            assert proc.poll() is None, f"sync finished before it could be killed: {proc.communicate()}"
            assert time.monotonic() < deadline, "no progress to kill in"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return err


def cursors(h: Harness) -> dict[str, EntityCursor]:
    with h.sessions() as s:
        return {c.entity: c for c in s.execute(select(EntityCursor)).scalars()}


def backfilled_in(summary: str) -> set[str]:
    match = re.search(r"backfilled ([A-Za-z,]+)", summary)
    return set(match.group(1).split(",")) if match else set()


def test_sigkill_mid_backfill_then_rerun_resumes_and_converges(make_harness: Any) -> None:
    h: Harness = make_harness(invoices=150, sync={"page_size": 10})
    h.sandbox.set_latency(25)

    def mid_invoices() -> bool:
        c = cursors(h).get("Invoice")
        return c is not None and not c.backfill_done and c.backfill_next_start > 1

    kill_when(h, mid_invoices)
    before = cursors(h)
    done_before = {e for e, c in before.items() if c.backfill_done}
    assert {"Account", "Item"} <= done_before and "Invoice" not in done_before
    h.sandbox.set_latency(0)
    Changer(h, seed=21).run(n=5)  # QBO keeps changing while the daemon is down

    rerun = h.run_cli("sync", "--once")
    assert rerun.returncode == 0, rerun.stderr
    assert backfilled_in(rerun.stdout) == set(MIRRORED_ENTITIES) - done_before, rerun.stdout
    h.assert_mirror_equals_sandbox()


def test_sigkill_mid_incremental_catch_up_then_rerun_converges(make_harness: Any) -> None:
    h: Harness = make_harness(invoices=1050, items=20, customers=5, sync={"page_size": 100})
    h.cycle()
    store, realm = h.sandbox.store, h.realm
    for n, ident in enumerate(sorted(h.truth("Invoice"), key=int)):
        doc = h.get("Invoice", ident)
        if n % 50 == 7:
            store.delete(realm, "Invoice", {"Id": ident, "SyncToken": doc["SyncToken"]})
        else:
            store.update(realm, "Invoice", {"Id": ident, "SyncToken": doc["SyncToken"], "sparse": True,
                                            "PrivateNote": f"bulk {n}"})
    Changer(h, seed=4).run(n=4)
    h.sandbox.set_latency(60)

    def some_pages_written() -> bool:
        with h.sessions() as s:
            return bool(s.scalar(select(func.count()).select_from(Invoice)
                                 .where(Invoice.private_note.like("bulk%"))))  # type: ignore[union-attr]

    kill_when(h, some_pages_written)
    with h.sessions() as s:
        partly = s.scalar(select(func.count()).select_from(Invoice).where(Invoice.private_note.like("bulk%")))  # type: ignore[union-attr]
    assert partly is not None and 0 < partly < 1000, "the kill did not land mid-way"
    h.sandbox.set_latency(0)

    rerun = h.run_cli("sync", "--once")
    assert rerun.returncode == 0, rerun.stderr
    assert "paged catch-up" in rerun.stdout
    h.assert_mirror_equals_sandbox()
