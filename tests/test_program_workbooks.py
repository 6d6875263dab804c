"""The "Inference & fine-tuning" and "Program" sheets of the budget planner and the "Buy vs
rent" sheet of the procurement planner: recalculated by LibreOffice (one run for every
scenario) and compared with the core, cell by cell, to 1e-9 relative."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook

from llm_budget_planner import formulas as core
from llm_budget_planner.templates import build_budget_planner, build_procurement_planner
from llm_budget_planner.templates.buy_vs_rent import MONTHS, buy_vs_rent_sheet
from llm_budget_planner.templates.buy_vs_rent import SHEET as BVR_SHEET
from llm_budget_planner.templates.inference_sheet import SHEET as INF_SHEET
from llm_budget_planner.templates.inference_sheet import inference_sheet
from llm_budget_planner.templates.output import save_workbook
from llm_budget_planner.templates.program_sheet import SHEET as PROG_SHEET
from llm_budget_planner.templates.program_sheet import program_sheet
from tests import libreoffice as lo
from tests.test_workbooks import ERRORS, read_named, set_input

BUILT = dt.date(2026, 11, 23)
RTOL = 1e-9

BUDGET = {
    "default": {},
    # Seed 000's case: Llama-2-7B on an RTX 4090, a typed smaller batch (latency cap).
    "rtx4090": {"Model": "llama-2-7b", "GPU": "rtx-4090", "PricePerGPUHour": 0.60,
                "ServeBatch": 8, "ServeRequestsPerS": 3, "FTRank": 64, "FTSeq": 512},
    # MLA KV cache, fp8 weights on H200, tensor parallel typed, lower efficiency.
    "deepseek": {"Model": "deepseek-v3", "GPU": "h200-sxm", "ServeBytesPerParam": 1,
                 "ServeTP": 8, "ServeEfficiency": 0.6, "ServePromptTokens": 2000,
                 "ServeOutputTokens": 300, "Goodput": 0.85, "ProgServingMonths": 24,
                 "ProgMFULow": 0.2, "ProgMFUHigh": 0.5},
    # LLaMA-65B-sized custom model: QLoRA's headline setting on the fine-tuning rows.
    "qlora65b": {"Model": "custom", "CustomLayers": 80, "CustomHidden": 8192,
                 "Params": 65.2e9, "FTRank": 64, "FTAdaptedPerLayer": 9.53125, "FTSeq": 2048},
}
PROCUREMENT = {
    "default": {},
    # Seed 000's card: the core's TCO and breakeven when rate, residual and colocation are 0.
    "rtx4090": {"GPU": "rtx-4090", "Model": "llama-2-7b", "QuotePrice": [1599, 1700, 1800],
                "StoragePriceUSDPerTB": 100, "BVRRentUSDPerHour": 0.60, "BVRUtilisation": 0.7,
                "BVRYears": 3, "BVRCostOfCapital": 0, "BVRResidualValue": 0,
                "BVRColocationUSDPerKWMonth": 0},
    "never": {"BVRRentUSDPerHour": 0.05, "StoragePriceUSDPerTB": 100},
    # No storage price and no storage share: the verdict names the missing storage price.
    "no_storage": {"StorageCapexShare": 0},
    # Financing and a residual value: 8% over 4 years, 30% left.
    "financed": {"BVRCostOfCapital": 0.08, "BVRResidualValue": 0.3, "BVRYears": 4,
                 "BVRUtilisation": 0.8, "StoragePriceUSDPerTB": 150},
}


def _budget(overrides):
    wb = build_budget_planner(built=BUILT, extra_sheets=[inference_sheet, program_sheet])
    for name, value in overrides.items():
        set_input(wb, name, value)
    return wb


def _procurement(overrides):
    wb = build_procurement_planner(built=BUILT, extra_sheets=[buy_vs_rent_sheet])
    for name, value in overrides.items():
        set_input(wb, name, value)
    return wb


@pytest.fixture(scope="module")
def recalculated(lo_profile, tmp_path_factory):
    src = tmp_path_factory.mktemp("i5_src")
    built, paths = {}, []
    for kind, cases, make in (("budget", BUDGET, _budget), ("procurement", PROCUREMENT,
                                                              _procurement)):
        for key, overrides in cases.items():
            wb = make(overrides)
            path = src / f"{kind}_{key}.xlsx"
            save_workbook(wb, path)
            built[(kind, key)] = wb
            paths.append(path)
    outs = lo.recalc(paths, tmp_path_factory.mktemp("i5_out"), lo_profile)
    return {k: (built[k], load_workbook(o, data_only=True)) for k, o in zip(built, outs)}


def _reader(recalculated, kind, key):
    src, out = recalculated[(kind, key)]
    return lambda name: read_named(src, out, name)


def close(got, want):
    assert isinstance(got, (int, float)), got
    assert got == pytest.approx(want, rel=RTOL, abs=1e-9)


@pytest.mark.parametrize("key", list(BUDGET))
def test_inference_sheet_matches_the_core(recalculated, key):
    v = _reader(recalculated, "budget", key)
    P, gpu, model = v("Params"), v("GPU"), v("Model")
    b, tp, eff, util = v("ServeBytesPerParam"), v("ServeTP"), v("ServeEfficiency"), v("ServeMemUtil")
    prompt, out_t, rps = v("ServePromptTokens"), v("ServeOutputTokens"), v("ServeRequestsPerS")
    kv = v("ServeKVBytesPerToken")
    if model == "custom":  # multi-head attention: 2 L h bytes
        close(kv, 2 * v("CustomLayers") * v("CustomHidden") * 2)
    else:
        close(kv, core.kv_bytes_per_token(model, v("ServeKVBytesPerValue")))
    spec = core.gpu(gpu)
    close(v("ServeMemBWGBps"), spec.mem_bw_gbps)
    if "ServeTP" not in BUDGET[key]:  # default rule: weights use at most half the memory
        assert tp >= 1 and P * b <= tp * spec.memory_gb * 1e9 * util / 2 * (1 + 1e-12)
        assert tp == 1 or P * b > tp / 2 * spec.memory_gb * 1e9 * util / 2
    # The sheet is the roofline with a given efficiency, which counts memory plainly.
    cap = core.serve_max_batch(P, b, gpu, prompt, out_t, kv, tp, util, accounting="plain")
    close(v("ServeMaxBatch"), cap)
    batch = v("ServeBatch")
    close(batch, BUDGET[key].get("ServeBatch", cap))
    tps = core.serve_tokens_per_s(P, b, gpu, batch, prompt, out_t, tp, kv, eff, util)
    close(v("ServeTokensPerS"), tps)
    capped = None if batch == cap else batch
    close(v("ServeGPUs"), core.serve_gpus(P, b, gpu, rps, prompt, out_t, capped, tp, kv, eff, util))
    close(v("ServePrefillSeconds"), core.prefill_seconds(P, prompt, batch, spec.tflops_bf16, tp, eff))
    price = v("RentUSDPerGPUHour")
    close(v("ServeCostPerMTokens"), core.cost_per_m_tokens(tps, price, tp))
    close(v("ServeMonthlyCostUSD"), v("ServeGPUs") * 730 * price)
    assert v("ServeFitCheck") == "OK"
    # Fine-tuning rows: FINETUNE_MEM_GB for the three methods.
    args = (v("FTRank"), v("FTLayers"), v("FTHidden"), v("FTAdaptedPerLayer"), v("FTSeq"),
            v("FTBatch"))
    for name, method in (("FTMemFullGB", "full"), ("FTMemLoRAGB", "lora"),
                         ("FTMemQLoRAGB", "qlora")):
        close(v(name), core.finetune_mem_gb(P, method, *args))
    close(v("FTAdapterParams"), core.finetune_params(P, "lora", *args[:4]))
    close(v("FTCheckpointGB"), core.finetune_checkpoint_gb(P, "lora", *args[:4]))
    assert v("FTMemQLoRAGB") < v("FTMemLoRAGB") < v("FTMemFullGB")


def test_qlora_headline_in_the_workbook(recalculated):
    v = _reader(recalculated, "budget", "qlora65b")
    assert v("FTMemQLoRAGB") < 48 < 780 < v("FTMemFullGB")
    assert v("FTQLoRAGPUs") == 1


@pytest.mark.parametrize("key", list(BUDGET))
def test_program_sheet_matches_the_core(recalculated, key):
    v = _reader(recalculated, "budget", key)
    A, T, N, tf, k = (v("ActiveParams"), v("Tokens"), v("NumGPUs"), v("PeakTFLOPS"),
                      v("FlopsPerParamToken"))
    mfu, lo_, hi, g = v("MFU"), v("ProgMFULow"), v("ProgMFUHigh"), v("Goodput")
    price = v("RentUSDPerGPUHour")
    low, mid, high = core.train_days_range(A, T, N, tf, lo_, hi, g, k)
    close(v("ProgDaysLow"), low)
    close(v("ProgDaysHigh"), high)
    close(v("ProgDaysBase"), core.train_days(A, T, N, tf, mfu, k) / g)
    close(v("ProgPretrainGPUHours") * price, core.train_cost_usd(A, T, tf, N, mfu, price, k, g))
    ft = core.gpu_hours(A, max(v("ProgFineTuneTokens"), 1e6), tf, mfu, k) / g
    close(v("ProgFineTuneGPUHours"), ft)
    serving = v("ProgServingGPUs") * 730 * v("ProgServingMonths")
    close(v("ProgServingGPUHours"), serving)
    if key != "deepseek":
        close(v("ProgServingGPUs"), v("ServeGPUs"))
    others = ft + v("ProgEvalGPUHoursUsed") + serving
    close(v("ProgEvalGPUHoursUsed"), 0.01 * v("GPUHours"))
    total = v("ProgPretrainGPUHours") + others
    close(v("ProgTotalGPUHours"), total)
    close(v("ProgGPUMonths"), total / 730)
    close(v("ProgCloudUSD"), core.cloud_cost_usd(total, price))
    for case, days in (("Low", low), ("High", high)):
        close(v(f"ProgTotal{case}USD"), core.cloud_cost_usd(days * 24 * N + others, price))
    close(v("ProgTotalBaseUSD"), v("ProgCloudUSD"))
    assert v("ProgTotalLowUSD") <= v("ProgTotalBaseUSD") <= v("ProgTotalHighUSD")
    # Capex: straight-line depreciation over the amortisation period.
    gpus = max(N, v("ProgServingGPUs"))
    close(v("ProgClusterGPUs"), gpus)
    capex = gpus * v("UnitPricePerGPU") + -(-gpus // v("GPUsPerServer")) * v("ServerCostUSD")
    close(v("ProgCapexUSD"), capex)
    months = (v("ProgPretrainGPUHours") + ft + v("ProgEvalGPUHoursUsed")) / (N * 730) \
        + v("ProgServingMonths")
    close(v("ProgMonths"), months)
    per_month = capex * (1 - v("ResidualValue")) / (v("AmortisationYears") * 12)
    close(v("ProgDepreciationPerMonth"), per_month)
    close(v("ProgOwnUSD"), total * v("OnPremCostPerGPUHour"))
    if v("PricePerGPUHour") <= 0:
        assert v("ProgCheaper") == ("No verdict: the cloud price per GPU-hour is missing "
                                    "(Inputs > Cloud)")
    elif v("UnitPricePerGPU") <= 0:
        assert v("ProgCheaper").startswith("No verdict: the purchase price per GPU is missing")
    else:
        assert v("ProgCheaper") == ("Rent (opex)" if v("ProgCloudUSD") <= v("ProgOwnUSD")
                                    else "Buy (capex)")
    # One cost model, one verdict: Program and Results decide the same way.
    assert {"Cloud": "Rent (opex)", "On-premises": "Buy (capex)"}.get(
        v("CheaperOption"), v("CheaperOption")) == v("ProgCheaper")


@pytest.mark.parametrize("key", list(PROCUREMENT))
def test_buy_vs_rent_sheet_matches_the_core(recalculated, key):
    v = _reader(recalculated, "procurement", key)
    rent, years, util = v("BVRRentUSDPerHour"), v("BVRYears"), v("BVRUtilisation")
    rate, resid, colo = v("BVRCostOfCapital"), v("BVRResidualValue"), \
        v("BVRColocationUSDPerKWMonth")
    n, capex_all = v("GPUsToBuy"), v("CapexUSD")
    capex = capex_all / n  # the GPUs the quotes buy, not the GPUs required
    close(v("BVRCapexPerGPUUSD"), capex)
    kw = (v("GPUPowerW") + v("ServerPowerW") / v("GPUsPerServer")) / 1000
    pue, kwh = v("PUE"), v("ElectricityUSDPerKWh")
    annual = (capex - capex * resid) / years if rate == 0 else \
        (capex - capex * resid / (1 + rate) ** years) * rate / (1 - (1 + rate) ** -years)
    close(v("BVRCapitalPerGPUYear"), annual)
    close(v("BVRDepreciationPerGPUYear"), capex * (1 - resid) / years)
    energy = kw * pue * kwh
    colo_h = kw * colo * 12 / (8760 * util)
    tco = annual / (8760 * util) + energy + colo_h
    close(v("BVRTCOPerGPUHour"), tco)
    if rate == 0 and resid == 0 and colo == 0:  # then it is the core's TCO_PER_GPU_HOUR
        close(tco, core.tco_per_gpu_hour(capex, years, kw * 1000, pue, kwh, util, 0))
    breakeven = v("BVRBreakevenMonths")
    saved = 730 * util * (rent - energy) - kw * colo
    if saved <= 0:
        assert breakeven.startswith("never")
    else:
        close(breakeven, capex / saved)
        if colo == 0:
            close(breakeven, core.buy_vs_rent_breakeven_months(capex, rent, kw * 1000, pue, kwh,
                                                               util, 0))
    missing = [what for price, what in (
        (rent, "rental price"), (v("SwitchPriceUSD"), "switch price"),
        (v("LinkPriceUSD"), "link price"), (v("StorageCapexUSD"), "storage price"))
        if not price > 0]
    if missing:  # no verdict without its prices
        assert v("BVRVerdict").startswith("No verdict:") and missing[0] in v("BVRVerdict")
    else:
        assert v("BVRVerdict") == ("Buying is cheaper" if tco < rent else "Renting is cheaper")
    close(v("BVRFleetCapexUSD"), capex_all)
    close(v("BVRFleetRentPerMonth"), n * rent * 730 * util)
    own_month = n * (energy * 730 * util + kw * colo)
    close(v("BVRFleetOwnPerMonth"), own_month)
    # NPV, year-end cash flows over whole years.
    npv_rent = sum(n * rent * 8760 * util / (1 + rate) ** t for t in range(1, years + 1))
    npv_own = capex_all + sum(own_month * 12 / (1 + rate) ** t for t in range(1, years + 1)) \
        - resid * capex_all / (1 + rate) ** years
    close(v("BVRNPVRentUSD"), npv_rent)
    close(v("BVRNPVOwnUSD"), npv_own)
    close(v("BVRNPVBuyUSD"), npv_rent - npv_own)
    # One verdict: the NPV and the cost per GPU-hour agree (the capital charge is the annuity).
    assert (npv_rent - npv_own > 0) == (tco < rent)
    table = v("BVRTable")
    assert [row[0] for row in table] == list(MONTHS)
    for m, rent_cum, own_cum in table:
        close(rent_cum, rent * 730 * util * m)
        close(own_cum, capex + (energy * 730 * util + kw * colo) * m)
    if saved > 0:  # the lines cross at the breakeven month
        before = [r for r in table if r[0] < breakeven]
        after = [r for r in table if r[0] > breakeven]
        assert all(r[1] < r[2] for r in before) and all(r[1] > r[2] for r in after)


def test_finance_terms_hand_worked(recalculated):
    """8% over 4 years with 30% left (the "financed" case), worked by hand: 1.08^4 =
    1.36048896, so the residual is worth 0.3 / 1.36048896 = 0.220509 of the capex today; the
    annuity factor is 1/1.08 + 1/1.08^2 + 1/1.08^3 + 1/1.08^4 = 0.925926 + 0.857339 + 0.793832
    + 0.735030 = 3.312127; the capital charge is (1 - 0.220509) / 3.312127 = 0.235345 of the
    capex a year, straight-line depreciation (1 - 0.3) / 4 = 0.175 and financing 0.060345."""
    v = _reader(recalculated, "procurement", "financed")
    capex = v("BVRCapexPerGPUUSD")
    assert v("BVRCapitalPerGPUYear") / capex == pytest.approx(0.235345, abs=1e-6)
    assert v("BVRDepreciationPerGPUYear") / capex == pytest.approx(0.175, abs=1e-12)
    assert v("BVRFinancingPerGPUYear") / capex == pytest.approx(0.060345, abs=1e-6)
    # NPV of renting: 12 months x rent a month x the annuity factor.
    assert v("BVRNPVRentUSD") == pytest.approx(v("BVRFleetRentPerMonth") * 12 * 3.312127,
                                               rel=1e-6)
    table = v("BVRNPVTable")
    assert [round(row[3], 6) for row in table[:5]] == [1, 0.925926, 0.857339, 0.793832, 0.73503]


@pytest.mark.parametrize("kind,key", [("budget", k) for k in BUDGET]
                         + [("procurement", k) for k in PROCUREMENT])
def test_no_formula_of_the_new_sheets_computes_to_an_error(recalculated, kind, key):
    src, out = recalculated[(kind, key)]
    sheets = (INF_SHEET, PROG_SHEET) if kind == "budget" else (BVR_SHEET,)
    bad, n = [], 0
    for title in sheets:
        for row in src[title].iter_rows():
            for c in row:
                if c.data_type == "f":
                    n += 1
                    got = out[title][c.coordinate]
                    if got.data_type == "e" or (isinstance(got.value, str)
                                                and got.value.startswith(ERRORS)):
                        bad.append((title, c.coordinate, c.value, got.value))
    assert n >= 40 and not bad, bad


def test_sheets_sit_before_the_catalogs_and_have_a_chart():
    wb = _budget({})
    names = wb.sheetnames
    assert names.index(INF_SHEET) < names.index(PROG_SHEET) < names.index("GPUs")
    p = _procurement({})
    assert p.sheetnames.index(BVR_SHEET) < p.sheetnames.index("GPUs")
    assert len(p[BVR_SHEET]._charts) == 1
