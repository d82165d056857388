"""``syncd backorders [--by item|customer|po] [--format table|csv|json] [--company NAME] [--config PATH]``.

Reads the stored ledger (``backorder_line``) — no QuickBooks call, no recompute — with current item and
customer names from the mirror, and prints:

* ``table`` (default): for a finance reader. One block per group (item, customer, or PO — with a "No open PO"
  block for units no PO covers), each with a heading and aligned columns Customer, Document, Item, Ordered,
  Short, Short since, ETA, PO; then a totals line. Quantities without trailing zeros, dates YYYY-MM-DD, an
  estimated ETA marked ``est.``, an unknown one ``unknown``. Under ``--by po`` the Short column is the part of
  the line that PO covers.
* ``csv``: header plus one row per backordered line, columns :data:`syncd.ledger.report.CSV_COLUMNS`.
* ``json``: ``{"schema": "syncd.backorders/1", "company": str, "generated_at": RFC 3339 UTC, "by": str,
  "lines": [...]}`` where each line is the documented row of :mod:`syncd.ledger.report`. CSV and JSON rows
  keep the documented order (item, then fill rank) whatever ``--by`` says; scripts group as they like.

Exit codes: 0 (also when nothing is backordered), 2 for configuration problems (bad file, several companies
and no ``--company``, unknown company).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from syncd.commands._common import load, open_mirror
from syncd.ledger.model import ZERO, LineState
from syncd.ledger.report import SCHEMA, by_customer, by_item, by_po, to_csv_rows, to_json_rows

HEADERS = ("Customer", "Document", "Item", "Ordered", "Short", "Short since", "ETA", "PO")
NUMERIC = {"Ordered", "Short"}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("backorders", help="report backordered customer lines (from the stored ledger)")
    p.add_argument("--by", choices=("item", "customer", "po"), default="item", help="grouping (table format)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    p.add_argument("--company", metavar="NAME", help="company (optional when only one is configured)")
    p.add_argument("--config", metavar="PATH", help="config file (default: $SYNCD_CONFIG, ./syncd.toml, …)")
    p.set_defaults(handler=_backorders)


def qty(value: Decimal) -> str:
    """``Decimal('2.50000000')`` -> ``2.5``, ``Decimal('10.000')`` -> ``10``; never an exponent."""
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")


def eta_cell(eta: date | None, kind: str, today: date) -> str:
    """``2026-12-02``, ``2026-12-05 est.`` for a lead-time estimate, ``2026-11-08 OVERDUE`` for a PO date passed."""
    if eta is None:
        return "unknown"
    if kind == "estimate":
        return f"{eta.isoformat()} est."
    return f"{eta.isoformat()} OVERDUE" if eta < today else eta.isoformat()


def _row(s: LineState, short: Decimal, po: str, today: date) -> list[str]:
    return [s.customer_name, s.document, s.item_name, qty(s.ordered), qty(short),
            s.short_since.astimezone(UTC).date().isoformat(), eta_cell(s.eta, s.eta_kind, today), po]


def _po_name(s: LineState) -> str:
    peg = s.eta_peg
    if peg is not None:
        return peg.po_number or peg.po_id
    names = [p.po_number or p.po_id for p in s.pegged]
    return ", ".join(names) + (" + none" if names else "")


def _blocks(states: Sequence[LineState], by: str, today: date) -> list[tuple[str, list[list[str]]]]:
    ordered = sorted(states, key=lambda s: (s.item_name.casefold(), s.item_id, s.fill_rank))
    blocks: list[tuple[str, list[list[str]]]] = []
    if by == "item":
        for r in by_item(states):
            lines = [s for s in ordered if s.item_id == r.item_id]
            head = (f"{r.item_name}: {qty(r.backordered)} short on {r.lines} line(s) for {r.customers} "
                    f"customer(s), all in by {eta_cell(r.eta, 'estimate' if r.estimated else 'po', today)}")
            blocks.append((head, [_row(s, s.backordered, _po_name(s), today) for s in lines]))
    elif by == "customer":
        for c in by_customer(states):
            lines = [s for s in ordered if s.customer_id == c.customer_id]
            head = (f"{c.customer_name}: {qty(c.backordered)} short on {c.lines} line(s) of {c.items} item(s), "
                    f"all in by {eta_cell(c.eta, 'estimate' if c.estimated else 'po', today)}")
            blocks.append((head, [_row(s, s.backordered, _po_name(s), today) for s in lines]))
    else:
        for p in by_po(states):
            shares: list[tuple[LineState, Decimal]]
            if p.po_id is None:
                shares = [(s, s.uncovered) for s in ordered if s.uncovered > 0]
                head = f"No open PO: {qty(p.pegged)} short"
            else:
                shares = [(s, sum((g.qty for g in s.pegged if g.po_id == p.po_id), ZERO)) for s in ordered
                          if any(g.po_id == p.po_id for g in s.pegged)]
                head = (f"PO {p.po_number or p.po_id} (vendor {p.vendor_id}): covers {qty(p.pegged)}, expected "
                        f"{p.expected.isoformat() if p.expected else 'unknown'}")
            blocks.append((head, [_row(s, short, _po_name(s), today) for s, short in shares]))
    return blocks


def render_table(states: Sequence[LineState], by: str, company: str, today: date) -> str:
    """The table format (module docstring); ``today`` (the company's date) decides what is overdue."""
    live = [s for s in states if s.backordered > 0]
    if not live:
        return f"{company}: no backorders.\n"
    blocks = _blocks(live, by, today)
    rows = [r for _, rs in blocks for r in rs]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADERS)]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if h in NUMERIC else c.ljust(w)
                         for c, w, h in zip(cells, widths, HEADERS, strict=True)).rstrip()

    out = [f"Backorders of {company}, by {by}", ""]
    for head, body in blocks:
        out += [head, "  " + fmt(HEADERS), "  " + fmt(["-" * w for w in widths])]
        out += ["  " + fmt(r) for r in body]
        out.append("")
    total = sum((s.backordered for s in live), ZERO)
    out.append(f"Total: {qty(total)} short on {len(live)} line(s), {len({s.item_id for s in live})} item(s), "
               f"{len({s.customer_id for s in live})} customer(s)")
    return "\n".join(out) + "\n"


def render_json(states: Sequence[LineState], by: str, company: str, now: datetime) -> str:
    doc: dict[str, Any] = {"schema": SCHEMA, "company": company, "generated_at": now.astimezone(UTC).isoformat(),
                           "by": by, "lines": to_json_rows(states)}
    return json.dumps(doc, indent=2) + "\n"


def read_states(session: Any, company: str) -> list[LineState]:
    """Stored states with current item and customer names from the mirror (falling back to stored ones)."""
    from sqlalchemy import select

    from syncd.backorders.store import load_states
    from syncd.mirror.models import Customer, Item, table_of

    states = load_states(session, company)
    items, customers = table_of(Item), table_of(Customer)
    item_names = dict(session.execute(select(items.c.id, items.c.name).where(items.c.company == company)).all())
    cust_names = dict(session.execute(
        select(customers.c.id, customers.c.display_name).where(customers.c.company == company)).all())
    return [replace(s, item_name=item_names.get(s.item_id) or s.item_name,
                    customer_name=cust_names.get(s.customer_id) or s.customer_name) for s in states.values()]


def _backorders(args: argparse.Namespace) -> int:
    config = load(args.config)
    company = config.get_company(args.company).name
    with open_mirror(config) as (engine, sessions):
        with sessions() as session:
            states = read_states(session, company)
    if args.format == "json":
        sys.stdout.write(render_json(states, args.by, company, datetime.now(UTC)))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerows(to_csv_rows(states))
    else:
        from syncd.backorders.service import company_today

        sys.stdout.write(render_table(states, args.by, company, company_today(datetime.now(UTC))))
    return 0
