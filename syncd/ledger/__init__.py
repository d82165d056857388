"""Backorder ledger: pure allocation, ETA pegging and event derivation."""

from __future__ import annotations

from syncd.ledger.config import BackorderConfig, describe_errors
from syncd.ledger.core import (
    Allocation,
    Recomputed,
    allocate,
    covers,
    items_needing_review,
    recompute,
    settle,
)
from syncd.ledger.events import diff
from syncd.ledger.model import (
    DemandLine,
    ItemInput,
    LedgerError,
    LedgerEvent,
    LineAllocation,
    LineKey,
    LineState,
    Peg,
    SupplyLine,
)
from syncd.ledger.policy import CustomerPriority, FillPolicy, ItemOverride

__all__ = [
    "Allocation",
    "BackorderConfig",
    "CustomerPriority",
    "DemandLine",
    "FillPolicy",
    "ItemInput",
    "ItemOverride",
    "LedgerError",
    "LedgerEvent",
    "LineAllocation",
    "LineKey",
    "LineState",
    "Peg",
    "Recomputed",
    "SupplyLine",
    "allocate",
    "covers",
    "describe_errors",
    "diff",
    "items_needing_review",
    "recompute",
    "settle",
]
