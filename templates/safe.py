"""Text from catalogs or users, written into cells so that it can never become a formula.

openpyxl stores any string that starts with ``=`` as a formula, so a catalog note such as
``=HYPERLINK("http://...")`` would turn into a live link, and a control character in a
user's text makes openpyxl refuse the whole workbook (``IllegalCharacterError``). The
helpers here write text as text:

* :func:`text_cell` turns a value into one that is safe to assign
  (``ws["A1"] = text_cell(note)``): illegal characters removed, length capped at Excel's
  32,767 characters, and a string starting with ``=`` wrapped as rich text, which openpyxl
  always stores as a string;
* :func:`set_text` writes into a cell and pins its type to text;
* :func:`is_formula_text` says whether a string would be taken as a formula.

In a string cell, text starting with ``+``, ``-`` or ``@`` is inert (Excel evaluates
those only when a user types them), so they are kept as they are.
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.cell.rich_text import CellRichText

__all__ = ["MAX_CELL_CHARS", "clean_text", "text_cell", "set_text", "is_formula_text"]

#: Excel's limit on the characters in one cell ("Excel specifications and limits").
MAX_CELL_CHARS = 32_767


def is_formula_text(value: Any) -> bool:
    """True for a string openpyxl would store as a formula (it starts with ``=``)."""
    return isinstance(value, str) and len(value) > 1 and value.startswith("=")


def clean_text(text: str) -> str:
    """``text`` without the control characters XML forbids, at most 32,767 characters.

    >>> clean_text("GPU\\x00 notes\\x1b")
    'GPU notes'
    """
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_CHARS]


def text_cell(value: Any) -> Any:
    """A value safe to assign to a cell: text stays text, numbers and blanks pass through.

    >>> text_cell("=HYPERLINK(\\"http://example.com\\")").__class__.__name__
    'CellRichText'
    >>> text_cell("H100 SXM"), text_cell(80), text_cell(None)
    ('H100 SXM', 80, None)
    """
    if not isinstance(value, str):
        return value
    text = clean_text(value)
    if is_formula_text(text):
        return CellRichText(text)
    return text


def set_text(cell, value: Any):
    """Write ``value`` into ``cell`` through :func:`text_cell`; a string is typed as text."""
    cell.value = text_cell(value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell
