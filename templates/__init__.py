"""Generators of the planning workbooks: openpyxl workbooks of native Excel formulas.

* :func:`build_budget_planner` -> ``llm_budget_planner.xlsx``: training time, GPUs (by
  deadline and by memory), memory breakdown, cloud vs on-premises cost, sensitivity
  tables, monthly spend and charts.
* :func:`build_procurement_planner` -> ``llm_procurement_planner.xlsx``: GPUs required,
  servers, network, storage, racks and power, three vendor quotes, delivery schedule.

Both return an unsaved ``Workbook``; ``build.py`` saves them with
:func:`templates.output.save_workbook` (atomic). Every computed cell is a formula that
Excel 2010+ and LibreOffice 7.4 evaluate (INDEX/MATCH, no XLOOKUP/LET/dynamic arrays);
inputs and key results are workbook-scoped defined names (``Params``, ``Tokens``,
``NumGPUs``, ``PeakTFLOPS``, ``MFU``, ``PricePerGPUHour``, ``TrainingDays``, ``GPUHours``,
``TrainingCostUSD``; ``GPUsRequired``, ``Servers``, ``CapexUSD`` ...).

Adding a sheet from another module
----------------------------------
Pass builders to the generator; each is called as ``builder(wb, names)`` after the
planner's own sheets and catalogs exist (the catalogs are then moved to the end), where
``names`` maps every defined name to a description. A builder creates its sheet and writes
formulas over the names, reusing the shared helpers::

    from llm_budget_planner.templates import build_budget_planner
    from llm_budget_planner.templates.sheets import Form, Rule, finish_sheet
    from llm_budget_planner.templates.styles import style

    def parallel_plan_sheet(wb, names):
        ws = wb.create_sheet("Parallel plan")
        f = Form(wb, ws, row=4, with_default=False)
        f.header(("Result", "Value", "Unit", "Formula / source"))
        f.result("DataParallel", "Data-parallel degree", "=NumGPUs/8", "GPUs", "count",
                 "GPUs / tensor-parallel degree")
        finish_sheet(ws, {"A": 40, "B": 16, "C": 14, "D": 60})

    wb = build_budget_planner(extra_sheets=[parallel_plan_sheet])

Register the builder in ``build.py``'s ``build_workbooks`` so ``python build.py`` ships it.
:func:`templates.sheets.define_name` names new cells; :class:`templates.sheets.Rule` and
``Form.input`` add validated inputs in the input style. The recalculation tests in
``tests/test_workbooks.py`` check every formula cell of the whole workbook for error
values, so an added sheet is covered by them automatically.
"""

from .budget import build_budget_planner
from .procurement import build_procurement_planner

__all__ = ["build_budget_planner", "build_procurement_planner"]
