"""The sandbox as one object: store + OAuth + throttles + chaos + webhooks behind one HTTP server.

Contract:
* ``Sandbox(options).start()`` opens (or creates) the store, seeds the primary company unless the state file
  already holds it, binds the server (port 0 → a free port) and returns the info dict — ``api_base`` (python-quickbooks'
  ``api_url_v3``, ending in ``/v3``), ``discovery_url`` (intuit-oauth's ``environment``), ``realm_id``, ``client_id``,
  ``client_secret``, ``redirect_uri``, ``refresh_token``, ``verifier_token`` — plus ``base_url`` and ``control_url``.
  The server accepts connections when ``start()`` returns.
* Paths: ``/v3/...`` the QBO API (:class:`syncd.sandbox.server.QBOApi`); OAuth paths (:mod:`syncd.sandbox.oauth`);
  ``/_sandbox/...`` test control, never throttled or fault-injected, unauthenticated (the sandbox binds to loopback
  by default and holds no real data).
* Runtime knobs (``set_latency``, ``set_faults``, ``inject_fault``, ``set_limits``, ``advance_clock``,
  ``expire_access_tokens``, ``revoke_tokens``, ``set_webhook``, ``add_company``) have the same effect as the matching
  control endpoints, so a sandbox in another process can be steered identically.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Self

from syncd.sandbox.chaos import DEFAULT_KINDS, Chaos, ChaosConfig
from syncd.sandbox.clock import Clock
from syncd.sandbox.faults import qbo_time
from syncd.sandbox.limits import LimitConfig, RateLimiter
from syncd.sandbox.oauth import OAuthServer, TokenPolicy
from syncd.sandbox.server import QBOApi, Request, Response, SandboxHTTPServer, Stats
from syncd.sandbox.webhooks import FORMATS, QBO_RETRY_SCHEDULE, WebhookConfig, WebhookDispatcher

log = logging.getLogger("syncd.sandbox")

NS_META = "sandbox.meta"
_REALM_BASE = 9130357000000000


@dataclass(frozen=True)
class SandboxOptions:
    """Everything that shapes a sandbox. Sizes default small enough for tests."""

    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 1
    items: int = 60
    vendors: int = 8
    customers: int = 15
    invoices: int = 120
    company_name: str = "Sandbox Company US"
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = DEFAULT_KINDS
    timeout_hold_s: float = 10.0
    webhook_url: str | None = None
    webhook_format: str = "legacy"
    webhook_retry_schedule: tuple[float, ...] = QBO_RETRY_SCHEDULE
    webhook_coalesce_s: float = 0.2
    state: str | None = None
    per_minute: int = 500
    per_second: int = 10
    concurrent: int = 10
    batch_per_minute: int = 40
    throttle_shape: str = "xml"
    access_ttl: int = 3600
    refresh_grace: int = 24 * 3600
    refresh_ttl: int = 8726400
    redirect_uri: str = "http://localhost:8000/callback"

    def __post_init__(self) -> None:
        # Build the sub-configs once so bad values fail here, with the sub-config's message.
        self.limit_config()
        self.chaos_config()
        if self.webhook_format not in FORMATS:
            raise ValueError(f"webhook_format must be one of {FORMATS}")
        for name in ("items", "vendors", "customers", "invoices", "access_ttl", "refresh_ttl", "refresh_grace"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")

    def limit_config(self) -> LimitConfig:
        return LimitConfig(self.per_minute, self.per_second, self.concurrent, self.batch_per_minute,
                           self.throttle_shape)

    def chaos_config(self) -> ChaosConfig:
        return ChaosConfig(self.seed, self.latency_ms, self.jitter_ms, self.fault_rate, tuple(self.fault_kinds),
                           self.timeout_hold_s)


class Sandbox:
    """A running QBO stand-in. Use as a context manager or call ``start()``/``stop()``."""

    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        self.clock = Clock()
        self.store: Any = None
        self.info: dict[str, Any] = {}
        self.stats = Stats()
        self.limiter = RateLimiter(self.clock, self.options.limit_config())
        self.chaos = Chaos(self.options.chaos_config())
        self.webhooks: WebhookDispatcher | None = None
        self._webhook_lock = threading.Lock()
        self._company_lock = threading.Lock()
        self._http: SandboxHTTPServer | None = None
        self.oauth: OAuthServer
        self.api: QBOApi

    # ---- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> dict[str, Any]:
        from syncd.sandbox.store import Store  # imported late: the data layer is the heavy part

        opts = self.options
        self.store = Store(opts.state, self.clock)
        try:
            self.oauth = OAuthServer(self.store, self.clock,
                                     TokenPolicy(opts.access_ttl, opts.refresh_ttl, opts.refresh_grace))
            app = self.oauth.ensure_client(opts.redirect_uri)
            meta = self.store.kv_get(NS_META, "primary") or {}
            realm = meta.get("realm_id")
            if not realm or not self.store.has_realm(realm):
                realm = self.add_company(seed=opts.seed, items=opts.items, vendors=opts.vendors,
                                         customers=opts.customers, invoices=opts.invoices,
                                         company_name=opts.company_name)["realm_id"]
                self.store.kv_put(NS_META, "primary", {"realm_id": realm})
            self.oauth.set_primary_realm(realm)
            self.store.add_listener(self._on_change)
            if opts.webhook_url:
                self.set_webhook(opts.webhook_url, opts.webhook_format)
            self.api = QBOApi(store=self.store, authenticate=self.oauth.authenticate, limiter=self.limiter,
                              chaos=self.chaos, stats=self.stats, now=self.clock.now)
            self._http = SandboxHTTPServer((opts.host, opts.port), self._dispatch, self.clock.now)
            self._http.start()
        except BaseException:
            self.stop()
            raise
        host = opts.host if opts.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        base = f"http://{host}:{self._http.port}"
        self.info = {
            "api_base": base + "/v3",
            "discovery_url": base + "/.well-known/openid_configuration",
            "realm_id": realm,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "redirect_uri": app.redirect_uri,
            "refresh_token": self.oauth.latest_refresh_token(realm),
            "verifier_token": app.verifier_token,
            "base_url": base,
            "control_url": base + "/_sandbox",
            "port": self._http.port,
        }
        return dict(self.info)

    def stop(self) -> None:
        """Stop serving (cutting injected holds short), stop webhook delivery, close the store. Idempotent."""
        self.chaos.stop()
        if self._http is not None:
            self._http.stop()
            self._http = None
        with self._webhook_lock:
            if self.webhooks is not None:
                self.webhooks.stop()
                self.webhooks = None
        if self.store is not None:
            self.store.close()
            self.store = None

    def __enter__(self) -> Self:
        if not self.info:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return str(self.info.get("base_url", ""))

    # ---- companies ---------------------------------------------------------------------------------------------
    def add_company(self, *, seed: int | None = None, items: int | None = None, vendors: int | None = None,
                    customers: int | None = None, invoices: int | None = None,
                    company_name: str | None = None) -> dict[str, Any]:
        """Create and seed one more realm, connected to the app; returns ``{"realm_id", "refresh_token"}``."""
        from syncd.sandbox.seed import seed_company

        opts = self.options
        seed = opts.seed if seed is None else seed
        with self._company_lock:
            index = 0
            while self.store.has_realm(realm := str(_REALM_BASE + seed * 1000 + index)):
                index += 1
            self.store.create_realm(realm, company_name or f"{opts.company_name} {index + 1}")
            seed_company(self.store, realm, seed=seed,
                         items=opts.items if items is None else items,
                         vendors=opts.vendors if vendors is None else vendors,
                         customers=opts.customers if customers is None else customers,
                         invoices=opts.invoices if invoices is None else invoices,
                         now=self.clock.now())
            token = self.oauth.connect_realm(realm)
        return {"realm_id": realm, "refresh_token": token}

    # ---- runtime knobs -----------------------------------------------------------------------------------------
    def advance_clock(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def set_latency(self, ms: float, jitter_ms: float = 0.0) -> None:
        self.chaos.configure(latency_ms=float(ms), jitter_ms=float(jitter_ms))

    def set_faults(self, rate: float, kinds: tuple[str, ...] | list[str] | None = None, *,
                   seed: int | None = None, timeout_hold_s: float | None = None) -> ChaosConfig:
        changes: dict[str, Any] = {"fault_rate": float(rate)}
        if kinds is not None:
            changes["kinds"] = tuple(kinds)
        if seed is not None:
            changes["seed"] = int(seed)
        if timeout_hold_s is not None:
            changes["timeout_hold_s"] = float(timeout_hold_s)
        return self.chaos.configure(**changes)

    def inject_fault(self, kind: str, count: int = 1) -> None:
        self.chaos.inject(kind, count)

    def set_limits(self, **changes: Any) -> LimitConfig:
        """``per_minute``, ``per_second``, ``concurrent``, ``batch_per_minute`` (0 = off), ``throttle_shape``."""
        return self.limiter.configure(**changes)

    def expire_access_tokens(self, realm: str | None = None) -> None:
        self.oauth.expire_access_tokens(realm or self.info["realm_id"])

    def revoke_tokens(self, realm: str | None = None) -> None:
        self.oauth.revoke_realm(realm or self.info["realm_id"])

    def set_webhook(self, url: str | None, fmt: str = "legacy", *,
                    retry_schedule: tuple[float, ...] | None = None, coalesce_s: float | None = None) -> None:
        """Start delivering change events to ``url`` (``None`` stops delivery; queued events are dropped)."""
        with self._webhook_lock:
            if self.webhooks is not None:
                self.webhooks.stop()
                self.webhooks = None
            if url:
                cfg = WebhookConfig(url, self.oauth.client.verifier_token, fmt,
                                    tuple(retry_schedule or self.options.webhook_retry_schedule),
                                    self.options.webhook_coalesce_s if coalesce_s is None else coalesce_s)
                self.webhooks = WebhookDispatcher(cfg)
                self.webhooks.start()

    def _on_change(self, event: Any) -> None:
        dispatcher = self.webhooks  # read once: set_webhook may swap it concurrently
        if dispatcher is not None:
            dispatcher.enqueue(event)

    def stats_snapshot(self) -> dict[str, Any]:
        return {"realms": self.stats.snapshot(), "oauth": dict(self.oauth.counts),
                "throttled": self.limiter.throttled_count, "injected": dict(self.chaos.injected),
                "webhooks": self.webhooks.stats() if self.webhooks else None}

    # ---- HTTP ------------------------------------------------------------------------------------------------------
    def _dispatch(self, request: Request) -> Response:
        if request.path == "/v3" or request.path.startswith("/v3/"):
            return self.api.handle(request)
        if request.path.startswith("/_sandbox/"):
            return self._control(request)
        if self.oauth.handles(request.path):
            return self.oauth.handle(request, self.base_url)
        return Response(404, {"Content-Type": "text/plain"}, b"Not Found")

    def _control(self, request: Request) -> Response:
        name = request.path[len("/_sandbox/"):].strip("/")
        try:
            body = json.loads(request.body or b"{}") if request.method == "POST" else {}
            if not isinstance(body, dict):
                raise TypeError("body must be a JSON object")
            doc = self._control_action(name, request.method, body)
        except (ValueError, TypeError, KeyError) as exc:
            return Response.json(400, {"error": f"{type(exc).__name__}: {exc}"})
        if doc is None:
            return Response.json(404, {"error": f"unknown control endpoint {name!r}"})
        return Response.json(200, doc)

    def _control_action(self, name: str, method: str, body: dict[str, Any]) -> dict[str, Any] | None:
        post = method == "POST"
        if name == "info":
            return {**self.info, "realms": self.store.realms(), "now": qbo_time(self.clock.now())}
        if name == "clock":
            if post:
                self.advance_clock(float(body["advance_seconds"]))
            return {"now": qbo_time(self.clock.now()), "timestamp": self.clock.timestamp()}
        if name == "faults":
            if post:
                self._control_faults(body)
            cfg = self.chaos.config
            return {"seed": cfg.seed, "latency_ms": cfg.latency_ms, "jitter_ms": cfg.jitter_ms,
                    "fault_rate": cfg.fault_rate, "kinds": list(cfg.kinds), "timeout_hold_s": cfg.timeout_hold_s,
                    "injected": dict(self.chaos.injected)}
        if name == "limits":
            if post:
                if body.pop("reset", False):
                    self.limiter.reset()
                if body:
                    self.set_limits(**body)
            return dict(vars(self.limiter.config))
        if name == "stats":
            if post and body.get("reset"):
                self.stats.reset()
            return self.stats_snapshot()
        if name == "companies" and post:
            allowed = {"seed", "items", "vendors", "customers", "invoices", "company_name"}
            return self.add_company(**{k: v for k, v in body.items() if k in allowed})
        if name == "tokens" and post:
            action = body["action"]
            if action not in ("expire_access", "revoke"):
                raise ValueError("action must be expire_access or revoke")
            (self.expire_access_tokens if action == "expire_access" else self.revoke_tokens)(body.get("realm_id"))
            return {"ok": True}
        if name == "webhooks":
            if post:
                self.set_webhook(body.get("url"), body.get("format", "legacy"),
                                 retry_schedule=tuple(body["retry_schedule"]) if "retry_schedule" in body else None,
                                 coalesce_s=body.get("coalesce_s"))
            return {"stats": self.webhooks.stats() if self.webhooks else None}
        return None

    def _control_faults(self, body: dict[str, Any]) -> None:
        if "latency_ms" in body or "jitter_ms" in body:
            cfg = self.chaos.config
            self.set_latency(body.get("latency_ms", cfg.latency_ms), body.get("jitter_ms", cfg.jitter_ms))
        if any(k in body for k in ("rate", "fault_rate", "kinds", "seed", "timeout_hold_s")):
            self.set_faults(body.get("rate", body.get("fault_rate", self.chaos.config.fault_rate)),
                            body.get("kinds"), seed=body.get("seed"), timeout_hold_s=body.get("timeout_hold_s"))
        if body.get("clear"):
            self.chaos.clear_script()
        for entry in body.get("inject", []):
            self.inject_fault(str(entry["kind"]), int(entry.get("count", 1)))
