"""Change data capture (QBO_FACTS §2): grouping, order, deleted stubs, the 1000-object cap, empty shape, errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sandbox_support import REALM, Company, sample

from syncd.sandbox import store as store_mod
from syncd.sandbox.faults import QBOFault
from syncd.sandbox.store import Store


def test_no_changes_shape(store: Store, co: Company) -> None:
    co.vendor()
    co.tick(10)
    assert store.cdc(REALM, ["Vendor", "Item"], co.clock.now()) == [{"QueryResponse": [{}]}]


def test_groups_order_and_deleted_stubs(store: Store, co: Company) -> None:
    since = co.clock.now() - timedelta(seconds=1)
    c, it = co.customer(), co.item(qty=5)
    co.tick()
    first = co.sale("Invoice", c, [(it, 1, 10)])
    co.tick()
    second = co.sale("Invoice", c, [(it, 1, 10)])
    co.tick()
    store.update(REALM, "Invoice", {"Id": first["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "x"})
    co.tick()
    gone = co.sale("Invoice", c, [(it, 1, 10)])
    co.tick()
    store.delete(REALM, "Invoice", {"Id": gone["Id"], "SyncToken": "0"})
    [resp] = store.cdc(REALM, ["invoice", "Item"], since)  # lower-case names work [VCR cdc__basic]
    groups = resp["QueryResponse"]
    assert [next(iter(g)) for g in groups] == ["Invoice", "Item"]  # requested order
    invoices = groups[0]["Invoice"]
    assert [i["Id"] for i in invoices] == [
        second["Id"],
        first["Id"],
        gone["Id"],
    ]  # by LastUpdatedTime, stubs last
    assert invoices[1]["PrivateNote"] == "x" and invoices[1]["SyncToken"] == "1"  # full current object
    stub = invoices[2]
    assert set(stub) == {"status", "domain", "Id", "MetaData"} and stub["status"] == "Deleted"
    assert set(stub["MetaData"]) == {"LastUpdatedTime"}
    assert groups[0]["startPosition"] == 1 and groups[0]["maxResults"] == groups[0]["totalCount"] == 3
    assert groups[1]["Item"][0]["QtyOnHand"] == 3  # 5 - 3 sold + 1 back from the deleted invoice


def test_stub_shape_matches_intuit_example(store: Store, co: Company) -> None:
    example = sample("intuit_docs/cdc_response_example.json")["CDCResponse"][0]["QueryResponse"][1][
        "Estimate"
    ][2]
    c, it = co.customer(), co.item()
    inv = co.sale("Invoice", c, [(it, 1, 1)])
    since = co.clock.now() - timedelta(seconds=1)
    store.delete(REALM, "Invoice", {"Id": inv["Id"], "SyncToken": "0"})
    stub = store.cdc(REALM, ["Invoice"], since)[0]["QueryResponse"][0]["Invoice"][0]
    assert list(stub) == list(example) and stub["MetaData"].keys() == example["MetaData"].keys()


def test_voided_documents_appear_in_full(store: Store, co: Company) -> None:
    c, it = co.customer(), co.item()
    inv = co.sale("Invoice", c, [(it, 1, 1)])
    co.tick()
    since = co.clock.now()
    store.void(REALM, "Invoice", {"Id": inv["Id"], "SyncToken": "0"})
    [voided] = store.cdc(REALM, ["Invoice"], since)[0]["QueryResponse"][0]["Invoice"]
    assert voided["PrivateNote"] == "Voided" and voided["TotalAmt"] == 0 and voided["CustomerRef"]


def test_window_excludes_older_changes(store: Store, co: Company) -> None:
    old = co.vendor("Old")
    co.tick(60)
    since = co.clock.now()
    new = co.vendor("New")
    [resp] = store.cdc(REALM, ["Vendor"], since)
    assert [v["Id"] for v in resp["QueryResponse"][0]["Vendor"]] == [new["Id"]]
    assert old["Id"] != new["Id"]


def test_total_cap_keeps_oldest_changes(store: Store, co: Company, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_mod, "CDC_MAX", 5)
    since = co.clock.now() - timedelta(seconds=1)
    made = []
    for n in range(4):
        made.append(("Vendor", co.vendor(f"V{n}")["Id"]))
        co.tick()
        made.append(("Customer", co.customer(f"C{n}")["Id"]))
        co.tick()
    groups = store.cdc(REALM, ["Customer", "Vendor"], since)[0]["QueryResponse"]
    returned = {(next(iter(g)), o["Id"]) for g in groups for o in g[next(iter(g))]}
    assert sum(g["maxResults"] for g in groups) == 5
    assert returned == set(made[:5])  # the five oldest, whatever their type


@pytest.mark.parametrize(
    "name", ["JournalCode", "TimeActivity", "TaxAgency", "TaxCode", "TaxRate", "Nonsense"]
)
def test_unsupported_cdc_entities_are_4001(store: Store, co: Company, name: str) -> None:
    with pytest.raises(QBOFault) as exc:
        store.cdc(REALM, ["Item", name], co.clock.now())
    assert exc.value.errors[0].code == "4001"


def test_unmodelled_entity_reports_no_changes(store: Store, co: Company) -> None:
    since = co.clock.now() - timedelta(seconds=1)
    co.vendor()
    groups = store.cdc(REALM, ["Estimate", "Vendor"], since)[0]["QueryResponse"]
    assert [next(iter(g)) for g in groups] == ["Vendor"]
