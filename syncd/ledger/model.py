"""Records of the backorder ledger: what a recomputation reads and what it produces.

Everything here is a frozen value. Quantities are :class:`~decimal.Decimal` (never float); instants are aware
datetimes; calendar days are :class:`~datetime.date`.

Glossary
--------
demand line
    One ``SalesItemLineDetail`` line of an Invoice or SalesReceipt for a tracked item. Both kinds of document
    have already reduced QtyOnHand in QBO. Voided and deleted documents are left out by the caller.
shortage ``S``
    ``max(0, -QtyOnHand)``: the units QBO sold that it did not have.
fill order
    The order in which stock is allocated to demand (FIFO by TxnDate, document, line unless a priority says
    otherwise). The *last* ``S`` units in fill order are backordered.
supply line
    The remaining quantity of one line of an open purchase order (minus what linked bills received).
peg
    A share of a backordered line covered by one supply line. Backordered units are pegged in fill order to
    supply lines sorted by expected date.
ETA
    The expected date of the supply line covering a backordered line's *last* unit (``eta_kind == "po"``); for
    units no PO covers, ``today + lead time`` (``"estimate"``) or nothing (``"unknown"``).
episode
    The span during which a line is continuously short. ``short_since``, the overdue flag and the oversold
    flag belong to an episode and end with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, NamedTuple

DocType = Literal["Invoice", "SalesReceipt"]
EtaKind = Literal["po", "estimate", "unknown"]
ExpectedKind = Literal["due", "lead_time", "unknown"]
EventKind = Literal[
    "opened",
    "increased",
    "partially_filled",
    "filled",
    "cancelled",
    "eta_changed",
    "overdue",
    "oversold",
]

ZERO = Decimal(0)


def _uncovered(backordered: Decimal, pegged: tuple[Peg, ...]) -> Decimal:
    """``backordered`` minus the pegged quantities (most lines have no peg or one)."""
    if not pegged:
        return backordered
    if len(pegged) == 1:
        return backordered - pegged[0].qty
    return backordered - sum((p.qty for p in pegged), ZERO)


class LineKey(NamedTuple):
    """Identity of a demand line across recomputations: QBO doc type, document ``Id`` and line ``Id``."""

    doc_type: str
    doc_id: str
    line_id: str

    def __str__(self) -> str:
        return f"{self.doc_type}/{self.doc_id}#{self.line_id}"


@dataclass(frozen=True, slots=True)
class DemandLine:
    """A sales line that consumed stock. ``qty``: a non-negative finite Decimal (else an error record)."""

    doc_type: DocType
    doc_id: str
    line_id: str
    txn_date: date
    customer_id: str
    customer_name: str
    item_id: str
    qty: Decimal
    doc_number: str | None = None
    #: ``LineKey(doc_type, doc_id, line_id)``, made once (the core looks it up several times per line)
    key: LineKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", LineKey(self.doc_type, self.doc_id, self.line_id))

    @property
    def document(self) -> str:
        """What a person calls the document: its DocNumber, else its QBO Id."""
        return self.doc_number or f"{self.doc_type} {self.doc_id}"


@dataclass(frozen=True, slots=True)
class SupplyLine:
    """The still-open part of one purchase-order line for the item.

    ``remaining`` is the ordered quantity minus what linked bills received (zero lines are ignored).
    ``due_date`` is the PO's DueDate; when absent the expected date is ``txn_date + lead_time_days`` where
    ``lead_time_days`` is this PO's vendor lead time, falling back to the item's effective lead time.
    """

    po_id: str
    po_line_id: str
    vendor_id: str
    txn_date: date
    remaining: Decimal
    due_date: date | None = None
    po_number: str | None = None
    lead_time_days: int | None = None

    @property
    def ref(self) -> str:
        return f"PO {self.po_number or self.po_id} line {self.po_line_id}"


@dataclass(frozen=True, slots=True)
class ItemInput:
    """Everything the ledger needs about one tracked item, read from the mirror.

    ``lead_time_days`` is the lead time of the item's preferred vendor, if known; config may override it
    (see :class:`syncd.ledger.policy.FillPolicy`). Whether the item may be backordered is config only.

    Complete or partial demand
        Normally ``demand`` holds every live demand line of the item. Because only the *last* ``S`` units in
        fill order are backordered, a caller may instead pass a **suffix** of the fill order, provided that:

        * the suffix is a true suffix: every left-out line comes before every given line in fill order;
        * it holds at least ``S`` units of valid demand (:func:`syncd.ledger.core.covers`), so every
          backordered unit is among the given lines;
        * ``rank_base`` is the number of valid demand lines left out, so fill ranks stay positions in the
          item's whole fill order;
        * ``live_elsewhere`` holds the keys of left-out lines that are live demand of this item and that the
          previous state lists (so a line that left the short tail is ``filled``, not ``cancelled``).

        The result is then the same as with the complete lines (property-tested). Input errors in left-out
        lines are not reported.
    """

    item_id: str
    item_name: str
    qty_on_hand: Decimal
    demand: tuple[DemandLine, ...] = ()
    supply: tuple[SupplyLine, ...] = ()
    sku: str | None = None
    lead_time_days: int | None = None
    rank_base: int = 0
    live_elsewhere: frozenset[LineKey] = frozenset()


@dataclass(frozen=True, slots=True)
class Peg:
    """``qty`` units of a backordered line covered by one open PO line expected on ``expected``."""

    po_id: str
    po_number: str | None
    po_line_id: str
    vendor_id: str
    qty: Decimal
    expected: date | None
    expected_kind: ExpectedKind


@dataclass(frozen=True, slots=True)
class LineAllocation:
    """Time-free result of allocation for one demand line (see :func:`syncd.ledger.core.allocate`)."""

    line: DemandLine
    fill_rank: int
    backordered: Decimal
    pegged: tuple[Peg, ...]

    @property
    def uncovered(self) -> Decimal:
        return _uncovered(self.backordered, self.pegged)


@dataclass(frozen=True, slots=True)
class LineState:
    """Current ledger state of one backordered line. Only lines with ``backordered > 0`` have a state.

    ``fill_rank`` is the 0-based position of the line in its item's fill order. ``pegged`` lists the PO lines
    covering it, earliest expected first. ``estimate_basis`` is the day an estimated ETA was made (kept while
    it holds, so an estimate does not drift with the calendar). ``overdue_eta`` is the PO ETA for which an
    overdue event was raised, ``oversold`` whether an oversold event was raised in this episode: they make
    those events fire once per episode.
    """

    key: LineKey
    item_id: str
    item_name: str
    customer_id: str
    customer_name: str
    doc_number: str | None
    txn_date: date
    ordered: Decimal
    backordered: Decimal
    fill_rank: int
    short_since: datetime
    eta: date | None
    eta_kind: EtaKind
    pegged: tuple[Peg, ...] = ()
    estimate_basis: date | None = None
    overdue_eta: date | None = None
    oversold: bool = False

    @property
    def uncovered(self) -> Decimal:
        """Backordered units no open PO covers."""
        return _uncovered(self.backordered, self.pegged)

    @property
    def eta_peg(self) -> Peg | None:
        """The PO line covering the last unit, when the ETA comes from a PO."""
        return self.pegged[-1] if self.pegged and self.uncovered == ZERO else None

    @property
    def document(self) -> str:
        return self.doc_number or f"{self.key.doc_type} {self.key.doc_id}"


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One entry of the append-only ledger history.

    ``qty_before``/``qty_after`` are backordered quantities (0 when the line was not / is no longer short);
    ``eta_*`` describe the ETA before and after (``None`` when there was / is no state).
    """

    kind: EventKind
    key: LineKey
    item_id: str
    customer_id: str
    doc_number: str | None
    at: datetime
    qty_before: Decimal
    qty_after: Decimal
    eta_before: date | None
    eta_after: date | None
    eta_kind_before: EtaKind | None
    eta_kind_after: EtaKind | None
    detail: str


@dataclass(frozen=True, slots=True)
class LedgerError:
    """Bad input found by a pass, as a value. The offending record is left out; the rest is computed.

    ``code`` is stable for programs; ``ref`` names the record (a line key or a PO line) for people.
    """

    code: str
    item_id: str
    ref: str
    message: str
    key: LineKey | None = None
