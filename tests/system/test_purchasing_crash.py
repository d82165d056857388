"""Never a duplicate PO: ``syncd sync --once`` (mode auto) SIGKILLed at each step of a push — before the POST, after
the POST before the commit, after the commit — then rerun; and the sandbox answering 5xx / dropping the connection
after creating the PO. QBO ends with exactly one PO per intent, every time; the mirror and ``syncd po list`` agree.

The kill uses the executor's test hook ``SYNCD_CRASH_AT`` (see :mod:`syncd.purchasing.executor`)."""

from __future__ import annotations

import signal
import subprocess
from typing import Any

import pytest
from purchasingsupport import assert_exactly_one_po_per_intent, intents, set_reorder
from syncsupport import REPO, Harness

AUTO = '[reorder]\nmode = "auto"\n[reorder.defaults]\nmax = 60\n'


def run(h: Harness, *args: str, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in h.cli_env().items() if k != "SYNCD_CRASH_AT"}
    if crash:
        env["SYNCD_CRASH_AT"] = crash
    return subprocess.run(h.cli_command(*args), env=env, cwd=REPO, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.mark.parametrize("point", ["before_post", "after_post", "after_commit"])
def test_sigkill_at_each_push_step_then_rerun_gives_one_po_per_intent(make_harness: Any, point: str) -> None:
    h: Harness = make_harness()
    set_reorder(h, AUTO)
    killed = run(h, "sync", "--once", crash=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    states = {i.status for i in intents(h)}
    assert states & {"approved", "pushing", "created"}, states
    assert len(intents(h)) >= 2
    expect = {"before_post": "pushing", "after_post": "pushing", "after_commit": "created"}[point]
    assert intents(h)[0].status == expect
    rerun = run(h, "sync", "--once")
    assert rerun.returncode == 0, rerun.stderr
    assert_exactly_one_po_per_intent(h)
    again = run(h, "sync", "--once")
    assert again.returncode == 0 and "nothing to order" in again.stdout, again.stdout
    assert_exactly_one_po_per_intent(h)
    h.assert_mirror_equals_sandbox()


@pytest.mark.parametrize("fault", ["after_write", "after_write_drop"])
def test_sandbox_fails_after_creating_the_po(make_harness: Any, fault: str) -> None:
    h: Harness = make_harness()
    set_reorder(h, AUTO)
    first = run(h, "sync", "--once")  # mirror only: reorder runs after, so arm the fault for the first POST now
    assert first.returncode == 0, first.stderr
    for intent in intents(h):
        assert intent.status == "created"
    # A second company state: sell stock so the next cycle must order again, with the fault armed.
    store, realm = h.sandbox.store, h.realm
    item = next(i for i, d in h.truth("Item").items() if d.get("Type") == "Inventory" and d.get("Active", True)
                and d.get("TrackQtyOnHand"))
    customer = next(iter(h.truth("Customer")))
    store.create(realm, "Invoice", {"CustomerRef": {"value": customer}, "Line": [
        {"DetailType": "SalesItemLineDetail", "Amount": 1000,
         "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": 500, "UnitPrice": 2}}]})
    before = len(intents(h))
    h.sandbox.inject_fault(fault, 1)
    second = run(h, "sync", "--once")
    assert second.returncode == 0, second.stderr
    assert h.sandbox.stats_snapshot()["injected"], "the injected fault was never used"
    assert len(intents(h)) == before + 1
    assert_exactly_one_po_per_intent(h)


def test_approve_killed_after_post_completes_at_next_sync(make_harness: Any) -> None:
    h: Harness = make_harness()
    set_reorder(h, '[reorder]\nmode = "approve"\n[reorder.defaults]\nmax = 60\n')
    assert run(h, "sync", "--once").returncode == 0
    target = intents(h)[0]
    killed = run(h, "po", "approve", str(target.id), crash="after_post")
    assert killed.returncode == -signal.SIGKILL
    assert run(h, "sync", "--once").returncode == 0
    rows = {i.id: i for i in intents(h)}
    assert rows[target.id].status == "created"
    hits = [d for d in h.truth("PurchaseOrder").values() if target.request_id in str(d.get("PrivateNote"))]
    assert len(hits) == 1 and hits[0]["Id"] == rows[target.id].qbo_po_id
    assert all(i.status == "pending_approval" for i in rows.values() if i.id != target.id)
