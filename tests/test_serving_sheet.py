"""The budget planner's Serving sheet: build-time table, live formulas, API prices."""

import datetime as dt
import math

import pytest
from openpyxl.utils.formulas import validate

import addin.udfs as x
from templates import build_budget_planner
from templates.serving_sheet import DEFAULTS, SHEET, serving_sheet, serving_table


@pytest.fixture(scope="module")
def wb():
    return build_budget_planner(extra_sheets=[lambda w, n: serving_sheet(
        w, n, built=dt.date(2026, 11, 29))])


def test_sheet_has_named_inputs_results_and_a_dated_table(wb):
    ws = wb[SHEET]
    for name in ("SrvRequestsPerS", "SrvTokensPerDay", "SrvRate", "SrvModel", "SrvGPU",
                 "SrvPrecision", "SrvTTFTSLO", "SrvTPOTSLO", "SrvUSDPerGPUHour", "SrvGPUs",
                 "SrvMonthlyUSD", "SrvUSDPerMOutput", "SrvAPIPriceId", "SrvAPIMonthlyUSD",
                 "SrvAPIUSDPerMOutput", "SrvTableCheck"):
        assert name in wb.defined_names, name
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("computed 2026-11-29" in t for t in texts)
    check = next(t for t in texts if t.startswith('=IF(AND(SrvModel="llama-3-70b"'))
    assert "Inputs changed" in check
    for t in texts:
        if t.startswith("="):
            validate(t)


def test_table_rows_reproduce_serve_plan(wb):
    """The live fleet formula (fewest replicas x tp over the rows) gives SERVE_PLAN's
    cheapest fleet at the default demand, and every row meets the targets."""
    d = DEFAULTS
    rows = serving_table(d["model"], d["gpu"], d["precision"], d["prompt"], d["output"],
                         d["ttft"], d["tpot"])
    fleet = []
    for tp, b, tps, ttft, tpot in rows:
        if b is None:
            continue
        assert ttft <= d["ttft"] and tpot <= d["tpot"]
        fleet.append(math.ceil(d["rps"] * d["output"] / tps * (1 - 1e-12)) * tp)
    plan = x.SERVE_PLAN(d["model"], d["gpu"], d["rps"], d["prompt"], d["output"],
                        d["precision"], d["ttft"], d["tpot"])
    assert min(fleet) == plan[1][0]
    ws = wb[SHEET]
    values = [[c.value for c in r] for r in ws.iter_rows(max_col=3)]
    tp_rows = [v for v in values if isinstance(v[0], int) and v[2] not in (None, "")]
    assert [v[2] for v in tp_rows] == [round(r[2], 6) for r in rows if r[1] is not None]


def test_api_price_table_matches_the_catalog(wb):
    ws = wb[SHEET]
    ids = {c.value for c in ws["A"] if isinstance(c.value, str)}
    table = x.API_PRICE_LIST()
    assert {r[0] for r in table[1:]} <= ids
