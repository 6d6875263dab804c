"""build.py as a user meets it: one-line errors, --out writes nothing else, a killed or
concurrent build never causes a false "edited" refusal, stale temporary files are removed,
a damaged manifest refuses safely, no machine path ships, no warnings on install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

import build
from tests.project_copy import copy_project
from llm_budget_planner.formulas import catalog
from llm_budget_planner.templates import output

ROOT = Path(__file__).resolve().parent.parent
WORKBOOKS = ("llm_budget_planner.xlsx", "llm_procurement_planner.xlsx")


@pytest.fixture
def out(tmp_path):
    output.allow_overwrite(False)
    folder = tmp_path / "dist"
    assert build.main(["--out", str(folder)]) == 0
    yield folder
    output.allow_overwrite(False)


def _snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.glob("*.xlsx")}


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("build.py: "), err
    assert "Traceback" not in err
    return err.strip()


# ------------------------------------------------------------------ messages

def test_out_naming_a_file_is_one_line(tmp_path, capsys):
    target = tmp_path / "plan.xlsx"
    target.write_text("not a folder")
    assert build.main(["--out", str(target)]) == 1
    assert _one_line_error(capsys) == (f"build.py: {target} is a file, not a folder: give --out "
                                       "a folder")
    assert target.read_text() == "not a folder"


def test_a_folder_that_cannot_be_made_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert build.main(["--out", str(blocker / "dist")]) == 1
    err = _one_line_error(capsys)
    assert err.startswith("build.py: could not write the output (Not a directory") and str(
        blocker) in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="a read-only folder needs POSIX permissions and a non-root user")
def test_a_read_only_folder_is_one_line(tmp_path, capsys):  # pragma: no cover - non-root
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert build.main(["--out", str(folder)]) == 1
        assert "Permission denied" in _one_line_error(capsys)
    finally:
        folder.chmod(0o700)


def test_a_catalog_schema_error_is_one_line(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    data.mkdir()
    text = (ROOT / "formulas" / "data" / "gpus.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[2] = lines[2].replace(",312,", ",lots,", 1)  # a100-sxm-40gb's tflops_bf16
    (data / "gpus.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name in ("models.csv", "gpu_prices.csv"):
        (data / name).write_bytes((ROOT / "formulas" / "data" / name).read_bytes())
    monkeypatch.setattr(catalog, "resources", type("R", (), {"files": lambda _: tmp_path}))
    catalog.reload_catalogs()
    catalog.gpu_prices.cache_clear()
    try:
        assert build.main(["--out", str(tmp_path / "dist")]) == 1
        err = _one_line_error(capsys)
        assert err.startswith("build.py: catalog error: gpus.csv line 3: tflops_bf16"), err
        assert not (tmp_path / "dist").exists()
    finally:
        monkeypatch.undo()
        catalog.reload_catalogs()
        catalog.gpu_prices.cache_clear()


# ------------------------------------------------------------------ --out writes only there

def test_out_writes_nothing_outside_it(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("--out must not regenerate the reference in the source tree")

    monkeypatch.setattr(build, "write_reference", refuse)
    docs = ROOT / "docs" / "functions.md"
    before = (docs.stat().st_mtime_ns, (ROOT / "README.md").stat().st_mtime_ns)
    assert build.main(["--out", str(tmp_path / "elsewhere")]) == 0
    assert (docs.stat().st_mtime_ns, (ROOT / "README.md").stat().st_mtime_ns) == before
    assert {p.name for p in (tmp_path / "elsewhere").iterdir()} >= set(WORKBOOKS)


# ------------------------------------------------------------------ killed and concurrent builds

class Killed(BaseException):
    """Stands for SIGKILL: nothing in the build catches it."""


@pytest.mark.parametrize("when", ["before the rename", "after the rename"])
def test_a_build_killed_beside_a_workbook_leaves_a_build_that_proceeds(out, monkeypatch, when):
    target = out / WORKBOOKS[0]
    old = target.read_bytes()
    real_write = output.atomic_write_bytes

    def killed_write(path, data):
        if Path(path).name != WORKBOOKS[0]:
            return real_write(path, data)
        if when == "after the rename":
            real_write(path, data)  # the workbook lands, its manifest record does not
        raise Killed()

    monkeypatch.setattr(output, "atomic_write_bytes", killed_write)
    with pytest.raises(Killed):
        build.main(["--out", str(out)])
    monkeypatch.undo()
    if when == "before the rename":
        assert target.read_bytes() == old  # the old workbook, whole
    assert build.main(["--out", str(out)]) == 0  # no false "edited since" refusal


def test_builds_at_the_same_time_leave_a_build_that_proceeds(out):
    cmd = [sys.executable, str(ROOT / "build.py"), "--out", str(out)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert build.main(["--out", str(out)]) == 0
    manifest = json.loads((out / output.MANIFEST).read_text())
    assert set(WORKBOOKS) <= set(manifest)
    assert not (out / ".build-manifest.lock").exists()


def test_stale_temporary_files_are_removed(out):
    stale = out / f".{WORKBOOKS[0]}.abc123.tmp"
    fresh = out / f".{WORKBOOKS[1]}.def456.tmp"
    stale.write_bytes(b"half a workbook")
    fresh.write_bytes(b"a build writing right now")
    old = time.time() - 2 * output.STALE_SECONDS
    os.utime(stale, (old, old))
    assert build.main(["--out", str(out)]) == 0
    assert not stale.exists()
    assert fresh.exists()  # may belong to a build still running


# ------------------------------------------------------------------ damaged manifest

@pytest.mark.parametrize("damage", ["{ not json", "[1, 2]", '{"llm_budget_planner.xlsx": 3}'])
def test_a_damaged_manifest_refuses_safely(out, capsys, damage):
    target = out / WORKBOOKS[1]
    edited = target.read_bytes() + b"user edit"  # what an edited workbook would be
    target.write_bytes(edited)
    (out / output.MANIFEST).write_text(damage)
    capsys.readouterr()
    assert build.main(["--out", str(out)]) == 1
    err = _one_line_error(capsys)
    assert ".build-manifest.json is damaged" in err and "--force" in err
    assert target.read_bytes() == edited
    assert build.main(["--out", str(out), "--force"]) == 0
    json.loads((out / output.MANIFEST).read_text())  # written anew
    assert build.main(["--out", str(out)]) == 0


# ------------------------------------------------------------------ shipped files

def _texts(folder: Path):
    for p in folder.rglob("*"):
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                for name in z.namelist():
                    yield f"{p.name}:{name}", z.read(name).decode("utf-8", "replace")
        elif p.is_file() and p.name != output.MANIFEST:
            yield p.name, p.read_text(encoding="utf-8", errors="replace")


def test_no_machine_path_in_any_shipped_file(out):
    # The project folder, the output folder and the home folder are this machine's.
    paths = {str(ROOT), str(out), str(Path.home())} - {"/"}
    found = [(where, p) for where, text in _texts(out) for p in paths if p in text]
    assert not found, found


def test_install_gives_no_deprecation_warning(tmp_path):
    src = copy_project(tmp_path / "src")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-w",
                           str(tmp_path), "-v"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = proc.stdout + proc.stderr
    assert "Deprecat" not in text and "Warning" not in text.replace("WARNING: Location", ""), [
        line for line in text.splitlines() if "eprecat" in line or "Warning" in line]
