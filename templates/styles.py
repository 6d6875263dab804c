"""Cell styles and number formats of the planning workbooks, named by role.

One consistent convention in every workbook:

* **input**: blue text on light yellow, unlocked. The only cells a user types into.
  Some inputs hold a look-up by default (a catalog value); typing a number over them
  overrides it, and the "Default" column beside them keeps showing the look-up.
* **calc**: black on white, locked: a formula.
* **result**: bold on light blue, locked: a headline result (a defined name).
* **header**, **section**, **title**, **note**, **check**, **example**: layout.

Styles are registered once per workbook as openpyxl ``NamedStyle`` objects and applied by
name; a number format is set *after* the style (assigning a style resets the format).
Every font names its face (Calibri; LibreOffice renders it with the metric-compatible
Carlito), otherwise LibreOffice falls back to a serif face.
"""

from __future__ import annotations

from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.workbook import Workbook

__all__ = ["FONT", "FORMATS", "ROLES", "register_styles", "style"]

FONT = "Calibri"
_thin = Side(style="thin", color="BFBFBF")
_box = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)

#: Number formats by role. Excel and LibreOffice both read these codes.
FORMATS = {
    "count": "#,##0",
    "count_b": '#,##0.00,,," B"',  # raw count shown in billions (70.55 B)
    "flops": "0.00E+00",
    "usd": '"$"#,##0',
    "usd_cents": '"$"#,##0.00',
    "usd_m": '"$"#,##0.00,," M"',
    "pct": "0.0%",
    "days": "#,##0.0",
    "hours": "#,##0",
    "gb": "#,##0.0",
    "tflops": "#,##0.0",
    "decimal": "#,##0.00",
    "kw": "#,##0.0",
    "kwh": "#,##0",
    "tb": "#,##0.0",
    "date": "yyyy-mm-dd",
    "month": "mmm yyyy",
    "text": "@",
    "general": "General",
}


def _named(name: str, *, font: Font, fill: PatternFill | None = None, border: Border | None = None,
           locked: bool = True, alignment: Alignment | None = None) -> NamedStyle:
    st = NamedStyle(name=name)
    st.font = font
    if fill is not None:
        st.fill = fill
    if border is not None:
        st.border = border
    if alignment is not None:
        st.alignment = alignment
    st.protection = Protection(locked=locked)
    return st


def _solid(color: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=color, end_color=color)


def _roles() -> dict[str, NamedStyle]:
    wrap = Alignment(wrap_text=True, vertical="center")
    mid = Alignment(vertical="center")
    return {
        "input": _named("Input", font=Font(name=FONT, size=11, color="0000FF"),
                        fill=_solid("FFF2CC"), border=_box, locked=False, alignment=mid),
        "calc": _named("Calc", font=Font(name=FONT, size=11, color="000000"), border=_box,
                       alignment=mid),
        "result": _named("Result", font=Font(name=FONT, size=11, bold=True, color="000000"),
                         fill=_solid("DDEBF7"), border=_box, alignment=mid),
        "header": _named("Header", font=Font(name=FONT, size=11, bold=True, color="FFFFFF"),
                         fill=_solid("1F4E78"),
                         alignment=Alignment(wrap_text=True, vertical="center")),
        "section": _named("Section", font=Font(name=FONT, size=12, bold=True, color="1F4E78"),
                          border=Border(bottom=Side(style="medium", color="1F4E78"))),
        "title": _named("Title", font=Font(name=FONT, size=16, bold=True, color="1F4E78")),
        "label": _named("Label", font=Font(name=FONT, size=11), alignment=mid),
        "strong": _named("Strong", font=Font(name=FONT, size=11, bold=True), alignment=wrap),
        "text": _named("Text", font=Font(name=FONT, size=11), alignment=wrap),
        "note": _named("Note", font=Font(name=FONT, size=10, italic=True, color="595959"),
                       alignment=wrap),
        "check": _named("Check", font=Font(name=FONT, size=11, bold=True, color="9C0006"),
                        alignment=wrap),
        "example": _named("Example", font=Font(name=FONT, size=11, bold=True, color="833C0B"),
                          fill=_solid("FCE4D6"), alignment=wrap),
    }


#: Role name -> NamedStyle name.
ROLES = {role: st.name for role, st in _roles().items()}


def register_styles(wb: Workbook) -> None:
    """Add the named styles to ``wb`` (once; calling again is harmless)."""
    have = set(wb.named_styles)
    for st in _roles().values():
        if st.name not in have:
            wb.add_named_style(st)


def style(cell, role: str, fmt: str | None = None) -> None:
    """Apply a role's style to ``cell``, then the number format ``fmt`` (a FORMATS key)."""
    cell.style = ROLES[role]
    if fmt is not None:
        cell.number_format = FORMATS[fmt]
