"""The HTTP path under python-quickbooks: rate limit, bearer token, 401 refresh, throttling and retries.

python-quickbooks (PQB) builds every URL, query string (``minorversion``, ``requestid``) and header in
``QuickBooks.make_request`` and sends it through ``process_request``. :class:`QBOClient` overrides only
``process_request`` and hands the request to :class:`Transport`, which is where PQB falls short:

* PQB hides the HTTP status of a 429 (an XML throttle body becomes "Error reading json response", a JSON 3001 a
  ``ValidationException``, QBO_FACTS §3) and has no retries, no refresh on 401 and no rate limit.

Contract of :meth:`Transport.send` (one logical request):

* Each HTTP attempt takes a slot of the realm's :class:`~syncd.connectors.ratelimit.RealmLimiter` and carries a
  fresh-enough access token from :class:`~syncd.connectors.oauth.TokenManager` (which may refresh first).
* HTTP 401 → the token is refreshed once and the request re-sent once; a second 401 is returned to PQB (which
  raises ``AuthorizationException``; the connector turns it into ``AuthError``).
* HTTP 429 (or a ``ThrottleExceeded`` body) → the whole realm pauses ``retry.throttle_backoff_seconds`` and the
  request is retried after that wait. HTTP 5xx, timeouts and dropped connections → exponential backoff with jitter
  (``retry.initial_backoff_seconds`` … ``retry.max_backoff_seconds``). Both count towards ``retry.attempts``;
  when they run out, :class:`~syncd.errors.RetriableError`.
* Only idempotent requests are retried: GETs, the query endpoint (a read PQB sends as POST) and POSTs carrying a
  ``requestid`` — every retry re-sends the very same URL, so the same ``requestid``. Any other POST gets one try.
* Every retry is logged (method, path, attempt, reason, wait); never the query string, headers, tokens or bodies.
* The final ``requests.Response`` is returned to PQB and also kept per thread (:meth:`Transport.last_response`)
  so the connector can re-parse its body with ``Decimal`` numbers and read the status of a fault.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog
from quickbooks import QuickBooks
from requests_oauthlib import OAuth2Session
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.nap import sleep as tenacity_sleep  # Retrying's default sleep

from syncd.config import CompanyConfig
from syncd.connectors.oauth import TRANSIENT_EXCEPTIONS, TokenManager
from syncd.connectors.ratelimit import RealmLimiter
from syncd.errors import FatalSyncError, RetriableError

log = structlog.get_logger("syncd.connectors.transport")


class _Transient(Exception):
    """An attempt that failed in a way worth retrying. The message names the reason, never a body."""


class _Throttled(_Transient):
    """QBO answered 429 (or a ThrottleExceeded fault)."""


def _is_throttle(resp: requests.Response) -> bool:
    if resp.status_code == 429:
        return True
    # Before 2016 QBO sent the same ThrottleExceeded fault with HTTP 403 (QBO_FACTS §3); keep recognising it.
    return resp.status_code in (400, 403) and b"ThrottleExceeded" in resp.content


class Transport:
    """Sends PQB's requests for one company (see module docstring)."""

    def __init__(
        self,
        company: CompanyConfig,
        tokens: TokenManager,
        limiter: RealmLimiter,
        *,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.company = company
        self.tokens = tokens
        self.limiter = limiter
        self._sleep = sleep
        # PQB's own session type; the token is added per request (withhold_token=True) so a refresh by another
        # thread never races with the session's copy of it.
        self.session = OAuth2Session(company.client_id)
        self._local = threading.local()
        policy = company.retry
        self._throttle_wait = float(policy.throttle_backoff_seconds)
        self._timeout = float(policy.timeout_seconds)
        self._backoff = wait_exponential_jitter(
            multiplier=float(policy.initial_backoff_seconds), max=float(policy.max_backoff_seconds),
            jitter=float(policy.initial_backoff_seconds),
        )

    def last_response(self) -> requests.Response | None:
        """The final response of this thread's last :meth:`send` (None after :meth:`forget`)."""
        return getattr(self._local, "response", None)

    def forget(self) -> None:
        self._local.response = None

    def send(self, method: str, url: str, headers: Mapping[str, str], params: Mapping[str, Any],
             data: Any) -> requests.Response:
        path = urlsplit(url).path
        idempotent = method.upper() == "GET" or path.endswith("/query") or bool(params.get("requestid"))
        attempts = self.company.retry.attempts if idempotent else 1
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            before_sleep=self._log_retry(method, path),
            reraise=True,
            sleep=self._sleep if self._sleep is not None else tenacity_sleep,
        )
        tries = 0

        def attempt() -> requests.Response:
            nonlocal tries
            tries += 1
            if tries > 1:
                self.limiter.note_retry()
            return self._send_authorized(method, url, headers, params, data)

        try:
            resp: requests.Response = retrying(attempt)
        except _Throttled:
            raise RetriableError(
                f"QuickBooks throttled company {self.company.name} on {tries} attempt(s) ({method} {path})",
                retry_after=self._throttle_wait,
            ) from None
        except _Transient as exc:
            raise RetriableError(
                f"QuickBooks request failed for company {self.company.name} after {tries} attempt(s) "
                f"({method} {path}): {exc}"
            ) from None
        self._local.response = resp
        return resp

    def _send_authorized(self, method: str, url: str, headers: Mapping[str, str], params: Mapping[str, Any],
                         data: Any) -> requests.Response:
        token = self.tokens.access_token()
        resp = self._send_once(method, url, headers, params, data, token)
        if resp.status_code == 401:
            # Access tokens can die early (revocation, clock skew): refresh once and re-send once.
            log.info("qbo.unauthorized_refresh", company=self.company.name, method=method, path=urlsplit(url).path)
            token = self.tokens.refresh_after_401(token)
            self.limiter.note_refresh_retry()
            resp = self._send_once(method, url, headers, params, data, token)
        return resp

    def _send_once(self, method: str, url: str, headers: Mapping[str, str], params: Mapping[str, Any],
                   data: Any, token: str) -> requests.Response:
        sent_headers = dict(headers)
        sent_headers["Authorization"] = f"Bearer {token}"
        with self.limiter.slot():
            try:
                resp = self.session.request(method, url, headers=sent_headers, params=dict(params), data=data,
                                            timeout=self._timeout, withhold_token=True)
            except TRANSIENT_EXCEPTIONS as exc:
                raise _Transient(type(exc).__name__) from None
            except requests.RequestException as exc:
                # Redirect loops, undecodable content, invalid URLs: retrying cannot help.
                raise FatalSyncError(f"QuickBooks request {method} {urlsplit(url).path} failed: "
                                     f"{type(exc).__name__}") from None
        if _is_throttle(resp):
            self.limiter.note_throttled()
            self.limiter.pause(self._throttle_wait)
            raise _Throttled(f"HTTP {resp.status_code} throttled")
        if resp.status_code >= 500:
            raise _Transient(f"HTTP {resp.status_code}")
        return resp

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Throttled):
            # Intuit: "If you see this, wait 60 seconds before retrying" (QBO_FACTS §3). The configured value
            # wins over any Retry-After header, whose presence on QBO 429s is unconfirmed. Up to 10 % jitter
            # spreads the threads a throttle stopped together, so they do not all come back in the same second.
            return self._throttle_wait * (1 + random.uniform(0, 0.1))
        return float(self._backoff(state))

    def _log_retry(self, method: str, path: str) -> Callable[[RetryCallState], None]:
        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome is not None else None
            log.warning(
                "qbo.retry", company=self.company.name, method=method, path=path,
                attempt=state.attempt_number, reason=str(exc),
                wait_s=round(state.next_action.sleep, 3) if state.next_action else None,
            )
        return before_sleep


class QBOClient(QuickBooks):
    """A python-quickbooks client whose requests go through a :class:`Transport`.

    Built without ``auth_client``/``refresh_token`` so PQB's constructor never runs its silent refresh
    (ej2#392: a refresh at construction rotates the refresh token without anyone persisting it). Tokens are
    added per request by the transport, which refreshes and saves them through the TokenManager.
    """

    syncd_transport: Transport

    @classmethod
    def create(cls, *, realm_id: str, minorversion: int, api_base: str, transport: Transport) -> QBOClient:
        client = cls(company_id=realm_id, minorversion=minorversion)
        client.sandbox = False  # api_url then returns api_url_v3, the instance attribute set next
        client.api_url_v3 = api_base.rstrip("/")
        client.session = transport.session
        client.syncd_transport = transport
        # Decimal for PQB's own parse too, so no float is ever produced even on paths we do not re-parse.
        client.use_decimal = True
        return client

    def process_request(self, request_type: str, url: str, headers: Any = "", params: Any = "",
                        data: Any = "") -> requests.Response:
        return self.syncd_transport.send(request_type, url, dict(headers or {}), dict(params or {}), data)
