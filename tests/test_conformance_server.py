"""The functions run through xlwings' own Office.js machinery (xlwings Lite and Server).

``xlwings.server.custom_functions_meta`` builds the function metadata Excel registers and
``custom_functions_call`` dispatches a call exactly as xlwings Server (and, in Pyodide,
xlwings Lite) does. Both live in ``xlwings.pro``, which refuses to import without a licence
key, and which is licensed PolyForm Noncommercial or commercially: the test runs only
when ``XLWINGS_LICENSE_KEY`` is set in the environment (a trial or paid key for
commercial work). Never commit a key or put one in CI configuration.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llm_budget_planner.addin import lite
from llm_budget_planner.addin._excel import REGISTRY
from llm_budget_planner.templates.demo import evaluate_input, example_inputs

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not os.environ.get("XLWINGS_LICENSE_KEY"),
    reason="XLWINGS_LICENSE_KEY is not set: xlwings.server (xlwings PRO) needs a licence key "
           "to import; set a trial or paid key in your own environment to run these tests")

SCRIPT = textwrap.dedent("""
    import asyncio, importlib, importlib.util, json, sys
    import xlwings
    import xlwings.server as server

    cases = json.loads(sys.argv[1])
    modules = sys.argv[2].split(";")
    lite_main = sys.argv[3]
    out = {"meta": {}, "calls": {}, "bad": None, "empty_optional": None, "lite_meta": []}

    def payload(name, args):
        return {"client": "Office.js", "func_name": name, "args": args,
                "caller_address": "[Book1.xlsx]Sheet1!B2", "session_id": "s1",
                "culture_info_name": "en-US", "date_format": "M/d/yyyy",
                "version": xlwings.__version__, "runtime": "1.4"}

    def call(module, name, args):
        return asyncio.run(server.custom_functions_call(payload(name, args), module))

    for name in modules:
        module = importlib.import_module(name)
        for f in server.custom_functions_meta(module)["functions"]:
            out["meta"][f["name"]] = f
    module = importlib.import_module(modules[0])
    for name, (args, n_params) in cases.items():
        # Office.js: every given argument is a matrix; omitted ones are null.
        matrices = [None if a is None else [[a]] for a in args]
        out["calls"][name] = call(module, name, matrices + [None] * (n_params - len(args)))
    try:
        call(module, "GPU_COUNT_MEM", [[[7]], [[18]], [[1.25]], [[24]], None])
    except xlwings.XlwingsError as exc:
        out["bad"] = str(exc)
    # An empty cell ("" in Office.js) in an optional argument means the default.
    out["empty_optional"] = call(module, "TRAIN_DAYS",
                                 [[[175e9]], [[300e9]], [[1024]], [[312]], [[0.45]], [[""]]])
    spec = importlib.util.spec_from_file_location("main", lite_main)
    main = importlib.util.module_from_spec(spec)
    sys.modules["main"] = main
    spec.loader.exec_module(main)
    out["lite_meta"] = sorted(f["name"] for f in server.custom_functions_meta(main)["functions"])
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("server")
    main_py = lite.write_bundle(tmp)[0]
    cases = {}
    for names in lite.functions_by_module().values():
        for name in names:
            inputs = example_inputs(REGISTRY[name].__udf__)
            if inputs is not None and not any(isinstance(a, (list, tuple)) for a in inputs):
                cases[name] = [[evaluate_input(a) for a in inputs],
                               len(REGISTRY[name].__udf__.params)]
    env = dict(os.environ, XLWINGS_ON_SERVER="true", PYTHONPATH=str(ROOT), TMPDIR=str(tmp))
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(cases), ";".join(lite.classic_udf_modules()),
         str(main_py)], cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return cases, json.loads(proc.stdout.strip().splitlines()[-1])


def _names():
    return sorted(n for names in lite.functions_by_module().values() for n in names)


def test_metadata_registers_every_function_with_its_descriptions(served):
    _, out = served
    assert sorted(out["meta"]) == _names()
    for name, meta in out["meta"].items():
        spec = REGISTRY[name].__udf__
        assert meta["description"] == spec.doc.split("\n\n")[0].replace("\n", " ")
        assert [p["name"] for p in meta["parameters"]] == spec.params
        assert [p["description"] for p in meta["parameters"]] == [a.doc for a in spec.args]
        optional = [bool(p.get("optional")) for p in meta["parameters"]]
        assert optional == [d is not inspect.Parameter.empty for d in spec.defaults]
        assert meta["result"] == {"dimensionality": "matrix", "type": "any"}


def test_calls_return_the_core_values(served):
    cases, out = served
    for name, (args, _) in cases.items():
        expected = REGISTRY[name](*args)
        expected = expected if isinstance(expected, list) else [[expected]]
        got = out["calls"][name]
        assert len(got) == len(expected), name
        for g_row, e_row in zip(got, expected):
            for g, e in zip(g_row, e_row):
                if isinstance(e, float):
                    assert g == pytest.approx(e, rel=1e-12), name
                else:
                    assert g == e, name


def test_errors_reach_the_cell_as_xlwings_error(served):
    _, out = served
    assert out["bad"] and out["bad"].startswith("#NUM! P is a raw parameter count")


def test_empty_optional_cell_means_default(served):
    _, out = served
    assert out["empty_optional"][0][0] == pytest.approx(33.8118, rel=1e-4)  # k = 8 default


def test_lite_bundle_registers_every_function(served):
    _, out = served
    assert out["lite_meta"] == _names()
