"""The xlwings Lite bundle: a main.py that works alone, with only Pyodide-available imports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llm_budget_planner.addin import lite
from llm_budget_planner.templates.demo import evaluate_input, example_inputs

ROOT = Path(__file__).resolve().parent.parent
# Pure-Python packages from PyPI, or packages Pyodide builds itself.
PYODIDE_OK = {"numpy", "pandas", "pydantic", "xlwings"}
# Standard-library modules that do not work in Pyodide (no processes, threads or sockets).
PYODIDE_BROKEN_STDLIB = {"multiprocessing", "subprocess", "threading", "socket", "tkinter",
                         "concurrent", "ssl", "venv", "ensurepip", "curses", "readline"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    paths = lite.write_bundle(out)
    return {p.name: p for p in paths}


def _clean_env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("XLWINGS_") and k not in ("PYTHONPATH", "PYTHONHOME")}
    env["TMPDIR"] = str(tmp)
    return env


def _run(script: str, tmp: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    # -I: isolated mode, neither the repository nor PYTHONPATH is on sys.path.
    return subprocess.run([sys.executable, "-I", "-c", script], cwd=tmp, capture_output=True,
                          text=True, env=env or _clean_env(tmp), timeout=120)


def _expected():
    from llm_budget_planner.addin._excel import REGISTRY

    names = [n for ns in lite.functions_by_module().values() for n in ns]
    cases = {}
    for name in names:
        inputs = example_inputs(REGISTRY[name].__udf__)
        if inputs is not None:
            resolved = [evaluate_input(a) for a in inputs]  # nested example calls computed
            cases[name] = [resolved, REGISTRY[name](*resolved)]
    return names, cases


def test_bundle_files_are_written(bundle):
    assert set(bundle) == {"main.py", "requirements.txt"}
    assert bundle["main.py"].parent.name == lite.LITE_DIR


def test_main_py_imports_alone_and_every_function_works(bundle, tmp_path):
    names, cases = _expected()
    script = textwrap.dedent(f"""
        import json, runpy, sys
        main = runpy.run_path({str(bundle['main.py'])!r}, run_name="main")
        cases = json.loads({json.dumps(json.dumps(cases))})
        results = {{n: main[n](*c[0]) for n, c in cases.items()}}
        files = sorted({{getattr(m, "__file__", "") or "" for k, m in sys.modules.items()
                        if k.split(".")[0] == "llm_budget_planner"}})
        print(json.dumps({{"names": sorted(main["__all__"]),
                          "callable": sorted(k for k in main["__all__"] if callable(main[k])),
                          "xlfunc": sorted(k for k in main["__all__"]
                                           if hasattr(main[k], "__xlfunc__")),
                          "results": results, "files": files}}))
    """)
    proc = _run(script, tmp_path)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["names"] == sorted(names)
    assert got["callable"] == sorted(names)
    # XLWINGS_ON_SERVER unset: xlwings' decorators are no-ops, the functions plain Python.
    assert got["xlfunc"] == []
    for name, (_, expected) in cases.items():
        assert got["results"][name] == pytest.approx(expected, rel=1e-12) \
            if isinstance(expected, float) else got["results"][name] == expected, name
    # Every module came from the unpacked bundle, none from the repository.
    assert got["files"]
    assert all(str(tmp_path) in f and str(ROOT) not in f for f in got["files"]), got["files"]


def test_a_second_paste_replaces_the_first(bundle, tmp_path):
    """Lite re-runs main.py after every edit: a newer bundle must win over loaded modules."""
    sources = lite.bundle_sources()
    newer = dict(sources)
    newer["formulas/__init__.py"] += "\nBUNDLE_MARKER = 'second'\n"
    second = tmp_path / "second_main.py"
    second.write_text(lite.main_py(newer), encoding="utf-8")
    script = textwrap.dedent(f"""
        import runpy, sys
        runpy.run_path({str(bundle['main.py'])!r}, run_name="main")
        from llm_budget_planner import formulas
        first = getattr(formulas, "BUNDLE_MARKER", None)
        again = runpy.run_path({str(bundle['main.py'])!r}, run_name="main")
        main = runpy.run_path({str(second)!r}, run_name="main")
        from llm_budget_planner import formulas
        print(first, formulas.BUNDLE_MARKER, main["TRAIN_DAYS"](175E9, 300E9, 1024, 312, 0.45))
    """)
    proc = _run(script, tmp_path)
    assert proc.returncode == 0, proc.stderr
    first, marker, days = proc.stdout.split()
    assert (first, marker) == ("None", "second")
    assert float(days) == pytest.approx(33.8118, rel=1e-4)  # GPT-3 on 1024 A100 at 45% MFU


def test_bundle_carries_every_function_module_and_the_catalogs():
    sources = lite.bundle_sources()
    for module in lite.udf_module_names():
        assert module.split(".", 1)[1].replace(".", "/") + ".py" in sources
    assert "addin/_excel.py" in sources
    assert {"formulas/data/gpus.csv", "formulas/data/models.csv"} <= set(sources)
    # Only text the carried code needs; nothing built, nothing that only build.py uses.
    assert all(rel.endswith((".py", ".csv")) for rel in sources)
    assert "addin/lite.py" not in sources and "addin/reference.py" not in sources


def test_bundle_imports_only_what_pyodide_has():
    sources = lite.bundle_sources()
    third = lite.third_party_imports(sources)
    assert third <= PYODIDE_OK, f"not available in xlwings Lite: {sorted(third - PYODIDE_OK)}"
    stdlib = set()
    import ast

    for rel, text in sources.items():
        if rel.endswith(".py"):
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.Import):
                    stdlib.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    stdlib.add(node.module.split(".")[0])
    assert not stdlib & PYODIDE_BROKEN_STDLIB, sorted(stdlib & PYODIDE_BROKEN_STDLIB)


def test_requirements_bound_pure_packages_and_leave_pyodide_builds_unpinned(bundle):
    lines = [ln.strip() for ln in bundle["requirements.txt"].read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    names = {ln.split("<")[0].split(">")[0].split("=")[0].strip(): ln for ln in lines}
    assert "xlwings" in names and "<" in names["xlwings"]
    for built in ("numpy", "pydantic", "pandas"):
        if built in names:
            assert names[built] == built, f"{built} is built by Pyodide: do not pin it"
    # Every third-party import of the bundle is a requirement.
    assert lite.third_party_imports(lite.bundle_sources()) <= set(names)


def test_in_pyodide_errors_raise_xlwings_error(bundle, tmp_path):
    """Under Pyodide (sys.platform == "emscripten") a bad input raises XlwingsError, which
    xlwings Lite shows as #VALUE! with the message on hover; range results keep text."""
    script = textwrap.dedent(f"""
        import json, runpy, sys
        main = runpy.run_path({str(bundle['main.py'])!r}, run_name="main")
        import xlwings
        sys.platform = "emscripten"  # decided per call, as inside xlwings Lite
        try:
            main["GPU_COUNT_MEM"](7, 18, 1.25, 24)
            raised = None
        except xlwings.XlwingsError as exc:
            raised = str(exc)
        column = main["GPU_COUNT_MEM"]([[7E9], [7]], 18, 1.25, 24)
        print(json.dumps({{"raised": raised, "column": column}}))
    """)
    proc = _run(script, tmp_path)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["raised"].startswith("#NUM! P is a raw parameter count: use 7E9 for 7B")
    # Llama 7B training state on 24 GB cards: 7E9·18·1.25/24E9 = 6.6 -> 7 GPUs.
    assert got["column"][0] == [7]
    assert got["column"][1][0].startswith("#NUM! P is a raw parameter count")


def test_other_packages_and_planted_folders_are_left_alone(bundle, tmp_path):
    """The bundle imports under its own name, never removes another package's modules, and
    writes to a folder created by this run, so a folder planted beforehand is never used."""
    planted = tmp_path / "llm_budget_planner_planted" / "llm_budget_planner" / "formulas"
    planted.mkdir(parents=True)
    (planted / "__init__.py").write_text("def train_days(*a):\n    return 42\n")
    script = textwrap.dedent(f"""
        import runpy, sys, types
        for name in ("formulas", "addin", "templates"):
            sys.modules[name] = types.ModuleType(name)
            sys.modules[name].MARK = name
        main = runpy.run_path({str(bundle['main.py'])!r}, run_name="main")
        print(sys.modules["formulas"].MARK, sys.modules["addin"].MARK,
              main["TRAIN_DAYS"](175E9, 300E9, 1024, 312, 0.45))
    """)
    proc = _run(script, tmp_path)
    assert proc.returncode == 0, proc.stderr
    formulas_mark, addin_mark, days = proc.stdout.split()
    assert (formulas_mark, addin_mark) == ("formulas", "addin")
    assert float(days) == pytest.approx(33.8118, rel=1e-4)


def test_a_file_that_does_not_match_its_hash_is_refused(bundle, tmp_path):
    text = bundle["main.py"].read_text(encoding="utf-8")
    start = text.index("_SHA256 = {")
    tampered = text[:start] + re.sub(r"('formulas/units\.py': )'[0-9a-f]{64}'",
                                     r"\1'" + "0" * 64 + "'", text[start:], count=1)
    assert tampered != text
    path = tmp_path / "tampered_main.py"
    path.write_text(tampered, encoding="utf-8")
    proc = _run(f"import runpy; runpy.run_path({str(path)!r}, run_name='main')", tmp_path)
    assert proc.returncode != 0
    assert "formulas/units.py does not match its hash" in proc.stderr
