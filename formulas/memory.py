"""Memory: training state, ZeRO sharding, activations, KV cache, inference, GPUs by memory.

All results are in GB = 1e9 bytes.

References
----------
.. [S003] Seed article 003 (digest §4): mixed-precision AdamW needs 20 bytes per parameter
   ((2+4) weights + (2+4) gradients + (4+4) Adam moments); inference ~ 1.2 x P x bytes.
.. [S001] Seed article 001 (digest §4): naive FP32 training 4+4+8 = 16 bytes per parameter.
.. [S004] Seed article 004 (digest §4): model state ``(x + y + 12) P``; GPUs by memory
   ``P * 18 * 1.25 / GPU_GB`` (after W. Soula); weights at 4/2/1/0.5 bytes.
.. [R19] Rajbhandari et al. 2019, "ZeRO: Memory Optimizations Toward Training Trillion
   Parameter Models", arXiv 1910.02054, §5 and Figure 1: per-GPU model states
   ``(2 + 2 + K) Psi`` with K = 12, sharded by stage over N_d data-parallel GPUs.
.. [K22] Korthikanti et al. 2022, arXiv 2205.05198, §4 and Table 2: activation memory per
   layer ``s b h (34 + 5 a s / h)`` bytes and its tensor/sequence-parallel and
   recomputation variants.
.. [P22] Pope et al. 2022, "Efficiently Scaling Transformer Inference", arXiv 2211.05102,
   §2: KV cache ``2 * L * kv_heads * head_dim * seq * batch * bytes``.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .arch import is_model, resolve_model
from .errors import InvalidInputError
from .training import round_up_count
from .units import GB

__all__ = [
    "train_mem_gb",
    "model_state_gb",
    "zero_mem_gb",
    "gpu_count_mem",
    "infer_mem_gb",
    "weights_gb",
    "act_mem_gb",
    "kv_cache_gb",
    "RECOMPUTE_MODES",
]

#: Accepted names of the activation-recomputation modes [K22]_.
RECOMPUTE_MODES = {
    "none": "none", "no": "none", "off": "none", "false": "none",
    "selective": "selective", "sel": "selective",
    "full": "full", "all": "full", "true": "full",
}


def _bytes(name, x):
    a = v.positive(name, x)
    if np.any(a > 1000):
        raise InvalidInputError(f"{name} is bytes per parameter (2 for bf16, 20 for mixed-precision "
                                f"Adam), got {float(np.max(a)):g}", arg=name, value=x, code="#NUM!")
    return a


def train_mem_gb(P, bytes_per_param=20):
    """Training-state memory in GB: ``bytes_per_param * P``.

    Parameters
    ----------
    P : float or array_like
        Parameters (raw count).
    bytes_per_param : float, optional
        20 for mixed-precision AdamW (default) [S003]_; 16 for naive FP32 [S001]_.

    Returns
    -------
    float or ndarray
        GB (1e9 bytes), activations excluded.

    Examples
    --------
    >>> train_mem_gb(175e9)
    3500.0
    """
    P = v.params("P", P, use="total")
    return v.out(_bytes("bytes_per_param", bytes_per_param) * P / GB)


def model_state_gb(P, weight_bytes, grad_bytes, optimizer_bytes=12):
    """Model-state memory in GB: ``(x + y + 12) * P``.

    Parameters
    ----------
    P : float or array_like
        Parameters (raw count).
    weight_bytes : float or array_like
        Bytes per weight copy x (2 for bf16).
    grad_bytes : float or array_like
        Bytes per gradient y (2 for bf16).
    optimizer_bytes : float, optional
        Optimizer bytes per parameter: 12 for Adam (fp32 master copy + two moments).

    Returns
    -------
    float or ndarray
        GB.

    Notes
    -----
    ``(x + y + K) P / 1e9`` [S004]_.

    Examples
    --------
    >>> model_state_gb(7e9, 2, 2)
    112.0
    """
    P = v.params("P", P, use="total")
    x = _bytes("weight_bytes", weight_bytes)
    y = _bytes("grad_bytes", grad_bytes)
    k = v.non_negative("optimizer_bytes", optimizer_bytes)
    return v.out((x + y + k) * P / GB)


def zero_mem_gb(P, stage, dp, optimizer_bytes=12):
    """Per-GPU model-state memory in GB under ZeRO stage 0-3.

    Parameters
    ----------
    P : float or array_like
        Parameters (raw count).
    stage : int or array_like
        ZeRO stage: 0 (plain data parallel), 1 (optimizer states sharded), 2 (+ gradients),
        3 (+ parameters).
    dp : int or array_like
        Data-parallel degree N_d.
    optimizer_bytes : float, optional
        K, optimizer bytes per parameter (12 for mixed-precision Adam).

    Returns
    -------
    float or ndarray
        GB per GPU, activations and buffers excluded.

    Notes
    -----
    With 2-byte weights and gradients [R19]_:
    stage 0 ``(2 + 2 + K) P``; stage 1 ``(2 + 2) P + K P / dp``;
    stage 2 ``2 P + (2 + K) P / dp``; stage 3 ``(2 + 2 + K) P / dp``.

    Examples
    --------
    7.5B parameters, stage 1, 64 GPUs: 31.4 GB ([R19]_ Figure 1).

    >>> round(zero_mem_gb(7.5e9, 1, 64), 2)
    31.41
    """
    P = v.params("P", P, use="total")
    s = v.whole("stage", stage, low=0)
    if np.any(s > 3):
        raise InvalidInputError("stage must be 0, 1, 2 or 3", arg="stage", value=stage,
                                code="#NUM!")
    dp = v.whole("dp", dp)
    k = v.non_negative("optimizer_bytes", optimizer_bytes)
    w = np.where(s >= 3, 2 / dp, 2.0)
    g = np.where(s >= 2, 2 / dp, 2.0)
    o = np.where(s >= 1, k / dp, k)
    return v.out((w + g + o) * P / GB)


def gpu_count_mem(P, bytes_per_param=18, activation_factor=1.25, gpu_memory_GB=80,
                  round_up=True):
    """GPUs needed to hold training state and activations: ``P * bytes * factor / GPU_GB``.

    Parameters
    ----------
    P : float or array_like
        Parameters (raw count).
    bytes_per_param : float, optional
        Training-state bytes per parameter; 18 by default [S004]_.
    activation_factor : float, optional
        Multiplier for activations and overheads; 1.25 by default [S004]_.
    gpu_memory_GB : float, optional
        Memory per GPU in GB (80 for A100/H100 80 GB).
    round_up : bool, optional
        True (default): whole GPUs, rounded up.

    Returns
    -------
    float or ndarray
        GPUs.

    Examples
    --------
    Llama 7B on RTX 4090s (24 GB): 6.56, so 7 GPUs [S004]_.

    >>> gpu_count_mem(7e9, 18, 1.25, 24, False), gpu_count_mem(7e9, 18, 1.25, 24)
    (6.5625, 7.0)
    """
    P = v.params("P", P, use="total")
    b = _bytes("bytes_per_param", bytes_per_param)
    f = v.multiplier("activation_factor", activation_factor)
    m = v.gigabytes("gpu_memory_GB", gpu_memory_GB)
    n = P * b * f / GB / m
    return v.out(round_up_count(n) if round_up else n)


def infer_mem_gb(P, bytes_per_param=2, overhead=1.2):
    """Inference memory in GB: ``overhead * P * bytes_per_param``.

    Parameters
    ----------
    P : float or array_like
        Parameters (raw count).
    bytes_per_param : float, optional
        2 for bf16 (default), 4 for fp32, 1 for int8, 0.5 for int4.
    overhead : float, optional
        1.2 by default: 20% for forward activations and buffers [S003]_.

    Returns
    -------
    float or ndarray
        GB; the KV cache of long contexts comes on top (see :func:`kv_cache_gb`).

    Examples
    --------
    >>> infer_mem_gb(175e9, 4)
    840.0
    """
    P = v.params("P", P, use="total")
    b = v.bytes_per_value("bytes_per_param", bytes_per_param)
    o = v.multiplier("overhead", overhead)
    return v.out(o * P * b / GB)


def weights_gb(P, bytes_per_param):
    """Weights alone in GB: ``P * bytes_per_param``.

    Parameters
    ----------
    P : float or array_like
        Parameters (raw count).
    bytes_per_param : float or array_like
        Bytes per weight (see :func:`formulas.units.bytes_per_param` for names).

    Returns
    -------
    float or ndarray
        GB.

    Examples
    --------
    A 7B model is 28 GB in fp32, 14 in bf16, 7 in int8, 3.5 in int4 [S004]_:

    >>> weights_gb(7e9, 4), weights_gb(7e9, 0.5)
    (28.0, 3.5)
    """
    P = v.params("P", P, use="total")
    return v.out(P * v.bytes_per_value("bytes_per_param", bytes_per_param) / GB)


def act_mem_gb(L, b, s, h, a, bytes=2, tp=1, sequence_parallel=False, recompute="none"):
    """Activation memory of a transformer in GB (Korthikanti et al. 2022, Table 2).

    Parameters
    ----------
    L : int or array_like
        Layers held (all layers, or one pipeline stage's).
    b : int or array_like
        Micro-batch size.
    s : int or array_like
        Sequence length.
    h : int or array_like
        Hidden size.
    a : int or array_like
        Attention heads.
    bytes : float, optional
        Bytes per activation value p (2 for 16-bit). Dropout masks take 1 byte.
    tp : int, optional
        Tensor-parallel degree t.
    sequence_parallel : bool, optional
        True when sequence parallelism splits the norm/dropout activations over t.
    recompute : {'none', 'selective', 'full'}, optional
        Activation recomputation.

    Returns
    -------
    float or ndarray
        GB per GPU, a lower bound (embeddings, logits and buffers excluded).

    Notes
    -----
    Per layer, with ``p`` bytes per value, in bytes [K22]_ §4 (``p = 2`` gives Table 2):

    * ``none``, no SP: ``sbh (4p + 2) + sbh 12p / t + a s^2 b (2p + 1) / t``
      (t = 1: ``s b h p [16 + 2/p + (a s / h)(2 + 1/p)]``, i.e. ``sbh(34 + 5as/h)``);
    * ``none``, SP: ``[sbh (16p + 2) + a s^2 b (2p + 1)] / t``;
    * ``selective``: the same without the ``a s^2 b`` attention term;
    * ``full``: only each layer's input, ``p s b h`` (``/ t`` with SP).

    Examples
    --------
    One GPT-3 layer, b=1, s=2048, no parallelism: 2.87 GB; with t=8 and SP: 0.359 GB.

    >>> round(act_mem_gb(1, 1, 2048, 12288, 96), 6)
    2.868904
    >>> round(act_mem_gb(1, 1, 2048, 12288, 96, 2, 8, True), 6)
    0.358613
    """
    L = v.whole("L", L)
    b = v.positive("b", b)
    s = v.positive("s", s)
    h = v.whole("h", h)
    a = v.whole("a", a)
    p = _bytes("bytes", bytes)
    t = v.whole("tp", tp)
    mode = v.choice("recompute", recompute, RECOMPUTE_MODES)
    sbh = s * b * h
    attn_scores = a * s * s * b * (2 * p + 1)
    if mode == "full":
        per_layer = p * sbh / (t if sequence_parallel else 1)
    else:
        if sequence_parallel:
            linear = sbh * (16 * p + 2) / t
        else:
            linear = sbh * (4 * p + 2) + sbh * 12 * p / t
        per_layer = linear + (attn_scores / t if mode == "none" else 0)
    return v.out(L * per_layer / GB)


def kv_cache_gb(L, kv_heads, head_dim, seq_len, batch, bytes=2):
    """KV-cache memory in GB: ``2 * L * kv_heads * head_dim * seq_len * batch * bytes``.

    Parameters
    ----------
    L : int, array_like or model
        Layers; or a model id, whose attention design sets the cache (``kv_heads`` and
        ``head_dim`` are then ignored): grouped-query heads, MLA's compressed latent,
        sliding-window layers holding at most their window (:meth:`formulas.arch.Arch.kv_bytes`).
    kv_heads : int or array_like
        Key/value heads (grouped-query attention: fewer than query heads).
    head_dim : int or array_like
        Dimension per head (hidden / heads).
    seq_len : int or array_like
        Tokens held per sequence (prompt + generated).
    batch : int or array_like
        Concurrent sequences.
    bytes : float, optional
        Bytes per cached value (2 for fp16/bf16, 1 for an fp8 cache).

    Returns
    -------
    float or ndarray
        GB.

    Notes
    -----
    Keys and values (the factor 2) for every layer and KV head [P22]_.

    Examples
    --------
    Llama-3-8B (32 layers, 8 KV heads of 128) at 8,192 tokens, one sequence: 1.07 GB.

    >>> round(kv_cache_gb(32, 8, 128, 8192, 1), 3)
    1.074

    DeepSeek-V3 caches 576 latent values per layer and token (61 layers):

    >>> round(kv_cache_gb("deepseek-v3", None, None, 8192, 1), 3)
    0.576
    """
    if is_model(L):
        m = resolve_model(L, "L")
        s = v.positive("seq_len", seq_len)
        bt = v.positive("batch", batch)
        return v.out(m.kv_bytes(s, _bytes("bytes", bytes)) * bt / GB)
    L = v.whole("L", L)
    kv = v.whole("kv_heads", kv_heads)
    hd = v.whole("head_dim", head_dim)
    s = v.positive("seq_len", seq_len)
    bt = v.positive("batch", batch)
    p = _bytes("bytes", bytes)
    return v.out(2 * L * kv * hd * s * bt * p / GB)
