"""OAuth 2.0 tokens of one company, on top of intuit-oauth's ``AuthClient``.

Contract of :class:`TokenManager`:

* The access token handed out is valid for at least :data:`REFRESH_MARGIN` by the injected clock; otherwise the
  manager refreshes first.
* A refresh calls QBO's token endpoint (``AuthClient.refresh``) and **saves the new state with**
  ``TokenStore.save`` **before** returning the new access token, so a rotated refresh token is durable before
  anything can use it (QBO_FACTS §7: the previous refresh token stops working once a new one is issued).
* ``invalid_grant`` (HTTP 400) marks the company as needing reconnection (``TokenStore.mark_needs_reconnect``)
  and raises :class:`~syncd.errors.AuthError`, whose hint is ``syncd auth --company NAME``.
* Token-endpoint 5xx, 429, timeouts and dropped connections are retried per ``company.retry``; when still
  failing, :class:`~syncd.errors.RetriableError`. A rejected client id/secret is a
  :class:`~syncd.errors.FatalSyncError` naming the config key.
* Refreshes are serialised per manager; a refresh first re-reads the store so a token another process or
  thread already rotated is adopted instead of refreshed again.
* Tokens, codes and secrets are never logged nor put into exception messages.

:func:`authorization_url` and :func:`exchange_code` are what ``syncd auth`` needs for the authorization-code grant.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import structlog
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter
from tenacity.nap import sleep as tenacity_sleep  # Retrying's default sleep

from syncd.config import CompanyConfig, is_loopback_host
from syncd.connectors.base import TokenState, TokenStore
from syncd.errors import AuthError, FatalSyncError, RetriableError

log = structlog.get_logger("syncd.connectors.oauth")

#: Refresh when the access token expires within this margin (QBO access tokens live 3600 s).
REFRESH_MARGIN = timedelta(minutes=5)

Clock = Callable[[], datetime]
TRANSIENT_EXCEPTIONS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Transient(Exception):
    """A token-endpoint failure worth retrying (no token material in the message)."""


class _TimeoutAuthClient(AuthClient):
    """``AuthClient`` whose HTTP calls carry a timeout (intuitlib sets none, so a hung endpoint would hang us)."""

    def __init__(self, *args: Any, timeout: float, **kwargs: Any) -> None:
        # Set before AuthClient.__init__, which already fetches the discovery document through self.request.
        self._syncd_timeout = timeout
        super().__init__(*args, **kwargs)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self._syncd_timeout)
        return super().request(method, url, *args, **kwargs)


def allow_loopback_http(url: str) -> None:
    """Let requests-oauthlib talk plain http to ``url`` when (and only when) it is a loopback address.

    python-quickbooks sends API calls through ``requests_oauthlib.OAuth2Session``, which refuses ``http://``
    unless ``OAUTHLIB_INSECURE_TRANSPORT`` is set. The config already rejects http for any non-loopback host, so
    this only ever opens the door to the local sandbox; production URLs are https and never set the variable.
    """
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


def make_auth_client(company: CompanyConfig, environ: dict[str, str] | None = None) -> AuthClient:
    """An ``AuthClient`` for the company (fetches the discovery document: one HTTP GET, retried if transient)."""
    try:
        secret = company.client_secret.resolve(environ).get_secret_value()
    except ValueError as exc:
        raise FatalSyncError(f"company {company.name}: client_secret: {exc}") from None

    def build() -> AuthClient:
        try:
            return _TimeoutAuthClient(
                company.client_id, secret, company.redirect_uri, company.environment,
                timeout=float(company.retry.timeout_seconds),
            )
        except AuthClientError as exc:
            if exc.status_code >= 500 or exc.status_code == 429:
                raise _Transient(f"discovery document: HTTP {exc.status_code}") from None
            raise FatalSyncError(
                f"company {company.name}: discovery document answered HTTP {exc.status_code}; check environment"
            ) from None
        except TRANSIENT_EXCEPTIONS as exc:
            raise _Transient(f"discovery document: {type(exc).__name__}") from None
        except (KeyError, ValueError) as exc:
            raise FatalSyncError(
                f"company {company.name}: environment does not point at an OpenID discovery document ({exc})"
            ) from None

    return _with_retries(company, "discovery", build)


def _with_retries(company: CompanyConfig, what: str, fn: Callable[[], Any],
                  sleep: Callable[[float], None] | None = None) -> Any:
    """Run ``fn`` retrying :class:`_Transient` per ``company.retry``; RetriableError when attempts run out."""
    policy = company.retry

    def before_sleep(state: Any) -> None:
        log.warning("qbo.oauth.retry", company=company.name, step=what, attempt=state.attempt_number,
                    reason=str(state.outcome.exception()), wait_s=round(state.next_action.sleep, 3))

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait_exponential_jitter(multiplier=float(policy.initial_backoff_seconds),
                                     max=float(policy.max_backoff_seconds),
                                     jitter=float(policy.initial_backoff_seconds)),
        retry=retry_if_exception_type(_Transient),
        before_sleep=before_sleep,
        reraise=True,
        sleep=sleep if sleep is not None else tenacity_sleep,
    )
    try:
        return retrying(fn)
    except _Transient as exc:
        raise RetriableError(f"QuickBooks token service unavailable for company {company.name}: {exc}") from None


def _error_code(exc: AuthClientError) -> str:
    """The OAuth ``error`` field of a token-endpoint failure ('' when the body is not the usual JSON)."""
    try:
        doc = json.loads(exc.content or b"{}")
    except ValueError:
        return ""
    return str(doc.get("error", "")) if isinstance(doc, dict) else ""


class TokenManager:
    """Access tokens for one company, refreshed ahead of expiry (see module docstring)."""

    def __init__(
        self,
        company: CompanyConfig,
        store: TokenStore,
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], None] | None = None,
        auth_client_factory: Callable[[], AuthClient] | None = None,
    ) -> None:
        self.company = company
        self.store = store
        self._clock = clock or utc_now
        self._sleep = sleep
        self._factory = auth_client_factory or (lambda: make_auth_client(company))
        self._auth_client: AuthClient | None = None
        self._state: TokenState | None = None
        self._lock = threading.RLock()

    @property
    def auth_client(self) -> AuthClient:
        """Built on first use: its constructor fetches the discovery document over the network."""
        with self._lock:
            if self._auth_client is None:
                self._auth_client = self._factory()
            return self._auth_client

    def close(self) -> None:
        """Close the token endpoint's connection pool, if one was opened."""
        with self._lock:
            if self._auth_client is not None:
                self._auth_client.close()

    def cached(self) -> TokenState | None:
        """The last known state (from memory, else the store); no network call."""
        with self._lock:
            if self._state is None:
                self._state = self.store.load(self.company.name)
            return self._state

    def access_token(self) -> str:
        """A usable access token, refreshing first if it expires within :data:`REFRESH_MARGIN`."""
        with self._lock:
            state = self.cached()
            if state is not None and self._fresh(state):
                assert state.access_token is not None
                return state.access_token
            return self._refresh(rejected=None)

    def refresh_after_401(self, rejected: str) -> str:
        """QBO refused ``rejected``: a new access token, unless another thread already replaced that one."""
        with self._lock:
            state = self.cached()
            if state is not None and state.access_token and state.access_token != rejected and self._fresh(state):
                return state.access_token
            return self._refresh(rejected=rejected)

    def _fresh(self, state: TokenState) -> bool:
        expires = state.access_expires_at
        if state.access_token is None or expires is None:
            return False
        if expires.tzinfo is None:  # a store that lost the zone: the daemon writes UTC
            expires = expires.replace(tzinfo=UTC)
        return expires - REFRESH_MARGIN > self._clock()

    def _refresh(self, rejected: str | None) -> str:
        name = self.company.name
        # Re-read the store: another process sharing the database may have rotated the token already.
        stored = self.store.load(name)
        if stored is None:
            raise AuthError(f"company {name} has no QuickBooks tokens yet", company=name)
        if stored.access_token and stored.access_token != rejected and self._fresh(stored):
            self._state = stored
            return stored.access_token
        client = self.auth_client

        def call() -> None:
            # send_request only sets the keys present in the answer: clear what a previous answer left behind.
            client.access_token = client.refresh_token = None
            client.expires_in = client.x_refresh_token_expires_in = None
            if hasattr(client, "x_refresh_token_hard_expires_in"):
                client.x_refresh_token_hard_expires_in = None
            try:
                client.refresh(refresh_token=stored.refresh_token)
            except AuthClientError as exc:
                if exc.status_code >= 500 or exc.status_code == 429:
                    raise _Transient(f"token endpoint: HTTP {exc.status_code}") from None
                self._refused(exc)
            except TRANSIENT_EXCEPTIONS as exc:
                raise _Transient(f"token endpoint: {type(exc).__name__}") from None

        _with_retries(self.company, "refresh", call, self._sleep)
        new_state = state_from_client(client, self._clock(), previous=stored)
        # Durable before use: QBO may already have retired the old refresh token (QBO_FACTS §7).
        self.store.save(name, new_state)
        self._state = new_state
        log.info("qbo.token.refreshed", company=name, rotated=new_state.refresh_token != stored.refresh_token,
                 access_expires_at=new_state.access_expires_at.isoformat() if new_state.access_expires_at else None)
        assert new_state.access_token is not None
        return new_state.access_token

    def _refused(self, exc: AuthClientError) -> None:
        name = self.company.name
        code = _error_code(exc)
        if code == "invalid_grant":
            reason = "QuickBooks rejected the refresh token (invalid_grant): the connection was revoked or expired"
            self.store.mark_needs_reconnect(name, reason)
            log.error("qbo.token.invalid_grant", company=name)
            raise AuthError(f"company {name}: {reason}", company=name) from None
        if code == "invalid_client" or exc.status_code == 401:
            raise FatalSyncError(
                f"company {name}: QuickBooks rejected the app credentials (HTTP {exc.status_code} {code}); "
                "check company.client_id and company.client_secret"
            ) from None
        raise FatalSyncError(f"company {name}: token endpoint answered HTTP {exc.status_code} {code}".rstrip()) \
            from None


def state_from_client(client: AuthClient, now: datetime, previous: TokenState | None = None) -> TokenState:
    """The TokenState an ``AuthClient`` holds after a token-endpoint answer (times computed from ``now``)."""
    if not client.access_token or not client.refresh_token:
        raise FatalSyncError("QuickBooks token endpoint answered without an access or refresh token")
    access_expires = now + timedelta(seconds=int(client.expires_in)) if client.expires_in else None
    lifetimes = [int(v) for v in (client.x_refresh_token_expires_in,
                                  getattr(client, "x_refresh_token_hard_expires_in", None)) if v]
    if lifetimes:
        refresh_expires: datetime | None = now + timedelta(seconds=min(lifetimes))
    elif previous is not None and previous.refresh_token == client.refresh_token:
        refresh_expires = previous.refresh_expires_at
    else:
        refresh_expires = None
    return TokenState(access_token=client.access_token, access_expires_at=access_expires,
                      refresh_token=client.refresh_token, refresh_expires_at=refresh_expires)


# -- authorization-code grant (used by `syncd auth`) -------------------------------------------------------------


def authorization_url(company: CompanyConfig, state: str, *, auth_client: AuthClient | None = None) -> str:
    """The URL an admin opens to connect the company (accounting scope); ``state`` is the CSRF token to check."""
    client = auth_client or make_auth_client(company)
    return client.get_authorization_url([Scopes.ACCOUNTING], state_token=state)


def exchange_code(
    company: CompanyConfig,
    token_store: TokenStore,
    redirect_url_or_code: str,
    realm_id: str | None = None,
    *,
    expected_state: str | None = None,
    clock: Clock | None = None,
    auth_client: AuthClient | None = None,
) -> TokenState:
    """Complete the authorization-code grant and save the tokens; returns the saved state.

    ``redirect_url_or_code`` is either the full URL QBO redirected to (``…?code=…&state=…&realmId=…``) or the bare
    code. The authorized realm (from the URL, else ``realm_id``) must be the company's configured ``realm_id``;
    otherwise :class:`AuthError` and nothing is saved. ``expected_state``, when given, must match the URL's state.
    """
    name = company.name
    code = redirect_url_or_code.strip()
    url_realm: str | None = None
    if "?" in code or code.startswith(("http://", "https://")):
        params = {k: v[0] for k, v in parse_qs(urlsplit(code).query).items()}
        if "error" in params:
            raise AuthError(f"company {name}: QuickBooks refused the connection ({params['error']})", company=name)
        if expected_state is not None and params.get("state") != expected_state:
            raise AuthError(f"company {name}: the redirect's state does not match; start `syncd auth` again",
                            company=name)
        if "code" not in params:
            raise AuthError(f"company {name}: the redirect URL carries no authorization code", company=name)
        code = params["code"]
        url_realm = params.get("realmId")
    authorized = url_realm or realm_id
    if authorized is not None and authorized != company.realm_id:
        raise AuthError(
            f"company {name}: QuickBooks company {authorized} was authorized, but realm_id is {company.realm_id}; "
            "pick the right company in the QuickBooks consent screen", company=name)
    client = auth_client or make_auth_client(company)
    try:
        client.get_bearer_token(code, realm_id=company.realm_id)
    except AuthClientError as exc:
        err = _error_code(exc)
        raise AuthError(f"company {name}: QuickBooks refused the authorization code (HTTP {exc.status_code} "
                        f"{err}); codes are single-use and expire quickly, run `syncd auth` again", company=name) \
            from None
    except TRANSIENT_EXCEPTIONS as exc:
        raise RetriableError(f"company {name}: token endpoint unreachable ({type(exc).__name__})") from None
    state = state_from_client(client, (clock or utc_now)())
    token_store.save(name, state)
    log.info("qbo.token.authorized", company=name, realm_id=company.realm_id)
    return state
