"""The procurement planner's "Buy vs rent" sheet: cost per GPU-hour owned, breakeven, chart.

Native formulas over the planner's names (``GPU``, ``GPUPowerW``, ``ServerPowerW``,
``GPUsPerServer``, ``PUE``, ``ElectricityUSDPerKWh``, ``GPUsToBuy``, ``CapexUSD``): the owning
cost per used GPU-hour (a PMT capital charge at the cost of capital less the residual value,
energy, colocation; with a zero rate and no colocation it is
:func:`formulas.money.tco_per_gpu_hour`), the undiscounted breakeven month
(:func:`formulas.money.buy_vs_rent_breakeven_months` plus colocation), a net-present-value
table over the useful life, and the cumulative cost of one GPU rented or owned with a chart.

Use it as an ``extra_sheets`` builder of :func:`templates.build_procurement_planner`::

    wb = build_procurement_planner(extra_sheets=[buy_vs_rent_sheet])
"""

from __future__ import annotations

from typing import Mapping

from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.workbook import Workbook

from .defaults import default
from .sheets import (Form, Rule, define_name, finish_sheet, header_row, put_text,
                     sheet_heading)
from .styles import style

__all__ = ["buy_vs_rent_sheet", "SHEET", "MONTHS", "MAX_YEARS", "MISSING_PRICES"]

SHEET = "Buy vs rent"
MONTHS = tuple(range(0, 61, 3))  #: rows of the cumulative-cost table
MAX_YEARS = 10  #: rows of the NPV table (years 0..10); the useful life is at most this
#: Prices a verdict needs, in the order they are reported: (Excel value, what is missing).
MISSING_PRICES = (
    ("BVRRentUSDPerHour", "the rental price per GPU-hour (this sheet)"),
    ("INDEX(QuotePrice,SelectedQuoteIndex)", "the chosen quote's price (Vendor quotes)"),
    ("SwitchPriceUSD", "the switch price (Requirement)"),
    ("LinkPriceUSD", "the link price (Requirement)"),
    ("StorageCapexUSD", "the storage price (Requirement: a price per TB or a share of capex)"),
)


def buy_vs_rent_sheet(wb: Workbook, names: Mapping[str, str]) -> None:
    """Add the "Buy vs rent" sheet (a :data:`templates.budget.SheetBuilder`)."""
    ws = wb.create_sheet(SHEET)
    sheet_heading(ws, "Buy vs rent: owning cost per GPU-hour, NPV and the breakeven month",
                  "Buying pays the capex of the Vendor quotes sheet once (the GPUs bought, their "
                  "servers, network, storage and contingency), then energy and colocation; "
                  "renting pays every hour used. The same cost model as the budget planner: a "
                  "capital charge (annuity at the cost of capital, less the residual value) over "
                  "the hours used, plus energy and colocation. Rent defaults to the GPUs sheet's "
                  "EXAMPLE price (NOT a quote).",
                  "F", height=45)
    f = Form(wb, ws, row=4, note_width=55)
    f.header()
    look = "MATCH(GPU,GPU_Ids,0)"
    d = default
    f.section("Inputs")
    f.input("BVRRentUSDPerHour", "Rental price per GPU-hour", None, "$ per GPU-hour",
            "usd_cents", Rule("decimal", "Cloud price per GPU-hour, e.g. 2.99 (your blended "
                              "rate).", "Enter dollars between 0 and 1000.", 0, 1000),
            "EXAMPLE on-demand price from the GPUs sheet: type your rate.",
            default_formula=f"=0+INDEX(GPU_CloudPrice,{look})")
    years = d("amortisation_years")
    f.input("BVRYears", "Useful life (straight-line depreciation)", years.value, "years",
            "count", Rule("whole", "Whole years over which the hardware is written off, e.g. 5.",
                          f"Enter whole years between 1 and {MAX_YEARS}.", 1, MAX_YEARS),
            years.source)
    for name, key, label, unit, fmt, low, high in (
            ("BVRUtilisation", "owned_utilisation", "Utilisation of the owned cluster",
             "fraction of hours", "pct", 0.01, 1),
            ("BVRCostOfCapital", "cost_of_capital", "Cost of capital (discount rate)",
             "fraction per year", "pct", 0, 1),
            ("BVRResidualValue", "residual_value", "Residual value at the end of the life",
             "fraction of capex", "pct", 0, 1),
            ("BVRColocationUSDPerKWMonth", "colocation_usd_per_kw_month", "Colocation",
             "$ per kW-month", "usd", 0, 100000)):
        item = d(key)
        f.input(name, label, item.value, unit, fmt,
                Rule("decimal", f"{label}, e.g. {item.value:g} ({unit}).",
                     f"Enter a number between {low:g} and {high:,}.", low, high), item.source)

    priced = "AND(" + ",".join(f"{price}>0" for price, _ in MISSING_PRICES) + ")"
    incomplete = f"=IF({priced},\"$\",\"$ INCOMPLETE\")"
    f.section("Per GPU bought")
    f.result("BVRCapexPerGPUUSD", "Capex per GPU (all-in)", "=CapexUSD/GPUsToBuy", "$ per GPU",
             "usd", "Vendor quotes: capex incl. network, storage and contingency / GPUs bought.",
             unit_formula="=IF(AND(INDEX(QuotePrice,SelectedQuoteIndex)>0,SwitchPriceUSD>0,"
                          "LinkPriceUSD>0,StorageCapexUSD>0),\"$ per GPU\",\"$ INCOMPLETE\")")
    f.result("BVRCapitalPerGPUYear", "Capital charge per GPU-year", "=PMT(BVRCostOfCapital,"
             "BVRYears,-BVRCapexPerGPUUSD,BVRResidualValue*BVRCapexPerGPUUSD)", "$ per GPU-year",
             "usd", "Annuity repaying the capex less the discounted residual value (Excel PMT).")
    f.result("BVRDepreciationPerGPUYear", "  of which straight-line depreciation",
             "=BVRCapexPerGPUUSD*(1-BVRResidualValue)/BVRYears", "$ per GPU-year", "usd",
             "(Capex - residual value) / useful life.")
    f.result("BVRFinancingPerGPUYear", "  of which financing cost",
             "=BVRCapitalPerGPUYear-BVRDepreciationPerGPUYear", "$ per GPU-year", "usd",
             "Capital charge - depreciation.")
    f.result("BVRGPUKW", "IT power per GPU incl. its server share",
             "=(GPUPowerW+ServerPowerW/GPUsPerServer)/1000", "kW", "kw", "Requirement sheet.")
    f.result("BVREnergyUSDPerHour", "Energy per GPU-hour", "=BVRGPUKW*PUE*ElectricityUSDPerKWh",
             "$ per GPU-hour", "usd_cents", "IT kW x PUE x electricity price.")
    f.result("BVRColocationUSDPerHour", "Colocation per used GPU-hour",
             "=BVRGPUKW*BVRColocationUSDPerKWMonth*12/(8760*BVRUtilisation)", "$ per GPU-hour",
             "usd_cents", "Paid every month whether or not the GPU works.")
    f.result("BVRTCOPerGPUHour", "Owning cost per used GPU-hour", "=BVRCapitalPerGPUYear/(8760*"
             "BVRUtilisation)+BVREnergyUSDPerHour+BVRColocationUSDPerHour", "$ per GPU-hour",
             "usd_cents", "TCO_PER_GPU_HOUR with a capital charge instead of price / life, plus "
             "colocation.", key=True)
    f.result("BVRBreakevenMonths", "Breakeven (months, undiscounted)",
             "=IF(730*BVRUtilisation*(BVRRentUSDPerHour-BVREnergyUSDPerHour)-BVRGPUKW*"
             "BVRColocationUSDPerKWMonth>0,BVRCapexPerGPUUSD/(730*BVRUtilisation*("
             "BVRRentUSDPerHour-BVREnergyUSDPerHour)-BVRGPUKW*BVRColocationUSDPerKWMonth),"
             "\"never: rent is below the running cost\")", "months", "decimal",
             "Capex / (rent saved - energy - colocation) per month, as BUY_VS_RENT_BREAKEVEN_"
             "MONTHS (no interest).", key=True,
             unit_formula=f"=IF({priced},\"months\",\"months INCOMPLETE\")")
    f.result("BVRVerdict", "Cheaper over the useful life",
             "=IF(InputProblem<>\"\",\"Fix input (Requirement > Check of the inputs)\","
             + "".join(f"IF(NOT({price}>0),\"No verdict: {what} is missing\","
                       for price, what in MISSING_PRICES)
             + "IF(BVRTCOPerGPUHour<BVRRentUSDPerHour,\"Buying is cheaper\",\"Renting is "
             "cheaper\")" + ")" * (len(MISSING_PRICES) + 1), "", "text",
             "Owning cost per used GPU-hour vs rent; the NPV below gives the same answer. No "
             "verdict while a price of either side is missing.", key=True)

    f.section("The cluster (GPUs bought, Vendor quotes)")
    f.result("BVRFleetCapexUSD", "Buy: up-front", "=CapexUSD", "$", "usd",
             "Capex of the chosen quote incl. network, storage and contingency.")
    f.result("BVRFleetRentPerMonth", "Rent: per month", "=GPUsToBuy*BVRRentUSDPerHour*730*"
             "BVRUtilisation", "$ per month", "usd", "GPUs bought x rate x 730 hours x "
             "utilisation.")
    f.result("BVRFleetOwnPerMonth", "Own: energy and colocation per month", "=GPUsToBuy*("
             "BVREnergyUSDPerHour*730*BVRUtilisation+BVRGPUKW*BVRColocationUSDPerKWMonth)",
             "$ per month", "usd", "")

    f.row += 1
    top = f.row
    put_text(ws[f"A{top}"], "Net present value over the useful life (cash out, year-end)")
    style(ws[f"A{top}"], "section")
    header_row(ws, top + 1, ("Year", "Rent ($)", "Own ($)", "Discount factor",
                             "Rent, present value ($)", "Own, present value ($)"))
    ws.row_dimensions[top + 1].height = 30
    first = top + 2
    for t in range(MAX_YEARS + 1):
        r = first + t
        put_text(ws[f"A{r}"], t)
        style(ws[f"A{r}"], "calc", "count")
        ws[f"B{r}"] = f"=IF(AND({t}>=1,{t}<=BVRYears),BVRFleetRentPerMonth*12,0)"
        ws[f"C{r}"] = ("=CapexUSD" if t == 0 else
                       f"=IF({t}<=BVRYears,BVRFleetOwnPerMonth*12,0)-IF({t}=BVRYears,"
                       "BVRResidualValue*CapexUSD,0)")
        ws[f"D{r}"] = f"=1/(1+BVRCostOfCapital)^{t}"
        ws[f"E{r}"] = f"=B{r}*D{r}"
        ws[f"F{r}"] = f"=C{r}*D{r}"
        for col in "BCEF":
            style(ws[f"{col}{r}"], "calc", "usd")
        style(ws[f"D{r}"], "calc", "decimal")
    nlast = first + MAX_YEARS
    define_name(wb, "BVRNPVTable", ws, f"A{first}:F{nlast}")
    f.row = nlast + 1
    f.result("BVRNPVRentUSD", "NPV of renting (cost)", f"=SUM(E{first}:E{nlast})", "$", "usd",
             "Sum of the discounted rent.")
    f.result("BVRNPVOwnUSD", "NPV of owning (cost)", f"=SUM(F{first}:F{nlast})", "$", "usd",
             "Capex now + discounted running cost - discounted residual value.",
             unit_formula=incomplete)
    f.result("BVRNPVBuyUSD", "NPV of buying instead of renting", "=BVRNPVRentUSD-BVRNPVOwnUSD",
             "$", "usd", "Positive: buying saves this much in today's money.", key=True,
             unit_formula=incomplete)

    f.row += 1
    top = f.row
    header_row(ws, top, ("Months of use", "Rent, cumulative ($ per GPU)",
                         "Buy, cumulative ($ per GPU)"))
    ws.row_dimensions[top].height = 32
    for i, m in enumerate(MONTHS):
        r = top + 1 + i
        put_text(ws[f"A{r}"], m)
        style(ws[f"A{r}"], "calc", "count")
        ws[f"B{r}"] = f"=BVRRentUSDPerHour*730*BVRUtilisation*A{r}"
        ws[f"C{r}"] = (f"=BVRCapexPerGPUUSD+(BVREnergyUSDPerHour*730*BVRUtilisation+BVRGPUKW*"
                       f"BVRColocationUSDPerKWMonth)*A{r}")
        for col in "BC":
            style(ws[f"{col}{r}"], "calc", "usd")
    last = top + len(MONTHS)
    define_name(wb, "BVRTable", ws, f"A{top + 1}:C{last}")

    ch = ScatterChart()
    ch.title = "Cumulative cost of one GPU: rent vs buy"
    ch.style = 13
    ch.x_axis.title = "Months of use"
    ch.y_axis.title = "US dollars"
    ch.x_axis.number_format = "#,##0"
    ch.y_axis.number_format = '"$"#,##0'
    ch.x_axis.delete = False
    ch.y_axis.delete = False
    ch.legend.position = "b"
    xref = Reference(ws, min_col=1, min_row=top + 1, max_row=last)
    for col, color in ((2, "C00000"), (3, "2F5597")):
        s = Series(Reference(ws, min_col=col, min_row=top, max_row=last), xref,
                   title_from_data=True)
        s.smooth = False
        s.marker.symbol = "none"
        s.graphicalProperties.line.solidFill = color
        s.graphicalProperties.line.width = 28575
        ch.series.append(s)
    ch.height = 8
    ch.width = 16
    ws.add_chart(ch, f"E{top}")
    finish_sheet(ws, {"A": 40, "B": 20, "C": 22, "D": 16, "E": 20, "F": 60}, freeze="A5",
                 print_title_rows="1:2")
