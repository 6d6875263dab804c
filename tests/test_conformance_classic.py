"""Classic xlwings: what "Import Functions" generates, produced on Linux by xlwings itself.

``xlwings.udfs.import_udfs`` (the code behind the ribbon's Import Functions button) needs
pywin32 and a workbook only to hand over its output: it writes a VBA module to a file and
imports it into the workbook, then calls ``Application.MacroOptions`` once per function
with the description, category and argument descriptions the Function Wizard shows. A
subprocess stubs the three pywin32 modules and the workbook, makes the classic
decorators xlwings' active ones (as on Windows), imports the UDF modules and runs the
real ``import_udfs``; the test reads what would have reached Excel.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llm_budget_planner.addin import lite
from llm_budget_planner.addin._excel import CATEGORY, REGISTRY

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import json, sys, types

    class com_error(Exception):
        pass

    pythoncom = types.ModuleType("pythoncom")
    pythoncom.CoInitialize = lambda: None
    pythoncom.IID_IDispatch = None
    pywintypes = types.ModuleType("pywintypes")
    pywintypes.com_error = com_error
    win32com = types.ModuleType("win32com")
    client = types.ModuleType("win32com.client")
    client.Dispatch = lambda obj: obj
    win32com.client = client
    sys.modules.update({"pythoncom": pythoncom, "pywintypes": pywintypes,
                        "win32com": win32com, "win32com.client": client})

    import xlwings
    from xlwings import udfs as classic

    # On Windows xlwings exports the classic decorators; here they are no-ops until set.
    xlwings.func, xlwings.arg, xlwings.ret = classic.xlfunc, classic.xlarg, classic.xlret

    imported, options = [], []

    class Components:
        def __call__(self, name):
            raise com_error("no such module yet")

        def Remove(self, component):
            pass

        def Import(self, path):
            with open(path, encoding="utf-8") as fh:
                imported.append(fh.read())

    class Application:
        Version = "16.0"

        def MacroOptions(self, macro, **kwargs):
            options.append({"macro": macro, **kwargs})

    class Workbook:
        Name = "llm_functions_demo.xlsm"
        Application = Application()
        VBProject = types.SimpleNamespace(VBComponents=Components())

        def __bool__(self):  # skips the embedded-code lookup, which needs a live Excel
            return False

    modules = sys.argv[1]
    classic.import_udfs(modules, Workbook())
    import importlib
    first = importlib.import_module(modules.split(";")[0])
    arg_options = {name: [a["options"] for a in getattr(first, name).__xlfunc__["args"]]
                   for name in dir(first) if hasattr(getattr(first, name), "__xlfunc__")}
    ret_converters = {name: getattr(getattr(first, name).__xlfunc__["ret"]["options"].get(
                          "convert"), "__name__", None)
                      for name in dir(first) if hasattr(getattr(first, name), "__xlfunc__")}
    print(json.dumps({"vba": imported, "options": options, "arg_options": arg_options,
                      "ret_converters": ret_converters}))
""")


@pytest.fixture(scope="module")
def imported():
    modules = ";".join(lite.classic_udf_modules())  # the demo workbook's UDF Modules
    env = {k: v for k, v in os.environ.items() if not k.startswith("XLWINGS_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, modules], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 and "No module named 'xlwings'" in proc.stderr:
        pytest.skip("xlwings is not installed")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(out["vba"]) == 1
    return out


def _wrappers(vba: str) -> dict[str, list[str]]:
    found = {}
    for m in re.finditer(r"^Function (\w+)\(([^)]*)\)$", vba, re.M):
        found[m.group(1)] = [a.strip() for a in m.group(2).split(",") if a.strip()]
    return found


def test_every_function_gets_a_vba_wrapper_with_its_arguments(imported):
    vba = imported["vba"][0]
    wrappers = _wrappers(vba)
    names = [n for ns in lite.functions_by_module().values() for n in ns]
    assert sorted(wrappers) == sorted(names)  # each exactly once: no "Ambiguous name"
    assert len(re.findall(r"^Function ", vba, re.M)) == len(names)
    listed_in = {n: m for m in lite.classic_udf_modules() for n in lite._exposed(m)}
    for name, args in wrappers.items():
        spec = REGISTRY[name].__udf__
        expected = [p if d is inspect.Parameter.empty else f"Optional {p}"
                    for p, d in zip(spec.params, spec.defaults)]
        assert args == expected, (name, args)
        module = listed_in[name]
        call = (f'{name} = XLPy.CallUDF("{module}", "{name}", Array({", ".join(spec.params)}), '
                "ThisWorkbook, Application.Caller)")
        assert call in vba, name
    # Errors become the cell's text (the layer returns one line, never a traceback).
    assert vba.count("= Err.Description") == len(names)


def test_vba_lines_and_parameters_within_limits(imported):
    vba = imported["vba"][0]
    assert max(len(line) for line in vba.splitlines()) <= 1023  # VBA's line length limit
    for name, args in _wrappers(vba).items():
        assert len(args) <= 60, name


def test_function_wizard_gets_summary_category_and_argument_descriptions(imported):
    by_name = {o["macro"].split("!")[1]: o for o in imported["options"]}
    names = [n for ns in lite.functions_by_module().values() for n in ns]
    assert sorted(by_name) == sorted(names)
    for name, opts in by_name.items():
        spec = REGISTRY[name].__udf__
        assert opts["macro"] == f"'llm_functions_demo.xlsm'!{name}"
        assert opts["Category"] == CATEGORY
        # The docstring's first paragraph, whole (xlwings cuts at 255 characters).
        summary = spec.doc.split("\n\n")[0].replace("\n", " ")
        assert opts["Description"] == summary and len(summary) <= 255
        expected = [a.doc for a in spec.args] or None
        assert opts["ArgumentDescriptions"] == expected, name


def test_every_argument_is_read_as_a_2d_range_with_error_cells_as_text(imported):
    """ndim=2: a cell or a range arrives as a 2-D list; err_to_str: an error cell arrives as
    its text (#N/A ...) instead of as an empty cell."""
    for name, options in imported["arg_options"].items():
        assert options == [{"ndim": 2, "err_to_str": True}] * len(REGISTRY[name].__udf__.params)


def test_every_range_result_goes_through_the_error_cells_converter(imported):
    """xlwings applies the return converter when it hands a result to Excel: it turns the
    error messages of a range result into real error values (tests/test_range_errors.py)."""
    converters = imported["ret_converters"]
    assert converters and set(converters.values()) == {"ErrorCells"}, converters
