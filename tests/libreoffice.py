"""Headless LibreOffice as a spreadsheet engine for the workbook tests.

* :func:`make_profile` creates a LibreOffice user profile that recalculates every formula
  on load (``OOXMLRecalcMode=0``; the default "never" would keep cached values). Use one
  profile per process: concurrent ``soffice`` processes sharing a profile fail at random.
* :func:`convert` runs ONE ``soffice`` for a batch of files (start-up dominates the cost)
  and checks that every output exists, because ``soffice`` exits 0 even when a conversion
  fails.
* :func:`recalc` (xlsx -> recalculated xlsx), :func:`to_pdf` and :func:`pdf_to_png` build on it.

The LibreOffice output is for reading values and looking at pages only; the shipped
workbooks are the openpyxl files (LibreOffice 7.4 drops freeze panes and rewrites formulas).

Run as a script to render the README pictures::

    python tests/libreoffice.py docs dist/llm_budget_planner.xlsx dist/llm_procurement_planner.xlsx
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

__all__ = ["INSTALL_HINT", "soffice_path", "make_profile", "convert", "recalc", "to_pdf",
           "pdf_to_png", "find_pages", "LibreOfficeError"]

INSTALL_HINT = ("sudo apt-get install -y --no-install-recommends libreoffice-calc-nogui "
                "poppler-utils fonts-crosextra-carlito")

_RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class LibreOfficeError(RuntimeError):
    """soffice failed or did not write an expected output; the message says which file."""


def soffice_path() -> str | None:
    """The soffice executable (``LO_SOFFICE`` overrides), or None when not installed."""
    return os.environ.get("LO_SOFFICE") or shutil.which("soffice") or shutil.which("libreoffice")


def make_profile(directory: str | os.PathLike) -> Path:
    """A fresh LibreOffice profile in ``directory`` that recalculates xlsx files on load."""
    root = Path(directory).resolve()
    user = root / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(_RECALC_XCU, encoding="utf-8")
    return root


def convert(files: Sequence[str | os.PathLike], outdir: str | os.PathLike, profile: Path,
            target: str, suffix: str, timeout: float = 300) -> list[Path]:
    """Convert ``files`` in one soffice run; return the outputs (same stems, in ``outdir``)."""
    exe = soffice_path()
    if exe is None:
        raise LibreOfficeError(f"LibreOffice (soffice) is not installed: {INSTALL_HINT}")
    files = [Path(f).resolve() for f in files]
    stems = [f.stem for f in files]
    if len(set(stems)) != len(stems):
        raise LibreOfficeError(f"two inputs share a file name, outputs would collide: {stems}")
    out = Path(outdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    expected = [out / f"{s}.{suffix}" for s in stems]
    for p in expected:
        p.unlink(missing_ok=True)
    cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
           "--nologo", "--nodefault", "--nolockcheck", "--convert-to", target,
           "--outdir", str(out), *map(str, files)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    missing = [p for p in expected if not p.exists() or p.stat().st_size == 0]
    if proc.returncode != 0 or missing:
        raise LibreOfficeError(f"soffice --convert-to {target} failed (rc {proc.returncode}); "
                               f"missing {[str(p) for p in missing]}: "
                               f"{(proc.stderr or proc.stdout).strip()[-800:]}")
    return expected


def recalc(files: Sequence[str | os.PathLike], outdir: str | os.PathLike,
           profile: Path) -> list[Path]:
    """Recalculate xlsx files; the outputs carry LibreOffice's computed values."""
    return convert(files, outdir, profile, "xlsx:Calc MS Excel 2007 XML", "xlsx")


def to_pdf(files: Sequence[str | os.PathLike], outdir: str | os.PathLike,
           profile: Path) -> list[Path]:
    """Export every sheet of each workbook to one PDF (print setup as in the file)."""
    return convert(files, outdir, profile, "pdf:calc_pdf_Export", "pdf")


def pdf_pages_text(pdf: Path) -> list[str]:
    """The text of each page of a PDF (pdftotext)."""
    proc = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True)
    return proc.stdout.split("\f")


def find_pages(pdf: Path, marker: str) -> list[int]:
    """1-based pages whose text contains ``marker`` (a sheet title, say)."""
    return [i + 1 for i, t in enumerate(pdf_pages_text(pdf)) if marker in t]


def pdf_to_png(pdf: Path, outprefix: Path, pages: Iterable[int] | None = None,
               dpi: int = 80) -> list[Path]:
    """Render pages of ``pdf`` to PNG files ``<outprefix>-<page>.png``; return them."""
    pages = list(pages) if pages is not None else list(range(1, len(pdf_pages_text(pdf))))
    written = []
    for page in pages:
        target = outprefix.parent / f"{outprefix.name}-{page}"
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page),
                        "-singlefile", str(pdf), str(target)], check=True, capture_output=True)
        png = target.with_suffix(".png")
        if not png.exists():
            raise LibreOfficeError(f"pdftoppm wrote no {png}")
        written.append(png)
    return written


#: README pictures: (workbook stem, text that marks the page, picture name).
DOC_PAGES = (
    ("llm_budget_planner", "Results: training time", "budget_planner_results"),
    ("llm_budget_planner", "Charts: cost and time", "budget_planner_charts"),
    ("llm_procurement_planner", "Network: non-blocking", "procurement_planner_requirement"),
    ("llm_procurement_planner", "Vendor quotes: landed", "procurement_planner_quotes"),
    ("llm_budget_planner", "GPU comparison: the same", "budget_planner_gpu_comparison"),
    ("llm_procurement_planner", "Buy vs rent: owning cost", "procurement_planner_buy_vs_rent"),
)


def render_docs(docs: Path, workbooks: Sequence[Path], dpi: int = 110) -> list[Path]:
    """Render the README pictures of the given workbooks into ``docs``."""
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        profile = make_profile(Path(tmp) / "profile")
        pdfs = {p.stem: p for p in to_pdf(workbooks, Path(tmp) / "pdf", profile)}
        for stem, marker, picture in DOC_PAGES:
            if stem not in pdfs:
                continue
            pages = find_pages(pdfs[stem], marker)
            if not pages:
                raise LibreOfficeError(f"no page of {stem}.pdf shows '{marker}'")
            (png,) = pdf_to_png(pdfs[stem], Path(tmp) / picture, pages[:1], dpi)
            target = docs / f"{picture}.png"
            shutil.copyfile(png, target)
            written.append(target)
    return written


def _main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "docs":
        print(__doc__.split("Run as a script")[1].strip(), file=sys.stderr)
        return 2
    docs = Path(__file__).resolve().parent.parent / "docs"
    for path in render_docs(docs, [Path(a) for a in argv[1:]]):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
