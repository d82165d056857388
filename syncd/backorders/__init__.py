"""The stored backorder ledger: tables, the mirror loader and the recompute service around the pure core.

* :mod:`syncd.backorders.models` — ``backorder_line`` (current state per short line), ``backorder_event``
  (append-only history) and ``backorder_meta`` (per-company bookkeeping: last review day, policy fingerprint).
* :mod:`syncd.backorders.loader` — set-based reads of :class:`~syncd.ledger.model.ItemInput` from the mirror.
* :mod:`syncd.backorders.store` — rows <-> :class:`~syncd.ledger.model.LineState` / events.
* :mod:`syncd.backorders.service` — :func:`recompute_items`, :func:`rebuild_all`, :func:`review`,
  :func:`ledger_step` (what the sync engine runs after a cycle's mirror writes).
"""

from __future__ import annotations

from syncd.backorders.service import (
    LedgerOutcome,
    company_today,
    ledger_step,
    rebuild_all,
    recompute_items,
    review,
)

__all__ = ["LedgerOutcome", "company_today", "ledger_step", "rebuild_all", "recompute_items", "review"]
