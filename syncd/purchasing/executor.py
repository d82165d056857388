"""Execute the PO outbox: push approved intents and reconcile interrupted ones. Never a duplicate PO.

Push of one ``approved`` intent (:func:`push_intent`):

1. ``status = pushing``, ``attempts += 1`` — committed before anything is sent;
2. ``POST /purchaseorder?requestid=<intent.request_id>`` with the stored body (the connector retries only with
   the same requestid, and QBO replays the first answer for a repeated requestid);
3. in one transaction: the returned PO is written to the mirror (so it is on order at once), ``qbo_po_id`` and
   ``status = created`` are stored.

A QBO fault (:class:`~syncd.connectors.base.QBOError`, e.g. a validation error) means nothing was created: the
intent becomes ``failed`` with the message. Any other failure (exhausted 5xx retries, a dropped connection, a
crash) leaves the intent ``pushing``: the PO may or may not exist.

Reconciliation (:func:`reconcile`, run at the start of every reorder step and before every push): for each
``pushing`` intent, QBO is asked for ``PurchaseOrder WHERE PrivateNote LIKE '%<plan id>%'`` (one query per plan);
the PO whose PrivateNote carries the intent's request id is adopted (mirrored, ``created``); when none exists the
intent goes back to ``approved`` and is resent with the **same** requestid (so even a PO that the query could not
see yet is replayed by QBO, not created twice).

Test hook: ``SYNCD_CRASH_AT`` = ``before_post`` | ``after_post`` | ``after_commit`` makes the process SIGKILL
itself at that step of the first push (crash tests only; inert when unset, and no other value is accepted).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import structlog
from sqlalchemy import select
from sqlmodel import Session, col

from syncd.connectors.base import JSON, QBOError
from syncd.connectors.quickbooks import quote
from syncd.errors import SyncdError
from syncd.mirror.db import SessionFactory, run_in_transaction
from syncd.mirror.types import loads
from syncd.purchasing.models import APPROVED, CREATED, FAILED, PUSHING, POIntent
from syncd.sync import apply as A
from syncd.sync.plan import plan_entity

log = structlog.get_logger(__name__)

CRASH_ENV = "SYNCD_CRASH_AT"
CRASH_POINTS = ("before_post", "after_post", "after_commit")
ENTITY = "PurchaseOrder"


class POConnector(Protocol):
    """The part of :class:`~syncd.connectors.base.Connector` the executor uses."""

    def query_page(self, entity: str, *, where: str | None = None, order_by: str = "Id", start: int = 1,
                   max_results: int = 1000, include_inactive: bool = True) -> list[JSON]: ...

    def create(self, entity: str, body: JSON, *, request_id: str) -> JSON: ...


def crash_point(step: str) -> None:
    """Test hook (see the module docstring): SIGKILL this process when ``SYNCD_CRASH_AT == step``."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    if wanted not in CRASH_POINTS:
        raise ValueError(f"{CRASH_ENV} must be one of {', '.join(CRASH_POINTS)} (got {wanted!r})")
    if wanted == step:
        os.kill(os.getpid(), signal.SIGKILL)


def mirror_po(session: Session, company: str, doc: JSON, now: datetime) -> None:
    """Write one QBO PurchaseOrder document into the mirror, exactly as a sync would (same parser and writer)."""
    existing = A.load_existing(session, company, ENTITY, [str(doc.get("Id"))])
    held = A.load_held(session, company, ENTITY)
    plan = plan_entity(ENTITY, [doc], existing, held, lambda refs: A.known_items(session, company, refs))
    if plan.writes:
        A.apply_plan(session, company, plan, now)
    if plan.quarantine:
        log.warning("po.mirror_quarantined", company=company, qbo_id=plan.quarantine[0].qbo_id,
                    reason=plan.quarantine[0].reason)


class Executor:
    """Pushes and reconciles one company's intents. ``clock`` returns aware UTC now."""

    def __init__(self, company: str, connector: POConnector, sessions: SessionFactory,
                 clock: Callable[[], datetime]) -> None:
        self.company = company
        self.api = connector
        self.sessions = sessions
        self.clock = clock

    # ---- reconciliation --------------------------------------------------------------------------------------

    def reconcile(self) -> int:
        """Resolve every ``pushing`` intent against QBO (see the module docstring); return how many were."""
        with self.sessions() as s:
            pushing = s.execute(select(POIntent).where(col(POIntent.company) == self.company,
                                                       col(POIntent.status) == PUSHING)).scalars().all()
        by_plan: dict[str, list[POIntent]] = {}
        for intent in pushing:
            by_plan.setdefault(intent.plan_id, []).append(intent)
        for plan_id, intents in sorted(by_plan.items()):
            found = self._find_by_plan(plan_id)
            for intent in intents:
                doc = _pick(found, intent.request_id)
                if doc is not None:
                    log.info("po.reconciled_found", company=self.company, intent=intent.id, qbo_id=doc.get("Id"))
                    self._record_created(intent.id, doc)  # type: ignore[arg-type]
                else:
                    log.info("po.reconciled_absent", company=self.company, intent=intent.id)
                    self._set(intent.id, PUSHING, APPROVED, None)  # type: ignore[arg-type]
        return len(pushing)

    def _find_by_plan(self, plan_id: str) -> list[JSON]:
        where = f"PrivateNote LIKE {quote('%' + plan_id + '%')}"
        out: list[JSON] = []
        start = 1
        while True:
            page = self.api.query_page(ENTITY, where=where, start=start)
            out.extend(page)
            if len(page) < 1000:
                return out
            start += 1000

    # ---- pushing ---------------------------------------------------------------------------------------------

    def push_approved(self, only: Sequence[int] | None = None) -> list[POIntent]:
        """Reconcile, then push every ``approved`` intent (or only the ids in ``only``), oldest first.

        Returns the intents as they ended. Stops at the first non-QBO failure (the connection is likely gone;
        the intent stays ``pushing`` and the next run reconciles it) by re-raising it.
        """
        self.reconcile()
        with self.sessions() as s:
            q = select(col(POIntent.id)).where(col(POIntent.company) == self.company,
                                               col(POIntent.status) == APPROVED)
            if only is not None:
                q = q.where(col(POIntent.id).in_(list(only)))
            ids = list(s.scalars(q.order_by(col(POIntent.id))))
        pushed: list[POIntent] = []
        for intent_id in ids:
            assert intent_id is not None  # a primary key read back from the table is never NULL
            pushed.append(self.push_intent(intent_id))
        return pushed

    def push_intent(self, intent_id: int) -> POIntent:
        """Push one ``approved`` intent (steps 1–3 of the module docstring); other statuses are left alone."""
        def claim(s: Session) -> POIntent | None:
            intent = s.get(POIntent, intent_id)
            if intent is None or intent.status != APPROVED:
                return intent
            intent.status = PUSHING
            intent.attempts += 1
            intent.updated_at = self.clock()
            return None

        done = run_in_transaction(self.sessions, claim)
        if done is not None:
            return done
        with self.sessions() as s:
            intent = s.get(POIntent, intent_id)
            assert intent is not None
        crash_point("before_post")
        try:
            doc = self.api.create(ENTITY, loads(intent.body), request_id=intent.request_id)
        except QBOError as exc:
            log.warning("po.create_refused", company=self.company, intent=intent_id, code=exc.code)
            return self._set(intent_id, PUSHING, FAILED, str(exc))
        except SyncdError as exc:
            self._note_error(intent_id, str(exc))
            raise
        crash_point("after_post")
        result = self._record_created(intent_id, doc)
        crash_point("after_commit")
        log.info("po.created", company=self.company, intent=intent_id, qbo_id=result.qbo_po_id)
        return result

    # ---- recording -------------------------------------------------------------------------------------------

    def _record_created(self, intent_id: int, doc: JSON) -> POIntent:
        def work(s: Session) -> POIntent:
            intent = s.get(POIntent, intent_id)
            assert intent is not None
            now = self.clock()
            mirror_po(s, self.company, doc, now)
            intent.status = CREATED
            intent.qbo_po_id = str(doc.get("Id"))
            number = doc.get("DocNumber")
            intent.qbo_doc_number = str(number) if number is not None else None
            intent.last_error = None
            intent.updated_at = now
            return intent

        return run_in_transaction(self.sessions, work)

    def _set(self, intent_id: int, expected: str, status: str, error: str | None) -> POIntent:
        def work(s: Session) -> POIntent:
            intent = s.get(POIntent, intent_id)
            assert intent is not None
            if intent.status == expected:
                intent.status = status
                intent.last_error = error
                intent.updated_at = self.clock()
            return intent

        return run_in_transaction(self.sessions, work)

    def _note_error(self, intent_id: int, error: str) -> None:
        def work(s: Session) -> None:
            intent = s.get(POIntent, intent_id)
            if intent is not None:
                intent.last_error = error
                intent.updated_at = self.clock()

        run_in_transaction(self.sessions, work)


def _pick(found: Sequence[JSON], request_id: str) -> JSON | None:
    """The PO whose PrivateNote names ``request_id`` (lowest Id if QBO somehow holds several)."""
    hits: list[Any] = [d for d in found if request_id in str(d.get("PrivateNote") or "")]
    if not hits:
        return None
    return min(hits, key=lambda d: (len(str(d.get("Id"))), str(d.get("Id"))))
