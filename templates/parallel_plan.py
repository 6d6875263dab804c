"""The budget planner's "Parallel plan" sheet: the fastest tp x pp x dp layouts for its inputs.

The layouts are computed by the core (:func:`formulas.plan.plan_training`) when the
workbook is built, for the planner's default inputs, and written as values, labelled with
the build date: a workbook without the add-in cannot search layouts. Beside the inputs they
were computed for, live formulas show the workbook's current inputs and say whether the
table still matches them; the sheet explains how to refresh it with the add-in function
``=PLAN_TRAINING(...)``, which spills the same table.

Use it as an ``extra_sheets`` builder of :func:`templates.build_budget_planner` (build.py
does)::

    wb = build_budget_planner(extra_sheets=[parallel_plan_sheet])
"""

from __future__ import annotations

import datetime as _dt
from typing import Mapping

from openpyxl.workbook import Workbook

from llm_budget_planner.formulas import catalog, plan

from .budget import DEFAULT_GPU, DEFAULT_GPU_COUNT, DEFAULT_MODEL
from .defaults import default
from .sheets import define_name, finish_sheet, header_row, put_text, sheet_heading
from .styles import style

__all__ = ["parallel_plan_sheet", "SHEET", "SEQ_LEN", "BATCH_TOKENS", "TOP", "plan_inputs"]

SHEET = "Parallel plan"
SEQ_LEN = 4096  #: PLAN_TRAINING's default sequence length
BATCH_TOKENS = 4e6  #: PLAN_TRAINING's default tokens per step
TOP = 10

_FORMATS = {"tp": "count", "pp": "count", "dp": "count", "micro_batch": "count",
            "zero_stage": "count", "recompute": "text", "mem_gb": "gb", "mfu": "pct",
            "days": "days", "gpu_hours": "hours", "sequence_parallel": "text",
            "interleave": "count"}


def plan_inputs() -> dict:
    """The inputs the sheet's table is computed for: the budget planner's defaults."""
    m = catalog.model(DEFAULT_MODEL)
    return dict(model=m.id, P=m.params, L=m.layers, h=m.hidden, a=m.heads,
                T=default("tokens_per_param").value * m.params, gpu=DEFAULT_GPU,
                num_gpus=DEFAULT_GPU_COUNT, s=SEQ_LEN, global_batch_tokens=BATCH_TOKENS)


def parallel_plan_sheet(wb: Workbook, names: Mapping[str, str],
                        built: _dt.date | None = None) -> None:
    """Add the "Parallel plan" sheet (a :data:`templates.budget.SheetBuilder`)."""
    built = built or _dt.date.today()
    p = plan_inputs()
    table = plan.plan_training(p["P"], p["L"], p["h"], p["a"], p["T"], p["gpu"], p["num_gpus"],
                               p["s"], p["global_batch_tokens"], TOP)
    ws = wb.create_sheet(SHEET)
    sheet_heading(ws, "Parallel plan: the fastest layouts that fit in GPU memory",
                  f"Computed at build time ({built.isoformat()}) by the planner's own "
                  "model (formulas.plan.plan_training) for the inputs in column B; these are "
                  "values, not live formulas. Column C shows the workbook's inputs now.",
                  "F", height=30)

    header_row(ws, 4, ("Input", "Computed for (build time)", "Workbook now", "Unit"))
    match = "MATCH(Model,Model_Ids,0)"
    heads = f"INDEX(Model_Heads,{match})"
    rows = [
        ("Model", p["model"], "=Model", "catalog id", "text"),
        ("Parameters P", p["P"], "=Params", "raw count", "count"),
        ("Layers L", p["L"], f"=IFERROR(INDEX(Model_Layers,{match}),CustomLayers)", "layers",
         "count"),
        ("Hidden size h", p["h"], f"=IFERROR(INDEX(Model_Hidden,{match}),CustomHidden)", "width",
         "count"),
        ("Attention heads a", p["a"], f"=IFERROR({heads},\"type the heads\")", "heads",
         "count"),
        ("Training tokens T", p["T"], "=Tokens", "raw count", "count"),
        ("GPU", p["gpu"], "=GPU", "catalog id", "text"),
        ("GPUs", p["num_gpus"], "=NumGPUs", "GPUs", "count"),
        ("Sequence length s", p["s"], None, "tokens", "count"),
        ("Tokens per step", p["global_batch_tokens"], None, "tokens", "count"),
    ]
    first = 5
    for i, (label, value, now, unit, fmt) in enumerate(rows):
        r = first + i
        put_text(ws[f"A{r}"], label)
        style(ws[f"A{r}"], "label")
        put_text(ws[f"B{r}"], value)
        style(ws[f"B{r}"], "calc", fmt)
        if now is not None:
            ws[f"C{r}"] = now
            style(ws[f"C{r}"], "calc", fmt)
        put_text(ws[f"D{r}"], unit)
        style(ws[f"D{r}"], "label")
    r = first + len(rows)
    checks = [f"B{first + i}=C{first + i}" for i in (0, 6)] + [
        f"ABS(C{first + i}-B{first + i})<=1E-9*B{first + i}" for i in (1, 5, 7)]
    put_text(ws[f"A{r}"], "Table status")
    style(ws[f"A{r}"], "strong")
    ws[f"B{r}"] = (f"=IF(AND({','.join(checks)}),\"Matches the current inputs\","
                   "\"Inputs changed since the build: refresh with PLAN_TRAINING (below)\")")
    style(ws[f"B{r}"], "check")
    ws.merge_cells(f"B{r}:F{r}")

    r += 2
    put_text(ws[f"A{r}"], "Fastest layouts, computed at build time (best first)")
    style(ws[f"A{r}"], "section")
    r += 1
    header_row(ws, r, plan.PLAN_COLUMNS)
    top_row = r + 1
    for i, values in enumerate(table.itertuples(index=False, name=None)):
        for j, (col, value) in enumerate(zip(plan.PLAN_COLUMNS, values)):
            c = ws.cell(row=top_row + i, column=j + 1)
            put_text(c, "TRUE" if value is True else "FALSE" if value is False else
                     value.item() if hasattr(value, "item") else value)
            style(c, "calc", _FORMATS[col])
    r = top_row + len(table) + 1

    best = table.iloc[0]
    put_text(ws[f"A{r}"], "Predicted MFU of the best layout")
    style(ws[f"A{r}"], "label")
    put_text(ws[f"B{r}"], float(best.mfu))
    style(ws[f"B{r}"], "result", "pct")
    put_text(ws[f"C{r}"], "Your utilisation input")
    style(ws[f"C{r}"], "label")
    ws[f"D{r}"] = "=MFU"
    style(ws[f"D{r}"], "calc", "pct")
    r += 1
    put_text(ws[f"A{r}"], "Utilisation to type on Inputs")
    style(ws[f"A{r}"], "label")
    ws[f"B{r}"] = (f"=FlopsPerParamToken*{float(p['P']):.17G}*{float(p['T']):.17G}/("
                   f"{p['num_gpus']}*PeakTFLOPS*1E+12*{float(best.days):.17G}*86400)")
    style(ws[f"B{r}"], "result", "pct")
    define_name(wb, "PlanUtilisationForInputs", ws, f"B{r}")
    put_text(ws[f"C{r}"], "The plan's days in the Inputs sheet's convention (k FLOPs per "
             "parameter-token): typed on Inputs, Results shows the plan's days / goodput. The "
             "model-FLOPs MFU above counts 6·P·T plus attention, so it is not typed as it is.")
    style(ws[f"C{r}"], "note")
    ws.merge_cells(f"C{r}:L{r}")
    ws.row_dimensions[r].height = 30
    r += 2

    notes = [
        "How to read it: tp = tensor-parallel GPUs per layer, pp = pipeline stages, dp = "
        "data-parallel replicas (tp x pp x dp = GPUs); mem_gb = memory per GPU of the first "
        "pipeline stage; mfu = predicted model FLOPs utilisation; days and gpu_hours for the "
        "training tokens above. Every layout that fits in the GPU's memory was tried.",
        "How to refresh (needs the add-in, see the README): select an empty cell with room for "
        f"{TOP + 1} rows and {len(plan.PLAN_COLUMNS)} columns and type "
        f"=PLAN_TRAINING(C{first + 1},C{first + 2},C{first + 3},C{first + 4},C{first + 5},"
        f"C{first + 6},C{first + 7}) - model size, layers, hidden size, heads, tokens, GPU and "
        "GPU count from column C; add sequence length and tokens per step as 8th and 9th "
        "arguments to change them. It spills the same table with a header row.",
        "To budget with the prediction, type 'Utilisation to type on Inputs' (above) into "
        "Inputs > FLOPs utilisation, not the model-FLOPs MFU (that would mix conventions: with "
        "k = 8 the days would come out 8/6 too long). "
        "PLAN_FOR_DEADLINE(...) finds the fewest GPUs that meet a deadline; PLAN_MEM_GB and "
        "PLAN_MFU price one layout.",
        "Model and constants: per-GPU memory after Rajbhandari et al. 2019 (ZeRO) and "
        "Korthikanti et al. 2022; step time from the matmul FLOPs at a measured achievable "
        "fraction of peak, tensor/pipeline/data-parallel communication and the pipeline "
        "bubble. Each assumption and its source: formulas/data/plan_assumptions.csv.",
    ]
    for text in notes:
        put_text(ws[f"A{r}"], text)
        style(ws[f"A{r}"], "text")
        ws.merge_cells(f"A{r}:L{r}")
        ws.row_dimensions[r].height = 45
        r += 1
    finish_sheet(ws, {"A": 28, "B": 26, "C": 22, "D": 14, "E": 12, "F": 12, "G": 10, "H": 10,
                      "I": 10, "J": 12, "K": 16, "L": 10}, freeze=None)
