"""The budget planner: how long an LLM training run takes, on how many GPUs, and what it costs.

``build_budget_planner()`` returns an openpyxl ``Workbook`` whose every computed cell is a
native Excel formula (Excel 2010+, LibreOffice 7.4+; no add-in). Sheets: Start here,
Inputs, Results, Sensitivity, Charts, then the catalogs (GPUs, Models, Example prices)
and a hidden Lists sheet for the dropdowns.

The formulas mirror the core exactly (and the tests hold them to it):

* ``TrainingDays = k * ActiveParams * Tokens / (NumGPUs * PeakTFLOPS * 1E12 * MFU) / 86400``
  (``TRAIN_DAYS``, k = ``FlopsPerParamToken``, 8 with recomputation, 6 without);
* ``GPUHours = TrainingDays * 24 * NumGPUs``; ``TrainingCostUSD = GPUHours * PricePerGPUHour``;
* ``GPUsForDeadline`` = ``GPU_COUNT_TIME`` and ``GPUsForMemory`` = ``GPU_COUNT_MEM`` (whole GPUs,
  rounded up the way the core rounds: ``ROUNDUP(x * (1 - 1E-12) - 1E-9, 0)``);
* ``TrainStateGB`` = ``TRAIN_MEM_GB(Params, weights + gradients + optimizer bytes)``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Callable, Iterable, Mapping, Sequence

from openpyxl.chart import BarChart, Reference, ScatterChart, Series
from openpyxl.workbook import Workbook
from openpyxl.worksheet.pagebreak import Break

from llm_budget_planner.formulas.assumptions import assumption
from llm_budget_planner.formulas.catalog import (GpuPrice, GpuSpec, ModelSpec, gpu_catalog,
                                                 gpu_prices, model_catalog)

from .catalog_sheets import (CUSTOM_MODEL, write_gpu_sheet, write_lists_sheet, write_model_sheet,
                             write_price_sheet)
from .defaults import default
from .guide import write_guide
from .sheets import (Form, Rule, define_name, finish_planner, finish_sheet, header_row,
                     not_usable, put_text, sheet_heading)
from .styles import register_styles, style

__all__ = ["build_budget_planner", "SheetBuilder", "DEFAULT_MODEL", "DEFAULT_GPU",
           "SENSITIVITY_MFU", "SENSITIVITY_GPU_FACTORS", "SENSITIVITY_PRICE_FACTORS",
           "TORNADO_SWING", "TORNADO_INPUTS", "INPUT_PROBLEMS", "verdict", "CHART_GPU_FACTORS",
           "SCHEDULE_MONTHS",
           "excel_serial", "first_of_next_month"]

#: A later module's sheet: called with the workbook and ``{name: description}`` of every
#: named input and result, after the planner's own sheets exist.
SheetBuilder = Callable[[Workbook, Mapping[str, str]], None]

DEFAULT_MODEL = "llama-3-70b"
DEFAULT_GPU = "h100-sxm"
DEFAULT_GPU_COUNT = 1024
DEFAULT_DEADLINE_DAYS = 30
SENSITIVITY_MFU = (0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.55)
SENSITIVITY_GPU_FACTORS = (0.25, 0.5, 1, 2, 4)
SENSITIVITY_PRICE_FACTORS = (0.5, 0.75, 1, 1.25, 1.5)
TORNADO_SWING = 0.2
#: Tornado rows: (input key, label, low value, high value); {x} is the input, {f} the factor.
#: Goodput cannot exceed 1; GPUs stay whole. Ordered by the swing at the defaults.
TORNADO_INPUTS = (
    ("MFU", "FLOPs utilisation", "{x}*{f}", "MIN(1,{x}*{f})"),
    ("Goodput", "Goodput", "{x}*{f}", "MIN(1,{x}*{f})"),
    ("Rent", "Rent per GPU-hour", "{x}*{f}", "{x}*{f}"),
    ("Tokens", "Training tokens", "{x}*{f}", "{x}*{f}"),
    ("GPUs", "GPUs", "MAX(1,ROUND({x}*{f},0))", "MAX(1,ROUND({x}*{f},0))"),
)
CHART_GPU_FACTORS = (0.125, 0.25, 0.5, 1, 2, 4, 8)
SCHEDULE_MONTHS = 30  #: rows of the spend schedule (days, weeks or months): one printed page
PRECISIONS = ("bf16", "fp8")
N_CHECKS = 8  #: lines of the Results sheet's checks list
_EPOCH = _dt.date(1899, 12, 30)


def excel_serial(day: _dt.date) -> int:
    """Excel's serial number of a date (1900 date system)."""
    return (day - _EPOCH).days


def first_of_next_month(day: _dt.date) -> _dt.date:
    """The first day of the month after ``day``."""
    return _dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _lookup(column: str, key: str = "GPU", ids: str = "GPU_Ids") -> str:
    return f"INDEX({column},MATCH({key},{ids},0))"


def _roundup_count(expr: str) -> str:
    """Whole GPUs, rounded up exactly as formulas.training.round_up_count does."""
    return f"ROUNDUP(({expr})*(1-1E-12)-1E-9,0)"


#: Wall-clock training days for a GPU count and utilisation given as cell references.
def _days(n: str, mfu: str, goodput: str = "Goodput") -> str:
    """Wall-clock days: TRAIN_DAYS / goodput."""
    return (f"FlopsPerParamToken*ActiveParams*Tokens/({n}*(PeakTFLOPS*1E12*{mfu}))/86400"
            f"/{goodput}")


def _guard(expr: str) -> str:
    """A result that needs usable inputs: the formula, or a pointer to the input to fix."""
    return f"=IF(InputProblem=\"\",{expr},\"Fix input (see Checks)\")"


def _incomplete(price: str, what: str, unit: str = "$") -> str:
    """A unit cell that marks a total as incomplete while ``price`` is missing."""
    return f"=IF({price}>0,\"{unit}\",\"{unit} INCOMPLETE\")"


def verdict(rent_total: str, own_total: str, rent_word: str, own_word: str) -> str:
    """Which is cheaper, or which price is missing (in words), or the input to fix."""
    return (f"IF(InputProblem<>\"\",\"Fix input (see Checks)\",IF(NOT(PricePerGPUHour>0),"
            "\"No verdict: the cloud price per GPU-hour is missing (Inputs > Cloud)\","
            "IF(NOT(UnitPricePerGPU>0),\"No verdict: the purchase price per GPU is missing "
            f"(Inputs > On-premises)\",IF({rent_total}<={own_total},\"{rent_word}\","
            f"\"{own_word}\"))))")


#: Inputs a result needs, in the order they are reported: (Excel test, what to fix). The
#: first nine are those of GPUsForDeadline, which NumGPUs follows when planning by deadline.
INPUT_PROBLEMS = (
    (not_usable("Params"), "Fix Inputs > Parameters: a positive count is needed."),
    (not_usable("ActiveParams"), "Fix Inputs > Active parameters per token: a positive count is needed."),
    (not_usable("Tokens"), "Fix Inputs > Training tokens: a positive count is needed."),
    (not_usable("FlopsPerParamToken"), "Fix Inputs > FLOPs per parameter per token: 8 or 6."),
    (not_usable("MFU", high="1"), "Fix Inputs > FLOPs utilisation: a fraction above 0 and at most 1 "
     "(0.40 for 40%)."),
    (not_usable("Goodput", high="1"), "Fix Inputs > Goodput: a fraction above 0 and at most 1."),
    (not_usable("PeakTFLOPS"), "Fix Inputs > Peak dense TFLOPS per GPU: none for this GPU at this "
     "precision; type the peak or pick bf16."),
    (not_usable("GPUMemoryGB"), "Fix Inputs > Memory per GPU: a positive number of GB is needed."),
    (not_usable("DeadlineDays"), "Fix Inputs > Deadline: a positive number of days is needed."),
    (not_usable("NumGPUs", "1", strict=False), "Fix Inputs > GPU count (GPUs used for the plan): at "
     "least 1 GPU is needed."),
    (not_usable("PricePerGPUHour", strict=False), "Fix Inputs > Cloud price per GPU-hour: it is "
     "negative."),
    (not_usable("Share1Y+Share3Y+ShareSpot", strict=False, high="1"), "Fix Inputs > shares of "
     "committed and spot hours: each at least 0, together at most 1."),
    (not_usable("UnitPricePerGPU", strict=False), "Fix Inputs > Purchase price per GPU: it is "
     "negative."),
    (not_usable("ServerCostUSD", strict=False), "Fix Inputs > Server cost excluding GPUs: it is "
     "negative."),
    (not_usable("GPUsPerServer", "1", strict=False), "Fix Inputs > GPUs per server: at least 1."),
    (not_usable("AmortisationYears"), "Fix Inputs > Useful life: a positive number of years."),
    (not_usable("OwnedUtilisation", high="1"), "Fix Inputs > Utilisation of the owned cluster: a "
     "fraction above 0 and at most 1."),
    (not_usable("CostOfCapital", strict=False), "Fix Inputs > Cost of capital: it is negative."),
    (not_usable("ResidualValue", strict=False, high="1"), "Fix Inputs > Residual value: a fraction "
     "from 0 to 1."),
)


def _inputs_sheet(wb: Workbook, start: _dt.date) -> Form:
    ws = wb.create_sheet("Inputs")
    put_text(ws["A1"], "Inputs: the only cells you type into (blue on yellow)")
    style(ws["A1"], "title")
    style(ws["A2"], "note")
    ws.merge_cells("A2:F2")
    ws.row_dimensions[2].height = 45
    f = Form(wb, ws, row=4)
    f.header()
    d = default

    f.section("Model")
    f.input("Model", "Model", DEFAULT_MODEL, "catalog id", "text",
            Rule("list", "Pick a model id from the Models sheet, or 'custom' to use the layers, "
                 "hidden size and vocabulary below.", "Pick an id from the list.",
                 source="=ModelChoices"),
            "Dropdown: the Models sheet lists each model's dimensions and source.")
    f.input("CustomLayers", "Custom model: layers L", 80, "layers", "count",
            Rule("whole", "Transformer layers, e.g. 80. Used only when Model is 'custom'.",
                 "Enter a whole number of layers between 1 and 1000.", 1, 1000),
            "Used only when Model is 'custom': P = L(12h²+13h)+V·h (GPT-style, seed article 003).")
    f.input("CustomHidden", "Custom model: hidden size h", 8192, "width", "count",
            Rule("whole", "Hidden size (model dimension), e.g. 8192.",
                 "Enter a whole number between 64 and 1,000,000.", 64, 1000000),
            "Used only when Model is 'custom'.")
    f.input("CustomVocab", "Custom model: vocabulary V", 128256, "tokens", "count",
            Rule("whole", "Vocabulary size in tokens, e.g. 128256.",
                 "Enter a whole number between 1 and 10,000,000.", 1, 10000000),
            "Used only when Model is 'custom'.")
    f.input("Params", "Parameters (total)", None, "raw count", "count_b",
            Rule("decimal", "Total parameters as a raw count: 70E9 for 70B (not 70).",
                 "Enter a raw parameter count between 1E6 and 1E15: 70E9 for 70B.", 1e6, 1e15),
            "Catalog count (published or derived, see Models), or the GPT-style formula for "
            "'custom'. Drives memory and the Chinchilla token count.",
            default_formula=f"=IF(Model=\"{CUSTOM_MODEL}\",CustomLayers*(12*CustomHidden^2+"
                            "13*CustomHidden)+CustomVocab*CustomHidden,"
                            + _lookup("Model_Params", "Model", "Model_Ids") + ")")
    f.input("ActiveParams", "Active parameters per token", None, "raw count", "count_b",
            Rule("decimal", "Parameters used per token as a raw count (mixture-of-experts: the "
                 "routed experts only). Equal to the total for dense models.",
                 "Enter a raw count between 1E6 and 1E15.", 1e6, 1e15),
            "Drives compute: the catalog's active/total ratio times Parameters "
            "(1 for dense models).",
            default_formula=f"=IF(Model=\"{CUSTOM_MODEL}\",Params,Params*"
                            + _lookup("Model_Active", "Model", "Model_Ids") + "/"
                            + _lookup("Model_Params", "Model", "Model_Ids") + ")")

    f.section("Training data")
    tpp = d("tokens_per_param")
    f.input("TokensPerParam", "Chinchilla tokens per parameter", tpp.value, tpp.unit, "decimal",
            Rule("decimal", "Tokens per parameter for compute-optimal training: 20 (Chinchilla).",
                 "Enter a number between 0.1 and 10,000.", 0.1, 10000), tpp.source)
    f.input("Tokens", "Training tokens", None, "raw count", "count_b",
            Rule("decimal", "Training tokens as a raw count: 2E12 for 2T. By default the "
                 "Chinchilla-optimal count (tokens per parameter x parameters).",
                 "Enter a raw token count between 1E6 and 1E16: 2E12 for 2T.", 1e6, 1e16),
            "Chinchilla-optimal by default (= tokens per parameter x Parameters); type your "
            "own count, e.g. 15E12, to override.",
            default_formula="=TokensPerParam*Params")

    f.section("Training setup")
    k8, k6 = d("flops_per_param_token_recompute"), d("flops_per_param_token_plain")
    f.input("Recompute", "Activation recomputation", "On", "On / Off", "text",
            Rule("list", "On: 8 FLOPs per parameter per token (one extra forward pass); Off: 6.",
                 "Pick On or Off.", source="=OnOffChoices"),
            f"On: {k8.source}. Off: {k6.source}.")
    f.input("FlopsPerParamToken", "FLOPs per parameter per token", None, "FLOPs", "decimal",
            Rule("decimal", "FLOPs per parameter per token: 8 with recomputation, 6 without.",
                 "Enter a number between 1 and 20.", 1, 20),
            "Follows the recomputation switch; type another value (e.g. 7 for selective "
            "recomputation) to override.",
            default_formula=f"=IF(Recompute=\"On\",{k8.value:g},{k6.value:g})")
    mfu = d("mfu")
    f.input("MFU", "FLOPs utilisation (k-FLOPs basis)", mfu.value,
            "fraction", "pct",
            Rule("decimal", "Achieved fraction of the GPU's dense peak, counting the k FLOPs "
                 "per parameter per token above: 0.40 for 40%.", "Enter a fraction between "
                 "0.01 and 1 (0.40 for 40%).", 0.01, 1),
            "One convention: days = k·P·T / (N · peak · this fraction), so with k = 8 it counts "
            "the recomputed forward pass (hardware FLOPs). A model-FLOPs MFU (6·P·T, as "
            "published and as on the Parallel plan sheet) converts as MFU x 6 / k; the Parallel "
            "plan sheet shows the value to type. " + mfu.source)
    f.input("Goodput", "Goodput (share of time training)", assumption("goodput"),
            "fraction", "pct",
            Rule("decimal", "Share of wall-clock time that trains, e.g. 0.9.",
                 "Enter a fraction between 0.01 and 1.", 0.01, 1),
            "Llama 3 (arXiv 2407.21783 §3.3.4): more than 90% effective training time on 16K "
            "GPUs. Every sheet and TRAIN_COST_USD pay the GPUs for the wall-clock time: "
            "days = productive days / goodput.")
    f.input("Precision", "Training precision", "bf16", "bf16 / fp8", "text",
            Rule("list", "bf16: the GPU's dense BF16 peak; fp8: its dense FP8 peak.",
                 "Pick bf16 or fp8.", source="=PrecisionChoices"),
            "Chooses the peak TFLOPS below (GPUs sheet columns). FP8 training (e.g. DeepSeek-V3) "
            "still keeps bf16/fp32 master weights: the memory section is unchanged.")

    f.section("GPUs")
    f.input("GPU", "GPU type", DEFAULT_GPU, "catalog id", "text",
            Rule("list", "Pick a GPU id from the GPUs sheet.", "Pick an id from the list.",
                 source="=GPU_Ids"), "Dropdown: the GPUs sheet lists specs and sources.")
    f.input("PeakTFLOPS", "Peak dense TFLOPS per GPU", None, "TFLOPS", "tflops",
            Rule("decimal", "Dense (not sparsity) peak TFLOPS per GPU, e.g. 989.4 for H100 SXM "
                 "BF16.", "Enter TFLOPS per GPU between 1 and 100,000.", 1, 100000),
            "Catalog dense peak at the training precision (BF16 or FP8 column of the GPUs "
            "sheet; 0 where the catalog has no FP8 figure).",
            default_formula="=IF(Precision=\"fp8\",0+" + _lookup("GPU_TFLOPS_FP8") + ","
                            + _lookup("GPU_TFLOPS") + ")")
    f.input("GPUMemoryGB", "Memory per GPU", None, "GB", "gb",
            Rule("decimal", "Device memory per GPU in GB (1E9 bytes), e.g. 80.",
                 "Enter GB between 1 and 10,000.", 1, 10000),
            "Catalog memory of the GPU.", default_formula="=" + _lookup("GPU_MemoryGB"))
    f.input("PlanBy", "Plan by", "GPU count", "choice", "text",
            Rule("list", "'GPU count': use the GPU count below. 'Deadline': use the GPUs needed "
                 "to finish within the deadline.", "Pick GPU count or Deadline.",
                 source="=PlanByChoices"), "Choose what you fix: the cluster size or the end date.")
    f.input("GPUCount", "GPU count", DEFAULT_GPU_COUNT, "GPUs", "count",
            Rule("whole", "Number of GPUs in the training cluster, e.g. 1024.",
                 "Enter a whole number of GPUs between 1 and 10,000,000.", 1, 10000000),
            "Used when Plan by is 'GPU count'.")
    f.input("DeadlineDays", "Deadline", DEFAULT_DEADLINE_DAYS, "days", "days",
            Rule("decimal", "Wall-clock days the training may take, e.g. 30.",
                 "Enter days between 0.1 and 3650.", 0.1, 3650),
            "Used when Plan by is 'Deadline', and for the deadline check.")
    f.input("NumGPUs", "GPUs used for the plan", None, "GPUs", "count",
            Rule("whole", "GPUs the plan uses. By default the GPU count, or the GPUs needed for "
                 "the deadline.", "Enter a whole number of GPUs between 1 and 10,000,000.",
                 1, 10000000),
            "Follows Plan by; every result uses this cell.",
            default_formula="=IF(PlanBy=\"Deadline\",GPUsForDeadline,GPUCount)")
    f.input("StartDate", "Training start date", excel_serial(start), "date", "date",
            Rule("date", "First day of training (for the monthly spend schedule), e.g. "
                 f"{start.isoformat()}.", "Enter a date between 2000-01-01 and 2100-12-31.",
                 excel_serial(_dt.date(2000, 1, 1)), excel_serial(_dt.date(2100, 12, 31))),
            "Monthly schedule on the Sensitivity sheet starts here.")

    f.section("Memory per parameter (training state)")
    for name, key, label in (("BytesWeights", "bytes_weights", "Weights"),
                             ("BytesGradients", "bytes_gradients", "Gradients"),
                             ("BytesOptimizer", "bytes_optimizer", "Optimizer state")):
        item = d(key)
        f.input(name, f"{label}", item.value, "bytes per parameter", "decimal",
                Rule("decimal", f"{label}: bytes per parameter, e.g. {item.value:g}.",
                     "Enter bytes per parameter between 0 and 100.", 0, 100), item.source)
    af = d("activation_factor")
    f.input("ActivationFactor", "Activation and overhead factor", af.value, "multiplier", "decimal",
            Rule("decimal", "Multiplier on the training state for activations and buffers: 1.25.",
                 "Enter a multiplier between 1 and 10.", 1, 10), af.source)

    f.section("Cloud")
    f.input("PricePerGPUHour", "Cloud price per GPU-hour", None, "$ per GPU-hour", "usd_cents",
            Rule("decimal", "Your cloud price in US dollars per GPU-hour, e.g. 2.50.",
                 "Enter dollars per GPU-hour between 0 and 1000.", 0, 1000),
            "On-demand EXAMPLE price from the GPUs sheet (median of dated public prices, NOT a "
            "quote): type your negotiated rate. Blank in the catalog = not priced.",
            default_formula="=0+" + _lookup("GPU_CloudPrice"))
    for name, key, label in (("Discount1Y", "discount_1y", "Discount, 1-year commitment"),
                             ("Discount3Y", "discount_3y", "Discount, 3-year commitment"),
                             ("DiscountSpot", "discount_spot", "Discount, spot")):
        item = d(key)
        f.input(name, label, item.value, "fraction off on-demand", "pct",
                Rule("decimal", f"{label} as a fraction off the on-demand price: "
                     f"{item.value:g} for {item.value:.0%}.", "Enter a fraction between 0 and "
                     "0.99.", 0, 0.99), item.source)
    for name, label, value in (("Share1Y", "Share of hours on a 1-year commitment", 0),
                               ("Share3Y", "Share of hours on a 3-year commitment", 0),
                               ("ShareSpot", "Share of hours on spot", 0)):
        f.input(name, label, value, "fraction", "pct",
                Rule("decimal", f"{label}: 0.5 for half of the hours.",
                     "Enter a fraction between 0 and 1.", 0, 1),
                "Assumption: all hours on demand by default; the rest of the hours (1 - the "
                "three shares) pay the on-demand price.")

    f.section("On-premises")
    f.input("UnitPricePerGPU", "Purchase price per GPU", None, "$ per GPU", "usd",
            Rule("decimal", "Price of one GPU in US dollars, e.g. 27500.",
                 "Enter dollars per GPU between 0 and 10,000,000.", 0, 10000000),
            "EXAMPLE price from the GPUs sheet (GPU only, NOT a quote): type your quote.",
            default_formula="=0+" + _lookup("GPU_PurchasePrice"))
    gps = d("gpus_per_server")
    f.input("GPUsPerServer", "GPUs per server", gps.value, "GPUs", "count",
            Rule("whole", "GPUs in one server, e.g. 8.", "Enter a whole number between 1 and 64.",
                 1, 64), gps.source)
    sc = d("server_cost_usd")
    f.input("ServerCostUSD", "Server cost excluding GPUs", sc.value, "$ per server", "usd",
            Rule("decimal", "Chassis, CPUs, memory, NICs of one server in US dollars (GPUs "
                 "excluded).", "Enter dollars between 0 and 100,000,000.", 0, 100000000),
            sc.source)
    f.input("GPUPowerW", "Power per GPU", None, "W", "count",
            Rule("decimal", "Power drawn per GPU in watts, e.g. 700 (TDP).",
                 "Enter watts between 0 and 100,000.", 0, 100000),
            "Catalog TDP (board power at full load); type a value where none is published.",
            default_formula="=0+" + _lookup("GPU_TDP"))
    sp = d("server_power_w")
    f.input("ServerPowerW", "Server power excluding GPUs", sp.value, "W per server", "count",
            Rule("decimal", "Watts per server for CPUs, memory, NICs and fans, e.g. 4600.",
                 "Enter watts between 0 and 1,000,000.", 0, 1000000), sp.source)
    pue = d("pue")
    f.input("PUE", "Power usage effectiveness (PUE)", pue.value, "ratio", "decimal",
            Rule("decimal", "Facility power / IT power, e.g. 1.58 (industry average), 1.1 for "
                 "a hyperscale site.", "Enter a ratio between 1 and 5.", 1, 5), pue.source)
    el = d("electricity_usd_per_kwh")
    f.input("ElectricityUSDPerKWh", "Electricity price", el.value, "$ per kWh", "usd_cents",
            Rule("decimal", "Electricity in US dollars per kWh, e.g. 0.08.",
                 "Enter dollars per kWh between 0 and 10.", 0, 10), el.source)
    am = d("amortisation_years")
    f.input("AmortisationYears", "Useful life (straight-line depreciation)", am.value, "years",
            "decimal",
            Rule("decimal", "Years over which the hardware is written off, e.g. 5.",
                 "Enter years between 0.5 and 30.", 0.5, 30), am.source)
    for name, key, label, unit, fmt, low, high in (
            ("CostOfCapital", "cost_of_capital", "Cost of capital (discount rate)",
             "fraction per year", "pct", 0, 1),
            ("ResidualValue", "residual_value", "Residual value at the end of the life",
             "fraction of price", "pct", 0, 1),
            ("OwnedUtilisation", "owned_utilisation", "Utilisation of the owned cluster",
             "fraction of hours", "pct", 0.01, 1),
            ("ColocationUSDPerKWMonth", "colocation_usd_per_kw_month", "Colocation (space and "
             "power capacity)", "$ per kW-month", "usd", 0, 100000)):
        item = d(key)
        f.input(name, label, item.value, unit, fmt,
                Rule("decimal", f"{label}, e.g. {item.value:g} ({unit}).",
                     f"Enter a number between {low:g} and {high:,}.", low, high), item.source)
    put_text(ws["A2"], "Pick a model and a GPU in the yellow column E, then check the defaults. "
             "Column D is the default (a catalog look-up or a sourced EXAMPLE value, locked); "
             "column E (yellow, blank) takes your value; column B is the value every sheet uses. "
             "Clear a yellow cell to return to the default. Units are in column C; every default "
             "states its source in column F.")
    finish_sheet(ws, {"A": 38, "B": 16, "C": 24, "D": 16, "E": 16, "F": 72}, freeze="A5")
    return f


def _results_sheet(wb: Workbook) -> Form:
    ws = wb.create_sheet("Results")
    sheet_heading(ws, "Results: training time, GPUs, memory and cost",
                  "Every cell is a formula over the Inputs sheet. Bold blue rows are the headline "
                  "results (workbook names in brackets can be used in your own formulas).",
                  "D")
    f = Form(wb, ws, row=4, with_default=False, note_width=80)
    f.header(("Result", "Value", "Unit", "Formula / source"))
    k6 = default("flops_per_param_token_plain").value

    f.section("Status")
    status = f.result("CheckSummary", "Checks", "=\"\"", "", "text",
                      "Warnings are listed just below (empty lines: nothing to fix).", key=True)
    f.section("Checks (a blank line is a check that passed)")
    checks_first = f.row
    f.row += N_CHECKS
    f.section("Model and data")
    f.result(None, "Parameters (total)", "=Params", "raw count", "count_b", "Inputs: Params.")
    f.result(None, "Active parameters per token", "=ActiveParams", "raw count", "count_b",
             "Inputs: ActiveParams (compute uses these).")
    f.result(None, "Training tokens", "=Tokens", "raw count", "count_b", "Inputs: Tokens.")
    f.result("TokensPerParamActual", "Tokens per parameter", "=Tokens/Params", "ratio", "decimal",
             "Chinchilla-optimal is about 20 (Hoffmann et al. 2022).")

    f.section("Compute and time")
    f.result("TrainingFLOPs", "Training compute (model FLOPs)", f"={k6:g}*ActiveParams*Tokens",
             "FLOPs", "flops", "6·P·T (Kaplan et al. 2020 §2.1); = TRAIN_FLOPS(P,T).", key=True)
    f.result("ExecutedFLOPs", "Compute executed incl. recomputation",
             "=FlopsPerParamToken*ActiveParams*Tokens", "FLOPs", "flops",
             "k·P·T, k = FLOPs per parameter per token (8 with recomputation, Narayanan et al. "
             "2021 eq. 4).")
    f.result("AchievedTFLOPS", "Achieved TFLOPS per GPU", "=PeakTFLOPS*MFU", "TFLOPS", "tflops",
             "Peak x utilisation.")
    f.result(None, "GPUs used for the plan", "=NumGPUs", "GPUs", "count", "Inputs: NumGPUs.")
    f.result("TrainingDays", "Training time (wall clock)", _guard(_days("NumGPUs", "MFU")), "days",
             "days", "k·P·T / (N · TFLOPS · 1E12 · utilisation) / 86400 / goodput = TRAIN_DAYS / "
             "goodput (Narayanan et al. 2021; Llama 3 goodput).", key=True)
    f.result("GPUHours", "GPU-hours paid", _guard("TrainingDays*24*NumGPUs"), "GPU-hours",
             "hours", "Wall-clock days x 24 x GPUs = GPU_HOURS / goodput: the GPUs are paid while "
             "they recover from interruptions.", key=True)
    f.result("GPUsForDeadline", "GPUs needed for the deadline",
             "=IF(OR(" + ",".join(bad for bad, _ in INPUT_PROBLEMS[:9]) + "),\"Fix input (see "
             "Checks)\"," + _roundup_count("FlopsPerParamToken*ActiveParams*Tokens/(DeadlineDays*"
                                           "86400*(PeakTFLOPS*1E12*MFU)*Goodput)") + ")",
             "GPUs", "count",
             "k·P·T / (days · goodput · 86400 · TFLOPS · 1E12 · utilisation), rounded up = "
             "GPU_COUNT_TIME for the productive days.", key=True)
    f.result("DeadlineMet", "Deadline met?",
             _guard("IF(TrainingDays<=DeadlineDays,\"Yes\",\"No: \"&FIXED(TrainingDays-"
                    "DeadlineDays,1)&\" days late\")"), "", "text",
             "Training time vs Inputs: DeadlineDays.")

    f.section("Memory (total parameters; compute above uses the active ones)")
    f.result("StateBytesPerParam", "Training state per parameter",
             "=BytesWeights+BytesGradients+BytesOptimizer", "bytes", "decimal",
             "Weights + gradients + optimizer (18 for mixed-precision AdamW).")
    f.result("TrainStateGB", "Training state (weights, gradients, optimizer)",
             "=StateBytesPerParam*Params/1E9", "GB", "gb", "bytes x P / 1E9 = TRAIN_MEM_GB.")
    f.result("ActivationsGB", "Activations and overheads", "=TrainStateGB*(ActivationFactor-1)",
             "GB", "gb", "(factor - 1) x training state (seed article 004).")
    f.result("TrainMemoryGB", "Total training memory", "=Params*StateBytesPerParam*"
             "ActivationFactor/1E9", "GB", "gb", "P x bytes x factor / 1E9.")
    f.result("GPUsForMemory", "GPUs needed by memory",
             _guard(_roundup_count("Params*StateBytesPerParam*ActivationFactor/1E9/GPUMemoryGB")),
             "GPUs", "count", "Total training memory / GPU memory, rounded up = GPU_COUNT_MEM.",
             key=True)
    f.result("MemoryOK", "Enough GPU memory?",
             _guard("IF(NumGPUs>=GPUsForMemory,\"Yes\",\"No: at least \"&FIXED(GPUsForMemory,"
                    "0)&\" GPUs needed\")"), "", "text",
             "Assumes the state is sharded over all GPUs (ZeRO-3 / FSDP).")

    f.section("Price per GPU-hour: renting and owning (one cost model for every sheet)")
    f.result("RentBlendFactor", "Rent: blended share of the on-demand price",
             _guard("(1-Share1Y-Share3Y-ShareSpot)+Share1Y*(1-Discount1Y)+"
                    "Share3Y*(1-Discount3Y)+ShareSpot*(1-DiscountSpot)"), "fraction", "pct",
             "The shares of hours at each discount (on demand, 1-year, 3-year, spot) times "
             "what each pays; applied to every GPU's on-demand price on every sheet.")
    f.result("RentUSDPerGPUHour", "Rent: blended price per GPU-hour",
             _guard("PricePerGPUHour*RentBlendFactor"), "$ per GPU-hour",
             "usd_cents", "On-demand price x the blended share above; every cloud cost uses "
             "this rate.", key=True)
    f.result("CapexPerGPUUSD", "Own: purchase per GPU incl. its server share",
             _guard("UnitPricePerGPU+ServerCostUSD/GPUsPerServer"), "$ per GPU", "usd",
             "GPU price + server cost / GPUs per server (network and storage: procurement "
             "planner).")
    f.result("CapitalPerGPUYear", "Own: capital charge per GPU-year",
             _guard("PMT(CostOfCapital,AmortisationYears,-CapexPerGPUUSD,ResidualValue*"
                    "CapexPerGPUUSD)"), "$ per GPU-year", "usd",
             "Annuity repaying the purchase less the discounted residual value over the useful "
             "life at the cost of capital (Excel PMT); equals straight-line depreciation when "
             "the rate is 0.")
    f.result("DepreciationPerGPUYear", "  of which straight-line depreciation",
             _guard("CapexPerGPUUSD*(1-ResidualValue)/AmortisationYears"), "$ per GPU-year", "usd",
             "(Purchase - residual value) / useful life.")
    f.result("FinancingPerGPUYear", "  of which financing cost",
             _guard("CapitalPerGPUYear-DepreciationPerGPUYear"), "$ per GPU-year", "usd",
             "Capital charge - depreciation: the average interest paid.")
    f.result("GPUKW", "IT power per GPU incl. its server share",
             "=(GPUPowerW+ServerPowerW/GPUsPerServer)/1000", "kW", "kw",
             "(GPU W + server W / GPUs per server) / 1000.")
    f.result("OwnCapitalPerGPUHour", "Own: capital per used GPU-hour",
             _guard("CapitalPerGPUYear/(8760*OwnedUtilisation)"), "$ per GPU-hour", "usd_cents",
             "Capital charge / (8760 h x utilisation of the owned cluster).")
    f.result("OwnEnergyPerGPUHour", "Own: energy per GPU-hour",
             "=GPUKW*PUE*ElectricityUSDPerKWh", "$ per GPU-hour", "usd_cents",
             "IT kW x PUE x electricity price.")
    f.result("OwnColocationPerGPUHour", "Own: colocation per used GPU-hour",
             _guard("GPUKW*ColocationUSDPerKWMonth*12/(8760*OwnedUtilisation)"), "$ per GPU-hour",
             "usd_cents", "IT kW x $ per kW-month x 12 / (8760 h x utilisation): space is paid "
             "whether or not the GPUs work.")
    f.result("OnPremCostPerGPUHour", "Own: cost per used GPU-hour",
             _guard("OwnCapitalPerGPUHour+OwnEnergyPerGPUHour+OwnColocationPerGPUHour"),
             "$ per GPU-hour", "usd_cents", "Capital + energy + colocation; staff excluded. "
             "Compare with the rent above.", key=True)

    f.section("Cost of the training run")
    f.result("TrainingCostUSD", "Cloud cost of the training run",
             _guard("GPUHours*RentUSDPerGPUHour"), "$", "usd",
             "GPU-hours paid x blended rent = TRAIN_COST_USD(P,T,GPU,N,utilisation,rent,k,"
             "goodput).", key=True, unit_formula=_incomplete("RentUSDPerGPUHour", "cloud price"))
    f.result("CloudCostPer1BTokens", "Cloud cost per 1B training tokens",
             _guard("TrainingCostUSD/(Tokens/1E9)"), "$ per 1B tokens", "usd_cents", "",
             unit_formula=_incomplete("RentUSDPerGPUHour", "cloud price", "$ per 1B tokens"))
    f.result("Servers", "Servers", _guard("ROUNDUP(NumGPUs/GPUsPerServer,0)"), "servers",
             "count", "GPUs / GPUs per server, rounded up.")
    f.result("OnPremCapexUSD", "Purchase (capex) of the cluster",
             _guard("NumGPUs*UnitPricePerGPU+Servers*ServerCostUSD"), "$", "usd",
             "GPUs x price + whole servers x server cost.", key=True,
             unit_formula=_incomplete("UnitPricePerGPU", "purchase price"))
    f.result("CapexShareUSD", "Own: capital charged to the run", _guard("GPUHours*"
             "OwnCapitalPerGPUHour"), "$", "usd", "GPU-hours x capital per used GPU-hour "
             "(the cluster works for others the rest of its life at the utilisation input).")
    f.result("EnergyKWh", "Energy", _guard("GPUHours*GPUKW*PUE"), "kWh", "kwh",
             "GPU-hours x IT kW per GPU x PUE; GPUs at full power.")
    f.result("EnergyCostUSD", "Own: energy cost", _guard("EnergyKWh*ElectricityUSDPerKWh"), "$",
             "usd", "")
    f.result("ColocationUSD", "Own: colocation charged to the run",
             _guard("GPUHours*OwnColocationPerGPUHour"), "$", "usd", "")
    f.result("OnPremCostUSD", "On-premises cost of the training run",
             _guard("CapexShareUSD+EnergyCostUSD+ColocationUSD"), "$", "usd",
             "= GPU-hours x own cost per used GPU-hour.", key=True,
             unit_formula=_incomplete("UnitPricePerGPU", "purchase price"))
    f.result("OnPremCostPer1BTokens", "On-premises cost per 1B training tokens",
             _guard("OnPremCostUSD/(Tokens/1E9)"), "$ per 1B tokens", "usd_cents", "",
             unit_formula=_incomplete("UnitPricePerGPU", "purchase price", "$ per 1B tokens"))

    f.section("Comparison")
    f.result("CheaperOption", "Cheaper option for this run", "=" + verdict(
        "TrainingCostUSD", "OnPremCostUSD", "Cloud", "On-premises"), "", "text",
             "Rent vs own per GPU-hour; the Program sheet and the procurement planner's Buy vs "
             "rent use the same cost model, so they give the same verdict.", key=True)
    f.result("SavingUSD", "Saving of the cheaper option",
             "=IF(OR(CheaperOption=\"Cloud\",CheaperOption=\"On-premises\"),ABS(TrainingCostUSD"
             "-OnPremCostUSD),\"n/a: no verdict\")", "$", "usd", "")

    problems = " ".join(f"IF({bad},\"{text}\"," for bad, text in INPUT_PROBLEMS)
    checks = [
        "=" + problems + "\"\"" + ")" * len(INPUT_PROBLEMS),
        "=IF(InputProblem<>\"\",\"\",IF(NumGPUs<GPUsForMemory,\"Too few GPUs to hold the "
        "training state: at least \"&FIXED(GPUsForMemory,0)&\" needed.\",\"\"))",
        "=IF(InputProblem<>\"\",\"\",IF(TrainingDays>DeadlineDays,\"Training takes \"&"
        "FIXED(TrainingDays,1)&\" days, longer than the \"&FIXED(DeadlineDays,1)&"
        "\"-day deadline.\",\"\"))",
        "=IF(PricePerGPUHour>0,\"\",\"No cloud price for this GPU: type the on-demand price per "
        "GPU-hour on Inputs; cloud totals are incomplete and no verdict is given.\")",
        "=IF(UnitPricePerGPU>0,\"\",\"No purchase price for this GPU: type your quote on Inputs; "
        "on-premises totals are incomplete and no verdict is given.\")",
        "=IF(GPUPowerW>0,\"\",\"No published power for this GPU: type the power per GPU on "
        "Inputs; energy and colocation are left out.\")",
        "=IF(ServerCostUSD>0,\"\",\"Server cost excluding GPUs is 0: on-premises capex counts the "
        "GPUs only.\")",
        "=IF(InputProblem<>\"\",\"\",IF(StartDate+TrainingDays>ScheduleEnd,\"Training runs past "
        "the end of the spend schedule (Sensitivity).\",\"\"))",
    ]
    assert len(checks) == N_CHECKS
    first = checks_first
    last = first + len(checks) - 1
    for i, formula in enumerate(checks):
        c = ws.cell(row=first + i, column=1, value=formula)
        style(c, "check")
        ws.merge_cells(start_row=first + i, start_column=1, end_row=first + i, end_column=4)
    define_name(wb, "InputProblem", ws, f"A{first}")
    f.results["InputProblem"] = "First input to fix (empty when every input is usable)"
    cells = [f"A{r}" for r in range(first, last + 1)]
    count = "+".join(f"({c}<>\"\")" for c in cells)
    blank = ",".join(f"{c}=\"\"" for c in cells)
    ws[status] = (f"=IF(AND({blank}),\"All checks passed\",IF(InputProblem<>\"\",\"Input to "
                  f"fix: see Checks\",{count}&\" warning(s), see Checks\"))")
    finish_sheet(ws, {"A": 44, "B": 24, "C": 18, "D": 80}, freeze="A5")
    return f


def _sensitivity_sheet(wb: Workbook) -> dict[str, str]:
    ws = wb.create_sheet("Sensitivity")
    names: dict[str, str] = {}
    sheet_heading(ws, "Sensitivity: what moves the days and the cost; spend over the run",
                  "Formulas over the Inputs sheet, varying on both axes: days over utilisation x "
                  "GPU count, cloud cost over utilisation x rent; a tornado of five inputs moved "
                  f"{TORNADO_SWING:.0%} each way; the spend schedule in days for runs up to "
                  f"{SCHEDULE_MONTHS} days, weeks up to {SCHEDULE_MONTHS} weeks, else months.",
                  "J", height=30)
    n_cols = len(SENSITIVITY_GPU_FACTORS)
    n_rows = len(SENSITIVITY_MFU)
    last_col = chr(ord("A") + n_cols)

    def table(top: int, title: str, corner: str, axis: Callable[[float], str], axis_fmt: str,
              factors: Sequence[float], fmt: str, body: Callable[[str, str], str], name: str,
              axis_name: str) -> None:
        put_text(ws[f"A{top}"], title)
        style(ws[f"A{top}"], "section")
        hdr = top + 1
        put_text(ws[f"A{hdr}"], corner)
        style(ws[f"A{hdr}"], "header")
        for j, factor in enumerate(factors):
            c = ws[f"{chr(ord('B') + j)}{hdr}"]
            c.value = axis(factor)
            style(c, "header", axis_fmt)
        for i, m in enumerate(SENSITIVITY_MFU):
            r = hdr + 1 + i
            c = ws[f"A{r}"]
            put_text(c, m)
            style(c, "header", "pct")
            for j in range(n_cols):
                col = chr(ord("B") + j)
                cell = ws[f"{col}{r}"]
                cell.value = _guard(body(f"{col}${hdr}", f"$A{r}"))
                style(cell, "calc", fmt)
        define_name(wb, name, ws, f"B{hdr + 1}:{last_col}{hdr + n_rows}")
        names[name] = f"{title} over utilisation rows"
        define_name(wb, axis_name, ws, f"B{hdr}:{last_col}{hdr}")
        names[axis_name] = f"Column axis of {name}"
        if top == 4:
            define_name(wb, "SensMFU", ws, f"A{hdr + 1}:A{hdr + n_rows}")
            names["SensMFU"] = "Utilisation rows of the sensitivity tables"

    top1 = 4
    table(top1, "Training days (wall clock) over utilisation x GPUs", "Utilisation \\ GPUs",
          lambda f: f"=MAX(1,ROUND(NumGPUs*{f:g},0))", "count", SENSITIVITY_GPU_FACTORS, "days",
          lambda n, m: _days(n, m), "SensDays", "SensGPUs")
    top2 = top1 + n_rows + 3
    table(top2, "Cloud cost of the run ($) over utilisation x rent per GPU-hour",
          "Utilisation \\ $/GPU-h", lambda f: f"=RentUSDPerGPUHour*{f:g}", "usd_cents",
          SENSITIVITY_PRICE_FACTORS, "usd",
          lambda price, m: f"{_days('NumGPUs', m)}*24*NumGPUs*{price}", "SensCost", "SensPrices")

    # Tornado: each input moved down and up by TORNADO_SWING, the others at their values.
    top = top2 + n_rows + 3
    ws.row_breaks.append(Break(id=top - 1))  # the tornado and its chart print on one page
    put_text(ws[f"A{top}"], f"Tornado: cloud cost of the run with one input {TORNADO_SWING:.0%} "
             "lower or higher")
    style(ws[f"A{top}"], "section")
    header_row(ws, top + 1, ("Input", "Low value", "High value", "Cost at low ($)",
                             "Cost at high ($)", "Swing ($)", "Days at low", "Days at high",
                             "Change at low ($)", "Change at high ($)"))
    ws.row_dimensions[top + 1].height = 30
    base = {"MFU": "MFU", "Rent": "RentUSDPerGPUHour", "Tokens": "Tokens", "GPUs": "NumGPUs",
            "Goodput": "Goodput"}
    lo_f, hi_f = 1 - TORNADO_SWING, 1 + TORNADO_SWING
    for i, (key, label, low, high) in enumerate(TORNADO_INPUTS):
        r = top + 2 + i
        put_text(ws[f"A{r}"], label)
        style(ws[f"A{r}"], "label")
        ws[f"B{r}"] = "=" + low.format(x=base[key], f=f"{lo_f:g}")
        ws[f"C{r}"] = "=" + high.format(x=base[key], f=f"{hi_f:g}")
        for col, src in (("D", "B"), ("E", "C")):
            sub = {k: base[k] for k in base}
            sub[key] = f"{src}{r}"
            days = (f"FlopsPerParamToken*ActiveParams*{sub['Tokens']}/({sub['GPUs']}*(PeakTFLOPS*"
                    f"1E12*{sub['MFU']}))/86400/{sub['Goodput']}")
            ws[f"{col}{r}"] = _guard(f"{days}*24*{sub['GPUs']}*{sub['Rent']}")
            ws[f"{chr(ord(col) + 3)}{r}"] = _guard(days)
            style(ws[f"{col}{r}"], "calc", "usd")
            style(ws[f"{chr(ord(col) + 3)}{r}"], "calc", "days")
        ws[f"F{r}"] = _guard(f"ABS(E{r}-D{r})")
        style(ws[f"F{r}"], "calc", "usd")
        for col, src in (("I", "D"), ("J", "E")):
            ws[f"{col}{r}"] = _guard(f"{src}{r}-TrainingCostUSD")
            style(ws[f"{col}{r}"], "calc", "usd")
        fmt = {"MFU": "pct", "Goodput": "pct", "Rent": "usd_cents", "Tokens": "count_b",
               "GPUs": "count"}[key]
        for col in "BC":
            style(ws[f"{col}{r}"], "calc", fmt)
    t_last = top + 1 + len(TORNADO_INPUTS)
    define_name(wb, "TornadoTable", ws, f"B{top + 2}:J{t_last}")
    names["TornadoTable"] = ("Tornado: low, high, cost at low, cost at high, swing, days at "
                             "low and high, change of the cost at low and high")
    bar = BarChart()
    bar.type = "bar"
    bar.grouping = "clustered"
    bar.overlap = 100
    bar.title = "Tornado: change of the cloud cost with one input moved"
    bar.y_axis.title = "US dollars against the base case"
    bar.y_axis.number_format = '"$"#,##0'
    bar.x_axis.delete = False
    bar.y_axis.delete = False
    bar.x_axis.tickLblPos = "low"
    bar.legend.position = "b"
    bar.add_data(Reference(ws, min_col=9, max_col=10, min_row=top + 1, max_row=t_last),
                 titles_from_data=True)
    bar.set_categories(Reference(ws, min_col=1, min_row=top + 2, max_row=t_last))
    bar.height = 7
    bar.width = 18
    ws.add_chart(bar, f"A{t_last + 2}")

    # Spend schedule following the run's calendar: days, weeks or months by the run's length.
    top = t_last + 18
    ws.row_breaks.append(Break(id=top - 1))
    put_text(ws[f"A{top}"], "Spend schedule over the run's calendar")
    style(ws[f"A{top}"], "section")
    r0 = top + 1
    put_text(ws[f"A{r0}"], "Period")
    style(ws[f"A{r0}"], "label")
    ws[f"B{r0}"] = _guard(f"IF(TrainingDays<={SCHEDULE_MONTHS},\"Day\",IF(TrainingDays<="
                          f"{SCHEDULE_MONTHS}*7,\"Week\",\"Month\"))")
    style(ws[f"B{r0}"], "calc", "text")
    define_name(wb, "SchedulePeriod", ws, f"B{r0}")
    names["SchedulePeriod"] = "Day, Week or Month: the schedule's period"
    heads = ("Period", "From", "To", "Training days", "GPU-hours", "Cloud spend ($)",
             "Cumulative cloud ($)", "On-prem energy ($)")
    header_row(ws, r0 + 1, heads)
    ws.row_dimensions[r0 + 1].height = 30
    first = r0 + 2
    def start(i: int) -> str:
        return (f"IF($B${r0}=\"Day\",StartDate+{i},IF($B${r0}=\"Week\",StartDate+{7 * i},"
                f"EDATE(StartDate,{i})))")

    for i in range(SCHEDULE_MONTHS):
        r = first + i
        ws[f"A{r}"] = i + 1
        style(ws[f"A{r}"], "calc", "count")
        ws[f"B{r}"] = _guard(start(i))
        style(ws[f"B{r}"], "calc", "date")
        ws[f"C{r}"] = _guard(f"{start(i + 1)}-1")
        style(ws[f"C{r}"], "calc", "date")
        ws[f"D{r}"] = _guard(f"MAX(0,MIN(StartDate+TrainingDays,C{r}+1)-B{r})")
        style(ws[f"D{r}"], "calc", "days")
        ws[f"E{r}"] = _guard(f"D{r}*24*NumGPUs")
        style(ws[f"E{r}"], "calc", "hours")
        ws[f"F{r}"] = _guard(f"E{r}*RentUSDPerGPUHour")
        style(ws[f"F{r}"], "calc", "usd")
        ws[f"G{r}"] = _guard(f"F{r}" if i == 0 else f"G{r - 1}+F{r}")
        style(ws[f"G{r}"], "calc", "usd")
        ws[f"H{r}"] = _guard(f"E{r}*OwnEnergyPerGPUHour")
        style(ws[f"H{r}"], "calc", "usd")
    last = first + SCHEDULE_MONTHS - 1
    tr = last + 1
    put_text(ws[f"A{tr}"], "Total")
    style(ws[f"A{tr}"], "result")
    for col, fmt in (("D", "days"), ("E", "hours"), ("F", "usd"), ("H", "usd")):
        ws[f"{col}{tr}"] = _guard(f"SUM({col}{first}:{col}{last})")
        style(ws[f"{col}{tr}"], "result", fmt)
    for name, col in (("ScheduleDays", "D"), ("ScheduleGPUHours", "E"), ("ScheduleCloudUSD", "F"),
                      ("ScheduleEnergyUSD", "H")):
        define_name(wb, name, ws, f"{col}{first}:{col}{last}")
        names[name] = f"Spend schedule column {col}, one row per period"
    for name, col in (("ScheduleCloudTotalUSD", "F"), ("ScheduleEnergyTotalUSD", "H")):
        define_name(wb, name, ws, f"{col}{tr}")
        names[name] = "Total of the spend schedule"
    define_name(wb, "ScheduleEnd", ws, f"C{last}")
    names["ScheduleEnd"] = "Last day of the spend schedule"
    put_text(ws[f"A{tr + 1}"], "The cloud total equals the cloud cost on Results when training "
             "ends within the schedule; energy is the on-premises running cost only (no capital, "
             "no colocation).")
    style(ws[f"A{tr + 1}"], "note")
    ws.merge_cells(f"A{tr + 1}:H{tr + 1}")
    finish_sheet(ws, {"A": 22, "B": 14, "C": 14, "D": 14, "E": 14, "F": 16, "G": 18, "H": 18,
                      "I": 16, "J": 16}, freeze="A4", print_title_rows="1:2")
    return names


def _charts_sheet(wb: Workbook) -> dict[str, str]:
    ws = wb.create_sheet("Charts")
    names: dict[str, str] = {}
    sheet_heading(ws, "Charts: cost and time vs GPU count; memory per GPU",
                  "Renting more GPUs finishes sooner at the same cloud cost (GPU-hours stay the "
                  "same); buying more GPUs raises the capex, while the run's own cost (GPU-hours x "
                  "own cost per GPU-hour) stays the same. Chart data below (formulas).",
                  "G")
    top = 4
    heads = ("GPUs", "Training days", "Cloud cost ($)", "On-prem purchase ($)",
             "On-prem cost of the run ($)")
    header_row(ws, top, heads)
    ws.row_dimensions[top].height = 30
    for i, factor in enumerate(CHART_GPU_FACTORS):
        r = top + 1 + i
        ws[f"A{r}"] = f"=MAX(1,ROUND(NumGPUs*{factor:g},0))"
        style(ws[f"A{r}"], "calc", "count")
        ws[f"B{r}"] = _guard(_days(f"A{r}", "MFU"))
        style(ws[f"B{r}"], "calc", "days")
        ws[f"C{r}"] = _guard(f"B{r}*24*A{r}*RentUSDPerGPUHour")
        style(ws[f"C{r}"], "calc", "usd")
        ws[f"D{r}"] = _guard(f"A{r}*UnitPricePerGPU+ROUNDUP(A{r}/GPUsPerServer,0)*ServerCostUSD")
        style(ws[f"D{r}"], "calc", "usd")
        ws[f"E{r}"] = _guard(f"B{r}*24*A{r}*OnPremCostPerGPUHour")
        style(ws[f"E{r}"], "calc", "usd")
    last = top + len(CHART_GPU_FACTORS)
    define_name(wb, "ChartTable", ws, f"A{top + 1}:E{last}")
    names["ChartTable"] = "GPUs, days, cloud cost, on-prem purchase, on-prem run cost"

    mtop = last + 3
    put_text(ws[f"A{mtop - 1}"], "Memory per GPU (GB), training state sharded over the GPUs")
    style(ws[f"A{mtop - 1}"], "section")
    mheads = ("Per GPU", "Weights (GB)", "Gradients (GB)", "Optimizer (GB)", "Activations (GB)",
              "Total (GB)", "GPU memory (GB)")
    header_row(ws, mtop, mheads)
    ws.row_dimensions[mtop].height = 30
    for i, (label, count) in enumerate(
            (("=\"At memory minimum (\"&FIXED(GPUsForMemory,0)&\" GPUs)\"", "GPUsForMemory"),
             ("=\"As planned (\"&FIXED(NumGPUs,0)&\" GPUs)\"", "NumGPUs"))):
        r = mtop + 1 + i
        ws[f"A{r}"] = label
        style(ws[f"A{r}"], "calc")
        ws[f"B{r}"] = f"=BytesWeights*Params/1E9/{count}"
        ws[f"C{r}"] = f"=BytesGradients*Params/1E9/{count}"
        ws[f"D{r}"] = f"=BytesOptimizer*Params/1E9/{count}"
        ws[f"E{r}"] = f"=TrainStateGB*(ActivationFactor-1)/{count}"
        ws[f"F{r}"] = f"=SUM(B{r}:E{r})"
        ws[f"G{r}"] = "=GPUMemoryGB"
        for col in "BCDEFG":
            style(ws[f"{col}{r}"], "calc", "gb")
    define_name(wb, "MemoryPerGPU", ws, f"B{mtop + 1}:G{mtop + 2}")
    names["MemoryPerGPU"] = "Weights, gradients, optimizer, activations, total, capacity (GB)"

    def scatter(title: str, ytitle: str, cols: Iterable[tuple[int, str]], anchor: str,
                fmt: str, ylog: bool = False) -> None:
        ch = ScatterChart()
        ch.title = title
        ch.style = 13
        ch.x_axis.title = "GPUs (log scale)"
        ch.y_axis.title = ytitle
        ch.x_axis.scaling.logBase = 2
        if ylog:
            ch.y_axis.scaling.logBase = 10
        ch.x_axis.number_format = "#,##0"
        ch.y_axis.number_format = fmt
        ch.x_axis.delete = False
        ch.y_axis.delete = False
        ch.x_axis.majorTickMark = "out"
        ch.y_axis.majorTickMark = "out"
        ch.legend.position = "b"
        xref = Reference(ws, min_col=1, min_row=top + 1, max_row=last)
        for col, color in cols:
            yref = Reference(ws, min_col=col, min_row=top, max_row=last)
            s = Series(yref, xref, title_from_data=True)
            s.smooth = False
            s.marker.symbol = "circle"
            s.marker.size = 6
            s.graphicalProperties.line.solidFill = color
            s.graphicalProperties.line.width = 28575  # 2.25 pt
            s.marker.graphicalProperties.solidFill = color
            s.marker.graphicalProperties.line.solidFill = color
            ch.series.append(s)
        ch.height = 7.5
        ch.width = 16
        ws.add_chart(ch, anchor)

    scatter("Training days vs GPU count", "Days", [(2, "2F5597")], "H4", "#,##0")
    scatter("Cost vs GPU count", "US dollars (log scale)",
            [(3, "2F5597"), (4, "C00000"), (5, "70AD47")], "H20", '"$"#,##0',
            ylog=True)
    bar = BarChart()
    bar.type = "bar"
    bar.grouping = "stacked"
    bar.overlap = 100
    bar.title = "Memory per GPU (GB)"
    bar.style = 10
    bar.y_axis.title = "GB per GPU"
    bar.y_axis.number_format = "#,##0"
    bar.x_axis.delete = False
    bar.y_axis.delete = False
    bar.legend.position = "b"
    data = Reference(ws, min_col=2, max_col=5, min_row=mtop, max_row=mtop + 2)
    cats = Reference(ws, min_col=1, min_row=mtop + 1, max_row=mtop + 2)
    bar.add_data(data, titles_from_data=True)
    bar.set_categories(cats)
    bar.height = 7.5
    bar.width = 16
    ws.add_chart(bar, f"A{mtop + 5}")
    finish_sheet(ws, {"A": 30, "B": 13, "C": 15, "D": 15, "E": 15, "F": 12, "G": 13},
                 freeze=None, fit_height=1)
    return names


def _guide_blocks(gpus: Mapping[str, GpuSpec], models: Mapping[str, ModelSpec]):
    return [
        ("What this workbook answers", [
            "How long does training this model take on this many GPUs, how many GPUs does a "
            "deadline need, how many GPUs does the model need just to fit in memory, and what "
            "does the run cost in the cloud and on premises? Which is cheaper?",
        ]),
        ("Who fills what", [
            "ML / platform lead\tInputs sheet, Model, Training data, Training setup, GPUs and "
            "Memory sections: the model (or a custom size), tokens, MFU your stack achieves, GPU "
            "type and count or a deadline.",
            "Finance / procurement\tInputs sheet, Cloud and On-premises sections: your negotiated "
            "price per GPU-hour and the shares of committed and spot hours, purchase quotes, "
            "server cost, electricity price, PUE, useful life, cost of capital, residual value, "
            "utilisation of an owned cluster, colocation. The shipped prices are EXAMPLES from "
            "dated public sources (source and date next to each), never quotes.",
            "Everyone reads\tResults (status, checks, headline numbers, the rent-or-buy verdict), "
            "Sensitivity (two-way tables, tornado, spend schedule), Charts, Program, GPU "
            "comparison.",
        ]),
        ("How to use", [
            "1. Inputs: pick a model and a GPU from the dropdowns; choose Plan by 'GPU count' or "
            "'Deadline'.",
            "2. Every input shows its default (column D: a catalog look-up or a sourced value), "
            "a yellow cell for your value (column E, blank) and the value used (column B). Type "
            "into the yellow cell to override; clear it to return to the default.",
            "3. Read Results: the status and the checks under it name anything to fix (an "
            "unusable input, too few GPUs for memory, a missing price, a missed deadline). No "
            "verdict is given while a price is missing, and totals without a price say "
            "INCOMPLETE.",
            "4. The sheets are protected without a password to prevent accidental edits of "
            "formulas: Review > Unprotect Sheet to change a formula.",
        ]),
        ("Formulas and sources", [
            "Training time\tdays = k·P·T / (N · peak TFLOPS · 1E12 · utilisation) / 86400 / "
            "goodput; k = 8 with activation recomputation, 6 without (Narayanan et al. 2021, "
            "arXiv 2104.04473, eq. 4; Kaplan et al. 2020): TRAIN_DAYS / goodput. The utilisation "
            "counts the k FLOPs (a published model-FLOPs MFU converts as MFU x 6 / k).",
            "GPUs for a deadline\tk·P·T / (days · goodput · 86400 · TFLOPS · 1E12 · "
            "utilisation), rounded up (GPU_COUNT_TIME).",
            "GPUs by memory\tP · bytes · activation factor / GPU GB, rounded up; 18 bytes per "
            "parameter (weights 6, gradients 4, AdamW 8; Hugging Face 'Model training anatomy') "
            "and factor 1.25 (seed article 004) (GPU_COUNT_MEM).",
            "Tokens\tChinchilla-optimal 20 tokens per parameter (Hoffmann et al. 2022).",
            "Parameters\tCatalog counts (Models sheet) or L(12h²+13h)+V·h for a custom GPT-style "
            "model (LLM_PARAMS). Mixture-of-experts: compute uses the active parameters, memory "
            "the total.",
            "Cost\tOne cost model for every sheet: cloud = GPU-hours x blended rent (on-demand, "
            "1-year, 3-year and spot shares) = TRAIN_COST_USD; owned = GPU-hours x own cost per "
            "used GPU-hour = capital charge (PMT at the cost of capital, less the residual value) "
            "/ (8760 h x utilisation) + energy (GPU and server-share watts x PUE x $/kWh) + "
            "colocation ($ per kW-month). Cheaper = the lower price per GPU-hour.",
        ]),
        ("Catalogs", [
            f"GPUs sheet: {len(gpus)} accelerators, dense peaks, memory, bandwidth, power, with "
            "source and retrieval date per row. Models sheet: "
            f"{len(models)} models with architecture and parameter counts and their sources. "
            "Example prices sheet: every example price with its date, source and confidence.",
            "EXAMPLE prices are orientation only: cloud list prices change often and differ by "
            "region, term and volume. Replace them with your quotes before deciding.",
        ]),
    ]


def build_budget_planner(*, gpus: Mapping[str, GpuSpec] | None = None,
                         models: Mapping[str, ModelSpec] | None = None,
                         prices: Sequence[GpuPrice] | None = None,
                         built: _dt.date | None = None,
                         extra_sheets: Sequence[SheetBuilder] = ()) -> Workbook:
    """The budget planner workbook (openpyxl ``Workbook``, not yet saved).

    Parameters
    ----------
    gpus, models, prices : optional
        Catalogs to write (default: :mod:`formulas.catalog`).
    built : datetime.date, optional
        Build date printed on the Start here sheet; the training start date defaults to the
        first day of the following month. Default: today.
    extra_sheets : sequence of callables, optional
        ``builder(wb, names)`` adds a sheet after Charts; ``names`` maps every defined name
        (inputs and results) to its description. Builders run after the planner's own sheets
        and the catalogs exist, so their formulas may use any of those names.
    """
    gpus = gpu_catalog() if gpus is None else gpus
    models = model_catalog() if models is None else models
    prices = gpu_prices() if prices is None else prices
    built = built or _dt.date.today()
    wb = Workbook()
    register_styles(wb)
    write_guide(wb, "LLM training budget planner", _guide_blocks(gpus, models), built)
    inputs = _inputs_sheet(wb, first_of_next_month(built))
    results = _results_sheet(wb)
    names: dict[str, str] = {**inputs.inputs, **results.results}
    names.update(_sensitivity_sheet(wb))
    names.update(_charts_sheet(wb))
    catalog_sheets = [write_gpu_sheet(wb, gpus, prices), write_model_sheet(wb, models),
                      write_price_sheet(wb, prices),
                      write_lists_sheet(wb, models, {"PrecisionChoices": PRECISIONS})]
    return finish_planner(wb, names, catalog_sheets, extra_sheets, built)
