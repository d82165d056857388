"""Per-realm throttling → 429 with the bodies QBO sends, and what python-quickbooks makes of them (§3)."""

from __future__ import annotations

import threading

import pytest
from quickbooks.exceptions import QuickbooksException, ValidationException
from quickbooks.objects.item import Item
from sandbox_testkit import bearer, company_url, item_id, make_qb, record_statuses


def test_per_second_limit_gives_429_xml_by_default(sandbox, qb):
    iid = item_id(sandbox)
    seen = record_statuses(qb)
    with pytest.raises(QuickbooksException) as err:
        for _ in range(11):
            Item.get(iid, qb=qb)
    assert type(err.value) is QuickbooksException
    assert err.value.error_code == 10000
    assert "ThrottleExceeded" in err.value.message and err.value.message.startswith("Error reading json")
    assert seen[:10] == [200] * 10 and seen[10] == 429


def test_json_throttle_shape_is_validation_exception_3001(make_sandbox):
    sb = make_sandbox(throttle_shape="json", per_second=0, per_minute=3)
    qb = make_qb(sb.info)
    iid = item_id(sb)
    seen = record_statuses(qb)
    for _ in range(3):
        Item.get(iid, qb=qb)
    with pytest.raises(ValidationException) as err:
        Item.get(iid, qb=qb)
    assert err.value.error_code == 3001 and seen[-1] == 429
    # Intuit: "wait 60 seconds before retrying" — the window is on the sandbox clock.
    sb.advance_clock(60)
    assert Item.get(iid, qb=qb).Id == iid


def test_concurrent_requests_beyond_the_limit_get_429(make_sandbox, http):
    sb = make_sandbox(per_second=0, per_minute=0, concurrent=3, latency_ms=300)
    qb = make_qb(sb.info)
    headers = bearer(qb)
    url = company_url(sb.info, f"item/{item_id(sb)}")
    statuses: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        import requests

        with requests.Session() as s:
            s.trust_env = False
            code = s.get(url, headers=headers).status_code
        with lock:
            statuses.append(code)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 200, 200, 429, 429, 429]


def test_limits_are_per_realm(sandbox, http):
    sandbox.set_limits(per_second=0, per_minute=2)
    other = sandbox.add_company(seed=5, items=2, vendors=1, customers=1, invoices=0)
    qb_a = make_qb(sandbox.info)
    qb_b = make_qb(sandbox.info, refresh_token=other["refresh_token"], realm_id=other["realm_id"])
    Item.get(item_id(sandbox), qb=qb_a)
    Item.get(item_id(sandbox), qb=qb_a)
    assert http.get(company_url(sandbox.info, f"item/{item_id(sandbox)}"), headers=bearer(qb_a)).status_code == 429
    other_item = item_id(sandbox, other["realm_id"])
    assert Item.get(other_item, qb=qb_b).Id == other_item


def test_batch_requests_have_their_own_per_minute_limit(sandbox, qb, http):
    sandbox.set_limits(batch_per_minute=1)
    body = {"BatchItemRequest": [{"bId": "q", "Query": "select count(*) from Item"}]}
    assert http.post(company_url(sandbox.info, "batch"), json=body, headers=bearer(qb)).status_code == 200
    assert http.post(company_url(sandbox.info, "batch"), json=body, headers=bearer(qb)).status_code == 429
    assert Item.count(qb=qb)  # other calls are still admitted
