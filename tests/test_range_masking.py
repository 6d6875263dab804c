"""Ranges with blank and bad cells: masked cells are answered one by one, the rest in one
vectorised core call (speed: benchmarks/bench_range_blanks.py)."""

import math

import numpy as np
import pytest

import llm_budget_planner.addin.udfs as x
import llm_budget_planner.addin.udfs_plan as xp
import llm_budget_planner.addin.udfs_serving as xs
from llm_budget_planner.addin import _excel


class CountingBody:
    """Wrap a function's core call and record the number of rows of every call."""

    def __init__(self, func, monkeypatch):
        self.spec = func.__udf__
        self.inner = self.spec.body
        self.calls = []
        monkeypatch.setattr(self.spec, "body", self)

    def __call__(self, *args):
        sizes = [np.size(a) for a in args if isinstance(a, np.ndarray)]
        self.calls.append(max(sizes, default=1))
        return self.inner(*args)

    @property
    def single_cell_calls(self):
        return sum(1 for n in self.calls if n == 1)


def _column(n, seed=3):
    rng = np.random.default_rng(seed)
    return [[v] for v in rng.uniform(1e9, 5e11, n).tolist()]


ARGS = (2e12, 1024, 989.4, 0.4)


def test_one_blank_keeps_one_vectorised_call(monkeypatch):
    col = _column(10_000)
    full = x.TRAIN_DAYS(col, *ARGS)
    col[5000] = [None]
    counter = CountingBody(x.TRAIN_DAYS, monkeypatch)
    out = x.TRAIN_DAYS(col, *ARGS)
    assert counter.calls == [9_999]  # the blank row never reaches the core
    assert out[5000] == [""]
    assert out[:5000] == full[:5000] and out[5001:] == full[5001:]


def test_every_row_equals_its_single_cell_answer():
    col = _column(50)
    col[7], col[20], col[33] = [None], ["abc"], ["#N/A"]
    out = x.TRAIN_DAYS(col, *ARGS)
    for (c,), (got,) in zip(col, out):
        if c is None:
            assert got == ""
        elif isinstance(c, str):
            assert got == x.TRAIN_DAYS(c, *ARGS) and got.startswith("#")
        else:
            assert got == pytest.approx(x.TRAIN_DAYS(c, *ARGS), rel=1e-13)


def test_a_bad_number_is_found_without_going_cell_by_cell(monkeypatch):
    # 45 typed for 45% in one row of 10,000: the core refuses the whole array; the search
    # splits it and only a small part goes cell by cell.
    mfu = [[0.4]] * 10_000
    mfu[6789] = [45]
    counter = CountingBody(x.TRAIN_DAYS, monkeypatch)
    out = x.TRAIN_DAYS(175e9, 300e9, 1024, 312, mfu)
    assert out[6789] == ["#NUM! MFU is a fraction between 0 and 1: use 0.45 for 45%"]
    good = x.TRAIN_DAYS(175e9, 300e9, 1024, 312, 0.4)
    assert all(r == [pytest.approx(good, rel=1e-13)] for k, r in enumerate(out) if k != 6789)
    assert counter.single_cell_calls <= _excel._SCALAR_ROWS
    rows_through_core = sum(counter.calls)
    assert rows_through_core < 2.5 * 10_000, counter.calls


def test_text_cells_that_are_numbers_join_the_vectorised_call(monkeypatch):
    mfu = [[0.45], ["45%"], [" 0.45 "]]
    tflops = [[312], ["a100-sxm-80gb"], [312]]
    counter = CountingBody(x.TRAIN_DAYS, monkeypatch)
    out = x.TRAIN_DAYS(175e9, 300e9, 1024, tflops, mfu)
    assert counter.calls == [3]
    assert out[0] == out[1] == out[2] == [pytest.approx(33.8118, rel=1e-5)]


def test_blank_optional_cell_takes_its_numeric_default_in_the_vectorised_call(monkeypatch):
    counter = CountingBody(x.TRAIN_DAYS, monkeypatch)
    out = x.TRAIN_DAYS(175e9, 300e9, 1024, 312, 0.45, [[8], [None], [""], [6]])
    assert counter.calls == [4]
    assert out[0] == out[1] == out[2] and out[3][0] == pytest.approx(out[0][0] * 6 / 8)


def test_blank_optional_cell_without_a_numeric_default_goes_on_its_own():
    # SERVE_GPUS's max_batch defaults to "as many as memory allows" (no number).
    base = (6.74e9, 2, "rtx-4090", 10, 512, 512)
    out = xs.SERVE_GPUS(*base, [[None], [4], [None]], 1, 524288)
    assert out[0][0] == out[2][0] == xs.SERVE_GPUS(*base, None, 1, 524288)
    assert out[1][0] == xs.SERVE_GPUS(*base, 4, 1, 524288)


def test_two_dimensional_broadcast_with_a_blank():
    P = [[7e9], [None], [70e9]]
    N = [[256, 512, None]]
    out = x.TRAIN_DAYS(P, 2e12, N, 989.4, 0.4)
    # The usual rule: a cell whose ranged required inputs are all blank stays blank; one
    # blank beside a number names the empty argument.
    assert out[1][2] == ""
    assert out[1][0].startswith("#VALUE! P is empty") and out[0][2].startswith("#VALUE! N is empty")
    assert out[2][1] == pytest.approx(x.TRAIN_DAYS(70e9, 2e12, 512, 989.4, 0.4), rel=1e-13)
    assert out[0][0] == pytest.approx(x.TRAIN_DAYS(7e9, 2e12, 256, 989.4, 0.4), rel=1e-13)


def test_overflow_in_one_row_is_that_row_only():
    out = x.TRAIN_FLOPS([[1e300], [None], [7e9]], [[1e300], [None], [2e12]])
    assert out[0][0].startswith("#NUM!") and "overflows" in out[0][0]
    assert out[1][0] == "" and out[2][0] == 8.4e22
    assert not any(isinstance(v, float) and not math.isfinite(v) for r in out for v in r)


def test_plan_column_with_a_blank_and_a_bad_batch(monkeypatch):
    # GPT-3 on 1024 A100s (tp 8, pp 8, dp 16): global batch a multiple of micro_batch x dp.
    base = [175e9, 96, 12288, 96, 2048, None, 1, 8, 8, 16, "a100-sxm-80gb"]
    batches = [[1536.0], [None], [1537.0], [512.0]]
    base[5] = batches
    counter = CountingBody(xp.PLAN_MFU, monkeypatch)
    out = xp.PLAN_MFU(*base)
    assert out[1] == [""] and out[2][0].startswith("#")
    for k in (0, 3):
        single = list(base)
        single[5] = batches[k][0]
        assert out[k][0] == pytest.approx(xp.PLAN_MFU(*single), rel=1e-12)
    assert counter.calls[0] == 3  # one call for the three non-blank rows first


def test_a_function_that_does_not_vectorise_still_answers_every_cell():
    @_excel.udf("Test", v=_excel.Arg("A number, e.g. 1."))
    def TEXT_RESULT_FOR_TEST(v):
        """Text per cell."""
        if isinstance(v, np.ndarray):
            raise TypeError("scalars only")
        return "big" if v > 1 else "small"

    try:
        assert TEXT_RESULT_FOR_TEST([[0.5], [None], [2]]) == [["small"], [""], ["big"]]
    finally:
        _excel.REGISTRY.pop("TEXT_RESULT_FOR_TEST")
