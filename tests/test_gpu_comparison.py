"""The "GPU comparison" sheet against the core functions, recalculated in LibreOffice.

Every priced GPU of the catalog gets a row; each row's GPUs, days, GPU-hours, cost, energy
and cost per million tokens are recomputed from ``formulas`` (GPU_COUNT_TIME, GPU_COUNT_MEM,
TRAIN_DAYS, TRAIN_COST_USD) on the workbook's own inputs, and exactly the cheapest and the
fastest rows are marked.
"""

from __future__ import annotations

import math

import pytest
from openpyxl import load_workbook

import build
from llm_budget_planner.formulas import catalog, memory, money, serving, training
from llm_budget_planner.templates.catalog_sheets import example_price
from llm_budget_planner.templates.gpu_comparison import SHEET, priced_gpus
from llm_budget_planner.templates.output import save_workbook
from tests import libreoffice as lo
from tests.test_workbooks import read_named, set_input

CASES = {
    "shipped": {},
    # FP8 training of a MoE model with part of the hours committed.
    "moe_fp8": {"Model": "mixtral-8x7b", "Precision": "fp8", "DeadlineDays": 20,
                "Share1Y": 0.5, "Goodput": 0.95},
}


@pytest.fixture(scope="module")
def recalculated(lo_profile, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compare")
    srcs, paths = {}, []
    for key, overrides in CASES.items():
        wb = build.build_workbooks()["llm_budget_planner.xlsx"]
        for name, value in overrides.items():
            set_input(wb, name, value)
        paths.append(save_workbook(wb, tmp / f"{key}.xlsx"))
        srcs[key] = wb
    outs = lo.recalc(paths, tmp / "out", lo_profile)
    return {k: (srcs[k], load_workbook(o, data_only=True)) for k, o in zip(CASES, outs)}


def test_rows_are_the_priced_gpus():
    wb = build.build_workbooks()["llm_budget_planner.xlsx"]
    prices = catalog.gpu_prices()
    want = [g for g in catalog.gpu_catalog() if example_price(prices, g, "cloud")[0]]
    assert priced_gpus(wb) == want and len(want) >= 4


@pytest.mark.parametrize("key", list(CASES))
def test_gpu_comparison_matches_the_core(recalculated, key):
    src, out = recalculated[key]
    v = lambda name: read_named(src, out, name)  # noqa: E731
    Pa, P, T, k = v("ActiveParams"), v("Params"), v("Tokens"), v("FlopsPerParamToken")
    mfu, g, deadline = v("MFU"), v("Goodput"), v("DeadlineDays")
    state, af = v("StateBytesPerParam"), v("ActivationFactor")
    blend = v("RentUSDPerGPUHour") / v("PricePerGPUHour")
    table = v("GPUCompareTable")
    assert [row[0] for row in table] == priced_gpus(src)
    prices = catalog.gpu_prices()
    rows = []
    for gid, peak, mem, n, days, hours, rent, cost, mwh, per_m, cheap, fast in table:
        spec = catalog.gpu(gid)
        want_peak = (spec.tflops_fp8 or 0) if v("Precision") == "fp8" else spec.tflops_bf16
        if not want_peak:
            assert n == "n/a" and cost == "n/a"
            continue
        assert peak == pytest.approx(want_peak)
        need = max(training.gpu_count_time(Pa, T, deadline * g, want_peak, mfu, k),
                   memory.gpu_count_mem(P, state, af, mem))
        assert n == need
        assert days == pytest.approx(training.train_days(Pa, T, n, want_peak, mfu, k) / g,
                                     rel=1e-9)
        assert hours == pytest.approx(days * 24 * n, rel=1e-9)
        price = example_price(prices, gid, "cloud")[0]
        assert rent == pytest.approx(price * blend, rel=1e-9)
        assert cost == pytest.approx(money.train_cost_usd(Pa, T, want_peak, n, mfu, rent, k, g),
                                     rel=1e-9)
        watts = (spec.tdp_w or 0) + v("ServerPowerW") / v("GPUsPerServer")
        assert mwh == pytest.approx(hours * watts / 1e6 * v("PUE"), rel=1e-9)
        assert per_m == pytest.approx(cost / (T / 1e6), rel=1e-9)
        rows.append((gid, days, cost, cheap, fast))
    assert len(rows) >= 3
    assert [r[0] for r in rows if r[3] == "Cheapest"] == \
        [r[0] for r in rows if math.isclose(r[2], min(x[2] for x in rows), rel_tol=1e-12)]
    assert [r[0] for r in rows if r[4] == "Fastest"] == \
        [r[0] for r in rows if math.isclose(r[1], min(x[1] for x in rows), rel_tol=1e-12)]


def test_the_sheet_has_its_chart():
    wb = build.build_workbooks()["llm_budget_planner.xlsx"]
    ws = wb[SHEET]
    assert len(ws._charts) == 1 and len(ws._charts[0].series) == len(priced_gpus(wb))


def test_serving_table_matches_the_core(recalculated):
    """Each GPU serves the Inference sheet's request rate: the replica's GPUs by the sheet's
    rule, the largest batch that fits (SERVE_MAX_BATCH), SERVE_TOKENS_PER_S, SERVE_GPUS and
    the cost per million tokens at the blended rent; the cheapest monthly bill is marked."""
    src, out = recalculated["shipped"]  # bf16: the serving peak is the catalog's BF16 peak
    v = lambda name: read_named(src, out, name)  # noqa: E731
    P, b, util, eff = v("Params"), v("ServeBytesPerParam"), v("ServeMemUtil"), \
        v("ServeEfficiency")
    prompt, out_t, rps, kv = v("ServePromptTokens"), v("ServeOutputTokens"), \
        v("ServeRequestsPerS"), v("ServeKVBytesPerToken")
    blend = v("RentUSDPerGPUHour") / v("PricePerGPUHour")
    rows = v("GPUCompareServing")
    assert [row[0] for row in rows] == priced_gpus(src)
    bills = {}
    for gid, tp, batch, tps, gpus, per_m, month, cheap in rows:
        spec = catalog.gpu(gid)
        want_tp = 2 ** max(0, math.ceil(math.log2(P * b * 2 / (spec.memory_gb * 1e9 * util))
                                        - 1e-9))
        assert tp == want_tp
        assert batch == serving.serve_max_batch(P, b, gid, prompt, out_t, kv, tp, util,
                                                accounting="plain")
        assert tps == pytest.approx(serving.serve_tokens_per_s(P, b, gid, batch, prompt, out_t,
                                                               tp, kv, eff, util), rel=1e-9)
        assert gpus == serving.serve_gpus(P, b, gid, rps, prompt, out_t, None, tp, kv, eff, util)
        rent = example_price(catalog.gpu_prices(), gid, "cloud")[0] * blend
        assert per_m == pytest.approx(serving.cost_per_m_tokens(tps, rent, tp), rel=1e-9)
        assert month == pytest.approx(gpus * 730 * rent, rel=1e-9)
        bills[gid] = (month, cheap)
    best = min(m for m, _ in bills.values())
    assert [g for g, (m, c) in bills.items() if c == "Cheapest"] == \
        [g for g, (m, _) in bills.items() if m == best]
