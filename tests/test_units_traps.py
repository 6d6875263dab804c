"""Unit slips a planner makes, caught with a message that names the fix.

Each trap fires only where the magnitude is unambiguous; the boundary tests show that the
largest and smallest legitimate values still compute (a demanding user is never blocked).
"""

import pytest

import llm_budget_planner.addin.udfs as x

GPT3 = (175e9, 300e9)


class TestCountsInBillions:
    def test_parameters_in_billions(self):
        assert x.TRAIN_DAYS(175, 300e9, 1024, 312, 0.45) == (
            "#NUM! P is a raw parameter count: use 7E9 for 7B (got 175)")
        assert x.GPU_COUNT_MEM(7, 18, 1.25, 24) == (
            "#NUM! P is a raw parameter count: use 7E9 for 7B (got 7)")

    def test_tokens_in_billions(self):
        assert x.TRAIN_FLOPS(175e9, 300) == (
            "#NUM! T is a raw token count: use 300E9 for 300B (got 300)")

    def test_smallest_real_models_still_compute(self):
        # A 1M-parameter toy model on 1M tokens: 6E12 FLOPs.
        assert x.TRAIN_FLOPS(1e6, 1e6) == 6e12


class TestPercentages:
    def test_mfu_as_a_percentage(self):
        assert x.TRAIN_DAYS(*GPT3, 1024, 312, 45) == (
            "#NUM! MFU is a fraction between 0 and 1: use 0.45 for 45%")
        assert x.GPU_HOURS(*GPT3, 312, 38.5) == (
            "#NUM! MFU is a fraction between 0 and 1: use 0.385 for 38.5%")

    def test_percent_text_is_read_as_a_fraction(self):
        assert x.TRAIN_DAYS(*GPT3, 1024, 312, "45%") == x.TRAIN_DAYS(*GPT3, 1024, 312, 0.45)

    def test_full_utilisation_is_allowed(self):
        # MFU 1 means "TFLOPS is already the achieved rate": 140 TFLOPS achieved per A100
        # gives the Megatron paper's 8TP/(nX) = 33.8 days for 174.6B on 300B tokens.
        assert x.TRAIN_DAYS(174.6e9, 300e9, 1024, 140, 1) == pytest.approx(33.83, abs=0.01)


class TestComputeAndMemoryUnits:
    def test_flops_per_second_instead_of_tflops(self):
        assert x.TRAIN_DAYS(*GPT3, 1024, 312e12, 0.45) == (
            "#NUM! TFLOPS is in TFLOPS per GPU: use 312 for 3.12e+14 FLOP/s")

    def test_bytes_instead_of_gigabytes(self):
        assert x.GPU_COUNT_MEM(7e9, 18, 1.25, 24e9) == (
            "#NUM! gpu_memory_GB is in GB (1E9 bytes): use 24 for 2.4e+10 bytes")

    def test_cpu_class_compute_is_not_blocked(self):
        # A laptop CPU at 0.5 TFLOPS is slow, not a unit slip.
        assert isinstance(x.GPU_HOURS(1e9, 20e9, 0.5, 0.5), float)


class TestBandwidth:
    def test_seed_example_in_both_units(self):
        # Seed 003: 500 GB over a 200 Gbps NIC is 20 s; over NVLink4 at 450 GB/s about 1.1 s.
        assert x.COMM_SECONDS(500, 200, "Gbps") == 20
        assert x.COMM_SECONDS(500, 450) == pytest.approx(1.11, abs=0.005)

    def test_raw_bits_or_bytes_per_second_where_gbs_is_expected(self):
        assert x.COMM_SECONDS(500, 200e9) == (
            "#NUM! bandwidth is in GB/s: use 200 for 2e+11 bytes/s, or 25 for 2e+11 bits/s")

    def test_raw_bits_per_second_where_gbps_is_expected(self):
        assert x.COMM_SECONDS(500, 200e9, "Gbps") == (
            "#NUM! bandwidth is in Gbps: use 200 for 2e+11 bits/s")

    def test_memory_bandwidth_in_bytes_per_second(self):
        # H100 SXM: 3.35 TB/s = 3350 GB/s; memory is never quoted in bits.
        assert x.DECODE_TOKENS_PER_S(6.74e9, 2, 3.35e12) == (
            "#NUM! mem_bw_GBps is in GB/s: use 3350 for 3.35e+12 bytes/s")

    def test_fastest_real_memory_and_slowest_links_still_compute(self):
        # Cerebras WSE-3 on-wafer SRAM: 21 PB/s = 2.1E7 GB/s (legitimate, not a slip).
        fast = x.DECODE_TOKENS_PER_S(7e9, 2, 2.1e7)
        assert fast == pytest.approx(2.1e7 * 1e9 / 14e9)
        # A Raspberry Pi 4 (about 4 GB/s) and a 1 Mbps link are slow, not wrong.
        assert x.DECODE_TOKENS_PER_S(7e9, 0.5, 4) == pytest.approx(4e9 / 3.5e9)
        assert x.COMM_SECONDS(1, 1, "Mbps") == 8000

    def test_one_slip_in_a_column_leaves_the_other_rows(self):
        out = x.COMM_SECONDS(500, [[450], [450e9], [900]])
        assert out[0][0] == pytest.approx(500 / 450) and out[2][0] == pytest.approx(500 / 900)
        assert out[1][0].startswith("#NUM! bandwidth is in GB/s: use 450 for 4.5e+11 bytes/s")


class TestDaysAndHours:
    def test_hours_typed_as_days(self):
        # 8,760 hours (one year) typed into the deadline in days.
        assert x.GPU_COUNT_TIME(*GPT3, 8760, 312, 0.45) == (
            "#NUM! days is a deadline in days: use 365 for 8760 hours")

    def test_seconds_typed_as_days(self):
        # 30 days in seconds.
        assert x.GPU_COUNT_TIME(*GPT3, 2_592_000, 312, 0.45) == (
            "#NUM! days is a deadline in days: use 30 for 2.592e+06 seconds")

    def test_long_but_real_deadlines_still_compute(self):
        # Seed 003: 1154.1 GPUs for 30 days; a year (365 days) still answers.
        assert x.GPU_COUNT_TIME(*GPT3, 30, 312, 0.45, 8, False) == pytest.approx(1154.11, abs=0.01)
        assert x.GPU_COUNT_TIME(*GPT3, 365, 312, 0.45) == 95
        assert x.GPU_COUNT_TIME(*GPT3, 366, 312, 0.45).startswith("#NUM! days is a deadline")

    def test_hours_typed_as_days_in_the_plan_search(self):
        from tests.excel_strategies import load_all_udfs

        plan = load_all_udfs()["PLAN_FOR_DEADLINE"]
        out = plan(175e9, 96, 12288, 96, 300e9, "a100-sxm-80gb", 30 * 24, 2, 2048, 3145728)
        assert out == "#NUM! max_days is a deadline in days: use 30 for 720 hours"
