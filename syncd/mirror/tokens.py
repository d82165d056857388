"""The database-backed :class:`~syncd.connectors.base.TokenStore`.

Contract (from the protocol): ``save`` is durable when it returns — it runs in its own transaction and commits
before returning, so a rotated refresh token is stored before it is used. Saving tokens clears
``needs_reconnect`` (a token that was just issued works). ``mark_needs_reconnect`` records the reason shown by
``syncd status``. Tokens are never logged.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlmodel import Session

from syncd.connectors.base import TokenState
from syncd.mirror.db import SessionFactory, run_in_transaction
from syncd.mirror.models import Company, OAuthToken

log = structlog.get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def ensure_company(session: Session, name: str, realm_id: str | None = None) -> Company:
    """The company row, created when missing; ``realm_id`` filled in when given and unknown."""
    row = session.get(Company, name)
    if row is None:
        row = Company(name=name, realm_id=realm_id)
        session.add(row)
        session.flush()
    elif realm_id is not None and row.realm_id is None:
        row.realm_id = realm_id
    return row


class DbTokenStore:
    """Tokens in the ``oauth_token`` table of the mirror database."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def load(self, company: str) -> TokenState | None:
        with self._sessions() as session:
            row = session.get(OAuthToken, company)
            if row is None:
                return None
            return TokenState(
                access_token=row.access_token, access_expires_at=row.access_expires_at,
                refresh_token=row.refresh_token, refresh_expires_at=row.refresh_expires_at,
            )

    def save(self, company: str, state: TokenState) -> None:
        def write(session: Session) -> None:
            company_row = ensure_company(session, company)
            company_row.needs_reconnect = False
            company_row.reconnect_reason = None
            row = session.get(OAuthToken, company)
            if row is None:
                row = OAuthToken(company=company, refresh_token=state.refresh_token)
                session.add(row)
            row.access_token = state.access_token
            row.access_expires_at = state.access_expires_at
            row.refresh_token = state.refresh_token
            row.refresh_expires_at = state.refresh_expires_at
            row.updated_at = _now()

        run_in_transaction(self._sessions, write)
        log.info("tokens.saved", company=company)

    def mark_needs_reconnect(self, company: str, reason: str) -> None:
        def write(session: Session) -> None:
            row = ensure_company(session, company)
            row.needs_reconnect = True
            row.reconnect_reason = reason

        run_in_transaction(self._sessions, write)
        log.warning("tokens.needs_reconnect", company=company, reason=reason)
