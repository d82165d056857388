"""A planned PO as the body of a QBO ``POST /purchaseorder`` (QBO_FACTS §9 PurchaseOrder).

Shape: ``VendorRef``, ``APAccountRef`` (omitted when the plan knows none: QBO then implies the company's only AP
account), one ``ItemBasedExpenseLineDetail`` line per planned line (``ItemRef``, ``Qty``, ``UnitPrice``; line
``Amount``; ``LineNum`` from 1), ``DueDate``, ``PrivateNote`` (plan id, request id, short why), ``Memo`` when
configured, ``POStatus: "Open"`` (python-quickbooks leaves it unset; we always send it). Numbers stay ``Decimal``.
"""

from __future__ import annotations

from typing import Any

from syncd.rules.plan import PlannedPO


def po_body(po: PlannedPO) -> dict[str, Any]:
    """The create body for ``po`` (pure, deterministic)."""
    lines = [
        {
            "LineNum": n,
            "Amount": line.amount,
            "DetailType": "ItemBasedExpenseLineDetail",
            "ItemBasedExpenseLineDetail": {
                "ItemRef": {"value": line.item_id, "name": line.item_name},
                "Qty": line.qty,
                "UnitPrice": line.unit_price,
            },
        }
        for n, line in enumerate(po.lines, start=1)
    ]
    body: dict[str, Any] = {"VendorRef": {"value": po.vendor_id, "name": po.vendor_name}}
    if po.ap_account_id is not None:
        body["APAccountRef"] = {"value": po.ap_account_id}
    body |= {"Line": lines, "DueDate": po.due_date.isoformat(), "PrivateNote": po.private_note,
             "POStatus": "Open"}
    if po.memo:
        body["Memo"] = po.memo
    return body


def explanation_of(po: PlannedPO) -> list[dict[str, Any]]:
    """Per line: item, quantities, price, amount and every explained step (JSON-ready, Decimals as text)."""
    return [
        {
            "item_id": line.item_id,
            "item_name": line.item_name,
            "qty": str(line.qty),
            "unit_price": str(line.unit_price),
            "amount": str(line.amount),
            "why": line.explanation.text(),
            "steps": line.explanation.as_list(),
        }
        for line in po.lines
    ]
