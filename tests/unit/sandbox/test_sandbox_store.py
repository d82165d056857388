"""Store plumbing: requestid replay, key/value space, persistence across reopen, thread safety."""

from __future__ import annotations

import threading
from pathlib import Path

from sandbox_support import REALM, Company

from syncd.sandbox.clock import Clock
from syncd.sandbox.store import Store


def test_request_replay_keeps_first_response(store: Store) -> None:
    assert store.recall_request(REALM, "abc-123") is None
    store.remember_request(REALM, "abc-123", 200, b'{"Item": {}}', "application/json;charset=utf-8")
    store.remember_request(REALM, "abc-123", 400, b"second", "application/json")
    assert store.recall_request(REALM, "abc-123") == (200, b'{"Item": {}}', "application/json;charset=utf-8")
    assert store.recall_request("other-realm", "abc-123") is None  # keyed per realm


def test_kv_space(store: Store) -> None:
    assert store.kv_get("oauth", "rt") is None
    store.kv_put("oauth", "rt", {"token": "RT1", "expires": 3600})
    store.kv_put("oauth", "rt", {"token": "RT2"})
    assert store.kv_get("oauth", "rt") == {"token": "RT2"}
    assert store.kv_get("other", "rt") is None
    store.kv_delete("oauth", "rt")
    assert store.kv_get("oauth", "rt") is None


def test_state_file_persists_and_temp_file_is_removed(tmp_path: Path) -> None:
    path = str(tmp_path / "state.sqlite3")
    first = Store(path, Clock())
    first.create_realm(REALM, "Persisted Co")
    vendor = Company(first, Clock()).vendor("Kept")
    first.kv_put("oauth", "k", [1, 2])
    first.close()
    again = Store(path, Clock())
    assert again.realms() == [REALM]
    assert again.read(REALM, "Vendor", vendor["Id"])["DisplayName"] == "Kept"
    assert again.kv_get("oauth", "k") == [1, 2]
    assert again._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again.close()
    temp = Store(None, Clock())
    temp_path = Path(temp.path)
    assert temp_path.exists()
    temp.close()
    assert not temp_path.exists()


def test_concurrent_writers_never_lose_stock(store: Store, co: Company) -> None:
    """8 threads × 10 sales of 1 unit each: every sale is applied exactly once, Ids unique."""
    c, it = co.customer(), co.item(qty=100)
    ids: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(10):
                ids.append(co.sale("Invoice", c, [(it, 1, 1)])["Id"])
                store.query(REALM, "SELECT COUNT(*) FROM Invoice")
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(ids)) == 80 and co.qty(it) == 20
    assert store.read(REALM, "Item", it["Id"])["SyncToken"] == "80"


def test_reader_connections_are_pooled_not_per_thread(store: Store, co: Company) -> None:
    """A thread per request (ThreadingHTTPServer) must not leave one open connection per thread behind."""
    v = co.vendor()
    threads = [threading.Thread(target=store.read, args=(REALM, "Vendor", v["Id"])) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store._idle) <= 8
