"""Point a third-party QuickBooks connector at the local sandbox without editing its installed files.

Python imports ``sitecustomize`` at start-up from ``sys.path``; the benchmark puts this directory on the peer's
``PYTHONPATH`` and sets ``BENCH_QBO_BASE`` (e.g. ``http://127.0.0.1:8123``). Every request that ``requests`` sends
to one of Intuit's hard-coded hosts is rewritten, just before it goes on the wire, to the same path on that base
(the sandbox serves the API under ``/v3`` and the token endpoint at Intuit's path ``/oauth2/v1/tokens/bearer``).
Rewriting in ``HTTPAdapter.send`` sits below every session, cache and OAuth layer, so the connector's own code —
URL building, OAuth refresh, retries — runs unchanged. Requests to any other host are refused, so a connector
cannot reach the internet by a path the shim does not know about.
"""

from __future__ import annotations

import os

_BASE = os.environ.get("BENCH_QBO_BASE", "").rstrip("/")
_INTUIT = (
    "https://quickbooks.api.intuit.com",
    "https://sandbox-quickbooks.api.intuit.com",
    "https://oauth.platform.intuit.com",
)


def _install() -> None:
    import requests.adapters

    original = requests.adapters.HTTPAdapter.send

    def send(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        url = request.url or ""
        for host in _INTUIT:
            if url.startswith(host + "/") or url == host:
                request.url = _BASE + url[len(host):]
                break
        else:
            if not url.startswith(_BASE + "/"):
                raise requests.exceptions.ConnectionError(f"bench redirect: refusing non-sandbox URL {url[:80]}")
        return original(self, request, *args, **kwargs)

    requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]


if _BASE:
    _install()
