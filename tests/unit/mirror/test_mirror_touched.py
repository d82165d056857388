"""Which items a mirror write queues for the ledger (``apply_plan``'s touched set), on SQLite and PostgreSQL.

A customer's name is shown on every backordered line of its documents, so a rename queues their items; nothing
else about a customer does, and neither does a customer new to the mirror (it has no mirrored document yet) —
except one released from quarantine, whose documents may already be mirrored under a stand-in name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from syncd.mirror.db import make_engine, make_session_factory, run_in_transaction, upgrade
from syncd.sync import apply as A
from syncd.sync.plan import Held, plan_entity

NOW = datetime(2026, 3, 1, tzinfo=UTC)
STAMP = {"MetaData": {"LastUpdatedTime": "2026-03-01T10:00:00+00:00"}, "SyncToken": "0"}


def _customer(ident: str, name: str, **more: Any) -> dict[str, Any]:
    return {"Id": ident, "DisplayName": name, **STAMP, **more}


def _invoice(ident: str, customer: str, items: list[str]) -> dict[str, Any]:
    return {"Id": ident, "TxnDate": "2026-02-01", "CustomerRef": {"value": customer}, **STAMP,
            "Line": [{"Id": str(n + 1), "Amount": 5, "DetailType": "SalesItemLineDetail",
                      "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": 1, "UnitPrice": 5}}
                     for n, item in enumerate(items)]}


def test_customer_writes_queue_the_items_of_its_documents_only_when_its_name_changes(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = make_session_factory(engine)

    def write(entity: str, docs: list[dict[str, Any]], held: dict[str, Held] | None = None) -> set[str]:
        plan = plan_entity(entity, docs, {}, held or {}, lambda refs: refs)
        return set(run_in_transaction(sessions, lambda s: A.apply_plan(s, "co", plan, NOW)))

    try:
        assert write("Customer", [_customer("1", "Acme")]) == set()  # new: no document of it is mirrored
        assert write("Invoice", [_invoice("100", "1", ["10", "11"]), _invoice("101", "2", ["12"])]) == {
            "10", "11", "12"}
        # customer 2 was held in quarantine while its invoice was mirrored; its release shows its real name
        assert write("Customer", [_customer("2", "Beta")], {"2": Held(None, "bad", "x")}) == {"12"}
        assert write("Customer", [_customer("1", "Acme", Notes="a note", Balance=40)]) == set()
        assert write("Customer", [_customer("1", "Acme Trading")]) == {"10", "11"}
        assert write("Customer", [_customer("3", "Gamma")]) == set()
    finally:
        engine.dispose()
