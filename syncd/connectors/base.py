"""The connector protocol: everything the sync engine may ask of a QuickBooks company.

Glossary (QBO terms as the daemon uses them)
--------------------------------------------
- **entity**: a QBO object type, canonical case: ``Item``, ``Vendor``, ``Customer``, ``Account``, ``Invoice``,
  ``SalesReceipt``, ``PurchaseOrder``, ``Bill``.
- **Id**: QBO's object id, a numeric string, unique per entity type within a realm.
- **SyncToken**: QBO's version number of an object (≈ an etag), a numeric string bumped on every write.
- **LastUpdatedTime** (``MetaData.LastUpdatedTime``): the replication key; aware datetime.
- **stub**: what CDC returns for a deleted object: ``{"Id", "status": "Deleted", "MetaData": {"LastUpdatedTime"}}``.
- **requestid**: QBO's idempotency key on writes; the same requestid returns the first answer again.

Contract for every method
-------------------------
- Objects are returned as the **raw JSON dicts** QBO sent (parsed with ``parse_float=Decimal``: ``Decimal`` for
  every non-integer JSON number, ``int`` for integers, never a ``float``), so the mirror can keep the raw document
  and nothing is lost to an object model.
- Errors are raised only as :mod:`syncd.errors` types: :class:`~syncd.errors.AuthError` (refresh token invalid or
  revoked — needs ``syncd auth``), :class:`~syncd.errors.RetriableError` (still failing after the configured retries:
  429, 5xx, timeouts, dropped connections), :class:`QBOError` (a QBO fault the caller may act on, e.g. 610, 5010,
  6240, 2010, 4001 — with its ``code``), :class:`~syncd.errors.FatalSyncError` (anything else).
- Reads (``query_page``, ``count``, ``cdc``, ``read``) are idempotent and retried inside the connector.
  ``create`` is retried only with the same ``request_id``, so a retry after a lost answer cannot create twice.
- Every call goes through the per-realm rate limiter; one call to a method is one QBO HTTP request unless the
  docstring says otherwise (benchmarks count them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from syncd.errors import SyncdError

JSON = dict[str, Any]

#: Entities the mirror keeps, in the order a backfill reads them (references before documents).
MIRRORED_ENTITIES: tuple[str, ...] = (
    "Account", "Vendor", "Customer", "Item", "PurchaseOrder", "Bill", "Invoice", "SalesReceipt",
)
#: Name-list entities: QBO returns only Active rows unless the query filters on Active; they are never deleted.
NAME_LISTS: frozenset[str] = frozenset({"Account", "Vendor", "Customer", "Item"})


class QBOError(SyncdError):
    """A fault QBO returned for one request (not auth, not transient). ``code`` is QBO's error code string."""

    def __init__(self, code: str, message: str, detail: str = "", status: int | None = None) -> None:
        self.code = code
        self.detail = detail
        self.status = status
        super().__init__(f"QuickBooks error {code}: {message}" + (f" ({detail})" if detail else ""))


@dataclass(frozen=True)
class CDCResult:
    """One CDC answer, merged across all its ``QueryResponse`` elements (python-quickbooks keeps only the last).

    ``objects[entity]`` lists full objects and deletion stubs, in QBO's order. ``truncated`` is True when the
    answer may have been cut at QBO's 1000-object limit (the caller must then fall back to paged queries for the
    window). ``server_time`` is the envelope's ``time`` — an upper bound for what this answer covers.
    """

    objects: Mapping[str, Sequence[JSON]]
    truncated: bool
    server_time: datetime


@dataclass(frozen=True)
class TokenState:
    """OAuth state of one company. Times are aware. Stored by the daemon, never logged."""

    access_token: str | None
    access_expires_at: datetime | None
    refresh_token: str
    refresh_expires_at: datetime | None


@runtime_checkable
class TokenStore(Protocol):
    """Durable storage for a company's tokens (the mirror database implements it).

    ``save`` must be durable (committed) when it returns: a rotated refresh token is saved **before** it is used,
    because the old one stops working once QBO has issued the new one (QBO_FACTS §7).
    """

    def load(self, company: str) -> TokenState | None: ...

    def save(self, company: str, state: TokenState) -> None: ...

    def mark_needs_reconnect(self, company: str, reason: str) -> None: ...


@runtime_checkable
class Connector(Protocol):
    """A QuickBooks company as the sync engine sees it."""

    company: str
    realm_id: str

    def query_page(
        self, entity: str, *, where: str | None = None, order_by: str = "Id", start: int = 1,
        max_results: int = 1000, include_inactive: bool = True,
    ) -> list[JSON]:
        """One page of ``SELECT * FROM entity [WHERE …] ORDERBY … STARTPOSITION start MAXRESULTS max_results``.

        ``start`` is 1-based. An empty list means past the end. For name lists ``include_inactive`` adds
        ``Active IN (true, false)`` so inactive rows are mirrored too. Items are selected with ``*, Sku``.
        """
        ...

    def count(self, entity: str, *, where: str | None = None, include_inactive: bool = True) -> int:
        """``SELECT COUNT(*)``; 0 when QBO answers without ``totalCount``."""
        ...

    def cdc(self, entities: Sequence[str], changed_since: datetime) -> CDCResult:
        """One CDC request for all ``entities`` since ``changed_since`` (aware; sent with its offset)."""
        ...

    def read(self, entity: str, id: str) -> JSON:
        """One object by Id; :class:`QBOError` with code ``610`` when it does not exist."""
        ...

    def create(self, entity: str, body: JSON, *, request_id: str) -> JSON:
        """Create an object; ``request_id`` (≤ 50 chars) makes retries and replays return the same object."""
        ...

    def tokens(self) -> TokenState | None:
        """The current token state (for ``syncd status``: expiry), without a network call."""
        ...
