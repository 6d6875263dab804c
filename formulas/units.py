"""Unit constants and the precision table, in one place.

Decimal and binary prefixes are kept apart: the project's GB is 10**9 bytes
(the unit GPU vendors quote memory and bandwidth in), GiB is 2**30 bytes.
"""

from __future__ import annotations

import re

import numpy as np

from .errors import InvalidInputError, UnknownNameError

#: A number as a cell holds it as text: optional sign, digits with an optional decimal
#: point, optional exponent. Nothing else (no "_", no "inf"/"nan", no stray signs) is read
#: as a number, so "-2" stays negative and "1e-1" stays 0.1.
NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")

__all__ = [
    "GB",
    "GIB",
    "TERA",
    "SECONDS_PER_HOUR",
    "SECONDS_PER_DAY",
    "HOURS_PER_DAY",
    "BITS_PER_BYTE",
    "PRECISION_BYTES",
    "bytes_per_param",
]

GB = 1e9  #: bytes in one GB (decimal, as vendors quote memory and bandwidth)
GIB = 2.0**30  #: bytes in one GiB (binary)
TERA = 1e12  #: FLOP/s in one TFLOPS
SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86400.0
HOURS_PER_DAY = 24.0
BITS_PER_BYTE = 8.0

#: Bytes per stored value for each precision name (seed 004 §1: FP32 4 bytes,
#: FP16/BF16 2 bytes, INT8 1 byte, INT4 half a byte). Keys are lower case;
#: :func:`bytes_per_param` normalises case, spaces, hyphens and underscores.
PRECISION_BYTES: dict[str, float] = {
    "fp32": 4.0,
    "float32": 4.0,
    "tf32": 4.0,
    "fp16": 2.0,
    "float16": 2.0,
    "half": 2.0,
    "bf16": 2.0,
    "bfloat16": 2.0,
    "fp8": 1.0,
    "float8": 1.0,
    "int8": 1.0,
    "fp8e4m3": 1.0,
    "mxfp8": 1.0 + 1 / 32,  # OCP MX: an 8-bit shared scale per 32 values
    # 4-bit floats with their block scales (OCP Microscaling Formats v1.0, 2023: MXFP4 has
    # one 8-bit E8M0 scale per 32 values -> 4.25 bits; NVIDIA NVFP4 one FP8 E4M3 scale per
    # 16 values -> 4.5 bits, NVIDIA Blackwell / TensorRT Model Optimizer docs). "fp4" is the
    # NVFP4 layout, the one Blackwell's FP4 tensor cores run.
    "fp4": 4.5 / 8,
    "nvfp4": 4.5 / 8,
    "mxfp4": 4.25 / 8,
    "int4": 0.5,
    "nf4": 0.5,
}

_CANONICAL = ("fp32", "fp16", "bf16", "fp8", "int8", "int4", "fp4", "nvfp4", "mxfp4")


def bytes_per_param(precision: str | float) -> float:
    """Bytes per parameter for a precision name or an explicit byte count.

    Parameters
    ----------
    precision : str or float
        ``fp32``, ``fp16``, ``bf16``, ``fp8``, ``int8``, ``int4`` (any case; the
        aliases ``float32``, ``bfloat16``, ``nf4`` ... also work), or a positive
        number of bytes such as 2 or 0.5.

    Returns
    -------
    float
        Bytes per stored value.

    Raises
    ------
    UnknownNameError
        For an unknown precision name; the message lists the accepted ones.
    InvalidInputError
        For a byte count that is not positive.
    ImplausibleUnitError
        For a byte count below 0.125 (1 bit) or above 8: bits typed for bytes (16 for
        bf16), limits of ``bytes_per_value`` in ``formulas/data/bounds.csv``.

    Notes
    -----
    Sizes are the storage sizes of seed 004 §1. The 4-bit floating formats include
    their block scales: MXFP4 stores 4.25 bits per value (an 8-bit scale per 32), NVFP4
    (also ``fp4``) 4.5 bits (an FP8 scale per 16). ``int4`` and ``nf4`` are 0.5 bytes:
    their group scales (QLoRA: 0.127 bits per parameter with double quantisation) are not
    included.

    Examples
    --------
    >>> bytes_per_param("BF16")
    2.0
    >>> bytes_per_param("int4")
    0.5
    >>> bytes_per_param(1)
    1.0
    >>> bytes_per_param("mxfp4"), bytes_per_param("nvfp4")
    (0.53125, 0.5625)
    """
    if isinstance(precision, str):
        text = precision.strip()
        if NUMBER_TEXT.fullmatch(text):  # a byte count typed as text: read it exactly
            return bytes_per_param(float(text))
        key = text.lower().replace("-", "").replace("_", "").replace(" ", "")
        try:
            return PRECISION_BYTES[key]
        except KeyError:
            raise UnknownNameError(
                f"precision '{text}' is unknown: use one of "
                f"{', '.join(_CANONICAL)} or a byte count such as 2",
                arg="precision", value=precision) from None
    value = float(precision)
    if not np.isfinite(value) or value <= 0:
        raise InvalidInputError(
            f"precision must be a positive byte count, got {value:g}: "
            "use 2 for bf16 or a name such as 'bf16'",
            arg="precision", value=precision, code="#NUM!")
    from .bounds import check

    return float(check("bytes_per_value", "precision", np.asarray(value)))
