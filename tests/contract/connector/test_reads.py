"""Backfill-style reads against the sandbox: paging, counts, Decimal numbers, read, faults."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from syncd.connectors.base import QBOError
from syncd.connectors.quickbooks import QuickBooksConnector, quote


def walk_numbers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in walk_numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in walk_numbers(v)]
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return [value]
    return []


def page_all(conn: QuickBooksConnector, entity: str, size: int, **kw: Any) -> tuple[list[dict], int]:
    rows: list[dict] = []
    start, pages = 1, 0
    while True:
        page = conn.query_page(entity, start=start, max_results=size, **kw)
        pages += 1
        if not page:
            return rows, pages
        assert len(page) <= size
        rows += page
        start += len(page)


def test_paging_covers_every_row_once_and_matches_count(connector: QuickBooksConnector) -> None:
    total = connector.count("Item")
    assert total > 0
    rows, pages = page_all(connector, "Item", 7)
    ids = [r["Id"] for r in rows]
    assert len(ids) == total == len(set(ids))
    assert pages == -(-total // 7) + 1  # full pages, then the empty page that ends the backfill
    assert ids == sorted(ids, key=int)  # ORDERBY Id keeps pages stable
    # Items are selected with "*, Sku": the key comes back wherever QBO has one.
    assert any("Sku" in r for r in rows)


def test_include_inactive_adds_the_inactive_rows(connector: QuickBooksConnector) -> None:
    everything = connector.count("Item")
    active = connector.count("Item", include_inactive=False)
    inactive = connector.count("Item", where="Active = false")
    assert active + inactive == everything
    rows, _ = page_all(connector, "Item", 1000, include_inactive=False)
    assert all(r.get("Active", True) is True for r in rows)


def test_where_filter_and_empty_pages(connector: QuickBooksConnector) -> None:
    item = connector.query_page("Item", max_results=1)[0]
    same = connector.query_page("Item", where=f"Name = {quote(item['Name'])}")
    assert [r["Id"] for r in same] == [item["Id"]]
    assert connector.query_page("Item", where="Name = 'no such item at all'") == []
    assert connector.count("Item", where="Name = 'no such item at all'") == 0
    past_end = connector.count("Item") + 10
    assert connector.query_page("Item", start=past_end) == []


def test_every_number_is_decimal_never_float(connector: QuickBooksConnector) -> None:
    numbers = []
    for entity in ("Item", "Invoice"):
        for row in connector.query_page(entity, max_results=50):
            numbers += walk_numbers(row)
    assert numbers, "the sandbox data has numbers"
    assert not [n for n in numbers if isinstance(n, float)]
    # Every fractional amount arrives as an exact Decimal; integers may stay int (exact too).
    fractional = [n for n in numbers if isinstance(n, Decimal) and n != n.to_integral_value()]
    assert fractional
    assert all(type(n) in (Decimal, int) for n in numbers)


def test_read_by_id_and_not_found(connector: QuickBooksConnector) -> None:
    first = connector.query_page("Invoice", max_results=1)[0]
    again = connector.read("Invoice", first["Id"])
    assert again["Id"] == first["Id"] and again["SyncToken"] == first["SyncToken"]
    assert again["TotalAmt"] == first["TotalAmt"] and isinstance(again["TotalAmt"], (Decimal, int))
    with pytest.raises(QBOError) as err:
        connector.read("Invoice", "987654321")
    assert err.value.code == "610" and err.value.status == 400


def test_invalid_query_is_a_qbo_error_with_its_code(connector: QuickBooksConnector) -> None:
    with pytest.raises(QBOError) as err:
        connector.query_page("Item", where="Nonsense ~~ 1")
    assert err.value.code == "4001"
    assert err.value.status == 400


def test_one_call_is_one_request(connector: QuickBooksConnector) -> None:
    connector.count("Vendor")  # first call also refreshes the token
    before = connector.stats
    connector.count("Vendor")
    connector.query_page("Vendor")
    connector.read("Vendor", connector.query_page("Vendor", max_results=1)[0]["Id"])
    assert (connector.stats - before).calls == 4
