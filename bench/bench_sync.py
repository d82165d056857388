"""Issue 3's benchmark: API calls, wall time, CPU time and peak RSS of a backfill, an idle poll and a cycle after
1,000 changes — for syncd, a naive python-quickbooks full refresh, airbyte-source-quickbooks and tap-quickbooks,
all measured in the same run against the same sandbox company, reported as ratios against syncd.

    .venv/bin/python bench/bench_sync.py                       # 10k items, 100k invoices, 100 ms latency
    .venv/bin/python bench/bench_sync.py --items 500 --invoices 5000 --latency-ms 20   # a quick smoke run

Method (BENCHMARKS.md says it in prose):
* The company is seeded once into ``bench/.state/base-<sizes>.sqlite`` (reused across runs) and its Ids and
  SyncTokens recorded in ``…ids.json``. Every contender starts from a fresh byte copy of that file, in its own
  sandbox process at the given latency and with QBO's throttles (500/min, 10/s, 10 concurrent, 40 batch/min).
* Each phase is one process of the contender, measured as the sandbox's request counter (reset before the phase)
  and the child's wall time, CPU time and ``ru_maxrss``: backfill (empty target), idle (nothing changed),
  changes (after the same 1,000 changes, made through the API between idle and changes: ``changes.py``).
* Every contender is checked: after the backfill it must hold every object; after the changes phase every changed
  object at its new SyncToken. A failed check is reported next to the numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from changes import PLAN, apply_changes
from harness import (
    BENCH,
    ENTITIES,
    NAME_LISTS,
    QBO_LIMITS,
    Api,
    SandboxProcess,
    copy_state,
    realm_counts,
)
from peers import Contender, PhaseRun

PHASES = ("backfill", "idle", "changes")
ALL = ("syncd", "naive", "airbyte", "singer")


# ---- the seeded company ----------------------------------------------------------------------------------------

def prepare(args: argparse.Namespace, state_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The base state file and its metadata (Ids/SyncTokens, counts, peers' start date), seeding on first use."""
    tag = f"i{args.items}-inv{args.invoices}-v{args.vendors}-c{args.customers}-s{args.seed}"
    base = state_dir / f"base-{tag}.sqlite"
    meta_path = state_dir / f"base-{tag}.ids.json"
    if base.exists() and meta_path.exists():
        return base, json.loads(meta_path.read_text())
    for suffix in ("", "-wal", "-shm"):
        Path(str(base) + suffix).unlink(missing_ok=True)
    print(f"seeding {tag} into {base} (once; reused by later runs) …", flush=True)
    sandbox = SandboxProcess(base, ["--items", str(args.items), "--invoices", str(args.invoices),
                                    "--vendors", str(args.vendors), "--customers", str(args.customers),
                                    "--seed", str(args.seed)], log=state_dir / "seed.log")
    started = time.perf_counter()
    info = sandbox.start(timeout_s=3600)
    seed_s = time.perf_counter() - started
    try:
        sandbox.set_limits(per_minute=0, per_second=0, concurrent=0, batch_per_minute=0)
        api = Api(info)
        ids = {e: api.all_ids(e) for e in ENTITIES}
        active = {e: (int(api.query(f"SELECT COUNT(*) FROM {e}").get("totalCount", 0)) if e in NAME_LISTS
                      else len(ids[e])) for e in ENTITIES}
        first = min(
            datetime.fromisoformat(doc["MetaData"]["CreateTime"])
            for e in ENTITIES
            for doc in api.query(f"SELECT * FROM {e}{' WHERE Active IN (true, false)' if e in NAME_LISTS else ''}"
                                 " ORDERBY MetaData.CreateTime STARTPOSITION 1 MAXRESULTS 1").get(e, [])
        )
    finally:
        sandbox.stop()
    start_date = (first.astimezone(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
    meta = {"tag": tag, "seed_wall_s": round(seed_s, 1), "ids": ids, "truth": {e: len(ids[e]) for e in ENTITIES},
            "active": active, "start_date": start_date}
    meta_path.write_text(json.dumps(meta))
    return base, meta


# ---- one contender, three phases ------------------------------------------------------------------------------

def make(name: str, meta: dict[str, Any]) -> Contender:
    if name == "syncd":
        from peers.syncd_runner import Syncd
        return Syncd()
    if name == "naive":
        from peers.naive import Naive
        return Naive(meta["active"])
    if name == "airbyte":
        from peers.airbyte import Airbyte
        return Airbyte(meta["start_date"])
    if name == "singer":
        from peers.singer import Singer
        return Singer(meta["start_date"])
    raise SystemExit(f"unknown contender {name!r}; choose from {','.join(ALL)}")


def phase_row(run: PhaseRun, counts: dict[str, int], oauth: int) -> dict[str, Any]:
    m = run.measured
    return {"calls": counts.get("total", 0), "http_429": counts.get("http_429", 0),
            "by_kind": {k: v for k, v in counts.items() if k in ("query", "cdc", "batch", "read")},
            "token_calls": oauth, "wall_s": round(m.wall_s, 2), "cpu_s": round(m.cpu_s, 2),
            "cycle_s": run.cycle_s, "peak_rss_mb": round(m.peak_rss_mb, 1), "exit": m.returncode,
            "received": sum(run.received.values()), "notes": run.notes}


def bench_one(name: str, base: Path, meta: dict[str, Any], args: argparse.Namespace, run_dir: Path,
              result: dict[str, Any]) -> None:
    """Run the three phases of one contender, filling ``result`` as it goes (a failure keeps what was measured)."""
    contender = make(name, meta)
    workdir = run_dir / name
    workdir.mkdir(parents=True, exist_ok=True)
    state = run_dir / f"{name}.sqlite"
    copy_state(base, state)
    sandbox = SandboxProcess(state, ["--latency-ms", str(args.latency_ms)], log=workdir / "sandbox.log")
    result.update({"label": contender.label, "versions": contender.versions(), "phases": {}, "checks": {}})
    info = sandbox.start()
    try:
        contender.setup(info, workdir)
        for phase in PHASES:
            if phase == "changes":
                sandbox.set_limits(per_minute=0, per_second=0, concurrent=0, batch_per_minute=0)
                sandbox.set_latency(0)
                since = sandbox.control("clock")["now"]
                changed = apply_changes(Api(info), meta["ids"])
                api = Api(info)
                seen = api.cdc(list(ENTITIES), since)
                result["changes_made"] = sum(len(v) for v in changed.values())
                result["changed_objects_in_cdc"] = sum(len(v) for v in seen.values())
                sandbox.set_latency(args.latency_ms)
                time.sleep(1.0)  # let the change timestamps fall behind "now" as they would between polls
            sandbox.set_limits(**QBO_LIMITS)  # also clears the throttle windows: each phase starts fresh
            oauth_before = sum(sandbox.reset_stats()["oauth"].get(k, 0) for k in ("token",))
            print(f"  {name}: {phase} …", flush=True)
            run = contender.run(phase)
            stats = sandbox.stats()
            oauth = stats["oauth"].get("token", 0) - oauth_before
            row = phase_row(run, realm_counts(stats, info["realm_id"]), oauth)
            result["phases"][phase] = row
            print(f"  {name}: {phase}: {row['calls']} calls ({row['http_429']} × 429), {row['wall_s']} s wall, "
                  f"{row['cpu_s']} s CPU, {row['peak_rss_mb']} MB peak RSS, exit {row['exit']}", flush=True)
            if phase == "backfill":
                result["checks"]["backfill"] = contender.verify_backfill(meta["truth"])
            elif phase == "changes":
                result["checks"]["changes"] = contender.verify_changes(changed)
            if run.measured.returncode != 0:
                result["checks"].setdefault("exit", []).append(f"{phase}: exit {run.measured.returncode}")
    finally:
        sandbox.stop()
        if not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(str(state) + suffix).unlink(missing_ok=True)
    return result


# ---- report ----------------------------------------------------------------------------------------------------

def _ratio(value: float, ref: float) -> str:
    if ref == 0:
        return "—" if value == 0 else "∞"
    r = value / ref
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def markdown(report: dict[str, Any]) -> str:
    res = report["results"]
    lines: list[str] = []
    ref = res.get("syncd")
    for phase in PHASES:
        lines += [f"#### {phase}", "",
                  ("| contender | API calls | 429s | wall s | CPU s | peak RSS MB | calls vs syncd | wall vs syncd "
                   "| RSS vs syncd | check |"),
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in res.values():
            p = r["phases"].get(phase)
            if p is None:
                continue
            rp = ref["phases"].get(phase) if ref else None
            check = r["checks"].get("backfill" if phase == "backfill" else "changes" if phase == "changes" else "")
            ok = "ok" if not check else "; ".join(check)[:160]
            if p["exit"] != 0:
                ok = f"exit {p['exit']}" + ("" if ok == "ok" else "; " + ok)
            wall = f"{p['wall_s']:.1f}" + (f" (cycle {p['cycle_s']:.1f})" if p.get("cycle_s") is not None else "")
            lines.append(
                f"| {r['label']} | {p['calls']} | {p['http_429']} | {wall} | {p['cpu_s']:.1f} | "
                f"{p['peak_rss_mb']:.0f} | "
                + (f"{_ratio(p['calls'], rp['calls'])} | {_ratio(p['wall_s'], rp['wall_s'])} | "
                   f"{_ratio(p['peak_rss_mb'], rp['peak_rss_mb'])}" if rp else "— | — | —")
                + f" | {ok} |")
        lines.append("")
    for r in res.values():
        for problem in r["checks"].get("error", []):
            lines.append(f"- {r['label']} failed: {problem}")
    return "\n".join(lines)


def _revision() -> str:
    """The syncd commit measured, ``+dirty`` when the working tree differs from it (what ran is the tree)."""
    import subprocess

    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=BENCH.parent, capture_output=True, text=True, check=False).stdout

    head = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "syncd").strip()
    return head + ("+dirty" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--items", type=int, default=10_000)
    p.add_argument("--invoices", type=int, default=100_000)
    p.add_argument("--vendors", type=int, default=200)
    p.add_argument("--customers", type=int, default=2_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--latency-ms", type=float, default=100.0)
    p.add_argument("--contenders", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    p.add_argument("--state-dir", type=Path, default=BENCH / ".state")
    p.add_argument("--out", type=Path, default=None, help="results JSON (default bench/.runs/<time>/results.json)")
    p.add_argument("--keep", action="store_true", help="keep each contender's sandbox state copy")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.contenders.split(",") if n.strip()]
    args.state_dir.mkdir(parents=True, exist_ok=True)
    run_dir = BENCH / ".runs" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    base, meta = prepare(args, args.state_dir)
    print(f"company {meta['tag']}: {meta['truth']} (peers' start_date {meta['start_date']})", flush=True)
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "syncd_revision": _revision(),
        "machine": {"cpus": __import__("os").cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "sizes": {"items": args.items, "invoices": args.invoices, "vendors": args.vendors,
                  "customers": args.customers, "objects": meta["truth"]},
        "latency_ms": args.latency_ms, "limits": QBO_LIMITS, "changes": PLAN, "results": {},
    }
    for name in names:
        print(f"{name}:", flush=True)
        result: dict[str, Any] = {"label": name, "versions": {}, "phases": {}, "checks": {}}
        report["results"][name] = result
        try:
            bench_one(name, base, meta, args, run_dir, result)
        except Exception as exc:  # noqa: BLE001 - one contender failing must not lose the others' numbers
            result["checks"]["error"] = [f"{type(exc).__name__}: {exc}"]
            print(f"  {name}: FAILED: {type(exc).__name__}: {exc}", flush=True)
    report["total_wall_s"] = round(time.perf_counter() - started, 1)
    out = args.out or run_dir / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    (run_dir / "results.md").write_text(markdown(report))
    print(markdown(report))
    print(f"results: {out} (logs and outputs under {run_dir}); total {report['total_wall_s']} s")
    return 0 if all(not any(r["checks"].values()) for r in report["results"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
