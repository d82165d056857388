"""Keeping the mirror equal to QuickBooks: :class:`syncd.sync.engine.SyncEngine` runs a cycle (backfill,
incremental CDC, paged fallback, quarantine retry, drift check) and returns a
:class:`syncd.sync.result.CycleResult` whose ``touched_item_ids`` feed the ledger.

Modules: :mod:`.parse` (raw QBO JSON → row values, pure), :mod:`.plan` (what a batch does to the mirror, pure),
:mod:`.apply` (executes a plan in the caller's transaction), :mod:`.pager` (paging that survives concurrent
changes), :mod:`.changes` (the persisted dirty-item set), :mod:`.engine`, :mod:`.result`.
"""
