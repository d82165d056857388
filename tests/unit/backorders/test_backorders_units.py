"""Pure pieces of the stored ledger: row round trips, the company day, and the report's table text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from syncd.backorders.service import company_today
from syncd.backorders.store import event_row, pegs_from_json, pegs_to_json, state_from_row, state_row
from syncd.commands.backorders import qty, render_table
from syncd.ledger.model import LedgerEvent, LineKey, LineState, Peg

T = datetime(2025, 3, 1, 9, tzinfo=UTC)
PEG = Peg("77", "PO-1001", "1", "9", Decimal("2.5"), date(2025, 3, 10), "due")


def _state(**kw: object) -> LineState:
    base: dict[str, object] = dict(
        key=LineKey("Invoice", "12", "1"), item_id="5", item_name="Blue Widget", customer_id="3",
        customer_name="Acme Corp", doc_number="1042", txn_date=date(2025, 2, 27), ordered=Decimal(4),
        backordered=Decimal("2.5"), fill_rank=0, short_since=T, eta=date(2025, 3, 10), eta_kind="po",
        pegged=(PEG,),
    )
    return LineState(**(base | kw))  # type: ignore[arg-type]


class _Row:
    def __init__(self, mapping: dict[str, object]) -> None:
        self._mapping = mapping


def test_state_row_round_trip_keeps_every_field() -> None:
    for state in (_state(), _state(eta=None, eta_kind="unknown", pegged=(), oversold=True),
                  _state(eta_kind="estimate", estimate_basis=date(2025, 3, 1), overdue_eta=date(2025, 2, 1))):
        assert state_from_row(_Row(state_row("acme", state, T))) == state
    assert pegs_from_json(pegs_to_json((PEG, PEG))) == (PEG, PEG)


def test_event_row_names_the_line() -> None:
    event = LedgerEvent("opened", LineKey("SalesReceipt", "8", "2"), "5", "3", None, T, Decimal(0), Decimal(2),
                        None, date(2025, 3, 10), None, "po", "2 of 2 short")
    row = event_row("acme", event)
    assert (row["doc_type"], row["doc_id"], row["line_id"], row["kind"]) == ("SalesReceipt", "8", "2", "opened")


def test_company_today_uses_the_zone_else_utc() -> None:
    late = datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
    assert company_today(late) == date(2025, 3, 1)
    assert company_today(late, "Asia/Tokyo") == date(2025, 3, 2)
    assert company_today(late.astimezone(timezone(timedelta(hours=5)))) == date(2025, 3, 1)
    with pytest.raises(ValueError):
        company_today(datetime(2025, 3, 1))


@pytest.mark.parametrize(("value", "text"), [("4.00000000", "4"), ("2.50", "2.5"), ("1E+1", "10"),
                                             ("0.125", "0.125")])
def test_quantities_print_without_trailing_zeros(value: str, text: str) -> None:
    assert qty(Decimal(value)) == text


def test_table_is_aligned_with_estimates_marked_and_a_total() -> None:
    est = _state(key=LineKey("SalesReceipt", "13", "2"), customer_id="4", customer_name="Bob's Shop",
                 doc_number=None, backordered=Decimal(3), ordered=Decimal(3), fill_rank=1,
                 eta=date(2025, 3, 20), eta_kind="estimate", pegged=(), estimate_basis=date(2025, 3, 1))
    text = render_table([_state(), est], "item", "acme", date(2025, 3, 1))
    lines = text.splitlines()
    header = next(ln for ln in lines if "Customer" in ln)
    rows = [ln for ln in lines if "Blue Widget" in ln and ln.startswith("  ") and "-" not in ln[:4]]
    assert len(rows) == 2
    for col in ("Short since", "ETA", "PO"):
        assert all(r[header.index(col):].strip() for r in rows[:1])
    assert "2025-03-20 est." in rows[1] and "SalesReceipt 13" in rows[1] and "PO-1001" in rows[0]
    assert lines[-1] == "Total: 5.5 short on 2 line(s), 1 item(s), 2 customer(s)"
    assert render_table([], "item", "acme", date(2025, 3, 1)) == "acme: no backorders.\n"


def test_table_flags_po_etas_that_have_passed_but_not_estimates() -> None:
    late = _state(eta=date(2025, 3, 10), eta_kind="po")
    est = _state(key=LineKey("Invoice", "99", "1"), eta=date(2025, 3, 10), eta_kind="estimate", pegged=(),
                 estimate_basis=date(2025, 3, 1))
    before = render_table([late], "item", "acme", date(2025, 3, 10))
    after = render_table([late, est], "item", "acme", date(2025, 3, 11))
    assert "2025-03-10 OVERDUE" not in before and "2025-03-10" in before
    # the PO-covered row is overdue; the estimate is not, and the item is "all in" only by the estimate
    assert after.count("2025-03-10 OVERDUE") == 1
    assert "all in by 2025-03-10 est." in after
    alone = render_table([late], "item", "acme", date(2025, 3, 11))
    assert "all in by 2025-03-10 OVERDUE" in alone
