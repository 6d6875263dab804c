"""Money, energy and calendar effects: cost, TCO, buy vs rent, CO2, goodput, day ranges."""

import inspect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llm_budget_planner.addin.udfs as x
from llm_budget_planner import formulas as core
from llm_budget_planner.formulas import catalog
from llm_budget_planner.formulas.assumptions import assumption, assumptions
from tests import strategies as s

SETTINGS = settings(max_examples=100, deadline=None)


# ------------------------------------------------------------------------- energy, CO2

def test_llama2_7b_carbon_and_the_intensity_it_implies():
    """Touvron et al. 2023 (Llama 2), Table 2: 7B, 184,320 A100-hours at 400 W, 31.22 tCO2eq.
    73.728 MWh of GPU energy, so the paper's carbon intensity is 0.4234 kg CO2eq per kWh."""
    mwh = x.TRAIN_ENERGY_MWH(184320, 400)
    assert mwh == pytest.approx(73.728, rel=1e-12)
    intensity = 31.22 / mwh
    assert intensity == pytest.approx(0.4234, abs=5e-5)
    assert x.TRAIN_CO2_T(mwh, 0.4234) == pytest.approx(31.22, abs=0.005)
    # The same intensity reproduces every other row and the 539 t total of Table 2.
    rows = [(368640, 400, 62.44), (1038336, 350, 153.90), (1720320, 400, 291.42)]
    for hours, watts, t in rows:
        assert x.TRAIN_CO2_T(x.TRAIN_ENERGY_MWH(hours, watts), intensity) == pytest.approx(t, rel=1e-3)
    total = sum(x.TRAIN_ENERGY_MWH(h, w) for h, w, _ in [(184320, 400, 0)] + rows)
    assert x.TRAIN_CO2_T(total, intensity) == pytest.approx(539.0, rel=1e-3)


def test_energy_scales_with_pue_and_llama2_gpu_hours_come_from_the_formula():
    assert x.TRAIN_ENERGY_MWH(1000, 700, 1.2) == pytest.approx(0.84)
    hours = x.GPU_HOURS(6.74e9, 2e12, 312, 0.40, 6)  # ~180k vs 184,320 reported
    assert x.TRAIN_ENERGY_MWH(hours, 400) == pytest.approx(hours * 400 / 1e6)


# --------------------------------------------------------------------------- goodput

def test_llama3_interruption_rate_and_goodput():
    """Llama 3 report §3.3.4: 466 interruptions in a 54-day snapshot on up to 16,384 GPUs,
    more than 90% effective training time."""
    rate = 466 / (54 * 16384)
    assert core.goodput(16384) == pytest.approx(0.9, abs=1e-12)
    lost = 0.1 * 54 * 24 / 466  # hours lost per interruption that make 90%
    assert lost * 60 == pytest.approx(16.69, abs=0.01)
    assert x.GOODPUT(1024) == pytest.approx(1 - rate * 1024 * lost / 24, rel=1e-12)
    assert x.GOODPUT(1024, rate, lost) == x.GOODPUT(1024)
    # The user overrides the rate: twice as many failures lose twice the time.
    assert 1 - x.GOODPUT(16384, 2 * rate) == pytest.approx(0.2, rel=1e-9)
    assert x.GOODPUT(16384, 0) == 1.0


@SETTINGS
@given(s.gpus, s.gpus)
def test_goodput_falls_with_cluster_size(n1, n2):
    lo, hi = sorted((n1, n2))
    if hi > 150_000:  # beyond that Llama 3's rate leaves no time to train
        return
    assert x.GOODPUT(hi) <= x.GOODPUT(lo)


def test_train_days_range_spills_low_base_high():
    out = x.TRAIN_DAYS_RANGE(175e9, 300e9, 1024, 312, 0.35, 0.55)
    assert len(out) == 1 and len(out[0]) == 3
    low, base, high = out[0]
    assert low == pytest.approx(x.TRAIN_DAYS(175e9, 300e9, 1024, 312, 0.55) / 0.9, rel=1e-12)
    assert base == pytest.approx(x.TRAIN_DAYS(175e9, 300e9, 1024, 312, 0.45) / 0.9, rel=1e-12)
    assert high == pytest.approx(x.TRAIN_DAYS(175e9, 300e9, 1024, 312, 0.35) / 0.9, rel=1e-12)
    # Seed 003: one MFU and no downtime is TRAIN_DAYS itself (33.81 days).
    assert x.TRAIN_DAYS_RANGE(175e9, 300e9, 1024, 312, 0.45, 0.45, 1) == [[pytest.approx(33.8118, abs=1e-4)] * 3]
    # Goodput from the cluster size feeds in.
    g = x.GOODPUT(1024)
    assert x.TRAIN_DAYS_RANGE(175e9, 300e9, 1024, 312, 0.4, 0.5, g)[0][0] == pytest.approx(
        x.TRAIN_DAYS(175e9, 300e9, 1024, 312, 0.5) / g)


@SETTINGS
@given(s.params, s.tokens, s.gpus, s.tflops, s.mfu, s.mfu, st.floats(0.3, 1))
def test_days_range_is_ordered(P, T, n, tf, m1, m2, g):
    lo, hi = sorted((m1, m2))
    d = core.train_days_range(P, T, n, tf, lo, hi, g)
    assert d[0] <= d[1] <= d[2]


def test_existing_time_functions_are_unchanged():
    # Reference rows of the core issue: goodput enters only through new functions.
    assert x.TRAIN_DAYS(175e9, 300e9, 1024, 312, 0.45) == pytest.approx(33.8118, abs=1e-4)
    assert x.GPU_COUNT_TIME(175e9, 300e9, 30, 312, 0.45) == 1155
    assert list(inspect.signature(x.TRAIN_DAYS).parameters) == [
        "P", "T", "N", "TFLOPS", "MFU", "flops_per_param_token"]


# ----------------------------------------------------------------------------- money

def test_cloud_cost_deepseek_v3():
    """DeepSeek-V3 report Table 1: 2,788K H800 GPU-hours at $2 per GPU-hour = $5.576M."""
    assert x.CLOUD_COST_USD(2.788e6, 2) == 5_576_000


def test_train_cost_is_gpu_hours_over_goodput_times_price():
    hours = x.GPU_HOURS(6.74e9, 2e12, 312, 0.40, 6)
    assert x.TRAIN_COST_USD(6.74e9, 2e12, 312, 1024, 0.40, 1.844, 6, 1) == pytest.approx(hours * 1.844)
    assert x.TRAIN_COST_USD(6.74e9, 2e12, "a100-sxm-80gb", 1024, 0.40, 1.844, 6) == pytest.approx(
        hours / 0.9 * 1.844)
    # Also N x wall-clock hours x price.
    days = x.TRAIN_DAYS(6.74e9, 2e12, 1024, 312, 0.40, 6)
    assert x.TRAIN_COST_USD(6.74e9, 2e12, 312, 1024, 0.40, 2, 6, 0.9) == pytest.approx(
        1024 * days * 24 / 0.9 * 2)


def test_tco_and_breakeven_by_hand():
    capex = 25000 * 1.3 / (3 * 8760)
    energy = 0.7 * 1.2 * 0.10
    assert x.TCO_PER_GPU_HOUR(25000, 3, 700, 1.2, 0.10) == pytest.approx(capex + energy)
    assert x.TCO_PER_GPU_HOUR(25000, 3, 700, 1.2, 0.10, 0.5, 0) == pytest.approx(
        25000 / (3 * 8760 * 0.5) + energy)
    months = x.BUY_VS_RENT_BREAKEVEN_MONTHS(25000, 2.99, 700, 1.2, 0.10)
    assert months == pytest.approx(25000 * 1.3 / ((2.99 - energy) * 730))
    # At the breakeven, owning (capex + energy) equals renting for the same hours.
    hours = months * 730
    assert 25000 * 1.3 + energy * hours == pytest.approx(2.99 * hours)


@SETTINGS
@given(st.floats(1000, 1e5), st.floats(0.5, 10), st.floats(100, 1500), st.floats(1, 2),
       st.floats(0.01, 0.5), st.floats(0.1, 1), st.floats(0.1, 1))
def test_breakeven_falls_with_rent_and_utilisation(price, rent, watts, pue, kwh, u1, u2):
    energy = watts / 1000 * pue * kwh
    if rent <= energy * 1.01:
        return
    lo, hi = sorted((u1, u2))
    a = core.buy_vs_rent_breakeven_months(price, rent, watts, pue, kwh, lo)
    b = core.buy_vs_rent_breakeven_months(price, rent, watts, pue, kwh, hi)
    assert b <= a
    assert core.buy_vs_rent_breakeven_months(price, rent * 2, watts, pue, kwh, lo) < a


def test_price_table_rows_are_dated_sourced_examples():
    rows = catalog.gpu_prices()
    ids = [p.id for p in rows]
    assert len(ids) == len(set(ids))
    for p in rows:
        assert p.date and p.source and p.confidence and p.usd > 0
    assert x.GPU_PRICE("nvidia-rtx4090-msrp") == 1599
    assert x.GPU_PRICE("runpod-rtx4090-2026-03", "unit") == "gpu_hour"
    assert x.GPU_PRICE("runpod-rtx4090-2026-03", "date") == "2026-03-10"
    assert ["nvidia-rtx4090-msrp"] in x.GPU_PRICE_LIST("rtx-4090")
    assert len(x.GPU_PRICE_LIST()) == len(rows)
    assert "never a quote" in x.GPU_PRICE.__udf__.doc


def test_excel_defaults_are_the_documented_assumptions():
    defaults = {
        (x.TRAIN_DAYS_RANGE, "goodput"): "goodput",
        (x.TRAIN_COST_USD, "goodput"): "goodput",
        (x.TCO_PER_GPU_HOUR, "server_overhead"): "server_overhead",
        (x.BUY_VS_RENT_BREAKEVEN_MONTHS, "server_overhead"): "server_overhead",
        (x.SERVE_TOKENS_PER_S, "memory_utilization"): "serve_memory_utilization",
        (x.SERVE_GPUS, "memory_utilization"): "serve_memory_utilization",
        (x.SERVE_MAX_BATCH, "memory_utilization"): "serve_memory_utilization",
    }
    for (func, arg), key in defaults.items():
        assert inspect.signature(func).parameters[arg].default == assumption(key), (func, arg)
    for row in assumptions().values():
        assert row["source"] and row["retrieved"]


@pytest.mark.parametrize("call,start", [
    (lambda: x.TCO_PER_GPU_HOUR(25000, 36, 700, 1.2, 0.1), "#NUM! years is the amortisation"),
    (lambda: x.TCO_PER_GPU_HOUR(25000, 3, 0.7, 1.2, 0.1), "#NUM! tdp_w is in watts"),
    (lambda: x.TCO_PER_GPU_HOUR(25000, 3, 700, 1.2, 12), "#NUM! usd_per_kwh is in dollars"),
    (lambda: x.TCO_PER_GPU_HOUR(25000, 3, 700, 0.9, 0.1), "#NUM! pue must be at least 1"),
    (lambda: x.TCO_PER_GPU_HOUR(25000, 3, 700, 1.2, 0.1, 80), "#NUM! utilisation is"),
    (lambda: x.TCO_PER_GPU_HOUR(25000, 3, 700, 1.2, 0.1, 1, 30), "#NUM! server_overhead is a fraction"),
    (lambda: x.BUY_VS_RENT_BREAKEVEN_MONTHS(25000, 0.05, 700, 1.2, 0.1), "#NUM! usd_per_gpu_hour: renting costs no more"),
    (lambda: x.TRAIN_COST_USD(7, 2e12, 312, 1024, 0.4, 2), "#NUM! P is a raw parameter"),
    (lambda: x.TRAIN_COST_USD(7e9, 2e12, 312, 1024, 40, 2), "#NUM! MFU is"),
    (lambda: x.TRAIN_CO2_T(73.7, 423), "#NUM! kg_co2_per_kwh is in kg per kWh"),
    (lambda: x.TRAIN_ENERGY_MWH(184320, 0.4), "#NUM! tdp_w is in watts"),
    (lambda: x.TRAIN_DAYS_RANGE(175e9, 300e9, 1024, 312, 0.55, 0.35), "#NUM! mfu_low must not exceed"),
    (lambda: x.TRAIN_DAYS_RANGE(175e9, 300e9, 1024, 312, 35, 55), "#NUM! mfu_low is"),
    (lambda: x.GOODPUT(1e6), "#NUM! interruptions_per_gpu_day x N"),
    (lambda: x.GPU_PRICE("aws-p5"), "#N/A price_id 'aws-p5'"),
    (lambda: x.GPU_PRICE("aws-p5-cb-2024", "price"), "#N/A field 'price'"),
    (lambda: x.GPU_PRICE_LIST("v100"), "#N/A gpu: no example price"),
])
def test_bad_input(call, start):
    out = call()
    assert isinstance(out, str) and out.startswith(start) and "\n" not in out, out
