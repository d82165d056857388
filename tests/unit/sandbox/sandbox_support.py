"""Helpers shared by the sandbox data-layer tests: the test realm, recorded samples, an object builder."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from syncd.sandbox.clock import Clock
from syncd.sandbox.store import Store

REALM = "9130350000000001"
SAMPLES = Path("/work/shared/qbo_samples")


def sample(relpath: str) -> Any:
    """A recorded payload from qbo_samples/ (skips when the shared folder is absent)."""
    path = SAMPLES / relpath
    if not path.exists():
        pytest.skip(f"sample {relpath} not available")
    return json.loads(path.read_text())


class Company:
    """Creates objects through the public Store API (the same path the HTTP layer uses)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store, self.clock = store, clock
        self.accounts = store.accounts(REALM)

    def tick(self, seconds: float = 1.0) -> None:
        self.clock.advance(seconds)

    def ref(self, account: str) -> dict[str, str]:
        return {"value": self.accounts[account]}

    def vendor(self, name: str = "Hicks Hardware", **extra: Any) -> dict[str, Any]:
        return self.store.create(REALM, "Vendor", {"DisplayName": name, **extra})

    def customer(self, name: str = "Cool Cars", **extra: Any) -> dict[str, Any]:
        return self.store.create(REALM, "Customer", {"DisplayName": name, **extra})

    def item(self, name: str = "Rock Fountain", qty: Decimal | int = 10, **extra: Any) -> dict[str, Any]:
        body = {
            "Name": name,
            "Type": "Inventory",
            "TrackQtyOnHand": True,
            "QtyOnHand": str(qty),
            "InvStartDate": "2024-01-01",
            "UnitPrice": 275,
            "PurchaseCost": "125.50",
            "IncomeAccountRef": self.ref("Sales of Product Income"),
            "ExpenseAccountRef": self.ref("Cost of Goods Sold"),
            "AssetAccountRef": self.ref("Inventory Asset"),
        }
        return self.store.create(REALM, "Item", body | extra)

    def sale(
        self,
        entity: str,
        customer: dict[str, Any],
        lines: list[tuple[dict[str, Any], Any, Any]],
        **extra: Any,
    ) -> dict[str, Any]:
        body = {
            "CustomerRef": {"value": customer["Id"]},
            "Line": [
                {
                    "Amount": str(Decimal(str(q)) * Decimal(str(p))),
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": it["Id"]}, "Qty": q, "UnitPrice": p},
                }
                for it, q, p in lines
            ],
        }
        return self.store.create(REALM, entity, body | extra)

    def po(self, vendor: dict[str, Any], lines: list[tuple[dict[str, Any], Any, Any]]) -> dict[str, Any]:
        return self.store.create(
            REALM, "PurchaseOrder", {"VendorRef": {"value": vendor["Id"]}, "Line": self._expense_lines(lines)}
        )

    def bill(
        self,
        vendor: dict[str, Any],
        lines: list[tuple[dict[str, Any], Any, Any]],
        links: list[tuple[str, str] | None] | None = None,
    ) -> dict[str, Any]:
        body_lines = self._expense_lines(lines)
        for line, link in zip(body_lines, links or [], strict=False):
            if link:
                line["LinkedTxn"] = [{"TxnId": link[0], "TxnType": "PurchaseOrder", "TxnLineId": link[1]}]
        return self.store.create(REALM, "Bill", {"VendorRef": {"value": vendor["Id"]}, "Line": body_lines})

    @staticmethod
    def _expense_lines(lines: list[tuple[dict[str, Any], Any, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "Amount": float(Decimal(str(q)) * Decimal(str(p))),
                "DetailType": "ItemBasedExpenseLineDetail",
                "ItemBasedExpenseLineDetail": {"ItemRef": {"value": it["Id"]}, "Qty": q, "UnitPrice": p},
            }
            for it, q, p in lines
        ]

    def qty(self, item: dict[str, Any]) -> Decimal:
        return Decimal(str(self.store.read(REALM, "Item", item["Id"])["QtyOnHand"]))
