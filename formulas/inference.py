"""Inference speed bounds.

References
----------
.. [S000] Seed article 000 (digest §5): decoding is bound by reading the weights from
   memory for every generated token.
.. [P22] Pope et al. 2022, "Efficiently Scaling Transformer Inference", arXiv 2211.05102,
   §2: at small batch, each decode step loads all weights once; the batch shares that read.
"""

from __future__ import annotations

from . import _validate as v
from .units import GB

__all__ = ["decode_tokens_per_s"]


def decode_tokens_per_s(P, bytes_per_param, mem_bw_GBps, batch=1):
    """Memory-bound decode speed in tokens per second: ``batch * BW / (P * bytes)``.

    Parameters
    ----------
    P : float or array_like
        Parameters (raw count).
    bytes_per_param : float or array_like
        Bytes per weight (2 for bf16, 0.5 for int4).
    mem_bw_GBps : float or array_like
        Memory bandwidth in GB/s (H100 SXM: 3350).
    batch : int, optional
        Sequences decoded together; they share one read of the weights.

    Returns
    -------
    float or ndarray
        Generated tokens per second (all sequences together), an upper bound: KV-cache
        reads and compute limits are ignored.

    Notes
    -----
    ``tokens/s = batch * BW * 1e9 / (P * bytes)`` [S000]_ [P22]_.

    Examples
    --------
    Llama-2-7B in bf16 on an H100 SXM (3350 GB/s): at most about 248 tokens/s at batch 1.

    >>> round(decode_tokens_per_s(6.74e9, 2, 3350))
    249
    """
    P = v.params("P", P)
    b = v.positive("bytes_per_param", bytes_per_param)
    bw = v.positive("mem_bw_GBps", mem_bw_GBps)
    n = v.positive("batch", batch)
    return v.out(n * bw * GB / (P * b))
