"""Seeding a SPEC §8-sized sandbox company: 50k items and about 1M invoice lines.

    .venv/bin/python bench/bench_seed.py                      # items=50000 invoices=250000 (≈1.13M invoice lines)
    .venv/bin/python bench/bench_seed.py --items 5000 --invoices 25000

The seeding runs in a child process started by GNU ``time`` (so its peak RSS is its own, not this harness's) and
writes into a throw-away SQLite file, exactly as ``syncd sandbox --state`` does on first start. Prints the
seed summary (objects and lines written) with wall time, CPU time and peak RSS, and the file's size.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import SYNCD_PYTHON, base_env, run_measured

_CHILD = """
import dataclasses, json, sys
from syncd.sandbox.clock import Clock
from syncd.sandbox.seed import seed_company
from syncd.sandbox.store import Store
path, items, invoices, vendors, customers, seed = sys.argv[1], *map(int, sys.argv[2:])
clock = Clock()
store = Store(path, clock)
store.create_realm("9130357000001000", "Seed benchmark")
summary = seed_company(store, "9130357000001000", seed=seed, items=items, vendors=vendors, customers=customers,
                       invoices=invoices, now=clock.now())
store.close()
print(json.dumps(dataclasses.asdict(summary)))
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--items", type=int, default=50_000)
    p.add_argument("--invoices", type=int, default=250_000)
    p.add_argument("--vendors", type=int, default=8, help="SandboxOptions' default")
    p.add_argument("--customers", type=int, default=15, help="SandboxOptions' default")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="syncd-seed-bench-") as tmp:
        state = Path(tmp) / "company.sqlite"
        m = run_measured([str(SYNCD_PYTHON), "-c", _CHILD, str(state), str(args.items), str(args.invoices),
                          str(args.vendors), str(args.customers), str(args.seed)],
                         env=base_env(), stdout=Path(tmp) / "out", stderr=Path(tmp) / "err", timeout_s=3600)
        if m.returncode != 0:
            print((Path(tmp) / "err").read_text(), file=sys.stderr)
            return 1
        summary = json.loads((Path(tmp) / "out").read_text().strip().splitlines()[-1])
        size_mb = sum(f.stat().st_size for f in Path(tmp).glob("company.sqlite*")) / 1e6
    result = {"arguments": vars(args), "summary": summary, "wall_s": round(m.wall_s, 1), "cpu_s": round(m.cpu_s, 1),
              "peak_rss_mb": round(m.peak_rss_mb, 1), "state_file_mb": round(size_mb, 1)}
    print(json.dumps(result, indent=2))
    print(f"seeded {summary['items']} items, {summary['invoices']} invoices / {summary['invoice_lines']} invoice "
          f"lines in {m.wall_s:.0f} s wall, {m.cpu_s:.0f} s CPU, {m.peak_rss_mb:.0f} MB peak RSS, "
          f"{size_mb:.0f} MB on disk")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
