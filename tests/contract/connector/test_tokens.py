"""OAuth against the sandbox's token endpoint: refresh ahead of expiry, on 401, rotation saved before use,
invalid_grant, and the authorization-code grant `syncd auth` will drive."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from connector_doubles import COMPANY, ConnectorFactory, Event, MemoryTokenStore, WallClock, company_config

from syncd.connectors.oauth import authorization_url, exchange_code
from syncd.connectors.quickbooks import QuickBooksConnector
from syncd.errors import AuthError, render


def api_events(store: MemoryTokenStore) -> list[Event]:
    return [e for e in store.events if e.kind == "api"]


def assert_saved_before_used(store: MemoryTokenStore) -> None:
    """Every access token an API call carried, and every refresh token, was saved before it was used."""
    saved_access: set[str | None] = set()
    for event in store.events:
        if event.kind == "save":
            saved_access.add(event.access_token)
        elif event.kind == "api":
            assert event.access_token in saved_access, "an API call used a token the store had not saved"


def test_first_call_refreshes_and_saves_the_rotated_token_before_using_it(
        connector: QuickBooksConnector, store: MemoryTokenStore, sandbox: Any) -> None:
    initial_refresh = store.states[COMPANY].refresh_token
    connector.count("Item")
    kinds = [e.kind for e in store.events]
    assert kinds == ["token", "save", "api"]
    saved = store.states[COMPANY]
    assert saved.refresh_token != initial_refresh  # the sandbox rotates on every refresh
    assert saved.access_expires_at is not None and saved.refresh_expires_at is not None
    assert api_events(store)[0].access_token == saved.access_token
    assert connector.tokens() == saved


def test_refresh_ahead_of_expiry_without_a_401(
        make_connector: ConnectorFactory, store: MemoryTokenStore, wall_clock: WallClock) -> None:
    conn = make_connector(clock=wall_clock)
    conn.count("Item")
    conn.count("Item")
    assert len(store.saves()) == 1  # still fresh: no second refresh
    first = store.states[COMPANY]
    wall_clock.advance(3600 - 4 * 60)  # inside the 5-minute margin; the sandbox would still accept the token
    conn.count("Item")
    second = store.states[COMPANY]
    assert len(store.saves()) == 2
    assert second.access_token != first.access_token and second.refresh_token != first.refresh_token
    assert [e.status for e in api_events(store)] == [200, 200, 200]  # proactive: never a 401
    assert conn.stats.refreshes_on_401 == 0
    assert_saved_before_used(store)


def test_401_refreshes_once_and_retries_once(
        connector: QuickBooksConnector, store: MemoryTokenStore, sandbox: Any) -> None:
    connector.count("Item")
    sandbox.advance_clock(3700)  # the access token is now expired at the server; our clock says it is fresh
    before = connector.stats
    assert connector.count("Item") > 0
    assert [e.status for e in api_events(store)][-2:] == [401, 200]
    assert (connector.stats - before).refreshes_on_401 == 1
    assert len(store.saves()) == 2
    assert_saved_before_used(store)


def test_revoked_access_token_is_replaced(connector: QuickBooksConnector, store: MemoryTokenStore,
                                          sandbox: Any) -> None:
    connector.count("Item")
    sandbox.expire_access_tokens()
    assert connector.count("Item") > 0
    assert [e.status for e in api_events(store)][-2:] == [401, 200]


def test_a_failed_save_means_the_new_token_is_never_used(
        connector: QuickBooksConnector, store: MemoryTokenStore) -> None:
    store.fail_saves = True
    with pytest.raises(OSError):
        connector.count("Item")
    assert [e.kind for e in store.events] == ["token"]  # refreshed, could not save, so no API call
    store.fail_saves = False
    # The previous refresh token is still accepted within QBO's grace period, so the next cycle recovers.
    assert connector.count("Item") > 0
    assert_saved_before_used(store)


def test_invalid_grant_marks_reconnect_and_raises_auth_error(
        connector: QuickBooksConnector, store: MemoryTokenStore, sandbox: Any) -> None:
    connector.count("Item")
    sandbox.revoke_tokens()
    with pytest.raises(AuthError) as err:
        connector.count("Item")
    assert err.value.company == COMPANY
    assert f"syncd auth --company {COMPANY}" in render(err.value)
    assert "invalid_grant" in store.reconnect[COMPANY]
    assert [e.kind for e in store.events][-3:] == ["api", "token", "reconnect"]
    assert store.events[-3].status == 401 and store.events[-2].status == 400


def test_stale_refresh_token_after_the_grace_period_is_invalid_grant(
        make_connector: ConnectorFactory, store: MemoryTokenStore, sandbox: Any) -> None:
    original = store.states[COMPANY]
    make_connector().count("Item")  # rotates: the original refresh token is now the previous one
    sandbox.advance_clock(25 * 3600)  # past the 24 h grace of a replaced refresh token
    stale = MemoryTokenStore(states={COMPANY: original})
    with pytest.raises(AuthError):
        make_connector(token_store=stale).count("Item")
    assert COMPANY in stale.reconnect


def test_authorization_code_grant(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCD_TEST_QBO_CLIENT_SECRET", sandbox.info["client_secret"])
    cfg = company_config(sandbox.info)
    state = uuid.uuid4().hex
    url = authorization_url(cfg, state)
    assert parse_qs(urlsplit(url).query)["state"] == [state]
    redirect = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    store = MemoryTokenStore()
    with pytest.raises(AuthError):
        exchange_code(cfg, store, redirect, expected_state="someone-else")
    saved = exchange_code(cfg, store, redirect, expected_state=state)
    assert store.states[COMPANY] == saved and saved.access_token
    assert QuickBooksConnector(cfg, store).count("Vendor") > 0
    with pytest.raises(AuthError):  # codes are single-use
        exchange_code(cfg, MemoryTokenStore(), redirect)


def test_authorizing_the_wrong_company_saves_nothing(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCD_TEST_QBO_CLIENT_SECRET", sandbox.info["client_secret"])
    cfg = company_config(sandbox.info)
    store = MemoryTokenStore()
    with pytest.raises(AuthError, match="was authorized"):
        exchange_code(cfg, store, "https://app.example/cb?code=abc&state=s&realmId=1")
    assert store.states == {}


def test_no_tokens_at_all_is_an_auth_error(make_connector: ConnectorFactory) -> None:
    empty = MemoryTokenStore()
    with pytest.raises(AuthError):
        make_connector(token_store=empty).count("Item")
    assert [e.kind for e in empty.events] == []  # nothing to refresh with, nothing sent


def test_401_after_a_fresh_token_is_an_auth_error_for_the_wrong_realm(
        sandbox: Any, store: MemoryTokenStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCD_TEST_QBO_CLIENT_SECRET", sandbox.info["client_secret"])
    cfg = company_config({**sandbox.info, "realm_id": "1"})  # tokens belong to the sandbox's realm, not 1
    conn = QuickBooksConnector(cfg, store)
    with pytest.raises(AuthError, match="realm 1"):
        conn.count("Item")
    assert conn.stats.refreshes_on_401 == 1  # refreshed once, retried once, then gave up
    assert "HTTP 401" in store.reconnect[COMPANY]
    conn.close()
