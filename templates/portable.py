"""Formula text every spreadsheet engine reads the same way.

Excel and LibreOffice read a number written with an exponent in any form (``1E12``,
``1E-9``), but the independent engine the tests recalculate the workbooks with (PyPI's
``formulas`` 1.3) refuses a formula with ``1E12`` and reads Excel's own form ``1E+12``.
:func:`portable_formula` writes each such literal as Excel writes it: a signed exponent of
at least two digits (``1E12`` -> ``1E+12``, ``2.5E-3`` -> ``2.5E-03``); numbers inside text
(``"1E9 bytes"``) and cell references (``E12``) are left alone, because the formula is
rewritten token by token (openpyxl's tokenizer).
:func:`make_portable` applies it to every formula of a workbook.
"""

from __future__ import annotations

import re

from openpyxl.formula.tokenizer import Token, Tokenizer

__all__ = ["portable_formula", "make_portable"]

_EXPONENT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)[eE]([+-]?\d+)")


def _portable_number(text: str) -> str:
    m = _EXPONENT.fullmatch(text)
    if m is None:
        return text
    mantissa, exponent = m.group(1), int(m.group(2))
    return f"{mantissa}E{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def portable_formula(formula: str) -> str:
    """``formula`` with its exponent literals written as Excel writes them.

    >>> portable_formula('=ROUNDUP(A1*(1-1E-12)-1E-9,0)&" 1E9 bytes"&E12')
    '=ROUNDUP(A1*(1-1E-12)-1E-09,0)&" 1E9 bytes"&E12'
    >>> portable_formula("=Params*2.5E+3/1E9")
    '=Params*2.5E+03/1E+09'
    """
    if not (isinstance(formula, str) and formula.startswith("=")) or not _EXPONENT.search(
            formula):
        return formula
    tok = Tokenizer(formula)
    changed = False
    for item in tok.items:
        if item.type == Token.OPERAND and item.subtype == Token.NUMBER:
            new = _portable_number(item.value)
            changed |= new != item.value
            item.value = new
    return tok.render() if changed else formula


def make_portable(wb):
    """Rewrite every formula cell and defined name of ``wb`` in place; return ``wb``."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" and isinstance(cell.value, str):
                    cell.value = portable_formula(cell.value)
    for name in list(wb.defined_names.values()):
        if isinstance(name.attr_text, str) and _EXPONENT.search(name.attr_text):
            name.attr_text = portable_formula("=" + name.attr_text)[1:]
    return wb
