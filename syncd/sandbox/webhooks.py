"""Webhook delivery (QBO_FACTS.md §8).

Contract:
* :meth:`WebhookDispatcher.enqueue` takes a change event (anything with ``realm, entity, id, operation,
  last_updated`` — :class:`syncd.sandbox.store.ChangeEvent`) and returns at once; it is safe to call from the store's
  listener while the store holds its lock.
* A background thread waits ``coalesce_s`` after the first queued event, then POSTs every queued event (up to
  ``max_batch``) in one body, in the order they happened: the legacy ``{"eventNotifications": [...]}`` document
  (one element per realm) or a CloudEvents JSON array.
* Header ``intuit-signature`` = base64(HMAC-SHA256(key=verifier token, msg=raw body)), which python-quickbooks'
  ``QuickBooks.validate_webhook_signature`` accepts.
* A delivery that does not get HTTP 200 within ``response_timeout_s`` (Intuit: 3 s) is retried with the *same* body
  after ``retry_schedule[n]`` seconds for the n-th failure, the last interval repeating for ever (Intuit: 0s, 10s,
  20s, 30s, 5m, 20m, 2h, 4h, 6h, then every 6h). Later events wait behind it, as Intuit says they may.
* Retry timing uses real time (a background thread sleeping), not the sandbox clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import urllib.error
import urllib.request
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

log = logging.getLogger("syncd.sandbox.webhooks")

QBO_RETRY_SCHEDULE: tuple[float, ...] = (0, 10, 20, 30, 300, 1200, 7200, 14400, 21600)
FORMATS = ("legacy", "cloudevents")
# CloudEvents ``type`` verbs. Only "created" appears in Intuit's sample; the others follow its pattern (UNCONFIRMED).
_CE_ACTIONS = {"Create": "created", "Update": "updated", "Delete": "deleted", "Void": "voided",
               "Merge": "merged", "Emailed": "emailed"}


class ChangeLike(Protocol):
    realm: str
    entity: str
    id: str
    operation: str
    last_updated: datetime


def sign(body: bytes, verifier_token: str) -> str:
    """The ``intuit-signature`` header value for ``body``."""
    digest = hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _utc_ms(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def legacy_payload(events: list[ChangeLike]) -> dict[str, Any]:
    """``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [...]}}]}``, realms in first-seen
    order, entities in event order."""
    by_realm: dict[str, list[dict[str, str]]] = {}
    for ev in events:
        by_realm.setdefault(ev.realm, []).append(
            {"id": ev.id, "operation": ev.operation, "name": ev.entity, "lastUpdated": _utc_ms(ev.last_updated)})
    return {"eventNotifications": [{"realmId": realm, "dataChangeEvent": {"entities": ents}}
                                   for realm, ents in by_realm.items()]}


def cloudevents_payload(events: list[ChangeLike], source: str) -> list[dict[str, Any]]:
    """A CloudEvents array as in qbo_samples/webhooks/cloudevents.json."""
    out = []
    for ev in events:
        action = _CE_ACTIONS.get(ev.operation, ev.operation.lower())
        out.append({
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": source,
            "type": f"qbo.{ev.entity.lower()}.{action}.v1",
            "datacontenttype": "application/json",
            "time": ev.last_updated.astimezone(UTC).isoformat(timespec="microseconds")
            .replace("+00:00", "Z"),
            "intuitentityid": ev.id,
            "intuitaccountid": ev.realm,
            "data": {},
        })
    return out


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    verifier_token: str
    format: str = "legacy"
    retry_schedule: tuple[float, ...] = QBO_RETRY_SCHEDULE
    coalesce_s: float = 0.2
    max_batch: int = 100
    response_timeout_s: float = 3.0
    source: str = "intuit.sandbox"

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"webhook format must be one of {FORMATS}")
        if not self.retry_schedule or any(s < 0 for s in self.retry_schedule):
            raise ValueError("retry_schedule needs at least one non-negative interval")
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("webhook url must be http(s)")


class WebhookDispatcher:
    """Queue + one delivery thread. ``start()``/``stop()``; ``stats()`` for tests and the control API."""

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self._queue: deque[ChangeLike] = deque()
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # Loopback receivers are the norm; never route deliveries through an environment proxy.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._stats: dict[str, int] = {
            "queued": 0, "attempts": 0, "delivered_batches": 0, "delivered_events": 0, "failed_attempts": 0,
        }
        self._last_status: int | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def enqueue(self, event: ChangeLike) -> None:
        with self._cond:
            self._queue.append(event)
            self._stats["queued"] += 1
            self._cond.notify()

    def stats(self) -> dict[str, Any]:
        with self._cond:
            return {**self._stats, "last_status": self._last_status, "pending": len(self._queue),
                    "format": self.config.format}

    def _run(self) -> None:
        cfg = self.config
        while not self._stopping.is_set():
            with self._cond:
                while not self._queue and not self._stopping.is_set():
                    self._cond.wait()
            if self._stopping.wait(cfg.coalesce_s):
                return
            with self._cond:
                batch = [self._queue.popleft() for _ in range(min(cfg.max_batch, len(self._queue)))]
            if not batch:
                continue
            doc: Any = (legacy_payload(batch) if cfg.format == "legacy"
                        else cloudevents_payload(batch, cfg.source))
            body = json.dumps(doc).encode("utf-8")
            failures = 0
            while not self._stopping.is_set():
                if self._post(body):
                    with self._cond:
                        self._stats["delivered_batches"] += 1
                        self._stats["delivered_events"] += len(batch)
                    break
                delay = cfg.retry_schedule[min(failures, len(cfg.retry_schedule) - 1)]
                failures += 1
                if self._stopping.wait(delay):
                    return

    def _post(self, body: bytes) -> bool:
        cfg = self.config
        req = urllib.request.Request(cfg.url, data=body, method="POST", headers={
            "Content-Type": "application/json",
            "intuit-signature": sign(body, cfg.verifier_token),
            "User-Agent": "syncd-sandbox-webhooks",
        })
        status: int | None
        try:
            with self._opener.open(req, timeout=cfg.response_timeout_s) as resp:
                status = resp.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError, ValueError) as exc:
            status = None
            log.info("webhook delivery failed: %s", type(exc).__name__)
        with self._cond:
            self._stats["attempts"] += 1
            self._last_status = status
            if status != 200:
                self._stats["failed_attempts"] += 1
        return status == 200
