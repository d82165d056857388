"""OAuth as intuit-oauth 1.2.6 and python-quickbooks 0.9.12 experience it (QBO_FACTS.md §7)."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks.exceptions import AuthorizationException
from quickbooks.objects.item import Item
from sandbox_testkit import auth_client, bearer, company_url, item_id, make_qb

REQUIRED_DISCOVERY_KEYS = {"authorization_endpoint", "token_endpoint", "revocation_endpoint", "issuer",
                           "jwks_uri", "userinfo_endpoint"}


def test_discovery_document_has_every_key_intuitlib_reads(sandbox, http):
    doc = http.get(sandbox.info["discovery_url"]).json()
    assert REQUIRED_DISCOVERY_KEYS <= doc.keys()
    assert doc["token_endpoint_auth_methods_supported"] == ["client_secret_post", "client_secret_basic"]
    assert doc["token_endpoint"].startswith(sandbox.info["base_url"])
    ac = auth_client(sandbox.info)
    assert ac.token_endpoint == doc["token_endpoint"]
    assert ac.revoke_endpoint == doc["revocation_endpoint"]


def test_refresh_rotates_and_old_token_works_only_during_grace(sandbox):
    info = sandbox.info
    first = info["refresh_token"]
    qb = make_qb(info)  # python-quickbooks refreshes at construction
    second = qb.refresh_token
    assert second != first
    assert qb.auth_client.expires_in == 3600
    assert qb.auth_client.x_refresh_token_expires_in == 8726400
    assert Item.count(qb=qb) is not None

    sandbox.advance_clock(23 * 3600)  # inside the 24 h grace
    ac = auth_client(info)
    ac.refresh(refresh_token=first)
    assert ac.refresh_token not in (first, second)

    sandbox.advance_clock(3600 + 1)  # 24 h since ``first`` was superseded: grace over
    with pytest.raises(AuthClientError) as err:
        auth_client(info).refresh(refresh_token=first)
    assert err.value.status_code == 400
    assert json.loads(err.value.content) == {"error_description": "Incorrect or invalid refresh token",
                                             "error": "invalid_grant"}
    # The newest token still works.
    fresh = auth_client(info)
    fresh.refresh(refresh_token=ac.refresh_token)
    assert fresh.access_token


def test_bad_client_credentials_are_401_invalid_client(sandbox):
    info = dict(sandbox.info, client_secret="wrong")
    with pytest.raises(AuthClientError) as err:
        auth_client(info).refresh(refresh_token=sandbox.info["refresh_token"])
    assert err.value.status_code == 401
    assert json.loads(err.value.content) == {"error": "invalid_client"}


def test_form_body_credentials_and_get_query_without_minorversion(sandbox, http):
    """The shape the Singer and Airbyte QuickBooks connectors use: client_secret_post, then GET ?query=."""
    info = sandbox.info
    token_endpoint = http.get(info["discovery_url"]).json()["token_endpoint"]
    resp = http.post(token_endpoint, data={"grant_type": "refresh_token", "refresh_token": info["refresh_token"],
                                           "client_id": info["client_id"],
                                           "client_secret": info["client_secret"]},
                     headers={"Accept": "application/json"})
    assert resp.status_code == 200
    tokens = resp.json()
    assert tokens["token_type"] == "bearer" and "id_token" not in tokens
    assert set(tokens) == {"token_type", "expires_in", "refresh_token", "x_refresh_token_expires_in",
                           "access_token"}
    assert "intuit_tid" in resp.headers
    query = http.get(company_url(info, "query"), params={"query": "select * from Item maxresults 3"},
                     headers={"Authorization": "Bearer " + tokens["access_token"], "Accept": "application/json"})
    assert query.status_code == 200
    assert query.headers["Content-Type"] == "application/json;charset=utf-8"
    assert "Intuit-Tid" in query.headers
    body = query.json()
    assert len(body["QueryResponse"]["Item"]) == 3 and body["time"]


def test_authorization_code_flow(sandbox, http):
    info = sandbox.info
    ac = auth_client(info)
    url = ac.get_authorization_url([Scopes.ACCOUNTING], state_token="st-123")
    resp = http.get(url, allow_redirects=False)
    assert resp.status_code == 302
    location = urlsplit(resp.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == info["redirect_uri"]
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert params["state"] == "st-123" and params["realmId"] == info["realm_id"]
    ac.get_bearer_token(params["code"], realm_id=params["realmId"])
    assert ac.access_token and ac.refresh_token
    ok = http.get(company_url(info, "query"), params={"query": "select count(*) from Item"},
                  headers={"Authorization": "Bearer " + ac.access_token, "Accept": "application/json"})
    assert ok.status_code == 200
    # Codes are single-use.
    with pytest.raises(AuthClientError) as err:
        auth_client(info).get_bearer_token(params["code"])
    assert err.value.status_code == 400 and json.loads(err.value.content)["error"] == "invalid_grant"


def test_authorization_code_needs_the_same_redirect_uri(sandbox, http):
    info = sandbox.info
    resp = http.get(auth_client(info).get_authorization_url([Scopes.ACCOUNTING]), allow_redirects=False)
    code = parse_qs(urlsplit(resp.headers["Location"]).query)["code"][0]
    basic = base64.b64encode(f"{info['client_id']}:{info['client_secret']}".encode()).decode()
    bad = http.post(http.get(info["discovery_url"]).json()["token_endpoint"],
                    data={"grant_type": "authorization_code", "code": code, "redirect_uri": "http://evil/cb"},
                    headers={"Authorization": "Basic " + basic})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"


def test_expired_access_token_is_the_recorded_401(sandbox, http):
    qb = make_qb(sandbox.info)
    assert Item.count(qb=qb)
    sandbox.advance_clock(3601)
    with pytest.raises(AuthorizationException) as err:
        Item.count(qb=qb)
    assert err.value.error_code == 401
    assert '"code":"3200"' in err.value.detail.replace(" ", "")
    raw = http.get(company_url(sandbox.info, f"item/{item_id(sandbox)}"), headers=bearer(qb))
    assert raw.status_code == 401
    assert raw.headers["Www-Authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'
    fault = raw.json()["fault"]
    assert fault["type"] == "AUTHENTICATION" and fault["error"][0]["detail"].startswith("Token expired")
    assert isinstance(raw.json()["time"], int)
    # A refresh (the daemon's reaction) restores access.
    qb.auth_client.refresh()
    qb._start_session()
    assert Item.count(qb=qb)


def test_malformed_bearer_token(sandbox, http):
    raw = http.get(company_url(sandbox.info, f"item/{item_id(sandbox)}"), headers={"Authorization": "Bearer x"})
    assert raw.status_code == 401
    assert raw.json()["fault"]["error"][0]["detail"] == "Malformed bearer token: too short or too long"


def test_revoke_invalidates_refresh_and_access_tokens(sandbox):
    qb = make_qb(sandbox.info)
    assert Item.count(qb=qb)
    assert qb.auth_client.revoke(token=qb.refresh_token) is True
    with pytest.raises(AuthorizationException):
        Item.count(qb=qb)
    with pytest.raises(AuthClientError) as err:
        auth_client(sandbox.info).refresh(refresh_token=qb.refresh_token)
    assert err.value.status_code == 400


def test_second_company_has_its_own_refresh_token_and_realm_isolation(sandbox, http):
    other = sandbox.add_company(seed=7, items=3, vendors=1, customers=1, invoices=0)
    assert other["realm_id"] != sandbox.info["realm_id"]
    qb_other = make_qb(sandbox.info, refresh_token=other["refresh_token"], realm_id=other["realm_id"])
    assert Item.count(qb=qb_other) == 3
    # A token of one company used on the other: 401 XML AuthenticationFault code 100.
    wrong = http.get(company_url(sandbox.info, f"item/{item_id(sandbox)}"), headers=bearer(qb_other))
    assert wrong.status_code == 401
    assert wrong.headers["Content-Type"].startswith("application/xml")
    assert 'code="100"' in wrong.text and "AuthenticationFault" in wrong.text
    unknown = http.get(company_url(sandbox.info, "item/1", realm_id="123"), headers=bearer(qb_other))
    assert unknown.status_code == 401 and 'code="100"' in unknown.text


def test_token_endpoint_is_not_throttled(make_sandbox, http):
    sb = make_sandbox(per_second=1, per_minute=2)
    token = sb.info["refresh_token"]
    for _ in range(5):
        ac = auth_client(sb.info)
        ac.refresh(refresh_token=token)
        token = ac.refresh_token
    assert http.get(sb.info["control_url"] + "/stats").json()["oauth"]["token"] == 5
