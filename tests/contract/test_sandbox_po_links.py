"""Re-saving a bill that received a purchase order leaves the PO alone.

Found by the benchmark (bench/changes.py): a sparse update of a linked bill's ``PrivateNote`` re-inserted the
bill's PO links, which reordered the PO's ``LinkedTxn`` and so rewrote the PO — a new SyncToken, a new
``LastUpdatedTime`` and a CDC change that no user made. In QBO a PO changes when its own fields or its receiving
state change (QBO_FACTS §10, "Receiving stock, PO linkage"); a note on the bill is neither.
"""

from __future__ import annotations

from sandbox_testkit import bearer, company_url, make_qb


def test_sparse_update_of_a_linked_bill_does_not_rewrite_its_purchase_order(make_sandbox, http):
    sandbox = make_sandbox(items=300, vendors=20, customers=10, invoices=50)
    realm = sandbox.info["realm_id"]
    pos = sandbox.store.query(realm, "SELECT * FROM PurchaseOrder MAXRESULTS 1000")["PurchaseOrder"]
    po = next(p for p in pos if len(p.get("LinkedTxn", [])) >= 2)
    bill_id = po["LinkedTxn"][0]["TxnId"]  # the first link: re-inserting it used to move it to the end
    bill = sandbox.store.read(realm, "Bill", bill_id)
    qb = make_qb(sandbox.info)
    sandbox.advance_clock(60)  # past every seeded timestamp, so CDC reports only what this test changes
    since = sandbox.clock.now().isoformat(timespec="seconds")

    answer = http.post(company_url(sandbox.info, "bill"), headers=bearer(qb), timeout=30,
                       json={"Id": bill_id, "SyncToken": bill["SyncToken"], "sparse": True, "PrivateNote": "n"})

    assert answer.status_code == 200, answer.text
    assert answer.json()["Bill"]["PrivateNote"] == "n"
    after = sandbox.store.read(realm, "PurchaseOrder", po["Id"])
    assert after["SyncToken"] == po["SyncToken"]
    assert after["MetaData"]["LastUpdatedTime"] == po["MetaData"]["LastUpdatedTime"]
    assert after["LinkedTxn"] == po["LinkedTxn"]
    cdc = http.get(company_url(sandbox.info, "cdc"), headers=bearer(qb), timeout=30,
                   params={"entities": "PurchaseOrder,Bill", "changedSince": since}).json()
    changed = {(name, obj["Id"]) for part in cdc["CDCResponse"] for qr in part["QueryResponse"]
               for name, objs in qr.items() if isinstance(objs, list) for obj in objs}
    assert ("Bill", bill_id) in changed
    assert ("PurchaseOrder", po["Id"]) not in changed
