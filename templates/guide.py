"""The "Start here" sheet: what a workbook answers, who fills what, formulas and sources."""

from __future__ import annotations

import datetime as _dt
import re
from importlib import metadata
from pathlib import Path
from typing import Sequence

from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from .sheets import finish_sheet, put_text, sheet_heading
from .styles import style

__all__ = ["project_version", "write_guide"]


def project_version() -> str:
    """The package version (installed metadata, else pyproject.toml of the source tree)."""
    try:
        return metadata.version("llm-budget-planner")
    except metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        text = pyproject.read_text(encoding="utf-8") if pyproject.exists() else ""
        found = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
        return found.group(1) if found else "unknown"


def write_guide(wb: Workbook, title: str, blocks: Sequence[tuple[str, Sequence[str]]],
                built: _dt.date) -> Worksheet:
    """Write the guide as the first sheet: a title, then headed blocks of paragraphs."""
    ws = wb.active
    ws.title = "Start here"
    sheet_heading(ws, title,
                  f"Built {built.isoformat()} by llm-budget-planner {project_version()} "
                  "(python build.py). Blue cells on yellow are inputs; everything else is a "
                  "formula and recalculates in Excel 2010 or newer and in LibreOffice, no add-in "
                  "needed.",
                  "B")
    row = 4
    for heading, paragraphs in blocks:
        c = ws.cell(row=row, column=1)
        put_text(c, heading)
        style(c, "section")
        style(ws.cell(row=row, column=2), "section")
        row += 1
        for text in paragraphs:
            role = "example" if text.startswith("EXAMPLE") else "text"
            if "\t" in text:
                label, body = text.split("\t", 1)
                put_text(ws.cell(row=row, column=1), label)
                style(ws.cell(row=row, column=1), "strong")
                put_text(ws.cell(row=row, column=2), body)
                style(ws.cell(row=row, column=2), role)
                lines = max(1, len(body) // 95 + 1)
            else:
                put_text(ws.cell(row=row, column=1), text)
                style(ws.cell(row=row, column=1), role)
                ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
                lines = max(1, len(text) // 125 + 1)
            ws.row_dimensions[row].height = 15 * lines + 2
            row += 1
        row += 1
    finish_sheet(ws, {"A": 30, "B": 100}, freeze=None)
    return ws
