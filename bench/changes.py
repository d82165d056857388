"""The benchmark's change set: exactly 1,000 changed objects across the mirrored entities, the same for every
contender.

Every contender starts from a byte-identical copy of the seeded state file, so the Ids and SyncTokens recorded
once at preparation (``ids.json``) hold for each of them and the same seeded RNG picks the same objects. The
changes go through the QBO API (sparse updates with ``requestid``, plus new customers), with the sandbox's
throttles lifted and its latency at zero while they are made — making them is setup, not measurement — and
restored afterwards. Sparse updates of header fields (notes, memo, price) do not move stock, so no Item changes
as a side effect: one change is one changed object.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness import Api

#: entity → number of changed objects (sums to 1,000). Customers: half updated, half created.
PLAN: dict[str, int] = {
    "Item": 300, "Customer": 100, "Vendor": 50, "Invoice": 350, "SalesReceipt": 100, "PurchaseOrder": 50,
    "Bill": 50,
}
NEW_CUSTOMERS = 50
SEED = 2026


def _update_body(entity: str, ident: str, token: str, n: int) -> dict[str, Any]:
    body: dict[str, Any] = {"Id": ident, "SyncToken": token, "sparse": True}
    if entity == "Item":
        body["UnitPrice"] = round(10 + n % 90 + 0.99, 2)
    elif entity in ("Customer", "Vendor"):
        body["Notes"] = f"bench change {n}"
    elif entity == "PurchaseOrder":
        body["Memo"] = f"bench change {n}"
    else:
        body["PrivateNote"] = f"bench change {n}"
    return body


def plan_changes(ids: dict[str, dict[str, str]]) -> list[tuple[str, dict[str, Any]]]:
    """The (entity, body) writes, deterministic given the seeded state's Ids and SyncTokens."""
    rng = random.Random(SEED)
    writes: list[tuple[str, dict[str, Any]]] = []
    n = 0
    for entity, total in PLAN.items():
        pool = sorted(ids[entity], key=int)
        # Small smoke-test companies have fewer objects than the plan; the full-size run changes exactly PLAN.
        updates = min(total - (NEW_CUSTOMERS if entity == "Customer" else 0), len(pool))
        for ident in sorted(rng.sample(pool, updates), key=int):
            writes.append((entity, _update_body(entity, ident, ids[entity][ident], n)))
            n += 1
    for k in range(NEW_CUSTOMERS):
        writes.append(("Customer", {"DisplayName": f"Bench New Customer {k + 1}", "GivenName": "Bench",
                                    "FamilyName": f"Customer{k + 1}",
                                    "PrimaryEmailAddr": {"Address": f"bench{k + 1}@example.com"}}))
    return writes


def apply_changes(api: Api, ids: dict[str, dict[str, str]], *, threads: int = 8) -> dict[str, dict[str, str]]:
    """Make the writes; returns entity → {Id: SyncToken after the change} (what a contender must end up with)."""
    writes = plan_changes(ids)

    def one(job: tuple[int, tuple[str, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
        k, (entity, body) = job
        return entity, api.post(entity, body, request_id=f"bench-change-{k}")

    changed: dict[str, dict[str, str]] = {}
    with ThreadPoolExecutor(threads) as pool:
        for entity, doc in pool.map(one, enumerate(writes)):
            changed.setdefault(entity, {})[doc["Id"]] = doc["SyncToken"]
    return changed
