"""``/batch`` (QBO_FACTS.md §3, qbo_samples/qbo_api_vcr/batch__basic.json) and python-quickbooks' BatchManager."""

from __future__ import annotations

import pytest
from quickbooks.batch import batch_create
from quickbooks.exceptions import ValidationException
from quickbooks.objects.vendor import Vendor
from sandbox_testkit import bearer, company_url


def test_mixed_batch_answers_each_item(qb, sandbox, http):
    vendor = Vendor.all(max_results=1, qb=qb)[0]
    body = {"BatchItemRequest": [
        {"bId": "bid1", "operation": "create", "Vendor": {"DisplayName": "Boraski Family Store"}},
        {"bId": "bid2", "operation": "delete", "Invoice": {"Id": "99999", "SyncToken": "0"}},
        {"bId": "bid3", "operation": "update",
         "Vendor": {"sparse": True, "Id": vendor.Id, "SyncToken": "9999", "CompanyName": "x"}},
        {"bId": "bid4", "Query": "select * from Vendor maxresults 2"},
    ]}
    resp = http.post(company_url(sandbox.info, "batch"), params={"minorversion": "75"}, json=body,
                     headers=bearer(qb))
    assert resp.status_code == 200
    doc = resp.json()
    items = {i["bId"]: i for i in doc["BatchItemResponse"]}
    assert [i["bId"] for i in doc["BatchItemResponse"]] == ["bid1", "bid2", "bid3", "bid4"]
    assert items["bid1"]["Vendor"]["DisplayName"] == "Boraski Family Store"
    assert items["bid2"]["Fault"]["Error"][0]["code"] == "610"
    assert items["bid3"]["Fault"]["Error"][0]["code"] == "5010"
    assert items["bid3"]["Fault"]["type"] == "ValidationFault"
    assert len(items["bid4"]["QueryResponse"]["Vendor"]) == 2
    assert "time" in doc


def test_python_quickbooks_batch_create_reports_successes_and_faults(qb):
    good = Vendor()
    good.DisplayName = "Batch Good Vendor"
    dup = Vendor()
    dup.DisplayName = Vendor.all(max_results=1, qb=qb)[0].DisplayName  # duplicate name → 6240 fault
    result = batch_create([good, dup], qb=qb)
    assert [v.DisplayName for v in result.successes] == ["Batch Good Vendor"]
    assert result.successes[0].Id
    assert len(result.faults) == 1 and result.faults[0].Error[0].code == "6240"


def test_more_than_30_items_is_a_fault(qb, sandbox):
    body = {"BatchItemRequest": [{"bId": f"b{i}", "Query": "select * from Item"} for i in range(31)]}
    with pytest.raises(ValidationException):
        qb.batch_operation(__import__("json").dumps(body))
