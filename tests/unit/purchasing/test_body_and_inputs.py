"""The QBO create body, the crash test hook, and open-PO remaining quantities read from the mirror."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from syncd.connectors.quickbooks import dumps_json
from syncd.mirror.db import make_engine, make_session_factory, run_in_transaction, upgrade
from syncd.purchasing.body import po_body
from syncd.purchasing.executor import CRASH_ENV, crash_point
from syncd.purchasing.inputs import read_open_pos, read_unmirrored_intents
from syncd.rules.plan import PlannedLine, PlannedPO
from syncd.rules.reorder import Explanation
from syncd.sync import apply as A
from syncd.sync.plan import plan_entity

STAMP = {"MetaData": {"LastUpdatedTime": "2026-03-01T10:00:00+00:00"}, "SyncToken": "0"}


def planned(memo: str | None = None, ap: str | None = "33") -> PlannedPO:
    line = PlannedLine("38", "Pump", Decimal(12), Decimal("2.50"), Decimal("30.00"), Explanation(()))
    return PlannedPO("41", "Acme Parts", (line,), date(2026, 3, 9), "syncd plan P1 req syncd-x. Reorder: Pump x12",
                     memo, "syncd-x", Decimal("30.00"), "approved", "mode auto", ap)


def test_body_has_qbo_purchase_order_shape() -> None:
    body = po_body(planned(memo="Call before delivery"))
    assert body == {
        "VendorRef": {"value": "41", "name": "Acme Parts"},
        "APAccountRef": {"value": "33"},
        "Line": [{"LineNum": 1, "Amount": Decimal("30.00"), "DetailType": "ItemBasedExpenseLineDetail",
                  "ItemBasedExpenseLineDetail": {"ItemRef": {"value": "38", "name": "Pump"},
                                                 "Qty": Decimal(12), "UnitPrice": Decimal("2.50")}}],
        "DueDate": "2026-03-09", "PrivateNote": "syncd plan P1 req syncd-x. Reorder: Pump x12", "POStatus": "Open",
        "Memo": "Call before delivery",
    }
    assert '"UnitPrice":2.50' in dumps_json(body)  # exact decimals on the wire, never floats


def test_body_without_ap_account_or_memo_leaves_them_to_qbo() -> None:
    body = po_body(planned(memo=None, ap=None))
    assert "APAccountRef" not in body and "Memo" not in body


def test_crash_hook_is_inert_when_unset_and_strict_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CRASH_ENV, raising=False)
    for step in ("before_post", "after_post", "after_commit"):
        crash_point(step)  # no kill
    monkeypatch.setenv(CRASH_ENV, "after_post")
    crash_point("before_post")  # another step: no kill
    monkeypatch.setenv(CRASH_ENV, "sometimes")
    with pytest.raises(ValueError, match="SYNCD_CRASH_AT"):
        crash_point("before_post")
    assert os.getpid()  # still alive


def _load(sessions: Any, entity: str, docs: list[dict[str, Any]]) -> None:
    def work(s: Any) -> None:
        plan = plan_entity(entity, docs, {}, {}, lambda refs: refs)
        A.apply_plan(s, "co", plan, datetime(2026, 3, 1, tzinfo=UTC))

    run_in_transaction(sessions, work)


def _po(ident: str, status: str, lines: list[tuple[str, str, int]], note: str = "") -> dict[str, Any]:
    return {"Id": ident, "POStatus": status, "VendorRef": {"value": "1"}, "PrivateNote": note, **STAMP,
            "Line": [{"Id": lid, "Amount": 1, "DetailType": "ItemBasedExpenseLineDetail",
                      "ItemBasedExpenseLineDetail": {"ItemRef": {"value": item}, "Qty": qty, "UnitPrice": 1}}
                     for lid, item, qty in lines]}


def test_open_po_remaining_subtracts_linked_bill_lines(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    upgrade(engine)
    sessions = make_session_factory(engine)
    _load(sessions, "Item", [{"Id": i, "Name": f"I{i}", "Type": "Inventory", **STAMP} for i in ("7", "8")])
    _load(sessions, "PurchaseOrder", [
        _po("50", "Open", [("1", "7", 10), ("2", "8", 6), ("3", "7", 4)]),
        _po("51", "Closed", [("1", "7", 99)]),
    ])
    _load(sessions, "Bill", [{"Id": "60", "VendorRef": {"value": "1"}, **STAMP, "Line": [
        {"Amount": 1, "DetailType": "ItemBasedExpenseLineDetail",
         "ItemBasedExpenseLineDetail": {"ItemRef": {"value": "7"}, "Qty": 3, "UnitPrice": 1},
         "LinkedTxn": [{"TxnId": "50", "TxnType": "PurchaseOrder", "TxnLineId": "1"}]},
        {"Amount": 1, "DetailType": "ItemBasedExpenseLineDetail",
         "ItemBasedExpenseLineDetail": {"ItemRef": {"value": "8"}, "Qty": 8, "UnitPrice": 1},
         "LinkedTxn": [{"TxnId": "50", "TxnType": "PurchaseOrder", "TxnLineId": "2"}]},
    ]}])
    with sessions() as s:
        open_pos = read_open_pos(s, "co")
        assert read_unmirrored_intents(s, "co") == {}
    # line 1: 10 - 3; line 3 untouched; item 8 over-received (negative, the core counts it as 0); PO 51 closed.
    assert [p.remaining for p in open_pos["7"]] == [Decimal(7), Decimal(4)]
    assert [p.remaining for p in open_pos["8"]] == [Decimal(-2)]
    assert all(p.hand_typed and p.ref == "50" for p in open_pos["7"])
    engine.dispose()
