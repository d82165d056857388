"""``requestid`` replay (QBO_FACTS.md §4), including the daemon's case: the write happened, the answer was lost."""

from __future__ import annotations

import pytest
import requests
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.vendor import Vendor
from sandbox_testkit import bearer, company_url


def _vendor(name: str) -> Vendor:
    v = Vendor()
    v.DisplayName = name
    return v


def _count(qb, name: str) -> int:
    return len(Vendor.filter(DisplayName=name, qb=qb))


def test_repeated_requestid_replays_the_first_response(qb, sandbox, http):
    url = company_url(sandbox.info, "vendor")
    params = {"minorversion": "75", "requestid": "rid-1"}
    first = http.post(url, params=params, json={"DisplayName": "Replay Supply"}, headers=bearer(qb))
    second = http.post(url, params=params, json={"DisplayName": "Replay Supply"}, headers=bearer(qb))
    assert first.status_code == second.status_code == 200
    assert first.json()["Vendor"] == second.json()["Vendor"]
    assert first.content == second.content  # byte for byte, "time" included
    assert _count(qb, "Replay Supply") == 1
    stats = http.get(sandbox.info["control_url"] + "/stats").json()["realms"][sandbox.info["realm_id"]]
    assert stats["replayed"] == 1


def test_requestid_is_per_realm_and_a_new_id_writes_again(qb, sandbox):
    a = _vendor("Twice Co").save(qb=qb, request_id="rid-a")
    with pytest.raises(QuickbooksException):  # same name, new requestid: a real second write → 6240
        _vendor("Twice Co").save(qb=qb, request_id="rid-b")
    assert _count(qb, "Twice Co") == 1 and a.Id


def test_after_write_fault_then_retry_with_same_requestid_creates_once(qb, sandbox):
    sandbox.inject_fault("after_write")
    with pytest.raises(QuickbooksException) as err:  # 500 SystemFault (XML) after the vendor was created
        _vendor("Lost Answer Ltd").save(qb=qb, request_id="po-42")
    assert err.value.error_code == 10000
    assert _count(qb, "Lost Answer Ltd") == 1  # the write did happen
    retried = _vendor("Lost Answer Ltd").save(qb=qb, request_id="po-42")
    assert retried.Id and _count(qb, "Lost Answer Ltd") == 1


def test_dropped_answer_after_write_then_retry(qb, sandbox):
    sandbox.inject_fault("after_write_drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        _vendor("Dropped Answer Inc").save(qb=qb, request_id="po-43")
    retried = _vendor("Dropped Answer Inc").save(qb=qb, request_id="po-43")
    assert retried.Id and _count(qb, "Dropped Answer Inc") == 1


def test_fault_before_write_is_not_remembered(qb, sandbox):
    sandbox.inject_fault("503")
    with pytest.raises(QuickbooksException):
        _vendor("Never Written").save(qb=qb, request_id="po-44")
    assert _count(qb, "Never Written") == 0
    assert _vendor("Never Written").save(qb=qb, request_id="po-44").Id
    assert _count(qb, "Never Written") == 1


def test_requestid_longer_than_50_characters_is_rejected(qb, sandbox, http):
    resp = http.post(company_url(sandbox.info, "vendor"), params={"requestid": "x" * 51},
                     json={"DisplayName": "Long Rid"}, headers=bearer(qb))
    assert resp.status_code == 400 and resp.json()["Fault"]["Error"][0]["code"] == "6000"
