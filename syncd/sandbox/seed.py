"""Deterministic, realistic company data of any size (SPEC §7, §8).

``seed_company`` writes vendors, customers, items (mostly stock-tracked inventory), 90 days of invoices and
sales receipts, purchase orders (open / partly received / closed) and the bills that received them. The same
``seed`` and arguments give byte-identical objects. Memory stays bounded: documents are generated and written in
batches; only per-item accumulators (name, price, stock counters) and per-vendor item lists are held.

Invariant: every inventory item's ``QtyOnHand`` = start quantity + quantity received on bills − quantity sold on
invoices and sales receipts, so with the demand-weighted start quantities some items end negative (short).
"""

from __future__ import annotations

import random
import time
from array import array
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from syncd.sandbox.entities import USD, default_due, money, quantity
from syncd.sandbox.store import Store
from syncd.sandbox.timefmt import company_date

BATCH = 2000
HISTORY = timedelta(days=90)
CENT = Decimal("0.01")

_ADJ = (
    "Acme",
    "Blue Ridge",
    "Cascade",
    "Delta",
    "Evergreen",
    "Fairview",
    "Granite",
    "Harbor",
    "Iron Creek",
    "Juniper",
    "Keystone",
    "Lakeside",
    "Maple",
    "Northwind",
    "Oakmont",
    "Pinecrest",
    "Redwood",
    "Summit",
)
_VENDOR_KIND = (
    "Supply Co.",
    "Wholesale",
    "Distributors",
    "Trading",
    "Manufacturing",
    "Imports",
    "Parts Inc.",
)
_FIRST = (
    "Amy",
    "Bill",
    "Carla",
    "Dylan",
    "Elena",
    "Frank",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kofi",
    "Lena",
    "Mateo",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
)
_LAST = (
    "Anders",
    "Brooks",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Khan",
    "Lopez",
    "Müller",
    "Nakamura",
    "O'Brien",
    "Patel",
    "Rossi",
    "Smith",
    "Tanaka",
    "Weber",
)
_MATERIAL = ("Steel", "Brass", "Cedar", "Nylon", "Ceramic", "Copper", "Granite", "Rubber", "Oak", "Glass")
_PRODUCT = (
    "Hinge",
    "Valve",
    "Bracket",
    "Hose",
    "Planter",
    "Fountain Pump",
    "Sprinkler",
    "Lantern",
    "Trellis",
    "Bolt Set",
    "Garden Rocks",
    "Birdbath",
    "Edging",
    "Timer",
    "Nozzle",
)
_SERVICE = ("Installation", "Design", "Delivery", "Maintenance", "Consulting", "Pest Control")


@dataclass(frozen=True)
class SeedSummary:
    """What ``seed_company`` wrote. ``short_items`` = inventory items with negative QtyOnHand."""

    realm: str
    seed: int
    vendors: int
    customers: int
    items: int
    inventory_items: int
    invoices: int
    invoice_lines: int
    sales_receipts: int
    sales_receipt_lines: int
    purchase_orders: int
    purchase_orders_open: int
    purchase_orders_partial: int
    purchase_orders_closed: int
    purchase_order_lines: int
    bills: int
    bill_lines: int
    short_items: int
    seconds: float


def _at(t: datetime) -> str:
    return company_date(t).isoformat()


class _Seeder:
    def __init__(self, store: Store, realm: str, seed: int, now: datetime) -> None:
        self.store, self.realm, self.now = store, realm, now
        self.rng = random.Random(seed)
        self.accounts = store.accounts(realm)
        self.pending: list[tuple[str, dict[str, Any], datetime, datetime]] = []

    def emit(
        self, entity: str, doc: dict[str, Any], created: datetime, updated: datetime | None = None
    ) -> None:
        self.pending.append((entity, doc, created, updated or created))
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.store.insert_seeded(self.realm, self.pending)
            self.pending = []

    def ref(self, account: str) -> dict[str, str]:
        return {"value": self.accounts[account], "name": account}


def seed_company(
    store: Store,
    realm_id: str,
    *,
    seed: int,
    items: int,
    vendors: int,
    customers: int,
    invoices: int,
    now: datetime,
) -> SeedSummary:
    """Seed ``realm_id`` (created if absent) with a deterministic company. ``now`` (aware) ends the 90-day
    history. Sales receipts number ``invoices // 10``; purchase orders ``max(3, items // 10)``."""
    started = time.perf_counter()
    if not store.has_realm(realm_id):
        store.create_realm(realm_id, f"Sandbox Company {realm_id}")
    s = _Seeder(store, realm_id, seed, now)
    rng = s.rng
    vendors, customers, items = max(vendors, 1), max(customers, 1), max(items, 1)
    origin = now - HISTORY - timedelta(days=30)

    # ---- vendors and customers -------------------------------------------------------------------------------
    first = store.reserve_ids(realm_id, vendors + customers + items)
    vendor_ids = range(first, first + vendors)
    customer_ids = range(first + vendors, first + vendors + customers)
    item_ids = range(first + vendors + customers, first + vendors + customers + items)
    vendor_names = [f"{rng.choice(_ADJ)} {rng.choice(_VENDOR_KIND)} {n + 1}" for n in range(vendors)]
    for n, vid in enumerate(vendor_ids):
        name = vendor_names[n]
        slug = "".join(ch for ch in name.lower() if ch.isalnum())
        created = origin - timedelta(minutes=rng.randint(0, 60 * 24 * 200))
        s.emit(
            "Vendor",
            {
                "Id": str(vid),
                "Balance": 0,
                "Vendor1099": False,
                "CurrencyRef": dict(USD),
                "DisplayName": name,
                "CompanyName": name,
                "PrintOnCheckName": name,
                "Active": True,
                "PrimaryEmailAddr": {"Address": f"orders@{slug}.example.com"},
                "PrimaryPhone": {"FreeFormNumber": f"(650) 555-{rng.randint(1000, 9999)}"},
            },
            created,
        )
    customer_names: list[str] = []
    for n, cid in enumerate(customer_ids):
        given, family = rng.choice(_FIRST), rng.choice(_LAST)
        name = f"{given} {family} {n + 1}"
        customer_names.append(name)
        created = origin - timedelta(minutes=rng.randint(0, 60 * 24 * 200))
        email = f"{given.lower()}.{''.join(c for c in family.lower() if c.isalpha())}{n + 1}@example.com"
        s.emit(
            "Customer",
            {
                "Id": str(cid),
                "Taxable": True,
                "Job": False,
                "BillWithParent": False,
                "Balance": 0,
                "BalanceWithJobs": 0,
                "CurrencyRef": dict(USD),
                "PreferredDeliveryMethod": "Print",
                "GivenName": given,
                "FamilyName": family,
                "FullyQualifiedName": name,
                "DisplayName": name,
                "PrintOnCheckName": name,
                "Active": True,
                "PrimaryEmailAddr": {"Address": email},
            },
            created,
        )

    # ---- item catalogue (accumulators only; item objects are written last with their final QtyOnHand) -------
    kinds = bytearray(items)  # 0 inventory, 1 non-inventory, 2 service
    prices: list[Decimal] = []
    costs: list[Decimal] = []
    names: list[str] = []
    pref = array("l", [0]) * items
    weights: list[float] = []
    for n in range(items):
        roll = rng.random()
        kinds[n] = 0 if roll < 0.8 else (1 if roll < 0.9 else 2)
        if kinds[n] == 2:
            names.append(f"{rng.choice(_SERVICE)} {n + 1:05d}")
        else:
            names.append(f"{rng.choice(_MATERIAL)} {rng.choice(_PRODUCT)} {n + 1:05d}")
        price = (Decimal(rng.randint(150, 40000)) * CENT).quantize(CENT)
        prices.append(price)
        costs.append((price * Decimal(rng.randint(35, 70)) / 100).quantize(CENT))
        pref[n] = rng.randrange(vendors)
        weights.append(rng.paretovariate(1.3))
    cum: list[float] = []
    total_w = 0.0
    for w in weights:
        total_w += w
        cum.append(total_w)
    receipts = invoices // 10
    expected_units = (invoices + receipts) * 4.5 * 3.0  # lines per doc × mean Qty
    start_qty = array("l", [0]) * items
    for n in range(items):
        if kinds[n] == 0:
            # Demand-weighted opening stock; a low factor leaves the item short after 90 days of sales.
            # ~1 in 12 items is under-stocked so a few end short; the rest carry 1–2.5× their expected demand.
            factor = rng.uniform(0.2, 0.9) if rng.random() < 0.08 else rng.uniform(1.0, 2.5)
            start_qty[n] = int(expected_units * weights[n] / total_w * factor) + rng.randint(0, 5)
    del weights
    sold = array("l", [0]) * items
    received = array("l", [0]) * items
    last_move = array("q", [0]) * items  # µs since history start, 0 = never moved

    # ---- sales: invoices then sales receipts, chronological ---------------------------------------------------
    counts = {"Invoice": [0, 0], "SalesReceipt": [0, 0]}
    hist_start = now - HISTORY
    for entity, n_docs in (("Invoice", invoices), ("SalesReceipt", receipts)):
        if n_docs == 0:
            continue
        ids = store.reserve_ids(realm_id, n_docs)
        doc_no = store.reserve_doc_numbers(realm_id, entity, n_docs)
        step = HISTORY / n_docs
        for k in range(n_docs):
            at = (
                hist_start
                + step * k
                + timedelta(seconds=rng.randint(0, max(int(step.total_seconds()) - 1, 0)))
            )
            c = rng.randrange(customers)
            lines, subtotal = [], Decimal(0)
            for ln in range(rng.randint(1, 8)):
                i = rng.choices(range(items), cum_weights=cum)[0]
                qty = rng.randint(1, 5)
                amount = prices[i] * qty
                subtotal += amount
                if kinds[i] == 0:
                    sold[i] += qty
                    last_move[i] = max(last_move[i], int((at - hist_start) / timedelta(microseconds=1)))
                lines.append(
                    {
                        "Id": str(ln + 1),
                        "LineNum": ln + 1,
                        "Amount": money(amount),
                        "DetailType": "SalesItemLineDetail",
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": str(item_ids[i]), "name": names[i]},
                            "UnitPrice": quantity(prices[i]),
                            "Qty": qty,
                            "TaxCodeRef": {"value": "NON"},
                        },
                    }
                )
            lines.append(
                {"Amount": money(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
            )
            counts[entity][0] += 1
            counts[entity][1] += len(lines) - 1
            s.emit(
                entity,
                _sales_doc(
                    s, entity, ids + k, doc_no + k, at, lines, subtotal, customer_ids[c], customer_names[c]
                ),
                at,
            )

    # ---- purchasing: POs and the bills that received them ---------------------------------------------------
    by_vendor: dict[int, array] = {}
    for n in range(items):
        if kinds[n] == 0:
            by_vendor.setdefault(pref[n], array("l")).append(n)
    stocked = [v for v in range(vendors) if v in by_vendor]
    po_stats = {"Open": 0, "Partial": 0, "Closed": 0, "lines": 0, "bills": 0, "bill_lines": 0}
    n_pos = max(3, items // 10) if stocked else 0
    for batch_start in range(0, n_pos, 500):
        batch = range(batch_start, min(n_pos, batch_start + 500))
        plans = [_plan_po(s, rng.choice(stocked), by_vendor) for _ in batch]
        for plan in plans:
            plan["vendor_ref"] = {
                "value": str(vendor_ids[plan["vendor"]]),
                "name": vendor_names[plan["vendor"]],
            }
        n_ids = sum(1 + len(p["bills"]) for p in plans)
        next_id = store.reserve_ids(realm_id, n_ids)
        po_no = store.reserve_doc_numbers(realm_id, "PurchaseOrder", len(plans))
        bill_no = store.reserve_doc_numbers(realm_id, "Bill", sum(len(p["bills"]) for p in plans))
        links = []
        for p_idx, plan in enumerate(plans):
            po_id, next_id = next_id, next_id + 1
            bill_docs = []
            for bill in plan["bills"]:
                bill_id, next_id = next_id, next_id + 1
                bill_docs.append((bill_id, bill_no, bill))
                bill_no += 1
            po_stats[plan["status"]] += 1
            po_stats["lines"] += len(plan["lines"])
            last = plan["at"]
            for bill_id, number, bill in bill_docs:
                lines, total = [], Decimal(0)
                for ln, (line_idx, qty) in enumerate(bill["receive"]):
                    i, _ = plan["lines"][line_idx]
                    amount = costs[i] * qty
                    total += amount
                    received[i] += qty
                    last_move[i] = max(
                        last_move[i], int((bill["at"] - hist_start) / timedelta(microseconds=1))
                    )
                    lines.append(
                        _expense_line(ln, amount, item_ids[i], names[i], costs[i], qty)
                        | {
                            "LinkedTxn": [
                                {
                                    "TxnId": str(po_id),
                                    "TxnType": "PurchaseOrder",
                                    "TxnLineId": str(line_idx + 1),
                                }
                            ],
                        }
                    )
                    links.append(
                        ("Bill", bill_id, str(ln + 1), po_id, str(line_idx + 1), Decimal(qty), amount)
                    )
                po_stats["bills"] += 1
                po_stats["bill_lines"] += len(lines)
                last = max(last, bill["at"])
                s.emit(
                    "Bill",
                    {
                        "Id": str(bill_id),
                        "DocNumber": str(number),
                        "TxnDate": _at(bill["at"]),
                        "CurrencyRef": dict(USD),
                        "Line": lines,
                        "TotalAmt": money(total),
                        "DueDate": default_due(_at(bill["at"])),
                        "LinkedTxn": [],
                        "Balance": money(total),
                        "VendorRef": plan["vendor_ref"],
                        "APAccountRef": s.ref("Accounts Payable (A/P)"),
                        "_maxLineId": len(lines),
                    },
                    bill["at"],
                )
            s.emit(
                "PurchaseOrder",
                _po_doc(s, plan, po_id, po_no + p_idx, costs, item_ids, names, [b[0] for b in bill_docs]),
                plan["at"],
                last,
            )
        s.flush()
        store.insert_seeded_links(realm_id, links)

    # ---- items, with QtyOnHand = start + received - sold --------------------------------------------------------
    short = 0
    for n in range(items):
        created = origin - timedelta(minutes=rng.randint(0, 60 * 24 * 100))
        doc: dict[str, Any] = {
            "Id": str(item_ids[n]),
            "Name": names[n],
            "Sku": f"SKU-{n + 1:06d}",
            "Active": True,
            "FullyQualifiedName": names[n],
            "Taxable": False,
            "UnitPrice": quantity(prices[n]),
            "IncomeAccountRef": s.ref("Sales of Product Income"),
        }
        if kinds[n] == 2:
            doc |= {"Type": "Service", "TrackQtyOnHand": False, "PurchaseCost": 0}
        else:
            doc |= {
                "Type": "Inventory" if kinds[n] == 0 else "NonInventory",
                "PurchaseCost": quantity(costs[n]),
                "PurchaseDesc": names[n],
                "ExpenseAccountRef": s.ref("Cost of Goods Sold"),
                "PrefVendorRef": {"value": str(vendor_ids[pref[n]]), "name": vendor_names[pref[n]]},
            }
            doc["TrackQtyOnHand"] = kinds[n] == 0
        if kinds[n] == 0:
            on_hand = start_qty[n] + received[n] - sold[n]
            short += on_hand < 0
            doc |= {
                "QtyOnHand": on_hand,
                "InvStartDate": _at(origin),
                "AssetAccountRef": s.ref("Inventory Asset"),
            }
            if rng.random() < 0.85:
                doc["ReorderPoint"] = rng.randint(2, 40)
        updated = hist_start + timedelta(microseconds=last_move[n]) if last_move[n] else created
        s.emit("Item", doc, created, max(created, updated))
    s.flush()
    return SeedSummary(
        realm=realm_id,
        seed=seed,
        vendors=vendors,
        customers=customers,
        items=items,
        inventory_items=sum(1 for k in kinds if k == 0),
        invoices=counts["Invoice"][0],
        invoice_lines=counts["Invoice"][1],
        sales_receipts=counts["SalesReceipt"][0],
        sales_receipt_lines=counts["SalesReceipt"][1],
        purchase_orders=n_pos,
        purchase_orders_open=po_stats["Open"],
        purchase_orders_partial=po_stats["Partial"],
        purchase_orders_closed=po_stats["Closed"],
        purchase_order_lines=po_stats["lines"],
        bills=po_stats["bills"],
        bill_lines=po_stats["bill_lines"],
        short_items=short,
        seconds=round(time.perf_counter() - started, 2),
    )


def _sales_doc(
    s: _Seeder,
    entity: str,
    ident: int,
    number: int,
    at: datetime,
    lines: list[dict[str, Any]],
    total: Decimal,
    customer_id: int,
    customer_name: str,
) -> dict[str, Any]:
    """Same shape as an API-created Invoice / SalesReceipt (forms._transaction)."""
    doc: dict[str, Any] = {}
    if entity == "Invoice":
        doc |= {
            "AllowIPNPayment": False,
            "AllowOnlinePayment": False,
            "AllowOnlineCreditCardPayment": False,
            "AllowOnlineACHPayment": False,
        }
    email = customer_name.split(" ")[0].lower()
    doc |= {
        "Id": str(ident),
        "DocNumber": str(number),
        "TxnDate": _at(at),
        "CurrencyRef": dict(USD),
        "LinkedTxn": [],
        "Line": lines,
        "TxnTaxDetail": {"TotalTax": 0},
        "CustomerRef": {"value": str(customer_id), "name": customer_name},
    }
    if entity == "Invoice":
        doc |= {
            "BillEmail": {"Address": f"{email}.{customer_id}@example.com"},
            "DueDate": default_due(_at(at)),
            "TotalAmt": money(total),
            "ApplyTaxAfterDiscount": False,
            "PrintStatus": "NeedToPrint",
            "EmailStatus": "NotSet",
            "Balance": money(total),
        }
    else:
        doc |= {
            "TotalAmt": money(total),
            "ApplyTaxAfterDiscount": False,
            "PrintStatus": "NotSet",
            "EmailStatus": "NotSet",
            "Balance": 0,
            "DepositToAccountRef": s.ref("Undeposited Funds"),
        }
    doc["_maxLineId"] = len(lines) - 1
    return doc


def _plan_po(s: _Seeder, vendor: int, by_vendor: dict[int, array]) -> dict[str, Any]:
    """Decide a PO's lines, status and receiving bills (no Ids yet)."""
    rng = s.rng
    pool = by_vendor[vendor]
    n_lines = min(len(pool), rng.randint(1, 10))
    chosen = rng.sample(range(len(pool)), n_lines)
    lines = [(pool[j], rng.randint(5, 100)) for j in chosen]
    roll = rng.random()
    status = "Open" if roll < 0.4 else ("Partial" if roll < 0.6 else "Closed")
    # Received POs are older: a closed one was ordered 20–90 days ago, an open one in the last 30.
    days = rng.uniform(20, 89) if status != "Open" else rng.uniform(0, 30)
    at = s.now - timedelta(days=days)
    bills: list[dict[str, Any]] = []
    if status == "Closed":
        split = rng.random() < 0.3 and n_lines > 1
        cut = n_lines // 2 if split else n_lines
        bills.append(
            {"at": at + timedelta(days=rng.uniform(3, 10)), "receive": [(j, lines[j][1]) for j in range(cut)]}
        )
        if split:
            bills.append(
                {
                    "at": at + timedelta(days=rng.uniform(11, 19)),
                    "receive": [(j, lines[j][1]) for j in range(cut, n_lines)],
                }
            )
    elif status == "Partial":
        receive = [(j, rng.randint(1, lines[j][1] - 1)) for j in range(n_lines) if rng.random() < 0.6]
        if not receive:
            receive = [(0, max(1, lines[0][1] // 2))]
        bills.append({"at": at + timedelta(days=rng.uniform(3, 15)), "receive": receive})
    return {"vendor": vendor, "lines": lines, "status": status, "at": at, "bills": bills}


def _po_doc(
    s: _Seeder,
    plan: dict[str, Any],
    po_id: int,
    number: int,
    costs: list[Decimal],
    item_ids: range,
    names: list[str],
    bill_ids: list[int],
) -> dict[str, Any]:
    lines, total = [], Decimal(0)
    for ln, (i, qty) in enumerate(plan["lines"]):
        amount = costs[i] * qty
        total += amount
        lines.append(_expense_line(ln, amount, item_ids[i], names[i], costs[i], qty))
    doc: dict[str, Any] = {
        "Id": str(po_id),
        "DocNumber": str(number),
        "TxnDate": _at(plan["at"]),
        "CurrencyRef": dict(USD),
        "Line": lines,
        "TotalAmt": money(total),
        "DueDate": _at(plan["at"] + timedelta(days=s.rng.randint(7, 30))),
        "EmailStatus": "NotSet",
        "VendorRef": plan["vendor_ref"],
        "APAccountRef": s.ref("Accounts Payable (A/P)"),
        "POStatus": "Closed" if plan["status"] == "Closed" else "Open",
        "_maxLineId": len(lines),
    }
    if bill_ids:
        doc["LinkedTxn"] = [{"TxnId": str(b), "TxnType": "Bill"} for b in bill_ids]
    return doc


def _expense_line(ln: int, amount: Decimal, item_id: int, name: str, cost: Decimal, qty: Any) -> dict[str, Any]:
    """One ``ItemBasedExpenseLineDetail`` line as QBO renders it on a PO or a bill (a bill adds ``LinkedTxn``)."""
    return {
        "Id": str(ln + 1),
        "LineNum": ln + 1,
        "Amount": money(amount),
        "DetailType": "ItemBasedExpenseLineDetail",
        "ItemBasedExpenseLineDetail": {
            "ItemRef": {"value": str(item_id), "name": name},
            "UnitPrice": quantity(cost),
            "Qty": qty,
            "BillableStatus": "NotBillable",
            "TaxCodeRef": {"value": "NON"},
        },
    }
