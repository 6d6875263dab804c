"""Building blocks shared by the workbook generators (and by sheets that later modules add).

* :func:`define_name` gives a cell or range a workbook-scoped name (``quote_sheetname`` +
  ``absolute_coordinate``); generated formulas refer to names, not A1 addresses.
* :class:`Rule` describes the data validation of an input (list, whole, decimal, date) with
  the prompt and error text that state the unit.
* :class:`Form` writes labelled rows ``label | value used | unit | default | your value | how
  to fill`` (the FAST input pattern: the default is a locked cell, the override is the only
  yellow cell and blank by default, the value used is a formula), and results (named
  formulas).
* :func:`put_text` writes text that must never become a formula (catalog text).
* :func:`finish_sheet` sets column widths, freeze panes, print setup (landscape, fit to
  width) and sheet protection without a password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from openpyxl.utils import (absolute_coordinate, column_index_from_string, get_column_letter,
                            quote_sheetname)
from openpyxl.workbook import Workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .portable import make_portable
from .safe import set_text
from .styles import style

__all__ = ["Rule", "Form", "define_name", "name_ref", "put_text", "finish_sheet", "safe_title",
           "add_rule", "header_row", "not_usable"]

def not_usable(name: str, low: str = "0", strict: bool = True, high: str | None = None) -> str:
    """Excel test that ``name`` is not a usable number (IF short-circuits error values):
    text or an error, at most ``low`` (below it when not ``strict``) or above ``high``."""
    cmp = f"{name}<={low}" if strict else f"{name}<{low}"
    if high is not None:
        cmp = f"OR({cmp},{name}>{high})"
    return f"IF(ISNUMBER({name}),{cmp},TRUE)"


_BAD_TITLE = re.compile(r"[\\*?:/\[\]]")


def safe_title(title: str) -> str:
    """A valid sheet title: no ``\\ * ? : / [ ]``, at most 31 characters."""
    return _BAD_TITLE.sub("-", title).strip()[:31] or "Sheet"


def define_name(wb: Workbook, name: str, ws: Worksheet, ref: str) -> str:
    """Give ``ws!ref`` (a cell ``B4`` or a range ``A2:A20``) the workbook-scoped ``name``."""
    if name in wb.defined_names:
        raise ValueError(f"defined name {name} is used twice")
    target = f"{quote_sheetname(ws.title)}!{absolute_coordinate(ref)}"
    wb.defined_names[name] = DefinedName(name, attr_text=target)
    return name


def name_ref(wb: Workbook, name: str) -> tuple[str, str]:
    """(sheet title, coordinate) of a workbook-scoped name that points to one cell or range."""
    (sheet, coord), = list(wb.defined_names[name].destinations)
    return sheet, coord.replace("$", "")


def put_text(cell, value) -> None:
    """Write ``value`` as text or a number, never as a formula (text starting with '='),
    without the control characters a workbook cannot hold (see :mod:`templates.safe`)."""
    set_text(cell, value)


@dataclass(frozen=True)
class Rule:
    """Data validation of one input cell.

    kind: ``list`` (``source`` is a range name or a quoted list), ``whole``, ``decimal``
    or ``date`` (``low``/``high`` bounds; a date bound is an Excel serial or a formula).
    ``prompt`` explains the unit and an example; ``error`` is shown on a bad entry.
    """

    kind: str
    prompt: str
    error: str
    low: float | str | None = None
    high: float | str | None = None
    source: str | None = None


def _bound(x) -> str:
    """A validation bound as formula text: whole numbers without an exponent (1E15 ->
    1000000000000000), other numbers as Python writes them, formulas unchanged."""
    if isinstance(x, (int, float)) and float(x).is_integer():
        return str(int(x))
    return str(x).lstrip("=")


def sheet_heading(ws: Worksheet, title: str, note: str, merge_to: str, height: float | None = None,
                  note_style: str = "note") -> None:
    """Write a sheet's title (A1) and its explanatory note (A2, merged up to column
    ``merge_to``, optionally with a taller row)."""
    put_text(ws["A1"], title)
    style(ws["A1"], "title")
    put_text(ws["A2"], note)
    style(ws["A2"], note_style)
    ws.merge_cells(f"A2:{merge_to}2")
    if height is not None:
        ws.row_dimensions[2].height = height


def add_rule(ws: Worksheet, coord: str, rule: Rule, title: str,
             allow_blank: bool = False) -> DataValidation:
    """Attach ``rule`` to the cell ``coord`` (``allow_blank`` for override cells)."""
    if rule.kind == "list":
        # OOXML stores validation formulas without the leading '=' (as Excel writes them).
        dv = DataValidation(type="list", formula1=(rule.source or "").lstrip("="),
                            allow_blank=allow_blank)
    else:
        op = "between" if rule.high is not None else "greaterThanOrEqual"
        dv = DataValidation(type=rule.kind, operator=op, formula1=_bound(rule.low),
                            formula2=None if rule.high is None else _bound(rule.high),
                            allow_blank=allow_blank)
    dv.promptTitle = title[:32]
    dv.prompt = rule.prompt[:255]
    dv.errorTitle = "Invalid input"
    dv.error = rule.error[:255]
    dv.showInputMessage = True
    dv.showErrorMessage = True
    ws.add_data_validation(dv)
    dv.add(coord)
    return dv


def header_row(ws: Worksheet, row: int, titles: Sequence[str], col: int = 1) -> None:
    """Write a header band (units belong in the header text)."""
    for i, title in enumerate(titles):
        c = ws.cell(row=row, column=col + i)
        put_text(c, title)
        style(c, "header")


@dataclass
class Form:
    """Labelled rows on a sheet.

    With a Default column (``with_default``, the FAST input pattern): ``label | value used |
    unit | default | your value | how to fill``. The default (column D) is a locked value or
    look-up, the override (column E, named ``<name>_Override``) is the only yellow cell and
    is blank by default, and the value used (column B, named ``<name>``) is
    ``=IF(E="",D,E)``: typing an override changes the value used, clearing it restores the
    default. Without a Default column: ``label | value | unit | formula / source`` and the
    value cell is the input.

    ``inputs`` and ``results`` collect ``name -> description`` so that other modules can
    find every named cell of a workbook (see the :mod:`templates` docstring).
    """

    wb: Workbook
    ws: Worksheet
    row: int = 4
    inputs: dict[str, str] = field(default_factory=dict)
    results: dict[str, str] = field(default_factory=dict)
    with_default: bool = True
    note_width: float = 70  #: width of the note column, for row heights of long notes
    unit_col: str = "C"
    note_col: str | None = None  #: default: E with a Default column, else D
    note_merge_to: str | None = None  #: merge each note cell through this column

    COLS = ("A", "B", "C", "D", "E", "F")
    OVERRIDE_COL = "E"

    def header(self, titles: Sequence[str] | None = None) -> None:
        titles = titles or (("Item", "Value used", "Unit", "Default", "Your value",
                             "How to fill / source")
                            if self.with_default else ("Item", "Value", "Unit", "Formula / source"))
        header_row(self.ws, self.row, titles)
        self.ws.row_dimensions[self.row].height = 20
        self.row += 1

    def section(self, title: str) -> None:
        self.row += 1
        c = self.ws.cell(row=self.row, column=1, value=title)
        style(c, "section")
        last = column_index_from_string(self.note_merge_to or self._note_col())
        for col in range(2, last + 1):
            style(self.ws.cell(row=self.row, column=col), "section")
        self.row += 1

    def note(self, text: str, role: str = "note") -> str:
        c = self.ws.cell(row=self.row, column=1)
        put_text(c, text)
        style(c, role)
        last = self.note_merge_to or self._note_col()
        self.ws.merge_cells(f"A{self.row}:{last}{self.row}")
        self.ws.row_dimensions[self.row].height = 15 * max(1, len(text) // 120 + 1)
        coord = f"A{self.row}"
        self.row += 1
        return coord

    def _note_col(self) -> str:
        return self.note_col or ("F" if self.with_default else "D")

    def _label(self, label: str, unit: str, note: str, name: str | None = None) -> None:
        r = self.row
        if name:
            note = f"[{name}] {note}".strip()
        put_text(self.ws[f"A{r}"], label)
        style(self.ws[f"A{r}"], "label")
        put_text(self.ws[f"{self.unit_col}{r}"], unit)
        style(self.ws[f"{self.unit_col}{r}"], "label")
        note_col = self._note_col()
        put_text(self.ws[f"{note_col}{r}"], note)
        style(self.ws[f"{note_col}{r}"], "note")
        if self.note_merge_to:
            self.ws.merge_cells(f"{note_col}{r}:{self.note_merge_to}{r}")
        per_line = max(15, int(self.note_width * 1.25))
        lines = -(-len(note) // per_line)
        if lines > 1:
            self.ws.row_dimensions[r].height = 13.5 * lines + 2

    def input(self, name: str, label: str, value, unit: str, fmt: str, rule: Rule, note: str,
              default_formula: str | None = None) -> str:
        """A named input. With a Default column: the default (``default_formula``, a look-up,
        or the shipped ``value``) in D, a blank override cell in E (``<name>_Override``) and
        the value used in B. Without one, B holds ``value`` and is the input."""
        r = self.row
        self._label(label, unit, note, name)
        cell = self.ws[f"B{r}"]
        if self.with_default:
            d = self.ws[f"D{r}"]
            if default_formula is not None:
                d.value = default_formula
            else:
                put_text(d, value)
            style(d, "calc", fmt)
            o = self.ws[f"{self.OVERRIDE_COL}{r}"]
            style(o, "input", fmt)
            add_rule(self.ws, o.coordinate, rule, label, allow_blank=True)
            define_name(self.wb, f"{name}_Override", self.ws, o.coordinate)
            cell.value = f"=IF({o.coordinate}=\"\",D{r},{o.coordinate})"
            style(cell, "calc", fmt)
        else:
            if default_formula is not None:
                raise ValueError(f"{name}: a look-up default needs a Default column")
            put_text(cell, value)
            style(cell, "input", fmt)
            add_rule(self.ws, f"B{r}", rule, label)
        define_name(self.wb, name, self.ws, f"B{r}")
        self.inputs[name] = f"{label} ({unit})"
        self.row += 1
        return f"B{r}"

    def result(self, name: str | None, label: str, formula: str, unit: str, fmt: str, note: str,
               key: bool = False, unit_formula: str | None = None) -> str:
        """A formula row; named when ``name`` is given; ``key`` uses the result style;
        ``unit_formula`` replaces the unit text (e.g. to mark a total incomplete)."""
        r = self.row
        self._label(label, unit, note, name)
        if unit_formula is not None:
            self.ws[f"{self.unit_col}{r}"].value = unit_formula
        cell = self.ws[f"B{r}"]
        cell.value = formula
        style(cell, "result" if key else "calc", fmt)
        if name:
            define_name(self.wb, name, self.ws, f"B{r}")
            self.results[name] = f"{label} ({unit})"
        self.row += 1
        return f"B{r}"


def finish_sheet(ws: Worksheet, widths: dict[str, float], freeze: str | None = "A5",
                 protect: bool = True, fit_height: int = 0,
                 print_title_rows: str | None = None) -> None:
    """Column widths, frozen header, print setup (landscape, one page wide, the rows above
    the frozen pane repeated on every page), protection."""
    for col, width in widths.items():
        ws.column_dimensions[col].width = width
    if freeze:
        ws.freeze_panes = freeze
    if print_title_rows is None and freeze:
        top = int(re.sub(r"[A-Z]", "", freeze)) - 1
        print_title_rows = f"1:{top}" if top >= 1 else None
    if print_title_rows:
        ws.print_title_rows = print_title_rows
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = fit_height
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.oddFooter.center.text = "&F - &A - page &P of &N"
    if protect:
        ws.protection.sheet = True  # no password: a guard against accidents, not security
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
        ws.protection.selectLockedCells = False
        ws.protection.selectUnlockedCells = False


def column_letters(start: int, count: int) -> Iterable[str]:
    """Column letters from the 1-based ``start``."""
    return (get_column_letter(start + i) for i in range(count))


def footer(ws: Worksheet, built) -> None:
    """Printed footer: file, sheet, page of pages and the build date."""
    ws.oddFooter.center.text = f"&F - &A - page &P of &N - built {built.isoformat()}"
    ws.oddFooter.center.size = 8


def finish_planner(wb: Workbook, names: dict[str, str], catalog_sheets: Sequence[Worksheet],
                   extra_sheets: Sequence, built=None) -> Workbook:
    """Run the added sheet builders (``builder(wb, names)``), keep the catalog sheets at the
    end, after any added sheet, put the footer (with the build date) on every sheet and open
    the workbook on its first sheet."""
    for builder in extra_sheets:
        builder(wb, dict(names))
    if built is not None:
        for ws in wb.worksheets:
            footer(ws, built)
    for ws in catalog_sheets:
        wb.move_sheet(ws, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(ws.title))
    wb.active = 0
    return make_portable(wb)
