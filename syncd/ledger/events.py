"""Events that turn one ledger state into the next. Pure: a comparison of two state maps.

Per line key, with ``p`` the previous state and ``c`` the current one (a state exists only while a line is
short):

================================  ===========================================================================
situation                         events, in this order
================================  ===========================================================================
no ``p``, ``c``                   ``opened`` (then ``overdue``/``oversold`` if ``c`` carries those flags)
``p``, no ``c``, line still live  ``filled`` (stock reached it)
``p``, no ``c``, line gone        ``cancelled`` (document voided/deleted, line edited away, item untracked)
``p`` and ``c`` for another item  ``cancelled`` for the old item, ``opened`` for the new one
``p`` and ``c``                   ``increased`` or ``partially_filled`` when the backordered quantity moved;
                                  ``eta_changed`` when (eta, eta_kind) moved; ``overdue`` when ``c`` is
                                  flagged overdue for an ETA ``p`` was not; ``oversold`` when ``c`` is
                                  oversold and ``p`` was not
================================  ===========================================================================

So identical maps give no events, and each overdue (per line and ETA) and oversold (per episode) fires once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime
from decimal import Decimal

from syncd.ledger.model import ZERO, EtaKind, EventKind, LedgerEvent, LineKey, LineState
from syncd.ledger.policy import natural


def eta_text(eta: date | None, kind: EtaKind | None) -> str:
    """Human form of an ETA: ``2024-03-10``, ``~2024-03-25`` for an estimate, ``unknown``."""
    if eta is None:
        return "unknown"
    return f"~{eta.isoformat()}" if kind == "estimate" else eta.isoformat()


def _event(
    kind: EventKind, p: LineState | None, c: LineState | None, now: datetime, detail: str
) -> LedgerEvent:
    s = c if c is not None else p
    assert s is not None  # callers pass at least one state
    return LedgerEvent(
        kind=kind,
        key=s.key,
        item_id=s.item_id,
        customer_id=s.customer_id,
        doc_number=s.doc_number,
        at=now,
        qty_before=p.backordered if p is not None else ZERO,
        qty_after=c.backordered if c is not None else ZERO,
        eta_before=p.eta if p is not None else None,
        eta_after=c.eta if c is not None else None,
        eta_kind_before=p.eta_kind if p is not None else None,
        eta_kind_after=c.eta_kind if c is not None else None,
        detail=detail,
    )


def _po_name(state: LineState) -> str:
    peg = state.eta_peg
    return f" (PO {peg.po_number or peg.po_id})" if peg is not None else ""


def _flags(p: LineState | None, c: LineState, now: datetime) -> list[LedgerEvent]:
    out: list[LedgerEvent] = []
    if c.overdue_eta is not None and (p is None or p.overdue_eta != c.overdue_eta):
        out.append(
            _event(
                "overdue",
                p,
                c,
                now,
                f"expected {c.overdue_eta.isoformat()}{_po_name(c)}, still {_qty(c.backordered)} short",
            )
        )
    if c.oversold and (p is None or not p.oversold):
        out.append(
            _event(
                "oversold",
                p,
                c,
                now,
                f"{c.item_name} does not allow backorders; {_qty(c.backordered)} oversold",
            )
        )
    return out


def _qty(value: Decimal) -> str:
    return format(value, "f")  # never an exponent in a message


def diff(
    previous: Mapping[LineKey, LineState],
    current: Mapping[LineKey, LineState],
    *,
    live: Collection[LineKey],
    now: datetime,
    reason: str | None = None,
) -> list[LedgerEvent]:
    """Events from ``previous`` to ``current`` (see module docstring).

    ``live`` holds the keys of demand lines that still exist (short or not) for the items compared; a vanished
    state whose key is live was filled, otherwise cancelled. ``reason`` overrides the cancellation detail.
    Events are ordered by line key, then in the order of the table above. Every event is stamped ``now``.
    """
    events: list[LedgerEvent] = []
    keys = sorted(
        set(previous) | set(current), key=lambda k: (k.doc_type, natural(k.doc_id), natural(k.line_id))
    )
    for key in keys:
        p = previous.get(key)
        c = current.get(key)
        if p is not None and c is not None and p.item_id != c.item_id:
            events.append(_event("cancelled", p, None, now, f"line moved to item {c.item_name}"))
            p = None
        if c is None:
            assert p is not None
            if key in live:
                events.append(_event("filled", p, None, now, f"{_qty(p.backordered)} filled from stock"))
            else:
                why = reason or "line no longer in demand (document voided, deleted or edited)"
                events.append(_event("cancelled", p, None, now, why))
            continue
        if p is None:
            eta = f"{eta_text(c.eta, c.eta_kind)}{_po_name(c)}"
            detail = f"{_qty(c.backordered)} of {_qty(c.ordered)} short, ETA {eta}"
            events.append(_event("opened", None, c, now, detail))
            events.extend(_flags(None, c, now))
            continue
        if c.backordered != p.backordered:
            kind: EventKind = "increased" if c.backordered > p.backordered else "partially_filled"
            detail = f"short {_qty(p.backordered)} -> {_qty(c.backordered)}"
            if c.ordered != p.ordered:
                detail += f" (line quantity {_qty(p.ordered)} -> {_qty(c.ordered)})"
            events.append(_event(kind, p, c, now, detail))
        if (c.eta, c.eta_kind) != (p.eta, p.eta_kind):
            events.append(
                _event(
                    "eta_changed",
                    p,
                    c,
                    now,
                    f"ETA {eta_text(p.eta, p.eta_kind)} -> {eta_text(c.eta, c.eta_kind)}{_po_name(c)}",
                )
            )
        events.extend(_flags(p, c, now))
    return events
