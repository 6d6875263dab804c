"""Hypothesis strategies for what Excel can hand a function, and a checker for what comes back.

Excel-shaped means: whatever a cell (or a range of cells) can hold when xlwings passes it
to Python -- None for a blank cell, "" and whitespace, TRUE/FALSE, text (numbers stored as
text, odd-case names, percentages, error-cell texts such as "#N/A"), dates, NaN and the
infinities (from other add-ins or Python callers), huge, tiny, zero and negative numbers,
and 1x1 or n x m ranges (lists of row lists) mixing all of these.

The strategies are generic over :data:`addin._excel.REGISTRY`: each argument gets values by
its :class:`addin._excel.Arg` kind, so a function registered later is fuzzed without edits.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import inspect
import math
import pkgutil
import re

from hypothesis import strategies as st

from llm_budget_planner import addin
from llm_budget_planner.addin._excel import REGISTRY
from llm_budget_planner.formulas import catalog

ERROR_CODES = ("#VALUE!", "#NUM!", "#N/A")


def load_all_udfs() -> dict:
    """Import every ``addin.udfs*`` module so that REGISTRY holds every Excel function."""
    for mod in pkgutil.iter_modules(addin.__path__):
        if mod.name.startswith("udfs"):
            importlib.import_module(f"llm_budget_planner.addin.{mod.name}")
    return REGISTRY


# --------------------------------------------------------------------------- cell values

GPU_IDS = catalog.gpu_ids()
MODEL_IDS = catalog.model_ids()
PRECISIONS = ["fp32", "fp16", "bf16", "fp8", "int8", "int4", "nf4", "bfloat16", "tf32"]


def odd_case(text: str) -> st.SearchStrategy[str]:
    """The same text in upper, lower, title or alternating case, maybe padded with spaces."""
    variants = {text, text.upper(), text.lower(), text.title(),
                "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(text))}
    return st.sampled_from(sorted(variants)).flatmap(
        lambda t: st.sampled_from([t, f" {t}", f"{t} ", f"  {t}  "]))


names = st.sampled_from(GPU_IDS + MODEL_IDS + PRECISIONS).flatmap(odd_case)
special_floats = st.sampled_from([
    math.nan, math.inf, -math.inf, 0.0, -0.0, 1e308, -1e308, 1.7976931348623157e308,
    5e-324, 1e-300, 1e300, 2.0**53, 1e15, 1e-9, -1.0, 0.5, 1.0, 100.0, 101.0])
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
log_floats = st.integers(-12, 16).flatmap(
    lambda e: st.floats(10.0**e, 10.0**(e + 1), allow_nan=False, allow_infinity=False))
numbers = st.one_of(special_floats, finite_floats, log_floats, log_floats.map(lambda v: -v),
                    st.integers(-(2**53), 2**53))
numeric_text = st.one_of(
    numbers.map(repr), numbers.map(lambda v: f"{v:g}"),
    st.sampled_from(["7E9", "175e9", " 300E9 ", "45%", "0.45", "1,024", "1e400", "-1e400",
                     "nan", "NaN", "inf", "-Infinity", "1e-400", "0x10", "1_000", "١٢٣",
                     "12 GB", "TRUE", "FALSE", "yes", "n/a"]))
error_cells = st.sampled_from(["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!",
                               "#NULL!", "#SPILL!", "#CALC!"])
junk_text = st.one_of(st.text(max_size=12), st.just(""), st.sampled_from(
    ["   ", "\t", "\n", "=1+1", "=HYPERLINK(\"http://x\")", "@SUM(A1)", "+1", "-", "%",
     "'quoted", "é", "\u00a0", "\x00", "x" * 300]))
dates = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1))

#: Any single cell value Excel (through xlwings) can pass.
cell = st.one_of(st.none(), st.booleans(), numbers, numeric_text, names, junk_text,
                 error_cells, dates)


def plausible(kind: str) -> st.SearchStrategy:
    """Values a user would mean for an argument kind (so the fuzzer also reaches the formulas)."""
    gpus = st.sampled_from(GPU_IDS).flatmap(odd_case)
    precisions = st.sampled_from(PRECISIONS).flatmap(odd_case)
    return {
        "bytes": st.one_of(log_floats, precisions, st.sampled_from([0.5, 1, 2, 4, 16, 18, 20])),
        "tflops": st.one_of(log_floats, gpus),
        "gpumem": st.one_of(log_floats, gpus),
        "membw": st.one_of(log_floats, gpus),
        "flag": st.one_of(st.booleans(), st.sampled_from([0, 1, "TRUE", "false", "Yes"])),
        "text": st.one_of(names, st.sampled_from(
            ["none", "selective", "FULL", "GB/s", "Gbps", "TB/s", "gb/s", "params", "memory_gb",
             "tflops_bf16", "kv_heads", "source"]).flatmap(odd_case)),
    }.get(kind, st.one_of(log_floats, st.integers(0, 100_000), st.sampled_from([0.45, 0.5, 8])))


def value_for(kind: str) -> st.SearchStrategy:
    """One cell for an argument of ``kind``: half the time plausible, half the time anything."""
    return st.one_of(plausible(kind), cell)


def grid(elements: st.SearchStrategy, shape: tuple[int, int]) -> st.SearchStrategy:
    rows, cols = shape
    return st.lists(st.lists(elements, min_size=cols, max_size=cols), min_size=rows,
                    max_size=rows)


shapes = st.tuples(st.integers(1, 4), st.integers(1, 3))


def call_args(func) -> st.SearchStrategy[tuple]:
    """Arguments for one call of an Excel function: scalars, 1x1 and n x m ranges, mixed.

    Ranged arguments mostly share one shape (so the cell-by-cell path runs) and sometimes
    get a shape of their own (so mismatched ranges are exercised). Trailing optional
    arguments are sometimes left out, as Excel users do.
    """
    spec = func.__udf__
    n_required = sum(d is inspect.Parameter.empty for d in spec.defaults)

    @st.composite
    def build(draw):
        shape = draw(shapes)
        args = []
        for a in spec.args:
            element = value_for(a.kind)
            form = draw(st.sampled_from(["scalar", "scalar", "range", "1x1", "other"]))
            if a.kind == "vector":
                form = draw(st.sampled_from(["scalar", "range", "other"]))
            if form == "scalar":
                args.append(draw(element))
            elif form == "1x1":
                args.append([[draw(element)]])
            elif form == "range":
                args.append(draw(grid(element, shape)))
            else:
                args.append(draw(grid(element, draw(shapes))))
        keep = draw(st.integers(min(n_required, len(args)), len(args)))
        return tuple(args[:keep])

    return build()


# ------------------------------------------------------------------------- baseline calls

def _literal(node):
    if isinstance(node, ast.Name) and node.id in ("TRUE", "FALSE"):
        return node.id == "TRUE"
    return ast.literal_eval(node)


def baseline_args(func) -> tuple | None:
    """A valid call's arguments: the function's ``example_args`` or its literal example.

    Returns None when the example is not a call with literal arguments (e.g. nested calls)
    and no ``example_args`` were given.
    """
    spec = func.__udf__
    if spec.example_args is not None:
        return tuple(spec.example_args)
    m = re.match(rf"\s*=\s*{re.escape(spec.name)}\((.*)\)\s*->", spec.example or "")
    if not m:
        return None
    try:
        call = ast.parse(f"f({m.group(1)})", mode="eval").body
        return tuple(_literal(a) for a in call.args)
    except (SyntaxError, ValueError):
        return None


#: Values that are wrong for a number of any kind; an error they cause names the argument.
BAD_NUMBERS = [math.nan, math.inf, -math.inf, "zq#x", "12 GB", True, False, "#DIV/0!",
               dt.datetime(2024, 1, 1), -1.0, 0.0, 1e300, -1e300, 5e-324]
BAD_TEXT = ["zq#x", "", "   ", "#N/A", math.nan, 1e300, True, dt.datetime(2024, 1, 1)]
BAD_FLAGS = ["maybe", 2, -1, math.nan, "#REF!", dt.datetime(2024, 1, 1)]


def bad_values(kind: str) -> list:
    if kind == "flag":
        return BAD_FLAGS
    if kind == "text":
        return BAD_TEXT
    return BAD_NUMBERS


# ------------------------------------------------------------------------ result checker

_CELL_TYPES = (float, int, str, bool)


def check_text(name: str, text: str) -> None:
    """A text result is either an error of the contract's form or plain one-line text."""
    assert "Traceback" not in text, f"{name}: traceback in a cell: {text!r}"
    if text.startswith("#"):
        assert text.startswith(ERROR_CODES), f"{name}: unknown error code in {text!r}"
        assert "\n" not in text and "\r" not in text, f"{name}: multi-line error {text!r}"
        assert len(text) <= 500, f"{name}: error text of {len(text)} characters"
        assert "failed unexpectedly" not in text, f"{name}: internal error: {text}"
        code = text.split(" ", 1)[0]
        assert code in ERROR_CODES, f"{name}: error code {code!r} not followed by a space"
        assert len(text) > len(code) + 3, f"{name}: error without a message: {text!r}"


def check_cell(name: str, v) -> None:
    assert type(v) in _CELL_TYPES, f"{name}: cell of type {type(v).__name__}: {v!r}"
    if isinstance(v, float):
        assert math.isfinite(v), f"{name}: {v!r} reached a cell"
    elif isinstance(v, str):
        check_text(name, v)


def check_result(name: str, out) -> None:
    """What a UDF returns must be a cell value or a rectangular 2-D list of cell values."""
    if isinstance(out, list):
        assert out and all(isinstance(r, list) for r in out), f"{name}: not a 2-D list: {out!r}"
        widths = {len(r) for r in out}
        assert len(widths) == 1 and 0 not in widths, f"{name}: ragged result {out!r}"
        for row in out:
            for v in row:
                check_cell(name, v)
    else:
        check_cell(name, out)


def is_error(v) -> bool:
    return isinstance(v, str) and v.startswith(ERROR_CODES)


def names_argument(text: str, arg: str) -> bool:
    """True when the message mentions the argument's name as a word (P, TFLOPS, mem_bw_GBps)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(arg)}(?![A-Za-z0-9_])", text) is not None
