"""LibreOffice recalculation of each generated workbook: formula cells and seconds.

    python benchmarks/bench_recalc.py [--dist dist] [--json]

For every ``*.xlsx`` in ``dist/`` (built into a temporary folder by the generators when
``dist/`` has none), counts the formula cells, then has headless LibreOffice open the file,
recalculate every formula (a profile with ``OOXMLRecalcMode=0``, "always recalculate") and
save it again: seconds per workbook (one ``soffice`` per file, warm profile) and for the
whole batch in one ``soffice``. Also counts the formula cells that come out as errors
(the function demo calls the add-in's functions, which LibreOffice does not have).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, emit, machine, row  # noqa: E402

COMMAND = "python benchmarks/bench_recalc.py"
RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
ERRORS = ("#NAME?", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#N/A", "#NULL!", "Err:")


def soffice() -> str | None:
    return os.environ.get("LO_SOFFICE") or shutil.which("soffice") or shutil.which("libreoffice")


def profile(folder: Path) -> Path:
    user = folder / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(RECALC_XCU, encoding="utf-8")
    return folder


def convert(exe: str, prof: Path, files: list[Path], outdir: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([exe, f"-env:UserInstallation={prof.resolve().as_uri()}", "--headless",
                    "--norestore", "--nologo", "--nodefault", "--nolockcheck", "--convert-to",
                    "xlsx:Calc MS Excel 2007 XML", "--outdir", str(outdir), *map(str, files)],
                   check=True, capture_output=True, timeout=600)
    seconds = time.perf_counter() - t0
    for f in files:  # soffice exits 0 even when a conversion fails
        if not (outdir / f.name).exists():
            raise RuntimeError(f"LibreOffice did not write {outdir / f.name}")
    return seconds


def formula_cells(path: Path) -> list[tuple[str, str]]:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return [(ws.title, c.coordinate) for ws in wb.worksheets for r in ws.iter_rows() for c in r
            if c.data_type == "f"]


def error_cells(path: Path, cells: list[tuple[str, str]]) -> int:
    from openpyxl import load_workbook

    wb = load_workbook(path, data_only=True)
    bad = 0
    for title, coord in cells:
        v = wb[title][coord].value
        bad += isinstance(v, str) and v.startswith(ERRORS)
    return bad


def workbooks(dist: Path, tmp: Path) -> tuple[list[Path], str]:
    found = sorted(dist.glob("*.xlsx"))
    if found:
        return found, str(dist)
    from bench_build import generators
    from llm_budget_planner.templates.output import workbook_bytes

    out = []
    for build in generators().values():
        for name, wb in build().items():
            p = tmp / "built" / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(workbook_bytes(wb))
            out.append(p)
    return out, f"{dist} had no workbooks: built them into a temporary folder"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dist", type=Path, default=ROOT / "dist")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    print(f"machine: {machine()}")
    exe = soffice()
    if exe is None:
        print("LibreOffice (soffice) is not installed: sudo apt-get install -y "
              "--no-install-recommends libreoffice-calc-nogui")
        emit([row("recalc", "LibreOffice", "not installed", "", COMMAND)], a.json)
        return 0
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"LibreOffice: {version}")
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        files, where = workbooks(a.dist, tmp)
        print(f"workbooks: {where}")
        prof = profile(tmp / "profile")
        warm = convert(exe, prof, files[:1], tmp / "warmup")
        print(f"first start of a fresh profile (one workbook): {warm:.2f} s")
        print(f"{'workbook':34} {'formula cells':>13} {'recalc s':>9} {'error cells':>11}")
        for f in files:
            cells = formula_cells(f)
            out = tmp / f"out-{f.stem}"
            seconds = convert(exe, prof, [f], out)
            bad = error_cells(out / f.name, cells)
            print(f"{f.name:34} {len(cells):13d} {seconds:9.2f} {bad:11d}")
            rows.append(row("recalc", f"{f.name}: LibreOffice recalculation, {len(cells)} formula "
                            f"cells ({bad} errors)", round(seconds, 2), "s", COMMAND))
        batch = convert(exe, prof, files, tmp / "batch")
        print(f"all {len(files)} in one soffice call: {batch:.2f} s")
        rows.append(row("recalc", f"all {len(files)} workbooks in one soffice call",
                        round(batch, 2), "s", COMMAND))
    emit(rows, a.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
