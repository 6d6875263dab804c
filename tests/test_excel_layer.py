"""The Excel layer: input conversion, ranges, blank cells and error text."""

import math

import pytest

import llm_budget_planner.addin.udfs as x
from llm_budget_planner.addin._excel import REGISTRY, Arg, udf


def is_error(value, code=None):
    return isinstance(value, str) and value.startswith(code or ("#VALUE!", "#NUM!", "#N/A"))


class TestScalars:
    def test_one_by_one_range_is_a_scalar(self):
        assert x.TRAIN_DAYS([[175e9]], [[300e9]], [[1024]], [[312]], [[0.45]]) == pytest.approx(
            33.8118, rel=1e-5)

    def test_blank_optional_means_default(self):
        assert x.TRAIN_DAYS(175e9, 300e9, 1024, 312, 0.45, None) == x.TRAIN_DAYS(
            175e9, 300e9, 1024, 312, 0.45)
        assert x.GPU_COUNT_MEM(7e9, None, None, 24, None) == 7
        assert x.GPU_COUNT_MEM(7e9, [[None]], "", 24) == 7

    def test_blank_required_names_the_argument(self):
        out = x.TRAIN_DAYS(None, 300e9, 1024, 312, 0.45)
        assert out.startswith("#VALUE! P is empty: expected parameters, raw count")

    def test_numbers_stored_as_text_and_percent(self):
        assert x.TRAIN_DAYS("175E9", " 300e9 ", "1024", "312", "45%") == pytest.approx(
            33.8118, rel=1e-5)

    def test_boolean_where_a_number_is_expected(self):
        assert x.TRAIN_DAYS(True, 300e9, 1024, 312, 0.45) == "#VALUE! P is TRUE/FALSE: expected a number"

    def test_flags_accept_excel_forms(self):
        exact = x.GPU_COUNT_MEM(7e9, 18, 1.25, 24, False)
        for false in (False, 0, 0.0, "FALSE", " false ", "no"):
            assert x.GPU_COUNT_MEM(7e9, 18, 1.25, 24, false) == exact
        assert is_error(x.GPU_COUNT_MEM(7e9, 18, 1.25, 24, "maybe"), "#VALUE!")

    def test_gpu_id_where_tflops_or_memory_is_expected(self):
        assert x.TRAIN_DAYS(175e9, 300e9, 1024, "A100", 0.45) == x.TRAIN_DAYS(
            175e9, 300e9, 1024, 312, 0.45)
        assert x.GPU_COUNT_MEM(7e9, 18, 1.25, "rtx-4090") == 7
        assert x.DECODE_TOKENS_PER_S(7e9, "bf16", "h100-sxm") == x.DECODE_TOKENS_PER_S(7e9, 2, 3350)
        assert x.TRAIN_DAYS(175e9, 300e9, 1024, "h1000", 0.45).startswith(
            "#N/A TFLOPS: gpu 'h1000' is not in the gpu catalog: did you mean")

    def test_precision_names_case_and_spaces(self):
        assert x.WEIGHTS_GB(7e9, " BF16 ") == 14
        assert x.BYTES_PER_PARAM("Int4") == 0.5
        assert is_error(x.WEIGHTS_GB(7e9, "int3"), "#N/A")

    def test_implausible_units_say_the_fix(self):
        assert x.GPU_COUNT_MEM(7, 18, 1.25, 24) == (
            "#NUM! P is a raw parameter count: use 7E9 for 7B (got 7)")
        assert x.TRAIN_DAYS(175e9, 300e9, 1024, 312, 45) == (
            "#NUM! MFU is a fraction between 0 and 1: use 0.45 for 45%")

    def test_overflow_is_num_error_not_inf(self):
        out = x.TRAIN_FLOPS(1e300, 1e300)
        assert out.startswith("#NUM!") and "overflows" in out

    def test_too_many_arguments(self):
        assert is_error(x.LLM_PARAMS_APPROX(96, 12288, 1), "#VALUE!")

    def test_catalog_functions(self):
        assert x.GPU_SPEC("H100", "memory_gb") == 80
        assert "datasheet" in x.GPU_SPEC("a100-sxm-80gb", "source")
        assert x.GPU_SPEC("h100-sxm", "tflops_fp16").startswith("#N/A field 'tflops_fp16'")
        assert x.MODEL_SPEC("llama-2-70b", "kv_heads") == 8
        assert all(len(row) == 1 for row in x.GPU_LIST())


class TestRanges:
    def test_column_broadcast_equals_scalar_calls(self):
        P = [[7e9], [13e9], [70e9]]
        out = x.TRAIN_DAYS(P, 2e12, 512, 989.4, 0.4)
        assert out == [[x.TRAIN_DAYS(p[0], 2e12, 512, 989.4, 0.4)] for p in P]

    def test_row_by_column_gives_a_table(self):
        out = x.TRAIN_DAYS([[7e9], [70e9]], 2e12, [[256, 512, 1024]], 989.4, 0.4)
        assert len(out) == 2 and all(len(r) == 3 for r in out)
        assert out[1][2] == x.TRAIN_DAYS(70e9, 2e12, 1024, 989.4, 0.4)

    def test_bad_cells_get_their_own_message(self):
        out = x.TRAIN_DAYS([[7e9], [7], ["abc"], [None], [70e9]], 2e12, 512, 989.4, 0.4)
        assert isinstance(out[0][0], float) and isinstance(out[4][0], float)
        assert out[1][0].startswith("#NUM! P is a raw parameter count")
        assert out[2][0] == ("#N/A P 'abc' is neither a number nor a model id: use MODEL_LIST() "
                             "for the ids")
        assert out[3][0] == ""  # a blank row stays blank

    def test_blank_optional_cells_in_a_range_take_the_default(self):
        out = x.TRAIN_DAYS(175e9, 300e9, 1024, 312, 0.45, [[8], [None], [6]])
        assert out[0][0] == out[1][0] and out[2][0] == pytest.approx(out[0][0] * 6 / 8)

    def test_mismatched_ranges(self):
        out = x.TRAIN_DAYS([[7e9], [13e9]], [[1e12], [2e12], [3e12]], 512, 989.4, 0.4)
        assert out.startswith("#VALUE! ranges P (2x1) and T (3x1) cannot be combined")

    def test_text_arguments_may_be_ranges(self):
        out = x.WEIGHTS_GB(7e9, [["fp32"], ["bf16"], ["int4"]])
        assert out == [[28.0], [14.0], [3.5]]

    def test_no_nan_or_inf_ever(self):
        out = x.TRAIN_FLOPS([[1e300], [7e9]], [[1e300], [2e12]])
        assert out[0][0].startswith("#NUM!") and out[1][0] == 8.4e22
        for row in out:
            for v in row:
                assert not (isinstance(v, float) and not math.isfinite(v))

    def test_table_functions_refuse_ranges_cleanly(self):
        out = x.GPU_SPEC([["h100-sxm"], ["a100"]], "memory_gb")
        assert out == [[80.0], [80.0]]


class TestUnexpectedErrors:
    def test_a_bug_never_shows_a_traceback(self):
        @udf("Test", x=Arg("A number, e.g. 1."))
        def BROKEN_FOR_TEST(x):
            """Broken on purpose."""
            return 1 / 0

        try:
            out = BROKEN_FOR_TEST(1)
            assert out == ("#VALUE! BROKEN_FOR_TEST failed unexpectedly (ZeroDivisionError); "
                           "please report it")
            assert BROKEN_FOR_TEST([[1], [2]])[1][0].startswith("#VALUE! BROKEN_FOR_TEST failed")
        finally:
            REGISTRY.pop("BROKEN_FOR_TEST")
