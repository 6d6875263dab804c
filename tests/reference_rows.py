"""Load the reference tables (tests/data/*.csv) and evaluate their rows through addin.udfs."""

from __future__ import annotations

import csv
import math
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def load_rows(filename: str) -> list[dict]:
    with open(DATA / filename, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def evaluate(expr: str):
    """Evaluate a reference expression with the Excel functions as its only names."""
    import llm_budget_planner.addin.udfs as udfs

    names = {k: getattr(udfs, k) for k in dir(udfs) if k.isupper()}
    names.update({"True": True, "False": False})
    return eval(expr, {"__builtins__": {}}, names)  # noqa: S307 - trusted test data


def check_row(row: dict) -> None:
    got = evaluate(row["expr"])
    expected = float(row["expected"])
    tol = float(row["rel_tol"])
    assert isinstance(got, (int, float)) and not isinstance(got, bool), (
        f"{row['id']}: {row['expr']} returned {got!r}")
    assert math.isclose(got, expected, rel_tol=tol, abs_tol=0.0) or got == expected, (
        f"{row['id']}: {row['expr']} = {got!r}, expected {expected!r} within {tol} "
        f"({row['source']})")
