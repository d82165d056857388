"""Property: after a plan is pushed (mode auto) and mirrored, replanning proposes nothing for the same items.

In-process on SQLite: random stock and rules are written to the mirror through the sync's own parser and
writer; POs are "created" by a fake QBO that assigns Ids and keeps documents (and answers the PrivateNote
LIKE search), then re-mirrored as a sync would. Also: the outbox's unmirrored intents alone prevent a re-order.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from syncd.mirror.db import SessionFactory, make_engine, make_session_factory, run_in_transaction, upgrade
from syncd.purchasing.cycle import run_reorder
from syncd.purchasing.executor import mirror_po
from syncd.purchasing.inputs import read_open_pos
from syncd.purchasing.models import POIntent
from syncd.purchasing.planner import make_plan
from syncd.rules.config import ReorderConfig
from syncd.sync import apply as A
from syncd.sync.plan import plan_entity

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
STAMP = {"MetaData": {"LastUpdatedTime": "2026-03-01T10:00:00+00:00"}, "SyncToken": "0"}
_companies = itertools.count()


class FakeQBO:
    """Creates POs like QBO (Id, DocNumber, line Ids, requestid replay) and answers PrivateNote LIKE searches."""

    def __init__(self) -> None:
        self.pos: dict[str, dict[str, Any]] = {}
        self.by_request: dict[str, dict[str, Any]] = {}

    def create(self, entity: str, body: dict[str, Any], *, request_id: str) -> dict[str, Any]:
        assert entity == "PurchaseOrder"
        if request_id in self.by_request:
            return self.by_request[request_id]
        ident = str(1000 + len(self.pos))
        lines = [dict(line, Id=str(n)) for n, line in enumerate(body["Line"], start=1)]
        total = sum((Decimal(line["Amount"]) for line in lines), Decimal(0))
        doc = dict(body, Line=lines, Id=ident, DocNumber=ident, TotalAmt=total, **STAMP)
        self.pos[ident] = doc
        self.by_request[request_id] = doc
        return doc

    def query_page(self, entity: str, *, where: str | None = None, start: int = 1, **_: Any) -> list[dict[str, Any]]:
        assert where is not None and where.startswith("PrivateNote LIKE '%")
        needle = where.split("'%", 1)[1].rsplit("%'", 1)[0]
        hits = [d for d in self.pos.values() if needle in d.get("PrivateNote", "")]
        return hits[start - 1:start - 1 + 1000]


def load(sessions: SessionFactory, company: str, entity: str, docs: list[dict[str, Any]]) -> None:
    def work(session: Any) -> None:
        plan = plan_entity(entity, docs, A.load_existing(session, company, entity, [d["Id"] for d in docs]), {},
                           lambda refs: A.known_items(session, company, refs))
        assert not plan.quarantine, plan.quarantine
        A.apply_plan(session, company, plan, NOW)

    run_in_transaction(sessions, work)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionFactory]:
    path: Path = tmp_path_factory.mktemp("prop") / "m.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


item_st = st.fixed_dictionaries({
    "on_hand": st.integers(-20, 80), "reorder_point": st.one_of(st.none(), st.integers(0, 30)),
    "cost": st.decimals(Decimal("0.01"), Decimal(300), places=2), "vendor": st.integers(0, 2),
})
rule_st = st.fixed_dictionaries({
    "size": st.sampled_from(["max", "reorder_qty"]), "qty": st.integers(1, 50), "multiple": st.sampled_from([None, 1, 4, 6]),
    "moq": st.sampled_from([None, 5, 24]), "rounding": st.sampled_from(["up", "down_within_max", "none"]),
    "max_qty": st.sampled_from([None, 10, 30]),
})


def config_of(rule: dict[str, Any]) -> ReorderConfig:
    defaults: dict[str, Any] = {"min": 10, "rounding": rule["rounding"]}
    defaults["max" if rule["size"] == "max" else "reorder_qty"] = (
        10 + rule["qty"] if rule["size"] == "max" else rule["qty"])
    for key in ("multiple", "moq"):
        if rule[key] is not None:
            defaults[key] = rule[key]
    rules: list[dict[str, Any]] = []
    if rule["max_qty"] is not None:
        rules.append({"match": "*", "max_qty": rule["max_qty"],
                      "alternates": [{"vendor": "V1"}, {"vendor": "V2"}], "vendor": "V0"})
    return ReorderConfig.model_validate({"mode": "auto", "defaults": defaults, "rule": rules})


def seed(sessions: SessionFactory, company: str, items: list[dict[str, Any]]) -> None:
    load(sessions, company, "Vendor", [{"Id": str(v), "DisplayName": f"V{v}", "Active": True, **STAMP}
                                       for v in range(3)])
    load(sessions, company, "Account", [{"Id": "33", "Name": "A/P", "AccountType": "Accounts Payable", **STAMP}])
    load(sessions, company, "Item", [
        {"Id": str(100 + n), "Name": f"Item {n:03}", "Type": "Inventory", "TrackQtyOnHand": True, "Active": True,
         "QtyOnHand": it["on_hand"], "PurchaseCost": it["cost"], "PrefVendorRef": {"value": str(it["vendor"])},
         **({"ReorderPoint": it["reorder_point"]} if it["reorder_point"] is not None else {}), **STAMP}
        for n, it in enumerate(items)])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(item_st, min_size=1, max_size=8), rule=rule_st)
def test_after_push_and_sync_replanning_orders_nothing(sessions: SessionFactory, items: list[dict[str, Any]],
                                                       rule: dict[str, Any]) -> None:
    company = f"c{next(_companies)}"
    seed(sessions, company, items)
    config, qbo = config_of(rule), FakeQBO()
    first = run_reorder(company, config, qbo, sessions, lambda: NOW)
    with sessions() as s:
        rows = list(s.execute(select(POIntent).where(POIntent.company == company)).scalars())
    assert all(r.status == "created" for r in rows) and len(qbo.pos) == len(rows) == first.created
    load(sessions, company, "PurchaseOrder", list(qbo.pos.values()))  # the next sync brings the same POs
    with sessions() as s:
        again = make_plan(s, company, config, "replan", NOW.date())
    assert not again.plan.pos, [p.private_note for p in again.plan.pos]
    second = run_reorder(company, config, qbo, sessions, lambda: NOW)
    assert second.created == 0 and len(qbo.pos) == len(rows)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(item_st, min_size=1, max_size=6), rule=rule_st)
def test_unmirrored_approved_intents_count_as_on_order(sessions: SessionFactory, items: list[dict[str, Any]],
                                                       rule: dict[str, Any]) -> None:
    company = f"c{next(_companies)}"
    seed(sessions, company, items)
    config = config_of(rule).model_copy(update={"mode": "approve"})
    run_reorder(company, config, FakeQBO(), sessions, lambda: NOW)  # all pending, nothing pushed
    with sessions() as s:
        again = make_plan(s, company, config, "replan", NOW.date())
    assert not again.plan.pos


def test_mirror_po_is_idempotent(sessions: SessionFactory) -> None:
    company = f"c{next(_companies)}"
    seed(sessions, company, [{"on_hand": 0, "reorder_point": 5, "cost": Decimal("2.50"), "vendor": 0}])
    doc = FakeQBO().create("PurchaseOrder", {"VendorRef": {"value": "0"}, "POStatus": "Open", "PrivateNote": "x",
                                             "Line": [{"Amount": Decimal(5), "DetailType": "ItemBasedExpenseLineDetail",
                                                       "ItemBasedExpenseLineDetail": {"ItemRef": {"value": "100"},
                                                                                      "Qty": 2, "UnitPrice": Decimal("2.5")}}]},
                           request_id="r")
    for _ in range(2):
        run_in_transaction(sessions, lambda s: mirror_po(s, company, doc, NOW))
    with sessions() as s:
        open_pos = read_open_pos(s, company)
    assert [(p.remaining, p.hand_typed) for p in open_pos["100"]] == [(Decimal(2), True)]
