"""One import name: the planner installs as ``llm_budget_planner`` beside PyPI's ``formulas``
(an Excel formula engine) without shadowing or breaking it, and uninstalls cleanly."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.project_copy import copy_project

ROOT = Path(__file__).resolve().parents[1]


def _run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=600, **kw)


def _spec_origin(python: str, name: str, cwd: Path) -> str:
    code = f"import importlib.util as u; s = u.find_spec({name!r}); print(s.origin if s else '')"
    out = _run([python, "-c", code], cwd=cwd)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture(scope="module")
def pypi_formulas_wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    got = _run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(folder),
                "formulas==1.3.4"])
    assert got.returncode == 0, got.stderr
    return next(folder.glob("formulas-*.whl"))


def test_installed_beside_pypi_formulas_and_uninstalled_cleanly(tmp_path, pypi_formulas_wheel):
    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    python = str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    pip = [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
    assert _run(pip + [str(pypi_formulas_wheel)]).returncode == 0
    theirs = Path(_spec_origin(python, "formulas", tmp_path))
    before = hashlib.sha256(theirs.read_bytes()).hexdigest()
    assert "ExcelModel" in theirs.read_text(encoding="utf-8")

    # Build the planner's wheel from a copy of this tree (pip builds in the source folder).
    src = copy_project(tmp_path / "src")
    wheels = tmp_path / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                  "-w", str(wheels), str(src)])
    assert built.returncode == 0, built.stderr
    ours = next(wheels.glob("llm_budget_planner-*.whl"))
    assert _run(pip + [str(ours)]).returncode == 0

    # Both import names resolve to their own files; PyPI's formulas is untouched.
    assert Path(_spec_origin(python, "formulas", tmp_path)) == theirs
    assert hashlib.sha256(theirs.read_bytes()).hexdigest() == before
    planner = Path(_spec_origin(python, "llm_budget_planner.formulas", tmp_path))
    assert planner.parent.name == "formulas" and planner.parent.parent.name == "llm_budget_planner"
    assert planner != theirs
    for name in ("addin", "templates"):  # no top-level package of such generic names
        assert _spec_origin(python, name, tmp_path) == ""

    # Uninstalling the planner leaves PyPI's formulas as it was.
    gone = _run([python, "-m", "pip", "uninstall", "-y", "-q", "llm-budget-planner"])
    assert gone.returncode == 0, gone.stderr
    assert _spec_origin(python, "llm_budget_planner", tmp_path) == ""
    assert hashlib.sha256(theirs.read_bytes()).hexdigest() == before


def test_addin_udfs_imports_from_the_project_root():
    """xlwings' classic add-in (and the reference checks) import ``addin.udfs`` from the
    project folder; with the project installed that keeps working and uses the installed
    core, so there is one catalog and one set of error classes."""
    code = ("import addin.udfs as u, llm_budget_planner.formulas as f; "
            "print(u.TRAIN_DAYS(175E9, 300E9, 1024, 312, 0.45), "
            "u.core is f)")
    out = _run([sys.executable, "-c", code], cwd=ROOT)
    assert out.returncode == 0, out.stderr
    days, same = out.stdout.split()
    assert float(days) == pytest.approx(33.8118, rel=1e-4) and same == "True"
