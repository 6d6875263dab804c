"""The one place that turns Excel inputs into core calls and core errors into cell text.

An Excel function is written as a plain Python function whose body calls
:mod:`formulas`; the :func:`udf` decorator gives it

* input conversion for every argument (blank cells, TRUE/FALSE, numbers stored as text,
  precision names, GPU ids where a number is expected, 1x1 ranges);
* broadcasting over ranges: any numeric argument may be a range (a 2-D list); the result
  comes back as a 2-D list of the broadcast shape. The numeric cells are answered by one
  core call; blank, text and error cells are masked and answered one by one, so a blank
  row in a long column costs about what a number costs;
* error handling: a :class:`formulas.FormulasError` becomes one line of text that starts
  with the Excel error code (``#VALUE!``, ``#NUM!``, ``#N/A``). In classic xlwings the text
  is the cell value; under xlwings Lite or Server it is raised as ``XlwingsError`` so the
  cell shows ``#VALUE!`` with the message on hover. Inside a range result each bad cell
  gets its own message and the good cells still compute; when Excel receives the range,
  the return converter :class:`ErrorCells` turns each message into a real error value
  (classic xlwings on Windows: a COM error variant; Lite and Server: the error code, which
  xlwings sends as an Excel error), so ``SUM`` over the range gives the error and
  ``ISERROR`` sees it instead of skipping the text;
* the xlwings metadata (category, function and argument descriptions, ``ndim=2``).
"""

from __future__ import annotations

import functools
import gc
import importlib
import inspect
import itertools
import math
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from llm_budget_planner import formulas as core
from llm_budget_planner.formulas.errors import FormulasError, InvalidInputError

try:  # xlwings is optional for the core; the decorators are no-ops off Windows/Lite/Server
    import xlwings as _xw
except ImportError:  # pragma: no cover - exercised only where xlwings is absent
    _xw = None

__all__ = ["udf", "Arg", "CATEGORY", "REGISTRY", "ExcelRangeError", "in_office_js_runtime",
           "range_errors_to_excel"]

CATEGORY = "LLM Planning"
REGISTRY: dict[str, Callable] = {}
_EMPTY = object()
_CELL_ERRORS = frozenset(("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!",
                          "#SPILL!", "#CALC!", "#GETTING_DATA", "#BUSY!"))
_NUMERIC = frozenset((float, int))


def in_office_js_runtime() -> bool:
    """True under xlwings Lite (Pyodide) or xlwings Server, where errors must be raised."""
    return sys.platform == "emscripten" or os.environ.get("XLWINGS_ON_SERVER") == "true"


class ExcelRangeError(InvalidInputError):
    """Ranges whose shapes cannot be combined cell by cell."""


# ---------------------------------------------------------------------------------------
# Argument kinds
# ---------------------------------------------------------------------------------------

def _is_blank(x) -> bool:
    return x is None or x is _EMPTY or (isinstance(x, str) and x.strip() == "")


def _number(name: str, x) -> float:
    if isinstance(x, bool):
        raise InvalidInputError(f"{name} is TRUE/FALSE: expected a number", arg=name, value=x)
    if isinstance(x, (int, float)):
        if not math.isfinite(x):
            raise InvalidInputError(f"{name} must be a finite number", arg=name, value=x,
                                    code="#NUM!")
        return float(x)
    if isinstance(x, str):
        text = x.strip().replace(" ", "")
        scale = 1.0
        if text.endswith("%"):
            text, scale = text[:-1], 0.01
        if not core.units.NUMBER_TEXT.fullmatch(text):  # float() would take "1_0", "inf"
            raise InvalidInputError(f"{name} is text ('{x.strip()[:40]}'): expected a number",
                                    arg=name, value=x)
        value = float(text) * scale
        if not math.isfinite(value):
            raise InvalidInputError(f"{name} must be a finite number", arg=name, value=x,
                                    code="#NUM!")
        return value
    if isinstance(x, (np.floating, np.integer)):
        return _number(name, x.item())
    raise InvalidInputError(f"{name} must be a number", arg=name, value=x)


def _flag(name: str, x) -> bool:
    if isinstance(x, bool):
        return x
    if isinstance(x, (int, float)) and x in (0, 1):
        return bool(x)
    if isinstance(x, str):
        key = x.strip().lower()
        if key in ("true", "yes", "y", "1", "on"):
            return True
        if key in ("false", "no", "n", "0", "off"):
            return False
    raise InvalidInputError(f"{name} must be TRUE or FALSE", arg=name, value=x)


def _text(name: str, x) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        return "TRUE" if x else "FALSE"
    if isinstance(x, (int, float)):
        return f"{x:g}"
    raise InvalidInputError(f"{name} must be text", arg=name, value=x)


def _number_or(lookup: Callable[[str], float]):
    def convert(name: str, x) -> float:
        if isinstance(x, str):
            try:
                return _number(name, x)
            except InvalidInputError:
                return lookup(x)
        return _number(name, x)
    return convert


def _number_or_text(name: str, x):
    """A number, or a name (model id, precision, "max") passed on as text for the core."""
    if isinstance(x, str):
        try:
            return _number(name, x)
        except InvalidInputError:
            return x.strip()
    return _number(name, x)


@dataclass(frozen=True)
class Arg:
    """How one Excel argument is documented and converted.

    kind:
      ``number``  a number (numbers stored as text and "45%" accepted);
      ``bytes``   a byte count or a precision name (bf16, int4, ...);
      ``tflops``  a TFLOPS figure or a GPU id (its dense BF16 peak);
      ``gpumem``  GB per GPU or a GPU id (its memory);
      ``membw``   GB/s or a GPU id (its memory bandwidth);
      ``name``    a number, or a name passed on as text (a model id as P, a precision
                  name, batch "max", a GPU id where TFLOPS are taken);
      ``flag``    TRUE/FALSE (1/0 and the text TRUE/FALSE accepted);
      ``text``    a name (mode, precision, catalog id, field);
      ``vector``  a whole range passed on as a float array (no broadcasting);
      ``model``   a number (today's meaning), a model catalog id, or a two-column range
                  of MODEL_SPEC field names and values describing a custom model.

    ``arch=True`` marks an argument that describes the architecture: it may be left
    blank when the function's ``model`` argument is a model rather than a number.
    """

    doc: str
    kind: str = "number"
    arch: bool = False

    def convert(self, name: str, x):
        return _CONVERTERS[self.kind](name, x)


def _vector(name: str, x):
    cells = x if isinstance(x, (list, tuple)) else [[x]]
    values = [c for c in itertools.chain.from_iterable(
        row if isinstance(row, (list, tuple)) else [row] for row in cells) if not _is_blank(c)]
    if not values:
        raise InvalidInputError(f"{name} is empty: expected a range of numbers", arg=name)
    return np.array([_number(name, c) for c in values], dtype=float)


def _model(name: str, x):
    if isinstance(x, core.Arch):
        return x
    if isinstance(x, str):
        try:
            return _number(name, x)
        except InvalidInputError:
            pass
        try:
            return core.resolve_model(x, name)
        except core.UnknownNameError as exc:
            exc.message = exc.message.replace("is not in the model catalog",
                                              "is neither a number nor a model id", 1)
            exc.args = (exc.message,)
            raise
    return _number(name, x)


def _model_table(rows) -> bool:
    """True for a two-column range whose first column holds MODEL_SPEC field names (at
    least one of them spelled right, so a misspelt one is named, not taken for a model id)."""
    if not (isinstance(rows, list) and rows and all(isinstance(r, list) for r in rows)):
        return False
    if any(len(r) != 2 for r in rows):
        return False
    keys = [r[0] for r in rows if not _is_blank(r[0])]
    if not keys or not all(isinstance(k, str) for k in keys):
        return False
    fields = set(core.arch.CUSTOM_FIELDS)
    return any(k.strip().lower().replace("-", "_").replace(" ", "_") in fields for k in keys)


_CONVERTERS: dict[str, Callable[[str, Any], Any]] = {
    "number": _number,
    "bytes": _number_or(core.bytes_per_param),
    "tflops": _number_or(lambda g: core.gpu(g).tflops_bf16),
    "gpumem": _number_or(lambda g: core.gpu(g).memory_gb),
    "membw": _number_or(lambda g: core.gpu(g).mem_bw_gbps),
    "name": _number_or_text,
    "flag": _flag,
    "text": _text,
    "vector": _vector,
    "model": _model,
}
_FAST_KINDS = frozenset(("number", "bytes", "tflops", "gpumem", "membw", "model"))


# ---------------------------------------------------------------------------------------
# Calling
# ---------------------------------------------------------------------------------------

@dataclass
class _Spec:
    name: str
    params: list[str]
    args: list[Arg]
    defaults: list[Any]
    broadcast: bool
    body: Callable
    doc: str = ""
    group: str = ""
    example: str = ""
    example_args: tuple | None = None


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_LONG_QUOTE = re.compile(r"'([^']{41,})'")
_MAX_ERROR_CHARS = 500


def _error_text(exc: FormulasError) -> str:
    """The cell text of an error: one line (a user's text may carry line breaks), and short
    (a quoted user text is cut to 40 characters; Excel cells hold at most 32,767)."""
    text = _CONTROL.sub(" ", exc.excel_text())
    text = _LONG_QUOTE.sub(lambda m: f"'{m.group(1)[:37]}...'", text)
    return text if len(text) <= _MAX_ERROR_CHARS else text[:_MAX_ERROR_CHARS - 3] + "..."


def _deliver(text: str):
    """Return the message as the cell value, or raise it where Office.js shows errors."""
    if in_office_js_runtime() and _xw is not None and hasattr(_xw, "XlwingsError"):
        raise _xw.XlwingsError(text)
    return text


def _unwrap(value):
    """Turn a 1x1 range into its value and tuples into lists; return (value, is_range)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if not value:
            return None, False
        if all(type(r) is list for r in value):  # the usual 2-D list: no copy
            rows = value
        else:
            rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in value]
        widths = set(map(len, rows))
        if len(widths) != 1 or 0 in widths:
            raise InvalidInputError("a range argument has rows of different lengths")
        if len(rows) == 1 and len(rows[0]) == 1:
            return rows[0][0], False
        return rows, True
    return value, False


def _convert_one(spec: _Spec, i: int, value, model_given: bool = False):
    name = spec.params[i]
    if isinstance(value, str) and value in _CELL_ERRORS:  # an error cell (err_to_str=True)
        code = value if value in ("#VALUE!", "#NUM!", "#N/A") else "#VALUE!"
        raise InvalidInputError(f"{name} refers to a cell showing {value}: fix that cell",
                                arg=name, code=code)
    if _is_blank(value):
        default = spec.defaults[i]
        if model_given and spec.args[i].arch:
            return None  # the model supplies it
        if default is inspect.Parameter.empty:
            what = spec.args[i].doc.split(". ")[0].rstrip(".")
            raise InvalidInputError(f"{name} is empty: expected {what[0].lower()}{what[1:]}",
                                    arg=name)
        return default
    try:
        return spec.args[i].convert(name, value)
    except FormulasError as exc:  # e.g. an unknown GPU id where TFLOPS are expected
        raise _naming(exc, name) from None


def _to_cell(x):
    """One result value as Excel wants it: float, int, str or bool; never NaN/inf."""
    if isinstance(x, (np.floating, np.integer)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        raise core.InfeasibleError("the result overflows: check the magnitudes of the inputs")
    return x


def _to_excel(result):
    if isinstance(result, np.ndarray):
        if result.ndim == 0:
            return _to_cell(result.item())
        if result.ndim == 1:
            result = result.reshape(1, -1)
        if result.dtype.kind == "f" and not np.all(np.isfinite(result)):
            raise core.InfeasibleError("the result overflows: check the magnitudes of the inputs")
        return result.tolist()
    if isinstance(result, (list, tuple)):
        return [[_to_cell(c) for c in row] if isinstance(row, (list, tuple)) else [_to_cell(row)]
                for row in result]
    return _to_cell(result)


def _naming(exc: FormulasError, name: str) -> FormulasError:
    """Make sure the message names the Excel argument at fault (prefix "name: " if not)."""
    if not re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", exc.message):
        exc.message = f"{name}: {exc.message}"
        exc.args = (exc.message,)
    exc.arg = name
    return exc


def _call_scalar(spec: _Spec, values: list):
    models = {i: _convert_one(spec, i, v) for i, v in enumerate(values)
              if spec.args[i].kind == "model"}
    given = any(isinstance(m, core.Arch) for m in models.values())
    converted = [models[i] if i in models else _convert_one(spec, i, v, given)
                 for i, v in enumerate(values)]
    try:
        return _to_excel(spec.body(*converted))
    except FormulasError as exc:
        if exc.arg in spec.params:
            raise _naming(exc, exc.arg) from None
        # The core may call the argument differently (WEIGHTS_GB's precision is the core's
        # bytes_per_param): name the one Excel argument that holds the offending value.
        if exc.arg is not None and exc.value is not None:
            same = [p for p, c in zip(spec.params, converted) if _same_value(c, exc.value)]
            if len(same) == 1:
                raise _naming(exc, same[0]) from None
        raise


def _same_value(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)):
        return a is b
    try:
        return a == float(b)
    except (TypeError, ValueError):
        return False


#: A failing vectorised call is split into this many parts to find its bad rows; parts of
#: at most _SCALAR_ROWS rows go cell by cell. Eight parts cost about 2.1 full calls per bad
#: row (halving costs 3).
_SPLIT = 8
_SCALAR_ROWS = 32
_NUMERIC_OR_NONE = frozenset((float, int, type(None)))


def _masked_array(spec: _Spec, i: int, rows):
    """A ranged argument as (float array, mask of the cells the vectorised call must skip).

    Numbers go straight into the array. Every other cell is converted on its own (a blank
    optional cell takes its numeric default, "45%" is 0.45, a GPU id is its figure); a
    cell that does not become a finite number (a blank required cell, text, an error
    cell, a blank whose default is not a number) is masked: its row is answered cell by
    cell. None when the argument's kind is never vectorised (text, flags).
    """
    if spec.args[i].kind not in _FAST_KINDS:
        return None
    kinds = set(map(type, itertools.chain.from_iterable(rows)))
    if kinds <= _NUMERIC:
        return np.array(rows, dtype=float), None
    if kinds <= _NUMERIC_OR_NONE:  # numpy reads None as NaN
        arr = np.array(rows, dtype=float)
    else:
        nan = math.nan
        arr = np.array([[c if type(c) in _NUMERIC else nan for c in r] for r in rows],
                       dtype=float)
    special = ~np.isfinite(arr)
    for r, c in zip(*np.nonzero(special)):
        try:
            v = _convert_one(spec, i, rows[r][c])
        except FormulasError:
            continue
        if type(v) in _NUMERIC and math.isfinite(v):
            arr[r, c] = v
            special[r, c] = False
    return arr, special


def _call_ranges(spec: _Spec, values: list, is_range: list[bool]):
    shapes = [(len(v), len(v[0])) for v, r in zip(values, is_range) if r]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        names = [f"{spec.params[i]} ({len(v)}x{len(v[0])})"
                 for i, (v, r) in enumerate(zip(values, is_range)) if r]
        raise ExcelRangeError("ranges " + " and ".join(names) + " cannot be combined: give "
                              "them the same size, or use single cells") from None
    # Every ranged argument becomes a flat float array over the broadcast shape; cells that
    # are not numbers are masked and answered one by one, the rest in one core call.
    args, special = [], np.zeros(shape, dtype=bool)
    for i, (v, r) in enumerate(zip(values, is_range)):
        if not r:
            args.append(_convert_one(spec, i, v))
            continue
        masked = _masked_array(spec, i, v)
        if masked is None:
            return _cell_by_cell(spec, values, is_range, shape)
        arr, mask = masked
        args.append(np.broadcast_to(arr, shape).ravel())
        if mask is not None:
            special |= mask
    result = np.full(shape[0] * shape[1], math.nan)
    leftovers = np.flatnonzero(special).tolist()
    if not _vectorised(spec, args, is_range, np.flatnonzero(~special.ravel()), result,
                       leftovers):
        return _cell_by_cell(spec, values, is_range, shape)
    out = RangeResult(_rows(result.reshape(shape)))
    width = shape[1]
    for k in leftovers:
        i, j = divmod(k, width)
        cell_values = [(v[i if len(v) > 1 else 0][j if len(v[0]) > 1 else 0] if r else v)
                       for v, r in zip(values, is_range)]
        out[i][j] = _one_cell(spec, cell_values, is_range)
    out.messages = [divmod(k, width) for k in leftovers if _is_message(out[k // width][k % width])]
    return out


def _vectorised(spec: _Spec, args: list, is_range: list[bool], rows: np.ndarray,
                result: np.ndarray, leftovers: list) -> bool:
    """Fill ``result[rows]`` with one core call over those rows.

    A call refused with a :class:`FormulasError` (some row holds a bad number, e.g. 45 for
    an MFU) is split into parts and retried, so only the parts holding bad rows shrink to
    the cell-by-cell path; rows whose answer is not finite go there too (they carry the
    overflow message). False when the core function does not vectorise at all (it returns
    text, or fails with an error that is not a FormulasError): the caller then answers
    every cell on its own, as it always could.
    """
    stack = [rows]
    while stack:
        part = stack.pop()
        if part.size == 0:
            continue
        try:
            res = spec.body(*[a[part] if r else a for a, r in zip(args, is_range)])
            res = np.broadcast_to(np.asarray(res, dtype=float), part.shape)
        except FormulasError:
            if part.size <= _SCALAR_ROWS:
                leftovers.extend(part.tolist())
            else:
                stack.extend(reversed(np.array_split(part, _SPLIT)))
            continue
        except Exception:  # noqa: BLE001 - not a vectorised function: cell by cell
            return False
        finite = np.isfinite(res)
        if finite.all():
            result[part] = res
        else:
            result[part[finite]] = res[finite]
            leftovers.extend(part[~finite].tolist())
    return True


def _rows(a: np.ndarray) -> list:
    """A 2-D float array as a list of row lists (fast path for a single column)."""
    if a.shape[1] == 1:
        return [[v] for v in a[:, 0].tolist()]
    return np.ascontiguousarray(a).tolist()


def _one_cell(spec: _Spec, cell_values: list, is_range: list[bool]):
    """One cell of a range result, answered on its own: a value or its error text."""
    # A row whose ranged *required* inputs are all blank stays blank; a blank in an
    # optional argument means "use the default".
    ranged = [cv for cv, r, d in zip(cell_values, is_range, spec.defaults)
              if r and d is inspect.Parameter.empty]
    if ranged and all(_is_blank(cv) for cv in ranged):
        return ""
    try:
        return _call_scalar(spec, cell_values)
    except FormulasError as exc:
        return _error_text(exc)
    except Exception as exc:  # a bug must not take the other cells down
        return _internal_error(spec, exc)


def _cell_by_cell(spec: _Spec, values, is_range, shape):
    grids = []
    for v, r in zip(values, is_range):
        if r:
            grid = np.empty((len(v), len(v[0])), dtype=object)
            grid[:] = v
            grids.append(np.broadcast_to(grid, shape))
        else:
            grids.append(None)
    out = RangeResult(
        [[_one_cell(spec, [g[i, j] if g is not None else v for g, v in zip(grids, values)],
                    is_range) for j in range(shape[1])] for i in range(shape[0])])
    out.messages = [(i, j) for i, row in enumerate(out) for j, c in enumerate(row)
                    if _is_message(c)]
    return out


def _internal_error(spec: _Spec, exc: Exception) -> str:
    return f"#VALUE! {spec.name} failed unexpectedly ({type(exc).__name__}); please report it"


def _invoke(spec: _Spec, args: tuple):
    with np.errstate(all="ignore"):  # overflow is reported as #NUM! text, not a warning
        return _invoke_checked(spec, args)


def _invoke_checked(spec: _Spec, args: tuple):
    if len(args) > len(spec.params):
        return _deliver(f"#VALUE! {spec.name} takes at most {len(spec.params)} arguments")
    values = list(args) + [_EMPTY] * (len(spec.params) - len(args))
    try:
        unwrapped = [(v, False) if a.kind == "vector" else _unwrap(v)
                     for v, a in zip(values, spec.args)]
        for i, a in enumerate(spec.args):  # a two-column field/value range: one custom model
            if a.kind == "model" and unwrapped[i][1] and _model_table(unwrapped[i][0]):
                try:
                    unwrapped[i] = (core.custom_model(
                        [(r[0], r[1]) for r in unwrapped[i][0] if not _is_blank(r[0])],
                        spec.params[i]), False)
                except FormulasError as exc:
                    raise _naming(exc, spec.params[i]) from None
        values = [u for u, _ in unwrapped]
        is_range = [r for _, r in unwrapped]
        if any(is_range):
            if not spec.broadcast:
                name = spec.params[is_range.index(True)]
                raise InvalidInputError(f"{name} must be a single cell in {spec.name}", arg=name)
            gc_was_on = gc.isenabled()
            gc.disable()  # building 10^5 small row lists would trigger many needless GC passes
            try:
                return _call_ranges(spec, values, is_range)
            finally:
                if gc_was_on:
                    gc.enable()
        return _call_scalar(spec, values)
    except FormulasError as exc:
        return _deliver(_error_text(exc))
    except Exception as exc:
        return _deliver(_internal_error(spec, exc))


# ---------------------------------------------------------------------------------------
# Error values inside range results
# ---------------------------------------------------------------------------------------

#: The SCODE of Excel's error values as a COM VT_ERROR variant carries them (what VBA's
#: CVErr(xlErrValue), CVErr(xlErrNum) and CVErr(xlErrNA) hold; xlwings reads the same
#: numbers back in ``_xlwindows.cell_errors``).
_COM_ERROR_SCODE = {"#VALUE!": -2146826273, "#NUM!": -2146826252, "#N/A": -2146826246}
_MESSAGE_CODE = re.compile(r"(#VALUE!|#NUM!|#N/A) ")


def _excel_error_value(code: str):
    """The runtime's real error value for ``code``, or None where there is none.

    xlwings Lite and Server turn a cell string that is exactly an error code into an Excel
    error (``_xlofficejs.errorstr_to_errortype``). Classic xlwings on Windows hands the
    result to COM through pywin32, which converts a ``win32com.client.VARIANT`` of type
    VT_ERROR into an error variant (``oleargs.cpp``, ``PyCom_VariantFromPyObject``).
    Classic xlwings on macOS has no such value: the message text stays.
    """
    if in_office_js_runtime():
        return code
    if sys.platform == "win32":
        try:  # pywin32, there on Windows beside classic xlwings (never in Lite's bundle)
            vt_error = importlib.import_module("pythoncom").VT_ERROR
            variant = importlib.import_module("win32com.client").VARIANT
        except ImportError:
            return None
        return variant(vt_error, _COM_ERROR_SCODE[code])
    return None


class RangeResult(list):
    """The rows of a range result, with ``messages``: the (row, column) of every cell that
    holds an error message, so the return converter need not scan 100,000 numbers."""

    messages: list[tuple[int, int]] | None = None


def _is_message(c) -> bool:
    return type(c) is str and _MESSAGE_CODE.match(c) is not None


def range_errors_to_excel(value):
    """A multi-cell result with each error message replaced by a real Excel error value.

    Single cells keep their message (classic: the cell text; Lite/Server raise before
    this), and so does every cell where the runtime has no error value (macOS classic).

    >>> range_errors_to_excel([[1.5], ["#NUM! MFU is a fraction"]])  # no Excel here
    [[1.5], ['#NUM! MFU is a fraction']]
    """
    if not (isinstance(value, list) and value and isinstance(value[0], list)) or (
            len(value) == 1 and len(value[0]) == 1):
        return value
    positions = getattr(value, "messages", None)
    if positions is None:
        positions = [(i, j) for i, row in enumerate(value) for j, c in enumerate(row)
                     if _is_message(c)]
    if not positions:
        return list(value)
    cache: dict[str, Any] = {}
    out = list(value)
    copied: set[int] = set()
    for i, j in positions:
        code = _MESSAGE_CODE.match(value[i][j]).group(1)
        if code not in cache:
            cache[code] = _excel_error_value(code)
        if cache[code] is None:
            return list(value)
        if i not in copied:
            out[i] = list(out[i])
            copied.add(i)
        out[i][j] = cache[code]
    return out


if _xw is not None and hasattr(_xw, "conversion"):
    class ErrorCells(_xw.conversion.Converter):
        """xlwings return converter: :func:`range_errors_to_excel` on the way to Excel.

        It runs only when xlwings hands a result to Excel, never when the function is
        called from Python, so Python callers and tests keep the messages.
        """

        @staticmethod
        def write_value(value, options):
            return range_errors_to_excel(value)
else:  # pragma: no cover - without xlwings there is no Excel to convert for
    ErrorCells = None


# ---------------------------------------------------------------------------------------
# Decorator
# ---------------------------------------------------------------------------------------

def udf(group: str, example: str = "", broadcast: bool = True, example_args=None,
        **arg_specs: Arg):
    """Make an Excel function of ``body``; see the module docstring.

    Parameters
    ----------
    group : str
        Section of the function reference (Model size, Compute and time, Memory ...).
    example : str
        A worked call with its result, shown in the reference.
    broadcast : bool
        False for functions whose output is itself a table (no ranges over inputs).
    example_args : tuple, optional
        The worked example's inputs as cell values (the demo workbook's input cells),
        needed when ``example`` is not a call with literal arguments.
    **arg_specs : Arg
        One :class:`Arg` per parameter of ``body``, in any order.
    """

    def decorate(body: Callable) -> Callable:
        sig = inspect.signature(body)
        params = list(sig.parameters)
        for p in sig.parameters.values():
            if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                raise TypeError(f"{body.__name__}: Excel functions take positional arguments only")
        if set(params) != set(arg_specs):
            raise TypeError(f"{body.__name__}: documented args {sorted(arg_specs)} != {params}")
        spec = _Spec(
            name=body.__name__, params=params, args=[arg_specs[p] for p in params],
            defaults=[sig.parameters[p].default for p in params], broadcast=broadcast,
            body=body, doc=inspect.getdoc(body) or "", group=group, example=example,
            example_args=None if example_args is None else tuple(example_args))

        @functools.wraps(body)
        def excel_function(*args):
            return _invoke(spec, args)

        excel_function.__signature__ = sig
        excel_function.__annotations__ = {}  # the body's hints must not become xlwings converters
        excel_function.__udf__ = spec
        decorated = excel_function
        if _xw is not None:
            for p in reversed(params):
                decorated = _xw.arg(p, doc=arg_specs[p].doc, ndim=2, err_to_str=True)(decorated)
            if ErrorCells is not None:
                decorated = _xw.ret(ErrorCells)(decorated)
            decorated = _xw.func(category=CATEGORY)(decorated)
            if hasattr(decorated, "__xlfunc__"):  # the Function Wizard shows the summary only
                decorated.__xlfunc__["ret"]["doc"] = spec.doc.split("\n\n")[0].replace("\n", " ")
        REGISTRY[spec.name] = decorated
        return decorated

    return decorate
