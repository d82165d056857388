"""The ledger benchmark's floor (``bench/bench_ledger.py``) writes exactly what the incremental step writes, and
its oracle reads find every row they are meant to.

The floor is the benchmark's bound on any incremental design: it replays the step's own state rows and events
and nothing else. That claim holds only if the replay leaves the database as the step does; checked here on a
small mirror built by the benchmark's own code, with the benchmark's QBO-faithful edits.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from syncd.backorders.service import ledger_step, rebuild_all
from syncd.backorders.store import LINE
from syncd.config import Config
from syncd.mirror.db import make_engine, make_session_factory, run_in_transaction

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
import bench_ledger as bench  # noqa: E402

CONFIG = Config()
NOW = bench.T0 + timedelta(hours=1)
LATER = NOW + timedelta(minutes=5)


def _ledger(url: str) -> tuple[list[Any], list[Any], list[Any]]:
    """Every stored state row, every event without its id, and the queue."""
    engine = make_engine(url)
    event_columns = [c for c in bench.EVENT.c if c.name != "id"]

    def read(session: Any) -> tuple[list[Any], list[Any], list[Any]]:
        states = session.execute(select(LINE).order_by(*LINE.primary_key.columns)).all()
        events = session.execute(select(*event_columns).order_by(bench.EVENT.c.id)).all()
        queue = sorted(bench.dirty_items(session, bench.COMPANY))
        return [tuple(r) for r in states], [tuple(r) for r in events], queue

    try:
        return run_in_transaction(make_session_factory(engine), read)
    finally:
        engine.dispose()


def _run(url: str, step: Any) -> Any:
    engine = make_engine(url)
    try:
        return run_in_transaction(make_session_factory(engine), step)
    finally:
        engine.dispose()


def test_the_floor_leaves_the_ledger_as_the_step_does(tmp_path: Path) -> None:
    snapshot = tmp_path / "changed.db"
    url = f"sqlite:///{snapshot}"
    invoices = bench.build(url, 300, 30, 3_000, 4, seed=4)
    _run(url, lambda s: rebuild_all(s, bench.COMPANY, CONFIG, NOW))
    engine = make_engine(url)
    touched = bench.change_invoices(make_session_factory(engine), invoices, 60, 3)
    engine.dispose()
    assert touched > 0

    backend = bench.SqliteFiles()
    try:
        previous, current, events = bench.step_writes(
            backend, str(snapshot), lambda s: ledger_step(s, bench.COMPANY, CONFIG, LATER)
        )
        # the edits changed the ledger in every way the store writes: deleted, updated and inserted states
        assert set(previous) - set(current), "no state deleted"
        assert set(previous) & set(current), "no state updated"
        assert set(current) - set(previous), "no state inserted"
        assert events

        real = backend.copy(str(snapshot), "real")
        outcome = _run(backend.url(real), lambda s: ledger_step(s, bench.COMPANY, CONFIG, LATER))
        floor = backend.copy(str(snapshot), "floor")
        written = _run(backend.url(floor), bench.floor_step(previous, current, events, LATER))

        assert written == outcome.rows_written + outcome.events
        before = _ledger(url)
        after_step, after_floor = _ledger(backend.url(real)), _ledger(backend.url(floor))
        assert after_step != before
        assert after_floor == after_step
        assert after_floor[2] == []

        # the oracle's reads find every row they look up: each queued item's stock, each prior state, each line
        queued = len(before[2])
        assert queued == touched
        read = _run(backend.url(backend.copy(str(snapshot), "oracle")), bench.oracle_reads(previous, current))
        lined = [k for k in current if k not in previous or bench._line_of(previous[k]) != bench._line_of(current[k])]
        assert 0 < len(lined) < len(current)
        assert read == queued + len(previous) + len(lined)
    finally:
        backend.close()
