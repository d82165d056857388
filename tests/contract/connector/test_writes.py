"""Creates carry a requestid on every attempt: replays and lost answers never create twice."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from syncd.connectors.base import QBOError
from syncd.connectors.quickbooks import QuickBooksConnector, dumps_json


def vendor_count(conn: QuickBooksConnector, name: str) -> int:
    return conn.count("Vendor", where=f"DisplayName = '{name}'")


def test_replay_with_the_same_requestid_returns_the_same_object(connector: QuickBooksConnector) -> None:
    name = f"Replay {uuid.uuid4().hex[:8]}"
    rid = uuid.uuid4().hex
    first = connector.create("Vendor", {"DisplayName": name}, request_id=rid)
    second = connector.create("Vendor", {"DisplayName": name}, request_id=rid)
    assert first["Id"] == second["Id"] and first["SyncToken"] == second["SyncToken"]
    assert vendor_count(connector, name) == 1
    # A new requestid is a new create: QBO refuses the duplicate name (6240), proving the first was a replay.
    with pytest.raises(QBOError) as err:
        connector.create("Vendor", {"DisplayName": name}, request_id=uuid.uuid4().hex)
    assert err.value.code == "6240"


@pytest.mark.parametrize("kind", ["after_write", "after_write_drop", "500", "drop"])
def test_create_converges_to_exactly_one_object_under_faults(
        connector: QuickBooksConnector, sandbox: Any, kind: str) -> None:
    connector.count("Vendor")  # token refresh out of the way
    name = f"Faulty {kind} {uuid.uuid4().hex[:6]}"
    sandbox.inject_fault(kind, 2)
    before = connector.stats
    created = connector.create("Vendor", {"DisplayName": name}, request_id=uuid.uuid4().hex)
    delta = connector.stats - before
    assert created["DisplayName"] == name
    assert delta.retries == 2 and delta.calls == 3
    assert vendor_count(connector, name) == 1


def test_every_attempt_carries_the_same_requestid(connector: QuickBooksConnector, sandbox: Any) -> None:
    connector.count("Vendor")
    seen: list[str] = []
    connector._transport.session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request.url or ""))
    sandbox.inject_fault("after_write", 1)
    rid = "rid-" + uuid.uuid4().hex
    connector.create("Vendor", {"DisplayName": f"Same id {rid[-6:]}"}, request_id=rid)
    assert len(seen) == 2
    assert all(f"requestid={rid}" in url and "minorversion=75" in url for url in seen)


def test_decimal_amounts_round_trip_exactly(connector: QuickBooksConnector) -> None:
    item = connector.create("Item", {
        "Name": f"Precise {uuid.uuid4().hex[:8]}", "Type": "NonInventory", "UnitPrice": Decimal("19.99"),
        "IncomeAccountRef": {"value": connector.query_page(
            "Account", where="AccountType = 'Income'", max_results=1)[0]["Id"]},
    }, request_id=uuid.uuid4().hex)
    assert item["UnitPrice"] == Decimal("19.99") and type(item["UnitPrice"]) is Decimal
    assert connector.read("Item", item["Id"])["UnitPrice"] == Decimal("19.99")


def test_floats_and_bad_arguments_are_refused_before_any_request(connector: QuickBooksConnector) -> None:
    before = connector.stats
    with pytest.raises(TypeError):
        connector.create("Vendor", {"DisplayName": "x", "Balance": 1.5}, request_id="r1")
    with pytest.raises(ValueError):
        connector.create("Vendor", {"DisplayName": "x"}, request_id="r" * 51)
    with pytest.raises(ValueError):
        connector.read("Vendor", "1 OR 1")
    assert (connector.stats - before).calls == 0
    assert dumps_json({"a": [Decimal("1.10"), 2, None, True]}) == '{"a":[1.10,2,null,true]}'
