"""Workbook safety: catalog or user text never becomes a formula; writes are atomic and guarded.

* Text written through :mod:`templates.safe` stays text in openpyxl, in the file and in
  LibreOffice, even when it reads ``=HYPERLINK(...)``.
* Every generated workbook (``dist/*.xlsx`` when built, and the generators run in memory) has
  formula cells that are the generator's own: none carries catalog text, and with a poisoned
  catalog (every text field rewritten as a formula) no formula appears.
* A failure during serialisation or mid-write leaves the previous file intact.
* ``save_workbook`` refuses to overwrite a workbook that is open (Excel or LibreOffice lock
  file) or edited since the last build, unless forced; ``check_out_dir`` checks a whole
  output folder before anything is written.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.formula import Tokenizer

import llm_budget_planner.formulas.catalog as catalog
from llm_budget_planner.templates import output
from llm_budget_planner.templates.safe import MAX_CELL_CHARS, is_formula_text, set_text, text_cell

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
EVIL = '=HYPERLINK("http://evil.example/x","Click for the price")'


def _reload(wb: Workbook) -> Workbook:
    return load_workbook(io.BytesIO(output.workbook_bytes(wb)))


def _sheet_xml(wb: Workbook) -> str:
    with zipfile.ZipFile(io.BytesIO(output.workbook_bytes(wb))) as z:
        return "".join(z.read(n).decode() for n in z.namelist()
                       if n.startswith("xl/worksheets/sheet"))


# ------------------------------------------------------------------------------ the helper

class TestTextCell:
    def test_plain_assignment_would_make_a_formula(self):
        # Why the helper exists: openpyxl turns any "=..." string into a formula.
        wb = Workbook()
        wb.active["A1"] = EVIL
        assert wb.active["A1"].data_type == "f"

    def test_malicious_catalog_text_stays_text(self):
        wb = Workbook()
        ws = wb.active
        ws["A1"] = text_cell(EVIL)
        set_text(ws["A2"], EVIL)
        ws.append([text_cell(EVIL), text_cell("=1+1"), text_cell("+1"), text_cell("@SUM(A1)")])
        assert "<f>" not in _sheet_xml(wb)
        back = _reload(wb).active
        for coord in ("A1", "A2", "A3", "B3"):
            assert back[coord].data_type == "s", coord
        assert back["A1"].value == back["A2"].value == back["A3"].value == EVIL
        assert back["B3"].value == "=1+1" and back["D3"].value == "@SUM(A1)"

    def test_numbers_blanks_and_plain_text_pass_through(self):
        assert text_cell(80.0) == 80.0 and text_cell(None) is None and text_cell(True) is True
        assert text_cell("H100 SXM") == "H100 SXM" and text_cell("=") == "="
        assert is_formula_text("=A1") and not is_formula_text("A=1")

    def test_control_characters_and_overlong_text_cannot_break_the_save(self):
        wb = Workbook()
        wb.active["A1"] = text_cell("GPU\x00 notes\x1b from a pasted web page")
        wb.active["A2"] = text_cell("x" * 40_000)
        back = _reload(wb).active
        assert back["A1"].value == "GPU notes from a pasted web page"
        assert len(back["A2"].value) == MAX_CELL_CHARS

    @pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
    def test_libreoffice_shows_the_text_not_a_link(self, tmp_path):
        wb = Workbook()
        wb.active["A1"] = text_cell(EVIL)
        wb.active["A2"] = "=LEN(A1)"
        src = tmp_path / "in" / "safe.xlsx"
        src.parent.mkdir()
        src.write_bytes(output.workbook_bytes(wb))
        profile = tmp_path / "profile"
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                        "--norestore", "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"),
                        str(src)], check=True, capture_output=True, timeout=120)
        back = load_workbook(tmp_path / "out" / "safe.xlsx", data_only=True).active
        assert back["A1"].value == EVIL
        assert back["A2"].value == len(EVIL)


# ------------------------------------------------------------------- generated workbooks

def _catalog_texts() -> set[str]:
    """Free-text catalog fields (names, sources, notes ...), long enough to be unmistakable."""
    rows = list(catalog.gpu_catalog().values()) + list(catalog.model_catalog().values())
    rows += list(catalog.gpu_prices())
    texts = set()
    for row in rows:
        for value in row.model_dump().values():
            if isinstance(value, str) and len(value) >= 12 and " " in value:
                texts.add(value)
    return texts


def _builders() -> dict:
    """The workbook generators: name -> function returning an unsaved Workbook.

    The planners as build.py ships them (with every extra sheet), and the function demo.
    """
    import build

    found = {name: (lambda name=name: build.build_workbooks()[name])
             for name in build.build_workbooks()}
    try:
        from llm_budget_planner.templates.demo import build_demo
        found["build_demo"] = build_demo
    except ImportError:
        pass
    return found


def _formula_cells(wb: Workbook):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    yield ws.title, c


def _check_formulas(label: str, wb: Workbook, texts: set[str]) -> int:
    n = 0
    for title, c in _formula_cells(wb):
        f = c.value if isinstance(c.value, str) else getattr(c.value, "text", str(c.value))
        where = f"{label} {title}!{c.coordinate}"
        assert f.startswith("="), where
        Tokenizer(f)  # an intended formula parses
        for t in texts:
            assert t not in f, f"{where}: catalog text inside a formula: {t!r}"
        n += 1
    return n


def test_there_are_generators_to_check():
    assert _builders(), "no workbook generator found in templates"


@pytest.mark.parametrize("name", sorted(_builders()))
def test_generated_formulas_are_the_generators_own(name):
    wb = _reload(_builders()[name]())
    assert _check_formulas(name, wb, _catalog_texts()) > 0


@pytest.mark.parametrize("path", sorted(DIST.glob("*.xlsx")), ids=lambda p: p.name)
def test_built_workbooks_in_dist(path):
    wb = load_workbook(path)
    _check_formulas(path.name, wb, _catalog_texts())


@pytest.fixture
def poisoned_catalog(monkeypatch):
    """Every free-text catalog field rewritten as a formula that would open a link."""
    real_load = catalog._load
    keep = {"id", "gpu_id", "aliases", "price_type", "unit", "date", "retrieved"}

    def load(filename, record):
        rows = real_load(filename, record)
        out = {}
        for key, row in rows.items():
            update = {f: f'=HYPERLINK("http://evil.example/{f}","{v}")'
                      for f, v in row.model_dump().items() if isinstance(v, str) and f not in keep}
            out[key] = row.model_copy(update=update)
        return out

    caches = (catalog.gpu_catalog, catalog.model_catalog, catalog.gpu_prices)
    for c in caches:
        c.cache_clear()
    monkeypatch.setattr(catalog, "_load", load)
    try:  # the workbooks' default inputs carry source text too
        import dataclasses

        from llm_budget_planner.templates import defaults as tdefaults
    except ImportError:
        pass
    else:
        real = tdefaults.defaults()
        poisoned = {k: dataclasses.replace(
            d, source=f'=HYPERLINK("http://evil.example/source","{d.source}")')
            for k, d in real.items()}
        monkeypatch.setattr(tdefaults, "defaults", lambda: poisoned)
    yield
    monkeypatch.undo()
    for c in caches:
        c.cache_clear()


@pytest.mark.parametrize("name", sorted(_builders()))
def test_a_poisoned_catalog_never_becomes_a_formula(name, poisoned_catalog):
    assert catalog.gpu("h100-sxm").source.startswith("=HYPERLINK")  # the poison is in
    wb = _reload(_builders()[name]())
    for title, c in _formula_cells(wb):
        assert "evil.example" not in str(c.value), f"{name} {title}!{c.coordinate}: {c.value}"
    shown = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and "evil.example" in c.value]
    if name.startswith("llm_"):  # the planners show catalog sources: they must appear as text
        assert shown, f"{name}: no catalog text reached the workbook"


# ------------------------------------------------------------------------- atomic writes

def _book(value) -> Workbook:
    wb = Workbook()
    wb.active["A1"] = value
    return wb


def test_a_failure_while_serialising_leaves_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "plan.xlsx"
    output.save_workbook(_book("old"), target)
    before = target.read_bytes()

    def broken_save(self, filename):
        filename.write(b"PK\x03\x04 half a zip")
        raise RuntimeError("disk full while zipping")

    monkeypatch.setattr(Workbook, "save", broken_save)
    with pytest.raises(RuntimeError):
        output.save_workbook(_book("new"), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_a_failure_mid_write_leaves_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "plan.xlsx"
    output.save_workbook(_book("old"), target)
    before = target.read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(output.OutputError, match="No space left on device"):
        output.save_workbook(_book("new"), target)
    assert target.read_bytes() == before
    assert load_workbook(target).active["A1"].value == "old"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_failed_rename_leaves_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "plan.xlsx"
    output.save_workbook(_book("old"), target)
    before = target.read_bytes()

    def locked(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(output.OutputError, match="open in Excel"):
        output.save_workbook(_book("new"), target)
    assert target.read_bytes() == before


# ------------------------------------------------------------------- overwrite guard

@pytest.fixture
def guarded(tmp_path):
    output.allow_overwrite(False)
    target = tmp_path / "llm_budget_planner.xlsx"
    output.save_workbook(_book("v1"), target)
    yield target
    output.allow_overwrite(False)


def test_rebuilding_an_untouched_workbook_is_allowed(guarded):
    output.save_workbook(_book("v2"), guarded)
    output.save_workbook(_book("v3"), guarded)
    assert load_workbook(guarded).active["A1"].value == "v3"


def test_touching_without_changing_is_not_an_edit(guarded):
    os.utime(guarded, None)
    output.save_workbook(_book("v2"), guarded)


@pytest.mark.parametrize("lock", ["~${}", ".~lock.{}#"])
def test_an_open_workbook_is_not_overwritten(guarded, lock):
    (guarded.parent / lock.format(guarded.name)).write_text("user")
    before = guarded.read_bytes()
    with pytest.raises(output.OverwriteRefused) as err:
        output.save_workbook(_book("v2"), guarded)
    msg = str(err.value)
    assert "is open in Excel or LibreOffice" in msg and "--force" in msg
    assert guarded.read_bytes() == before
    with pytest.raises(output.OverwriteRefused):
        output.check_out_dir(guarded.parent)
    output.allow_overwrite(True)
    output.save_workbook(_book("v2"), guarded)
    assert load_workbook(guarded).active["A1"].value == "v2"


def test_a_workbook_edited_since_the_build_is_not_overwritten(guarded):
    wb = load_workbook(guarded)
    wb.active["B2"] = "my own notes"
    wb.save(guarded)  # the user saves over the generated file
    with pytest.raises(output.OverwriteRefused, match="was changed after build.py wrote it.*--force"):
        output.save_workbook(_book("v2"), guarded)
    with pytest.raises(output.OverwriteRefused, match="llm_budget_planner.xlsx"):
        output.check_out_dir(guarded.parent)
    assert load_workbook(guarded).active["B2"].value == "my own notes"
    output.check_out_dir(guarded.parent, force=True)
    output.allow_overwrite(True)
    output.save_workbook(_book("v2"), guarded)
    output.allow_overwrite(False)
    output.save_workbook(_book("v3"), guarded)  # recorded again: the next build is free


def test_a_file_the_generator_never_wrote_is_replaced_as_before(tmp_path):
    output.allow_overwrite(False)
    target = tmp_path / "other.xlsx"
    _book("user").save(target)
    output.save_workbook(_book("generated"), target)
    assert load_workbook(target).active["A1"].value == "generated"


# --------------------------------------------------------------------------- build.py guard

@pytest.fixture
def built(tmp_path, monkeypatch):
    """build.py run once into a temporary folder (the function reference is left alone)."""
    import build

    monkeypatch.setattr(build, "write_reference", lambda root=build.ROOT: [])
    output.allow_overwrite(False)
    out = tmp_path / "dist"
    assert build.main(["--out", str(out)]) == 0
    yield build, out
    output.allow_overwrite(False)


def _snapshot(out: Path) -> dict:
    return {p.name: p.read_bytes() for p in out.glob("*.xlsx")}


def test_build_twice_is_allowed(built):
    build, out = built
    assert build.main(["--out", str(out)]) == 0
    assert {"llm_budget_planner.xlsx", "llm_procurement_planner.xlsx"} <= set(_snapshot(out))


def test_build_refuses_an_open_workbook_unless_forced(built, capsys):
    build, out = built
    before = _snapshot(out)
    (out / ".~lock.llm_budget_planner.xlsx#").write_text("user,host")
    capsys.readouterr()
    assert build.main(["--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "llm_budget_planner.xlsx is open in Excel or LibreOffice" in err and "--force" in err
    assert _snapshot(out) == before  # nothing at all was written
    assert build.main(["--out", str(out), "--force"]) == 0


def test_build_refuses_a_workbook_edited_since_it_was_built(built, capsys):
    build, out = built
    target = out / "llm_procurement_planner.xlsx"
    wb = load_workbook(target)
    wb.worksheets[0]["Z1"] = "a buyer's note"
    wb.save(target)
    before = _snapshot(out)
    capsys.readouterr()
    assert build.main(["--out", str(out)]) == 1
    assert "was changed after build.py wrote it" in capsys.readouterr().err
    assert _snapshot(out) == before
    assert build.main(["--out", str(out), "--force"]) == 0
    assert load_workbook(target).worksheets[0]["Z1"].value is None


def test_a_failure_mid_build_leaves_every_previous_workbook(built, monkeypatch):
    build, out = built
    before = _snapshot(out)
    from llm_budget_planner import templates

    def broken(*args, **kwargs):
        raise RuntimeError("generator bug")

    monkeypatch.setattr(templates, "build_procurement_planner", broken)
    with pytest.raises(RuntimeError):
        build.main(["--out", str(out)])
    assert _snapshot(out) == before


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_written_files_get_the_usual_permissions_not_the_temp_files(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    target = tmp_path / "plan.xlsx"
    output.save_workbook(_book("v1"), target)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    os.chmod(target, 0o640)  # a mode the user chose is kept on rebuild
    output.save_workbook(_book("v2"), target)
    assert target.stat().st_mode & 0o777 == 0o640


def test_control_characters_in_catalog_text_do_not_break_a_build():
    """A catalog note with a control character (XML forbids it) is cleaned, not fatal."""
    from llm_budget_planner.formulas import catalog
    from llm_budget_planner.templates import build_budget_planner, build_procurement_planner
    from llm_budget_planner.templates.output import workbook_bytes

    gpus = {k: (v.model_copy(update={"notes": "bell\x07 and escape\x1b in a note"})
                if k == "h100-sxm" else v) for k, v in catalog.gpu_catalog().items()}
    import io

    from openpyxl import load_workbook

    for build in (build_budget_planner, build_procurement_planner):
        wb = load_workbook(io.BytesIO(workbook_bytes(build(gpus=gpus))))
        notes = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
                 if c.value is not None and "bell" in str(c.value)]
        assert notes == ["bell and escape in a note"]


def test_formulas_are_portable():
    """No volatile or engine-dependent constructs in any shipped workbook, and exponent
    literals only as Excel writes them (1E+12: templates.portable), which every engine reads."""
    import re

    import build

    banned = re.compile(r"\b(OFFSET|INDIRECT|NOW|TODAY|RAND|RANDBETWEEN|CELL|INFO)\(|--\(")
    bad_exp = re.compile(r'(?<![A-Za-z0-9_.$])\d+(?:\.\d+)?[Ee](?![+-]\d\d)')
    for name, wb in build.build_workbooks().items():
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.data_type != "f":
                        continue
                    text = re.sub(r'"[^"]*"', '""', c.value)
                    assert not banned.search(text), (name, ws.title, c.coordinate, c.value)
                    assert not bad_exp.search(text), (name, ws.title, c.coordinate, c.value)


def test_every_sheet_prints_one_page_wide_with_a_footer():
    """Landscape A4, one page wide, a footer with file, sheet, page and the build date, and
    the heading rows repeated on every page of the input and result sheets."""
    import datetime as dt

    import build
    from llm_budget_planner.templates.demo import build_demo

    books = dict(build.build_workbooks())
    books["demo"] = build_demo()
    today = dt.date.today().isoformat()
    for name, wb in books.items():
        for ws in wb.worksheets:
            if ws.sheet_state == "hidden":
                continue
            assert ws.page_setup.orientation == "landscape", (name, ws.title)
            assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
            footer = ws.oddFooter.center.text
            for code in ("&F", "&A", "&P", "&N", today):
                assert code in footer, (name, ws.title, footer)
        for title in ("Inputs", "Results", "Requirement", "Buy vs rent", "Functions"):
            if title in wb.sheetnames:
                assert wb[title].print_title_rows, (name, title)


def test_no_formula_sits_in_an_input_cell():
    """FAST: the yellow input cells hold values (or nothing), never formulas."""
    import build

    for name, wb in build.build_workbooks().items():
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.style == "Input":
                        assert c.data_type != "f", (name, ws.title, c.coordinate, c.value)
