"""One Excel function over a 100,000-row range vs single-cell calls.

    python benchmarks/bench_range.py [--rows 100000] [--singles 5000]

Calls the Excel-facing functions exactly as xlwings hands them a range (a 2-D list) and
as single cells, and prints the per-row cost of both and their ratio. The target of the
core issue: the range call's per-row cost at least 30x below one single-cell call.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import llm_budget_planner.addin.udfs as x  # noqa: E402


def _best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def measure(rows: int, singles: int, seed: int = 1) -> dict:
    rng = random.Random(seed)
    column = [[rng.uniform(1e9, 5e11)] for _ in range(rows)]
    args = (2e12, 1024, 989.4, 0.4)

    range_s = _best_of(lambda: x.TRAIN_DAYS(column, *args), 5)
    out = x.TRAIN_DAYS(column, *args)
    assert len(out) == rows and isinstance(out[-1][0], float)

    sample = [c[0] for c in column[:singles]]
    single_s = _best_of(lambda: [x.TRAIN_DAYS(p, *args) for p in sample], 3)
    per_single = single_s / singles
    per_row = range_s / rows
    # Spot check: the range answers equal the single-cell answers.
    assert out[:10] == [[x.TRAIN_DAYS(p, *args)] for p in sample[:10]]
    return {"rows": rows, "range_s": range_s, "per_row_us": per_row * 1e6,
            "singles": singles, "per_single_us": per_single * 1e6,
            "ratio": per_single / per_row}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--singles", type=int, default=5_000)
    ap.add_argument("--json", action="store_true", help="also print the figures for run_all.py")
    a = ap.parse_args(argv)
    r = measure(a.rows, a.singles)
    print(f"machine: {platform.machine()} {platform.processor() or ''} "
          f"Python {platform.python_version()}")
    print(f"TRAIN_DAYS over a {r['rows']:,}-row range, one call: {r['range_s'] * 1e3:.1f} ms "
          f"= {r['per_row_us']:.3f} us per row")
    print(f"TRAIN_DAYS single-cell calls ({r['singles']:,}): {r['per_single_us']:.1f} us per call")
    print(f"per-row ratio single/range: {r['ratio']:.0f}x (target >= 30x)")
    if a.json:
        import json

        cmd = "python benchmarks/bench_range.py"
        print("BENCH-JSON " + json.dumps([
            {"benchmark": "range", "figure": f"TRAIN_DAYS over {r['rows']:,} rows, one call",
             "value": round(r["range_s"] * 1e3, 1), "unit": "ms", "command": cmd},
            {"benchmark": "range", "figure": "range call, per row",
             "value": round(r["per_row_us"], 3), "unit": "us", "command": cmd},
            {"benchmark": "range", "figure": "single-cell call",
             "value": round(r["per_single_us"], 1), "unit": "us", "command": cmd},
            {"benchmark": "range", "figure": "per-row ratio single / range (target >= 30)",
             "value": round(r["ratio"]), "unit": "x", "command": cmd}]))
    return 0 if r["ratio"] >= 30 else 1


if __name__ == "__main__":
    raise SystemExit(main())
