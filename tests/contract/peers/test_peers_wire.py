"""The sandbox answers the QuickBooks connectors users pick instead of syncd exactly as QBO would.

The requests below are the ones ``airbyte-source-quickbooks`` 4.0.4 (``source_quickbooks/manifest.yaml`` on
airbyte-cdk 4.6) and ``tap-quickbooks`` 2.5.0 (singer-io: ``tap_quickbooks/client.py``, ``query_builder.py``,
``sync.py``) send, byte for byte in what matters: form-body client credentials at the token endpoint, ``GET
/query`` without ``minorversion`` with their WHERE/ORDER BY/STARTPOSITION text, and ``POST /batch`` holding one
``Query`` per stream with a loop that stops when no answer carries ``maxResults``. ``bench/bench_sync.py`` runs the
real packages (installed from PyPI into their own venvs); these tests need no network and pin the wire shapes.
The last test checks the benchmark's redirect shim, which sends their hard-coded Intuit URLs to the sandbox.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from sandbox_testkit import company_url

from syncd.sandbox.app import Sandbox

REPO = Path(__file__).resolve().parents[3]
NAME_LISTS = {"Account", "Vendor", "Customer", "Item"}


def _form_token(http, sandbox: Sandbox) -> dict:
    """Airbyte's OAuthAuthenticator: client_id and client_secret in the form body, no Authorization header."""
    info = sandbox.info
    answer = http.post(info["base_url"] + "/oauth2/v1/tokens/bearer", timeout=30, data={
        "grant_type": "refresh_token", "client_id": info["client_id"], "client_secret": info["client_secret"],
        "refresh_token": info["refresh_token"]})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_token_refresh_with_form_body_client_credentials(sandbox, http):
    doc = _form_token(http, sandbox)
    assert doc["token_type"] == "bearer" and doc["expires_in"] == 3600
    assert doc["refresh_token"] != sandbox.info["refresh_token"]  # rotated, as QBO does


def test_token_refresh_with_wrong_form_secret_is_invalid_client(sandbox, http):
    info = sandbox.info
    answer = http.post(info["base_url"] + "/oauth2/v1/tokens/bearer", timeout=30, data={
        "grant_type": "refresh_token", "client_id": info["client_id"], "client_secret": "nope",
        "refresh_token": info["refresh_token"]})
    assert answer.status_code in (400, 401)
    assert answer.json()["error"] == "invalid_client"


def _airbyte_query(entity: str, start: int, page: int) -> str:
    # manifest.yaml, with stream_slice start/end rendered as the connector renders them (+00:00 offsets).
    active = " AND Active IN (true, false)" if entity in NAME_LISTS else ""
    return (f"SELECT * FROM {entity} WHERE Metadata.LastUpdatedTime > '2000-01-01T00:00:00+00:00' AND "
            f"Metadata.LastUpdatedTime <= '2100-01-01T00:00:00+00:00'{active} ORDER BY Metadata.LastUpdatedTime "
            f"ASC STARTPOSITION {start} MAXRESULTS {page}")


def test_airbyte_get_queries_without_minorversion_page_through_everything(sandbox, http):
    token = _form_token(http, sandbox)["access_token"]
    headers = {"Authorization": "Bearer " + token, "Accept": "application/json", "User-Agent": "airbyte-connector"}
    realm = sandbox.info["realm_id"]
    for entity in ("Item", "Invoice", "Customer"):
        truth = sandbox.store.query(realm, f"SELECT COUNT(*) FROM {entity}"
                                           f"{' WHERE Active IN (true, false)' if entity in NAME_LISTS else ''}")
        got: list[dict] = []
        offset, page = 0, 7
        while True:  # airbyte-cdk OffsetIncrement: stop on a short page
            answer = http.get(company_url(sandbox.info, "query"), headers=headers, timeout=30,
                              params={"query": _airbyte_query(entity, offset + 1, page)})
            assert answer.status_code == 200, answer.text
            rows = answer.json()["QueryResponse"].get(entity, [])
            got += rows
            if len(rows) < page:
                break
            offset += len(rows)
        assert len({r["Id"] for r in got}) == len(got) == truth["totalCount"]
        stamps = [r["MetaData"]["LastUpdatedTime"] for r in got]
        assert stamps == sorted(stamps, key=datetime.fromisoformat)


def test_singer_batch_of_queries_per_stream_until_no_answer_has_max_results(sandbox, http):
    token = _form_token(http, sandbox)["access_token"]
    headers = {"Authorization": "Bearer " + token, "Accept": "application/json",
               "User-Agent": "tap-quickbooks", "Content-Type": "application/json"}
    realm = sandbox.info["realm_id"]
    streams = {"Item": "Active IN (true, false)", "Invoice": None, "Vendor": "Active IN (true, false)",
               "Bill": None}
    start = dict.fromkeys(streams, 1)
    got: dict[str, set[str]] = {e: set() for e in streams}
    requests_made = 0
    while True:  # tap_quickbooks.sync.sync_batch_streams
        query = {"BatchItemRequest": [
            {"bId": e, "Query": f"SELECT * FROM {e} WHERE Metadata.LastUpdatedTime >= '2000-01-01T00:00:00Z'"
                                f"{' AND ' + w if w else ''} ORDER BY Metadata.LastUpdatedTime ASC "
                                f"STARTPOSITION {start[e]} MAXRESULTS 10"} for e, w in streams.items()]}
        answer = http.post(company_url(sandbox.info, "batch") + "?minorversion=75", headers=headers,
                           data=json.dumps(query), timeout=30)
        requests_made += 1
        assert answer.status_code == 200, answer.text
        items = answer.json()["BatchItemResponse"]
        if not [r for r in items if r.get("QueryResponse", {}).get("maxResults")]:
            break
        for r in items:
            keys = r.get("QueryResponse", {}).keys() - {"startPosition", "maxResults", "totalCount"}
            if keys:
                entity = next(iter(keys))
                assert entity == r["bId"]
                rows = r["QueryResponse"][entity]
                got[entity] |= {row["Id"] for row in rows}
                start[entity] += len(rows)
        assert requests_made < 100
    for entity, where in streams.items():
        truth = sandbox.store.query(realm, f"SELECT COUNT(*) FROM {entity}{' WHERE ' + where if where else ''}")
        assert len(got[entity]) == truth["totalCount"]


def test_redirect_shim_sends_intuit_hosts_to_the_sandbox(sandbox):
    """bench/peers/redirect/sitecustomize.py, loaded by Python at start-up from PYTHONPATH."""
    info = sandbox.info
    code = f"""
import json, requests
t = requests.post("https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer", timeout=30, data={{
    "grant_type": "refresh_token", "refresh_token": {info['refresh_token']!r},
    "client_id": {info['client_id']!r}, "client_secret": {info['client_secret']!r}}}).json()
q = requests.get("https://quickbooks.api.intuit.com/v3/company/{info['realm_id']}/query", timeout=30,
                 params={{"query": "SELECT COUNT(*) FROM Item"}},
                 headers={{"Authorization": "Bearer " + t["access_token"], "Accept": "application/json"}}).json()
try:
    requests.get("https://example.com/", timeout=5)
    refused = False
except requests.exceptions.ConnectionError as exc:
    refused = "bench redirect" in str(exc)
print(json.dumps({{"count": q["QueryResponse"]["totalCount"], "refused": refused}}))
"""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO / "bench" / "peers" / "redirect"),
           "BENCH_QBO_BASE": info["base_url"]}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                         check=True)
    doc = json.loads(out.stdout)
    assert doc["count"] == sandbox.store.query(info["realm_id"], "SELECT COUNT(*) FROM Item")["totalCount"]
    assert doc["refused"] is True
