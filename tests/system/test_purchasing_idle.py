"""Idle cycles skip reorder planning (SPEC §8), on SQLite and PostgreSQL: a second cycle with nothing changed
reads no item, PO or sales line; each trigger (a touched item, ``syncd po approve|reject``, a ``[reorder]``
settings change, a new company day) makes the next step plan the whole company again."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from purchasingsupport import intents, set_reorder
from sqlalchemy import event
from syncsupport import Harness

from syncd.purchasing.cycle import ReorderOutcome, run_reorder, sync_changed_inputs

DEFAULTS = "[reorder.defaults]\nmax = 60\n"
PLANNING_TABLES = re.compile(r"\b(item|purchase_order_line|invoice_line|sales_receipt_line|bill_line)\b")


@contextmanager
def planning_reads(h: Harness) -> Iterator[list[str]]:
    """Statements touching the tables planning reads (items, PO/bill/sales lines), while the block runs."""
    seen: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if PLANNING_TABLES.search(statement):
            seen.append(statement)

    event.listen(h.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(h.engine, "before_cursor_execute", listen)


def step(h: Harness, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> tuple[ReorderOutcome, int]:
    """One sync cycle and its reorder step, as ``syncd sync --once`` runs them; the step's planning reads."""
    result = h.cycle()
    with planning_reads(h) as seen:
        outcome = run_reorder(
            "acme", h.config.reorder, h.connector, h.sessions, clock, touched_item_ids=result.touched_item_ids,
            sync_changed=sync_changed_inputs(result.touched_item_ids, result.per_entity, result.rows_deleted),
        )
    return outcome, len(seen)


def assert_idle(h: Harness, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
    outcome, reads = step(h, clock)
    assert outcome.skipped and reads == 0, (outcome, reads)
    assert "nothing changed" in outcome.summary() and "nothing to order" in outcome.summary()


def assert_plans(h: Harness, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
    outcome, reads = step(h, clock)
    assert not outcome.skipped and reads > 0, (outcome, reads)


def test_idle_cycle_skips_planning_and_each_trigger_plans_again(make_harness: Any) -> None:
    h: Harness = make_harness()
    set_reorder(h, f'[reorder]\nmode = "approve"\n{DEFAULTS}')
    assert_plans(h)  # first pass: nothing recorded yet
    pending = intents(h)
    assert len(pending) >= 2 and {i.status for i in pending} == {"pending_approval"}
    assert_idle(h)
    assert_idle(h)

    # a touched item (a new invoice for an inventory item)
    item = next(i for i, d in h.truth("Item").items() if d.get("Type") == "Inventory" and d.get("Active", True))
    customer = next(iter(h.truth("Customer")))
    h.sandbox.store.create(h.realm, "Invoice", {"CustomerRef": {"value": customer}, "Line": [
        {"DetailType": "SalesItemLineDetail", "Amount": Decimal(3),
         "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": Decimal(1), "UnitPrice": Decimal(3)}}]})
    assert_plans(h)
    assert_idle(h)

    # syncd po reject / approve (outside any cycle)
    assert h.run_cli("po", "reject", str(pending[0].id)).returncode == 0
    assert_plans(h)
    assert_idle(h)
    ok = h.run_cli("po", "approve", str(pending[1].id))
    assert ok.returncode == 0, ok.stderr
    assert_plans(h)
    assert_idle(h)

    # a [reorder] settings change
    h.config = h.config.model_copy(update={"reorder": h.config.reorder.model_copy(update={"memo": "changed"})})
    assert_plans(h)
    assert_idle(h)

    # a new company day (the demand window moves)
    def tomorrow() -> datetime:
        return datetime.now(UTC) + timedelta(days=1)

    assert_plans(h, tomorrow)
    assert_idle(h, tomorrow)


def test_cli_second_sync_reports_nothing_changed(make_harness: Any) -> None:
    h: Harness = make_harness()
    set_reorder(h, f'[reorder]\nmode = "auto"\n{DEFAULTS}')
    first = h.run_cli("sync", "--once")
    assert first.returncode == 0, first.stderr
    assert "PO(s) created in QuickBooks" in first.stdout
    second = h.run_cli("sync", "--once")
    assert second.returncode == 0, second.stderr
    assert "acme: reorder auto: nothing changed" in second.stdout, second.stdout
