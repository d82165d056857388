"""Plan what a batch of QBO objects does to the mirror — a pure function over the batch and mirror state.

:func:`plan_entity` takes the objects QBO returned for one entity (full objects and deletion stubs, in QBO's
order), what the mirror holds for their ids (:class:`Existing`), what the quarantine holds, and the Item ids the
mirror knows; it returns an :class:`EntityPlan` that :mod:`syncd.sync.apply` executes in one transaction.

Rules:

* The last occurrence of an id in the batch wins (CDC lists deletions after active objects).
* Unchanged (same ``SyncToken`` and same content hash) → nothing written: an idle cycle writes no row.
* A numerically lower ``SyncToken`` than the mirror's is stale → ignored (rows never move backwards), except in
  full sweeps (``authoritative``), where QBO's current answer is the truth.
* A malformed record, or one whose lines reference an Item the mirror does not know, is quarantined with its
  reason; the mirror keeps its last good version, if any. A valid (not stale) version or a deletion releases it.
* ``complete_ids`` (given by full sweeps: drift check, ``--full``, fallback catch-up) is every id QBO has for the
  entity; mirror rows and quarantined ids outside it are deleted / released.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncd.errors import SkippableRecordError
from syncd.mirror.types import content_hash, dumps
from syncd.sync.parse import Deleted, Parsed, parse_object


@dataclass(frozen=True)
class Existing:
    """What the mirror holds for one id."""

    sync_token: str
    raw_hash: str


@dataclass(frozen=True)
class Held:
    """What the quarantine holds for one id."""

    sync_token: str | None
    reason: str
    raw_hash: str


@dataclass(frozen=True)
class QuarantineEntry:
    entity: str
    qbo_id: str
    sync_token: str | None
    reason: str
    raw: Any

    @property
    def raw_hash(self) -> str:
        return content_hash(self.raw) if _encodable(self.raw) else ""


@dataclass
class EntityPlan:
    """Actions for one entity; ``upserts`` are written header + lines, replacing any previous version."""

    entity: str
    upserts: list[Parsed] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    quarantine: list[QuarantineEntry] = field(default_factory=list)
    release: list[str] = field(default_factory=list)
    unchanged: int = 0
    stale: int = 0
    max_last_updated: Any = None  # datetime | None: newest LastUpdatedTime in the batch (stubs included)

    @property
    def writes(self) -> int:
        return len(self.upserts) + len(self.deletes) + len(self.quarantine) + len(self.release)


def _encodable(raw: Any) -> bool:
    try:
        dumps(raw)
    except (TypeError, ValueError):
        return False
    return True


def quarantine_id(entity: str, raw: Any) -> str:
    """The quarantine key: the record's Id, or a digest of its content when it has none."""
    ident = raw.get("Id") if isinstance(raw, Mapping) else None
    if ident not in (None, "") and not isinstance(ident, (dict, list)) and len(str(ident)) <= 32:
        return str(ident)
    digest = hashlib.sha256(repr(raw).encode("utf-8")).hexdigest()[:16]
    return f"noid:{digest}"


def _token_number(token: str) -> int | None:
    return int(token) if token.isdigit() else None


def is_stale(new_token: str, old_token: str) -> bool:
    """True when ``new_token`` is numerically older than ``old_token`` (non-numeric tokens are never stale)."""
    new, old = _token_number(new_token), _token_number(old_token)
    return new is not None and old is not None and new < old


def dedupe(objects: Iterable[Any]) -> list[Any]:
    """Keep the last object per Id, in order of last occurrence; objects without a usable Id are all kept."""
    keyed: dict[str, Any] = {}
    loose: list[Any] = []
    for obj in objects:
        ident = obj.get("Id") if isinstance(obj, Mapping) else None
        if ident in (None, "") or isinstance(ident, (dict, list)):
            loose.append(obj)
            continue
        keyed.pop(str(ident), None)
        keyed[str(ident)] = obj
    return list(keyed.values()) + loose


def plan_entity(
    entity: str,
    objects: Sequence[Any],
    existing: Mapping[str, Existing],
    held: Mapping[str, Held],
    lookup_items: Callable[[set[str]], set[str]],
    complete_ids: Iterable[str] | None = None,
    mirror_ids: Iterable[str] = (),
    release_stale: bool = False,
    authoritative: bool = False,
) -> EntityPlan:
    """Plan one entity's batch.

    ``lookup_items(ids)`` returns the subset of ``ids`` that are Items in the mirror (called once per batch).
    ``mirror_ids`` (all ids in the mirror) is only needed with ``complete_ids``. ``release_stale`` (used when
    re-trying the quarantine) releases held records that are older than the mirror's version. ``authoritative``
    (full sweeps: the batch was just read from QBO) disables the stale rule, so QBO's version wins even over a
    mirror row with a higher SyncToken.
    """
    plan = EntityPlan(entity)
    parsed: list[tuple[Any, Parsed | Deleted]] = []
    for raw in dedupe(objects):
        try:
            parsed.append((raw, parse_object(entity, raw)))
        except SkippableRecordError as exc:
            _hold(plan, held, QuarantineEntry(entity, quarantine_id(entity, raw), _token_of(raw), exc.reason, raw))
    wanted: set[str] = set()
    for _, rec in parsed:
        if isinstance(rec, Parsed):
            wanted |= rec.item_refs
    known = lookup_items(wanted) if wanted else set()
    for raw, record in parsed:
        if record.last_updated is not None and (
            plan.max_last_updated is None or record.last_updated > plan.max_last_updated
        ):
            plan.max_last_updated = record.last_updated
        if isinstance(record, Deleted):
            if record.id in existing:
                plan.deletes.append(record.id)
            if record.id in held:
                plan.release.append(record.id)
            continue
        unknown = sorted(record.item_refs - known)
        if unknown:
            reason = "unknown Item reference: " + ", ".join(unknown[:10]) + (" …" if len(unknown) > 10 else "")
            _hold(plan, held, QuarantineEntry(entity, record.id, record.sync_token, reason, raw))
            continue
        old = existing.get(record.id)
        if old is not None and not authoritative and is_stale(record.sync_token, old.sync_token):
            plan.stale += 1
            if release_stale and record.id in held:
                plan.release.append(record.id)
            continue
        if record.id in held:
            plan.release.append(record.id)
        if old is not None and old.sync_token == record.sync_token and old.raw_hash == record.raw_hash:
            plan.unchanged += 1
            continue
        plan.upserts.append(record)
    if complete_ids is not None:
        present = set(complete_ids)
        planned = set(plan.deletes)
        plan.deletes.extend(i for i in mirror_ids if i not in present and i not in planned)
        released = set(plan.release) | {q.qbo_id for q in plan.quarantine}
        plan.release.extend(i for i in held if i not in present and i not in released)
    return plan


def _token_of(raw: Any) -> str | None:
    token = raw.get("SyncToken") if isinstance(raw, Mapping) else None
    return str(token)[:32] if token is not None and not isinstance(token, (dict, list)) else None


def _hold(plan: EntityPlan, held: Mapping[str, Held], entry: QuarantineEntry) -> None:
    """Quarantine ``entry`` unless the quarantine already holds exactly this version for the same reason."""
    current = held.get(entry.qbo_id)
    if current is not None and current.reason == entry.reason and current.raw_hash == entry.raw_hash:
        return
    plan.quarantine.append(entry)
