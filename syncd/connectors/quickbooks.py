"""The QuickBooks Online connector: :class:`~syncd.connectors.base.Connector` over python-quickbooks.

PQB (python-quickbooks) builds the URLs and parameters; :mod:`syncd.connectors.transport` sends them (rate limit,
tokens, retries); this module builds QBO query statements, re-parses every answer with ``Decimal`` for all JSON
numbers (PQB would give floats, which lose cents) and maps failures onto the contract's error types:

* HTTP 401 even after a refresh → the company is marked as needing reconnection and
  :class:`~syncd.errors.AuthError` is raised (the token service accepted us, the API does not: wrong realm or
  revoked app).
* A QBO ``Fault`` document (any status, 200 included) → :class:`~syncd.connectors.base.QBOError` with QBO's code
  string, message, detail and the HTTP status.
* Anything else unexpected (non-JSON answer, missing envelope) → :class:`~syncd.errors.FatalSyncError`.
* Exhausted retries → :class:`~syncd.errors.RetriableError` (raised by the transport).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException

from syncd.config import CompanyConfig
from syncd.connectors.base import JSON, NAME_LISTS, CDCResult, QBOError, TokenState, TokenStore
from syncd.connectors.oauth import Clock, TokenManager, allow_loopback_http
from syncd.connectors.ratelimit import LimiterStats, RealmLimiter, limiter_for
from syncd.connectors.transport import QBOClient, Transport
from syncd.errors import AuthError, FatalSyncError
from syncd.jsonutil import dumps, loads, reject_floats

#: QBO answers at most this many objects per query page and per CDC response (QBO_FACTS §1, §2).
QBO_MAX_OBJECTS = 1000
_ENTITY_RE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")


def quote(value: str) -> str:
    """A QBO query string literal: ``'…'`` with ``\\`` and ``'`` backslash-escaped (as PQB and QBO do)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def qbo_datetime(moment: datetime) -> str:
    """An aware datetime as QBO expects it in queries and CDC: ISO 8601 with offset, whole seconds.

    Sub-second digits are dropped (rounding *down*), which can only widen a ``>=`` window, never narrow it.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("QBO timestamps must be timezone-aware")
    return moment.replace(microsecond=0).isoformat()


def parse_json(raw: bytes) -> Any:
    """Parse a QBO answer: integers stay ``int``, every fraction is a ``Decimal``, never a float."""
    return loads(raw)


def dumps_json(value: Any) -> str:
    """Serialise a request body; ``Decimal`` is written exactly, a ``float`` is refused (STYLE habit 3)."""
    reject_floats(value)
    return dumps(value)


def _check_entity(entity: str) -> None:
    if not _ENTITY_RE.match(entity):
        raise ValueError(f"not a QBO entity name: {entity!r}")


def default_api_base(company: CompanyConfig) -> str:
    """``api_base`` if configured, else PQB's production or sandbox URL for ``environment``."""
    if company.api_base:
        return company.api_base.rstrip("/")
    if company.environment == "sandbox":
        return QuickBooks.sandbox_api_url_v3
    # A discovery URL without api_base: the API itself is Intuit's production API.
    return QuickBooks.api_url_v3


class QuickBooksConnector:
    """One QBO company (see the module docstring and :class:`~syncd.connectors.base.Connector`).

    Construction makes no network call; the first request loads the tokens (refreshing them if needed).
    ``clock`` (aware ``datetime`` now) drives token expiry; ``sleep`` drives retry backoff (tests inject both).
    ``limiter`` defaults to the process-wide limiter of this realm.
    """

    def __init__(
        self,
        company: CompanyConfig,
        token_store: TokenStore,
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], None] | None = None,
        limiter: RealmLimiter | None = None,
        token_manager: TokenManager | None = None,
    ) -> None:
        self.config = company
        self.company = company.name
        self.realm_id = company.realm_id
        self.token_store = token_store
        self.api_base = default_api_base(company)
        allow_loopback_http(self.api_base)
        self.limiter = limiter or limiter_for(self.api_base, company.realm_id, company.limits)
        self.token_manager = token_manager or TokenManager(company, token_store, clock=clock, sleep=sleep)
        self._transport = Transport(company, self.token_manager, self.limiter, sleep=sleep)
        self._qb = QBOClient.create(realm_id=company.realm_id, minorversion=company.minorversion,
                                    api_base=self.api_base, transport=self._transport)

    # -- Connector ----------------------------------------------------------------------------------------------

    def query_page(
        self, entity: str, *, where: str | None = None, order_by: str = "Id", start: int = 1,
        max_results: int = QBO_MAX_OBJECTS, include_inactive: bool = True,
    ) -> list[JSON]:
        """See :meth:`Connector.query_page`. One HTTP request (plus retries)."""
        if start < 1:
            raise ValueError("STARTPOSITION is 1-based")
        if not 1 <= max_results <= QBO_MAX_OBJECTS:
            raise ValueError(f"MAXRESULTS must be 1..{QBO_MAX_OBJECTS}")
        columns = "*, Sku" if entity == "Item" else "*"  # Sku is not in Item's default projection (ej2#373)
        statement = (f"SELECT {columns} FROM {self._from(entity, where, include_inactive)}"
                     f" ORDERBY {order_by} STARTPOSITION {start} MAXRESULTS {max_results}")
        doc = self._call(lambda: self._qb.query(statement))
        page = self._envelope(doc, "QueryResponse")
        rows = page.get(entity, [])  # an empty page has no entity key at all (QBO_FACTS §1)
        if not isinstance(rows, list):
            raise FatalSyncError(f"QuickBooks query answer for {entity} is not a list")
        return rows

    def count(self, entity: str, *, where: str | None = None, include_inactive: bool = True) -> int:
        """See :meth:`Connector.count`. One HTTP request (plus retries)."""
        statement = f"SELECT COUNT(*) FROM {self._from(entity, where, include_inactive)}"
        doc = self._call(lambda: self._qb.query(statement))
        total = self._envelope(doc, "QueryResponse").get("totalCount", 0)
        return int(total)

    def cdc(self, entities: Sequence[str], changed_since: datetime) -> CDCResult:
        """See :meth:`Connector.cdc`. One HTTP request (plus retries); ``objects`` has a key per requested entity."""
        if not entities:
            raise ValueError("cdc needs at least one entity")
        for entity in entities:
            _check_entity(entity)
        since = qbo_datetime(changed_since)
        doc = self._call(lambda: self._qb.change_data_capture(",".join(entities), since))
        objects: dict[str, list[JSON]] = {entity: [] for entity in entities}
        # PQB keeps only the last QueryResponse element per entity; QBO may split one entity over several
        # (e.g. deleted objects in their own element, QBO_FACTS §2), so merge all of them in order.
        for cdc_part in doc.get("CDCResponse") or []:
            for query_response in cdc_part.get("QueryResponse") or []:
                for key, value in query_response.items():
                    if isinstance(value, list):
                        objects.setdefault(key, []).extend(value)
        total = sum(len(v) for v in objects.values())
        # "A given CDC request returns a maximum of 1000 objects" — per response, not per entity (QBO_FACTS §2).
        # Exactly 1000 may be complete or cut; the caller cannot tell, so treat it as cut.
        return CDCResult(objects=objects, truncated=total >= QBO_MAX_OBJECTS,
                         server_time=self._server_time(doc))

    def read(self, entity: str, id: str) -> JSON:
        """See :meth:`Connector.read`. One HTTP request (plus retries)."""
        _check_entity(entity)
        if not id.isdigit():
            raise ValueError(f"QBO ids are numeric strings (got {id!r})")
        doc = self._call(lambda: self._qb.get_single_object(entity, id))
        return self._envelope(doc, entity)

    def create(self, entity: str, body: JSON, *, request_id: str) -> JSON:
        """See :meth:`Connector.create`. Every attempt carries ``?requestid=request_id``."""
        _check_entity(entity)
        if entity not in QuickBooks._BUSINESS_OBJECTS:
            raise ValueError(f"{entity} is not an entity python-quickbooks can create")
        if not 1 <= len(request_id) <= 50:
            raise ValueError("request_id must be 1..50 characters (QBO limit)")
        payload = dumps_json(body)
        doc = self._call(lambda: self._qb.create_object(entity, payload, request_id=request_id))
        return self._envelope(doc, entity)

    def tokens(self) -> TokenState | None:
        """See :meth:`Connector.tokens` (memory, else the token store; no network call)."""
        return self.token_manager.cached()

    # -- extras ---------------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the pooled HTTP connections (API and token endpoint). The connector must not be used after."""
        self._transport.session.close()
        self.token_manager.close()

    @property
    def stats(self) -> LimiterStats:
        """Counters of this realm's limiter (shared with other connectors of the same realm)."""
        return self.limiter.stats

    # -- internals ------------------------------------------------------------------------------------------------

    @staticmethod
    def _from(entity: str, where: str | None, include_inactive: bool) -> str:
        _check_entity(entity)
        conditions = [where] if where else []
        if include_inactive and entity in NAME_LISTS:
            # Name lists return only active rows unless the query filters on Active (QBO_FACTS §1).
            conditions.append("Active IN (true, false)")
        return entity + (" WHERE " + " AND ".join(conditions) if conditions else "")

    def _call(self, request: Callable[[], Any]) -> JSON:
        """Run one PQB call; return the final response re-parsed with Decimals, or raise a contract error."""
        self._transport.forget()
        try:
            request()
        except QuickbooksException as exc:
            raise self._failure(exc) from None
        resp = self._transport.last_response()
        if resp is None:
            raise FatalSyncError("python-quickbooks returned without sending a request")
        try:
            doc = parse_json(resp.content)
        except ValueError:
            raise FatalSyncError(f"QuickBooks answered HTTP {resp.status_code} with a body that is not JSON") \
                from None
        if not isinstance(doc, dict):
            raise FatalSyncError("QuickBooks answered with a JSON document that is not an object")
        return doc

    def _failure(self, exc: QuickbooksException) -> Exception:
        resp = self._transport.last_response()
        if resp is None:
            return FatalSyncError(f"python-quickbooks: {exc.message}")
        status = resp.status_code
        if status == 401:
            reason = (f"QuickBooks refused a freshly refreshed access token (HTTP 401): the app lost access to "
                      f"realm {self.realm_id}, or realm_id is not the company these tokens were issued for")
            self.token_store.mark_needs_reconnect(self.company, reason)
            return AuthError(f"company {self.company}: {reason}", company=self.company)
        fault = _fault_of(resp)
        if fault is not None:
            return QBOError(str(fault.get("code", exc.error_code)), str(fault.get("Message", exc.message)),
                            str(fault.get("Detail", "")), status)
        kind = "a body that is not JSON" if exc.error_code == 10000 else "no fault document"
        return FatalSyncError(f"QuickBooks answered HTTP {status} with {kind}")

    @staticmethod
    def _envelope(doc: JSON, key: str) -> Any:
        if key not in doc:
            raise FatalSyncError(f"QuickBooks answer lacks {key!r}")
        return doc[key]

    def _server_time(self, doc: JSON) -> datetime:
        raw = doc.get("time")
        if isinstance(raw, str):
            moment = datetime.fromisoformat(raw)
            if moment.tzinfo is not None:
                return moment
        resp = self._transport.last_response()
        date_header = resp.headers.get("Date") if resp is not None else None
        if date_header:
            # No usable envelope time: the HTTP Date header is the server's clock too (whole seconds).
            return parsedate_to_datetime(date_header).astimezone(UTC)
        raise FatalSyncError("QuickBooks CDC answer has no server time")


def _fault_of(resp: requests.Response) -> dict[str, Any] | None:
    """The first ``Fault.Error`` element of a QBO answer, or None when the body is not a fault document."""
    try:
        doc = parse_json(resp.content)
    except ValueError:
        return None
    fault = doc.get("Fault") if isinstance(doc, dict) else None
    if not isinstance(fault, dict):
        return None
    errors = fault.get("Error")
    first = errors[0] if isinstance(errors, list) and errors else {}
    return first if isinstance(first, dict) else {}
