"""Stock effects of transactions and purchase-order receiving, as pure functions (QBO_FACTS §9 "Receiving stock").

* Invoice / SalesReceipt ``SalesItemLineDetail`` lines lower QtyOnHand; Bill / Purchase ``ItemBasedExpenseLineDetail``
  lines raise it (a Purchase with ``Credit: true`` is a refund and lowers it); PurchaseOrders are non-posting.
* A write applies ``effect(new) - effect(old)``; delete uses ``effect(None) = {}``; a voided document has no Qty on
  its lines, so voiding reverses the original effect through the same arithmetic.
* Negative stock is allowed (no oversell validation in QBO [QBO_FACTS §9]).
* A Bill/Purchase line with ``LinkedTxn [{TxnId, TxnType: "PurchaseOrder", TxnLineId}]`` receives that PO line; a PO
  whose lines are all received is ``Closed`` [PARTIALPO].
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from syncd.sandbox.entities import dec

ZERO = Decimal(0)


def stock_effect(entity: str, doc: Mapping[str, Any] | None) -> dict[str, Decimal]:
    """Item Id → signed quantity this document moves (before checking whether the item tracks stock)."""
    if doc is None:
        return {}
    if entity in ("Invoice", "SalesReceipt"):
        kind, sign = "SalesItemLineDetail", Decimal(-1)
    elif entity in ("Bill", "Purchase"):
        kind, sign = "ItemBasedExpenseLineDetail", Decimal(1)
        if entity == "Purchase" and doc.get("Credit") is True:
            sign = Decimal(-1)
    else:
        return {}
    out: dict[str, Decimal] = defaultdict(Decimal)
    for line in doc.get("Line", []):
        if line.get("DetailType") != kind:
            continue
        detail = line.get(kind) or {}
        ref = detail.get("ItemRef") or {}
        if "value" not in ref or "Qty" not in detail:
            continue  # a line without Qty (e.g. voided) moves nothing
        out[str(ref["value"])] += sign * dec(detail["Qty"], "Qty")
    return {k: v for k, v in out.items() if v != 0}


def net_change(old: Mapping[str, Decimal], new: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Per-item difference ``new - old``, zero entries dropped."""
    out = {k: new.get(k, ZERO) - old.get(k, ZERO) for k in set(old) | set(new)}
    return {k: v for k, v in out.items() if v != 0}


@dataclass(frozen=True)
class POLink:
    """One Bill/Purchase line receiving one PO line."""

    line_id: str
    po_id: str
    po_line_id: str
    qty: Decimal
    amount: Decimal


def requested_links(doc: Mapping[str, Any]) -> list[POLink]:
    """Links a Bill/Purchase asks for. All of TxnId, TxnType and TxnLineId are required for a line link to take
    effect [BILL doc quoted in ruckus/quickbooks-ruby#556]; incomplete ones are ignored."""
    links = []
    for line in doc.get("Line", []):
        kind = line.get("DetailType")
        detail = line.get(kind) or {}
        for ln in line.get("LinkedTxn") or []:
            if ln.get("TxnType") != "PurchaseOrder" or not ln.get("TxnId") or not ln.get("TxnLineId"):
                continue
            qty = dec(detail["Qty"], "Qty") if "Qty" in detail else ZERO
            amount = dec(line.get("Amount", 0), "Amount")
            links.append(POLink(str(line.get("Id")), str(ln["TxnId"]), str(ln["TxnLineId"]), qty, amount))
    return links


def drop_links(doc: dict[str, Any], invalid: Iterable[POLink]) -> None:
    """Remove link requests that point at a missing PO or PO line, in place.

    QBO is reported to create the Bill while silently omitting an invalid link [ej2#366; simstudioai/sim#6194];
    the sandbox does the same so a client must verify links it asked for.
    """
    bad = {(lk.line_id, lk.po_id, lk.po_line_id) for lk in invalid}
    if not bad:
        return
    for line in doc.get("Line", []):
        kept = [
            ln
            for ln in line.get("LinkedTxn") or []
            if (str(line.get("Id")), str(ln.get("TxnId")), str(ln.get("TxnLineId"))) not in bad
        ]
        if kept:
            line["LinkedTxn"] = kept
        else:
            line.pop("LinkedTxn", None)


def fully_received(po: Mapping[str, Any], received: Mapping[str, tuple[Decimal, Decimal]]) -> bool:
    """True when every PO line is accounted for: item lines by quantity, account lines by amount."""
    lines = [
        ln
        for ln in po.get("Line", [])
        if ln.get("DetailType") in ("ItemBasedExpenseLineDetail", "AccountBasedExpenseLineDetail")
    ]
    if not lines:
        return False
    for line in lines:
        got_qty, got_amount = received.get(str(line.get("Id")), (ZERO, ZERO))
        if line["DetailType"] == "ItemBasedExpenseLineDetail" and "Qty" in line[line["DetailType"]]:
            if got_qty < dec(line["ItemBasedExpenseLineDetail"]["Qty"], "Qty"):
                return False
        elif got_amount < dec(line.get("Amount", 0), "Amount"):
            return False
    return True


def po_state(
    po: dict[str, Any], received: Mapping[str, tuple[Decimal, Decimal]], linked: list[tuple[str, str]]
) -> dict[str, Any]:
    """Apply receiving state to a PO (in place and returned): ``POStatus`` and header ``LinkedTxn``.

    ``linked`` = (TxnId, TxnType) of every Bill/Purchase linked to the PO, ordered by TxnId. Closed when manually
    closed (``ManuallyClosed: true``) or fully received; otherwise Open.
    """
    closed = po.get("ManuallyClosed") is True or fully_received(po, received)
    po["POStatus"] = "Closed" if closed else "Open"
    if linked:
        po["LinkedTxn"] = [{"TxnId": tid, "TxnType": ttype} for tid, ttype in linked]
    else:
        po.pop("LinkedTxn", None)
    return po


def client_po_status(
    po: dict[str, Any], sent: Mapping[str, Any], old: Mapping[str, Any] | None, received_in_full: bool
) -> None:
    """Interpret a client-written ``POStatus`` / ``ManuallyClosed`` (in place).

    Sending ``POStatus: "Closed"`` manually closes a PO that is not fully received; sending ``"Open"`` clears a
    manual close. Echoing back ``"Closed"`` of a fully received PO (a full update after a read) is not a manual
    close, so deleting the bill later still reopens it. Only a true ``ManuallyClosed`` is stored (its presence in
    QBO JSON is UNCONFIRMED [PO]).
    """
    manual = bool((old or {}).get("ManuallyClosed"))
    if "ManuallyClosed" in sent:
        manual = sent["ManuallyClosed"] is True
    elif sent.get("POStatus") == "Closed" and not received_in_full:
        manual = True
    elif sent.get("POStatus") == "Open":
        manual = False
    if manual:
        po["ManuallyClosed"] = True
    else:
        po.pop("ManuallyClosed", None)
