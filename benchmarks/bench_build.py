"""Building every workbook: seconds per workbook (generate + serialise, in memory).

    python benchmarks/bench_build.py [--repeat 3] [--json]

Times each workbook generator of ``templates`` (the planners and the function demo), as
``build.py`` runs them, from an already-imported package: building the openpyxl workbook,
then serialising it to xlsx bytes. Nothing is written to disk. Also prints each workbook's
size, sheets, cells and formula cells.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, machine, row  # noqa: E402

COMMAND = "python benchmarks/bench_build.py"


def generators() -> dict:
    """Workbook name -> function returning an unsaved openpyxl Workbook (those that exist)."""
    import templates

    found = {}
    for fn, out in (("build_budget_planner", "llm_budget_planner.xlsx"),
                    ("build_procurement_planner", "llm_procurement_planner.xlsx")):
        if hasattr(templates, fn):
            found[out] = getattr(templates, fn)
    try:
        from templates.demo import DEMO_NAME, build_demo
        found[DEMO_NAME] = build_demo
    except ImportError:
        pass
    return found


def measure(repeat: int) -> list[dict]:
    from templates.output import workbook_bytes

    results = []
    for name, build in generators().items():
        build_s, save_s = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            wb = build()
            t1 = time.perf_counter()
            data = workbook_bytes(wb)
            t2 = time.perf_counter()
            build_s.append(t1 - t0)
            save_s.append(t2 - t1)
        cells = formulas = 0
        for ws in wb.worksheets:
            for r in ws.iter_rows():
                for c in r:
                    if c.value is not None:
                        cells += 1
                        formulas += c.data_type == "f"
        results.append({"name": name, "build_s": statistics.median(build_s),
                        "save_s": statistics.median(save_s), "bytes": len(data),
                        "sheets": len(wb.worksheets), "cells": cells, "formulas": formulas})
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    import templates  # noqa: F401  (import cost reported separately)
    import_s = time.perf_counter() - t0
    res = measure(a.repeat)
    print(f"machine: {machine()}")
    print(f"import templates (with formulas, catalogs): {import_s:.2f} s")
    print(f"{'workbook':34} {'build s':>8} {'save s':>8} {'total s':>8} {'KB':>7} {'sheets':>6} "
          f"{'cells':>7} {'formulas':>8}")
    rows = []
    for r in res:
        total = r["build_s"] + r["save_s"]
        print(f"{r['name']:34} {r['build_s']:8.3f} {r['save_s']:8.3f} {total:8.3f} "
              f"{r['bytes'] / 1024:7.1f} {r['sheets']:6d} {r['cells']:7d} {r['formulas']:8d}")
        rows.append(row("build", f"{r['name']}: build + serialise ({r['formulas']} formula cells)",
                        round(total, 3), "s", COMMAND))
    if res:
        all_s = sum(r["build_s"] + r["save_s"] for r in res)
        print(f"all {len(res)} workbooks: {all_s:.2f} s")
        rows.append(row("build", f"all {len(res)} workbooks", round(all_s, 2), "s", COMMAND))
    else:
        print("no workbook generator found in templates")
    emit(rows, a.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
