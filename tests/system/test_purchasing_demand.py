"""``read_demand`` on SQLite and PostgreSQL: units per item and day, summed by the database over invoices and
sales receipts inside the window (exact decimals), nothing outside it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from syncd.mirror.db import make_engine, make_session_factory, run_in_transaction, upgrade
from syncd.purchasing.inputs import read_demand
from syncd.rules.reorder import DemandDay
from syncd.sync import apply as A
from syncd.sync.plan import plan_entity

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
STAMP = {"MetaData": {"LastUpdatedTime": "2026-03-01T10:00:00+00:00"}, "SyncToken": "0"}


def sale(ident: str, day: str, lines: list[tuple[str, str]]) -> dict[str, Any]:
    return {"Id": ident, "TxnDate": day, "CustomerRef": {"value": "1"}, **STAMP, "Line": [
        {"Id": str(n + 1), "DetailType": "SalesItemLineDetail", "Amount": Decimal(1),
         "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": Decimal(qty), "UnitPrice": Decimal(1)}}
        for n, (item, qty) in enumerate(lines)]}


def test_demand_is_summed_per_item_and_day(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)

        def load(entity: str, docs: list[dict[str, Any]]) -> None:
            def work(session: Any) -> None:
                plan = plan_entity(entity, docs, A.load_existing(session, "c", entity, [d["Id"] for d in docs]),
                                   {}, lambda refs: A.known_items(session, "c", refs))
                assert not plan.quarantine, plan.quarantine
                A.apply_plan(session, "c", plan, NOW)

            run_in_transaction(sessions, work)

        load("Item", [{"Id": i, "Name": f"I{i}", "Type": "Inventory", "TrackQtyOnHand": True, "Active": True,
                       "QtyOnHand": 5, **STAMP} for i in ("10", "11")])
        load("Invoice", [
            sale("1", "2026-03-01", [("10", "2.5"), ("11", "1")]),
            sale("2", "2026-03-01", [("10", "1.25")]),
            sale("3", "2026-02-20", [("10", "4")]),
            sale("4", "2026-01-01", [("10", "100")]),  # outside the 30-day window
        ])
        load("SalesReceipt", [sale("5", "2026-03-01", [("11", "3")])])
        with sessions() as s:
            got = read_demand(s, "c", date(2026, 3, 2), 30)
        assert got == {
            "10": [DemandDay(date(2026, 2, 20), Decimal(4)), DemandDay(date(2026, 3, 1), Decimal("3.75"))],
            "11": [DemandDay(date(2026, 3, 1), Decimal(4))],
        }
    finally:
        engine.dispose()
