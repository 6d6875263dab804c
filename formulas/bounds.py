"""Plausible ranges of the planner's quantities, and the unit slips beyond them.

One sourced table, ``formulas/data/bounds.csv``, holds for each quantity its unit, the
range real values span (with the source), the limits beyond which a value is refused,
and the unit slips that explain a refused value: a value ``v`` refused for a quantity is
read as ``v / slip_factor + slip_offset`` in its proper unit, and the first slip that
lands inside the limits is named in the message ("use 30 for 720 hours"). The Excel
functions' checks and the catalog loader both read it, so a GPU row with its TFLOPS in
GFLOPS is refused at load exactly as a cell with them is refused in a formula.

Limits sit about 10x beyond anything real, so a merely unusual value computes; the rows
that sit closer (a deadline over a year, more than 8 bytes per value) say why in their
source column.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np

from .errors import CatalogError, ImplausibleUnitError

__all__ = ["Bound", "bounds", "check", "check_catalog_row", "check_measured_mfu"]


@dataclass(frozen=True)
class Slip:
    unit: str  #: the unit the value was probably typed in ("hours")
    factor: float  #: value in the proper unit = value / factor + offset
    offset: float


@dataclass(frozen=True)
class Bound:
    """One quantity of ``bounds.csv``: its unit, real range, refusal limits and slips."""

    quantity: str
    unit: str  #: how the message names the unit: "in TFLOPS per GPU"
    real_low: float
    real_high: float
    refuse_below: float | None  #: values below are refused (None: no lower limit here)
    refuse_above: float | None  #: values above are refused
    slips: tuple[Slip, ...]
    catalog_fields: tuple[str, ...]  #: "file:column" or "file:column@unit" checked at load
    source: str

    def fix(self, value: float) -> str | None:
        """The first slip that turns ``value`` into a value inside the limits, as text."""
        for s in self.slips:
            fixed = value / s.factor + s.offset
            if self.accepts(fixed) and fixed > 0:
                gap = "" if s.unit.startswith("%") else " "
                return f"use {fixed:.4g} for {value:g}{gap}{s.unit}"
        return None

    def accepts(self, value: float) -> bool:
        return not ((self.refuse_below is not None and value < self.refuse_below)
                    or (self.refuse_above is not None and value > self.refuse_above))

    def message(self, name: str, value: float) -> str:
        fix = self.fix(value)
        if fix is None:
            side = ("at least " + f"{self.refuse_below:g}" if self.refuse_below is not None
                    and value < self.refuse_below else f"at most {self.refuse_above:g}")
            fix = (f"{value:g} is beyond any real value ({self.real_low:g} to "
                   f"{self.real_high:g}); expected {side}")
        return f"{name} is {self.unit}: {fix}"


def _float(text: str) -> float | None:
    return float(text) if text.strip() else None


@functools.cache
def bounds() -> dict[str, Bound]:
    """Every quantity of ``bounds.csv`` by name (loaded once; do not mutate)."""
    text = resources.files(__package__).joinpath("data", "bounds.csv").read_text(
        encoding="utf-8-sig")
    grouped: dict[str, list[dict]] = {}
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        row["line"] = line
        grouped.setdefault(row["quantity"], []).append(row)
    out = {}
    for quantity, rows in grouped.items():
        first = rows[0]
        limits = [(r["unit"], r["real_low"], r["real_high"], r["refuse_below"],
                   r["refuse_above"]) for r in rows]
        if len(set(limits)) != 1:
            raise CatalogError(f"bounds.csv line {rows[1]['line']}: {quantity} rows disagree "
                               "on its unit or limits")
        slips = tuple(Slip(r["slip_unit"], float(r["slip_factor"]), float(r["slip_offset"] or 0))
                      for r in rows if r["slip_unit"].strip())
        fields = tuple(f for r in rows for f in r["catalog_fields"].split(";") if f.strip())
        out[quantity] = Bound(
            quantity=quantity, unit=first["unit"], real_low=float(first["real_low"]),
            real_high=float(first["real_high"]), refuse_below=_float(first["refuse_below"]),
            refuse_above=_float(first["refuse_above"]), slips=slips, catalog_fields=fields,
            source=" | ".join(r["source"] for r in rows))
    return out


def check(quantity: str, name: str, a: np.ndarray) -> np.ndarray:
    """Refuse the first value of ``a`` outside the quantity's limits, naming the fix.

    ``a`` is an already validated float array (finite); zeros are not checked (0 means
    "none" where a function allows it).

    >>> check("deadline_days", "days", np.asarray(720.0))
    Traceback (most recent call last):
    ...
    formulas.errors.ImplausibleUnitError: days is a deadline in days: use 30 for 720 hours
    """
    b = bounds()[quantity]
    bad = None
    if b.refuse_above is not None:
        bad = a > b.refuse_above
    if b.refuse_below is not None:
        low = (a < b.refuse_below) & (a != 0)
        bad = low if bad is None else bad | low
    if bad is not None and (bool(bad) if bad.ndim == 0 else bool(bad.any())):
        value = float(np.broadcast_to(a, bad.shape)[bad].flat[0])
        raise ImplausibleUnitError(b.message(name, value), arg=name, value=value)
    return a


def limit(quantity: str) -> float:
    """The value above which the quantity is refused."""
    return bounds()[quantity].refuse_above


def check_catalog_row(filename: str, line: int, columns: list[str], raw: dict) -> None:
    """Refuse a catalog row whose number is outside its quantity's limits.

    The message names the file, the line, the column (1-based, as a spreadsheet counts)
    and the fix.
    """
    for b in bounds().values():
        for spec in b.catalog_fields:
            file, _, field = spec.partition(":")
            field, _, when_unit = field.partition("@")
            if file != filename or field not in raw:
                continue
            if when_unit and (raw.get("unit") or "").strip() != when_unit:
                continue
            text = (raw.get(field) or "").strip()
            if not text:
                continue
            try:
                value = float(text)
            except ValueError:
                continue  # the schema check reports text where a number belongs
            if not math.isfinite(value) or not b.accepts(value) or value <= 0:
                problem = (b.message(field, value) if math.isfinite(value) and value > 0
                           else f"{field} must be a positive number, got {text}")
                raise CatalogError(f"{filename} line {line} column {columns.index(field) + 1} "
                                   f"({field}): {problem}")


def check_measured_mfu(mfu: np.ndarray, iter_seconds: np.ndarray) -> np.ndarray:
    """Refuse a measured MFU above 1 (more FLOP/s than the GPUs' peak), naming the cause.

    >>> check_measured_mfu(np.asarray(30.8), np.asarray(0.229))
    Traceback (most recent call last):
    ...
    formulas.errors.ImplausibleUnitError: MFU comes out at 30.8, above 1 (faster than the peak of the GPUs): check that iter_seconds is in seconds (0.229 minutes would give 0.513), N counts every GPU, peak_TFLOPS is the dense peak of one GPU and flops_per_iter counts one iteration
    """
    b = bounds()["mfu"]
    bad = mfu > b.refuse_above
    if not (bool(bad) if bad.ndim == 0 else bool(bad.any())):
        return mfu
    m = float(np.broadcast_to(mfu, bad.shape)[bad].flat[0])
    t = float(np.broadcast_to(iter_seconds, bad.shape)[bad].flat[0])
    hint = ""
    for unit, factor in (("minutes", 60.0), ("hours", 3600.0)):
        if b.real_low <= m / factor <= b.refuse_above:
            hint = f" ({t:.3g} {unit} would give {m / factor:.3g})"
            break
    raise ImplausibleUnitError(
        f"MFU comes out at {m:.3g}, above 1 (faster than the peak of the GPUs): check that "
        f"iter_seconds is in seconds{hint}, N counts every GPU, peak_TFLOPS is the dense "
        "peak of one GPU and flops_per_iter counts one iteration")
