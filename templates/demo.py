"""The demo workbook for the classic xlwings add-in: every Excel function on one row.

``dist/llm_functions_demo.xlsx`` has

* a ``Functions`` sheet with one row per Excel function (generated from the functions'
  own metadata, so a function added to any ``addin/udfs*.py`` module appears without
  further work): what it answers, its arguments, the worked example's inputs in input
  cells, the live formula calling the function on those cells, the value the Python
  core computes for the same inputs when the workbook is built, and a check cell that
  says ``OK`` when the two agree, so a user sees at once whether the add-in works;
* an ``xlwings.conf`` sheet that tells the xlwings add-in which Python module holds the
  functions (``UDF Modules``); it holds no path of the machine that built it (a user adds
  ``PYTHONPATH`` to run from a clone that is not installed); the add-in reads the keys in
  column A from A1 down to the first blank cell, so notes live in column D.

The formulas show ``#NAME?`` until the functions are imported (README: "Using the
functions in Excel").
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from llm_budget_planner.templates.portable import make_portable

__all__ = ["DEMO_NAME", "FIRST_ROW", "COLUMNS", "example_inputs", "parse_example_call",
           "evaluate_input", "array_constant", "first_number", "demo_rows", "build_demo",
           "write_demo"]

DEMO_NAME = "llm_functions_demo.xlsx"
FIRST_ROW = 5
COLUMNS = {"function": "A", "category": "B", "answers": "C", "arguments": "D",
           "formula": "E", "core": "F", "check": "G", "note": "H"}
FIRST_INPUT_COL = 9  # column I
_HEADERS = ["Function", "Category", "What it answers", "Arguments (in order)",
            "Formula (live, calls the function)", "Core value (Python, at build time)",
            "Check", "Note"]
_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


def _parse_call(text: str):
    """``F(1E9,"bf16",TRUE)`` -> ``("F", args)``; nested calls of literals become formula text."""
    # TRUE/FALSE outside quoted text become Python booleans.
    parts = re.split(r'("(?:[^"]|"")*")', text.strip())
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"\bTRUE\b", "True", re.sub(r"\bFALSE\b", "False", parts[i]))
        # An empty argument (=F(1,,2)) is an omitted one: a blank cell, None.
        parts[i] = re.sub(r"\(\s*(?=,)", "(None", parts[i])
        parts[i] = re.sub(r",\s*(?=[,)])", ",None", parts[i])
        parts[i] = re.sub(r",\s*(?=[,)])", ",None", parts[i])  # ,,, needs a second pass
    try:
        call = ast.parse("".join(parts), mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and not call.keywords):
        return None
    args = []
    for node in call.args:
        if isinstance(node, ast.Call):
            inner = _parse_call(ast.unparse(node))
            if inner is None or any(isinstance(a, str) and a.startswith("=") for a in inner[1]):
                return None
            args.append("=" + _excel_call(*inner))
            continue
        try:
            args.append(ast.literal_eval(node))
        except ValueError:
            return None
    return call.func.id, tuple(args)


def _excel_literal(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    return repr(value)


def _excel_call(name: str, args) -> str:
    return f"{name}({','.join(_excel_literal(a) for a in args)})"


def array_constant(rows) -> str:
    """A range's values as an Excel array constant: ``[[1],[2]]`` -> ``{1;2}``."""
    rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in rows]
    return "{" + ";".join(",".join(_excel_literal(v) for v in r) for r in rows) + "}"


def parse_example_call(name: str, example: str) -> tuple | None:
    """The arguments of a worked example such as ``=F(1E9,"bf16",TRUE) -> 3``.

    Numbers, text and TRUE/FALSE become Python values, an empty argument None (a blank
    cell); an argument that is itself a call
    with literal arguments (``=MFU(ITER_FLOPS(...),13.75,64,312)``) becomes formula text
    (``"=ITER_FLOPS(...)"``). Returns None when ``example`` is not such a call of ``name``.
    """
    call_text = example.split("->")[0].strip()
    if not call_text.startswith(f"={name}("):
        return None
    parsed = _parse_call(call_text[1:])
    if parsed is None or parsed[0] != name:
        return None
    return parsed[1]


def evaluate_input(value):
    """An input cell's value as the core sees it: formula text is computed by its function."""
    if isinstance(value, str) and value.startswith("="):
        from llm_budget_planner.addin._excel import REGISTRY

        name, args = _parse_call(value[1:])
        return REGISTRY[name](*(evaluate_input(a) for a in args))
    return value


def example_inputs(spec) -> tuple | None:
    """The worked example's inputs: ``example_args`` of the function, else its example call."""
    if getattr(spec, "example_args", None) is not None:
        return tuple(spec.example_args)
    return parse_example_call(spec.name, spec.example)


def first_number(rows) -> tuple[int, int]:
    """1-based (row, column) of a table's first number (past a header row), else (1, 1)."""
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if isinstance(cell, (int, float)) and not isinstance(cell, bool):
                return i + 1, j + 1
    return 1, 1


def _first_sentence(doc: str) -> str:
    return doc.strip().split("\n\n")[0].replace("\n", " ")


def demo_rows() -> list[dict]:
    """One dict per Excel function, in reference order, with the core's value."""
    from llm_budget_planner.addin.lite import functions_by_module
    from llm_budget_planner.addin.reference import GROUP_ORDER
    from llm_budget_planner.addin._excel import REGISTRY

    names = [n for names in functions_by_module().values() for n in names]
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    specs = sorted((REGISTRY[n].__udf__ for n in names),
                   key=lambda s: (order.get(s.group, len(order)), s.name))
    rows = []
    for spec in specs:
        inputs = example_inputs(spec)
        row = {"name": spec.name, "group": spec.group, "answers": _first_sentence(spec.doc),
               "params": list(spec.params), "docs": [a.doc for a in spec.args],
               "inputs": inputs, "value": None, "shape": None, "note": ""}
        if inputs is None:
            row["note"] = ("No worked example with literal inputs yet: type your own inputs "
                           "and formula.")
        else:
            value = REGISTRY[spec.name](*(evaluate_input(a) for a in inputs))
            if isinstance(value, list):
                row["shape"] = (len(value), len(value[0]) if value else 0)
                row["index"] = first_number(value)
                i, j = row["index"]
                value = value[i - 1][j - 1] if value and value[0] else None
                row["note"] = (f"The function returns {row['shape'][0]} x {row['shape'][1]} "
                               f"cells; INDEX shows the one in row {i}, column {j}. Enter it "
                               "alone in an empty area to see the whole result spill.")
            row["value"] = value
        rows.append(row)
    return rows


def _number_format(value) -> str:
    """Large and tiny numbers in scientific notation (7.00E+10 fits a 13-wide column where
    70,000,000,000 shows as ###), others with thousands separators."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value and \
            (abs(value) >= 1e8 or abs(value) < 1e-3):
        return "0.00E+00"
    if isinstance(value, float) and not float(value).is_integer():
        return "#,##0.0###"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "#,##0"
    return "General"


def build_demo() -> Workbook:
    """The demo workbook (not yet saved)."""
    from llm_budget_planner.addin.lite import classic_udf_modules

    rows = demo_rows()
    wb = Workbook()
    ws = wb.active
    ws.title = "Functions"
    ws["A1"] = "LLM GPU budget planner: every Excel function with a worked example"
    ws["A1"].font = Font(bold=True, size=14)
    for r in (1, 2, 3):
        ws.merge_cells(f"A{r}:H{r}")
        ws[f"A{r}"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[1].height = 22
    ws.row_dimensions[2].height = 30
    ws["A2"] = ("Yellow cells are inputs; column E calls the function on them and column G "
                "says OK when it agrees with the value the Python core gave for the same "
                "inputs (column F). #NAME? in column E means the functions are not imported "
                "yet: see the README, 'Using the functions in Excel'.")
    ws["A3"] = ("Change any yellow cell to try your own numbers (column G then compares "
                "with the build-time value and says 'differs').")
    max_inputs = max([len(r["inputs"] or ()) for r in rows] + [1])
    headers = _HEADERS + [f"Input {i + 1}" for i in range(max_inputs)]
    for j, text in enumerate(headers, start=1):
        cell = ws.cell(row=FIRST_ROW - 1, column=j, value=text)
        cell.font = Font(bold=True)
        cell.fill = _HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[FIRST_ROW - 1].height = 45
    for i, row in enumerate(rows):
        r = FIRST_ROW + i
        ws[f"A{r}"] = row["name"]
        ws[f"A{r}"].font = Font(bold=True)
        ws[f"B{r}"] = row["group"]
        ws[f"C{r}"] = row["answers"]
        ws[f"D{r}"] = ", ".join(row["params"]) if row["params"] else "(none)"
        ws[f"H{r}"] = row["note"]
        for c in "CDH":
            ws[f"{c}{r}"].alignment = Alignment(wrap_text=True, vertical="top")
        # Wrapped text needs its row height stated (LibreOffice keeps the default height).
        lines = max(-(-len(str(ws[f"{c}{r}"].value or "")) // int(w * 1.1))
                    for c, w in (("C", 60), ("D", 30), ("H", 36)))
        ws.row_dimensions[r].height = 15 * max(1, lines)
        for c in "ABEFG":
            ws[f"{c}{r}"].alignment = Alignment(vertical="top")
        if row["inputs"] is None:
            ws[f"G{r}"] = "no example"
            continue
        refs = []
        for k, value in enumerate(row["inputs"]):
            col = get_column_letter(FIRST_INPUT_COL + k)
            cell = ws[f"{col}{r}"]
            cell.comment = Comment(f"{row['params'][k]}: {row['docs'][k]}", "llm-budget-planner")
            if isinstance(value, (list, tuple)):  # a range: an array constant in the formula
                cell.value = "(array in the formula)"
                refs.append(array_constant(value))
                continue
            cell.value = value
            cell.fill = _INPUT_FILL
            cell.number_format = _number_format(value)
            refs.append(f"{col}{r}")
        call = f"{row['name']}({','.join(refs)})"
        if row["shape"]:
            ws[f"E{r}"] = f"=INDEX({call},{row['index'][0]},{row['index'][1]})"
        else:
            ws[f"E{r}"] = f"={call}"
        ws[f"F{r}"] = row["value"]
        ws[f"E{r}"].number_format = ws[f"F{r}"].number_format = _number_format(row["value"])
        if isinstance(row["value"], (int, float)) and not isinstance(row["value"], bool):
            same = f"ABS(E{r}-F{r})<=1E-9*MAX(1,ABS(F{r}))"
            ws[f"G{r}"] = (f'=IF(ISERROR(E{r}),"not imported yet (see README)",'
                           f'IF(ISNUMBER(E{r}),IF({same},"OK","differs"),E{r}))')
        else:
            ws[f"G{r}"] = (f'=IF(ISERROR(E{r}),"not imported yet (see README)",'
                           f'IF(E{r}=F{r},"OK","differs"))')
    widths = {"A": 34, "B": 17, "C": 60, "D": 30, "E": 20, "F": 20, "G": 16, "H": 36}
    for col, width in widths.items():
        ws.column_dimensions[col].width = width
    for k in range(max_inputs):
        ws.column_dimensions[get_column_letter(FIRST_INPUT_COL + k)].width = 14
    ws.freeze_panes = f"B{FIRST_ROW}"
    _print_setup(ws, f"1:{FIRST_ROW - 1}")

    conf = wb.create_sheet("xlwings.conf")
    conf["A1"] = "UDF Modules"
    conf["B1"] = ";".join(classic_udf_modules())
    notes = [
        "Settings the xlwings add-in reads for this workbook (keys in column A from A1 down "
        "to the first blank cell, values in column B).",
        "UDF Modules: the Python module that holds the functions (it imports the others).",
        "The package must be installed in the add-in's Python (pip install, or pip install -e "
        "from a clone). To use a clone without installing it, add a row PYTHONPATH in A2 "
        "with the project folder in B2 (this sheet ships without one: a built workbook holds "
        "no path of the machine that built it).",
        "If the add-in uses a different Python than the one you installed into, set "
        "Interpreter (or Conda Path and Conda Env) in the xlwings ribbon tab.",
        "After an upgrade of this package or of xlwings: xlwings tab > Import Functions "
        "again, then Restart UDF Server.",
    ]
    for i, text in enumerate(notes, start=1):
        conf[f"D{i}"] = text
    conf.column_dimensions["A"].width = 16
    conf.column_dimensions["B"].width = 40
    conf.column_dimensions["D"].width = 100
    for r, text in enumerate(notes, start=1):
        conf[f"D{r}"].alignment = Alignment(wrap_text=True, vertical="top")
        conf.row_dimensions[r].height = 15 * max(1, -(-len(text) // 105))
    _print_setup(conf, None)
    return make_portable(wb)


def _print_setup(ws, title_rows: str | None) -> None:
    """Landscape, one page wide, repeated header rows, footer with file, sheet, page and date."""
    import datetime as _dt

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.center.text = (f"&F - &A - page &P of &N - built "
                                f"{_dt.date.today().isoformat()}")
    ws.oddFooter.center.size = 8


def write_demo(out_dir: Path) -> Path:
    """Build the demo workbook and save it atomically as ``out_dir/llm_functions_demo.xlsx``."""
    from llm_budget_planner.templates.output import save_workbook

    return save_workbook(build_demo(), Path(out_dir) / DEMO_NAME)
