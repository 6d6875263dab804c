"""The planning workbooks: structure (openpyxl) and values (recalculated by LibreOffice).

The values test writes several input sets into the named input cells, recalculates all
workbooks in ONE headless LibreOffice run, and compares every result cell with the Python
core called through the Excel functions (``addin.udfs``) on the same inputs, to 1e-9
relative. No cell of any workbook may compute to an error value. Both default workbooks
are also exported to PDF and PNG.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest
from openpyxl import load_workbook
from openpyxl.utils import FORMULAE
from openpyxl.utils.datetime import to_excel
from openpyxl.utils.formulas import validate

import llm_budget_planner.addin.udfs as x
from llm_budget_planner.formulas import catalog
from llm_budget_planner.formulas import money as core_money
from llm_budget_planner.formulas.assumptions import assumption
from llm_budget_planner.templates import build_budget_planner, build_procurement_planner
from llm_budget_planner.templates import budget as B
from llm_budget_planner.templates import procurement as PR
from llm_budget_planner.templates.catalog_sheets import CUSTOM_MODEL, example_price
from llm_budget_planner.templates.defaults import default
from llm_budget_planner.templates.output import OutputError, save_workbook
from llm_budget_planner.templates.sheets import name_ref, put_text
from tests import libreoffice as lo

BUILT = dt.date(2026, 11, 23)
RTOL = 1e-9
ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "Err:")

# ----------------------------------------------------------------------------- scenarios

BUDGET_SCENARIOS = {
    "budget_default": {},
    # GPT-3 on A100 as in the seed articles: 175B, 300B tokens, 1024 GPUs, 45% of 312.
    "budget_gpt3": {"Model": "gpt-3-175b", "Params": 175e9, "Tokens": 300e9,
                    "GPU": "a100-sxm-80gb", "MFU": 0.45, "GPUCount": 1024, "PricePerGPUHour": 1.5,
                    "ServerCostUSD": 120000, "Goodput": 1},
    # Mixture of experts, plan by deadline, no recomputation, B200.
    "budget_moe_deadline": {"Model": "mixtral-8x7b", "GPU": "b200", "PlanBy": "Deadline",
                            "DeadlineDays": 12, "Recompute": "Off", "MFU": 0.35,
                            "StartDate": dt.date(2027, 1, 31)},
    # Custom model, typed-over look-ups, a GPU with no example cloud price, a long run.
    "budget_custom": {"Model": CUSTOM_MODEL, "CustomLayers": 48, "CustomHidden": 6144,
                      "CustomVocab": 50000, "GPU": "mi300x", "NumGPUs": 24, "PeakTFLOPS": 1000,
                      "Tokens": 2e12, "UnitPricePerGPU": 20000, "PUE": 1.2,
                      "ElectricityUSDPerKWh": 0.12, "AmortisationYears": 4,
                      "BytesWeights": 2, "BytesGradients": 2, "BytesOptimizer": 12,
                      "ActivationFactor": 1.5, "FlopsPerParamToken": 7},
    # Too few, too small GPUs: fails the memory check, misses the deadline by years and runs
    # past the 36-month schedule (thousands separators in the messages).
    "budget_too_few": {"Model": "llama-3.1-405b", "GPU": "rtx-4090", "GPUCount": 64},
    # DeepSeek-V3 (MoE, 671B) on H200 by deadline; typed price and power.
    "budget_deepseek": {"Model": "deepseek-v3", "GPU": "h200-sxm", "PlanBy": "Deadline",
                        "DeadlineDays": 90, "MFU": 0.3, "PricePerGPUHour": 2.0,
                        "GPUPowerW": 750, "GPUsPerServer": 4},
}

PROCUREMENT_SCENARIOS = {
    "procurement_default": {},
    "procurement_mi300x": {"Model": "qwen2.5-72b", "GPU": "mi300x", "DeadlineDays": 60,
                           "Precision": "fp8",
                           "SwitchPorts": 32, "SwitchPriceUSD": 25000, "NICPriceUSD": 1500,
                           "LinkPriceUSD": 900, "StoragePriceUSDPerTB": 150,
                           "SelectedQuote": "Fastest", "Contingency": 0.15,
                           "DeliveryTranches": 3, "OrderDate": dt.date(2027, 3, 15),
                           "QuotePrice": [18000, 17500, 19000], "QuoteLeadWeeks": [10, 30, 16],
                           "FiscalYearStartMonth": 7},
    # A $0 quote is never the cheapest; fiscal year from April.
    "procurement_unpriced_quote": {"QuotePrice": [0, 31000, 30000], "FiscalYearStartMonth": 4,
                                   "OrderDate": dt.date(2027, 2, 10), "StoragePriceUSDPerTB": 120},
    # A cluster beyond a two-tier fabric, a lower rack power budget, quote C chosen.
    "procurement_gpt3_big": {"Model": "gpt-3-175b", "GPU": "a100-sxm-40gb", "DeadlineDays": 14,
                             "Goodput": 0.95,
                             "RackPowerKW": 20, "SelectedQuote": "Quote C",
                             "StoragePriceUSDPerTB": 100},
    # Memory-bound: a 7B model on 24 GB cards; one server exceeds the rack power budget.
    "procurement_memory_bound": {"Model": "llama-2-7b", "GPU": "rtx-4090", "DeadlineDays": 365,
                                 "Tokens": 2e12, "RackPowerKW": 5, "PUE": 1.3,
                                 "DeliveryTranches": 8},
}


def set_input(wb, name: str, value) -> None:
    """Write a value into a named input cell (a list fills a named row left to right); an
    input with a default takes the value in its override cell (``<name>_Override``)."""
    if f"{name}_Override" in wb.defined_names:
        name = f"{name}_Override"
    sheet, coord = name_ref(wb, name)
    ws = wb[sheet]
    if isinstance(value, list):
        cells = [c for row in ws[coord] for c in row]
        assert len(cells) == len(value)
        for c, v in zip(cells, value):
            put_text(c, v)
        return
    if isinstance(value, dt.date):
        value = int(to_excel(dt.datetime(value.year, value.month, value.day)))
    put_text(ws[coord], value)


def build_scenario(kind: str, overrides: dict):
    wb = (build_budget_planner if kind == "budget" else build_procurement_planner)(built=BUILT)
    for name, value in overrides.items():
        set_input(wb, name, value)
    return wb


# ---------------------------------------------------------------- Python reference model

def _num(v):
    assert not isinstance(v, str), v  # a UDF error text would be a bug in the scenario
    return float(v)


def _excel_round(v: float) -> float:
    return math.floor(v + 0.5)


def _serial(d: dt.date) -> int:
    return (d - dt.date(1899, 12, 30)).days


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    last = [31, 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28, 31, 30, 31, 30,
            31, 31, 30, 31, 30, 31][m - 1]
    return dt.date(y, m, min(d.day, last))


def _model_inputs(v: dict) -> None:
    if v["Model"] == CUSTOM_MODEL:
        v.setdefault("Params", _num(x.LLM_PARAMS(v["CustomLayers"], v["CustomHidden"],
                                                 v["CustomVocab"])))
        v.setdefault("ActiveParams", v["Params"])
    else:
        spec = catalog.model(v["Model"])
        v.setdefault("Params", _num(x.MODEL_SPEC(v["Model"], "params")))
        v.setdefault("ActiveParams", v["Params"] * spec.active_params / spec.params)
    v.setdefault("Tokens", _num(x.CHINCHILLA_TOKENS(v["Params"], v["TokensPerParam"])))
    v.setdefault("PeakTFLOPS", _num(x.GPU_SPEC(v["GPU"], "tflops_bf16")))
    v.setdefault("GPUMemoryGB", _num(x.GPU_SPEC(v["GPU"], "memory_gb")))
    v.setdefault("GPUPowerW", catalog.gpu(v["GPU"]).tdp_w or 0.0)


def budget_expected(overrides: dict, built: dt.date = BUILT) -> dict:
    """Every result of the budget planner from the core, for one input set."""
    d = lambda k: default(k).value  # noqa: E731
    v = {"Model": B.DEFAULT_MODEL, "CustomLayers": 80, "CustomHidden": 8192,
         "CustomVocab": 128256, "TokensPerParam": d("tokens_per_param"), "Recompute": "On",
         "MFU": d("mfu"), "Goodput": assumption("goodput"), "Precision": "bf16",
         "GPU": B.DEFAULT_GPU, "PlanBy": "GPU count",
         "GPUCount": B.DEFAULT_GPU_COUNT, "DeadlineDays": B.DEFAULT_DEADLINE_DAYS,
         "StartDate": B.first_of_next_month(built), "BytesWeights": d("bytes_weights"),
         "BytesGradients": d("bytes_gradients"), "BytesOptimizer": d("bytes_optimizer"),
         "ActivationFactor": d("activation_factor"), "GPUsPerServer": d("gpus_per_server"),
         "ServerCostUSD": d("server_cost_usd"), "ServerPowerW": d("server_power_w"),
         "PUE": d("pue"), "ElectricityUSDPerKWh": d("electricity_usd_per_kwh"),
         "AmortisationYears": d("amortisation_years"), "Discount1Y": d("discount_1y"),
         "Discount3Y": d("discount_3y"), "DiscountSpot": d("discount_spot"), "Share1Y": 0,
         "Share3Y": 0, "ShareSpot": 0, "CostOfCapital": d("cost_of_capital"),
         "ResidualValue": d("residual_value"), "OwnedUtilisation": d("owned_utilisation"),
         "ColocationUSDPerKWMonth": d("colocation_usd_per_kw_month")}
    v.update(overrides)
    _model_inputs(v)
    if v["Precision"] == "fp8":
        v["PeakTFLOPS"] = overrides.get("PeakTFLOPS", catalog.gpu(v["GPU"]).tflops_fp8 or 0.0)
    v.setdefault("FlopsPerParamToken", 8.0 if v["Recompute"] == "On" else 6.0)
    prices = catalog.gpu_prices()
    v.setdefault("PricePerGPUHour", example_price(prices, v["GPU"], "cloud")[0] or 0.0)
    v.setdefault("UnitPricePerGPU", example_price(prices, v["GPU"], "purchase")[0] or 0.0)
    P, Pa, T, k = v["Params"], v["ActiveParams"], v["Tokens"], v["FlopsPerParamToken"]
    tf, mfu, mem, g = v["PeakTFLOPS"], v["MFU"], v["GPUMemoryGB"], v["Goodput"]
    r: dict = {}
    r["GPUsForDeadline"] = _num(x.GPU_COUNT_TIME(Pa, T, v["DeadlineDays"] * g, tf, mfu, k))
    v.setdefault("NumGPUs", r["GPUsForDeadline"] if v["PlanBy"] == "Deadline" else v["GPUCount"])
    N = v["NumGPUs"]
    r["TrainingFLOPs"] = _num(x.TRAIN_FLOPS(Pa, T))
    r["ExecutedFLOPs"] = _num(x.TRAIN_FLOPS(Pa, T, k))
    r["AchievedTFLOPS"] = tf * mfu
    r["TokensPerParamActual"] = T / P
    r["TrainingDays"] = days = _num(x.TRAIN_DAYS(Pa, T, N, tf, mfu, k)) / g
    r["GPUHours"] = days * 24 * N
    assert r["GPUHours"] == pytest.approx(_num(x.GPU_HOURS(Pa, T, tf, mfu, k)) / g, rel=RTOL)
    r["DeadlineMet"] = "Yes" if days <= v["DeadlineDays"] else \
        f"No: {days - v['DeadlineDays']:,.1f} days late"
    state = v["BytesWeights"] + v["BytesGradients"] + v["BytesOptimizer"]
    r["StateBytesPerParam"] = state
    r["TrainStateGB"] = _num(x.TRAIN_MEM_GB(P, state))
    r["ActivationsGB"] = r["TrainStateGB"] * (v["ActivationFactor"] - 1)
    r["TrainMemoryGB"] = P * state * v["ActivationFactor"] / 1e9
    r["GPUsForMemory"] = _num(x.GPU_COUNT_MEM(P, state, v["ActivationFactor"], mem))
    r["MemoryOK"] = "Yes" if N >= r["GPUsForMemory"] else \
        f"No: at least {r['GPUsForMemory']:,.0f} GPUs needed"
    od = v["PricePerGPUHour"]
    shares = (v["Share1Y"], v["Share3Y"], v["ShareSpot"])
    r["RentBlendFactor"] = blend = ((1 - sum(shares)) + shares[0] * (1 - v["Discount1Y"])
                                    + shares[1] * (1 - v["Discount3Y"])
                                    + shares[2] * (1 - v["DiscountSpot"]))
    r["RentUSDPerGPUHour"] = rent = od * blend
    # Owning cost per used GPU-hour (hand-written annuity, not Excel's PMT).
    gps, life, rate = v["GPUsPerServer"], v["AmortisationYears"], v["CostOfCapital"]
    capex = v["UnitPricePerGPU"] + v["ServerCostUSD"] / gps
    resid = v["ResidualValue"] * capex
    annual = (capex - resid) / life if rate == 0 else \
        (capex - resid / (1 + rate) ** life) * rate / (1 - (1 + rate) ** -life)
    r["CapexPerGPUUSD"] = capex
    r["CapitalPerGPUYear"] = annual
    r["DepreciationPerGPUYear"] = (capex - resid) / life
    r["FinancingPerGPUYear"] = annual - (capex - resid) / life
    kw = (v["GPUPowerW"] + v["ServerPowerW"] / gps) / 1000
    r["GPUKW"] = kw
    hours = 8760 * v["OwnedUtilisation"]
    r["OwnCapitalPerGPUHour"] = annual / hours
    r["OwnEnergyPerGPUHour"] = energy_h = kw * v["PUE"] * v["ElectricityUSDPerKWh"]
    r["OwnColocationPerGPUHour"] = colo_h = kw * v["ColocationUSDPerKWMonth"] * 12 / hours
    r["OnPremCostPerGPUHour"] = own = annual / hours + energy_h + colo_h
    r["TrainingCostUSD"] = r["GPUHours"] * rent
    assert r["TrainingCostUSD"] == pytest.approx(
        core_money.train_cost_usd(Pa, T, tf, N, mfu, rent, k, g),
        rel=RTOL)
    r["CloudCostPer1BTokens"] = r["TrainingCostUSD"] / (T / 1e9)
    r["Servers"] = servers = math.ceil(N / gps)
    r["OnPremCapexUSD"] = N * v["UnitPricePerGPU"] + servers * v["ServerCostUSD"]
    r["CapexShareUSD"] = r["GPUHours"] * annual / hours
    r["EnergyKWh"] = r["GPUHours"] * kw * v["PUE"]
    r["EnergyCostUSD"] = r["EnergyKWh"] * v["ElectricityUSDPerKWh"]
    r["ColocationUSD"] = r["GPUHours"] * colo_h
    r["OnPremCostUSD"] = r["CapexShareUSD"] + r["EnergyCostUSD"] + r["ColocationUSD"]
    assert r["OnPremCostUSD"] == pytest.approx(r["GPUHours"] * own, rel=RTOL)
    r["OnPremCostPer1BTokens"] = r["OnPremCostUSD"] / (T / 1e9)
    if od <= 0:
        r["CheaperOption"] = "No verdict: the cloud price per GPU-hour is missing (Inputs > Cloud)"
    elif v["UnitPricePerGPU"] <= 0:
        r["CheaperOption"] = ("No verdict: the purchase price per GPU is missing "
                              "(Inputs > On-premises)")
    else:
        r["CheaperOption"] = "Cloud" if r["TrainingCostUSD"] <= r["OnPremCostUSD"] else \
            "On-premises"
    r["SavingUSD"] = abs(r["TrainingCostUSD"] - r["OnPremCostUSD"]) \
        if r["CheaperOption"] in ("Cloud", "On-premises") else "n/a: no verdict"
    # Sensitivity tables: utilisation rows x GPU columns, utilisation rows x rent columns.
    gpus = [max(1, _excel_round(N * f)) for f in B.SENSITIVITY_GPU_FACTORS]
    r["SensGPUs"] = [gpus]
    r["SensMFU"] = [[m] for m in B.SENSITIVITY_MFU]
    r["SensDays"] = [[_num(x.TRAIN_DAYS(Pa, T, n, tf, m, k)) / g for n in gpus]
                     for m in B.SENSITIVITY_MFU]
    sens_prices = [rent * f for f in B.SENSITIVITY_PRICE_FACTORS]
    r["SensPrices"] = [sens_prices]
    r["SensCost"] = [[core_money.train_cost_usd(Pa, T, tf, N, m, p, k, g) for p in sens_prices]
                     for m in B.SENSITIVITY_MFU]
    # Tornado: one input 20% down and up.
    sw = B.TORNADO_SWING
    base = {"MFU": mfu, "Goodput": g, "Rent": rent, "Tokens": T, "GPUs": N}
    rows = []
    for key, *_ in B.TORNADO_INPUTS:
        lo_v = max(1, _excel_round(N * (1 - sw))) if key == "GPUs" else base[key] * (1 - sw)
        hi_v = max(1, _excel_round(N * (1 + sw))) if key == "GPUs" else base[key] * (1 + sw)
        if key in ("MFU", "Goodput"):
            hi_v = min(1, hi_v)
        out = []
        for val in (lo_v, hi_v):
            q = dict(base, **{key: val})
            dd = _num(x.TRAIN_DAYS(Pa, q["Tokens"], q["GPUs"], tf, q["MFU"], k)) / q["Goodput"]
            out.append((dd * 24 * q["GPUs"] * q["Rent"], dd))
        swing = abs(out[1][0] - out[0][0])
        change = [out[0][0] - r["TrainingCostUSD"], out[1][0] - r["TrainingCostUSD"]]
        if key == "GPUs":  # the cloud bill does not depend on the GPU count (GPU-hours fixed)
            assert swing == pytest.approx(0, abs=1e-9 * out[0][0])
            assert change == pytest.approx([0, 0], abs=1e-9 * out[0][0])
            swing, change = 0.0, [0.0, 0.0]
        rows.append([lo_v, hi_v, out[0][0], out[1][0], swing, out[0][1], out[1][1], *change])
    r["TornadoTable"] = rows
    # Spend schedule: days, weeks or months by the run's length.
    n_rows = B.SCHEDULE_MONTHS
    period = "Day" if days <= n_rows else "Week" if days <= n_rows * 7 else "Month"
    r["SchedulePeriod"] = period
    start = _serial(v["StartDate"])
    end = start + days
    sched = []
    bounds = [start + i if period == "Day" else start + 7 * i if period == "Week" else
              _serial(_add_months(v["StartDate"], i)) for i in range(n_rows + 1)]
    for a, b in zip(bounds, bounds[1:]):
        sched.append(max(0.0, min(end, b) - a))
    r["ScheduleEnd"] = bounds[-1] - 1
    r["ScheduleDays"] = [[s] for s in sched]
    r["ScheduleGPUHours"] = [[s * 24 * N] for s in sched]
    r["ScheduleCloudUSD"] = [[s * 24 * N * rent] for s in sched]
    r["ScheduleCloudTotalUSD"] = sum(s * 24 * N * rent for s in sched)
    r["ScheduleEnergyUSD"] = [[s * 24 * N * energy_h] for s in sched]
    r["ScheduleEnergyTotalUSD"] = sum(s * 24 * N * energy_h for s in sched)
    if end <= bounds[-1]:
        assert r["ScheduleCloudTotalUSD"] == pytest.approx(r["TrainingCostUSD"], rel=1e-9)
    # Chart data and memory breakdown.
    rows = []
    for f in B.CHART_GPU_FACTORS:
        n = max(1, _excel_round(N * f))
        dd = _num(x.TRAIN_DAYS(Pa, T, n, tf, mfu, k)) / g
        s_ = math.ceil(n / gps)
        rows.append([n, dd, dd * 24 * n * rent, n * v["UnitPricePerGPU"] + s_ * v["ServerCostUSD"],
                     dd * 24 * n * own])
    r["ChartTable"] = rows
    mem_rows = []
    for count in (r["GPUsForMemory"], N):
        parts = [v["BytesWeights"] * P / 1e9 / count, v["BytesGradients"] * P / 1e9 / count,
                 v["BytesOptimizer"] * P / 1e9 / count,
                 r["TrainStateGB"] * (v["ActivationFactor"] - 1) / count]
        mem_rows.append(parts + [sum(parts), mem])
    r["MemoryPerGPU"] = mem_rows
    r["InputProblem"] = None
    warnings = [N < r["GPUsForMemory"], days > v["DeadlineDays"], od <= 0,
                v["UnitPricePerGPU"] <= 0, v["GPUPowerW"] <= 0, v["ServerCostUSD"] <= 0,
                end > bounds[-1]]
    r["CheckSummary"] = "All checks passed" if not any(warnings) else \
        f"{sum(warnings)} warning(s), see Checks"
    # The named inputs as the workbook computes them.
    r.update({n: v[n] for n in ("Params", "ActiveParams", "Tokens", "FlopsPerParamToken",
                                "PeakTFLOPS", "GPUMemoryGB", "NumGPUs", "PricePerGPUHour",
                                "UnitPricePerGPU", "GPUPowerW")})
    return r


def procurement_expected(overrides: dict, built: dt.date = BUILT) -> dict:
    """Every result of the procurement planner from the core, for one input set."""
    d = lambda k: default(k).value  # noqa: E731
    v = {"Model": B.DEFAULT_MODEL, "TokensPerParam": d("tokens_per_param"),
         "FlopsPerParamToken": d("flops_per_param_token_recompute"), "MFU": d("mfu"),
         "Goodput": assumption("goodput"), "Precision": "bf16",
         "DeadlineDays": PR.DEFAULT_DEADLINE_DAYS, "GPU": B.DEFAULT_GPU,
         "StateBytesPerParam": sum(d(k) for k in ("bytes_weights", "bytes_gradients",
                                                  "bytes_optimizer")),
         "ActivationFactor": d("activation_factor"), "GPUsPerServer": d("gpus_per_server"),
         "ServerPowerW": d("server_power_w"), "ServerUnits": d("server_units"),
         "RackUnits": d("rack_units"), "RackPowerKW": d("rack_power_kw"),
         "NICsPerServer": d("nics_per_server"), "SwitchPorts": d("switch_ports"),
         "BytesPerTokenStored": d("bytes_per_token_stored"),
         "CheckpointBytesPerParam": d("checkpoint_bytes_per_param"),
         "CheckpointsKept": d("checkpoints_kept"), "PUE": d("pue"),
         "ElectricityUSDPerKWh": d("electricity_usd_per_kwh"),
         "SwitchPriceUSD": d("switch_price_usd"), "NICPriceUSD": d("nic_price_usd"),
         "LinkPriceUSD": d("link_price_usd"), "StoragePriceUSDPerTB": 0,
         "StorageCapexShare": d("storage_capex_share"),
         "ServerCostUSD": d("server_cost_usd"), "FiscalYearStartMonth": 1,
         "SelectedQuote": "Cheapest", "Contingency": d("contingency"),
         "DeliveryTranches": d("delivery_tranches"), "OrderDate": B.first_of_next_month(built)}
    v.update(overrides)
    _model_inputs(v)
    if v["Precision"] == "fp8":
        v["PeakTFLOPS"] = overrides.get("PeakTFLOPS", catalog.gpu(v["GPU"]).tflops_fp8 or 0.0)
    P, Pa, T, k = v["Params"], v["ActiveParams"], v["Tokens"], v["FlopsPerParamToken"]
    tf, mfu, mem = v["PeakTFLOPS"], v["MFU"], v["GPUMemoryGB"]
    r: dict = {}
    g = v["Goodput"]
    r["GPUsForDeadline"] = _num(x.GPU_COUNT_TIME(Pa, T, v["DeadlineDays"] * g, tf, mfu, k))
    r["GPUsForMemory"] = _num(x.GPU_COUNT_MEM(P, v["StateBytesPerParam"],
                                              v["ActivationFactor"], mem))
    r["InputProblem"] = None
    r["GPUsRequired"] = max(r["GPUsForDeadline"], r["GPUsForMemory"])
    r["Servers"] = servers = math.ceil(r["GPUsRequired"] / v["GPUsPerServer"])
    r["GPUsToBuy"] = n = servers * v["GPUsPerServer"]
    r["TrainingDaysToBuy"] = days = _num(x.TRAIN_DAYS(Pa, T, n, tf, mfu, k)) / g
    ports = v["SwitchPorts"]
    r["NICs"] = nics = servers * v["NICsPerServer"]
    r["LeafSwitches"] = leaf = 1 if nics <= ports else math.ceil(nics / (ports / 2))
    r["SpineSwitches"] = spine = 0 if leaf <= 1 else math.ceil(leaf * (ports / 2) / ports)
    r["Links"] = links = nics + (0 if spine == 0 else leaf * ports / 2)
    r["FabricOK"] = "Yes" if nics <= ports ** 2 / 2 else \
        f"No: more than {ports ** 2 / 2:,.0f} endpoints need a three-tier fabric"
    r["NetworkCapexUSD"] = net = (leaf + spine) * v["SwitchPriceUSD"] + \
        nics * v["NICPriceUSD"] + links * v["LinkPriceUSD"]
    r["DatasetTB"] = T * v["BytesPerTokenStored"] / 1e12
    r["CheckpointTB"] = P * v["CheckpointBytesPerParam"] * v["CheckpointsKept"] / 1e12
    r["StorageTB"] = r["DatasetTB"] + r["CheckpointTB"]
    r["ServerPowerKW"] = skw = (v["GPUsPerServer"] * v["GPUPowerW"] + v["ServerPowerW"]) / 1000
    r["ServersPerRackByPower"] = by_power = math.floor(v["RackPowerKW"] / skw)
    r["ServersPerRackBySpace"] = by_space = math.floor(v["RackUnits"] / v["ServerUnits"])
    r["ServersPerRack"] = per_rack = max(1, min(by_power, by_space))
    r["Racks"] = math.ceil(servers / per_rack)
    r["ITPowerKW"] = it = servers * skw
    r["FacilityPowerKW"] = fac = it * v["PUE"]
    r["CoolingKW"] = it * (v["PUE"] - 1)
    r["AnnualEnergyMWh"] = fac * 8760 / 1000
    r["AnnualEnergyUSD"] = r["AnnualEnergyMWh"] * 1000 * v["ElectricityUSDPerKWh"]
    r["TrainingEnergyUSD"] = fac * days * 24 * v["ElectricityUSDPerKWh"]
    r["RackCheck"] = "OK" if by_power >= 1 else ("One server draws more than the rack power "
                                                 "budget: raise the budget or use fewer GPUs "
                                                 "per server")
    # Quotes.
    example = example_price(catalog.gpu_prices(), v["GPU"], "purchase")[0] or 0.0
    installed = example + v["ServerCostUSD"] / v["GPUsPerServer"]
    r["QuoteExamplePrice"] = [[installed * q[1] for q in PR.QUOTES]]
    price = v.get("QuotePrice", [installed * q[1] for q in PR.QUOTES])
    weeks = v.get("QuoteLeadWeeks", [q[2] for q in PR.QUOTES])
    support = [q[3] for q in PR.QUOTES]
    freight = [q[4] for q in PR.QUOTES]
    landed = [p * (1 + s + f) for p, s, f in zip(price, support, freight)]
    total = [lp * n for lp in landed]
    r["QuoteLandedPerGPU"] = [landed]
    r["QuoteGPUs"] = [[n] * len(PR.QUOTES)]
    r["QuoteTotal"] = [total]
    r["QuotePerPFLOPS"] = [[lp / (tf * mfu / 1000) for lp in landed]]
    r["QuotePerGBHBM"] = [[lp / mem for lp in landed]]
    order = _serial(v["OrderDate"])
    r["QuoteDelivery"] = [[order + w * 7 for w in weeks]]
    priced = [t for t, p in zip(total, price) if p > 0]
    r["QuoteRankTotal"] = [[t if p > 0 else "unpriced" for t, p in zip(total, price)]]
    r["QuoteCheapest"] = [["No price" if p <= 0 else "Cheapest" if t == min(priced) else None
                           for t, p in zip(total, price)]]
    r["QuoteFastest"] = [["Fastest" if w == min(weeks) else None for w in weeks]]
    names = [q[0] for q in PR.QUOTES]
    sel = v["SelectedQuote"]
    idx = (total.index(min(priced)) if priced else 0) if sel == "Cheapest" else \
        weeks.index(min(weeks)) if sel == "Fastest" else names.index(sel)
    r["SelectedQuoteIndex"] = idx + 1
    r["SelectedLeadWeeks"] = weeks[idx]
    r["HardwareUSD"] = total[idx]
    # Storage: TB x the quoted price per TB, or without one the EXAMPLE share of servers,
    # network and storage.
    if v["StoragePriceUSDPerTB"] > 0:
        r["StorageCapexUSD"] = store = r["StorageTB"] * v["StoragePriceUSDPerTB"]
    else:
        share = v["StorageCapexShare"]
        r["StorageCapexUSD"] = store = share / (1 - share) * (total[idx] + net)
        assert store / (total[idx] + net + store) == pytest.approx(share)
    r["SubtotalUSD"] = sub = total[idx] + net + store
    r["ContingencyUSD"] = sub * v["Contingency"]
    r["CapexUSD"] = sub + sub * v["Contingency"]
    # Delivery schedule.
    first_date = v["OrderDate"] + dt.timedelta(days=7 * weeks[idx])
    fy = v["FiscalYearStartMonth"]
    o = v["OrderDate"]
    q1 = _add_months(dt.date(o.year, o.month, 1), -((o.month - fy) % 3))
    r["FirstQuarterStart"] = _serial(q1)
    months = (first_date.year - q1.year) * 12 + first_date.month - q1.month
    fq = months // 3 + 1
    labels = []
    for q in range(PR.DELIVERY_QUARTERS):
        b = _add_months(q1, 3 * q)
        year = b.year + (1 if fy > 1 and b.month >= fy else 0)
        labels.append([f"FY{year} Q{(b.month - fy) % 12 // 3 + 1}"])
    r["DeliveryQuarterLabels"] = labels
    r["FirstDeliveryDate"] = _serial(first_date)
    r["FirstDeliveryQuarter"] = fq
    tr = v["DeliveryTranches"]
    cum = [0 if q < fq else math.ceil(servers * min(1, (q - fq + 1) / tr) * (1 - 1e-12) - 1e-9)
           for q in range(1, PR.DELIVERY_QUARTERS + 1)]
    delta = [c - p for c, p in zip(cum, [0] + cum[:-1])]
    r["DeliveryServersCum"] = [[c] for c in cum]
    r["DeliveryGPUs"] = [[dd * v["GPUsPerServer"]] for dd in delta]
    spend = [dd / servers * sub for dd in delta]
    r["DeliverySpend"] = [[s] for s in spend]
    r["DeliveryContingency"] = [[s * v["Contingency"]] for s in spend]
    r["DeliveryTotal"] = [[s + s * v["Contingency"]] for s in spend]
    r["DeliveryGPUsTotal"] = sum(delta) * v["GPUsPerServer"]
    r["DeliverySpendTotalUSD"] = sum(s + s * v["Contingency"] for s in spend)
    if fq + tr - 1 <= PR.DELIVERY_QUARTERS:
        assert r["DeliverySpendTotalUSD"] == pytest.approx(r["CapexUSD"], rel=1e-9)
        assert r["DeliveryGPUsTotal"] == n
    r.update({nm: v[nm] for nm in ("Params", "ActiveParams", "Tokens", "PeakTFLOPS",
                                   "GPUMemoryGB", "GPUPowerW")})
    return r


# ------------------------------------------------------------------------- LibreOffice run

@pytest.fixture(scope="module")
def recalculated(lo_profile, tmp_path_factory):
    """All scenario workbooks and the two shipped by build.py (with any sheets that other
    modules add), recalculated by LibreOffice in one batch."""
    import build

    src = tmp_path_factory.mktemp("workbooks")
    built, paths = {}, []
    for kind, scenarios in (("budget", BUDGET_SCENARIOS), ("procurement", PROCUREMENT_SCENARIOS)):
        for key, overrides in scenarios.items():
            wb = build_scenario(kind, overrides)
            path = src / f"{key}.xlsx"
            save_workbook(wb, path)
            built[key] = (kind, overrides, wb, BUILT)
            paths.append(path)
    today = dt.date.today()
    for kind, path in zip(("budget", "procurement"), build.write_workbooks(src / "shipped")):
        built[f"shipped_{kind}"] = (kind, {}, load_workbook(path), today)
        paths.append(path)
    outs = lo.recalc(paths, tmp_path_factory.mktemp("recalculated"), lo_profile)
    return {key: (kind, overrides, wb, load_workbook(out, data_only=True), day)
            for (key, (kind, overrides, wb, day)), out in zip(built.items(), outs)}


def read_named(src_wb, out_wb, name):
    """The computed value(s) of a defined name: a scalar, or rows of a range."""
    sheet, coord = name_ref(src_wb, name)
    ws = out_wb[sheet]
    if ":" not in coord:
        return _plain(ws[coord].value)
    return [[_plain(c.value) for c in row] for row in ws[coord]]


def _plain(value):
    if isinstance(value, dt.datetime):
        return to_excel(value)
    return value


def assert_close(name, got, want):
    if isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), (name, got)
        for g_row, w_row in zip(got, want):
            assert len(g_row) == len(w_row), (name, g_row)
            for g, w in zip(g_row, w_row):
                assert_close(name, g, w)
    elif isinstance(want, str) or want is None:
        assert (got or None) == (want or None), (name, got, want)
    else:
        assert isinstance(got, (int, float)), (name, got)
        assert got == pytest.approx(want, rel=RTOL, abs=1e-9), (name, got, want)


ALL_SCENARIOS = list(BUDGET_SCENARIOS) + list(PROCUREMENT_SCENARIOS) + \
    ["shipped_budget", "shipped_procurement"]


@pytest.mark.parametrize("key", ALL_SCENARIOS)
def test_every_result_matches_the_core(recalculated, key):
    kind, overrides, src, out, day = recalculated[key]
    want = (budget_expected if kind == "budget" else procurement_expected)(overrides, day)
    for name, value in want.items():
        assert_close(name, read_named(src, out, name), value)


@pytest.mark.parametrize("key", ALL_SCENARIOS)
def test_no_cell_computes_to_an_error(recalculated, key):
    _, _, src, out, _ = recalculated[key]
    bad = []
    formulas = 0
    for ws in src.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    formulas += 1
                    got = out[ws.title][c.coordinate]
                    if got.data_type == "e" or (isinstance(got.value, str)
                                                and got.value.startswith(ERRORS)):
                        bad.append(f"{ws.title}!{c.coordinate} {c.value} -> {got.value}")
    assert formulas > 100
    assert not bad, bad


def test_every_result_cell_is_compared(recalculated):
    """The reference model covers every named result of both workbooks."""
    for key, want_fn in (("budget_default", budget_expected),
                         ("procurement_default", procurement_expected)):
        _, _, src, _, _ = recalculated[key]
        want = want_fn({})
        untested = []
        for name in src.defined_names:
            sheet, coord = name_ref(src, name)
            cell = src[sheet][coord.split(":")[0]]
            if sheet in ("GPUs", "Models", "Example prices", "Lists") or name in want \
                    or f"{name}_Override" in src.defined_names:
                continue  # an input's value used is checked by test_fast_input_pattern
            if cell.data_type == "f" and cell.style != "Input":
                untested.append(name)
        allowed = {"SelectedVendor", "ScheduleEnergyTotalUSD", "ScheduleCheck"}
        assert set(untested) <= allowed, untested


@pytest.mark.parametrize("key", ALL_SCENARIOS)
def test_fast_input_pattern(recalculated, key):
    """Every input with a default: the default cell is a locked formula or value, the override
    cell is the only input-styled cell and blank unless the scenario typed it, and the value
    used equals the override when typed, else the default (clearing restores the default)."""
    kind, overrides, src, out, _ = recalculated[key]
    checked = 0
    for name in src.defined_names:
        if not name.endswith("_Override"):
            continue
        base = name[:-len("_Override")]
        sheet, ocoord = name_ref(src, name)
        _, ucoord = name_ref(src, base)
        if ":" in ocoord:  # the quote rows: EXAMPLE row, override row, row used
            assert all(c.style == "Input" for row_ in src[sheet][ocoord] for c in row_)
            continue
        ws, row = src[sheet], int(ocoord[1:])
        assert ws[ocoord].style == "Input", name
        assert ws[ucoord].style != "Input" and ws[ucoord].data_type == "f", base
        assert ws[f"D{row}"].style != "Input", base
        typed = ws[ocoord].value
        assert (typed is None) == (base not in overrides), (base, typed)
        used = out[sheet][ucoord].value
        want = out[sheet][ocoord].value if typed is not None else out[sheet][f"D{row}"].value
        assert _plain(used) == _plain(want), (base, used, want)
        checked += 1
    assert checked >= 15


def test_seed_article_gpt3_plan_reproduced(recalculated):
    """GPT-3 on 1024 A100 at 45% of 312 TFLOPS: 33.8 days (seed articles 002/003)."""
    _, _, src, out, _ = recalculated["budget_gpt3"]
    assert read_named(src, out, "TrainingDays") == pytest.approx(33.81, abs=0.01)
    assert read_named(src, out, "ActiveParams") == 175e9  # typing over Params flows through


def test_changing_a_named_input_flows_through(recalculated):
    _, _, src0, out0, _ = recalculated["budget_default"]
    _, _, src1, out1, _ = recalculated["budget_custom"]
    for name in ("TrainingDays", "GPUHours", "TrainingCostUSD", "GPUsForMemory"):
        assert read_named(src0, out0, name) != read_named(src1, out1, name), name
    _, _, src, out, _ = recalculated["budget_moe_deadline"]
    # Planning by deadline: the GPUs used are the GPUs needed, and the deadline is met.
    assert read_named(src, out, "NumGPUs") == read_named(src, out, "GPUsForDeadline")
    assert read_named(src, out, "TrainingDays") <= 12


def test_catalog_text_stays_text_after_recalculation(lo_profile, tmp_path):
    """A catalog note or name that starts with '=' is written and computed as text."""
    gpus = dict(catalog.gpu_catalog())
    h100 = gpus["h100-sxm"]
    gpus["h100-sxm"] = h100.model_copy(update={"notes": "=1+1", "name": "=SUM(A1:A3)"})
    wb = build_budget_planner(gpus=gpus, built=BUILT)
    ws = wb["GPUs"]
    cells = [c for row in ws.iter_rows() for c in row if str(c.value) in ("=1+1", "=SUM(A1:A3)")]
    assert len(cells) == 2 and all(c.data_type == "s" for c in cells)
    path = tmp_path / "formula_text.xlsx"
    save_workbook(wb, path)
    (out,) = lo.recalc([path], tmp_path / "out", lo_profile)
    got = load_workbook(out, data_only=True)["GPUs"]
    assert {got[c.coordinate].value for c in cells} == {"=1+1", "=SUM(A1:A3)"}


# -------------------------------------------------------------------------- PDF and PNG

def test_pdf_and_png_export(lo_profile, tmp_path):
    """Both shipped workbooks print to PDF (charts included, no '###' overflow) and render to
    PNG."""
    import build

    paths = build.write_workbooks(tmp_path)
    pdfs = lo.to_pdf(paths, tmp_path / "pdf", lo_profile)
    for pdf in pdfs:
        pages = lo.pdf_pages_text(pdf)
        text = "\f".join(pages)
        assert "###" not in text, f"a column is too narrow in {pdf.name}"
        assert "Err:" not in text and "#VALUE!" not in text and "#NAME?" not in text
        for stem, marker, _ in lo.DOC_PAGES:
            if stem == pdf.stem:
                found = lo.find_pages(pdf, marker)
                assert found, f"{pdf.name} has no page showing {marker!r}"
                (png,) = lo.pdf_to_png(pdf, tmp_path / f"{stem}-page", found[:1], dpi=60)
                assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
                assert png.stat().st_size > 20_000, png
    budget_text = "\f".join(lo.pdf_pages_text(pdfs[0]))
    for title in ("Training days vs GPU count", "Cost vs GPU count", "Memory per GPU (GB)"):
        assert title in budget_text, f"chart '{title}' missing from the PDF"


# ------------------------------------------------------------------- structure (no engine)

@pytest.fixture(scope="module")
def workbooks():
    return {"budget": build_budget_planner(built=BUILT),
            "procurement": build_procurement_planner(built=BUILT)}


REQUIRED_NAMES = {
    "budget": {"Params", "Tokens", "NumGPUs", "PeakTFLOPS", "MFU", "PricePerGPUHour",
               "TrainingDays", "GPUHours", "TrainingCostUSD"},
    "procurement": {"GPUsRequired", "Servers", "CapexUSD"},
}
_FUNC = re.compile(r"([A-Z][A-Z0-9._]*)\(")


@pytest.mark.parametrize("kind", ["budget", "procurement"])
def test_required_names_point_to_single_cells(workbooks, kind):
    wb = workbooks[kind]
    for name in REQUIRED_NAMES[kind]:
        assert name in wb.defined_names, name
        sheet, coord = name_ref(wb, name)
        assert ":" not in coord and sheet in wb.sheetnames


@pytest.mark.parametrize("kind", ["budget", "procurement"])
def test_formulas_are_excel_2010_and_libreoffice_74(workbooks, kind):
    count = 0
    for ws in workbooks[kind].worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type != "f":
                    continue
                count += 1
                validate(c.value)
                for fn in _FUNC.findall(c.value):
                    assert fn in FORMULAE or fn.startswith("_xlfn."), (ws.title, c.value, fn)
                    assert fn not in ("XLOOKUP", "LET", "FILTER", "SEQUENCE", "UNIQUE")
    assert count > 100


@pytest.mark.parametrize("kind", ["budget", "procurement"])
def test_inputs_are_visible_validated_and_unlocked(workbooks, kind):
    wb = workbooks[kind]
    for ws in wb.worksheets:
        covered = set()
        for dv in ws.data_validations.dataValidation:
            assert dv.prompt and dv.error and dv.showErrorMessage, (ws.title, dv.sqref)
            for rng in dv.sqref.ranges:
                for row in ws[rng.coord] if ":" in rng.coord else [[ws[rng.coord]]]:
                    covered.update(c.coordinate for c in row)
        for row in ws.iter_rows():
            for c in row:
                if c.style == "Input":
                    assert c.coordinate in covered, f"{ws.title}!{c.coordinate} has no validation"
                    assert c.protection.locked is False
                elif c.data_type == "f":
                    assert c.protection.locked is not False
        if ws.sheet_state == "visible":
            assert ws.protection.sheet and not ws.protection.password, ws.title
            assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    for ws_title in (("Inputs", "Results") if kind == "budget" else ("Requirement",)):
        assert wb[ws_title].freeze_panes, ws_title


@pytest.mark.parametrize("kind", ["budget", "procurement"])
def test_dropdowns_offer_the_catalog_ids(workbooks, kind):
    wb = workbooks[kind]
    sheet, coord = name_ref(wb, "GPU_Ids")
    ids = [r[0].value for r in wb[sheet][coord]]
    assert ids == catalog.gpu_ids()
    sheet, coord = name_ref(wb, "Model_Ids")
    assert [r[0].value for r in wb[sheet][coord]] == catalog.model_ids()
    sources = {dv.formula1 for ws in wb.worksheets for dv in ws.data_validations.dataValidation}
    assert "GPU_Ids" in sources
    assert ("ModelChoices" if kind == "budget" else "Model_Ids") in sources
    # Stored as Excel stores them: no leading '=' in a validation formula.
    assert not any(str(f).startswith("=") for f in sources)
    # Each catalog row keeps its source and retrieval date.
    gws = wb["GPUs"]
    heads = [c.value for c in gws[3]]
    src_col, date_col = heads.index("Source") + 1, heads.index("Retrieved") + 1
    for i, g in enumerate(catalog.gpu_catalog().values()):
        assert gws.cell(row=4 + i, column=src_col).value == g.source
        assert gws.cell(row=4 + i, column=date_col).value == g.retrieved


@pytest.mark.parametrize("kind", ["budget", "procurement"])
def test_example_prices_are_labelled_as_examples(workbooks, kind):
    wb = workbooks[kind]
    assert "NOT quotes" in wb["Example prices"]["A1"].value
    assert "EXAMPLES" in wb["GPUs"]["A2"].value
    rows = list(wb["Example prices"].iter_rows(min_row=4, values_only=True))
    assert len(rows) == len(catalog.gpu_prices())
    assert all(r[6] and r[8] and r[7] for r in rows)  # date, source, confidence


def test_extra_sheet_builders_read_the_named_inputs():
    seen = {}

    def add(wb, names):
        seen.update(names)
        ws = wb.create_sheet("Extra")
        ws["A1"] = "=NumGPUs*2"

    wb = build_budget_planner(built=BUILT, extra_sheets=[add])
    assert {"Params", "MFU", "TrainingDays", "GPUHours"} <= set(seen)
    assert wb.sheetnames.index("Extra") < wb.sheetnames.index("GPUs")
    assert wb.sheetnames[-1] == "Lists"


def test_build_writes_both_workbooks(tmp_path):
    import build

    written = build.write_workbooks(tmp_path)
    assert [p.name for p in written] == ["llm_budget_planner.xlsx", "llm_procurement_planner.xlsx"]
    for p in written:
        wb = load_workbook(p)
        assert wb.sheetnames[0] == "Start here"


def test_saving_over_a_folder_names_the_file(tmp_path):
    target = tmp_path / "llm_budget_planner.xlsx"
    target.mkdir()
    with pytest.raises(OutputError, match="llm_budget_planner.xlsx"):
        save_workbook(build_budget_planner(built=BUILT), target)

