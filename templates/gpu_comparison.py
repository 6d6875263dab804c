"""The budget planner's "GPU comparison" sheet: the same job on every priced GPU.

One row per GPU of the catalog that has an example cloud price (the GPUs sheet, when the
workbook is built; the prices stay live): the GPUs the job needs to meet the deadline and to
hold its training state, the wall-clock days, GPU-hours, the cloud cost at the blended rent,
the energy, and the cost per million training tokens. The cheapest and the fastest rows are
marked, and a chart plots cost against days. A second table serves the request rate of the
"Inference & fine-tuning" sheet on each GPU (GPUs per replica, batch, tokens per second,
GPUs, cost per million tokens, cost per month; SERVE_TOKENS_PER_S and SERVE_GPUS). Formulas
mirror the Results sheet:

* ``GPUs = MAX(GPU_COUNT_TIME(P_active, T, deadline x goodput, peak, MFU, k),
  GPU_COUNT_MEM(P, bytes, factor, GB))``;
* ``days = TRAIN_DAYS(P_active, T, GPUs, peak, MFU, k) / goodput``;
* ``cost = days x 24 x GPUs x price x blend`` = ``TRAIN_COST_USD`` at the blended rent.

Use it as an ``extra_sheets`` builder of :func:`templates.build_budget_planner`.
"""

from __future__ import annotations

from typing import Mapping

from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook import Workbook
from openpyxl.worksheet.pagebreak import Break

from .budget import _roundup_count
from .sheets import define_name, finish_sheet, header_row, name_ref, put_text, sheet_heading
from .styles import FONT, style

__all__ = ["gpu_comparison_sheet", "SHEET", "priced_gpus", "COLUMNS", "SERVE_COLUMNS"]

SHEET = "GPU comparison"
COLUMNS = ("GPU", "Peak TFLOPS", "Memory (GB)", "GPUs", "Days", "GPU-hours",
           "Rent ($ per GPU-hour)", "Cloud cost ($)", "Energy (MWh)", "$ per million tokens",
           "Cheapest", "Fastest")
SERVE_COLUMNS = ("GPU", "GPUs per replica", "Batch per replica", "Tokens/s per replica",
                 "GPUs to serve", "$ per million tokens", "Serving $ per month", "Cheapest")
_COLORS = ("2F5597", "C00000", "70AD47", "ED7D31", "7030A0", "00B0F0", "FFC000", "808080",
           "A9D18E", "F4B183", "8FAADC", "C55A11")


def priced_gpus(wb: Workbook) -> list[str]:
    """Ids of the GPUs sheet whose example cloud price is filled in (in catalog order)."""
    sheet, ids = name_ref(wb, "GPU_Ids")
    _, cloud = name_ref(wb, "GPU_CloudPrice")
    ws = wb[sheet]
    id_cells = [row[0].value for row in ws[ids]]
    price_cells = [row[0].value for row in ws[cloud]]
    return [i for i, p in zip(id_cells, price_cells) if isinstance(p, (int, float)) and p > 0]


def gpu_comparison_sheet(wb: Workbook, names: Mapping[str, str]) -> None:
    """Add the "GPU comparison" sheet (a :data:`templates.budget.SheetBuilder`)."""
    ids = priced_gpus(wb)
    ws = wb.create_sheet(SHEET)
    sheet_heading(ws, "GPU comparison: the same training job and serving demand on every "
                  "priced GPU",
                  "The model, tokens, utilisation, goodput, precision, deadline and memory "
                  "settings of the Inputs sheet, on each GPU of the catalog that has an EXAMPLE "
                  "cloud price: enough GPUs to meet the deadline and to hold the training state, "
                  "the days, the cloud cost at the blended rent of Results, the energy and the "
                  "cost per million training tokens. Green marks the cheapest and the fastest.",
                  "L", height=45)
    top = 4
    header_row(ws, top, COLUMNS)
    ws.row_dimensions[top].height = 32
    first = top + 1
    last = first + len(ids) - 1
    blend = "RentBlendFactor"  # Results: the commitment/spot blend of the on-demand price
    for i, gid in enumerate(ids):
        r = first + i
        m = f"MATCH($A{r},GPU_Ids,0)"
        put_text(ws[f"A{r}"], gid)
        style(ws[f"A{r}"], "label")
        ws[f"B{r}"] = (f"=IF(Precision=\"fp8\",0+INDEX(GPU_TFLOPS_FP8,{m}),"
                       f"INDEX(GPU_TFLOPS,{m}))")
        ws[f"C{r}"] = f"=INDEX(GPU_MemoryGB,{m})"
        ok = f"AND(InputProblem=\"\",B{r}>0)"
        need = _roundup_count(f"FlopsPerParamToken*ActiveParams*Tokens/(DeadlineDays*86400*"
                              f"(B{r}*1E12*MFU)*Goodput)")
        mem = _roundup_count(f"Params*StateBytesPerParam*ActivationFactor/1E9/C{r}")
        ws[f"D{r}"] = f"=IF({ok},MAX({need},{mem}),\"n/a\")"
        ws[f"E{r}"] = (f"=IF({ok},FlopsPerParamToken*ActiveParams*Tokens/(D{r}*(B{r}*1E12*MFU))"
                       f"/86400/Goodput,\"n/a\")")
        ws[f"F{r}"] = f"=IF({ok},E{r}*24*D{r},\"n/a\")"
        ws[f"G{r}"] = f"=INDEX(GPU_CloudPrice,{m})*{blend}"
        ws[f"H{r}"] = f"=IF(AND({ok},G{r}>0),F{r}*G{r},\"n/a\")"
        ws[f"I{r}"] = (f"=IF({ok},F{r}*(0+INDEX(GPU_TDP,{m})+ServerPowerW/GPUsPerServer)/1E6*PUE,"
                       "\"n/a\")")
        ws[f"J{r}"] = f"=IF(ISNUMBER(H{r}),H{r}/(Tokens/1E6),\"n/a\")"
        ws[f"K{r}"] = (f"=IF(ISNUMBER(H{r}),IF(H{r}=MIN($H${first}:$H${last}),\"Cheapest\",\"\"),"
                       "\"\")")
        ws[f"L{r}"] = (f"=IF(ISNUMBER(E{r}),IF(E{r}=MIN($E${first}:$E${last}),\"Fastest\",\"\"),"
                       "\"\")")
        for col, fmt in zip("BCDEFGHIJKL", ("tflops", "gb", "count", "days", "hours",
                                            "usd_cents", "usd", "decimal", "usd_cents", "text",
                                            "text")):
            style(ws[f"{col}{r}"], "calc", fmt)
    define_name(wb, "GPUCompareTable", ws, f"A{first}:L{last}")
    green = PatternFill(fill_type="solid", start_color="C6EFCE", end_color="C6EFCE")
    gfont = Font(name=FONT, bold=True, color="006100")
    for col, word, cols in (("K", "Cheapest", ("H", "K")), ("L", "Fastest", ("E", "L"))):
        for c in cols:
            ws.conditional_formatting.add(
                f"{c}{first}:{c}{last}",
                FormulaRule(formula=[f"${col}{first}=\"{word}\""], fill=green, font=gfont))
    # The same serving demand (Inference & fine-tuning sheet) on every GPU.
    stop = last + 2
    put_text(ws[f"A{stop}"], "Serving the request rate of the Inference & fine-tuning sheet")
    style(ws[f"A{stop}"], "section")
    header_row(ws, stop + 1, SERVE_COLUMNS)
    ws.row_dimensions[stop + 1].height = 32
    sfirst = stop + 2
    slast = sfirst + len(ids) - 1
    for i, gid in enumerate(ids):
        r, t = sfirst + i, first + i  # t: the GPU's row in the training table
        m = f"MATCH($A{r},GPU_Ids,0)"
        put_text(ws[f"A{r}"], gid)
        style(ws[f"A{r}"], "label")
        ok = f"AND(ISNUMBER(ServeKVBytesPerToken),B{t}>0)"
        ws[f"B{r}"] = (f"=IF({ok},2^MAX(0,ROUNDUP(LOG(Params*ServeBytesPerParam*2/(C{t}*1E+9*"
                       "ServeMemUtil),2)-1E-9,0)),\"n/a\")")
        ws[f"C{r}"] = (f"=IF(ISNUMBER(B{r}),MAX(0,ROUNDDOWN((B{r}*C{t}*1E+9*ServeMemUtil-Params*"
                       "ServeBytesPerParam)/((ServePromptTokens+ServeOutputTokens)*MAX(1,"
                       "ServeKVBytesPerToken))*(1+1E-12)+1E-9,0)),\"n/a\")")
        flops = f"(B{r}*B{t}*1E+12*ServeEfficiency)"
        prefill = f"2*Params*ServePromptTokens*C{r}/{flops}"
        step = (f"MAX((Params*ServeBytesPerParam+C{r}*(ServePromptTokens+(ServeOutputTokens-1)/2)"
                f"*ServeKVBytesPerToken)/(B{r}*INDEX(GPU_MemBW,{m})*1E+9*ServeEfficiency),"
                f"2*Params*C{r}/{flops})")
        ws[f"D{r}"] = (f"=IF(AND(ISNUMBER(C{r}),C{r}>=1),C{r}*ServeOutputTokens/({prefill}+"
                       f"ServeOutputTokens*{step}),\"n/a\")")
        ws[f"E{r}"] = (f"=IF(ISNUMBER(D{r}),B{r}*ROUNDUP((ServeRequestsPerS*ServeOutputTokens/"
                       f"D{r})*(1-1E-12)-1E-9,0),\"n/a\")")
        ws[f"F{r}"] = f"=IF(AND(ISNUMBER(D{r}),G{t}>0),G{t}*B{r}/(D{r}*3600)*1E+6,\"n/a\")"
        ws[f"G{r}"] = f"=IF(ISNUMBER(F{r}),E{r}*730*G{t},\"n/a\")"
        ws[f"H{r}"] = (f"=IF(ISNUMBER(G{r}),IF(G{r}=MIN($G${sfirst}:$G${slast}),\"Cheapest\","
                       "\"\"),\"\")")
        for col, fmt in zip("BCDEFGH", ("count", "count", "count", "count", "usd_cents", "usd",
                                        "text")):
            style(ws[f"{col}{r}"], "calc", fmt)
    define_name(wb, "GPUCompareServing", ws, f"A{sfirst}:H{slast}")
    for c in ("G", "H"):
        ws.conditional_formatting.add(
            f"{c}{sfirst}:{c}{slast}",
            FormulaRule(formula=[f"$H{sfirst}=\"Cheapest\""], fill=green, font=gfont))
    note = slast + 2
    put_text(ws[f"A{note}"], "GPUs = the larger of the GPUs for the deadline (GPU_COUNT_TIME on "
             "the productive days) and by memory (GPU_COUNT_MEM); days = TRAIN_DAYS / goodput; "
             "cloud cost = GPU-hours x example on-demand price x the commitment/spot blend of "
             "Inputs; energy = GPU-hours x (TDP + server W / GPUs per server) x PUE. Serving: "
             "the roofline of the Inference & fine-tuning sheet with each GPU's memory, "
             "bandwidth and peak, its own GPUs per replica (weights in at most half the usable "
             "memory) and the largest batch that fits. 'n/a': no peak at this precision, no "
             "price, or an input to fix (Results > Checks).")
    style(ws[f"A{note}"], "note")
    ws.merge_cells(f"A{note}:L{note}")
    ws.row_dimensions[note].height = 45

    ch = ScatterChart()
    ch.title = "Cloud cost vs training days, one point per GPU"
    ch.style = 13
    ch.x_axis.title = "Training days (wall clock)"
    ch.y_axis.title = "Cloud cost (US dollars)"
    ch.x_axis.number_format = "#,##0.0"
    ch.y_axis.number_format = '"$"#,##0'
    ch.x_axis.delete = False
    ch.y_axis.delete = False
    ch.legend.position = "r"
    for i in range(len(ids)):
        r = first + i
        s = Series(Reference(ws, min_col=8, min_row=r), Reference(ws, min_col=5, min_row=r),
                   title_from_data=False)
        s.tx = SeriesLabel(strRef=StrRef(f"'{SHEET}'!$A${r}"))
        color = _COLORS[i % len(_COLORS)]
        s.marker.symbol = "circle"
        s.marker.size = 8
        s.marker.graphicalProperties.solidFill = color
        s.marker.graphicalProperties.line.solidFill = color
        s.graphicalProperties.line.noFill = True
        ch.series.append(s)
    ch.height = 7.5
    ch.width = 22
    ws.row_breaks.append(Break(id=note + 1))  # the chart prints whole on the next page
    ws.add_chart(ch, f"A{note + 2}")
    finish_sheet(ws, {"A": 18, "B": 11, "C": 11, "D": 10, "E": 10, "F": 13, "G": 12, "H": 15,
                      "I": 11, "J": 13, "K": 11, "L": 10}, freeze="B5", print_title_rows="1:2")
