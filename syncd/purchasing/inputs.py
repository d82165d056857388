"""Read what the reorder core needs from the mirror (and the outbox). Reads only; the caller owns the session.

Contract of :func:`read_inputs` (one consistent snapshot when called inside one transaction):

* Items: active ``Inventory`` items with ``TrackQtyOnHand``; :class:`~syncd.rules.match.ItemFacts` from the mirrored
  columns (Name, Sku, ReorderPoint, PrefVendorRef, PurchaseCost — parsed from the item's raw JSON by the sync).
  A missing QtyOnHand counts as 0.
* Open POs: every mirrored PO with ``POStatus = 'Open'`` and not ``ManuallyClosed`` — syncd's and hand-typed ones.
  Per PO line, remaining = line qty − qty of the bill lines linked to that PO line (``LinkedTxn`` with the line id);
  bill lines linked to the PO without a line id are taken from that PO's lines of the same item, in line order.
  A PO is *hand-typed* when no syncd intent points at it.
* Intents not yet mirrored: intents in ``pending_approval``, ``approved`` or ``pushing`` (a ``created`` intent is
  mirrored in the same transaction that marks it created). An intent whose request id already appears in a
  mirrored PO's PrivateNote is skipped, so nothing is counted twice.
* Demand: per item and day, the quantity on non-voided invoice and sales-receipt lines over the last
  ``demand_days`` days up to ``today`` (only read when some rule uses ``reorder_point = "auto"``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlmodel import Session, col

from syncd.mirror.models import (
    Account,
    BillLine,
    Invoice,
    InvoiceLine,
    Item,
    PurchaseOrder,
    PurchaseOrderLine,
    SalesReceipt,
    SalesReceiptLine,
    Vendor,
)
from syncd.mirror.types import loads
from syncd.purchasing.models import OPEN_STATUSES, POIntent
from syncd.rules.match import ItemFacts
from syncd.rules.reorder import DemandDay, OpenPO, PendingIntent, PositionInputs

ZERO = Decimal(0)
AP_TYPE = "Accounts Payable"


@dataclass(frozen=True)
class MirrorInputs:
    """Everything one planning pass reads: facts and position inputs per item, vendors and AP accounts."""

    items: Mapping[str, ItemFacts]
    positions: Mapping[str, PositionInputs]
    vendors: Mapping[str, str]  # active vendor Id -> DisplayName
    ap_accounts: Mapping[str, str]  # active AP account Id -> Name


def read_vendors(session: Session, company: str) -> dict[str, str]:
    """Active vendors of the mirror: Id -> DisplayName."""
    rows = session.execute(
        select(col(Vendor.id), col(Vendor.display_name)).where(
            col(Vendor.company) == company, col(Vendor.active).is_(True)
        )
    )
    return {r.id: r.display_name or r.id for r in rows}


def read_ap_accounts(session: Session, company: str) -> dict[str, str]:
    """Active Accounts Payable accounts: Id -> Name."""
    rows = session.execute(
        select(col(Account.id), col(Account.name)).where(
            col(Account.company) == company, col(Account.account_type) == AP_TYPE,
            col(Account.active).is_(True),
        )
    )
    return {r.id: r.name or r.id for r in rows}


def read_items(session: Session, company: str) -> tuple[dict[str, ItemFacts], dict[str, Decimal]]:
    """Tracked inventory items: facts and QtyOnHand."""
    # Columns only (not ORM objects): the raw JSON and the identity map of a whole company stay out of memory.
    rows = session.execute(
        select(col(Item.id), col(Item.name), col(Item.sku), col(Item.reorder_point), col(Item.pref_vendor_id),
               col(Item.purchase_cost), col(Item.qty_on_hand)).where(
            col(Item.company) == company, col(Item.active).is_(True), col(Item.type) == "Inventory",
            col(Item.track_qty_on_hand).is_(True),
        )
    )
    facts: dict[str, ItemFacts] = {}
    on_hand: dict[str, Decimal] = {}
    for it in rows:
        facts[it.id] = ItemFacts(
            id=it.id, name=it.name or it.id, sku=it.sku, reorder_point=it.reorder_point,
            pref_vendor_id=it.pref_vendor_id, purchase_cost=it.purchase_cost,
        )
        on_hand[it.id] = it.qty_on_hand if it.qty_on_hand is not None else ZERO
    return facts, on_hand


def read_open_pos(session: Session, company: str) -> dict[str, list[OpenPO]]:
    """Remaining quantity per item on every open PO (see the module docstring)."""
    syncd_pos = set(
        session.scalars(
            select(col(POIntent.qbo_po_id)).where(
                col(POIntent.company) == company, col(POIntent.qbo_po_id).is_not(None)
            )
        )
    )
    heads = {
        r.id: r.doc_number or r.id
        for r in session.execute(
            select(col(PurchaseOrder.id), col(PurchaseOrder.doc_number)).where(
                col(PurchaseOrder.company) == company, col(PurchaseOrder.po_status) == "Open",
                col(PurchaseOrder.manually_closed).is_(False),
            )
        )
    }
    if not heads:
        return {}
    lines = session.execute(
        select(col(PurchaseOrderLine.purchase_order_id), col(PurchaseOrderLine.line_id),
               col(PurchaseOrderLine.item_id), col(PurchaseOrderLine.qty))
        .where(col(PurchaseOrderLine.company) == company, col(PurchaseOrderLine.item_id).is_not(None))
        .order_by(col(PurchaseOrderLine.purchase_order_id), col(PurchaseOrderLine.seq))
    ).all()
    by_line: dict[tuple[str, str | None], Decimal] = defaultdict(lambda: ZERO)
    by_item: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for b in session.execute(
        select(col(BillLine.po_id), col(BillLine.po_line_id), col(BillLine.item_id), col(BillLine.qty))
        .where(col(BillLine.company) == company, col(BillLine.po_id).is_not(None))
    ):
        if b.po_id not in heads or b.qty is None:
            continue
        if b.po_line_id:
            by_line[(b.po_id, b.po_line_id)] += b.qty
        elif b.item_id:
            by_item[(b.po_id, b.item_id)] += b.qty
    out: dict[str, list[OpenPO]] = defaultdict(list)
    for ln in lines:
        if ln.purchase_order_id not in heads or ln.qty is None:
            continue
        remaining = ln.qty - by_line.get((ln.purchase_order_id, ln.line_id), ZERO)
        key = (ln.purchase_order_id, ln.item_id)
        loose = by_item.get(key, ZERO)
        if loose > 0 and remaining > 0:
            taken = min(loose, remaining)
            remaining -= taken
            by_item[key] = loose - taken
        out[ln.item_id].append(
            OpenPO(heads[ln.purchase_order_id], remaining, hand_typed=ln.purchase_order_id not in syncd_pos)
        )
    return dict(out)


def read_unmirrored_intents(session: Session, company: str) -> dict[str, list[PendingIntent]]:
    """Quantities per item in intents whose PO is not in the mirror yet (see the module docstring)."""
    intents = session.execute(
        select(POIntent).where(col(POIntent.company) == company, col(POIntent.status).in_(OPEN_STATUSES))
    ).scalars().all()
    out: dict[str, list[PendingIntent]] = defaultdict(list)
    for intent in intents:
        seen = session.scalar(
            select(col(PurchaseOrder.id)).where(
                col(PurchaseOrder.company) == company,
                col(PurchaseOrder.private_note).like(f"%{intent.request_id}%"),
            ).limit(1)
        )
        if seen is not None:
            continue
        for line in loads(intent.body).get("Line", []):
            detail = line["ItemBasedExpenseLineDetail"]
            ref = f"intent {intent.id} ({intent.status})"
            out[str(detail["ItemRef"]["value"])].append(PendingIntent(ref, Decimal(detail["Qty"])))
    return dict(out)


def read_demand(session: Session, company: str, today: date, days: int) -> dict[str, list[DemandDay]]:
    """Units sold per item and day over ``days`` days ending ``today`` (voided documents excluded)."""
    start = today - timedelta(days=days - 1)
    totals: dict[tuple[str, date], Decimal] = defaultdict(lambda: ZERO)
    for head, line, fk in ((Invoice, InvoiceLine, "invoice_id"), (SalesReceipt, SalesReceiptLine,
                                                                  "sales_receipt_id")):
        # Summed per item and day by the database: one row per (item, day), not one per sales line.
        rows = session.execute(
            select(col(line.item_id), func.sum(col(line.qty)), col(head.txn_date))
            .join(head, (col(head.company) == col(line.company)) & (col(head.id) == getattr(line, fk)))
            .where(col(line.company) == company, col(line.item_id).is_not(None), col(line.qty).is_not(None),
                   col(head.voided).is_(False), col(head.txn_date) >= start, col(head.txn_date) <= today)
            .group_by(col(line.item_id), col(head.txn_date))
        )
        for item_id, qty, day in rows:
            totals[(item_id, day)] += qty
    out: dict[str, list[DemandDay]] = defaultdict(list)
    for (item_id, day), qty in sorted(totals.items()):
        out[item_id].append(DemandDay(day, qty))
    return dict(out)


def read_inputs(session: Session, company: str, today: date, demand_days: int = 0) -> MirrorInputs:
    """The whole snapshot (see the module docstring); ``demand_days`` 0 skips reading demand."""
    facts, on_hand = read_items(session, company)
    open_pos = read_open_pos(session, company)
    intents = read_unmirrored_intents(session, company)
    demand = read_demand(session, company, today, demand_days) if demand_days > 0 else {}
    positions = {
        iid: PositionInputs(
            item_id=iid, qty_on_hand=on_hand[iid], open_pos=tuple(open_pos.get(iid, ())),
            intents=tuple(intents.get(iid, ())), demand=tuple(demand.get(iid, ())),
        )
        for iid in facts
    }
    return MirrorInputs(facts, positions, read_vendors(session, company), read_ap_accounts(session, company))
