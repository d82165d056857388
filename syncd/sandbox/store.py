"""The sandbox's persistent state: QBO companies (realms) in one SQLite file.

Contract (shared with the HTTP layer in server.py):

* Every write operation (create/update/delete/void) is one SQLite transaction under one lock; listeners run
  after commit, outside the lock, once per changed object (including side effects such as an item's
  QtyOnHand moving or a PO closing).
* Reads use per-thread connections (WAL lets them run beside a writer) and never load a whole table.
* Entity operations return the entity object (not the envelope) and raise :class:`QBOFault` on error.
* ``Id`` values are numeric strings from one per-realm counter and are never reused; deletes leave tombstones
  so CDC can report them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from syncd.sandbox import entities, faults, forms, inventory
from syncd.sandbox import query as q
from syncd.sandbox.clock import Clock
from syncd.sandbox.timefmt import COMPANY_TZ, company_date, meta_time

CDC_MAX = 1000
_IDLE_READERS = 8

_SCHEMA = """
CREATE TABLE IF NOT EXISTS realms (
    realm TEXT PRIMARY KEY, company_name TEXT NOT NULL, next_id INTEGER NOT NULL,
    ap_account TEXT, undeposited_account TEXT);
CREATE TABLE IF NOT EXISTS doc_numbers (
    realm TEXT NOT NULL, entity TEXT NOT NULL, next INTEGER NOT NULL, PRIMARY KEY (realm, entity));
CREATE TABLE IF NOT EXISTS objects (
    realm TEXT NOT NULL, entity TEXT NOT NULL, id INTEGER NOT NULL, sync_token INTEGER NOT NULL,
    active INTEGER NOT NULL, created_us INTEGER NOT NULL, updated_us INTEGER NOT NULL, name_key TEXT,
    doc TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS objects_pk ON objects (realm, entity, id);
CREATE INDEX IF NOT EXISTS objects_updated ON objects (realm, entity, updated_us, id);
CREATE INDEX IF NOT EXISTS objects_active ON objects (realm, entity, active, id);
CREATE INDEX IF NOT EXISTS objects_name ON objects (realm, name_key) WHERE name_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS tombstones (
    realm TEXT NOT NULL, entity TEXT NOT NULL, id INTEGER NOT NULL, deleted_us INTEGER NOT NULL,
    PRIMARY KEY (realm, entity, id));
CREATE INDEX IF NOT EXISTS tombstones_time ON tombstones (realm, entity, deleted_us, id);
CREATE TABLE IF NOT EXISTS po_links (
    realm TEXT NOT NULL, txn_entity TEXT NOT NULL, txn_id INTEGER NOT NULL, txn_line_id TEXT NOT NULL,
    po_id INTEGER NOT NULL, po_line_id TEXT NOT NULL, qty TEXT NOT NULL, amount TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS po_links_po ON po_links (realm, po_id);
CREATE INDEX IF NOT EXISTS po_links_txn ON po_links (realm, txn_entity, txn_id);
CREATE TABLE IF NOT EXISTS requests (
    realm TEXT NOT NULL, request_id TEXT NOT NULL, status INTEGER NOT NULL, body BLOB NOT NULL,
    content_type TEXT NOT NULL, PRIMARY KEY (realm, request_id));
CREATE TABLE IF NOT EXISTS kv (
    namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (namespace, key));
"""

# Input fields the server owns: ignored when a client sends them (PQB echoes them back on every save).
_SERVER_FIELDS = frozenset(
    {
        "Id",
        "SyncToken",
        "MetaData",
        "domain",
        "sparse",
        "status",
        "TotalAmt",
        "Balance",
        "HomeTotalAmt",
        "HomeBalance",
        "FullyQualifiedName",
        "BalanceWithJobs",
        "CurrentBalance",
        "CurrentBalanceWithSubAccounts",
        "Level",
        "SubItem",
        "Job",
        "Classification",
    }
)
_HEAD = ("domain", "sparse", "Id", "SyncToken", "MetaData")

# The accounts every company has (created with the realm): (Name, AccountType, AccountSubType).
DEFAULT_ACCOUNTS = (
    ("Inventory Asset", "Other Current Asset", "Inventory"),
    ("Sales of Product Income", "Income", "SalesOfProductIncome"),
    ("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
    ("Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable"),
    ("Checking", "Bank", "Checking"),
    ("Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
    ("Services", "Income", "ServiceFeeIncome"),
)


@dataclass(frozen=True)
class ChangeEvent:
    """One changed object, for webhooks. ``operation`` ∈ Create | Update | Delete | Void."""

    realm: str
    entity: str
    id: str
    operation: str
    last_updated: datetime  # aware


@dataclass
class _Write:
    now: datetime
    now_us: int
    events: list[ChangeEvent] = field(default_factory=list)


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def name_key(entity: str, doc: dict[str, Any]) -> str | None:
    """Uniqueness key: Item Name; DisplayName across Customer+Vendor [VENDOR]; Account Name.

    UNCONFIRMED: compared case-insensitively (stricter than case-sensitive, so the daemon meets 6240 here first).
    Inactive objects keep their name (QBO renames UI-deleted ones "… (deleted)" to free it [VCR]).
    """
    if entity == "Item":
        return "item:" + str(doc.get("Name", "")).casefold()
    if entity in ("Customer", "Vendor"):
        return "party:" + str(doc.get("DisplayName", "")).casefold()
    if entity == "Account":
        return "account:" + str(doc.get("FullyQualifiedName") or doc.get("Name", "")).casefold()
    return None


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """Strip internal bookkeeping keys (``_maxLineId``) from a stored object."""
    doc.pop("_maxLineId", None)
    return doc


class Store:
    """All sandbox companies. See the module docstring for the threading and transaction contract."""

    def __init__(self, path: str | None, clock: Clock) -> None:
        self._clock = clock
        self._temp = path is None
        if path is None:
            fd, path = tempfile.mkstemp(prefix="qbo-sandbox-", suffix=".sqlite3")
            os.close(fd)
        self.path = path
        self._lock = threading.RLock()
        self._conn = self._connect()
        self._conn.executescript(_SCHEMA)
        self._idle: list[sqlite3.Connection] = []
        self._listeners: list[Callable[[ChangeEvent], None]] = []
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for reader in self._idle:
                reader.close()
            self._idle.clear()
            self._conn.close()
            if self._temp:
                for suffix in ("", "-wal", "-shm"):
                    try:
                        os.unlink(self.path + suffix)
                    except FileNotFoundError:
                        pass

    # ---- plumbing -------------------------------------------------------------------------------------------
    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A read connection from a small pool (WAL lets readers run beside the writer). Pooled rather than
        per-thread because the HTTP server may start a thread per request."""
        try:
            conn = self._idle.pop()
        except IndexError:
            conn = self._connect()
        try:
            yield conn
        finally:
            with self._lock:
                if self._closed or len(self._idle) >= _IDLE_READERS:
                    conn.close()
                else:
                    self._idle.append(conn)

    @contextmanager
    def _write(self) -> Iterator[_Write]:
        with self._lock:
            now = self._clock.now()
            w = _Write(now, q.to_us(now))
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield w
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        for event in w.events:
            for fn in list(self._listeners):
                fn(event)

    def add_listener(self, fn: Callable[[ChangeEvent], None]) -> None:
        """``fn`` is called after commit for every create/update/delete/void and its side effects."""
        self._listeners.append(fn)

    def _require_realm(self, conn: sqlite3.Connection, realm: str) -> sqlite3.Row | tuple:
        row = conn.execute(
            "SELECT realm, company_name, next_id, ap_account, undeposited_account FROM realms "
            "WHERE realm = ?",
            (realm,),
        ).fetchone()
        if row is None:
            raise faults.auth_general()  # QBO answers a realm the token is not for with 401 [ej2#120]
        return row

    def resolve_entity(self, name: str) -> str | None:
        """Case-insensitive resource name → canonical entity name; None if the sandbox does not model it."""
        return entities.canonical(name)

    def _entity(self, name: str) -> str:
        ent = entities.canonical(name)
        if ent is None:
            raise faults.unsupported_operation(f"/{name}")
        return ent

    # ---- realms ---------------------------------------------------------------------------------------------
    def create_realm(self, realm_id: str, company_name: str) -> None:
        """Create a company with its standard accounts. Creating an existing realm is an error (ValueError)."""
        with self._write() as w:
            if self._conn.execute("SELECT 1 FROM realms WHERE realm = ?", (realm_id,)).fetchone():
                raise ValueError(f"realm {realm_id} exists")
            self._conn.execute(
                "INSERT INTO realms (realm, company_name, next_id) VALUES (?, ?, 1)", (realm_id, company_name)
            )
            ids = {}
            for name, typ, sub in DEFAULT_ACCOUNTS:
                doc = {"Name": name, "AccountType": typ, "AccountSubType": sub}
                doc = forms.finalize("Account", doc, None, {}, self._context(realm_id, w))
                ids[name] = self._insert(realm_id, "Account", doc, w)
            self._conn.execute(
                "UPDATE realms SET ap_account = ?, undeposited_account = ? WHERE realm = ?",
                (ids["Accounts Payable (A/P)"], ids["Undeposited Funds"], realm_id),
            )
            w.events.clear()  # company set-up is not a change a webhook reports

    def has_realm(self, realm_id: str) -> bool:
        with self._reading() as conn:
            return conn.execute("SELECT 1 FROM realms WHERE realm = ?", (realm_id,)).fetchone() is not None

    def realms(self) -> list[str]:
        with self._reading() as conn:
            return [r[0] for r in conn.execute("SELECT realm FROM realms ORDER BY realm")]

    def company_name(self, realm_id: str) -> str:
        with self._reading() as conn:
            return str(self._require_realm(conn, realm_id)[1])

    def accounts(self, realm_id: str) -> dict[str, str]:
        """Account Name → Id for the realm (used by seeding and tests)."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT json_extract(doc, '$.Name'), id FROM objects WHERE realm = ? AND entity = 'Account'",
                (realm_id,),
            )
            return {name: str(i) for name, i in rows}

    # ---- low-level object access (inside a write) ----------------------------------------------------------
    def _load(
        self, realm: str, entity: str, ident: int, conn: sqlite3.Connection | None = None
    ) -> tuple[dict[str, Any], int, int] | None:
        row = (
            (conn or self._conn)
            .execute(
                "SELECT doc, sync_token, created_us FROM objects WHERE realm = ? AND entity = ? AND id = ?",
                (realm, entity, ident),
            )
            .fetchone()
        )
        if row is None:
            return None
        return json.loads(row[0]), row[1], row[2]

    def _context(self, realm: str, w: _Write) -> forms.Context:
        row = self._require_realm(self._conn, realm)

        def lookup(entity: str, ident: str) -> dict[str, Any] | None:
            found = self._load(realm, entity, int(ident)) if str(ident).isdigit() else None
            return found[0] if found else None

        return forms.Context(lookup, company_date(w.now), row[3], row[4])

    def _next_id(self, realm: str) -> int:
        row = self._conn.execute(
            "UPDATE realms SET next_id = next_id + 1 WHERE realm = ? RETURNING next_id - 1", (realm,)
        ).fetchone()
        return int(row[0])

    def reserve_ids(self, realm: str, count: int) -> int:
        """Reserve ``count`` consecutive Ids (for seeding); returns the first."""
        with self._lock:
            row = self._conn.execute(
                "UPDATE realms SET next_id = next_id + ? WHERE realm = ? RETURNING next_id - ?",
                (count, realm, count),
            ).fetchone()
            return int(row[0])

    def reserve_doc_numbers(self, realm: str, entity: str, count: int) -> int:
        """Reserve ``count`` consecutive auto DocNumbers for ``entity``; returns the first (from 1001)."""
        with self._lock:
            self._conn.execute("INSERT OR IGNORE INTO doc_numbers VALUES (?, ?, 1001)", (realm, entity))
            row = self._conn.execute(
                "UPDATE doc_numbers SET next = next + ? WHERE realm = ? AND entity = ? RETURNING next - ?",
                (count, realm, entity, count),
            ).fetchone()
            return int(row[0])

    def _render(
        self, entity: str, doc: dict[str, Any], ident: int, token: int, created_us: int, updated: datetime
    ) -> dict[str, Any]:
        head = {
            "domain": "QBO",
            "sparse": False,
            "Id": str(ident),
            "SyncToken": str(token),
            "MetaData": {
                "CreateTime": doc.get("MetaData", {}).get("CreateTime") or meta_time(updated),
                "LastUpdatedTime": meta_time(updated),
            },
        }
        return head | {k: v for k, v in doc.items() if k not in _HEAD}

    def _insert(self, realm: str, entity: str, doc: dict[str, Any], w: _Write) -> str:
        ident = self._next_id(realm)
        if entity in entities.AUTO_DOC_NUMBER and not doc.get("DocNumber"):
            doc["DocNumber"] = str(self.reserve_doc_numbers(realm, entity, 1))
        out = self._render(entity, doc, ident, 0, w.now_us, w.now)
        self._conn.execute(
            "INSERT INTO objects (realm, entity, id, sync_token, active, created_us, updated_us, name_key, doc) "
            "VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?)",
            (
                realm,
                entity,
                ident,
                int(out.get("Active", True) is not False),
                w.now_us,
                w.now_us,
                name_key(entity, out),
                dumps(out),
            ),
        )
        w.events.append(ChangeEvent(realm, entity, str(ident), "Create", w.now))
        doc.clear()
        doc.update(out)
        return str(ident)

    def _replace(
        self, realm: str, entity: str, doc: dict[str, Any], ident: int, token: int, w: _Write, operation: str
    ) -> dict[str, Any]:
        out = self._render(entity, doc, ident, token + 1, 0, w.now)
        self._conn.execute(
            "UPDATE objects SET sync_token = ?, active = ?, updated_us = ?, name_key = ?, doc = ? "
            "WHERE realm = ? AND entity = ? AND id = ?",
            (
                token + 1,
                int(out.get("Active", True) is not False),
                w.now_us,
                name_key(entity, out),
                dumps(out),
                realm,
                entity,
                ident,
            ),
        )
        w.events.append(ChangeEvent(realm, entity, str(ident), operation, w.now))
        return out

    def _check_unique(self, realm: str, entity: str, doc: dict[str, Any], ident: int | None) -> None:
        key = name_key(entity, doc)
        if key is None:
            return
        for other_entity, other_id in self._conn.execute(
            "SELECT entity, id FROM objects WHERE realm = ? AND name_key = ?", (realm, key)
        ):
            if not (other_entity == entity and other_id == ident):
                raise faults.duplicate_name()

    @staticmethod
    def _body(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise faults.malformed_body("Request body must be a JSON object")
        return body

    @staticmethod
    def _body_id(body: dict[str, Any]) -> int:
        """The ``Id`` of an update/delete/void body: absent → 2020, non-numeric → 2030."""
        if body.get("Id") in (None, ""):
            raise faults.required_param("Id", "Id")
        return entities.numeric_id(body["Id"])

    @staticmethod
    def _sent(body: dict[str, Any]) -> dict[str, Any]:
        return entities.clean({k: v for k, v in body.items() if k not in _SERVER_FIELDS})

    # ---- entity operations ----------------------------------------------------------------------------------
    def read(self, realm: str, entity: str, id: str) -> dict:
        """The stored object; non-numeric id → 2030, missing or deleted → 610."""
        ent = self._entity(entity)
        ident = entities.numeric_id(id)
        with self._reading() as conn:
            self._require_realm(conn, realm)
            found = self._load(realm, ent, ident, conn)
        if found is None:
            raise faults.object_not_found()
        return public(found[0])

    def create(self, realm: str, entity: str, body: dict) -> dict:
        """Create; server assigns Id, SyncToken "0", MetaData, DocNumber, totals, Ref names.

        A body carrying a non-zero ``Id`` is an update (QBO and PQB use one POST for both).
        """
        ent = self._entity(entity)
        body = self._body(body)
        if str(body.get("Id") or "0").strip() not in ("", "0"):
            return self.update(realm, ent, body)
        entities.check_properties(ent, body)
        with self._write() as w:
            ctx = self._context(realm, w)
            sent = self._sent(body)
            doc = forms.finalize(ent, entities.merge(ent, None, sent, False), None, sent, ctx)
            self._check_unique(realm, ent, doc, None)
            if ent == "PurchaseOrder":
                inventory.client_po_status(doc, sent, None, False)
                inventory.po_state(doc, {}, [])
            links = self._valid_links(realm, ent, doc)
            ident = int(self._insert(realm, ent, doc, w))
            self._after_write(realm, ent, ident, None, doc, links, w)
            return public(doc)

    def update(self, realm: str, entity: str, body: dict) -> dict:
        """Full update (omitted writable fields cleared) or sparse (``"sparse": true``: only sent fields)."""
        ent = self._entity(entity)
        body = self._body(body)
        entities.check_properties(ent, body)
        ident = self._body_id(body)
        with self._write() as w:
            old, token = self._current(realm, ent, ident, body)
            ctx = self._context(realm, w)
            sparse = body.get("sparse") is True or str(body.get("sparse")).lower() == "true"
            sent = self._sent(body)
            base = {k: v for k, v in old.items() if k not in _SERVER_FIELDS}
            doc = entities.merge(ent, base, sent, sparse)
            if sparse:
                entities.sparse_nulls(ent, body, doc)
            doc = forms.finalize(ent, doc, old, sent, ctx)
            self._check_unique(realm, ent, doc, ident)
            if ent == "PurchaseOrder":
                received, linked = self._received(realm, ident)
                inventory.client_po_status(doc, sent, old, inventory.fully_received(doc, received))
                inventory.po_state(doc, received, linked)
            links = self._valid_links(realm, ent, doc)
            doc["MetaData"] = old["MetaData"]
            out = self._replace(realm, ent, doc, ident, token, w, "Update")
            self._after_write(realm, ent, ident, old, out, links, w)
            return public(out)

    def void(self, realm: str, entity: str, body: dict) -> dict:
        """Void an Invoice/SalesReceipt (recorded shape [VCR void__invoice]); reverses its stock effect."""
        ent = self._entity(entity)
        body = self._body(body)
        if ent not in entities.VOIDABLE:
            raise faults.unsupported_operation(f"/{ent.lower()}?operation=void")
        ident = self._body_id(body)
        with self._write() as w:
            old, token = self._current(realm, ent, ident, body)
            out = self._replace(realm, ent, forms.void(ent, old), ident, token, w, "Void")
            self._after_write(realm, ent, ident, old, out, None, w)
            return public(out)

    def delete(self, realm: str, entity: str, body: dict) -> dict:
        """Delete a transaction → ``{"domain": "QBO", "status": "Deleted", "Id": id}`` [VCR delete__invoice].

        Name-list entities cannot be deleted (inactivate them) → Unsupported Operation.
        """
        ent = self._entity(entity)
        body = self._body(body)
        if ent not in entities.DELETABLE:
            raise faults.unsupported_operation(f"/{ent.lower()}?operation=delete")
        ident = self._body_id(body)
        with self._write() as w:
            old, _ = self._current(realm, ent, ident, body)
            self._conn.execute(
                "DELETE FROM objects WHERE realm = ? AND entity = ? AND id = ?", (realm, ent, ident)
            )
            self._conn.execute("INSERT INTO tombstones VALUES (?, ?, ?, ?)", (realm, ent, ident, w.now_us))
            w.events.append(ChangeEvent(realm, ent, str(ident), "Delete", w.now))
            if ent == "PurchaseOrder":
                # Links from bills to a deleted PO are dropped; the bills themselves are left as they are.
                self._conn.execute("DELETE FROM po_links WHERE realm = ? AND po_id = ?", (realm, ident))
            self._after_write(realm, ent, ident, old, None, [], w)
            return {"domain": "QBO", "status": "Deleted", "Id": str(ident)}

    def _current(self, realm: str, ent: str, ident: int, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Load for a write: 610 when missing, 2020 without SyncToken, 5010 when the SyncToken is stale."""
        self._require_realm(self._conn, realm)
        found = self._load(realm, ent, ident)
        if found is None:
            raise faults.object_not_found()
        doc, token, _ = found
        if body.get("SyncToken") in (None, ""):
            raise faults.required_param("SyncToken", "SyncToken")
        if str(body["SyncToken"]).strip() != str(token):
            raise faults.stale_object()
        return doc, token

    # ---- inventory and PO receiving (side effects inside the same transaction) ------------------------------
    def _valid_links(self, realm: str, ent: str, doc: dict[str, Any]) -> list[inventory.POLink] | None:
        if ent not in ("Bill", "Purchase"):
            return None
        valid, invalid = [], []
        for link in inventory.requested_links(doc):
            po = self._load(realm, "PurchaseOrder", int(link.po_id)) if link.po_id.isdigit() else None
            if po and any(str(ln.get("Id")) == link.po_line_id for ln in po[0].get("Line", [])):
                valid.append(link)
            else:
                invalid.append(link)
        inventory.drop_links(doc, invalid)
        return valid

    def _received(
        self, realm: str, po_id: int
    ) -> tuple[dict[str, tuple[Decimal, Decimal]], list[tuple[str, str]]]:
        received: dict[str, tuple[Decimal, Decimal]] = {}
        linked: list[tuple[str, str]] = []
        for entity, txn_id, line_id, qty, amount in self._conn.execute(
            # By document Id, not insertion order: re-saving a linked bill re-inserts its links, and that alone
            # must not reorder the PO's LinkedTxn (which would rewrite the PO and report a change nobody made).
            "SELECT txn_entity, txn_id, po_line_id, qty, amount FROM po_links WHERE realm = ? AND po_id = ? "
            "ORDER BY txn_id, rowid",
            (realm, po_id),
        ):
            got = received.get(line_id, (Decimal(0), Decimal(0)))
            received[line_id] = (got[0] + Decimal(qty), got[1] + Decimal(amount))
            if (str(txn_id), entity) not in linked:
                linked.append((str(txn_id), entity))
        return received, linked

    def _after_write(
        self,
        realm: str,
        ent: str,
        ident: int,
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        links: list[inventory.POLink] | None,
        w: _Write,
    ) -> None:
        """Apply stock movement and PO receiving caused by one document write."""
        change = inventory.net_change(inventory.stock_effect(ent, old), inventory.stock_effect(ent, new))
        for item_id, delta in sorted(change.items(), key=lambda kv: int(kv[0])):
            self._move_stock(realm, int(item_id), delta, w)
        if ent not in ("Bill", "Purchase"):
            return
        affected = {
            po
            for (po,) in self._conn.execute(
                "SELECT DISTINCT po_id FROM po_links WHERE realm = ? AND txn_entity = ? AND txn_id = ?",
                (realm, ent, ident),
            )
        }
        self._conn.execute(
            "DELETE FROM po_links WHERE realm = ? AND txn_entity = ? AND txn_id = ?", (realm, ent, ident)
        )
        # A voided/deleted document receives nothing; otherwise record its (validated) links.
        for link in links or []:
            self._conn.execute(
                "INSERT INTO po_links VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    realm,
                    ent,
                    ident,
                    link.line_id,
                    int(link.po_id),
                    link.po_line_id,
                    str(link.qty),
                    str(link.amount),
                ),
            )
            affected.add(int(link.po_id))
        for po_id in sorted(affected):
            found = self._load(realm, "PurchaseOrder", po_id)
            if found is None:
                continue
            po, token, _ = found
            before = json.dumps([po.get("POStatus"), po.get("LinkedTxn")])
            received, linked = self._received(realm, po_id)
            inventory.po_state(po, received, linked)
            if json.dumps([po.get("POStatus"), po.get("LinkedTxn")]) != before:
                self._replace(realm, "PurchaseOrder", po, po_id, token, w, "Update")

    def _move_stock(self, realm: str, item_id: int, delta: Decimal, w: _Write) -> None:
        """Change an item's QtyOnHand and bump its SyncToken/LastUpdatedTime.

        UNCONFIRMED whether QBO bumps the item's SyncToken/LastUpdatedTime when a sale or bill moves stock; we do,
        so CDC and LastUpdatedTime queries report the new QtyOnHand — the safe side for a mirror.
        """
        found = self._load(realm, "Item", item_id)
        if found is None:
            return
        item, token, _ = found
        if item.get("TrackQtyOnHand") is not True:
            return
        item["QtyOnHand"] = entities.quantity(entities.dec(item.get("QtyOnHand", 0), "QtyOnHand") + delta)
        self._replace(realm, "Item", item, item_id, token, w, "Update")

    # ---- query and CDC --------------------------------------------------------------------------------------
    def query(self, realm: str, statement: str) -> dict:
        """Run a QBO query; returns the ``QueryResponse`` object (without the envelope ``time``)."""
        parsed = q.parse(statement)
        with self._reading() as conn:
            self._require_realm(conn, realm)
            return self._run_query(conn, realm, parsed)

    def _run_query(self, conn: sqlite3.Connection, realm: str, parsed: q.Query) -> dict:
        if parsed.entity not in entities.SUPPORTED:
            return {"totalCount": 0} if parsed.count else {}
        where, params = q.where_sql(parsed)
        base = f"FROM objects WHERE realm = ? AND entity = ? AND ({where})"
        args = [realm, parsed.entity, *params]
        if parsed.count:
            # UNCONFIRMED: COUNT over zero rows answers {"totalCount": 0} (PQB .count() reads 0, not None).
            (total,) = conn.execute(f"SELECT COUNT(*) {base}", args).fetchone()
            return {"totalCount": total}
        rows = conn.execute(
            f"SELECT doc {base} ORDER BY {q.order_sql(parsed)} LIMIT ? OFFSET ?",
            [*args, parsed.max_results, parsed.start - 1],
        ).fetchall()
        if not rows:
            return {}  # entity key absent on an empty page [VCR all__alt_select]
        return {
            parsed.entity: [public(json.loads(r[0])) for r in rows],
            "startPosition": parsed.start,
            "maxResults": len(rows),
        }

    def cdc(self, realm: str, entities_: list[str], changed_since: datetime) -> list[dict]:
        """The ``CDCResponse`` list for changes with LastUpdatedTime ≥ ``changed_since`` (inclusive, so a boundary
        change is never missed).

        At most 1000 objects in total [CDCR]. UNCONFIRMED which objects QBO keeps when more changed: we keep the
        1000 *oldest* changes across all requested entities, so everything left out is at least as new as
        everything returned and a client that moves its cursor to the newest LastUpdatedTime it saw (inclusive)
        loses nothing. Groups follow the requested entity order; actives by LastUpdatedTime, then deleted stubs.
        """
        names: list[str] = []
        for raw in entities_:
            name = raw.strip()
            if not name:
                continue
            ent = entities.canonical(name) or entities.unmodelled(name)
            if ent is None:
                raise faults.invalid_query(f"QueryValidationError: invalid context declaration: {name}")
            if ent in entities.CDC_EXCLUDED:
                # "supported for all objects except JournalCode, TimeActivity, TaxAgency, TaxCode, and TaxRate"
                # [CDCR]; the exact QBO error body is UNCONFIRMED, 4001 is its query-validation code.
                raise faults.invalid_query(f"QueryValidationError: CDC is not supported for {ent}")
            if ent in entities.SUPPORTED and ent not in names:
                names.append(ent)
        if changed_since.tzinfo is None:
            changed_since = changed_since.replace(tzinfo=COMPANY_TZ)  # as for offset-less query timestamps
        with self._reading() as conn:
            self._require_realm(conn, realm)
            return self._run_cdc(conn, realm, names, q.to_us(changed_since))

    def _run_cdc(self, conn: sqlite3.Connection, realm: str, names: list[str], since: int) -> list[dict]:
        changes: list[tuple[int, int, str, bool]] = []  # (time, id, entity, deleted)
        for ent in names:
            for ident, at in conn.execute(
                "SELECT id, updated_us FROM objects WHERE realm = ? AND entity = ? AND updated_us >= ? "
                "ORDER BY updated_us, id LIMIT ?",
                (realm, ent, since, CDC_MAX),
            ):
                changes.append((at, ident, ent, False))
            for ident, at in conn.execute(
                "SELECT id, deleted_us FROM tombstones WHERE realm = ? AND entity = ? AND deleted_us >= ? "
                "ORDER BY deleted_us, id LIMIT ?",
                (realm, ent, since, CDC_MAX),
            ):
                changes.append((at, ident, ent, True))
        changes.sort()
        kept = changes[:CDC_MAX]
        groups: list[dict[str, Any]] = []
        for ent in names:
            active = [c for c in kept if c[2] == ent and not c[3]]
            deleted = [c for c in kept if c[2] == ent and c[3]]
            if not active and not deleted:
                continue
            objs = self._docs(conn, realm, ent, [c[1] for c in active])
            objs += [
                {
                    "status": "Deleted",
                    "domain": "QBO",
                    "Id": str(c[1]),
                    "MetaData": {"LastUpdatedTime": meta_time(q.from_us(c[0]))},
                }
                for c in deleted
            ]
            groups.append({ent: objs, "startPosition": 1, "maxResults": len(objs), "totalCount": len(objs)})
        return [{"QueryResponse": groups or [{}]}]

    def _docs(self, conn: sqlite3.Connection, realm: str, ent: str, ids: list[int]) -> list[dict[str, Any]]:
        """Objects by id, in the given order (fetched in chunks to respect SQLite's parameter limit)."""
        found: dict[int, dict[str, Any]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" for _ in chunk)
            for ident, doc in conn.execute(
                f"SELECT id, doc FROM objects WHERE realm = ? AND entity = ? AND id IN ({marks})",
                [realm, ent, *chunk],
            ):
                found[ident] = public(json.loads(doc))
        return [found[i] for i in ids if i in found]

    # ---- requestid replay and key/value -----------------------------------------------------------------------
    def recall_request(self, realm: str, request_id: str) -> tuple[int, bytes, str] | None:
        """The stored (status, body, content_type) for a replayed ``requestid`` [RID2015], else None.

        UNCONFIRMED retention window: kept for the life of the state file.
        """
        with self._reading() as conn:
            row = conn.execute(
                "SELECT status, body, content_type FROM requests WHERE realm = ? AND request_id = ?",
                (realm, request_id),
            ).fetchone()
        return (int(row[0]), bytes(row[1]), str(row[2])) if row else None

    def remember_request(
        self, realm: str, request_id: str, status: int, body: bytes, content_type: str
    ) -> None:
        """Store the first response for ``requestid``; a later call for the same id keeps the first."""
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO requests VALUES (?, ?, ?, ?, ?)",
                (realm, request_id, status, sqlite3.Binary(body), content_type),
            )

    def kv_get(self, namespace: str, key: str) -> Any | None:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT value FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def kv_put(self, namespace: str, key: str, value: Any) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (namespace, key, json.dumps(value))
            )

    def kv_delete(self, namespace: str, key: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM kv WHERE namespace = ? AND key = ?", (namespace, key))

    # ---- bulk loading (seeding; no listeners) ------------------------------------------------------------------
    def insert_seeded(
        self, realm: str, rows: Iterable[tuple[str, dict[str, Any], datetime, datetime]]
    ) -> int:
        """Insert fully formed objects ``(entity, doc-with-Id, created, updated)`` in one transaction.

        The caller reserved their Ids with :meth:`reserve_ids`. MetaData and SyncToken "0" are set here.
        Listeners are not called (seeding is not a change). Returns the number of rows.
        """

        def prepared() -> Iterator[tuple[Any, ...]]:
            for entity, doc, created, updated in rows:
                ident = int(doc["Id"])
                out = self._render(
                    entity, doc | {"MetaData": {"CreateTime": meta_time(created)}}, ident, 0, 0, updated
                )
                yield (
                    realm,
                    entity,
                    ident,
                    int(out.get("Active", True) is not False),
                    q.to_us(created),
                    q.to_us(updated),
                    name_key(entity, out),
                    dumps(out),
                )

        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                cur = self._conn.executemany(
                    "INSERT INTO objects (realm, entity, id, sync_token, active, created_us, updated_us, "
                    "name_key, doc) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?)",
                    prepared(),
                )
                count = cur.rowcount
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return count

    def insert_seeded_links(
        self, realm: str, rows: Iterable[tuple[str, int, str, int, str, Decimal, Decimal]]
    ) -> None:
        """Record PO receiving links ``(txn_entity, txn_id, txn_line_id, po_id, po_line_id, qty, amount)``."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany(
                "INSERT INTO po_links VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                ((realm, e, i, li, p, pl, str(qt), str(am)) for e, i, li, p, pl, qt, am in rows),
            )
            self._conn.execute("COMMIT")
