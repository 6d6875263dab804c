"""Input checks shared by every formula module.

Each check takes the argument's Excel name, the value (a scalar or an array)
and raises one :mod:`formulas.errors` exception naming the argument and the
fix. Checks run on whole arrays at once: one ``np.any`` per rule, so a
100,000-row column costs microseconds, not a Python loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ImplausibleUnitError, InfeasibleError, InvalidInputError

ArrayLike = Any


def _any(mask: np.ndarray) -> bool:
    """``mask.any()``, without numpy's dispatch overhead for single cells."""
    return bool(mask) if mask.ndim == 0 else bool(mask.any())


def _all_finite(a: np.ndarray) -> bool:
    return bool(np.isfinite(a)) if a.ndim == 0 else bool(np.isfinite(a).all())


def num(name: str, x: ArrayLike) -> np.ndarray:
    """Return ``x`` as a float array; refuse text, booleans, NaN and infinities."""
    if isinstance(x, (bool, np.bool_)):
        raise InvalidInputError(f"{name} is TRUE/FALSE: expected a number", arg=name, value=x)
    if isinstance(x, str):
        raise InvalidInputError(f"{name} is text ('{x}'): expected a number", arg=name, value=x)
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a number", arg=name, value=x) from None
    if not _all_finite(a):
        raise InvalidInputError(f"{name} must be a finite number", arg=name, value=x,
                                code="#NUM!")
    return a


def _first(a: np.ndarray, mask: np.ndarray) -> float:
    return float(np.broadcast_to(a, mask.shape)[mask].flat[0])


def positive(name: str, x: ArrayLike) -> np.ndarray:
    """``x > 0``."""
    a = num(name, x)
    bad = ~(a > 0)
    if _any(bad):
        raise InvalidInputError(f"{name} must be greater than 0, got {_first(a, bad):g}",
                                arg=name, value=x, code="#NUM!")
    return a


def non_negative(name: str, x: ArrayLike) -> np.ndarray:
    """``x >= 0``."""
    a = num(name, x)
    bad = a < 0
    if _any(bad):
        raise InvalidInputError(f"{name} must be 0 or more, got {_first(a, bad):g}",
                                arg=name, value=x, code="#NUM!")
    return a


def at_least(name: str, x: ArrayLike, low: float) -> np.ndarray:
    """``x >= low``."""
    a = num(name, x)
    bad = a < low
    if _any(bad):
        raise InvalidInputError(f"{name} must be at least {low:g}, got {_first(a, bad):g}",
                                arg=name, value=x, code="#NUM!")
    return a


def whole(name: str, x: ArrayLike, low: float = 1) -> np.ndarray:
    """A whole number ``>= low`` (layers, heads, GPUs in a layout...)."""
    a = at_least(name, x, low)
    bad = a != np.round(a)
    if _any(bad):
        raise InvalidInputError(f"{name} must be a whole number, got {_first(a, bad):g}",
                                arg=name, value=x, code="#NUM!")
    return a


def count(name: str, x: ArrayLike, what: str, example: str,
          quantity: str = "parameter_count") -> np.ndarray:
    """A raw count (parameters, tokens) that must not be given in billions.

    A value below the quantity's limit in ``formulas/data/bounds.csv`` (1E6) is taken as a
    unit slip: 7 meant as "7B" would silently produce an answer a billion times too small.
    """
    from .bounds import bounds

    a = positive(name, x)
    bad = a < bounds()[quantity].refuse_below
    if _any(bad):
        v = _first(a, bad)
        raise ImplausibleUnitError(
            f"{name} is a raw {what} count: use {example} (got {v:g})", arg=name, value=x)
    return a


def params(name: str, x: ArrayLike, use: str = "total") -> np.ndarray:
    """A raw parameter count (>= 1e6): 7E9 for 7B; or a model (catalog id, spec, custom
    table), whose total parameters (``use="total"``: memory, gradients, optimizer state)
    or active parameters per token (``use="active"``: FLOPs) are taken."""
    if not isinstance(x, (int, float, np.ndarray)):
        from .arch import is_model, params_of  # here, not at import: arch reads the catalog

        if is_model(x):
            x = params_of(x, use, name)
    return count(name, x, "parameter", "7E9 for 7B")


def tokens(name: str, x: ArrayLike) -> np.ndarray:
    """A raw token count (>= 1e6): 300E9 for 300B."""
    return count(name, x, "token", "300E9 for 300B", "token_count")


def fraction(name: str, x: ArrayLike, what: str = "a fraction") -> np.ndarray:
    """A fraction in (0, 1]; a value in (1, 100] is taken as a percentage slip."""
    a = positive(name, x)
    pct = (a > 1) & (a <= 100)
    if _any(pct):
        v = _first(a, pct)
        raise ImplausibleUnitError(
            f"{name} is {what} between 0 and 1: use {v / 100:g} for {v:g}%", arg=name, value=x)
    bad = a > 1
    if _any(bad):
        raise InvalidInputError(f"{name} must be between 0 and 1, got {_first(a, bad):g}",
                                arg=name, value=x, code="#NUM!")
    return a


def bounded(quantity: str, name: str, x: ArrayLike, base=None) -> np.ndarray:
    """``base(name, x)`` (default :func:`positive`), then the limits of ``quantity`` in
    ``formulas/data/bounds.csv``: a value beyond them is refused with the unit slip that
    explains it."""
    from .bounds import check

    return check(quantity, name, (base or positive)(name, x))


def tflops(name: str, x: ArrayLike) -> np.ndarray:
    """Per-GPU TFLOPS; GFLOPS or FLOP/s given by mistake are refused (``tflops_per_gpu``)."""
    return bounded("tflops_per_gpu", name, x)


def gigabytes(name: str, x: ArrayLike) -> np.ndarray:
    """GPU memory in GB; MB or bytes given by mistake are refused (``gpu_memory_gb``)."""
    return bounded("gpu_memory_gb", name, x)


def rent(name: str, x: ArrayLike) -> np.ndarray:
    """A rental price in USD per GPU-hour, 0 or more; cents are refused."""
    return bounded("rent_usd_per_gpu_hour", name, x, non_negative)


def bytes_per_value(name: str, x: ArrayLike) -> np.ndarray:
    """Bytes per stored value (2 for bf16); bits given by mistake are refused."""
    return bounded("bytes_per_value", name, x)


def multiplier(name: str, x: ArrayLike) -> np.ndarray:
    """A multiplier of at least 1 (1.25 for +25%); percentages are refused."""
    return bounded("multiplier", name, x, lambda n, y: at_least(n, y, 1.0))


def bandwidth(name: str, x: ArrayLike, factor: float = 1.0, unit: str = "GB/s",
              link: bool = True) -> np.ndarray:
    """A bandwidth in ``unit`` (``factor`` turns it into GB/s); raw bytes/s or bits/s refused.

    ``link`` False for a memory bandwidth, which is never quoted in bits per second.

    >>> bandwidth("bandwidth", 200e9)
    Traceback (most recent call last):
    ...
    formulas.errors.ImplausibleUnitError: bandwidth is in GB/s: use 200 for 2e+11 bytes/s, or 25 for 2e+11 bits/s
    """
    from .bounds import limit

    a = positive(name, x)
    bad = a * factor > limit("bandwidth_gbps")  # bounds.csv: raw bytes/s or bits/s above
    if _any(bad):
        v = _first(a, bad)
        if factor < 1:  # a bits unit (Gbps): the slip is raw bits/s
            fix = f"use {v / 1e9:g} for {v:g} bits/s"
        elif link:
            fix = f"use {v / 1e9 / factor:g} for {v:g} bytes/s, or {v / 8e9 / factor:g} for {v:g} bits/s"
        else:
            fix = f"use {v / 1e9 / factor:g} for {v:g} bytes/s"
        raise ImplausibleUnitError(f"{name} is in {unit}: {fix}", arg=name, value=x)
    return a


def deadline_days(name: str, x: ArrayLike) -> np.ndarray:
    """A deadline in days, at most a year (``deadline_days`` in bounds.csv); a larger value
    is taken as hours or seconds.

    >>> deadline_days("days", 8760)
    Traceback (most recent call last):
    ...
    formulas.errors.ImplausibleUnitError: days is a deadline in days: use 365 for 8760 hours
    """
    return bounded("deadline_days", name, x)


def out(x: ArrayLike) -> Any:
    """Scalar in, scalar out: a 0-d result becomes a Python float.

    Also the last line of defence against NaN and infinities: a result that
    overflows raises instead of reaching a spreadsheet.
    """
    a = np.asarray(x, dtype=float)
    if not _all_finite(a):
        raise InfeasibleError("the result overflows: check the magnitudes of the inputs")
    if a.ndim == 0:
        return float(a)
    return a


def choice(name: str, x: str, options: dict[str, str]) -> str:
    """Normalise a mode name through an alias table; list the options when unknown."""
    from .errors import UnknownNameError

    if not isinstance(x, str):
        raise InvalidInputError(f"{name} must be text: one of {', '.join(sorted(set(options.values())))}",
                                arg=name, value=x)
    key = x.strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    if key not in options:
        raise UnknownNameError(
            f"{name} '{x.strip()}' is unknown: use one of {', '.join(dict.fromkeys(options.values()))}",
            arg=name, value=x)
    return options[key]
