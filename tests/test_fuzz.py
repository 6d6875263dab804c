"""Fuzzing every Excel function with whatever a sheet can hand it.

Generic over :data:`addin._excel.REGISTRY`: every registered function, every argument
position, values chosen by each argument's kind (see ``tests/excel_strategies.py``).

* Nothing escapes: no exception, no NaN or infinity (in a scalar or inside a range
  result), no cell of a type Excel cannot show.
* Every error is one line starting with ``#VALUE!``, ``#NUM!`` or ``#N/A``, and never the
  "failed unexpectedly" text that marks a bug.
* One bad argument in an otherwise valid call gives an error naming that argument, and in a
  range only the bad cell shows it: the other cells keep their values.

Run time is bounded: a modest number of examples per function (fewer for slow functions),
no deadline; see benchmarks/README.md for the measured run time.
"""

from __future__ import annotations

import inspect
import math
import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import excel_strategies as xs

REGISTRY = xs.load_all_udfs()
NAMES = sorted(REGISTRY)

#: Examples per function for the free-form fuzz; functions slower than 5 ms a call get fewer.
MAX_EXAMPLES = 100
OVERFLOW = "the result overflows"


def _examples_for(func, args) -> int:
    t0 = time.perf_counter()
    func(*args)
    per_call = time.perf_counter() - t0
    if per_call > 0.05:
        return 8
    if per_call > 0.005:
        return 20
    return MAX_EXAMPLES


# --------------------------------------------------------------------- baselines per function

_CANDIDATES = {
    "number": [1, 2, 8, 64, 0.45, 1024, 2048, 7e9, 175e9, 300e9, 2e12, 30, 12288, 96, 51200],
    "bytes": [2, "bf16", 1, "int8"],
    "tflops": [312, "h100-sxm"],
    "gpumem": [80, "a100-sxm-80gb"],
    "membw": [3350, "h100-sxm"],
    "flag": [True, False],
    "text": ["h100-sxm", "llama-3-8b", "bf16", "none", "GB/s", "memory_gb", "params"],
    "vector": [[[1], [2], [3]], [[0.5], [0.3], [0.2]]],
}


def _ok(out) -> bool:
    return not isinstance(out, str) and not isinstance(out, list)


def baseline(name: str):
    """A valid call: the function's own example, else a seeded search over typical values."""
    func = REGISTRY[name]
    args = xs.baseline_args(func)
    if args is not None and _ok(func(*args)):
        return args
    spec = func.__udf__
    rng = random.Random(name)
    for _ in range(2000):
        args = tuple(d if d is not inspect.Parameter.empty and rng.random() < 0.5
                     else rng.choice(_CANDIDATES.get(a.kind, _CANDIDATES["number"]))
                     for a, d in zip(spec.args, spec.defaults))
        if _ok(func(*args)):
            return args
    return None


BASELINES = {n: baseline(n) for n in NAMES}


def test_registry_is_loaded_and_most_functions_have_a_valid_call():
    assert len(NAMES) >= 31
    without = [n for n, b in BASELINES.items() if b is None and REGISTRY[n].__udf__.params]
    # A function with arguments but no valid scalar call found is either a table function or
    # one the typical values cannot reach; they are still fuzzed, but say which.
    assert len(without) <= len(NAMES) // 4, without


# ------------------------------------------------------------------------- free-form fuzzing

@pytest.mark.parametrize("name", NAMES)
def test_nothing_escapes(name):
    func = REGISTRY[name]
    base = BASELINES[name]
    n = _examples_for(func, base) if base is not None else 20

    @settings(max_examples=n, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(args=xs.call_args(func))
    def run(args):
        out = func(*args)
        xs.check_result(name, out)

    run()


@pytest.mark.parametrize("name", NAMES)
def test_every_cell_kind_in_every_position(name):
    """Each argument position gets each hostile cell alone, as a scalar and as a 1x1 range."""
    func = REGISTRY[name]
    spec = func.__udf__
    base = BASELINES[name] or tuple(
        None if d is inspect.Parameter.empty else d for d in spec.defaults)
    base = list(base) + [None] * (len(spec.params) - len(base))
    hostile = [None, "", " ", True, False, math.nan, math.inf, -math.inf, 0, -0.0, -1, 1e308,
               -1e308, 5e-324, "abc", "#N/A", "#DIV/0!", "1e400", "nan", "45%", "=1+1",
               "q" * 40_000, "line\nbreak"]
    for i in range(len(spec.params)):
        for bad in hostile:
            for wrapped in (bad, [[bad]]):
                args = base.copy()
                args[i] = wrapped
                xs.check_result(name, func(*args))


# -------------------------------------------------------- one bad argument, named and local

SINGLE_FAULT = [(n, i) for n in NAMES if BASELINES[n] is not None
                for i in range(len(BASELINES[n]))]


@pytest.mark.parametrize("name,i", SINGLE_FAULT,
                         ids=[f"{n}-{REGISTRY[n].__udf__.params[i]}" for n, i in SINGLE_FAULT])
def test_one_bad_argument_is_named(name, i):
    func = REGISTRY[name]
    spec = func.__udf__
    arg = spec.params[i]
    kind = spec.args[i].kind
    base = list(BASELINES[name])
    good = func(*base)
    for bad in xs.bad_values(kind):
        args = base.copy()
        args[i] = bad
        out = func(*args)
        xs.check_result(name, out)
        if xs.is_error(out) and OVERFLOW not in out:
            assert xs.names_argument(out, arg), f"{name}({arg}={bad!r}) -> {out!r}"
        if kind == "vector" or not spec.broadcast:
            continue
        # The same bad value in the middle of a column: only that cell shows the error.
        args[i] = [[base[i]], [bad], [base[i]]]
        col = func(*args)
        xs.check_result(name, col)
        if xs.is_error(col):  # the whole call refused: only allowed for a whole-call problem
            assert xs.names_argument(col, arg), f"{name}({arg}=[..{bad!r}..]) -> {col!r}"
            continue
        assert col[0] == col[2] == [good], f"{name}: good cells changed: {col!r}"
        mid = col[1][0]
        if xs.is_error(mid) and OVERFLOW not in mid:
            assert xs.names_argument(mid, arg), f"{name}({arg}=[..{bad!r}..]) -> {mid!r}"
        elif bad is None or (isinstance(bad, str) and not bad.strip()):
            # A blank cell: the row stays blank (required) or takes the default (optional).
            args[i] = None
            assert mid in ("", func(*args)), f"{name}: blank {arg} in a range gave {mid!r}"


RANGED = [(n, i) for n, i in SINGLE_FAULT
          if REGISTRY[n].__udf__.broadcast and REGISTRY[n].__udf__.args[i].kind != "vector"]


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return a == pytest.approx(b, rel=1e-12, abs=0)
    return a == b


@pytest.mark.parametrize("name,i", RANGED,
                         ids=[f"{n}-{REGISTRY[n].__udf__.params[i]}" for n, i in RANGED])
def test_a_range_answers_what_each_cell_would(name, i):
    """Any mix of good and bad cells in one argument: each result cell equals its scalar call."""
    func = REGISTRY[name]
    spec = func.__udf__
    base = list(BASELINES[name])
    required = spec.defaults[i] is inspect.Parameter.empty
    n = max(5, _examples_for(func, base) // 4)

    @settings(max_examples=n, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(column=st.lists(st.one_of(st.just(base[i]), xs.value_for(spec.args[i].kind)),
                           min_size=2, max_size=5))
    def run(column):
        args = base.copy()
        args[i] = [[c] for c in column]
        out = func(*args)
        xs.check_result(name, out)
        if xs.is_error(out):  # refused as a whole: only for a problem of the whole range
            return
        assert len(out) == len(column) and all(len(r) == 1 for r in out), out
        for c, (got,) in zip(column, out):
            args[i] = c
            want = func(*args)
            if required and (c is None or (isinstance(c, str) and not c.strip())):
                assert got == "", (c, got)
            else:
                assert _same(got, want), f"{name}({spec.params[i]}={c!r}): range {got!r}, cell {want!r}"

    run()


@pytest.mark.parametrize("name", [n for n in NAMES if BASELINES[n]])
def test_a_missing_required_argument_is_named(name):
    func = REGISTRY[name]
    spec = func.__udf__
    for i, d in enumerate(spec.defaults):
        if d is not inspect.Parameter.empty:
            continue
        args = list(BASELINES[name])
        args[i] = None
        out = func(*args)
        assert xs.is_error(out) and xs.names_argument(out, spec.params[i]), (name, out)


# ------------------------------------------------------------------- physics through Excel

import llm_budget_planner.addin.udfs as x  # noqa: E402
from tests import strategies as s  # noqa: E402

PHYSICS = settings(max_examples=100, deadline=None, database=None)
gpu_ids = st.sampled_from([g for g in xs.GPU_IDS])


def _num(v):
    assert isinstance(v, float) and math.isfinite(v), v
    return v


@PHYSICS
@given(s.params, s.tokens, s.gpus, s.gpus, st.one_of(s.tflops, gpu_ids), s.mfu,
       s.flops_per_token)
def test_more_gpus_never_lengthen_training(P, T, n1, n2, tf, m, k):
    lo, hi = sorted((n1, n2))
    assert _num(x.TRAIN_DAYS(P, T, hi, tf, m, k)) <= _num(x.TRAIN_DAYS(P, T, lo, tf, m, k))


@PHYSICS
@given(s.params, s.tokens, st.lists(s.gpus, min_size=2, max_size=6), s.tflops, s.mfu)
def test_more_gpus_never_lengthen_training_over_a_range(P, T, ns, tf, m):
    ns = sorted(ns)
    out = x.TRAIN_DAYS(P, T, [ns], tf, m)
    days = [_num(v) for v in out[0]]
    assert all(a >= b for a, b in zip(days, days[1:]))


@PHYSICS
@given(s.params, st.sampled_from([16, 18, 20]), st.floats(1.0, 2.0),
       st.one_of(s.gpu_memory, gpu_ids), st.one_of(s.gpu_memory, gpu_ids), st.booleans())
def test_more_memory_per_gpu_never_needs_more_gpus(P, b, f, m1, m2, round_up):
    def gb(m):
        return x.GPU_SPEC(m, "memory_gb") if isinstance(m, str) else m
    lo, hi = sorted((m1, m2), key=gb)
    assert _num(x.GPU_COUNT_MEM(P, b, f, hi, round_up)) <= _num(
        x.GPU_COUNT_MEM(P, b, f, lo, round_up))


@PHYSICS
@given(s.params, s.tokens, s.days, st.one_of(s.tflops, gpu_ids), s.mfu, s.mfu)
def test_higher_mfu_never_needs_more_gpus_or_gpu_hours(P, T, d, tf, m1, m2):
    lo, hi = sorted((m1, m2))
    assert _num(x.GPU_HOURS(P, T, tf, hi)) <= _num(x.GPU_HOURS(P, T, tf, lo))
    assert _num(x.GPU_COUNT_TIME(P, T, d, tf, hi)) <= _num(x.GPU_COUNT_TIME(P, T, d, tf, lo))


@PHYSICS
@given(s.params, s.tokens, s.days, s.days, s.tflops, s.mfu)
def test_a_later_deadline_never_needs_more_gpus(P, T, d1, d2, tf, m):
    lo, hi = sorted((d1, d2))
    assert _num(x.GPU_COUNT_TIME(P, T, hi, tf, m)) <= _num(x.GPU_COUNT_TIME(P, T, lo, tf, m))


usd = st.floats(0.1, 20.0)


@PHYSICS
@given(s.params, s.tokens, st.one_of(s.tflops, gpu_ids), s.gpus, s.mfu, s.mfu, usd,
       s.flops_per_token, st.floats(0.5, 1.0))
def test_higher_mfu_never_raises_training_cost(P, T, gpu, n, m1, m2, price, k, goodput):
    lo, hi = sorted((m1, m2))
    cheap = _num(x.TRAIN_COST_USD(P, T, gpu, n, hi, price, k, goodput))
    dear = _num(x.TRAIN_COST_USD(P, T, gpu, n, lo, price, k, goodput))
    assert cheap <= dear


@PHYSICS
@given(s.params, s.tokens, st.one_of(s.tflops, gpu_ids), s.gpus, s.mfu, usd, usd)
def test_a_dearer_gpu_hour_never_lowers_training_cost(P, T, gpu, n, m, p1, p2):
    lo, hi = sorted((p1, p2))
    assert _num(x.TRAIN_COST_USD(P, T, gpu, n, m, lo)) <= _num(x.TRAIN_COST_USD(P, T, gpu, n, m, hi))


@PHYSICS
@given(st.floats(1.0, 1e5), st.floats(1.0, 1e5), usd, st.integers(1, 64))
def test_more_tokens_per_second_never_raise_the_cost_per_token(t1, t2, price, gpus):
    lo, hi = sorted((t1, t2))
    assert _num(x.COST_PER_M_TOKENS(hi, price, gpus)) <= _num(x.COST_PER_M_TOKENS(lo, price, gpus))


@pytest.mark.parametrize("name", NAMES)
def test_under_xlwings_lite_or_server_errors_are_raised_as_xlwings_errors(name, monkeypatch):
    """There the cell shows #VALUE! and the message on hover: only XlwingsError may escape."""
    import xlwings

    monkeypatch.setenv("XLWINGS_ON_SERVER", "true")
    func = REGISTRY[name]
    spec = func.__udf__
    base = list(BASELINES[name] or [None] * len(spec.params))
    base += [None] * (len(spec.params) - len(base))
    for i in range(len(spec.params)):
        for bad in ("zq#x", math.nan, -1e308, [[1], ["zq#x"]]):
            args = base.copy()
            args[i] = bad
            try:
                out = func(*args)
            except xlwings.XlwingsError as exc:
                xs.check_text(name, str(exc))
                assert xs.is_error(str(exc)), str(exc)
            else:
                xs.check_result(name, out)
