"""CDC: one request, every QueryResponse element merged, truncation flagged, server time kept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import responses
from connector_doubles import MemoryTokenStore, company_config

from syncd.connectors.base import QBOError
from syncd.connectors.oauth import TokenManager
from syncd.connectors.quickbooks import QuickBooksConnector
from syncd.connectors.ratelimit import RealmLimiter


def test_cdc_returns_changes_since_and_server_time(connector: QuickBooksConnector, sandbox: Any) -> None:
    before = connector.stats
    start = connector.cdc(["Vendor"], datetime.now(UTC) - timedelta(days=1)).server_time
    created = connector.create("Vendor", {"DisplayName": f"CDC vendor {uuid.uuid4().hex[:8]}"},
                               request_id=uuid.uuid4().hex)
    result = connector.cdc(["Vendor", "Item"], start - timedelta(seconds=1))
    assert set(result.objects) >= {"Vendor", "Item"}
    assert [v["Id"] for v in result.objects["Vendor"]] == [created["Id"]]
    assert result.objects["Item"] == []
    assert result.truncated is False
    assert result.server_time.tzinfo is not None and result.server_time >= start
    assert (connector.stats - before).calls == 3  # one request per call


def test_cdc_requires_an_aware_timestamp(connector: QuickBooksConnector) -> None:
    with pytest.raises(ValueError):
        connector.cdc(["Item"], datetime(2024, 1, 1))


def test_cdc_unsupported_entity_is_a_qbo_error(connector: QuickBooksConnector) -> None:
    with pytest.raises(QBOError) as err:
        connector.cdc(["TaxCode"], datetime.now(UTC) - timedelta(days=1))
    assert err.value.code == "4001"


@pytest.mark.parametrize("sandbox_options", [{"items": 700, "invoices": 350}])
def test_cdc_at_the_1000_object_cap_is_truncated(connector: QuickBooksConnector) -> None:
    # The seed spreads LastUpdatedTime over months; the sandbox (like QBO in 2020) serves a longer look-back.
    result = connector.cdc(["Item", "Invoice"], datetime(2000, 1, 1, tzinfo=UTC))
    assert sum(len(v) for v in result.objects.values()) == 1000
    assert result.truncated is True


# The sandbox never splits one entity over several QueryResponse elements, but QBO does (a deleted Bill in its
# own element, QBO_FACTS §2), and python-quickbooks then keeps only the last one. This wire shape is replayed
# with `responses` (STYLE habit 10: `responses` only for rare wire-level shapes).
SPLIT_CDC = (
    '{"CDCResponse":[{"QueryResponse":['
    '{"Bill":[{"Id":"1","SyncToken":"0","TotalAmt":10.10,"MetaData":{"LastUpdatedTime":"2024-05-01T10:00:00-07:00"}}],'
    '"startPosition":1,"maxResults":1},'
    '{"Item":[{"Id":"7","QtyOnHand":3}],"startPosition":1,"maxResults":1},'
    '{"Bill":[{"status":"Deleted","domain":"QBO","Id":"2","MetaData":{"LastUpdatedTime":"2024-05-01T11:00:00-07:00"}}],'
    '"startPosition":1,"maxResults":1,"totalCount":1}'
    ']}],"time":"2024-05-01T12:00:00.123-07:00"}'
)


@responses.activate
def test_cdc_merges_an_entity_split_over_several_query_responses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCD_TEST_QBO_CLIENT_SECRET", "s")
    info = {"realm_id": "123", "client_id": "cid", "discovery_url": "https://oauth.example.test/disc",
            "api_base": "https://qbo.example.test/v3", "redirect_uri": "https://app.example.test/cb"}
    cfg = company_config(info)
    store = MemoryTokenStore()
    from syncd.connectors.base import TokenState

    store.states[cfg.name] = TokenState("at", datetime.now(UTC) + timedelta(hours=1), "rt", None)
    tokens = TokenManager(cfg, store, auth_client_factory=lambda: pytest.fail("no refresh expected"))
    conn = QuickBooksConnector(cfg, store, limiter=RealmLimiter(100, 2), token_manager=tokens)
    responses.get("https://qbo.example.test/v3/company/123/cdc", body=SPLIT_CDC,
                  content_type="application/json;charset=utf-8")
    result = conn.cdc(["Bill", "Item"], datetime(2024, 5, 1, 9, tzinfo=timezone(timedelta(hours=-7))))
    assert [o["Id"] for o in result.objects["Bill"]] == ["1", "2"]
    assert result.objects["Bill"][1]["status"] == "Deleted"
    assert result.objects["Bill"][0]["TotalAmt"] == Decimal("10.10")
    assert result.objects["Item"][0]["QtyOnHand"] == 3  # integers stay int (exact), fractions are Decimal
    assert result.server_time == datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=timezone(timedelta(hours=-7)))
    sent = responses.calls[0].request
    assert "changedSince=2024-05-01T09%3A00%3A00-07%3A00" in sent.url  # offset kept, '+'/':' encoded
    assert "entities=Bill%2CItem" in sent.url and "minorversion=75" in sent.url
