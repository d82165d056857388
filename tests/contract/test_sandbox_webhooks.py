"""Webhook delivery: signed as python-quickbooks verifies, legacy and CloudEvents, retried until acknowledged."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from quickbooks import QuickBooks
from quickbooks.objects.vendor import Vendor


class Receiver:
    """A local webhook endpoint that fails the first ``fail_first`` deliveries with HTTP 500."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.deliveries: list[tuple[int, str, str]] = []  # (answered status, body, signature)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                with receiver.lock:
                    status = 500 if len(receiver.deliveries) < receiver.fail_first else 200
                    receiver.deliveries.append((status, body, self.headers.get("intuit-signature", "")))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, n_ok: int, timeout: float = 10.0) -> list[tuple[int, str, str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if sum(1 for d in self.deliveries if d[0] == 200) >= n_ok:
                    return list(self.deliveries)
            time.sleep(0.05)
        raise AssertionError(f"only {self.deliveries} delivered")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def _make(fail_first: int = 0) -> Receiver:
        made.append(Receiver(fail_first))
        return made[-1]

    yield _make
    for r in made:
        r.close()


def _create_vendors(qb, *names: str) -> list[str]:
    ids = []
    for name in names:
        v = Vendor()
        v.DisplayName = name
        ids.append(v.save(qb=qb).Id)
    return ids


def test_legacy_delivery_is_signed_batched_in_order_and_retried(sandbox, qb, receiver):
    rx = receiver(fail_first=2)
    sandbox.set_webhook(rx.url, "legacy", retry_schedule=(0.05, 0.1), coalesce_s=0.5)
    ids = _create_vendors(qb, "Hook One", "Hook Two")
    deliveries = rx.wait_for(1)
    assert [d[0] for d in deliveries] == [500, 500, 200]
    assert deliveries[0][1] == deliveries[2][1]  # the same body is retried
    _status, body, signature = deliveries[-1]
    verifier = QuickBooks(verifier_token=sandbox.info["verifier_token"], minorversion=75)
    assert verifier.validate_webhook_signature(body, signature)
    assert not verifier.validate_webhook_signature(body + " ", signature)
    doc = json.loads(body)
    [note] = doc["eventNotifications"]
    assert note["realmId"] == sandbox.info["realm_id"]
    ents = note["dataChangeEvent"]["entities"]
    assert [(e["name"], e["id"], e["operation"]) for e in ents] == [("Vendor", ids[0], "Create"),
                                                                     ("Vendor", ids[1], "Create")]
    assert ents[0]["lastUpdated"].endswith("Z")
    deadline = time.monotonic() + 5  # the dispatcher books the delivery just after the receiver answered
    while sandbox.webhooks.stats()["delivered_events"] < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    stats = sandbox.webhooks.stats()
    assert (stats["attempts"], stats["delivered_events"], stats["failed_attempts"]) == (3, 2, 2)


def test_cloudevents_delivery(sandbox, qb, receiver):
    rx = receiver()
    sandbox.set_webhook(rx.url, "cloudevents", retry_schedule=(0.05,), coalesce_s=0.05)
    [vid] = _create_vendors(qb, "Cloud Vendor")
    _, body, signature = rx.wait_for(1)[-1]
    verifier = QuickBooks(verifier_token=sandbox.info["verifier_token"], minorversion=75)
    assert verifier.validate_webhook_signature(body, signature)
    [event] = json.loads(body)
    assert event["specversion"] == "1.0" and event["type"] == "qbo.vendor.created.v1"
    assert (event["intuitentityid"], event["intuitaccountid"]) == (vid, sandbox.info["realm_id"])
    assert event["datacontenttype"] == "application/json" and event["data"] == {}
