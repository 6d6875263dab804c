"""The classic add-in's demo workbook: one live row per Excel function, and its settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from llm_budget_planner.addin import lite
from llm_budget_planner.addin._excel import REGISTRY
from llm_budget_planner.templates import demo

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    path = demo.write_demo(tmp_path_factory.mktemp("dist"))
    assert path.name == "llm_functions_demo.xlsx"
    return load_workbook(path)


def _function_rows(ws):
    rows = {}
    r = demo.FIRST_ROW
    while ws[f"A{r}"].value:
        rows[ws[f"A{r}"].value] = r
        r += 1
    return rows


def test_one_row_per_excel_function(workbook):
    rows = _function_rows(workbook["Functions"])
    expected = [n for names in lite.functions_by_module().values() for n in names]
    assert sorted(rows) == sorted(expected)
    assert len(expected) >= 31


def test_each_row_calls_its_function_on_its_input_cells(workbook):
    ws = workbook["Functions"]
    for name, r in _function_rows(ws).items():
        spec = REGISTRY[name].__udf__
        inputs = demo.example_inputs(spec)
        if inputs is None:
            assert ws[f"G{r}"].value == "no example" and ws[f"H{r}"].value
            continue
        formula = ws[f"E{r}"].value
        m = re.fullmatch(rf"=(?:INDEX\()?{name}\(([^()]*)\)(?:,[0-9]+,[0-9]+\))?", formula)
        assert m, formula
        refs = re.findall(r"\{[^}]*\}|[A-Z]+[0-9]+", m.group(1))
        assert len(refs) == len(inputs) <= len(spec.params)
        # The input cells hold the worked example's values, in argument order (a range
        # argument is an array constant in the formula).
        cell_values = []
        for ref, value in zip(refs, inputs):
            if ref.startswith("{"):
                assert ref == demo.array_constant(value)
                cell_values.append(value)
            else:
                cell_values.append(ws[ref].value)
        assert cell_values == list(inputs)
        # Column F: what the core computes for exactly those inputs.
        expected = REGISTRY[name](*(demo.evaluate_input(v) for v in cell_values))
        if isinstance(expected, list):
            i, j = demo.first_number(expected)
            assert formula.startswith("=INDEX(") and formula.endswith(f",{i},{j})")
            expected = expected[i - 1][j - 1]
        assert ws[f"F{r}"].value == pytest.approx(expected) \
            if isinstance(expected, float) else ws[f"F{r}"].value == expected
        assert not (isinstance(expected, str) and expected.startswith("#")), (name, expected)
        assert ws[f"G{r}"].value.startswith(f"=IF(ISERROR(E{r})")


def test_worked_examples_reproduce_the_values_they_show():
    """The example string's '-> value' is what the function returns for those inputs."""
    wrong = []
    for row in demo.demo_rows():
        if row["inputs"] is None or row["shape"] or isinstance(row["value"], str):
            continue  # no example (listed below), or a table, or text
        example = REGISTRY[row["name"]].__udf__.example
        shown = example.split("->", 1)[1].strip().split(" ")[0] if "->" in example else ""
        if not re.fullmatch(r"[0-9][0-9,]*(\.[0-9]+)?(E[+-]?[0-9]+)?", shown):
            continue
        number = float(shown.replace(",", ""))
        digits = shown.split("E")[0].replace(",", "")
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        scale = 10 ** int(shown.split("E")[1]) if "E" in shown else 1
        tolerance = 0.5 * 10 ** -decimals * scale
        if abs(row["value"] - number) > tolerance * (1 + 1e-9):
            wrong.append(f"{row['name']}: shows {shown}, computes {row['value']:.6g}")
    assert not wrong, wrong


def test_xlwings_conf_sheet_names_the_udf_modules(workbook):
    conf = workbook["xlwings.conf"]
    assert conf["A1"].value == "UDF Modules"
    modules = conf["B1"].value.split(";")
    assert modules[0] == "llm_budget_planner.addin.udfs"
    assert modules == lite.classic_udf_modules()
    # Together they expose every function, each exactly once (tests/test_conformance_classic.py
    # runs xlwings' own Import Functions on this setting).
    # No PYTHONPATH: a shipped workbook holds no path of the machine that built it.
    # The add-in reads keys from A1 down to the first blank cell: nothing else in column A.
    assert all(conf.cell(row=r, column=1).value is None for r in range(2, conf.max_row + 1))


def test_functions_without_a_worked_example():
    """Lists the Excel functions whose demo row has no inputs: give them example_args=."""
    missing = [r["name"] for r in demo.demo_rows() if r["inputs"] is None]
    assert not missing, ("no worked example with literal inputs (add example_args=(...) to "
                         f"the udf decorator): {missing}")


def test_first_number_skips_a_header_row():
    assert demo.first_number([["tp", "pp"], [4, 16]]) == (2, 1)
    assert demo.first_number([["a"], ["b"]]) == (1, 1)
    assert demo.first_number([[True, 2.5]]) == (1, 2)


def test_array_constant():
    assert demo.array_constant([[1.5], [-2], ["a"]]) == '{1.5;-2;"a"}'
    assert demo.array_constant([[1, 2], [3, True]]) == "{1,2;3,TRUE}"


def test_parse_example_call():
    assert demo.parse_example_call("F", '=F(1E9,"bf16",TRUE) -> 3') == (1e9, "bf16", True)
    assert demo.parse_example_call("F", '=F("TRUE, FALSE",FALSE)') == ("TRUE, FALSE", False)
    assert demo.parse_example_call("MFU", "=MFU(ITER_FLOPS(64,2048,FALSE),13.75) -> 0.5") == (
        "=ITER_FLOPS(64,2048,FALSE)", 13.75)
    assert demo.parse_example_call("F", "=G(1) -> 2") is None
    assert demo.parse_example_call("F", "=F(A1,2)") is None
    # An empty argument is an omitted one: a blank input cell.
    assert demo.parse_example_call("F", "=F(1,,2,)") == (1, None, 2, None)
    assert demo.parse_example_call("F", '=F(",,",,)') == (",,", None, None)
    assert demo.parse_example_call("F", "a column of ids") is None


def test_check_column_in_a_spreadsheet_engine(tmp_path):
    """LibreOffice recalculates the check cells: 'not imported yet' without the functions,
    'OK' once the formula cells hold what the add-in returns, the message or 'differs'
    otherwise."""
    from tests import libreoffice

    if libreoffice.soffice_path() is None:
        pytest.skip(f"LibreOffice is not installed: {libreoffice.INSTALL_HINT}")
    wb = demo.build_demo()
    ws = wb["Functions"]
    rows = _function_rows(ws)
    answered = wb.copy_worksheet(ws)
    answered.title = "Answered"
    for name, r in rows.items():
        formula = ws[f"E{r}"].value
        if not formula:
            continue
        refs = re.findall(r"\{[^}]*\}|[A-Z]+[0-9]+", formula.split("(", 1)[1])
        inputs = demo.example_inputs(REGISTRY[name].__udf__)
        cells = [inputs[k] if ref.startswith("{") else ws[ref].value for k, ref in enumerate(refs)]
        value = REGISTRY[name](*(demo.evaluate_input(v) for v in cells))
        if isinstance(value, list):
            i, j = demo.first_number(value)
            value = value[i - 1][j - 1]
        answered[f"E{r}"] = value
    first = rows["TRAIN_DAYS"]
    answered[f"E{first}"] = "#NUM! MFU is a fraction between 0 and 1: use 0.45 for 45%"
    answered[f"E{rows['LLM_PARAMS']}"] = 1.0
    src = tmp_path / "demo.xlsx"
    wb.save(src)
    out = libreoffice.recalc([src], tmp_path / "out", libreoffice.make_profile(tmp_path / "p"))
    values = load_workbook(out[0], data_only=True)
    plain, done = values["Functions"], values["Answered"]
    for name, r in rows.items():
        if not ws[f"E{r}"].value:
            continue
        assert plain[f"G{r}"].value == "not imported yet (see README)", name
        expected = {first: "#NUM! MFU is a fraction between 0 and 1: use 0.45 for 45%",
                    rows["LLM_PARAMS"]: "differs"}.get(r, "OK")
        assert done[f"G{r}"].value == expected, (name, done[f"E{r}"].value, done[f"F{r}"].value)
