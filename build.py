"""The main job: build the planning workbooks and the function reference.

    python build.py [--out DIR] [--force]
    python build.py --add-model PATH/config.json [--id NAME]

writes the workbooks to DIR (default ``dist/``); without ``--out`` it also regenerates
``docs/functions.md`` and the function table of ``README.md`` (with ``--out`` nothing outside
DIR is written). Every file is written atomically; the script prints each path it wrote.
The planning workbooks are built in memory before anything is written, and a workbook that
is open (Excel or LibreOffice lock file) or was edited since the last build is not
overwritten without ``--force``. Every problem a user can cause (a folder that cannot be
written, ``--out`` naming a file, a catalog row that breaks its schema, a damaged
manifest) ends the build with one line starting ``build.py:`` and exit code 1.
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
    from llm_budget_planner.addin.reference import readme_table, reference_markdown
    from llm_budget_planner.templates.output import atomic_write_text

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
    from llm_budget_planner.addin.lite import write_bundle
    from llm_budget_planner.templates.demo import write_demo

    return [write_demo(out), *write_bundle(out)]


def build_workbooks() -> dict:
    """The planning workbooks built in memory: file name -> unsaved openpyxl Workbook.

    Sheets added by later modules are passed here as ``extra_sheets`` builders (see the
    :mod:`templates` docstring).
    """
    from llm_budget_planner.templates import build_budget_planner, build_procurement_planner
    from llm_budget_planner.templates.buy_vs_rent import buy_vs_rent_sheet
    from llm_budget_planner.templates.gpu_comparison import gpu_comparison_sheet
    from llm_budget_planner.templates.inference_sheet import inference_sheet
    from llm_budget_planner.templates.parallel_plan import parallel_plan_sheet
    from llm_budget_planner.templates.program_sheet import program_sheet
    from llm_budget_planner.templates.serving_sheet import serving_sheet

    budget = build_budget_planner(extra_sheets=[parallel_plan_sheet, inference_sheet,
                                                program_sheet, serving_sheet,
                                                gpu_comparison_sheet])
    procurement = build_procurement_planner(extra_sheets=[buy_vs_rent_sheet])
    return {"llm_budget_planner.xlsx": budget, "llm_procurement_planner.xlsx": procurement}


def write_workbooks(out: Path, books: dict | None = None) -> list[Path]:
    """The planning workbooks: dist/llm_budget_planner.xlsx and dist/llm_procurement_planner.xlsx."""
    from llm_budget_planner.templates.output import save_workbook

    books = build_workbooks() if books is None else books
    return [save_workbook(wb, out / name) for name, wb in books.items()]


def add_model(config_path: Path, model_id: str | None) -> int:
    """Read a Hugging Face config.json (a local file), print the derived parameter counts
    and add the model to the user catalog (written atomically; nothing on an error)."""
    import csv
    import datetime
    import io
    import json

    from llm_budget_planner.formulas import catalog
    from llm_budget_planner.formulas.errors import FormulasError
    from llm_budget_planner.formulas.hf_config import row_from_hf_config
    from llm_budget_planner.templates.output import atomic_write_text

    try:
        cfg = json.loads(config_path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        print(f"build.py: {config_path} does not exist", file=sys.stderr)
        return 1
    except (OSError, UnicodeDecodeError) as exc:
        print(f"build.py: {config_path} cannot be read ({type(exc).__name__})", file=sys.stderr)
        return 1
    except json.JSONDecodeError as exc:
        print(f"build.py: {config_path} is not valid JSON (line {exc.lineno}, column "
              f"{exc.colno}: {exc.msg})", file=sys.stderr)
        return 1
    try:
        row, unknown = row_from_hf_config(cfg, model_id, source=f"config.json ({config_path.name})")
        row["retrieved"] = datetime.date.today().isoformat()
        spec = catalog.ModelSpec(**row)
    except FormulasError as exc:
        print(f"build.py: {exc.message}", file=sys.stderr)
        return 1
    except ValueError as exc:  # pydantic validation
        print(f"build.py: {config_path} gives an invalid model ({str(exc).splitlines()[0]})",
              file=sys.stderr)
        return 1
    shipped = catalog._load("models.csv", catalog.ModelSpec)
    if spec.id in shipped:
        print(f"build.py: '{spec.id}' is a shipped catalog id: choose another with --id NAME",
              file=sys.stderr)
        return 1
    path = catalog.user_models_path()
    existing: list[dict] = []
    if path.is_file():
        try:
            existing = list(catalog._load(path.name, catalog.ModelSpec,
                                          path.read_text(encoding="utf-8")).values())
        except (catalog.CatalogError, OSError, UnicodeDecodeError) as exc:
            print(f"build.py: the user catalog {path} cannot be read ({exc}); fix or remove it",
                  file=sys.stderr)
            return 1
    rows = [r.model_dump() for r in existing if r.id != spec.id] + [spec.model_dump()]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(catalog.ModelSpec.model_fields),
                            lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if x is None else str(x).lower() if isinstance(x, bool) else
                             int(x) if isinstance(x, float) and x.is_integer() else x)
                         for k, x in r.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, buf.getvalue())
    catalog.reload_catalogs()
    print(f"{spec.id}: {spec.params:,.0f} parameters in total, {spec.active_params:,.0f} "
          f"active per token ({spec.layers} layers, {spec.attention} attention"
          + (f", {spec.experts} experts, top-{spec.experts_per_token}" if spec.experts > 1 else "")
          + ")")
    if unknown:
        print(f"not understood and ignored: {', '.join(unknown)}")
    print(f"added to {path}; the functions and the next built workbooks use it")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the generated workbooks (default: dist/); with --out, "
                             "nothing outside it is written")
    parser.add_argument("--force", action="store_true",
                        help="overwrite workbooks that are open or were edited since the last build")
    parser.add_argument("--add-model", type=Path, metavar="CONFIG_JSON",
                        help="add a model from a Hugging Face config.json (a local file) to "
                             "the user catalog, then exit")
    parser.add_argument("--id", help="catalog id for --add-model (default: from the config)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.add_model is not None:
        return add_model(args.add_model, args.id)
    from llm_budget_planner.formulas.errors import FormulasError
    from llm_budget_planner.templates.output import allow_overwrite, check_out_dir, clean_stale_temps

    out = ROOT / "dist" if args.out is None else args.out
    allow_overwrite(args.force)
    try:
        check_out_dir(out)  # refuse before anything is written
        books = build_workbooks()  # a failure here leaves every previous output as it was
        written = []
        if args.out is None:
            clean_stale_temps(ROOT / "docs")
            clean_stale_temps(ROOT)
            written += write_reference()
        out.mkdir(parents=True, exist_ok=True)
        written += write_excel_addin_files(out)
        written += write_workbooks(out, books)
    except (OSError, FormulasError) as exc:
        print(f"build.py: {_one_line(exc)}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


def _one_line(exc: BaseException) -> str:
    """A user error as one line: an OSError as "reason: path", a catalog error as its text."""
    from llm_budget_planner.templates.output import OutputError

    if isinstance(exc, OSError) and not isinstance(exc, OutputError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        text = f"could not write the output ({exc.strerror}{where})"
    else:
        text = str(exc)
    from llm_budget_planner.formulas.errors import CatalogError

    if isinstance(exc, CatalogError):
        text = f"catalog error: {text}"
    return " ".join(text.split())


if __name__ == "__main__":
    raise SystemExit(main())
