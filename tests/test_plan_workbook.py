"""The budget planner's "Parallel plan" sheet: core values at build time, live status, refresh.

Built with :func:`templates.build_budget_planner` and the sheet builder, then recalculated
by LibreOffice once (default inputs and a changed input set): the table holds what the
core computes, no formula of the sheet computes to an error, and the status cell notices
changed inputs.
"""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook

from llm_budget_planner.formulas import plan
from llm_budget_planner.templates import build_budget_planner
from llm_budget_planner.templates.output import save_workbook
from llm_budget_planner.templates.parallel_plan import SHEET, TOP, parallel_plan_sheet, plan_inputs
from tests import libreoffice as lo
from tests.test_workbooks import read_named, set_input

BUILT = dt.date(2026, 11, 23)
ERRORS = ("#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "Err:")


def _build(overrides=None):
    wb = build_budget_planner(built=BUILT, extra_sheets=[
        lambda w, names: parallel_plan_sheet(w, names, BUILT)])
    for name, value in (overrides or {}).items():
        set_input(wb, name, value)
    return wb


def _table_rows(ws):
    header_at = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "tp")
    header = [ws.cell(header_at, c).value for c in range(1, len(plan.PLAN_COLUMNS) + 1)]
    rows = [[ws.cell(r, c).value for c in range(1, len(header) + 1)]
            for r in range(header_at + 1, header_at + 1 + TOP)]
    return header, rows


def test_sheet_holds_the_core_search_for_the_default_inputs():
    wb = _build()
    assert SHEET in wb.sheetnames
    assert wb.sheetnames.index(SHEET) < wb.sheetnames.index("GPUs")  # catalogs stay last
    ws = wb[SHEET]
    assert "build time (2026-11-23)" in ws["A2"].value
    header, rows = _table_rows(ws)
    assert header == list(plan.PLAN_COLUMNS)
    p = plan_inputs()
    want = plan.plan_training(p["P"], p["L"], p["h"], p["a"], p["T"], p["gpu"], p["num_gpus"],
                              p["s"], p["global_batch_tokens"], TOP)
    for got, exp in zip(rows, want.itertuples(index=False, name=None)):
        for g, e, col in zip(got, exp, plan.PLAN_COLUMNS):
            if col == "sequence_parallel":
                assert g == ("TRUE" if e else "FALSE")
            elif isinstance(e, str):
                assert g == e
            else:
                assert g == pytest.approx(float(e), rel=1e-12), col
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert "=PLAN_TRAINING(" in text and "refresh" in text.lower()
    # the refresh instruction is text, never a formula Excel would try to evaluate
    assert not any(c.data_type == "f" and "PLAN_TRAINING(" in str(c.value)
                   for row in ws.iter_rows() for c in row)


@pytest.fixture(scope="module")
def recalculated(lo_profile, tmp_path_factory):
    src = tmp_path_factory.mktemp("plan_src")
    cases = {"default": {}, "changed": {"GPUCount": 512, "Model": "custom"}}
    paths, built = [], {}
    for key, overrides in cases.items():
        wb = _build(overrides)
        path = src / f"{key}.xlsx"
        save_workbook(wb, path)
        paths.append(path)
        built[key] = wb
    outs = lo.recalc(paths, tmp_path_factory.mktemp("plan_out"), lo_profile)
    return {key: (built[key], load_workbook(out, data_only=True))
            for key, out in zip(cases, outs)}


@pytest.mark.parametrize("key", ["default", "changed"])
def test_no_formula_of_the_sheet_computes_to_an_error(recalculated, key):
    src, out = recalculated[key]
    bad, n = [], 0
    for row in src[SHEET].iter_rows():
        for c in row:
            if c.data_type == "f":
                n += 1
                v = out[SHEET][c.coordinate].value
                if out[SHEET][c.coordinate].data_type == "e" or (
                        isinstance(v, str) and v.startswith(ERRORS)):
                    bad.append((c.coordinate, c.value, v))
    assert n >= 8 and not bad, bad


def test_status_follows_the_inputs(recalculated):
    def status(key):
        src, out = recalculated[key]
        ws = src[SHEET]
        r = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Table status")
        return out[SHEET].cell(r, 2).value

    assert status("default") == "Matches the current inputs"
    assert status("changed").startswith("Inputs changed since the build")
    src, out = recalculated["default"]
    ws = out[SHEET]
    p = plan_inputs()
    assert ws["C5"].value == p["model"] and ws["C12"].value == p["num_gpus"]
    assert ws["C6"].value == pytest.approx(p["P"]) and ws["C7"].value == p["L"]
    assert ws["C9"].value == p["a"]


def test_plan_advice_carries_over_without_mixing_conventions(lo_profile, tmp_path):
    """The sheet's 'Utilisation to type on Inputs', typed on Inputs, makes Results show the
    plan's best days / goodput (typing the model-FLOPs MFU instead would be 8/6 off)."""
    p = plan_inputs()
    best = plan.plan_training(p["P"], p["L"], p["h"], p["a"], p["T"], p["gpu"], p["num_gpus"],
                              p["s"], p["global_batch_tokens"], 1).iloc[0]
    wb = _build()
    (out,) = lo.recalc([save_workbook(wb, tmp_path / "a.xlsx")], tmp_path / "a", lo_profile)
    got = load_workbook(out, data_only=True)
    util = read_named(wb, got, "PlanUtilisationForInputs")
    k, peak = read_named(wb, got, "FlopsPerParamToken"), read_named(wb, got, "PeakTFLOPS")
    assert util == pytest.approx(k * p["P"] * p["T"] / (p["num_gpus"] * peak * 1e12 *
                                                        float(best.days) * 86400), rel=1e-6)
    assert util == pytest.approx(float(best.mfu) * k / 6, rel=0.15)  # 6PT + attention
    wb2 = _build({"MFU": util})
    (out2,) = lo.recalc([save_workbook(wb2, tmp_path / "b.xlsx")], tmp_path / "b", lo_profile)
    got2 = load_workbook(out2, data_only=True)
    days = read_named(wb2, got2, "TrainingDays") * read_named(wb2, got2, "Goodput")
    assert days == pytest.approx(float(best.days), rel=1e-6)
