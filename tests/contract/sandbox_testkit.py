"""Helpers shared by the contract tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import warnings
from typing import Any


def auth_client(info: dict[str, Any]) -> Any:
    from intuitlib.client import AuthClient

    return AuthClient(info["client_id"], info["client_secret"], info["redirect_uri"],
                      environment=info["discovery_url"])


def make_qb(info: dict[str, Any], refresh_token: str | None = None, realm_id: str | None = None) -> Any:
    """A python-quickbooks client, unmodified, as a daemon would build it."""
    from quickbooks import QuickBooks

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        qb = QuickBooks(auth_client=auth_client(info), refresh_token=refresh_token or info["refresh_token"],
                        company_id=realm_id or info["realm_id"], minorversion=75)
    qb.api_url_v3 = info["api_base"]
    return qb


def record_statuses(qb: Any) -> list[int]:
    """HTTP statuses of every response the client receives (python-quickbooks hides them in its exceptions)."""
    seen: list[int] = []
    qb.session.hooks["response"].append(lambda r, *a, **k: seen.append(r.status_code))
    return seen


def bearer(qb: Any) -> dict[str, str]:
    return {"Authorization": "Bearer " + qb.auth_client.access_token, "Accept": "application/json"}


def company_url(info: dict[str, Any], suffix: str, realm_id: str | None = None) -> str:
    return f"{info['api_base']}/company/{realm_id or info['realm_id']}/{suffix}"


def item_id(sandbox: Any, realm_id: str | None = None) -> str:
    """Id of some active item, read from the store directly (no HTTP call, so request counts stay exact)."""
    found = sandbox.store.query(realm_id or sandbox.info["realm_id"], "select * from Item maxresults 1")
    return str(found["Item"][0]["Id"])
