"""A copy of the files a wheel of the project is built from (``pip wheel`` builds in the
source folder, so building from the repository itself would leave build/ and *.egg-info)."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = ("llm_budget_planner", "formulas", "addin", "templates")


def copy_project(dst: Path) -> Path:
    """Copy pyproject.toml, README.md and the package folders to ``dst``; return it."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dst / name)
    for name in PACKAGE_DIRS:
        shutil.copytree(ROOT / name, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dst
