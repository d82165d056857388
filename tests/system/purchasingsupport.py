"""Helpers for the purchasing system tests: reorder config, sandbox POs made by syncd, outbox rows."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from syncsupport import Harness

from syncd.config import parse_config
from syncd.mirror.models import PurchaseOrder
from syncd.purchasing.models import POIntent, ReorderPlan


def set_reorder(h: Harness, text: str) -> None:
    """Append a ``[reorder]`` section to the harness config (file and parsed copy)."""
    h.config_path.write_text(h.config_path.read_text() + "\n" + text.strip() + "\n")
    h.config = parse_config(h.config_path.read_text())


def syncd_pos(h: Harness) -> dict[str, dict[str, Any]]:
    """Every PO in the sandbox that syncd created (PrivateNote starts with ``syncd plan``), by Id."""
    return {i: d for i, d in h.truth("PurchaseOrder").items()
            if str(d.get("PrivateNote") or "").startswith("syncd plan")}


def intents(h: Harness) -> list[POIntent]:
    with h.sessions() as s:
        return list(s.execute(select(POIntent).order_by(POIntent.id)).scalars())  # type: ignore[arg-type]


def plans(h: Harness) -> list[ReorderPlan]:
    with h.sessions() as s:
        return list(s.execute(select(ReorderPlan)).scalars())


def counts(h: Harness) -> dict[str, int]:
    with h.sessions() as s:
        return {name: int(s.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in (("plan", ReorderPlan), ("intent", POIntent), ("po", PurchaseOrder))}


def assert_exactly_one_po_per_intent(h: Harness) -> None:
    """QBO holds exactly one PO per intent, every intent is created, and the mirror and `po list` agree."""
    rows = intents(h)
    assert rows, "no intent was planned"
    in_qbo = syncd_pos(h)
    for intent in rows:
        hits = [d for d in in_qbo.values() if intent.request_id in d["PrivateNote"]]
        assert len(hits) == 1, f"intent {intent.id}: {len(hits)} PO(s) in QBO"
        assert intent.status == "created", (intent.id, intent.status, intent.last_error)
        assert intent.qbo_po_id == hits[0]["Id"]
    assert len(in_qbo) == len(rows), f"{len(in_qbo)} syncd POs in QBO for {len(rows)} intents"
    mirror = h.mirror("PurchaseOrder")
    for intent in rows:
        assert intent.qbo_po_id in mirror and mirror[intent.qbo_po_id]["po_status"] == "Open"
    listed = h.run_cli("po", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    shown = {d["id"]: (d["status"], d["qbo_po_id"]) for d in json.loads(listed.stdout)}
    assert shown == {i.id: (i.status, i.qbo_po_id) for i in rows}
