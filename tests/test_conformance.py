"""Every Excel function called the way each xlwings runtime calls it, and held to its rules.

How the runtimes pass arguments (read in xlwings 0.37 source, `udfs.py` for classic and
`pro/udfs_officejs.py` for Lite/Server; every argument is declared with ``ndim=2``):

* classic (Windows, VBA wrapper -> ``call_udf``): an omitted optional argument arrives as
  the VBA "missing" marker and is replaced by the Python default; a cell reference is read
  as a 2-D list (an empty cell is None); a literal becomes ``[[x]]``.
* Office.js (Lite and Server, ``custom_functions_call``): every argument is a matrix
  ``[[x]]``; an omitted argument is None and becomes the Python default (None for a
  required one); otherwise the 1x1 matrix is unwrapped and read again with ``ndim=2``, an
  empty cell ("") becoming None.

A plain Python call passes bare values. All of them must give the same answer.
"""

from __future__ import annotations

import inspect
import keyword
import math
import re
import sys
import typing

import numpy as np
import pytest

from llm_budget_planner.addin import lite
from llm_budget_planner.addin._excel import CATEGORY, REGISTRY
from llm_budget_planner.templates.demo import evaluate_input, example_inputs

FUNCTIONS = [n for names in lite.functions_by_module().values() for n in names]
NUMERIC_KINDS = {"number", "bytes", "tflops", "gpumem", "membw"}

try:
    import xlwings

    XlwingsError = xlwings.XlwingsError
except ImportError:  # pragma: no cover
    XlwingsError = None


def spec_of(name):
    return REGISTRY[name].__udf__


def full_args(name):
    """The worked example's inputs, completed with the defaults of the omitted arguments."""
    spec = spec_of(name)
    inputs = [evaluate_input(a) for a in example_inputs(spec)]
    return inputs + list(spec.defaults[len(inputs):])


WITH_EXAMPLE = [n for n in FUNCTIONS if example_inputs(spec_of(n)) is not None]


def call(name, *args):
    return REGISTRY[name](*args)


def excel_value_ok(value) -> bool:
    """What a cell (or each cell of a spilled result) may hold: no NaN/inf, no multi-line text."""
    if isinstance(value, list):
        widths = {len(r) for r in value}
        return (len(widths) == 1 and all(isinstance(r, list) for r in value)
                and all(excel_value_ok(c) for r in value for c in r))
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, (int, float)):
        return math.isfinite(value)
    if isinstance(value, str):
        return "\n" not in value and "Traceback" not in value
    return False


def same(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return a == pytest.approx(b, rel=1e-12)
    return a == b


# --- the runtimes' argument passing -----------------------------------------------------

def classic_literal(x):
    return [[x]]  # conversion.read(None, x, {"ndim": 2}): Ensure2DStage


def classic_cell(x):
    return [[None if x == "" else x]]  # a referenced cell read with ndim=2


def officejs(x, spec, i):
    """custom_functions_call: to_scalar([[x]]); None -> default; else read with ndim=2."""
    if x is None or x == [[None]]:
        default = spec.defaults[i]
        return None if default is inspect.Parameter.empty else default
    x = x[0][0] if isinstance(x, list) and len(x) == 1 and len(x[0]) == 1 else x
    if x == "":
        return [[None]]
    return x if isinstance(x, list) else [[x]]


# --- calling conventions ----------------------------------------------------------------

@pytest.mark.parametrize("name", WITH_EXAMPLE)
def test_every_runtime_gets_the_same_answer(name):
    spec = spec_of(name)
    given = [evaluate_input(a) for a in example_inputs(spec)]
    n_missing = len(spec.params) - len(given)
    expected = call(name, *given)  # plain Python, bare values
    assert excel_value_ok(expected) and not (isinstance(expected, str)
                                             and expected.startswith("#")), expected
    args = full_args(name)
    variants = {
        "bare, defaults explicit": args,
        "classic literals, missing -> default": [classic_literal(a) for a in args],
        "classic cell references": [classic_cell(a) for a in given] + args[len(given):],
        "classic empty optional cells": [classic_cell(a) for a in given] + [[[None]]] * n_missing,
        "Office.js omitted optionals": [officejs([[a]], spec, i) for i, a in enumerate(given)]
        + [officejs(None, spec, len(given) + k) for k in range(n_missing)],
        "Office.js empty optional cells": [officejs([[a]], spec, i) for i, a in enumerate(given)]
        + [officejs([[""]], spec, len(given) + k) for k in range(n_missing)],
        "bare None for omitted optionals": given + [None] * n_missing,
        "blank text for omitted optionals": given + ["  "] * n_missing,
    }
    for label, variant in variants.items():
        got = call(name, *variant)
        assert same(got, expected), (label, got, expected)


@pytest.mark.parametrize("name", WITH_EXAMPLE)
def test_an_empty_cell_in_every_position(name):
    spec = spec_of(name)
    args = full_args(name)
    for i, param in enumerate(spec.params):
        for empty in (None, [[None]], [[""]], ""):
            trial = list(args)
            trial[i] = empty
            got = call(name, *trial)
            assert excel_value_ok(got), (param, got)
            if spec.defaults[i] is inspect.Parameter.empty:
                assert isinstance(got, str) and got.startswith(f"#VALUE! {param} is empty"), \
                    (param, empty, got)
            else:
                with_default = list(args)
                with_default[i] = spec.defaults[i]
                assert same(got, call(name, *with_default)), (param, empty, got)


@pytest.mark.parametrize("name", WITH_EXAMPLE)
def test_booleans(name):
    spec = spec_of(name)
    args = full_args(name)
    expected = call(name, *args)
    for i, (param, arg) in enumerate(zip(spec.params, spec.args)):
        if arg.kind in NUMERIC_KINDS:
            for flag in (True, [[False]]):
                trial = list(args)
                trial[i] = flag
                got = call(name, *trial)
                assert isinstance(got, str) and got.startswith(f"#VALUE! {param} is TRUE/FALSE"), \
                    (param, got)
        elif arg.kind == "flag":
            value = bool(args[i])
            for spelling in (value, [[value]], int(value), "TRUE" if value else "false",
                             " True " if value else "FALSE"):
                trial = list(args)
                trial[i] = spelling
                assert same(call(name, *trial), expected), (param, spelling)


# Text whose case carries meaning: "GB/s" (gigabytes) against "Gbps" (gigabits).
CASE_MATTERS = {("COMM_SECONDS", "unit")}


WITH_TEXT = [n for n in WITH_EXAMPLE if any(isinstance(a, str) for a in full_args(n))]


def test_some_examples_take_text():
    assert len(WITH_TEXT) >= 5


@pytest.mark.parametrize("name", WITH_TEXT)
def test_text_with_odd_case_and_spaces(name):
    spec = spec_of(name)
    args = full_args(name)
    expected = call(name, *args)
    texts = [i for i, a in enumerate(args) if isinstance(a, str)]
    for i in texts:
        odd_forms = [f"  {args[i]} ", [[f"{args[i]}   "]]]
        if (name, spec.params[i]) not in CASE_MATTERS:
            odd_forms += [f"  {args[i].upper()} ", f"{args[i].title()}  ",
                          [[f" {args[i].swapcase()}"]]]
        for odd in odd_forms:
            trial = list(args)
            trial[i] = odd
            assert same(call(name, *trial), expected), (spec.params[i], odd)


@pytest.mark.parametrize("name", WITH_EXAMPLE)
def test_a_column_or_row_in_every_position(name):
    spec = spec_of(name)
    args = full_args(name)
    expected = call(name, *args)
    for i, (param, arg) in enumerate(zip(spec.params, spec.args)):
        if arg.kind == "vector":
            continue
        trial = list(args)
        trial[i] = [[args[i]], [args[i]], [args[i]]]
        got = call(name, *trial)
        if not spec.broadcast:
            assert isinstance(got, str) and got.startswith(f"#VALUE! {param} must be a single"), got
            continue
        assert same(got, [[expected]] * 3), (param, got)
        trial[i] = [[args[i], args[i]]]
        assert same(call(name, *trial), [[expected, expected]]), param
        # A blank row of a column: blank result for a required argument, default otherwise.
        trial[i] = [[args[i]], [None]]
        got = call(name, *trial)
        if spec.defaults[i] is inspect.Parameter.empty:
            assert same(got, [[expected], [""]]), (param, got)
        else:
            with_default = list(args)
            with_default[i] = spec.defaults[i]
            assert same(got, [[expected], [call(name, *with_default)]]), (param, got)


def test_a_whole_column_reference():
    """=TRAIN_DAYS(A:A, ...) passes all 1,048,576 rows; the empty ones stay empty."""
    rows = 1_048_576
    column = [[175e9], [70e9], [7e9]] + [[None]] * (rows - 3)
    got = REGISTRY["TRAIN_DAYS"](column, 300e9, 1024, 312, 0.45)
    assert len(got) == rows and all(len(r) == 1 for r in got)
    # 8·P·T/(N·TFLOPS·1E12·MFU)/86400: GPT-3 175B on 1024 A100 at 45% MFU is 33.8 days.
    assert got[0][0] == pytest.approx(33.8118, rel=1e-4)
    assert got[1][0] == pytest.approx(33.8118 * 70 / 175, rel=1e-4)
    assert got[2][0] == pytest.approx(33.8118 * 7 / 175, rel=1e-4)
    assert got[3][0] == "" and got[-1][0] == ""


def test_numpy_arrays_as_some_hosts_pass_them():
    column = np.array([[175e9], [70e9]])
    got = REGISTRY["TRAIN_DAYS"](column, 300e9, 1024, 312, 0.45)
    assert same(got, [[REGISTRY["TRAIN_DAYS"](175e9, 300e9, 1024, 312, 0.45)],
                      [REGISTRY["TRAIN_DAYS"](70e9, 300e9, 1024, 312, 0.45)]])


# --- errors: text in a classic cell, XlwingsError (#VALUE! + hover) in Lite and Server ------

BAD = ("GPU_COUNT_MEM", (7, 18, 1.25, 24), "#NUM! P is a raw parameter count")


def test_classic_error_is_one_line_of_cell_text(monkeypatch):
    monkeypatch.delenv("XLWINGS_ON_SERVER", raising=False)
    name, args, start = BAD
    got = REGISTRY[name](*args)
    assert isinstance(got, str) and got.startswith(start) and "7E9" in got
    assert excel_value_ok(got)


@pytest.mark.skipif(XlwingsError is None, reason="xlwings is not installed")
@pytest.mark.parametrize("runtime", ["lite", "server"])
def test_office_js_runtimes_raise_xlwings_error(monkeypatch, runtime):
    monkeypatch.delenv("XLWINGS_ON_SERVER", raising=False)
    if runtime == "lite":
        monkeypatch.setattr(sys, "platform", "emscripten")  # Pyodide's sys.platform
    else:
        monkeypatch.setenv("XLWINGS_ON_SERVER", "true")
    name, args, start = BAD
    with pytest.raises(XlwingsError) as info:
        REGISTRY[name](*args)
    assert str(info.value).startswith(start)
    # Every kind of failure: a required cell left empty, too many arguments, a bug.
    with pytest.raises(XlwingsError, match=r"^#VALUE! P is empty"):
        REGISTRY["TRAIN_DAYS"](None, 300e9, 1024, 312, 0.45)
    with pytest.raises(XlwingsError, match=r"^#VALUE! TRAIN_DAYS takes at most 6 arguments"):
        REGISTRY["TRAIN_DAYS"](1, 2, 3, 4, 5, 6, 7)
    # Inside a range result the bad cells keep their own text; the good ones compute.
    got = REGISTRY[name]([[7e9], [7]], 18, 1.25, 24)
    assert got[0][0] == 7 and got[1][0].startswith(start)


@pytest.mark.skipif(XlwingsError is None, reason="xlwings is not installed")
def test_an_unexpected_failure_never_shows_a_traceback(monkeypatch):
    spec = spec_of("TRAIN_DAYS")
    monkeypatch.setattr(spec, "body", lambda *a: 1 / 0)
    got = REGISTRY["TRAIN_DAYS"](175e9, 300e9, 1024, 312, 0.45)
    assert got == "#VALUE! TRAIN_DAYS failed unexpectedly (ZeroDivisionError); please report it"
    monkeypatch.setenv("XLWINGS_ON_SERVER", "true")
    with pytest.raises(XlwingsError, match="failed unexpectedly") as info:
        REGISTRY["TRAIN_DAYS"](175e9, 300e9, 1024, 312, 0.45)
    assert "Traceback" not in str(info.value)


def test_an_error_cell_as_input_names_the_argument():
    """xlwings reads input cells with err_to_str=True: an error upstream is not a blank."""
    got = REGISTRY["TRAIN_DAYS"](175e9, 300e9, 1024, 312, 0.45, [["#N/A"]])
    assert got.startswith("#N/A flops_per_param_token refers to a cell showing #N/A")
    got = REGISTRY["TRAIN_DAYS"]([[175e9], ["#DIV/0!"]], 300e9, 1024, 312, 0.45)
    assert got[0][0] == pytest.approx(33.8118, rel=1e-4)
    assert got[1][0].startswith("#VALUE! P refers to a cell showing #DIV/0!")


# --- metadata rules -----------------------------------------------------------------------

VBA_RESERVED = {w.lower() for w in """
    AddressOf And Any As Attribute Boolean ByRef Byte ByVal Call Case CBool CByte CCur CDate
    CDbl CDec CInt CLng CLngLng CLngPtr Close Const CSng CStr Currency CVar CVErr Date
    Debug Decimal Declare DefBool DefByte DefCur DefDate DefDbl DefDec DefInt DefLng
    DefLngLng DefLngPtr DefObj DefSng DefStr DefVar Dim Do Double Each Else ElseIf Empty End
    EndIf Enum Eqv Erase Error Event Exit False For Friend Function Get Global GoSub GoTo If
    Imp Implements In Input Integer Is LBound Let Like LINEINPUT Lock Long LongLong LongPtr
    Loop LSet Me Mod New Next Not Nothing Null Object On Open Option Optional Or ParamArray
    Preserve Print Private Property PtrSafe Public Put RaiseEvent ReDim Rem Resume Return
    RSet Seek Select Set Shared Single Spc Static Step Stop String Sub Tab Then To True Type
    TypeOf UBound Unlock Until Variant Wend While With WithEvents Write Xor
""".split()}


# Names the classic VBA wrapper itself uses (xlwings udfs.generate_vba_wrapper): an argument
# of that name would shadow them inside the wrapper.
VBA_WRAPPER_NAMES = {"array", "err", "xlpy", "application", "thisworkbook", "activeworkbook",
                     "range", "failed", "argsarray", "k"}


def test_names_unique_upper_case_and_valid_everywhere():
    assert len(FUNCTIONS) == len({n.upper() for n in FUNCTIONS})
    for name in FUNCTIONS:
        assert name == name.upper(), name
        # Office.js: a letter, then letters, digits, periods, underscores; at most 128.
        assert re.fullmatch(r"[A-Z][A-Z0-9._]{0,127}", name), name
        # A name that reads as a cell reference (A1 or R1C1 style) cannot be a function.
        assert not re.fullmatch(r"[A-Z]{1,3}[0-9]+", name), name
        assert not re.fullmatch(r"R[0-9]*C[0-9]*", name), name
        assert name.lower() not in VBA_RESERVED


@pytest.mark.parametrize("name", FUNCTIONS)
def test_signature_rules(name):
    func = REGISTRY[name]
    spec = spec_of(name)
    params = list(inspect.signature(func).parameters.values())
    # xlwings rejects keyword-only arguments (both runtimes) and *args with defaults.
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params), name
    assert [p.name for p in params] == spec.params
    # Type hints on the wrapper would become xlwings converters.
    assert typing.get_type_hints(func) == {}
    # Function Wizard: breaks when count + characters of the names exceed about 254;
    # the classic wrapper is a VBA procedure: at most 60 parameters.
    assert len(params) + sum(len(p.name) for p in params) <= 254
    assert len(params) <= 60
    lowered = [p.name.lower() for p in params]
    assert len(set(lowered)) == len(lowered), f"{name}: VBA names are case-insensitive"
    for p in params:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", p.name), p.name
        assert p.name.lower() not in VBA_RESERVED, f"{name}({p.name}): a VBA keyword"
        assert p.name.lower() not in VBA_WRAPPER_NAMES, f"{name}({p.name}) shadows a name " \
            "the generated VBA wrapper uses"
        assert p.name.lower() != name.lower()
        assert not keyword.iskeyword(p.name)
        assert p.name != "caller", "xlwings reserves 'caller' for the calling range"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_descriptions_fit_the_function_wizard(name):
    spec = spec_of(name)
    summary = spec.doc.split("\n\n")[0].replace("\n", " ")
    assert 0 < len(summary) <= 255, (name, len(summary))
    for param, arg in zip(spec.params, spec.args):
        assert 0 < len(arg.doc) <= 255, (name, param, len(arg.doc))
        assert "\n" not in arg.doc


def test_category():
    assert 0 < len(CATEGORY) <= 255
    assert {spec_of(n).group for n in FUNCTIONS} and all(spec_of(n).group for n in FUNCTIONS)


# --- Function Wizard quality: a unit and an example in every description -------------------

UNIT_WORDS = (
    # units proper
    "raw", "count", "gb", "gb/s", "gbps", "tflops", "flops", "bytes", "byte", "seconds",
    "second", "days", "hours", "months", "years", "fraction", "share", "usd", "dollars", "$",
    "watts", "kw", "mwh", "kg", "tonnes", "ratio",
    # counted things (the count is the unit)
    "tokens", "token", "layers", "heads", "sequences", "gpus", "experts", "matrices",
    "micro-batches", "stages", "iterations", "positions", "parameters", "elements", "prompts",
    "requests", "rows", "probability", "logits", "factor",
    # dimensionless kinds
    "multiplier", "dimension", "rank", "stage", "degree", "chunks",
)


def _has_unit(text: str) -> bool:
    words = set(re.findall(r"[a-z$%][a-z/%$-]*", text.lower()))
    return any(u in words for u in UNIT_WORDS) or "%" in text


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_argument_states_its_unit_and_an_example(name):
    spec = spec_of(name)
    missing = []
    for param, arg in zip(spec.params, spec.args):
        doc = arg.doc
        if arg.kind == "flag":
            ok = "TRUE" in doc or "FALSE" in doc
        elif arg.kind in ("text", "model"):
            ok = '"' in doc or "," in doc  # the accepted names, quoted or listed
        else:
            ok = bool(re.search(r"[0-9]", doc)) and _has_unit(doc)
        if not ok:
            missing.append(f"{param}: {doc}")
    assert not missing, f"{name}: descriptions without a unit or an example value: {missing}"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_states_its_unit_and_has_a_worked_example(name):
    spec = spec_of(name)
    summary = spec.doc.split("\n\n")[0]
    assert _has_unit(summary) or "column" in summary.lower() or "catalog" in summary.lower(), \
        summary
    assert spec.example.startswith(f"={name}(") and "->" in spec.example, spec.example
