"""The xlwings Lite bundle: one ``main.py`` and one ``requirements.txt`` to paste.

xlwings Lite runs Python inside Excel (Pyodide, WebAssembly) and keeps the code in the
workbook: the editor has a ``main.py`` tab and a ``requirements.txt`` tab. Lite installs
``requirements.txt`` from PyPI and from Pyodide's own builds, so this project (not on
PyPI) cannot be a requirement. Instead :func:`main_py` generates one self-contained
``main.py`` that carries the pure-Python sources of :mod:`formulas` (with its CSV
catalogs) and of the Excel layer (``addin._excel`` and every ``addin.udfs*`` module) as
text, under the project's own import name ``llm_budget_planner``. When Lite runs it, it
writes them to a new private folder (``tempfile.mkdtemp``: created by this run, so nothing
planted beforehand can be imported), checks every written file against the SHA-256 the
bundle carries, puts the folder first on ``sys.path`` and imports every Excel function into
``main``'s namespace, which is where Lite looks for ``@func``-decorated functions. Modules
of other packages are never touched; only an earlier paste's ``llm_budget_planner``
modules are replaced. The functions then register with the same names,
argument descriptions and category as in the classic add-in.

Only xlwings and Pyodide's own builds of numpy, pydantic and pandas are needed at run time
(the builds' versions follow Pyodide's release and are therefore not pinned).

``python build.py`` writes both files to ``dist/xlwings_lite/``.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import pkgutil
import sys
from pathlib import Path

__all__ = ["udf_module_names", "functions_by_module", "classic_udf_modules", "bundle_sources",
           "main_py", "requirements_txt", "write_bundle", "third_party_imports", "LITE_DIR"]

ROOT = Path(__file__).resolve().parent.parent
LITE_DIR = "xlwings_lite"
_PACKAGES = ("formulas", "addin")
NAMESPACE = "llm_budget_planner"
_NOT_BUNDLED = {"addin/lite.py", "addin/reference.py"}  # build-time only
# Requirement lines for the third-party packages the bundled code imports.
_REQUIREMENT = {
    # Pure Python: an upper bound keeps a future major release out.
    "xlwings": "xlwings>=0.33,<1.0",
    # Built by Pyodide: the version is tied to Lite's Pyodide release, so never pinned.
    "numpy": "numpy",
    "pydantic": "pydantic",
    "pandas": "pandas",
}


def udf_module_names() -> list[str]:
    """Import and name every module of Excel functions: ``addin.udfs``, ``addin.udfs_*``.

    Other modules of functions are picked up by their file name alone, so the Lite
    bundle, the demo workbook and the classic ``UDF Modules`` setting list them without
    further registration.
    """
    from llm_budget_planner import addin

    names = sorted(m.name for m in pkgutil.iter_modules(addin.__path__)
                   if m.name == "udfs" or m.name.startswith("udfs_"))
    names.sort(key=lambda n: n != "udfs")
    full = [f"{NAMESPACE}.addin.{n}" for n in names]
    for name in full:
        importlib.import_module(name)
    return full


def functions_by_module() -> dict[str, list[str]]:
    """Module name -> sorted names of the Excel functions it defines (``addin.udfs`` first)."""
    from llm_budget_planner.addin._excel import REGISTRY

    modules = udf_module_names()
    by_module: dict[str, list[str]] = {m: [] for m in modules}
    for name, func in REGISTRY.items():
        if func.__module__ in by_module:
            by_module[func.__module__].append(name)
    return {m: sorted(names) for m, names in by_module.items() if names}


def _exposed(module_name: str) -> set[str]:
    """Excel functions a module exposes, as classic Import Functions sees them (``dir``)."""
    module = importlib.import_module(module_name)
    return {a for a in dir(module) if hasattr(getattr(module, a), "__udf__")}


def classic_udf_modules() -> list[str]:
    """The ``UDF Modules`` setting of the classic add-in: every function exactly once.

    Import Functions writes one VBA wrapper per decorated function found in each listed
    module, imported ones included, and VBA refuses a module with two procedures of the
    same name ("Ambiguous name detected"). ``addin.udfs`` re-exports the functions of the
    other modules, so it is listed first and another module only when it adds functions
    without repeating any.
    """
    everything = {n for names in functions_by_module().values() for n in names}
    listed, covered = [], set()
    for module in udf_module_names():
        exposed = _exposed(module) & everything
        new = exposed - covered
        if not new:
            continue
        if exposed & covered:
            raise RuntimeError(
                f"{module} adds {sorted(new)} but also re-exports {sorted(exposed & covered)}: "
                "classic xlwings would generate two VBA wrappers of the same name. Import "
                f"all of its functions into addin.udfs instead.")
        listed.append(module)
        covered |= exposed
    return listed


def _local_imports(path: Path, package: str) -> set[str]:
    """Modules of ``addin`` that the file at ``path`` imports (relative or absolute)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(a.name for a in node.names)
            elif node.level == 0 and node.module and node.module.startswith(package + "."):
                found.add(node.module[len(package) + 1:].split(".")[0])
            elif node.level == 0 and node.module == package:
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name[len(package) + 1:].split(".")[0] for a in node.names
                         if a.name.startswith(package + "."))
    return found


def bundle_sources(root: Path = ROOT) -> dict[str, str]:
    """Relative path -> text of every file the bundle carries."""
    files: dict[str, str] = {}
    for path in sorted((root / "formulas").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".csv"):
            files[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    files["__init__.py"] = (root / NAMESPACE / "__init__.py").read_text(encoding="utf-8")
    addin_dir = root / "addin"
    todo = ["__init__"] + [n.rsplit(".", 1)[1] for n in udf_module_names()]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or not (addin_dir / f"{name}.py").is_file():
            continue
        seen.add(name)
        rel = f"addin/{name}.py"
        if rel in _NOT_BUNDLED:
            continue
        files[rel] = (addin_dir / f"{name}.py").read_text(encoding="utf-8")
        todo.extend(_local_imports(addin_dir / f"{name}.py", f"{NAMESPACE}.addin"))
    return dict(sorted(files.items()))


def third_party_imports(sources: dict[str, str]) -> set[str]:
    """Top-level names imported by the bundled modules, minus stdlib and the bundle."""
    names = set()
    for rel, text in sources.items():
        if not rel.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in _PACKAGES
            and n not in ("__future__", NAMESPACE)}


def requirements_txt(sources: dict[str, str] | None = None) -> str:
    """What to paste into Lite's ``requirements.txt`` tab."""
    sources = bundle_sources() if sources is None else sources
    needed = third_party_imports(sources) | {"xlwings"}
    unknown = needed - set(_REQUIREMENT)
    if unknown:
        raise RuntimeError(f"no xlwings Lite requirement known for {sorted(unknown)}: add it "
                           "to addin/lite.py _REQUIREMENT (pure Python, or built by Pyodide)")
    built = ", ".join(n for n in sorted(needed) if _REQUIREMENT[n] == n)
    lines = ["# LLM GPU budget planner for xlwings Lite: paste into the requirements.txt tab.",
             f"# {built}: Pyodide's own builds, whose versions follow Pyodide's release,",
             "# so they are not pinned here.",
             *(_REQUIREMENT[n] for n in sorted(needed))]
    return "\n".join(lines) + "\n"


_LOADER = '''
def _install_sources():
    """Write the carried sources to a new private folder, verify them, import from it."""
    import hashlib
    import os
    import sys
    import tempfile

    loaded = sys.modules.get(_NAMESPACE)
    if loaded is not None and getattr(loaded, "__bundle_digest__", None) == _DIGEST:
        return  # this very bundle is already imported (Lite re-runs main.py on each save)
    folder = tempfile.mkdtemp(prefix="llm_budget_planner_")  # new, private to this run
    for rel, text in _SOURCES.items():
        path = os.path.join(folder, _NAMESPACE, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\\n") as fh:
            fh.write(text)
    for rel, expected in _SHA256.items():
        path = os.path.join(folder, _NAMESPACE, *rel.split("/"))
        with open(path, "rb") as fh:
            if hashlib.sha256(fh.read()).hexdigest() != expected:
                raise ImportError(f"llm_budget_planner bundle: {rel} does not match its hash")
    # An earlier paste of this bundle is replaced; no other package's modules are touched.
    for name in list(sys.modules):
        if name == _NAMESPACE or name.startswith(_NAMESPACE + "."):
            del sys.modules[name]
    sys.path.insert(0, folder)
    import llm_budget_planner
    llm_budget_planner.__bundle_digest__ = _DIGEST


_install_sources()
'''


def main_py(sources: dict[str, str] | None = None) -> str:
    """What to paste into Lite's ``main.py`` tab (the whole file)."""
    sources = bundle_sources() if sources is None else sources
    digest = hashlib.sha256(repr(sorted(sources.items())).encode("utf-8")).hexdigest()[:16]
    by_module = functions_by_module()
    count = sum(map(len, by_module.values()))
    version = _project_version()
    out = [
        '"""LLM GPU budget planner: its Excel functions for xlwings Lite.',
        "",
        f"Generated by `python build.py` (llm-budget-planner {version}, {count} "
        "functions). Do not edit:",
        "to upgrade, build again and replace this whole file. Paste requirements.txt from",
        "the same folder into the requirements.txt tab. The project's sources are carried",
        "below as text, written to a new private folder, checked against their SHA-256",
        "and imported from there (no network needed).",
        '"""',
        "",
        f"_DIGEST = {digest!r}",
        f"_NAMESPACE = {NAMESPACE!r}",
        "_SOURCES = {",
    ]
    for rel, text in sources.items():
        out.append(f"    {rel!r}: {text!r},")
    out.append("}")
    out.append("_SHA256 = {")
    for rel, text in sources.items():
        out.append(f"    {rel!r}: {hashlib.sha256(text.encode('utf-8')).hexdigest()!r},")
    out.append("}")
    out.append(_LOADER)
    for module, names in by_module.items():
        out.append(f"from {module} import (  # noqa: E402  the functions xlwings Lite registers")
        out.extend(f"    {n}," for n in names)
        out.append(")")
    out.append("")
    out.append(f"__all__ = {sorted(n for names in by_module.values() for n in names)!r}")
    return "\n".join(out) + "\n"


def _project_version() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("version"):
            return line.split("=", 1)[1].strip().strip('"')
    return "unknown"


def write_bundle(out_dir: Path) -> list[Path]:
    """Write ``main.py`` and ``requirements.txt`` into ``out_dir/xlwings_lite``."""
    from llm_budget_planner.templates.output import atomic_write_text

    sources = bundle_sources()
    folder = Path(out_dir) / LITE_DIR
    return [atomic_write_text(folder / "main.py", main_py(sources)),
            atomic_write_text(folder / "requirements.txt", requirements_txt(sources))]
