"""A second, independent formula engine: PyPI's ``formulas`` recalculates the three shipped
workbooks and every formula cell agrees with LibreOffice.

PyPI's ``formulas`` has the same import name as this project's ``formulas`` package, so it
runs in a virtual environment of its own (``.venv-engine`` in the project folder, made on
first use, or the Python named by ``FORMULAS_ENGINE_PYTHON``) through
``tests/second_engine.py``. Cells calling this project's Excel functions (the demo
workbook) are errors in both engines, which have no add-in; they are counted apart.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.datetime import to_excel

import build
from tests import libreoffice as lo

ROOT = Path(__file__).resolve().parent.parent
ENGINE = "formulas[excel]==1.3.4"
ENGINE_VENV = ROOT / ".venv-engine"
BOOKS = ("llm_budget_planner.xlsx", "llm_procurement_planner.xlsx", "llm_functions_demo.xlsx")


def _engine_python() -> Path:
    given = os.environ.get("FORMULAS_ENGINE_PYTHON")
    if given:
        return Path(given)
    py = ENGINE_VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    marker = ENGINE_VENV / ".installed"
    if not marker.exists() or marker.read_text() != ENGINE:
        for cmd in ([sys.executable, "-m", "venv", str(ENGINE_VENV)],
                    [str(py), "-m", "pip", "install", "-q", ENGINE]):
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            if proc.returncode:
                pytest.fail(f"could not set up the second engine ({' '.join(cmd)}): "
                            f"{proc.stderr.strip()[-500:]}", pytrace=False)
        marker.write_text(ENGINE)
    return py


@pytest.fixture(scope="module")
def engines(tmp_path_factory, lo_profile):
    """(formula cells of each shipped workbook, LibreOffice values, second-engine values)."""
    out = tmp_path_factory.mktemp("dist")
    assert build.main(["--out", str(out)]) == 0
    paths = [out / b for b in BOOKS]
    proc = subprocess.run([str(_engine_python()), "-I", str(ROOT / "tests" / "second_engine.py"),
                           *map(str, paths)], capture_output=True, text=True, timeout=900,
                          cwd=tmp_path_factory.mktemp("engine"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    second = json.loads(proc.stdout)
    recalculated = lo.recalc(paths, tmp_path_factory.mktemp("lo"), lo_profile)
    formulas_of, libre = {}, {}
    for path, lo_path in zip(paths, recalculated):
        wb = load_workbook(path)
        values = load_workbook(lo_path, data_only=True)
        formulas_of[path.name] = {
            f"{ws.title.upper()}!{c.coordinate}": (ws.title, c.coordinate)
            for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"}
        libre[path.name] = {key: values[title][coord].value
                            for key, (title, coord) in formulas_of[path.name].items()}
    return formulas_of, libre, second


def _is_error(v) -> bool:
    return isinstance(v, dict) or (isinstance(v, str) and v.startswith("#") and v.endswith(
        ("!", "?", "A")) and len(v) <= 8)


def _agree(a, b) -> bool:
    """LibreOffice value ``a`` and second-engine value ``b`` of one cell agree."""
    if _is_error(a) or _is_error(b):
        return _is_error(a) and _is_error(b)
    if a is None or a == "":
        return b in (None, "", 0)  # an empty text result: LibreOffice stores no value
    if isinstance(a, (dt.datetime, dt.date)):
        a = to_excel(a)  # a date-formatted cell: compare its serial number
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return str(a) == str(b)


@pytest.mark.parametrize("book", BOOKS)
def test_every_formula_cell_agrees_with_libreoffice(engines, book):
    formulas_of, libre, second = engines
    cells = formulas_of[book]
    assert cells, book
    missing = [k for k in cells if k not in second[book]]
    assert not missing, f"the second engine did not compute {missing[:10]}"
    differ = [(k, libre[book][k], second[book][k]) for k in cells
              if not _agree(libre[book][k], second[book][k])]
    assert not differ, f"{len(differ)} of {len(cells)} cells differ: {differ[:40]}"


def test_the_planners_compute_without_errors_in_both(engines):
    formulas_of, libre, second = engines
    for book in BOOKS[:2]:
        errors = [k for k in formulas_of[book] if _is_error(second[book][k])]
        assert not errors, (book, errors[:10])
