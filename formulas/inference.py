"""Inference speed bounds.

References
----------
.. [S000] Seed article 000 (digest §5): decoding is bound by reading the weights from
   memory for every generated token.
.. [P22] Pope et al. 2022, "Efficiently Scaling Transformer Inference", arXiv 2211.05102,
   §2: at small batch, each decode step loads all weights once; the batch shares that read,
   and every sequence also reads its own KV cache.
"""

from __future__ import annotations

from . import _validate as v
from .arch import is_model, resolve_model
from .units import GB

__all__ = ["decode_tokens_per_s"]


def decode_tokens_per_s(P, bytes_per_param, mem_bw_GBps, batch=1, context_tokens=0,
                        kv_bytes_per_token=0):
    """Memory-bound decode speed in tokens per second: ``batch * BW / (P * bytes + KV read)``.

    Parameters
    ----------
    P : float, array_like or model
        Parameters (raw count), or a model id: a dense model reads all its weights each
        step; a mixture of experts reads its shared weights and the experts the batch is
        expected to hit (:meth:`formulas.arch.Arch.params_read`: the active parameters at
        batch 1, every expert at a large batch).
    bytes_per_param : float or array_like
        Bytes per weight (2 for bf16, 0.5 for int4).
    mem_bw_GBps : float or array_like
        Memory bandwidth in GB/s (H100 SXM: 3350).
    batch : int, optional
        Sequences decoded together; they share one read of the weights.
    context_tokens : float, optional
        Tokens already in each sequence's KV cache (prompt plus generated so far); 0 by
        default, which ignores the KV cache (the articles' weights-only bound).
    kv_bytes_per_token : float, optional
        KV-cache bytes per token (``2 L kv_heads head_dim bytes``; Llama-2-7B in bf16:
        524288); 0 by default.

    Returns
    -------
    float or ndarray
        Generated tokens per second (all sequences together), an upper bound: compute
        limits are ignored, and so are KV-cache reads unless both KV arguments are given.

    Notes
    -----
    ``tokens/s = batch * BW * 1e9 / (P * bytes + batch * context_tokens * kv_bytes_per_token)``
    [S000]_ [P22]_; with the default ``context_tokens = 0`` it is ``batch * BW * 1e9 / (P * bytes)``.

    Examples
    --------
    Llama-2-7B in bf16 on an H100 SXM (3350 GB/s): at most about 248 tokens/s at batch 1.

    >>> round(decode_tokens_per_s(6.74e9, 2, 3350))
    249

    Batch 16 at 1,024 tokens of context each (KV cache 524,288 bytes per token) reads
    8.6 GB of KV cache per step beside the 13.5 GB of weights:

    >>> round(decode_tokens_per_s(6.74e9, 2, 3350, 16, 1024, 524288))
    2429
    """
    if is_model(P):
        P = resolve_model(P, "P").params_read(v.positive("batch", batch))
    P = v.params("P", P)
    b = v.bytes_per_value("bytes_per_param", bytes_per_param)
    bw = v.bandwidth("mem_bw_GBps", mem_bw_GBps, link=False)
    n = v.positive("batch", batch)
    ctx = v.non_negative("context_tokens", context_tokens)
    kv = v.bounded("kv_bytes_per_token", "kv_bytes_per_token", kv_bytes_per_token, v.non_negative)
    return v.out(n * bw * GB / (P * b + n * ctx * kv))
