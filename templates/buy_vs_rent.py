"""The procurement planner's "Buy vs rent" sheet: cost per GPU-hour owned, breakeven, chart.

Native formulas over the planner's names (``GPU``, ``GPUPowerW``, ``PUE``,
``ElectricityUSDPerKWh``, ``GPUsRequired``) that repeat :func:`formulas.money.tco_per_gpu_hour`
and :func:`formulas.money.buy_vs_rent_breakeven_months`, a month-by-month table of the
cumulative cost of renting against owning one GPU, and a chart where the lines cross at the
breakeven.

Use it as an ``extra_sheets`` builder of :func:`templates.build_procurement_planner`::

    wb = build_procurement_planner(extra_sheets=[buy_vs_rent_sheet])
"""

from __future__ import annotations

from typing import Mapping

from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.workbook import Workbook

from formulas.assumptions import assumption

from .defaults import default
from .sheets import (Form, Rule, define_name, finish_sheet, header_row, put_text,
                     sheet_heading)
from .styles import style

__all__ = ["buy_vs_rent_sheet", "SHEET", "MONTHS"]

SHEET = "Buy vs rent"
MONTHS = tuple(range(0, 61, 3))  #: rows of the cumulative-cost table


def buy_vs_rent_sheet(wb: Workbook, names: Mapping[str, str]) -> None:
    """Add the "Buy vs rent" sheet (a :data:`templates.budget.SheetBuilder`)."""
    ws = wb.create_sheet(SHEET)
    sheet_heading(ws, "Buy vs rent: owning cost per GPU-hour and the breakeven month",
                  "Buying pays once (GPU plus its share of server, network and storage) and then "
                  "only energy; renting pays every hour. Prices default to the GPUs sheet's EXAMPLE"
                  " prices (dated public prices, NOT quotes): type your quotes.",
                  "F",
                  height=30)
    f = Form(wb, ws, row=4)
    f.header()
    look = "MATCH(GPU,GPU_Ids,0)"
    f.section("Inputs")
    f.input("BVRUnitPriceUSD", "Purchase price per GPU", None, "$ per GPU", "usd",
            Rule("decimal", "Price of one GPU in US dollars, e.g. 25000.", "Enter dollars "
                 "between 0 and 10,000,000.", 0, 10000000),
            "EXAMPLE price from the GPUs sheet: type your quote.",
            default_formula=f"=0+INDEX(GPU_PurchasePrice,{look})")
    f.input("BVRRentUSDPerHour", "Rental price per GPU-hour", None, "$ per GPU-hour",
            "usd_cents", Rule("decimal", "Cloud price per GPU-hour, e.g. 2.99.", "Enter dollars "
                              "between 0 and 1000.", 0, 1000),
            "EXAMPLE price from the GPUs sheet: type your rate.",
            default_formula=f"=0+INDEX(GPU_CloudPrice,{look})")
    years = default("amortisation_years")
    f.input("BVRYears", "Amortisation period", years.value, "years", "decimal",
            Rule("decimal", "Years over which the hardware is written off, e.g. 5.",
                 "Enter years between 0.5 and 30.", 0.5, 30), years.source)
    f.input("BVRUtilisation", "Utilisation", 1, "fraction", "pct",
            Rule("decimal", "Share of hours the GPU does paid work, e.g. 0.7.",
                 "Enter a fraction between 0.01 and 1.", 0.01, 1),
            "1 = busy every hour; idle owned GPUs still cost their capital.")
    f.input("BVRServerOverhead", "Server, network, storage share", assumption("server_overhead"),
            "fraction of GPU price", "pct",
            Rule("decimal", "Non-GPU hardware as a fraction of the GPU price, e.g. 0.3.",
                 "Enter a fraction between 0 and 10.", 0, 10),
            "Assumption (project default 30%): replace with your quote.")

    f.section("Results per GPU")
    f.result("BVREnergyUSDPerHour", "Energy per GPU-hour", "=GPUPowerW/1000*PUE*"
             "ElectricityUSDPerKWh", "$ per GPU-hour", "usd_cents",
             "Power x PUE x electricity price (Requirement sheet).")
    f.result("BVRTCOPerGPUHour", "Owning cost per used GPU-hour", "=BVRUnitPriceUSD*(1+"
             "BVRServerOverhead)/(BVRYears*8760*BVRUtilisation)+BVREnergyUSDPerHour",
             "$ per GPU-hour", "usd_cents", "TCO_PER_GPU_HOUR: capital over the hours used, "
             "plus energy.", key=True)
    f.result("BVRBreakevenMonths", "Breakeven (months of use)", "=IF(BVRRentUSDPerHour>"
             "BVREnergyUSDPerHour,BVRUnitPriceUSD*(1+BVRServerOverhead)/((BVRRentUSDPerHour-"
             "BVREnergyUSDPerHour)*730*BVRUtilisation),\"never: rent is below the energy cost\")",
             "months", "decimal", "BUY_VS_RENT_BREAKEVEN_MONTHS: capital / (rent - energy) per "
             "month of use.", key=True)
    f.result("BVRVerdict", "Over the amortisation period", "=IF(ISNUMBER(BVRBreakevenMonths),"
             "IF(BVRBreakevenMonths<=BVRYears*12,\"Buying is cheaper\",\"Renting is cheaper\"),"
             "\"Renting is cheaper\")", "", "text", "")

    f.section("Results for the cluster (Requirement sheet)")
    f.result("BVRFleetCapexUSD", "Buy: up-front", "=GPUsRequired*BVRUnitPriceUSD*(1+"
             "BVRServerOverhead)", "$", "usd", "GPUs required x price x (1 + overhead).")
    f.result("BVRFleetRentPerMonth", "Rent: per month", "=GPUsRequired*BVRRentUSDPerHour*730*"
             "BVRUtilisation", "$ per month", "usd", "GPUs x rate x 730 hours x utilisation.")
    f.result("BVRFleetOwnPerMonth", "Own: energy per month", "=GPUsRequired*BVREnergyUSDPerHour"
             "*730*BVRUtilisation", "$ per month", "usd", "")

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
        ws[f"C{r}"] = f"=BVRUnitPriceUSD*(1+BVRServerOverhead)+BVREnergyUSDPerHour*730*" \
                      f"BVRUtilisation*A{r}"
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
    finish_sheet(ws, {"A": 40, "B": 20, "C": 22, "D": 16, "E": 16, "F": 70}, freeze="A5")
