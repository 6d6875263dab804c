"""Recalculate workbooks with PyPI's ``formulas`` engine; print every formula cell's value.

    <engine venv>/bin/python -I tests/second_engine.py BOOK.xlsx [BOOK.xlsx ...]

Runs in its own virtual environment (``tests/test_second_engine.py`` makes it), so the
engine's own dependencies (scipy, schedula ...) stay out of the planner's; ``-I`` keeps the
project folder, whose ``formulas/`` folder is the planner's core, off ``sys.path``. Prints
one JSON object: workbook file name -> {"Sheet!A1": value}, where a value is a number,
text, true/false, or an error code such as "#N/A".
"""

import json
import math
import os
import sys

import formulas  # PyPI's engine (the planner installs as llm_budget_planner)


def _plain(value):
    if isinstance(value, formulas.functions.XlError) or type(value).__name__ == "XlError":
        return {"error": str(value)}
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return {"error": "#NUM!"}
    return value


def main(paths):
    out = {}
    for path in paths:
        name = os.path.basename(path)
        model = formulas.ExcelModel().loads(path).finish()
        solution = model.calculate()
        cells = {}
        for key, ranges in solution.items():
            # keys look like "'[book.xlsx]SHEET'!B5" (sheet names upper-cased)
            ref = str(key)
            if "]" not in ref or ":" in ref.rsplit("!", 1)[-1]:
                continue
            sheet = ref.split("]", 1)[1].rsplit("'!", 1)[0]
            cell = ref.rsplit("!", 1)[1]
            value = ranges.value
            try:
                value = value[0][0]
            except (TypeError, IndexError, KeyError):
                pass
            cells[f"{sheet}!{cell}"] = _plain(value)
        out[name] = cells
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
