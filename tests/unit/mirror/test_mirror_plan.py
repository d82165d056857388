"""The pure planner: what a batch of QBO objects does to the mirror."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from syncd.mirror.types import content_hash
from syncd.sync.plan import Existing, Held, QuarantineEntry, plan_entity


def inv(ident: str, token: str = "0", item: str = "11", qty: Any = Decimal(1), note: str = "") -> dict[str, Any]:
    return {"Id": ident, "SyncToken": token, "MetaData": {"LastUpdatedTime": "2024-01-01T00:00:00-08:00"},
            "PrivateNote": note, "Line": [{"Id": "1", "DetailType": "SalesItemLineDetail", "Amount": Decimal(1),
                                           "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": qty}}]}


def stub(ident: str) -> dict[str, Any]:
    return {"Id": ident, "status": "Deleted", "MetaData": {"LastUpdatedTime": "2024-01-02T00:00:00-08:00"}}


def ITEMS(ids: set[str]) -> set[str]:
    return ids & {"11", "12"}


def test_new_changed_unchanged_and_stale() -> None:
    same = inv("1", "3")
    existing = {"1": Existing("3", content_hash(same)), "2": Existing("1", "x"), "3": Existing("5", "y")}
    plan = plan_entity("Invoice", [same, inv("2", "2"), inv("3", "4"), inv("4")], existing, {}, ITEMS)
    assert [p.id for p in plan.upserts] == ["2", "4"]
    assert (plan.unchanged, plan.stale, plan.deletes, plan.quarantine) == (1, 1, [], [])


def test_same_token_different_content_is_written() -> None:
    old = inv("1", "3")
    plan = plan_entity("Invoice", [inv("1", "3", note="x")], {"1": Existing("3", content_hash(old))}, {}, ITEMS)
    assert [p.id for p in plan.upserts] == ["1"]


def test_last_occurrence_wins_and_stub_deletes() -> None:
    plan = plan_entity("Invoice", [inv("1", "4"), stub("1"), stub("9")], {"1": Existing("3", "h")}, {}, ITEMS)
    assert plan.upserts == [] and plan.deletes == ["1"]  # 9 was never mirrored: nothing to delete


def test_malformed_and_unknown_item_are_quarantined_rest_goes_on() -> None:
    batch = [inv("1", qty="lots"), inv("2", item="99"), inv("3"), {"SyncToken": "0"}]
    plan = plan_entity("Invoice", batch, {}, {}, ITEMS)
    assert [p.id for p in plan.upserts] == ["3"]
    reasons = {q.qbo_id: q.reason for q in plan.quarantine}
    assert "not numeric" in reasons["1"] and reasons["2"] == "unknown Item reference: 99"
    assert any(k.startswith("noid:") and v == "missing Id" for k, v in reasons.items())


def test_same_quarantine_twice_writes_nothing_and_valid_version_releases() -> None:
    bad = inv("1", "0", qty="lots")
    held = {"1": Held("0", "Line[0].SalesItemLineDetail.Qty is not numeric: 'lots'", content_hash(bad))}
    again = plan_entity("Invoice", [bad], {}, held, ITEMS)
    assert again.writes == 0
    fixed = plan_entity("Invoice", [inv("1", "1")], {}, held, ITEMS)
    assert [p.id for p in fixed.upserts] == ["1"] and fixed.release == ["1"]
    deleted = plan_entity("Invoice", [stub("1")], {}, held, ITEMS)
    assert deleted.release == ["1"]


def test_complete_ids_delete_missing_rows_and_release_missing_quarantine() -> None:
    existing = {"1": Existing("0", "a"), "2": Existing("0", "b")}
    held = {"7": Held("0", "r", "h")}
    plan = plan_entity("Invoice", [], existing, held, ITEMS, complete_ids={"1"}, mirror_ids=existing)
    assert plan.deletes == ["2"] and plan.release == ["7"]


def test_quarantine_entry_hash_matches_content() -> None:
    entry = QuarantineEntry("Invoice", "1", "0", "r", inv("1"))
    assert entry.raw_hash == content_hash(inv("1"))
