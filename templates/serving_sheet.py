"""The budget planner's "Serving" sheet: demand -> fleet -> monthly cost beside an API price.

The step model behind SERVE_PLAN (:mod:`formulas.serving_fleet`) searches batches and
tensor-parallel sizes, which a native formula cannot do. So the sheet is in two parts:

* a build-time table (dated): for the shipped model, GPU, precision, request shape and
  latency targets, the best batch per tensor-parallel size and what one replica then
  delivers (output tokens/s, time to first token, time per output token), computed by
  :func:`formulas.serving_fleet.serve_schedule`; a check cell compares the inputs with the
  ones the table was built for and says when to rebuild (or to use ``=SERVE_PLAN(...)`` of
  the add-in);
* live formulas over it: demand in requests/s or tokens/day -> replicas and GPUs per row
  -> the cheapest fleet, its monthly cost and cost per million output tokens, beside the
  dated list price of a hosted API for the same requests (:mod:`formulas.api_prices`).

Use it as an ``extra_sheets`` builder of :func:`templates.build_budget_planner`::

    wb = build_budget_planner(extra_sheets=[serving_sheet])
"""

from __future__ import annotations

import datetime as _dt
from typing import Mapping

from openpyxl.workbook import Workbook

from llm_budget_planner.formulas.api_prices import api_prices
from llm_budget_planner.formulas.serving_fleet import (
    HOURS_PER_MONTH,
    _batches,
    _cap,
    default_usd_per_gpu_hour,
    serve_schedule,
)
from llm_budget_planner.formulas.serving_step import (
    check_weights_fit,
    replica,
    resolve_precision,
    serve_model,
)

from .sheets import Form, Rule, define_name, finish_sheet, header_row, put_text, sheet_heading
from .styles import style

__all__ = ["serving_sheet", "serving_table", "SHEET", "DEFAULTS"]

SHEET = "Serving"
#: The request shape and targets the build-time table is computed for.
DEFAULTS = {"model": "llama-3-70b", "gpu": "h100-sxm", "precision": "fp8",
            "prompt": 1000, "output": 250, "ttft": 2.0, "tpot": 0.05,
            "api": "groq-llama-3-70b", "rps": 10.0}
_TPS = (1, 2, 4, 8, 16)
_PRECISIONS = "bf16,fp8,int8,int4,fp4,nvfp4,mxfp4"


def serving_table(model, gpu, precision, prompt, output, ttft_slo, tpot_slo):
    """Per tensor-parallel size: (tp, batch, output tokens/s of a replica, ttft, tpot), the
    batch with the most tokens/s within the targets (the fewest replicas at any demand);
    None where the weights do not fit or no batch meets the targets."""
    m = serve_model(model)
    wb, path = resolve_precision(precision)
    rows = []
    for tp in _TPS:
        rep = replica(gpu, tp, path)
        try:
            check_weights_fit(m, rep, wb)
        except ValueError:
            rows.append((tp, None, None, None, None))
            continue
        cap = _cap(m, rep, wb, 2.0, prompt + output)
        best = None
        for b in _batches(cap):
            tpot, ttft, tps = serve_schedule(m, rep, wb, 2.0, b, float(prompt), float(output))
            if tpot <= tpot_slo and ttft <= ttft_slo and (best is None or tps > best[2]):
                best = (tp, b, tps, ttft, tpot)
        rows.append(best or (tp, None, None, None, None))
    return rows


def serving_sheet(wb: Workbook, names: Mapping[str, str], *,
                  built: _dt.date | None = None) -> None:
    """Add the "Serving" sheet (a :data:`templates.budget.SheetBuilder`)."""
    d = DEFAULTS
    built = built or _dt.date.today()
    ws = wb.create_sheet(SHEET)
    sheet_heading(ws, "Serving: demand -> fleet -> monthly cost, beside an API list price",
                  "Blue cells are inputs. The per-replica table is computed when the workbook is "
                  "built (calibrated step model: weights and KV reads at 0.8 of HBM bandwidth, "
                  "matmuls at 0.75 of the BF16 / 0.6 of the FP8 peak, two tensor-parallel "
                  "all-reduces per layer, 1 ms per step, continuous batching with chunked "
                  "prefill); demand, prices and the fleet are live formulas.", "H", height=60)
    f = Form(wb, ws, row=4, note_merge_to="H", note_width=74)
    f.header()
    f.section("Demand and request shape")
    f.input("SrvRequestsPerS", "Requests per second at peak", d["rps"], "requests/s",
            "decimal", Rule("decimal", "Sustained requests per second at peak, e.g. 10. Leave "
                            "it and fill tokens per day instead if you plan by volume.",
                            "Enter a rate between 0 and 1E9.", 0, 1e9),
            "Your peak demand; 0 to use the tokens per day below.")
    f.input("SrvTokensPerDay", "Or: tokens per day (prompt + output)", 0, "tokens/day",
            "count", Rule("decimal", "Daily tokens, prompt plus output, e.g. 1E9. Used when "
                          "requests per second is 0.", "Enter tokens between 0 and 1E18.",
                          0, 1e18), "Spread evenly over 24 hours.")
    f.result("SrvRate", "Requests per second planned",
             "=IF(SrvRequestsPerS>0,SrvRequestsPerS,SrvTokensPerDay/86400/(SrvPromptTokens+"
             "SrvOutputTokens))", "requests/s", "decimal",
             "Requests per second, or tokens per day / 86,400 / tokens per request.", key=True)
    f.input("SrvPromptTokens", "Prompt tokens per request", d["prompt"], "tokens", "count",
            Rule("whole", "Tokens per prompt, e.g. 1000.", "Enter a whole number between 0 "
                 "and 10,000,000.", 0, 10000000), "The table below was built for "
                 f"{d['prompt']:,}.")
    f.input("SrvOutputTokens", "Output tokens per request", d["output"], "tokens", "count",
            Rule("whole", "Generated tokens per request, e.g. 250.", "Enter a whole number "
                 "between 1 and 10,000,000.", 1, 10000000),
            f"The table below was built for {d['output']:,}.")
    f.section("Model, hardware and latency targets")
    f.input("SrvModel", "Model", d["model"], "id", "text",
            Rule("list", "Pick a model id from the Models sheet.", "Pick an id from the list.",
                 source="=Model_Ids"), "Dropdown: the Models sheet.")
    f.input("SrvGPU", "GPU", d["gpu"], "id", "text",
            Rule("list", "Pick a GPU id from the GPUs sheet.", "Pick an id from the list.",
                 source="=GPU_Ids"), "Dropdown: the GPUs sheet.")
    f.input("SrvPrecision", "Precision", d["precision"], "name", "text",
            Rule("list", "Weights and compute path: bf16, fp8 (FP8 tensor cores), int8/int4 "
                 "(weight-only), fp4/nvfp4/mxfp4.", "Pick a precision from the list.",
                 source=f'"{_PRECISIONS}"'), "SERVE_PLAN's precision argument.")
    f.input("SrvTTFTSLO", "Time to first token target", d["ttft"], "seconds", "decimal",
            Rule("decimal", "Longest time to first token allowed, e.g. 2.", "Enter seconds "
                 "between 0.001 and 3600.", 0.001, 3600), "Latency target for every row below.")
    f.input("SrvTPOTSLO", "Time per output token target", d["tpot"], "seconds", "decimal",
            Rule("decimal", "Longest time per output token allowed, e.g. 0.05 (20 tokens/s "
                 "per user).", "Enter seconds between 0.0001 and 60.", 0.0001, 60),
            "Latency target for every row below.")
    price = default_usd_per_gpu_hour(d["gpu"])
    f.input("SrvUSDPerGPUHour", "Price per GPU-hour", round(price, 2), "$ per GPU-hour",
            "usd_cents", Rule("decimal", "US dollars per GPU-hour, e.g. 3.", "Enter a price "
                              "between 0 and 1000.", 0, 1000),
            "The GPU's EXAMPLE on-demand price (GPUs sheet, NOT a quote) at the blended "
            "commitment/spot share of Results, as every cloud cost of this workbook: type yours.",
            default_formula="=IFERROR(INDEX(GPU_CloudPrice,MATCH(SrvGPU,GPU_Ids,0))"
                            "*RentBlendFactor,0)")

    # ---------------------------------------------------------------- build-time table
    f.section(f"Per replica (computed {built.isoformat()} for {d['model']}, {d['gpu']}, "
              f"{d['precision']}, {d['prompt']} + {d['output']} tokens, TTFT <= {d['ttft']:g} s, "
              f"TPOT <= {d['tpot']:g} s)")
    check = (f'=IF(AND(SrvModel="{d["model"]}",SrvGPU="{d["gpu"]}",SrvPrecision="'
             f'{d["precision"]}",SrvPromptTokens={d["prompt"]},SrvOutputTokens={d["output"]},'
             f"SrvTTFTSLO={d['ttft']:g},SrvTPOTSLO={d['tpot']:g}),\"OK: the table matches the "
             "inputs\",\"Inputs changed: rebuild the workbook (python build.py) or use "
             "=SERVE_PLAN(...) of the add-in; the fleet below still uses the table\")")
    f.result("SrvTableCheck", "Table built for these inputs?", check, "", "text",
             "Compares model, GPU, precision, request shape and targets with the table's.")
    style(ws[f"B{f.row - 1}"], "check", "text")
    top = f.row + 1
    header_row(ws, top, ("GPUs per replica (tp)", "Batch", "Output tokens/s per replica",
                         "Time to first token (s)", "Time per output token (s)",
                         "Replicas", "GPUs", "Cost per month ($)"))
    ws.row_dimensions[top].height = 32
    rows = serving_table(d["model"], d["gpu"], d["precision"], d["prompt"], d["output"],
                         d["ttft"], d["tpot"])
    first = top + 1
    for i, (tp, b, tps, ttft, tpot) in enumerate(rows):
        r = first + i
        ws[f"A{r}"] = tp
        style(ws[f"A{r}"], "calc", "count")
        for col, val, fmt in (("B", b, "count"), ("C", tps, "count"), ("D", ttft, "decimal"),
                              ("E", tpot, "decimal")):
            c = ws[f"{col}{r}"]
            if val is None:
                put_text(c, "")
            else:
                c.value = round(float(val), 6) if isinstance(val, float) else val
            style(c, "calc", fmt)
        ws[f"F{r}"] = (f'=IF(C{r}="","",ROUNDUP((SrvRate*SrvOutputTokens/C{r})*(1-1E-12)'
                       "-1E-9,0))")
        ws[f"G{r}"] = f'=IF(F{r}="","",F{r}*A{r})'
        ws[f"H{r}"] = f'=IF(G{r}="","",G{r}*SrvUSDPerGPUHour*{HOURS_PER_MONTH:g})'
        for col, fmt in (("F", "count"), ("G", "count"), ("H", "usd")):
            style(ws[f"{col}{r}"], "calc", fmt)
    last = first + len(rows) - 1
    gpus = f"G{first}:G{last}"
    f.row = last + 2

    # ---------------------------------------------------------------- fleet and cost
    f.section("Fleet and cost (live)")
    f.result("SrvGPUs", "GPUs for the demand (cheapest row)", f"=MIN({gpus})", "GPUs", "count",
             "Fewest GPUs over the table's rows (replicas x tp; all rows meet the targets).",
             key=True)
    f.result("SrvTP", "GPUs per replica of that fleet",
             f"=INDEX(A{first}:A{last},MATCH(SrvGPUs,{gpus},0))", "GPUs", "count",
             "Tensor-parallel size of the cheapest row.")
    f.result("SrvReplicas", "Replicas", "=SrvGPUs/SrvTP", "replicas", "count",
             "Copies of the model serving in parallel.")
    f.result("SrvMonthlyUSD", "Serving cost per month", f"=SrvGPUs*SrvUSDPerGPUHour*"
             f"{HOURS_PER_MONTH:g}", "$ per month", "usd",
             f"GPUs x price x {HOURS_PER_MONTH:g} hours.", key=True)
    f.result("SrvUSDPerMOutput", "Cost per million output tokens",
             "=SrvMonthlyUSD/(SrvRate*SrvOutputTokens*3600*730)*1E6", "$ per 1M tokens",
             "usd_cents", "Fleet cost over the output tokens demanded (prompts included in "
             "the work, not in the count).", key=True)

    # ---------------------------------------------------------------- API comparison
    f.section("Beside a hosted API (dated list prices)")
    prices = api_prices()
    ids = list(prices)
    f.input("SrvAPIPriceId", "API list price", d["api"], "id", "text",
            Rule("list", "Pick a hosted model's list price.", "Pick an id from the list.",
                 source=f'"{",".join(ids)}"'), "Table below: dated list prices with sources.")
    ptop = f.row + 14
    lookup = f"MATCH(SrvAPIPriceId,$A${ptop + 1}:$A${ptop + len(ids)},0)"
    f.result("SrvAPIInputUSD", "API input price", f"=INDEX($D${ptop + 1}:$D${ptop + len(ids)},"
             f"{lookup})", "$ per 1M tokens", "usd_cents", "List price, uncached input.")
    f.result("SrvAPIOutputUSD", "API output price", f"=INDEX($E${ptop + 1}:$E${ptop + len(ids)},"
             f"{lookup})", "$ per 1M tokens", "usd_cents", "List price.")
    f.result("SrvAPIMonthlyUSD", "API cost per month for the same requests",
             "=SrvRate*3600*730*(SrvPromptTokens*SrvAPIInputUSD+SrvOutputTokens*SrvAPIOutputUSD)"
             "/1E6", "$ per month", "usd", "Requests x (prompt x input + output x output price).",
             key=True)
    f.result("SrvAPIUSDPerMOutput", "API cost per million output tokens (prompts included)",
             "=(SrvPromptTokens*SrvAPIInputUSD+SrvOutputTokens*SrvAPIOutputUSD)/SrvOutputTokens",
             "$ per 1M tokens", "usd_cents", "Comparable with the fleet's cost per million "
             "output tokens above.", key=True)
    f.result("SrvVerdict", "Cheaper at this demand", "=IF(NOT(SrvUSDPerGPUHour>0),\"No "
             "verdict: the price per GPU-hour is missing\",IF(NOT(SrvAPIMonthlyUSD>0),\"No "
             "verdict: the API price is missing\",IF(SrvMonthlyUSD<SrvAPIMonthlyUSD,"
             "\"Self-hosting (\"&TEXT(SrvAPIMonthlyUSD/SrvMonthlyUSD,\"0.0\")&\"x cheaper)\","
             "\"The API (\"&TEXT(SrvMonthlyUSD/SrvAPIMonthlyUSD,\"0.0\")&\"x cheaper)\")))", "",
             "text", "Compare also SELF_HOST_BREAKEVEN_TOKENS_PER_DAY in the add-in.", key=True)
    while f.row < ptop:
        f.row += 1
    r0 = ptop
    put_text(ws[f"A{r0 - 1}"], f"Hosted API list prices (USD per million tokens; dated per row; "
             f"copied from formulas/data/api_prices.csv on {built.isoformat()}): list prices, "
             "not quotes.")
    style(ws[f"A{r0 - 1}"], "note")
    ws.merge_cells(f"A{r0 - 1}:H{r0 - 1}")
    header_row(ws, r0, ("Price id", "Provider", "Model", "Input", "Output", "Cached input",
                        "Date", "Source"))
    for i, pid in enumerate(ids):
        row = prices[pid]
        r = r0 + 1 + i
        vals = (pid, row["provider"], row["model"], row["input_usd_per_m"],
                row["output_usd_per_m"], row["cached_input_usd_per_m"], row["date"],
                row["source"])
        ws.row_dimensions[r].height = 15 * max(1, -(-len(str(row["source"] or "")) // 33))
        for j, val in enumerate(vals):
            c = ws.cell(row=r, column=j + 1)
            if isinstance(val, float):
                c.value = val
                style(c, "calc", "usd_cents")
            else:
                put_text(c, "" if val is None else val)
                style(c, "text")
    define_name(wb, "SrvAPIPriceIds", ws, f"$A${r0 + 1}:$A${r0 + len(ids)}")
    finish_sheet(ws, {"A": 40, "B": 18, "C": 22, "D": 18, "E": 16, "F": 30, "G": 14, "H": 30},
                 freeze="A5", print_title_rows="1:2")
