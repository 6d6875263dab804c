"""The Lite bundle inside real Pyodide (the runtime of xlwings Lite), where available.

Needs Node.js and the ``pyodide`` npm package (``npm install pyodide`` in a folder whose
path is given as ``PYODIDE_NODE_PROJECT``). Pyodide's numpy and pydantic builds come
from its CDN, which tests do not reach, so this checks what needs no package: the
generated ``main.py`` unpacks its sources in Pyodide's file system, puts them first on
``sys.path``, and every carried module compiles under Pyodide's Python with warnings as
errors. The whole bundle is run in plain Python by ``tests/test_lite.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from llm_budget_planner.addin import lite

PROJECT = os.environ.get("PYODIDE_NODE_PROJECT", "")

pytestmark = pytest.mark.skipif(
    not (shutil.which("node") and PROJECT
         and (Path(PROJECT) / "node_modules" / "pyodide" / "pyodide.mjs").is_file()),
    reason="set PYODIDE_NODE_PROJECT to a folder where `npm install pyodide` was run "
           "(and install Node.js) to check the Lite bundle inside Pyodide")

RUNNER = r"""
import { loadPyodide } from "pyodide";
import fs from "fs";
const py = await loadPyodide();
py.FS.writeFile("/home/pyodide/main.py", fs.readFileSync(process.argv[2], "utf8"));
console.log(py.runPython(`
import json, os, platform, sys, warnings
warnings.simplefilter("error")
with open("/home/pyodide/main.py", encoding="utf-8") as fh:
    source = fh.read()
head = source.split("\\nfrom addin.")[0]  # the loader, without the imports of the functions
namespace = {"__name__": "main"}
exec(compile(head, "main.py", "exec"), namespace)
folder = sys.path[0]
compiled = []
for root, _, files in os.walk(folder):
    for name in files:
        if name.endswith(".py"):
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as fh:
                compile(fh.read(), path, "exec")
            compiled.append(os.path.relpath(path, folder).replace(os.sep, "/"))
json.dumps({"platform": sys.platform, "python": platform.python_version(),
            "folder": folder, "compiled": sorted(compiled)})
`));
"""


def test_bundle_unpacks_and_compiles_in_pyodide(tmp_path):
    main_py = lite.write_bundle(tmp_path)[0]
    runner = Path(PROJECT) / "check_llm_bundle.mjs"
    runner.write_text(RUNNER, encoding="utf-8")
    try:
        proc = subprocess.run(["node", str(runner), str(main_py)], cwd=PROJECT,
                              capture_output=True, text=True, timeout=300)
    finally:
        runner.unlink()
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["platform"] == "emscripten"
    expected = sorted(rel for rel in lite.bundle_sources() if rel.endswith(".py"))
    assert got["compiled"] == expected
    assert got["folder"].startswith("/tmp/llm_budget_planner_")
