"""Building every workbook: seconds to generate and to serialise each (in memory).

    python benchmarks/bench_build.py [--repeat 3] [--json]

Times the generators as ``build.py`` runs them, from already-imported packages: building
the planners (``build.build_workbooks``, both in one call, with every extra sheet) and the
function demo, then serialising each workbook to xlsx bytes. Nothing is written to disk.
Also prints each workbook's size, sheets, cells and formula cells.
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
    """Label -> function returning {workbook name: unsaved openpyxl Workbook}.

    The planners come from ``build.build_workbooks`` (with every extra sheet build.py ships),
    which builds both in one call; the function demo from ``templates.demo.build_demo``.
    """
    import build

    found = {"planners (build.build_workbooks)": build.build_workbooks}
    try:
        from llm_budget_planner.templates.demo import DEMO_NAME, build_demo
        found["demo (templates.demo.build_demo)"] = lambda: {DEMO_NAME: build_demo()}
    except ImportError:
        pass
    return found


def measure(repeat: int) -> tuple[dict, list[dict]]:
    """Build seconds per generator, and per workbook: serialise seconds and its contents."""
    from llm_budget_planner.templates.output import workbook_bytes

    build_s, books = {}, {}
    for label, build in generators().items():
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            made = build()
            times.append(time.perf_counter() - t0)
        build_s[label] = (statistics.median(times), list(made))
        books.update(made)
    results = []
    for name, wb in books.items():
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            data = workbook_bytes(wb)
            times.append(time.perf_counter() - t0)
        cells = formulas = 0
        for ws in wb.worksheets:
            for r in ws.iter_rows():
                for c in r:
                    if c.value is not None:
                        cells += 1
                        formulas += c.data_type == "f"
        results.append({"name": name, "save_s": statistics.median(times), "bytes": len(data),
                        "sheets": len(wb.worksheets), "cells": cells, "formulas": formulas})
    return build_s, results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    from llm_budget_planner import templates  # noqa: F401  (import cost reported separately)
    import_s = time.perf_counter() - t0
    build_s, res = measure(a.repeat)
    print(f"machine: {machine()}")
    print(f"import templates (with formulas, catalogs): {import_s:.2f} s")
    rows = []
    for label, (sec, names) in build_s.items():
        print(f"build {label}: {sec:.3f} s -> {', '.join(names)}")
        rows.append(row("build", f"build {label}, in memory", round(sec, 3), "s", COMMAND))
    print(f"{'workbook':34} {'save s':>8} {'KB':>7} {'sheets':>6} {'cells':>7} {'formulas':>8}")
    for r in res:
        print(f"{r['name']:34} {r['save_s']:8.3f} {r['bytes'] / 1024:7.1f} {r['sheets']:6d} "
              f"{r['cells']:7d} {r['formulas']:8d}")
        rows.append(row("build", f"{r['name']}: serialise ({r['sheets']} sheets, "
                        f"{r['formulas']} formula cells)", round(r["save_s"], 3), "s", COMMAND))
    total = sum(sec for sec, _ in build_s.values()) + sum(r["save_s"] for r in res)
    print(f"all {len(res)} workbooks, built and serialised: {total:.2f} s")
    rows.append(row("build", f"all {len(res)} workbooks, built and serialised", round(total, 2),
                    "s", COMMAND))
    emit(rows, a.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
