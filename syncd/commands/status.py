"""``syncd status [--json] [--company NAME] [--config PATH]``: health of each company's mirror.

Reads only the database (no QuickBooks call). With ``--json`` prints one JSON object::

    {"generated_at": "<ISO-8601 UTC>",
     "companies": [{
        "name": str, "realm_id": str | null,
        "last_success_at": ISO | null, "lag_seconds": int | null,   # now - last_success_at
        "last_error": str | null, "last_error_at": ISO | null,
        "needs_reconnect": bool, "reconnect_reason": str | null,
        "token": {"access_expires_at": ISO | null, "refresh_expires_at": ISO | null} | null,
        "last_drift_check_at": ISO | null,
        "entities": {"<Entity>": {"rows": int, "backfill_done": bool, "cursor": ISO | null,
                                  "backfill_position": int | null}},
        "quarantined": int,
        "quarantine": [{"entity": str, "id": str, "reason": str, "last_seen": ISO | null}],  # first 50
        "dirty_items": int                                   # items waiting for a ledger recompute
     }]}

Companies in the config that have never synced appear with null times and zero rows. Exit codes: 0, or 2 on
configuration problems; 1 when any company's last cycle failed after its last success or needs reconnecting.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from syncd.commands._common import load, open_mirror
from syncd.connectors.base import MIRRORED_ENTITIES


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("status", help="show each company's sync health")
    p.add_argument("--json", action="store_true", help="machine-readable output (keys in `syncd status --help`)")
    p.add_argument("--company", metavar="NAME", help="only this company")
    p.add_argument("--config", metavar="PATH", help="config file (default: $SYNCD_CONFIG, ./syncd.toml, …)")
    p.set_defaults(handler=_status)


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


def collect(session: Any, names: list[str], now: datetime) -> list[dict[str, Any]]:
    """The status document's ``companies`` list, read from the mirror database."""
    from syncd.mirror.models import (
        ENTITY_TABLES,
        Company,
        DirtyItem,
        EntityCursor,
        OAuthToken,
        Quarantine,
        table_of,
    )

    qt, dt = table_of(Quarantine), table_of(DirtyItem)

    out = []
    for name in names:
        company = session.get(Company, name)
        token = session.get(OAuthToken, name)
        entities: dict[str, Any] = {}
        for entity in MIRRORED_ENTITIES:
            table = table_of(ENTITY_TABLES[entity][0])
            rows = session.scalar(select(func.count()).select_from(table).where(table.c.company == name)) or 0
            cursor = session.get(EntityCursor, (name, entity))
            entities[entity] = {
                "rows": int(rows),
                "backfill_done": bool(cursor and cursor.backfill_done),
                "cursor": _iso(cursor.last_updated) if cursor else None,
                "backfill_position": cursor.backfill_next_start if cursor and not cursor.backfill_done else None,
            }
        held = session.execute(
            select(qt.c.entity, qt.c.qbo_id, qt.c.reason, qt.c.last_seen)
            .where(qt.c.company == name).order_by(qt.c.entity, qt.c.qbo_id)
        ).all()
        dirty = session.scalar(select(func.count()).select_from(dt).where(dt.c.company == name)) or 0
        last_success = company.last_success_at if company else None
        out.append({
            "name": name,
            "realm_id": company.realm_id if company else None,
            "last_success_at": _iso(last_success),
            "lag_seconds": int((now - last_success).total_seconds()) if last_success else None,
            "last_error": company.last_error if company else None,
            "last_error_at": _iso(company.last_error_at) if company else None,
            "needs_reconnect": bool(company and company.needs_reconnect),
            "reconnect_reason": company.reconnect_reason if company else None,
            "token": {"access_expires_at": _iso(token.access_expires_at),
                      "refresh_expires_at": _iso(token.refresh_expires_at)} if token else None,
            "last_drift_check_at": _iso(company.last_drift_check_at) if company else None,
            "entities": entities,
            "quarantined": len(held),
            "quarantine": [{"entity": e, "id": i, "reason": r, "last_seen": _iso(s)} for e, i, r, s in held[:50]],
            "dirty_items": int(dirty),
        })
    return out


def unhealthy(doc: dict[str, Any]) -> bool:
    if doc["needs_reconnect"]:
        return True
    if doc["last_error_at"] is None:
        return False
    return doc["last_success_at"] is None or doc["last_error_at"] > doc["last_success_at"]


def _ago(seconds: int | None) -> str:
    if seconds is None:
        return "never"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def render_text(docs: list[dict[str, Any]]) -> str:
    lines = []
    for d in docs:
        lines.append(f"{d['name']} (realm {d['realm_id'] or '?'})")
        lines.append(f"  last success:  {d['last_success_at'] or 'never'} ({_ago(d['lag_seconds'])})")
        if d["last_error"]:
            lines.append(f"  last error:    {d['last_error_at']}: {d['last_error']}")
        if d["needs_reconnect"]:
            lines.append(f"  NEEDS RECONNECT: {d['reconnect_reason'] or ''} — run `syncd auth --company {d['name']}`")
        tok = d["token"]
        lines.append("  token:         " + (f"access until {tok['access_expires_at']}, refresh until "
                                          f"{tok['refresh_expires_at']}" if tok else "none stored (run `syncd auth`)"))
        lines.append(f"  drift check:   {d['last_drift_check_at'] or 'never'}")
        lines.append("  entities:")
        for entity, e in d["entities"].items():
            state = f"cursor {e['cursor']}" if e["backfill_done"] else (
                f"backfill at position {e['backfill_position']}" if e["backfill_position"] else "not started")
            lines.append(f"    {entity:<14}{e['rows']:>9} rows  {state}")
        lines.append(f"  quarantined:   {d['quarantined']}")
        for q in d["quarantine"][:10]:
            lines.append(f"    {q['entity']} {q['id']}: {q['reason']}")
        lines.append(f"  dirty items:   {d['dirty_items']}")
    return "\n".join(lines)


def _status(args: argparse.Namespace) -> int:

    config = load(args.config)
    names = [config.get_company(args.company).name] if args.company else [c.name for c in config.company]
    with open_mirror(config) as (engine, sessions):
        with sessions() as session:
            docs = collect(session, names, datetime.now(UTC))
    if args.json:
        print(json.dumps({"generated_at": _iso(datetime.now(UTC)), "companies": docs}, indent=2))
    else:
        print(render_text(docs))
    return 1 if any(unhealthy(d) for d in docs) else 0
