"""Query language (QBO_FACTS §1) against the Store: grammar, filters, ordering, paging and errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sandbox_support import REALM, Company

from syncd.sandbox import query as q
from syncd.sandbox.faults import QBOFault
from syncd.sandbox.store import Store


def fault_code(exc: pytest.ExceptionInfo[QBOFault]) -> str:
    return exc.value.errors[0].code


@pytest.fixture
def vendors(store: Store, co: Company) -> list[dict]:
    """26 active vendors + 1 inactive, like the recorded sandbox company [VCR all__vendors_by_5]."""
    out = [co.vendor(f"Vendor {n:02d}", PrimaryEmailAddr={"Address": f"v{n}@example.com"}) for n in range(26)]
    out.append(co.vendor("United States Treasury (deleted)", Active=False))
    return out


def test_pqb_item_all_string_returns_sku(store: Store, co: Company) -> None:
    co.item("Pump", Sku="P-1")
    co.item("Hose")
    res = store.query(REALM, "SELECT *, Sku FROM Item STARTPOSITION 1 MAXRESULTS 1000")
    assert [i["Name"] for i in res["Item"]] == ["Pump", "Hose"]
    assert res["Item"][0]["Sku"] == "P-1"
    assert res["startPosition"] == 1 and res["maxResults"] == 2


def test_pqb_where_string_with_offsetless_timestamp(store: Store, co: Company) -> None:
    c = co.customer()
    it = co.item()
    old = co.sale("Invoice", c, [(it, 1, 10)])
    co.tick(3600)
    cutoff = q.from_us(q.to_us(co.clock.now()))
    co.tick(5)
    new = co.sale("Invoice", c, [(it, 1, 10)])
    # offset-less = company time (America/Los_Angeles)
    local = cutoff.astimezone(q.COMPANY_TZ).replace(tzinfo=None).isoformat(timespec="seconds")
    res = store.query(
        REALM,
        f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '{local}' "
        "ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 1000",
    )
    assert [i["Id"] for i in res["Invoice"]] == [new["Id"]]
    everything = store.query(
        REALM,
        "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '2020-01-01T00:00:00' "
        "ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 1000",
    )
    assert [i["Id"] for i in everything["Invoice"]] == [old["Id"], new["Id"]]


def test_timestamp_with_offset_compares_as_instant(store: Store, co: Company) -> None:
    co.vendor("A")
    at = co.clock.now()
    utc = (at - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    compact = (
        (at - timedelta(hours=1)).astimezone(q.COMPANY_TZ).strftime("%Y-%m-%dT%H:%M:%S%z")
    )  # -0700 style
    for literal in (utc, compact):
        assert store.query(
            REALM, f"SELECT COUNT(*) FROM Vendor WHERE MetaData.LastUpdatedTime >= '{literal}'"
        ) == {"totalCount": 1}
    later = (at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert store.query(REALM, f"select count(*) from vendor where metadata.lastupdatedtime > '{later}'") == {
        "totalCount": 0
    }


def test_lower_case_keywords_and_maxresults(store: Store, co: Company) -> None:
    for n in range(3):
        co.item(f"Item {n}")
    res = store.query(REALM, "select * from Item maxresults 2")
    assert res["maxResults"] == 2 and len(res["Item"]) == 2


def test_count_with_type_filter(store: Store, co: Company) -> None:
    co.item("Stocked")
    store.create(REALM, "Item", {"Name": "Labour", "Type": "Service", "IncomeAccountRef": co.ref("Services")})
    assert store.query(REALM, "SELECT COUNT(*) FROM Item WHERE Type = 'Inventory'") == {"totalCount": 1}
    assert store.query(REALM, "SELECT COUNT(*) FROM Item") == {"totalCount": 2}


def test_name_lists_default_to_active_only(store: Store, vendors: list[dict]) -> None:
    assert store.query(REALM, "SELECT COUNT(*) FROM Vendor") == {"totalCount": 26}
    res = store.query(REALM, "SELECT * FROM Vendor WHERE Active IN (true, false) MAXRESULTS 100")
    assert len(res["Vendor"]) == 27
    only = store.query(REALM, "SELECT * FROM Vendor WHERE Active = false")
    assert [v["DisplayName"] for v in only["Vendor"]] == ["United States Treasury (deleted)"]


def test_paging_by_five_like_recorded_sandbox(store: Store, vendors: list[dict]) -> None:
    """STARTPOSITION is 1-based; last page of 26 by 5 has maxResults 1; past the end → {} [VCR]."""
    seen = []
    for start in (1, 6, 11, 16, 21, 26):
        res = store.query(REALM, f"SELECT * FROM Vendor MAXRESULTS 5 STARTPOSITION {start}")
        assert res["startPosition"] == start
        seen += [v["Id"] for v in res["Vendor"]]
    assert res["maxResults"] == 1
    assert seen == [v["Id"] for v in vendors[:26]]  # stable numeric-Id order, no duplicates
    assert store.query(REALM, "SELECT * FROM Vendor STARTPOSITION 27 MAXRESULTS 5") == {}


def test_default_page_size_is_100(store: Store, co: Company) -> None:
    for n in range(105):
        co.vendor(f"V{n}")
    assert store.query(REALM, "SELECT * FROM Vendor")["maxResults"] == 100


def test_backslash_quote_escape(store: Store, co: Company) -> None:
    amy = co.customer("Amy's Bird Sanctuary")
    co.customer("Bill's Windsurf Shop")
    res = store.query(REALM, "SELECT * FROM Customer WHERE DisplayName = 'Amy\\'s Bird Sanctuary'")
    assert [c["Id"] for c in res["Customer"]] == [amy["Id"]]


def test_like_uses_percent_only(store: Store, co: Company) -> None:
    co.vendor("Garden_Supply")
    co.vendor("GardenXSupply")
    co.vendor("Rock Depot")
    res = store.query(REALM, "SELECT * FROM Vendor WHERE DisplayName LIKE 'Garden_%'")
    assert [v["DisplayName"] for v in res["Vendor"]] == ["Garden_Supply"]  # _ is literal
    assert store.query(REALM, "SELECT COUNT(*) FROM Vendor WHERE DisplayName LIKE '%supply'") == {
        "totalCount": 2
    }


def test_ref_properties_compare_by_value_and_in_list(store: Store, co: Company) -> None:
    c1, c2 = co.customer("One"), co.customer("Two")
    it = co.item()
    a = co.sale("Invoice", c1, [(it, 1, 5)])
    b = co.sale("Invoice", c2, [(it, 1, 5)])
    res = store.query(REALM, f"SELECT * FROM Invoice WHERE CustomerRef = '{c2['Id']}'")
    assert [i["Id"] for i in res["Invoice"]] == [b["Id"]]
    res = store.query(REALM, f"SELECT * FROM Invoice WHERE Id IN ('{a['Id']}', '{b['Id']}') ORDERBY Id DESC")
    assert [i["Id"] for i in res["Invoice"]] == [b["Id"], a["Id"]]


def test_numeric_and_comparison_operators(store: Store, co: Company) -> None:
    co.item("Few", qty=2)
    co.item("Many", qty=50)
    co.item("Short", qty=-3)
    def ask(where: str) -> list[str]:
        return [i["Name"] for i in store.query(REALM, f"SELECT * FROM Item WHERE {where}").get("Item", [])]

    assert ask("QtyOnHand < 5") == ["Few", "Short"]
    assert ask("QtyOnHand <= '2'") == ["Few", "Short"]
    assert ask("QtyOnHand >= 50") == ["Many"]
    assert ask("QtyOnHand > 0 AND Name = 'Many'") == ["Many"]
    assert ask("TrackQtyOnHand = true AND QtyOnHand < 0") == ["Short"]


def test_order_by_with_space_and_desc(store: Store, co: Company) -> None:
    for name in ("b", "C", "a"):
        co.vendor(name)
    res = store.query(REALM, "SELECT * FROM Vendor ORDER BY DisplayName DESC")
    assert [v["DisplayName"] for v in res["Vendor"]] == ["C", "b", "a"]
    res = store.query(REALM, "SELECT * FROM Vendor ORDERBY displayname")
    assert [v["DisplayName"] for v in res["Vendor"]] == ["a", "b", "C"]


def test_clause_order_swapped(store: Store, co: Company) -> None:
    for n in range(10):
        co.vendor(f"V{n}")
    res = store.query(REALM, "SELECT * FROM Vendor MAXRESULTS 2 STARTPOSITION 7")
    assert res["startPosition"] == 7 and [v["DisplayName"] for v in res["Vendor"]] == ["V6", "V7"]


def test_dotted_property(store: Store, co: Company) -> None:
    co.vendor("A", PrimaryEmailAddr={"Address": "a@x.com"})
    co.vendor("B", PrimaryEmailAddr={"Address": "b@x.com"})
    res = store.query(REALM, "SELECT * FROM Vendor WHERE PrimaryEmailAddr.Address = 'b@x.com'")
    assert [v["DisplayName"] for v in res["Vendor"]] == ["B"]


def test_empty_result_has_no_entity_key(store: Store) -> None:
    assert store.query(REALM, "SELECT * FROM Invoice") == {}


@pytest.mark.parametrize(
    ("statement", "detail"),
    [
        (
            "SELECT * FROM Item MAXRESULTS 1500",
            "QueryValidationError: value 1500 is too large. Max allowed value is 1000",
        ),
        ("SELECT * FROM Custmoer", "QueryValidationError: invalid context declaration: Custmoer"),
        ("SELECT * FROM Item WHERE Name = 'a' OR Name = 'b'", None),
        ("SELECT * FROM Item WHERE Bogus = 'a'", None),
        ("SELECT * FROM Item GROUP BY Name", None),
        ("SELECT * Item", None),
        ("SELECT * FROM Item WHERE Name = 'unterminated", None),
    ],
)
def test_invalid_queries_are_4001(store: Store, statement: str, detail: str | None) -> None:
    with pytest.raises(QBOFault) as exc:
        store.query(REALM, statement)
    assert fault_code(exc) == "4001" and exc.value.status == 400
    assert exc.value.errors[0].message == "Invalid query"
    if detail:
        assert exc.value.errors[0].detail == detail


def test_unmodelled_entity_is_empty_not_an_error(store: Store) -> None:
    assert store.query(REALM, "SELECT * FROM Estimate") == {}


def test_parse_structure() -> None:
    parsed = q.parse("select count(*) from purchaseorder where POStatus = 'Open' and TotalAmt > 10")
    assert parsed.entity == "PurchaseOrder" and parsed.count
    assert [(c.prop, c.op) for c in parsed.where] == [("POStatus", "="), ("TotalAmt", ">")]


def test_page_of_1000_uses_index_not_table_scan(store: Store) -> None:
    """The incremental query plan must use the (entity, updated) index, not sort the table."""
    parsed = q.parse(
        "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '2020-01-01' "
        "ORDERBY MetaData.LastUpdatedTime MAXRESULTS 1000"
    )
    where, params = q.where_sql(parsed)
    with store._reading() as conn:
        plan = conn.execute(
            f"EXPLAIN QUERY PLAN SELECT doc FROM objects WHERE realm = ? AND entity = ? AND ({where}) "
            f"ORDER BY {q.order_sql(parsed)} LIMIT 1000",
            [REALM, "Invoice", *params],
        ).fetchall()
    text = " ".join(str(r[-1]) for r in plan)
    assert "objects_updated" in text and "TEMP B-TREE" not in text
