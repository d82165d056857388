"""Intuit's OAuth 2.0 server, as intuit-oauth 1.2.6 and python-quickbooks 0.9.12 see it (QBO_FACTS.md §7).

Endpoints (paths mirror Intuit's so logs read naturally):

* ``GET /.well-known/openid_configuration`` (also ``openid_sandbox_configuration`` and the hyphenated form): the
  discovery document with every key of the real one, endpoints pointing at this server.
* ``GET /connect/oauth2?client_id&redirect_uri&response_type=code&scope&state[&realmId]`` → 302 to ``redirect_uri``
  with ``code``, ``state`` and ``realmId``. ``realmId`` in the request is a sandbox extension choosing the company
  (Intuit asks the user); without it the primary company is chosen.
* ``POST /oauth2/v1/tokens/bearer``: grants ``authorization_code`` and ``refresh_token``; client credentials by HTTP
  Basic **or** ``client_id``/``client_secret`` form fields. Every refresh returns a *new* refresh token; the one it
  replaces keeps working for ``refresh_grace`` seconds of sandbox time, then → 400 ``invalid_grant``.
* ``POST /v2/oauth2/tokens/revoke`` JSON ``{"token": ...}``: revokes the whole connection (grant) the token belongs to.
* ``GET /v1/openid_connect/userinfo`` and ``GET /op/v1/jwks`` so every discovery URL answers.

All state lives in a key-value store (``kv_get/kv_put/kv_delete``, i.e. :class:`syncd.sandbox.store.Store`) so a
sandbox started with ``--state`` keeps its tokens across restarts. Times come from the sandbox :class:`Clock`.
Tokens are never logged.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import string
import threading
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from syncd.sandbox import faults
from syncd.sandbox.clock import Clock
from syncd.sandbox.server import Request, Response, dump_json, new_tid

DISCOVERY_PATHS = (
    "/.well-known/openid_configuration",
    "/.well-known/openid_sandbox_configuration",
    "/.well-known/openid-configuration",
    "/.well-known/openid-sandbox-configuration",
)
AUTHORIZE_PATH = "/connect/oauth2"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
REVOKE_PATH = "/v2/oauth2/tokens/revoke"
USERINFO_PATH = "/v1/openid_connect/userinfo"
JWKS_PATH = "/op/v1/jwks"

# kv namespaces
NS_CLIENT = "oauth.client"
NS_GRANT = "oauth.grant"
NS_REFRESH = "oauth.refresh"
NS_ACCESS = "oauth.access"
NS_CODE = "oauth.code"
NS_REALM = "oauth.realm"

# Authorization codes: Intuit documents no lifetime we could find; 5 minutes is the common OAuth practice.
# UNCONFIRMED.
CODE_TTL_S = 300
_ALNUM = string.ascii_letters + string.digits
_MALFORMED = "Malformed bearer token: too short or too long"


class KeyValue(Protocol):
    def kv_get(self, namespace: str, key: str) -> Any | None: ...
    def kv_put(self, namespace: str, key: str, value: Any) -> None: ...
    def kv_delete(self, namespace: str, key: str) -> None: ...


class MemoryKV:
    """In-process :class:`KeyValue` (used when the OAuth server runs without a Store, e.g. in unit tests)."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def kv_get(self, namespace: str, key: str) -> Any | None:
        with self._lock:
            value = self._data.get((namespace, key))
            return json.loads(json.dumps(value)) if value is not None else None

    def kv_put(self, namespace: str, key: str, value: Any) -> None:
        with self._lock:
            self._data[(namespace, key)] = json.loads(json.dumps(value))

    def kv_delete(self, namespace: str, key: str) -> None:
        with self._lock:
            self._data.pop((namespace, key), None)


@dataclass(frozen=True)
class ClientApp:
    client_id: str
    client_secret: str
    redirect_uri: str
    verifier_token: str


@dataclass(frozen=True)
class TokenPolicy:
    """Lifetimes in seconds of sandbox time. Defaults are Intuit's (QBO_FACTS.md §7)."""

    access_ttl: int = 3600
    refresh_ttl: int = 8726400
    refresh_grace: int = 24 * 3600


def _rand(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


class OAuthServer:
    """Token issuing and checking. Thread-safe: one lock serialises every read-modify-write of token state."""

    def __init__(self, kv: KeyValue, clock: Clock, policy: TokenPolicy = TokenPolicy()) -> None:
        self._kv = kv
        self._clock = clock
        self.policy = policy
        self._lock = threading.RLock()
        self.counts: dict[str, int] = {}

    # ---- the registered app --------------------------------------------------------------------------
    def ensure_client(self, redirect_uri: str) -> ClientApp:
        """Load the app's credentials, creating them on first start. The redirect URI is re-registered each start."""
        with self._lock:
            doc = self._kv.kv_get(NS_CLIENT, "app")
            if doc is None:
                doc = {"client_id": "AB" + _rand(48), "client_secret": _rand(40),
                       "verifier_token": secrets.token_hex(16)}
            doc["redirect_uri"] = redirect_uri
            self._kv.kv_put(NS_CLIENT, "app", doc)
            return ClientApp(doc["client_id"], doc["client_secret"], doc["redirect_uri"], doc["verifier_token"])

    @property
    def client(self) -> ClientApp:
        doc = self._kv.kv_get(NS_CLIENT, "app")
        if doc is None:
            raise RuntimeError("ensure_client() was not called")
        return ClientApp(doc["client_id"], doc["client_secret"], doc["redirect_uri"], doc["verifier_token"])

    # ---- issuing ---------------------------------------------------------------------------------------
    def connect_realm(self, realm: str) -> str:
        """Create a new connection (grant) for ``realm`` as if a user had authorised the app; return its refresh
        token. Used at company creation so the sandbox can print a ready-to-use refresh token."""
        with self._lock:
            grant = self._new_grant(realm)
            return self._issue_refresh(grant)

    def latest_refresh_token(self, realm: str) -> str | None:
        doc = self._kv.kv_get(NS_REALM, realm)
        return doc.get("latest_refresh") if doc else None

    def revoke_realm(self, realm: str) -> None:
        """Disconnect every connection of ``realm`` (all its refresh and access tokens stop working)."""
        with self._lock:
            doc = self._kv.kv_get(NS_REALM, realm) or {}
            for gid in doc.get("grants", []):
                self._revoke_grant(gid)

    def expire_access_tokens(self, realm: str) -> None:
        """Make every access token issued so far for ``realm`` expired (refresh tokens keep working)."""
        with self._lock:
            now = self._clock.timestamp()
            doc = self._kv.kv_get(NS_REALM, realm) or {}
            for gid in doc.get("grants", []):
                grant = self._kv.kv_get(NS_GRANT, gid)
                if grant is not None:
                    grant["access_not_before"] = now
                    self._kv.kv_put(NS_GRANT, gid, grant)

    def _new_grant(self, realm: str) -> str:
        gid = secrets.token_hex(8)
        self._kv.kv_put(NS_GRANT, gid, {"realm": realm, "revoked": False, "access_not_before": 0.0})
        doc = self._kv.kv_get(NS_REALM, realm) or {"grants": [], "latest_refresh": None}
        doc["grants"].append(gid)
        self._kv.kv_put(NS_REALM, realm, doc)
        return gid

    def _revoke_grant(self, gid: str) -> None:
        grant = self._kv.kv_get(NS_GRANT, gid)
        if grant is not None:
            grant["revoked"] = True
            self._kv.kv_put(NS_GRANT, gid, grant)

    def _issue_refresh(self, gid: str) -> str:
        now = self._clock.timestamp()
        # Shape of a real QBO refresh token: "AB11" + digits + letters, 50 characters.
        token = "AB11" + str(int(now) + self.policy.refresh_ttl) + _rand(36)
        self._kv.kv_put(NS_REFRESH, token, {"grant": gid, "issued": now,
                                            "expires": now + self.policy.refresh_ttl, "superseded": None})
        grant = self._kv.kv_get(NS_GRANT, gid)
        assert grant is not None
        doc = self._kv.kv_get(NS_REALM, grant["realm"]) or {"grants": [gid], "latest_refresh": None}
        doc["latest_refresh"] = token
        self._kv.kv_put(NS_REALM, grant["realm"], doc)
        return token

    def _token_response(self, gid: str) -> dict[str, Any]:
        now = self._clock.timestamp()
        access = "eyJ" + secrets.token_urlsafe(60)
        self._kv.kv_put(NS_ACCESS, access, {"grant": gid, "issued": now, "expires": now + self.policy.access_ttl})
        refresh = self._issue_refresh(gid)
        # Field order as observed; no id_token (intuitlib would try to validate it against jwks_uri).
        return {"token_type": "bearer", "expires_in": self.policy.access_ttl, "refresh_token": refresh,
                "x_refresh_token_expires_in": self.policy.refresh_ttl, "access_token": access}

    # ---- checking API calls -------------------------------------------------------------------------------
    def authenticate(self, authorization: str) -> str:
        """Return the realm an ``Authorization: Bearer`` header grants access to; raise the 401 QBO fault
        (``token_expired``, JSON with ``Www-Authenticate``) for a missing, malformed, unknown, revoked or expired
        token."""
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not (20 <= len(token) <= 4096):
            raise faults.token_expired(_MALFORMED)
        with self._lock:
            rec = self._kv.kv_get(NS_ACCESS, token)
            grant = self._kv.kv_get(NS_GRANT, rec["grant"]) if rec else None
            if rec is None or grant is None:
                raise faults.token_expired(_MALFORMED)
            now = self._clock.timestamp()
            if grant["revoked"] or now >= rec["expires"] or rec["issued"] < grant.get("access_not_before", 0.0):
                # The detail names the token in real QBO; we name the grant instead so no secret is echoed.
                raise faults.token_expired(f"Token expired: {rec['grant']}")
            return str(grant["realm"])

    # ---- HTTP ---------------------------------------------------------------------------------------------
    def handles(self, path: str) -> bool:
        return path.rstrip("/") in DISCOVERY_PATHS or path in (AUTHORIZE_PATH, TOKEN_PATH, REVOKE_PATH,
                                                                USERINFO_PATH, JWKS_PATH)

    def handle(self, request: Request, base_url: str) -> Response:
        path = request.path.rstrip("/") if request.path != "/" else request.path
        kind = {AUTHORIZE_PATH: "authorize", TOKEN_PATH: "token", REVOKE_PATH: "revoke",
                USERINFO_PATH: "userinfo", JWKS_PATH: "jwks"}.get(path, "discovery")
        with self._lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == "discovery":
            return self._json(200, self.discovery_document(base_url)) if request.method == "GET" else self._bad()
        if kind == "authorize":
            return self._authorize(request) if request.method == "GET" else self._bad()
        if kind == "jwks":
            return self._json(200, {"keys": []})
        if kind == "userinfo":
            try:
                realm = self.authenticate(request.header("authorization"))
            except faults.QBOFault:
                return self._json(401, {"error": "invalid_token"})
            return self._json(200, {"sub": f"sandbox-user-{realm}", "email": "sandbox.user@example.com",
                                    "emailVerified": True, "givenName": "Sandbox", "familyName": "User"})
        if request.method != "POST":
            return self._bad()
        client_error = self._check_client(request)
        if client_error is not None:
            return client_error
        return self._token(request) if kind == "token" else self._revoke(request)

    def discovery_document(self, base_url: str) -> dict[str, Any]:
        """Every key of Intuit's document (qbo_samples/oauth/discovery_sandbox.json), pointing here."""
        return {
            "issuer": base_url + "/op/v1",
            "authorization_endpoint": base_url + AUTHORIZE_PATH,
            "token_endpoint": base_url + TOKEN_PATH,
            "userinfo_endpoint": base_url + USERINFO_PATH,
            "revocation_endpoint": base_url + REVOKE_PATH,
            "jwks_uri": base_url + JWKS_PATH,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "address", "phone"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        }

    def _json(self, status: int, doc: dict[str, Any]) -> Response:
        # OAuth-server responses carry ``intuit_tid`` (underscore), which intuitlib's AuthClientError reads.
        return Response(status, {"Content-Type": "application/json;charset=UTF-8", "intuit_tid": new_tid(),
                                 "Cache-Control": "no-cache, no-store", "Pragma": "no-cache"}, dump_json(doc))

    def _bad(self, error: str = "invalid_request", description: str | None = None) -> Response:
        doc = {"error": error} if description is None else {"error_description": description, "error": error}
        return self._json(400, doc)

    def _check_client(self, request: Request) -> Response | None:
        client_id = client_secret = None
        auth = request.header("authorization")
        if auth.lower().startswith("basic "):
            try:
                client_id, _, client_secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                client_id = None
        if client_id is None:
            form = self._form(request)
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
        app = self.client
        if client_id != app.client_id or client_secret is None or not secrets.compare_digest(
                client_secret, app.client_secret):
            return self._json(401, {"error": "invalid_client"})
        return None

    @staticmethod
    def _form(request: Request) -> dict[str, str]:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            return {}
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def _authorize(self, request: Request) -> Response:
        q = request.query
        app = self.client
        if q.get("client_id") != app.client_id or q.get("redirect_uri") != app.redirect_uri:
            # Never redirect to an unregistered URI (RFC 6749 §4.1.2.1); Intuit shows an error page.
            return self._bad("invalid_request", "client_id or redirect_uri not registered")
        params: dict[str, str] = {"state": q.get("state", "")}
        if q.get("response_type") != "code":
            params["error"] = "unsupported_response_type"
        elif not q.get("scope"):
            params["error"] = "invalid_scope"
        else:
            realm = q.get("realmId") or q.get("realm_id") or self._primary_realm()
            if realm is None or self._kv.kv_get(NS_REALM, realm) is None:
                params["error"] = "access_denied"
            else:
                code = "AB11" + _rand(46)
                with self._lock:
                    self._kv.kv_put(NS_CODE, code, {"realm": realm, "redirect_uri": q["redirect_uri"],
                                                    "expires": self._clock.timestamp() + CODE_TTL_S})
                params = {"code": code, "state": q.get("state", ""), "realmId": realm}
        parts = urlsplit(app.redirect_uri)
        query = parts.query + ("&" if parts.query else "") + urlencode(params)
        location = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
        return Response(302, {"Location": location, "intuit_tid": new_tid()}, b"")

    def _primary_realm(self) -> str | None:
        doc = self._kv.kv_get(NS_CLIENT, "primary_realm")
        return doc.get("realm") if doc else None

    def set_primary_realm(self, realm: str) -> None:
        self._kv.kv_put(NS_CLIENT, "primary_realm", {"realm": realm})

    def _token(self, request: Request) -> Response:
        form = self._form(request)
        grant_type = form.get("grant_type")
        with self._lock:
            now = self._clock.timestamp()
            if grant_type == "refresh_token":
                token = form.get("refresh_token", "")
                rec = self._kv.kv_get(NS_REFRESH, token) if token else None
                grant = self._kv.kv_get(NS_GRANT, rec["grant"]) if rec else None
                if rec is None or grant is None or grant["revoked"] or now >= rec["expires"] or (
                        rec["superseded"] is not None and now >= rec["superseded"] + self.policy.refresh_grace):
                    return self._bad("invalid_grant", "Incorrect or invalid refresh token")
                if rec["superseded"] is None:
                    rec["superseded"] = now
                    self._kv.kv_put(NS_REFRESH, token, rec)
                return self._json(200, self._token_response(rec["grant"]))
            if grant_type == "authorization_code":
                code = form.get("code", "")
                doc = self._kv.kv_get(NS_CODE, code) if code else None
                if doc is None or now >= doc["expires"] or form.get("redirect_uri") != doc["redirect_uri"]:
                    return self._bad("invalid_grant")
                self._kv.kv_delete(NS_CODE, code)  # single use
                return self._json(200, self._token_response(self._new_grant(doc["realm"])))
        if not grant_type:
            return self._bad("invalid_request")
        return self._bad("unsupported_grant_type")

    def _revoke(self, request: Request) -> Response:
        try:
            token = json.loads(request.body or b"{}").get("token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            return self._bad("invalid_request")
        with self._lock:
            rec = self._kv.kv_get(NS_REFRESH, token) or self._kv.kv_get(NS_ACCESS, token)
            if rec is not None:
                self._revoke_grant(rec["grant"])
        # RFC 7009: unknown tokens are answered 200 as well. Intuit answers 200 with an empty body (intuitlib
        # only parses a body when one is present).
        return Response(200, {"intuit_tid": new_tid()}, b"")
