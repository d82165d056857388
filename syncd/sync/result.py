"""What one sync cycle reports, and the call counter it is measured with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from syncd.connectors.base import JSON, CDCResult, Connector, TokenState


@dataclass(frozen=True)
class DriftReport:
    """One entity's drift check: QBO's ``count()``, the mirror's count before, and rows repaired."""

    entity: str
    qbo_count: int
    mirror_count: int
    repaired: int


@dataclass(frozen=True)
class CycleResult:
    """The outcome of :meth:`syncd.sync.engine.SyncEngine.run_once`.

    ``touched_item_ids`` — Items whose demand (sales lines), supply (PO/bill lines) or stock (the Item itself)
    changed in this cycle: the input of the ledger's incremental recompute. The same ids are also persisted in the
    ``dirty_item`` table in the transactions that changed them (see :mod:`syncd.sync.changes`).
    ``rows_written`` counts mirror rows inserted, replaced or deleted plus quarantine changes (0 for an idle cycle);
    ``api_calls`` counts QBO requests made through the connector (1 for an idle cycle).
    """

    company: str
    started_at: datetime
    finished_at: datetime
    touched_item_ids: frozenset[str]
    api_calls: int
    rows_written: int
    rows_deleted: int
    quarantined: int
    backfilled: tuple[str, ...] = ()
    caught_up: tuple[str, ...] = ()
    drift: tuple[DriftReport, ...] = ()
    per_entity: Mapping[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for humans (``syncd sync``)."""
        parts = [
            f"{self.company}: ok",
            f"{self.rows_written} row(s) written",
            f"{self.rows_deleted} deleted",
            f"{len(self.touched_item_ids)} item(s) touched",
            f"{self.quarantined} quarantined",
            f"{self.api_calls} API call(s)",
        ]
        if self.backfilled:
            parts.append("backfilled " + ",".join(self.backfilled))
        if self.caught_up:
            parts.append("paged catch-up " + ",".join(self.caught_up))
        if self.drift:
            parts.append(f"drift repaired {sum(d.repaired for d in self.drift)}")
        seconds = (self.finished_at - self.started_at).total_seconds()
        return ", ".join(parts) + f" in {seconds:.1f}s"


class CountingConnector:
    """Wraps a :class:`Connector` and counts the requests made through it (one per method call)."""

    def __init__(self, inner: Connector) -> None:
        self.inner = inner
        self.company = inner.company
        self.realm_id = inner.realm_id
        self.calls = 0

    def query_page(self, entity: str, **kwargs: Any) -> list[JSON]:
        self.calls += 1
        return self.inner.query_page(entity, **kwargs)

    def count(self, entity: str, **kwargs: Any) -> int:
        self.calls += 1
        return self.inner.count(entity, **kwargs)

    def cdc(self, entities: Sequence[str], changed_since: datetime) -> CDCResult:
        self.calls += 1
        return self.inner.cdc(entities, changed_since)

    def read(self, entity: str, id: str) -> JSON:
        self.calls += 1
        return self.inner.read(entity, id)

    def create(self, entity: str, body: JSON, *, request_id: str) -> JSON:
        self.calls += 1
        return self.inner.create(entity, body, request_id=request_id)

    def tokens(self) -> TokenState | None:
        return self.inner.tokens()
