"""Communication volume and time, and the pipeline bubble.

References
----------
.. [P09] Patarasuk & Yuan 2009, "Bandwidth optimal all-reduce algorithms for clusters of
   workstations", J. Parallel Distrib. Comput. 69(2): ring all-reduce sends
   ``2 (N - 1) / N`` times the buffer per process.
.. [S000] Seed article 000 (digest §5): tensor-parallel attention volume
   ``2 B T (E / G) (G - 1) bytes`` (send + receive).
.. [S003] Seed article 003 (digest §5): 500 GB over a 200 Gbps NIC is 20 s, over NVLink4
   at 450 GB/s about 1.1 s.
.. [N21] Narayanan et al. 2021, arXiv 2104.04473, §2.2: pipeline bubble fraction
   ``(p - 1) / m``, and ``(p - 1) / (m v)`` with v interleaved stages per GPU.
"""

from __future__ import annotations

import re

from . import _validate as v
from .errors import InvalidInputError, UnknownNameError
from .units import BITS_PER_BYTE, GB

__all__ = ["dp_comm_gb", "tp_comm_gb", "comm_seconds", "pp_bubble", "bandwidth_factor"]

_PREFIX_TO_GB = {"m": 1e-3, "g": 1.0, "t": 1e3}
_UNIT_RE = re.compile(r"([MmGgTt])(B|b|bit|Bit|byte|Byte)s?(?:/s|ps)")


def dp_comm_gb(P, N, bytes=2):
    """Data sent by each GPU per step in a ring all-reduce of the gradients, in GB.

    Parameters
    ----------
    P : float or array_like
        Parameters (raw count): the gradient buffer holds one value per parameter.
    N : int or array_like
        Data-parallel GPUs in the ring.
    bytes : float, optional
        Bytes per gradient value (2 for bf16).

    Returns
    -------
    float or ndarray
        GB sent (and as many received) per GPU per step.

    Notes
    -----
    ``2 (N - 1) / N * P * bytes`` [P09]_; tends to twice the gradient size for large N.

    Examples
    --------
    >>> dp_comm_gb(7e9, 64)
    27.5625
    """
    P = v.params("P", P, use="total")
    N = v.whole("N", N)
    b = v.positive("bytes", bytes)
    return v.out(2 * (N - 1) / N * P * b / GB)


def tp_comm_gb(B, T, E, G, bytes=2):
    """Tensor-parallel attention traffic per GPU in GB (send + receive), after seed 000.

    Parameters
    ----------
    B : int or array_like
        Batch size (sequences).
    T : int or array_like
        Tokens per sequence.
    E : int or array_like
        Embedding (hidden) size.
    G : int or array_like
        GPUs sharing the heads (tensor-parallel degree).
    bytes : float, optional
        Bytes per value (2 for 16-bit).

    Returns
    -------
    float or ndarray
        GB per GPU; one direction is half of it.

    Notes
    -----
    Each GPU holds ``H / G`` heads and outputs ``B T E / G`` values, which it sends to and
    receives from the ``G - 1`` others: ``2 B T (E / G)(G - 1) bytes`` [S000]_.

    Examples
    --------
    >>> tp_comm_gb(8, 2048, 12288, 8)
    0.704643072
    """
    B = v.positive("B", B)
    T = v.positive("T", T)
    E = v.positive("E", E)
    G = v.whole("G", G)
    b = v.positive("bytes", bytes)
    return v.out(2 * B * T * (E / G) * (G - 1) * b / GB)


def bandwidth_factor(unit):
    """Factor that turns a bandwidth in ``unit`` into GB/s.

    A capital ``B`` means bytes, a small ``b`` or ``bit`` means bits, as on datasheets:
    "GB/s" and "GBps" are gigabytes, "Gbps" and "Gbit/s" gigabits; M and T prefixes work.

    >>> bandwidth_factor("GB/s"), bandwidth_factor("Gbps"), bandwidth_factor("TB/s")
    (1.0, 0.125, 1000.0)
    """
    if not isinstance(unit, str):
        raise InvalidInputError("unit must be text: 'GB/s' or 'Gbps'", arg="unit", value=unit)
    text = unit.strip().replace(" ", "")
    if text in ("gb/s", "mb/s", "tb/s"):  # all lower case: bits or bytes cannot be told
        raise UnknownNameError(f"unit '{unit.strip()}' is ambiguous: write 'GB/s' for gigabytes "
                               "or 'Gbps' for gigabits per second", arg="unit", value=unit)
    m = _UNIT_RE.fullmatch(text)
    if m is None:
        raise UnknownNameError(f"unit '{unit.strip()}' is unknown: use 'GB/s' (gigabytes) "
                               "or 'Gbps' (gigabits)", arg="unit", value=unit)
    bits = m.group(2) in ("b", "bit", "Bit")
    return _PREFIX_TO_GB[m.group(1).lower()] / (BITS_PER_BYTE if bits else 1.0)


def comm_seconds(GB_, bandwidth, unit="GB/s"):
    """Seconds to move a volume over a link: ``GB / bandwidth``.

    Parameters
    ----------
    GB_ : float or array_like
        Volume in GB (1e9 bytes).
    bandwidth : float or array_like
        Link bandwidth in ``unit``.
    unit : str, optional
        "GB/s" (gigabytes per second, default) or "Gbps" (gigabits per second, as NICs
        are sold); "TB/s" and "Tbps" also work.

    Returns
    -------
    float or ndarray
        Seconds, at full bandwidth with no latency or overlap.

    Examples
    --------
    500 GB over a 200 Gbps NIC, and over NVLink4 at 450 GB/s [S003]_:

    >>> comm_seconds(500, 200, "Gbps"), round(comm_seconds(500, 450), 2)
    (20.0, 1.11)
    """
    vol = v.bounded("transfer_gb", "GB", GB_, v.non_negative)
    factor = bandwidth_factor(unit)
    bw = v.bandwidth("bandwidth", bandwidth, factor, unit.strip())
    return v.out(vol / (bw * factor))


def pp_bubble(stages, microbatches, interleave=1):
    """Pipeline bubble as a fraction of ideal compute time: ``(p - 1) / (m v)``.

    Parameters
    ----------
    stages : int or array_like
        Pipeline stages p.
    microbatches : int or array_like
        Micro-batches per iteration m.
    interleave : int, optional
        Model chunks per GPU v (1 = plain 1F1B).

    Returns
    -------
    float or ndarray
        Bubble time / ideal time (not per cent).

    Examples
    --------
    8 stages, 64 micro-batches: 10.9% [N21]_.

    >>> pp_bubble(8, 64)
    0.109375
    """
    p = v.whole("stages", stages)
    m = v.whole("microbatches", microbatches)
    iv = v.whole("interleave", interleave)
    return v.out((p - 1) / (m * iv))
