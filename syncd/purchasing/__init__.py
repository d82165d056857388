"""Purchasing: the reorder cycle's edges around the pure core in :mod:`syncd.rules`.

* :mod:`.models` — the ``reorder_plan`` and ``po_intent`` (outbox) tables.
* :mod:`.inputs` — what the core reads, taken from the mirror (items, stock position, demand, vendors, AP).
* :mod:`.planner` — one planning pass: mirror → :func:`syncd.rules.plan.build_plan` → stored plan and intents.
* :mod:`.body` — a planned PO as the QBO ``PurchaseOrder`` create body.
* :mod:`.executor` — outbox execution and crash reconciliation (never a duplicate PO).
* :mod:`.cycle` — the reorder step of a sync cycle, per mode.
* :mod:`.render` — tables and JSON for ``syncd reorder plan`` and ``syncd po``.
"""
