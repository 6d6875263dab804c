"""The budget planner's Serving sheet: build-time table, live formulas, API prices."""

import datetime as dt
import math

import pytest
from openpyxl.utils.formulas import validate

import llm_budget_planner.addin.udfs as x
from llm_budget_planner.formulas.catalog import gpu_prices
from llm_budget_planner.templates import build_budget_planner, catalog_sheets
from llm_budget_planner.templates.serving_sheet import DEFAULTS, SHEET, serving_sheet, serving_table


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


# ------------------------------------------------------------ recalculated by LibreOffice

SCENARIOS = {
    "default": {},
    # Demand as tokens per day (1E9 a day of 1,250-token requests = 9.26 requests/s), a
    # different price and the pricier API: self-hosting wins.
    "tokens_per_day": {"SrvRequestsPerS": 0, "SrvTokensPerDay": 1e9, "SrvUSDPerGPUHour": 2.5,
                       "SrvAPIPriceId": "openai-gpt-4o"},
    # Inputs the table was not built for: the check says so.
    "changed": {"SrvModel": "llama-2-7b", "SrvRequestsPerS": 1},
}


@pytest.fixture(scope="module")
def recalculated(lo_profile, tmp_path_factory):
    from llm_budget_planner.templates.output import save_workbook
    from tests import libreoffice as lo
    from tests.test_workbooks import set_input

    src = tmp_path_factory.mktemp("srv_src")
    built, paths = {}, []
    for key, overrides in SCENARIOS.items():
        wb = build_budget_planner(extra_sheets=[lambda w, n: serving_sheet(
            w, n, built=dt.date(2026, 11, 29))])
        for name, value in overrides.items():
            set_input(wb, name, value)
        path = src / f"serving_{key}.xlsx"
        save_workbook(wb, path)
        built[key] = wb
        paths.append(path)
    from openpyxl import load_workbook

    outs = lo.recalc(paths, tmp_path_factory.mktemp("srv_out"), lo_profile)
    return {k: (built[k], load_workbook(o, data_only=True)) for k, o in zip(built, outs)}


@pytest.mark.parametrize("key", list(SCENARIOS))
def test_serving_sheet_recalculates_to_the_core(recalculated, key):
    from tests.test_workbooks import ERRORS, read_named

    src, out = recalculated[key]

    def v(name):
        return read_named(src, out, name)

    for name in ("SrvRate", "SrvGPUs", "SrvTP", "SrvReplicas", "SrvMonthlyUSD",
                 "SrvUSDPerMOutput", "SrvAPIMonthlyUSD", "SrvAPIUSDPerMOutput", "SrvVerdict",
                 "SrvTableCheck"):
        got = v(name)
        assert got is not None and not (isinstance(got, str) and got.startswith(ERRORS)), name
    d = DEFAULTS
    rate = v("SrvRate")
    prompt, out_t, price = v("SrvPromptTokens"), v("SrvOutputTokens"), v("SrvUSDPerGPUHour")
    if key == "tokens_per_day":
        assert rate == pytest.approx(1e9 / 86400 / 1250, rel=1e-12)
    else:  # one cost model: the serving GPU-hour is priced like every cloud cost (Results)
        blend = v("RentBlendFactor")
        example = catalog_sheets.example_price(gpu_prices(), v("SrvGPU"), "cloud")[0]
        assert price == pytest.approx(example * blend, rel=1e-12)
        if v("SrvGPU") == v("GPU"):
            assert price == pytest.approx(v("RentUSDPerGPUHour"), rel=1e-12)
    rows = serving_table(d["model"], d["gpu"], d["precision"], d["prompt"], d["output"],
                         d["ttft"], d["tpot"])
    fleets = [(math.ceil(rate * out_t / round(tps, 6) * (1 - 1e-12) - 1e-9) * tp, tp)
              for tp, b, tps, _, _ in rows if b is not None]
    gpus, tp = min(fleets)
    assert v("SrvGPUs") == gpus and v("SrvTP") == tp
    assert v("SrvMonthlyUSD") == pytest.approx(gpus * price * 730, rel=1e-12)
    assert v("SrvUSDPerMOutput") == pytest.approx(
        x.COST_PER_M_TOKENS(rate * out_t, price, gpus), rel=1e-9)
    pid = v("SrvAPIPriceId")
    api = (prompt * x.API_PRICE(pid, "input_usd_per_m")
           + out_t * x.API_PRICE(pid, "output_usd_per_m")) / 1e6
    assert v("SrvAPIMonthlyUSD") == pytest.approx(rate * 3600 * 730 * api, rel=1e-12)
    cheaper = "Self-hosting" if v("SrvMonthlyUSD") < v("SrvAPIMonthlyUSD") else "The API"
    assert v("SrvVerdict").startswith(cheaper)
    assert v("SrvTableCheck").startswith("Inputs changed" if key == "changed" else "OK")
    if key == "tokens_per_day":
        assert cheaper == "Self-hosting"
