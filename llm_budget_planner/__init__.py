"""The GPU budget planner for Excel, installed under one import name.

``llm_budget_planner.formulas`` is the core (pure Python + numpy),
``llm_budget_planner.addin`` the Excel functions (xlwings), ``llm_budget_planner.templates``
the workbook generators. In the source tree they are the folders ``formulas/``, ``addin/``
and ``templates/``.
"""
