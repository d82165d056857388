"""Wire-level shapes of the /v3 API: envelopes, headers and the real QBO error bodies for bad input."""

from __future__ import annotations

import re
import uuid

import pytest
from quickbooks.exceptions import UnsupportedException, ValidationException
from quickbooks.objects.item import Item
from sandbox_testkit import bearer, company_url, item_id

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-0[78]:00$")


def test_success_envelope_and_headers(qb, sandbox, http):
    resp = http.get(company_url(sandbox.info, f"item/{item_id(sandbox)}"), params={"minorversion": "75"}, headers=bearer(qb))
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json;charset=utf-8"
    assert re.fullmatch(r"1-[0-9a-f]{8}-[0-9a-f]{24}", resp.headers["Intuit-Tid"])
    assert resp.headers["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    assert int(resp.headers["Content-Length"]) == len(resp.content)
    body = resp.json()
    assert set(body) == {"Item", "time"} and body["Item"]["Id"] == item_id(sandbox)
    assert TIME_RE.match(body["time"])


def test_query_posted_as_application_text_like_python_quickbooks(qb, sandbox, http):
    resp = http.post(company_url(sandbox.info, "query"), data="SELECT COUNT(*) FROM Item",
                     headers={**bearer(qb), "Content-Type": "application/text"})
    assert resp.status_code == 200
    assert resp.json()["QueryResponse"]["totalCount"] == Item.count(qb=qb) > 0


def test_unknown_path_and_entity_are_400_unsupported_operation(qb, sandbox, http):
    for suffix in ("customer/1/5", "widget", "widget/1", "reports/Nope/x"):
        resp = http.get(company_url(sandbox.info, suffix), headers=bearer(qb))
        assert resp.status_code == 400, suffix
        assert resp.headers["Content-Type"] == "application/json"
        err = resp.json()["Fault"]["Error"][0]
        assert (err["code"], err["Message"]) == ("500", "Unsupported Operation")
        assert "Could not find resource for relative : /v3/company/" in err["Detail"]
    with pytest.raises(UnsupportedException):
        qb.get(company_url(sandbox.info, "widget"))


def test_non_numeric_id_is_2030(qb, sandbox, http):
    resp = http.get(company_url(sandbox.info, "customer/1.5"), headers=bearer(qb))
    assert resp.status_code == 400
    assert resp.json()["Fault"]["Error"][0] == {"Message": "Invalid ID", "code": "2030", "element": "Id",
                                                "Detail": "Id should be a valid number. Supplied value:1.5"}


def test_malformed_json_body_is_a_400_fault(qb, sandbox, http):
    resp = http.post(company_url(sandbox.info, "item"), data='{"Name": "x",',
                     headers={**bearer(qb), "Content-Type": "application/json"})
    assert resp.status_code == 400
    fault = resp.json()["Fault"]
    assert fault["type"] == "ValidationFault" and fault["Error"][0]["code"] == "2010"
    with pytest.raises(ValidationException):
        qb.post(company_url(sandbox.info, "item"), "[1, 2")


def test_bad_query_is_4001(qb, sandbox, http):
    resp = http.get(company_url(sandbox.info, "query"), params={"query": "SELECT * FROM Custmoer"},
                    headers=bearer(qb))
    assert resp.status_code == 400
    err = resp.json()["Fault"]["Error"][0]
    assert (err["code"], err["Message"]) == ("4001", "Invalid query")
    with pytest.raises(ValidationException) as exc:
        qb.query("SELECT * FROM Item MAXRESULTS 1500")
    assert exc.value.error_code == 4001


def test_unexpected_error_is_a_system_fault_not_a_traceback(qb, sandbox, http, monkeypatch, caplog):
    marker = uuid.uuid4().hex

    def boom(realm, entity, body):
        raise RuntimeError(f"cannot store {body}")  # a bug whose message quotes the request body

    monkeypatch.setattr(sandbox.store, "create", boom)
    resp = http.post(company_url(sandbox.info, "vendor"), json={"DisplayName": marker}, headers=bearer(qb))
    assert resp.status_code == 500
    assert 'code="10000"' in resp.text and "SystemFault" in resp.text
    assert "Traceback" not in resp.text and marker not in resp.text
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged and marker not in logged
    assert qb.auth_client.access_token not in logged
    # The connection and the server survive.
    monkeypatch.undo()
    assert http.get(company_url(sandbox.info, f"item/{item_id(sandbox)}"), headers=bearer(qb)).status_code == 200


def test_stats_count_calls_per_realm_and_kind(qb, sandbox, http):
    http.post(sandbox.info["control_url"] + "/stats", json={"reset": True})
    Item.count(qb=qb)
    Item.get(item_id(sandbox), qb=qb)
    http.get(company_url(sandbox.info, "nope"), headers=bearer(qb))
    stats = http.get(sandbox.info["control_url"] + "/stats").json()["realms"][sandbox.info["realm_id"]]
    assert stats["total"] == 3
    assert (stats["query"], stats["read"], stats["unsupported"]) == (1, 1, 1)
    assert (stats["http_200"], stats["http_400"]) == (2, 1)


def test_control_endpoints_steer_the_clock_and_faults(sandbox, http):
    ctl = sandbox.info["control_url"]
    before = sandbox.clock.timestamp()
    assert http.post(ctl + "/clock", json={"advance_seconds": 120}).status_code == 200
    assert sandbox.clock.timestamp() - before >= 120
    doc = http.post(ctl + "/faults", json={"latency_ms": 5, "rate": 0.25, "kinds": ["503"]}).json()
    assert (doc["latency_ms"], doc["fault_rate"], doc["kinds"]) == (5, 0.25, ["503"])
    assert http.post(ctl + "/faults", json={"kinds": ["bogus"]}).status_code == 400
    info = http.get(ctl + "/info").json()
    assert info["realm_id"] == sandbox.info["realm_id"] and info["realm_id"] in info["realms"]
