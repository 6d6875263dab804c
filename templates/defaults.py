"""Default inputs of the planning workbooks, each with its source (``templates/data/defaults.csv``
for the engineering defaults, ``templates/data/finance_defaults.csv`` for the EXAMPLE prices and
finance terms).

A default is what a new workbook shows before anyone edits it. Every value carries the
source it comes from, or says plainly that it is an assumption to replace; the workbooks
print those sources next to the inputs.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources

__all__ = ["Default", "defaults", "default"]


@dataclass(frozen=True)
class Default:
    """One default input: value, unit and where it comes from."""

    name: str
    value: float
    unit: str
    source: str
    retrieved: str
    confidence: str


@functools.cache
def defaults() -> dict[str, Default]:
    """All defaults by name (loaded once from the CSV file; do not mutate)."""
    rows: dict[str, Default] = {}
    for name in ("defaults.csv", "finance_defaults.csv"):
        text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
        for raw in csv.DictReader(io.StringIO(text)):
            if raw["name"] in rows:
                raise ValueError(f"templates/data: default '{raw['name']}' is defined twice")
            rows[raw["name"]] = Default(raw["name"], float(raw["value"]), raw["unit"],
                                        raw["source"], raw["retrieved"], raw["confidence"])
    return rows


def default(name: str) -> Default:
    """The default called ``name``; a KeyError names the missing entry."""
    try:
        return defaults()[name]
    except KeyError:
        raise KeyError(f"templates/data has no default '{name}'") from None
