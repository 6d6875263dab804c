"""The budget planner's "Program" sheet: pre-training + fine-tuning + evaluation + serving.

Native formulas over the planner's names and the "Inference & fine-tuning" sheet's
``ServeGPUs`` (when that sheet is present): GPU-hours and GPU-months per phase, the cloud
bill (opex) against buying the cluster (capex, straight-line depreciation, energy), and
low/base/high totals from an MFU range with a goodput factor (Llama 3: more than 90%
effective training time, :mod:`formulas.downtime`).

Use it as an ``extra_sheets`` builder after :func:`templates.inference_sheet.inference_sheet`::

    wb = build_budget_planner(extra_sheets=[inference_sheet, program_sheet])
"""

from __future__ import annotations

from typing import Mapping

from openpyxl.workbook import Workbook

from .budget import _days, _guard, verdict
from .sheets import Form, Rule, finish_sheet, sheet_heading

__all__ = ["program_sheet", "SHEET", "MFU_LOW", "MFU_HIGH"]

SHEET = "Program"
MFU_LOW, MFU_HIGH = 0.30, 0.55  #: the planner's "typical 0.30-0.55 on large clusters"


def _pretrain_days(mfu: str) -> str:
    """TRAIN_DAYS / goodput, the budget planner's own training-time formula."""
    return _days("NumGPUs", mfu)


def program_sheet(wb: Workbook, names: Mapping[str, str]) -> None:
    """Add the "Program" sheet (a :data:`templates.budget.SheetBuilder`)."""
    ws = wb.create_sheet(SHEET)
    sheet_heading(ws, "Program: pre-training, fine-tuning, evaluation and months of serving",
                  "One budget for the whole program. GPU-hours per phase priced with the Results "
                  "sheet's rent and own cost per GPU-hour (one cost model: the verdict here is the "
                  "verdict on Results), the purchase and its straight-line depreciation for "
                  "reference, and low/base/high totals for a utilisation range. Goodput (Inputs) "
                  "is the share of wall-clock time that trains.",
                  "F",
                  height=45)
    f = Form(wb, ws, row=4)
    f.header()

    f.section("Program inputs")
    f.input("ProgMFULow", "MFU, pessimistic", MFU_LOW, "fraction", "pct",
            Rule("decimal", "Low MFU for the high-cost case, e.g. 0.30.", "Enter a fraction "
                 "between 0.01 and 1.", 0.01, 1), "Low end of the 0.30-0.55 typical range "
                 "(Inputs > MFU); the base case uses the MFU input.")
    f.input("ProgMFUHigh", "MFU, optimistic", MFU_HIGH, "fraction", "pct",
            Rule("decimal", "High MFU for the low-cost case, e.g. 0.55.", "Enter a fraction "
                 "between 0.01 and 1.", 0.01, 1), "High end of the typical range.")
    f.input("ProgFineTuneTokens", "Fine-tuning tokens", 1e9, "raw count", "count_b",
            Rule("decimal", "Tokens processed by fine-tuning (all epochs), e.g. 1E9.",
                 "Enter a raw count between 0 and 1E16.", 0, 1e16),
            "Example, type yours. Costed as full fine-tuning: k FLOPs per active parameter per "
            "token at the utilisation input (LoRA skips the weight gradients and costs less).")
    f.input("ProgEvalGPUHours", "Evaluation GPU-hours", None, "GPU-hours", "hours",
            Rule("decimal", "GPU-hours of evaluation runs, e.g. 5000.", "Enter GPU-hours "
                 "between 0 and 1E12.", 0, 1e12),
            "Example rule (an assumption, type yours): 1% of the pre-training GPU-hours.",
            default_formula="=0.01*GPUHours")
    f.input("ProgServingMonths", "Months of serving", 12, "months", "decimal",
            Rule("decimal", "Months the model is served after training, e.g. 12.",
                 "Enter months between 0 and 600.", 0, 600), "Example, type yours.")
    serve = "ServeGPUs" in wb.defined_names
    f.input("ProgServingGPUs", "GPUs serving", None if serve else 8, "GPUs", "count",
            Rule("whole", "GPUs running the model in production, e.g. 8.", "Enter a whole "
                 "number between 0 and 10,000,000.", 0, 10000000),
            "From the Inference & fine-tuning sheet (GPUs to serve the request rate)."
            if serve else "Example, type yours.",
            default_formula="=ServeGPUs" if serve else None)

    f.section("GPU-hours by phase")
    f.result("ProgPretrainGPUHours", "Pre-training", "=GPUHours", "GPU-hours", "hours",
             "Results > GPU-hours paid (wall clock, goodput included).")
    f.result("ProgFineTuneGPUHours", "Fine-tuning", _guard("FlopsPerParamToken*ActiveParams*"
             "ProgFineTuneTokens/(PeakTFLOPS*1E12*MFU)/3600/Goodput"), "GPU-hours", "hours",
             "k x active parameters x tokens / achieved FLOP/s / goodput (the same FLOPs "
             "convention and utilisation as pre-training).")
    f.result("ProgEvalGPUHoursUsed", "Evaluation", "=ProgEvalGPUHours", "GPU-hours", "hours", "")
    f.result("ProgServingGPUHours", "Serving", "=ProgServingGPUs*730*ProgServingMonths",
             "GPU-hours", "hours", "GPUs x 730 hours per month x months.")
    f.result("ProgTotalGPUHours", "Whole program", _guard("ProgPretrainGPUHours+"
             "ProgFineTuneGPUHours+ProgEvalGPUHoursUsed+ProgServingGPUHours"), "GPU-hours",
             "hours", "", key=True)
    f.result("ProgGPUMonths", "Whole program in GPU-months", _guard("ProgTotalGPUHours/730"),
             "GPU-months", "decimal", "730 hours per GPU-month.")
    f.result("ProgMonths", "Program length", _guard("(ProgPretrainGPUHours+ProgFineTuneGPUHours+"
             "ProgEvalGPUHoursUsed)/(NumGPUs*730)+ProgServingMonths"), "months", "decimal",
             "Training phases on the training cluster, then the serving months.")

    f.section("Rent (opex) against own (capex), per GPU-hour as on Results")
    f.result("ProgCloudUSD", "Rent: cloud bill", _guard("ProgTotalGPUHours*RentUSDPerGPUHour"),
             "$", "usd", "All GPU-hours at the blended rent of Results.", key=True,
             unit_formula="=IF(RentUSDPerGPUHour>0,\"$\",\"$ INCOMPLETE\")")
    f.result("ProgOwnUSD", "Own: cost charged to the program",
             _guard("ProgTotalGPUHours*OnPremCostPerGPUHour"), "$", "usd",
             "All GPU-hours at the own cost per used GPU-hour of Results (capital with financing "
             "and residual value, energy, colocation; staff excluded).", key=True,
             unit_formula="=IF(UnitPricePerGPU>0,\"$\",\"$ INCOMPLETE\")")
    f.result("ProgCheaper", "Cheaper for this program",
             "=" + verdict("ProgCloudUSD", "ProgOwnUSD", "Rent (opex)", "Buy (capex)"), "", "text",
             "Same prices per GPU-hour as Results, so the same verdict.", key=True)
    f.result("ProgClusterGPUs", "GPUs to buy", "=MAX(NumGPUs,ProgServingGPUs)", "GPUs", "count",
             "One cluster for training, then serving.")
    f.result("ProgCapexUSD", "Purchase (capex)", _guard("ProgClusterGPUs*UnitPricePerGPU+"
             "ROUNDUP(ProgClusterGPUs/GPUsPerServer,0)*ServerCostUSD"), "$", "usd",
             "GPUs and whole servers at the Inputs sheet's prices (for the cash plan).",
             unit_formula="=IF(UnitPricePerGPU>0,\"$\",\"$ INCOMPLETE\")")
    f.result("ProgDepreciationPerMonth", "Straight-line depreciation per month",
             _guard("ProgCapexUSD*(1-ResidualValue)/(AmortisationYears*12)"), "$ per month",
             "usd", "(Capex - residual value) / (useful life x 12).")

    f.section("Low / base / high (utilisation range, goodput)")
    for case, mfu, label in (("Low", "ProgMFUHigh", "optimistic utilisation"),
                             ("Base", "MFU", "utilisation input"),
                             ("High", "ProgMFULow", "pessimistic utilisation")):
        f.result(f"ProgDays{case}", f"Pre-training days, {case.lower()} ({label})",
                 _guard(_pretrain_days(mfu)), "days", "days",
                 "TRAIN_DAYS at this utilisation / goodput (as TRAIN_DAYS_RANGE).")
    for case in ("Low", "Base", "High"):
        f.result(f"ProgTotal{case}USD", f"Program cloud total, {case.lower()}",
                 _guard(f"(ProgDays{case}*24*NumGPUs+ProgFineTuneGPUHours+ProgEvalGPUHoursUsed+"
                        "ProgServingGPUHours)*RentUSDPerGPUHour"), "$", "usd",
                 "Pre-training at this case + the other phases, at the blended rent.",
                 key=case == "Base")
    finish_sheet(ws, {"A": 44, "B": 18, "C": 16, "D": 18, "E": 16, "F": 72}, freeze="A5")
