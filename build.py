"""The main job: build the planning workbooks and the function reference.

    python build.py [--out DIR] [--force]

writes the workbooks to DIR (default ``dist/``) and regenerates ``docs/functions.md`` and
the function table of ``README.md``. Every file is written atomically; the script prints
each path it wrote. The planning workbooks are built in memory before anything is written,
and a workbook that is open (Excel or LibreOffice lock file) or was edited since the last
build is not overwritten without ``--force``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
README_START = "<!-- functions:start -->"
README_END = "<!-- functions:end -->"


def write_reference(root: Path = ROOT) -> list[Path]:
    """Regenerate docs/functions.md and the README's function table."""
    from addin.reference import readme_table, reference_markdown
    from templates.output import atomic_write_text

    written = [atomic_write_text(root / "docs" / "functions.md", reference_markdown())]
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
    new = pattern.sub(lambda _: f"{README_START}\n{readme_table()}{README_END}", text)
    if new != text:
        written.append(atomic_write_text(readme, new))
    return written


def write_excel_addin_files(out: Path) -> list[Path]:
    """The classic add-in's demo workbook and the xlwings Lite bundle (main.py, requirements.txt)."""
    from addin.lite import write_bundle
    from templates.demo import write_demo

    return [write_demo(out), *write_bundle(out)]


def build_workbooks() -> dict:
    """The planning workbooks built in memory: file name -> unsaved openpyxl Workbook.

    Sheets added by later modules are passed here as ``extra_sheets`` builders (see the
    :mod:`templates` docstring).
    """
    from templates import build_budget_planner, build_procurement_planner
    from templates.buy_vs_rent import buy_vs_rent_sheet
    from templates.gpu_comparison import gpu_comparison_sheet
    from templates.inference_sheet import inference_sheet
    from templates.parallel_plan import parallel_plan_sheet
    from templates.program_sheet import program_sheet

    budget = build_budget_planner(extra_sheets=[parallel_plan_sheet, inference_sheet,
                                                program_sheet, gpu_comparison_sheet])
    procurement = build_procurement_planner(extra_sheets=[buy_vs_rent_sheet])
    return {"llm_budget_planner.xlsx": budget, "llm_procurement_planner.xlsx": procurement}


def write_workbooks(out: Path, books: dict | None = None) -> list[Path]:
    """The planning workbooks: dist/llm_budget_planner.xlsx and dist/llm_procurement_planner.xlsx."""
    from templates.output import save_workbook

    books = build_workbooks() if books is None else books
    return [save_workbook(wb, out / name) for name, wb in books.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist",
                        help="folder for the generated workbooks (default: dist/)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite workbooks that are open or were edited since the last build")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from templates.output import OutputError, allow_overwrite, check_out_dir

    allow_overwrite(args.force)
    try:
        check_out_dir(args.out)  # refuse before anything is written
        books = build_workbooks()  # a failure here leaves every previous output as it was
        written = write_reference()
        args.out.mkdir(parents=True, exist_ok=True)
        written += write_excel_addin_files(args.out)
        written += write_workbooks(args.out, books)
    except OutputError as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
