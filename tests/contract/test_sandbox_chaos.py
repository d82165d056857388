"""Injected latency and faults: each kind as a client sees it, and the same seed giving the same faults."""

from __future__ import annotations

import time

import pytest
import requests
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.item import Item
from sandbox_testkit import bearer, company_url, item_id, make_qb


def _outcomes(sb, n: int) -> list[str]:
    qb = make_qb(sb.info)
    headers = bearer(qb)
    url = company_url(sb.info, f"item/{item_id(sb)}")
    out = []
    for _ in range(n):
        with requests.Session() as s:
            s.trust_env = False
            try:
                out.append(str(s.get(url, headers=headers, timeout=2).status_code))
            except requests.exceptions.ConnectionError:
                out.append("drop")
    return out


def test_faults_are_reproducible_by_seed(make_sandbox):
    opts = {"fault_rate": 0.5, "fault_kinds": ("500", "503", "drop"), "per_second": 0}
    first = _outcomes(make_sandbox(seed=11, **opts), 24)
    again = _outcomes(make_sandbox(seed=11, **opts), 24)
    other = _outcomes(make_sandbox(seed=12, **opts), 24)
    assert first == again
    assert first != other
    assert {"200", "500", "503", "drop"} <= set(first) | set(other)


def test_each_fault_kind_as_the_client_sees_it(sandbox, qb, http):
    url = company_url(sandbox.info, f"item/{item_id(sandbox)}")
    sandbox.inject_fault("500")
    with pytest.raises(QuickbooksException) as err:
        Item.get(item_id(sandbox), qb=qb)
    assert err.value.error_code == 10000 and "SystemFault" in err.value.message

    sandbox.inject_fault("503")
    assert http.get(url, headers=bearer(qb)).status_code == 503

    sandbox.inject_fault("drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        http.get(url, headers=bearer(qb))

    sandbox.set_faults(0.0, timeout_hold_s=1.0)
    sandbox.inject_fault("timeout")
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(url, headers=bearer(qb), timeout=0.3)
    assert time.monotonic() - started < 1.0
    time.sleep(0.8)  # the held request is dropped, not answered late
    assert http.get(url, headers=bearer(qb)).status_code == 200


def test_latency_is_applied(sandbox, qb, http):
    sandbox.set_latency(150)
    started = time.monotonic()
    assert http.get(company_url(sandbox.info, f"item/{item_id(sandbox)}"), headers=bearer(qb)).status_code == 200
    assert time.monotonic() - started >= 0.15


def test_after_write_kinds_spare_reads(sandbox, qb):
    sandbox.set_faults(1.0, kinds=["after_write"])
    iid = item_id(sandbox)
    assert Item.get(iid, qb=qb).Id == iid  # a read cannot get an after-write fault
