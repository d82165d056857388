"""What a planning pass reads: sales lines only when some table uses ``reorder_point = "auto"`` (demand is no
input of any other rule), and the Item rows as columns, not as whole mirrored objects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from syncd.mirror.db import make_engine, make_session_factory, upgrade
from syncd.purchasing.planner import make_plan
from syncd.rules.config import ReorderConfig

SALES = re.compile(r"\b(invoice_line|sales_receipt_line)\b")


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def statements(engine: Engine, config: ReorderConfig) -> list[str]:
    seen: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        with make_session_factory(engine)() as s:
            make_plan(s, "c", config, "P1", date(2026, 3, 2))
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return seen


def test_no_auto_rule_reads_no_sales_lines(engine: Engine) -> None:
    config = ReorderConfig.model_validate({"mode": "plan", "defaults": {"min": 5, "max": 20}})
    seen = statements(engine, config)
    assert seen and not [s for s in seen if SALES.search(s)]
    item = [s for s in seen if re.search(r"\bFROM item\b", s)]
    assert item and all(" raw" not in s for s in item), item


def test_auto_rule_reads_demand_summed_by_the_database(engine: Engine) -> None:
    config = ReorderConfig.model_validate({"mode": "plan", "rule": [
        {"match": "*", "reorder_point": "auto", "lead_time_days": 7, "cover_days": 14}]})
    sales = [s for s in statements(engine, config) if SALES.search(s)]
    assert len(sales) == 2 and all("GROUP BY" in s for s in sales), sales
