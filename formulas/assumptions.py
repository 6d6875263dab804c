"""Planning assumptions of the serving, fine-tuning, money and energy formulas.

The numbers live in ``formulas/data/program_assumptions.csv``, one row per constant with
its unit, source and retrieval date; this module only reads them (lazily, once).
"""

from __future__ import annotations

import csv
import functools
import io
from importlib import resources

from .errors import CatalogError, UnknownNameError

__all__ = ["assumption", "assumption_row", "assumptions"]

_COLUMNS = ["key", "value", "unit", "source", "retrieved", "notes"]


@functools.cache
def assumptions() -> dict[str, dict]:
    """All rows of ``program_assumptions.csv`` by key (loaded once; do not mutate)."""
    text = (resources.files(__package__).joinpath("data", "program_assumptions.csv")
            .read_text(encoding="utf-8"))
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames != _COLUMNS:
        raise CatalogError(f"program_assumptions.csv: columns {reader.fieldnames} != {_COLUMNS}")
    rows: dict[str, dict] = {}
    for line, raw in enumerate(reader, start=2):
        try:
            raw["value"] = float(raw["value"])
        except ValueError:
            raise CatalogError(f"program_assumptions.csv line {line}: value is not a number") from None
        if not raw["source"].strip() or raw["key"] in rows:
            raise CatalogError(f"program_assumptions.csv line {line}: missing source or duplicate key")
        rows[raw["key"]] = raw
    return rows


def assumption_row(key: str) -> dict:
    """The whole row (value, unit, source, retrieved, notes) of one assumption."""
    try:
        return assumptions()[key]
    except KeyError:
        raise UnknownNameError(f"assumption '{key}' is unknown: use one of "
                               f"{', '.join(assumptions())}", arg="key", value=key) from None


def assumption(key: str) -> float:
    """One assumption's value.

    >>> assumption("goodput")
    0.9
    >>> assumption("double_quant_bits")
    0.127
    """
    return assumption_row(key)["value"]
