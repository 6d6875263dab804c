"""The main job: build the planning workbooks and the function reference.

    python build.py [--out DIR]

writes the workbooks to DIR (default ``dist/``) and regenerates ``docs/functions.md`` and
the function table of ``README.md``. Every file is written atomically; the script prints
each path it wrote.
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


def write_workbooks(out: Path) -> list[Path]:
    """The planning workbooks: dist/llm_budget_planner.xlsx and dist/llm_procurement_planner.xlsx.

    Sheets added by later modules are passed here as ``extra_sheets`` builders (see the
    :mod:`templates` docstring).
    """
    from templates import build_budget_planner, build_procurement_planner
    from templates.output import save_workbook
    from templates.buy_vs_rent import buy_vs_rent_sheet
    from templates.inference_sheet import inference_sheet
    from templates.parallel_plan import parallel_plan_sheet
    from templates.program_sheet import program_sheet

    budget = build_budget_planner(extra_sheets=[parallel_plan_sheet, inference_sheet,
                                                program_sheet])
    procurement = build_procurement_planner(extra_sheets=[buy_vs_rent_sheet])
    return [save_workbook(budget, out / "llm_budget_planner.xlsx"),
            save_workbook(procurement, out / "llm_procurement_planner.xlsx")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist",
                        help="folder for the generated workbooks (default: dist/)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from templates.output import OutputError

    try:
        written = write_reference()
        args.out.mkdir(parents=True, exist_ok=True)
        written += write_excel_addin_files(args.out)
        written += write_workbooks(args.out)
    except OutputError as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
