"""One cost model, one verdict; no verdict without its prices; bad inputs named, not cascaded.

Recalculated in headless LibreOffice:

* the budget planner's Results and Program verdicts and the procurement planner's Buy vs rent
  verdict, given the same prices (the procurement planner's all-in capex per GPU typed into
  the budget planner as the purchase price), price an owned GPU-hour the same and agree;
* a missing cloud or purchase price gives a verdict that names the missing price in words,
  and a saving of "n/a", never "Cloud", "On-premises", "Buy" or "Rent";
* 0 GPUs, a negative price or a utilisation of 0 leave no error value in the status cell or
  the checks list, and the headline results point to the input to fix.
"""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

import build
from llm_budget_planner.templates.output import save_workbook
from tests import libreoffice as lo
from tests.test_workbooks import ERRORS, read_named, set_input

BAD_INPUTS = {
    "zero_gpus": ({"GPUCount": 0}, "GPU count"),
    "negative_price": ({"PricePerGPUHour": -2}, "Cloud price per GPU-hour"),
    "mfu_zero": ({"MFU": 0}, "FLOPs utilisation"),
    "mfu_zero_deadline": ({"MFU": 0, "PlanBy": "Deadline"}, "FLOPs utilisation"),
}
MISSING_PRICES = {
    "no_cloud_price": ({"PricePerGPUHour": 0}, "cloud price"),
    "no_purchase_price": ({"UnitPricePerGPU": 0}, "purchase price"),
}


def _books(overrides: dict):
    books = build.build_workbooks()
    for name, value in overrides.items():
        set_input(books["llm_budget_planner.xlsx"], name, value)
    return books


def _recalc(cases: dict, tmp, profile) -> dict:
    paths, srcs = [], {}
    for key, (overrides, _) in cases.items():
        wb = _books(overrides)["llm_budget_planner.xlsx"]
        path = tmp / f"{key}.xlsx"
        save_workbook(wb, path)
        paths.append(path)
        srcs[key] = wb
    outs = lo.recalc(paths, tmp / "out", profile)
    return {key: (srcs[key], load_workbook(out, data_only=True)) for key, out in
            zip(cases, outs)}


@pytest.fixture(scope="module")
def bad(lo_profile, tmp_path_factory):
    return _recalc({**BAD_INPUTS, **MISSING_PRICES}, tmp_path_factory.mktemp("bad"), lo_profile)


def _check_cells(src, out):
    ws = src["Results"]
    cells = [c.coordinate for row in ws.iter_rows() for c in row if c.style == "Check"]
    assert len(cells) >= 7
    return [out["Results"][c].value for c in cells]


@pytest.mark.parametrize("key", list(BAD_INPUTS))
def test_bad_inputs_are_named_not_cascaded(bad, key):
    src, out = bad[key]
    _, what = BAD_INPUTS[key]
    status = read_named(src, out, "CheckSummary")
    checks = _check_cells(src, out)
    for value in [status, *checks]:
        assert not (isinstance(value, str) and value.startswith(ERRORS)), (key, value)
    assert status == "Input to fix: see Checks"
    assert what in read_named(src, out, "InputProblem")
    for name in ("TrainingDays", "GPUHours", "TrainingCostUSD", "OnPremCostUSD",
                 "CheaperOption", "ProgCheaper", "ProgCloudUSD"):
        assert read_named(src, out, name) == "Fix input (see Checks)", name


@pytest.mark.parametrize("key", list(MISSING_PRICES))
def test_no_verdict_without_its_prices(bad, key):
    src, out = bad[key]
    _, what = MISSING_PRICES[key]
    for name in ("CheaperOption", "ProgCheaper"):
        text = read_named(src, out, name)
        assert text.startswith("No verdict:") and what in text, (name, text)
    assert read_named(src, out, "SavingUSD") == "n/a: no verdict"
    unit = {"cloud price": "TrainingCostUSD", "purchase price": "OnPremCostUSD"}[what]
    sheet, coord = src.defined_names[unit].attr_text.replace("$", "").split("!")
    row = int(coord[1:])
    assert "INCOMPLETE" in out["Results"][f"C{row}"].value
    assert any(isinstance(c, str) and what in c for c in _check_cells(src, out))


def test_one_cost_model_one_verdict(lo_profile, tmp_path_factory):
    """The procurement planner's all-in capex per GPU, rent and finance terms typed into the
    budget planner: the owned GPU-hour costs the same on Results and on Buy vs rent, and
    Results, Program and Buy vs rent give the same verdict (buying, at the shipped EXAMPLE
    prices); then with a rent of $0.50 per GPU-hour, the same verdict (renting) everywhere."""
    tmp = tmp_path_factory.mktemp("agree")
    books = build.build_workbooks()
    proc = books["llm_procurement_planner.xlsx"]
    set_input(proc, "StoragePriceUSDPerTB", 100)
    (p_out,) = lo.recalc([save_workbook(proc, tmp / "proc.xlsx")], tmp / "p", lo_profile)
    p = load_workbook(p_out, data_only=True)
    pv = lambda name: read_named(proc, p, name)  # noqa: E731
    cases = {}
    for key, rent in (("as_shipped", pv("BVRRentUSDPerHour")), ("cheap_to_rent", 0.5)):
        budget = build.build_workbooks()["llm_budget_planner.xlsx"]
        same = {"PricePerGPUHour": rent, "UnitPricePerGPU": pv("BVRCapexPerGPUUSD"),
                "ServerCostUSD": 0, "AmortisationYears": pv("BVRYears"),
                "CostOfCapital": pv("BVRCostOfCapital"), "ResidualValue": pv("BVRResidualValue"),
                "OwnedUtilisation": pv("BVRUtilisation"),
                "ColocationUSDPerKWMonth": pv("BVRColocationUSDPerKWMonth"),
                "PUE": pv("PUE"), "ElectricityUSDPerKWh": pv("ElectricityUSDPerKWh"),
                "ServerPowerW": pv("ServerPowerW"), "GPUsPerServer": pv("GPUsPerServer"),
                "GPUCount": pv("GPUsToBuy")}
        for name, value in same.items():
            set_input(budget, name, value)
        proc2 = build.build_workbooks()["llm_procurement_planner.xlsx"]
        set_input(proc2, "StoragePriceUSDPerTB", 100)
        set_input(proc2, "BVRRentUSDPerHour", rent)
        cases[key] = (save_workbook(budget, tmp / f"b_{key}.xlsx"), budget,
                      save_workbook(proc2, tmp / f"p_{key}.xlsx"), proc2)
    paths = [x for c in cases.values() for x in (c[0], c[2])]
    outs = iter(lo.recalc(paths, tmp / "out", lo_profile))
    verdicts = set()
    for key, (_, budget, _, proc2) in cases.items():
        b = load_workbook(next(outs), data_only=True)
        p2 = load_workbook(next(outs), data_only=True)
        bv = lambda name: read_named(budget, b, name)  # noqa: E731
        qv = lambda name: read_named(proc2, p2, name)  # noqa: E731
        assert bv("OnPremCostPerGPUHour") == pytest.approx(qv("BVRTCOPerGPUHour"), rel=1e-9)
        assert bv("RentUSDPerGPUHour") == pytest.approx(qv("BVRRentUSDPerHour"), rel=1e-9)
        buy = {"On-premises": True, "Cloud": False}[bv("CheaperOption")]
        assert {"Buy (capex)": True, "Rent (opex)": False}[bv("ProgCheaper")] == buy
        assert {"Buying is cheaper": True, "Renting is cheaper": False}[qv("BVRVerdict")] == buy
        assert (qv("BVRNPVBuyUSD") > 0) == buy
        verdicts.add(buy)
    assert verdicts == {True, False}, "the two cases should reach opposite verdicts"


@pytest.mark.parametrize("overrides,what", [({"MFU": 0}, "FLOPs utilisation"),
                                            ({"SwitchPriceUSD": -5}, "unit prices"),
                                            ({"StoragePriceUSDPerTB": -5}, "unit prices")])
def test_procurement_bad_inputs_are_named(lo_profile, tmp_path, overrides, what):
    """The procurement planner names the input to fix; its checks and verdict show no error."""
    wb = build.build_workbooks()["llm_procurement_planner.xlsx"]
    for name, value in overrides.items():
        set_input(wb, name, value)
    (out,) = lo.recalc([save_workbook(wb, tmp_path / "p.xlsx")], tmp_path / "o", lo_profile)
    got = load_workbook(out, data_only=True)
    problem = read_named(wb, got, "InputProblem")
    assert what in problem
    assert read_named(wb, got, "ScheduleCheck") == problem
    assert read_named(wb, got, "BVRVerdict").startswith("Fix input")
    assert read_named(wb, got, "RackCheck") == "OK"
