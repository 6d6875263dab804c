"""How long a context fits: weights, KV cache and the runtime reserve on ``tp`` GPUs.

References
----------
.. [K23] Kwon et al. 2023, "Efficient Memory Management for Large Language Model Serving
   with PagedAttention" (vLLM), arXiv 2309.06180, §2-3: the KV cache gets the memory left
   after the weights; vLLM's ``gpu_memory_utilization`` (default 0.9) keeps the rest for
   the CUDA context and fragmentation (row ``serve_memory_utilization`` of
   ``program_assumptions.csv``).
.. [DS3] DeepSeek-AI 2024, arXiv 2412.19437, §2.1.1: MLA caches ``d_c + d_h^R`` values.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .arch import resolve_model
from .assumptions import assumption
from .catalog import GpuSpec, gpu
from .errors import InfeasibleError, InvalidInputError
from .units import GB, bytes_per_param

__all__ = ["max_context_tokens"]


def _precision_bytes(name: str, x) -> float:
    try:
        b = bytes_per_param(x)
    except InvalidInputError as exc:
        exc.arg = name
        raise
    if b > 4:
        raise InvalidInputError(f"{name} is bytes per value (2 for bf16) or a precision name, "
                                f"got {b:g}", arg=name, value=x, code="#NUM!")
    return b


def max_context_tokens(model, gpu_id, tp, batch=1, precision="bf16", kv_precision=None):
    """The longest context (tokens per sequence) whose weights and KV cache fit.

    Parameters
    ----------
    model : str or model
        Model catalog id (or :class:`formulas.arch.Arch`).
    gpu_id : str or GpuSpec
        GPU catalog id (its memory is used).
    tp : int
        GPUs holding one copy of the model (tensor parallel).
    batch : int, optional
        Sequences held at once, each of that context (1 by default).
    precision : str or float, optional
        Weight precision name (``bf16`` default, ``fp8``, ``mxfp4`` ...) or bytes per weight.
    kv_precision : str or float, optional
        KV-cache precision; ``None`` (default) means 2 bytes per value (bf16).

    Returns
    -------
    float
        Whole tokens, at most the model's ``max_seq_len`` (the context it was trained for).

    Notes
    -----
    Memory available: ``tp · memory_gb · u`` with ``u = 0.9`` [K23]_. The weights take
    ``total parameters · bytes``; each sequence gets ``(available − weights) / batch``
    bytes of KV cache, which :meth:`formulas.arch.Arch.kv_bytes` fills: every layer caches
    every token up to a sliding window, after which only the global layers grow; MLA
    layers cache their latent [DS3]_. Activation workspace is not reserved separately.

    Examples
    --------
    Llama-3.1-8B in bf16 on one H100 (80 GB): 72 GB less 16.06 GB of weights leaves
    55.94 GB, at 131,072 bytes per token about 426,800 tokens, capped at the model's
    131,072; four sequences get 106,696 tokens each:

    >>> max_context_tokens("llama-3.1-8b", "h100-sxm", 1)
    131072.0
    >>> max_context_tokens("llama-3.1-8b", "h100-sxm", 1, 4)
    106696.0
    """
    m = resolve_model(model, "model")
    spec = gpu_id if isinstance(gpu_id, GpuSpec) else gpu(gpu_id)
    tp = v.whole("tp", tp)
    n = v.whole("batch", batch)
    w_bytes = _precision_bytes("precision", precision)
    kv_b = 2.0 if kv_precision is None else _precision_bytes("kv_precision", kv_precision)
    available = tp * spec.memory_gb * GB * assumption("serve_memory_utilization")
    weights = m.total_params * w_bytes
    room = (available - weights) / n
    if np.any(room <= 0):
        raise InfeasibleError(
            f"the weights of {m.id} ({weights / GB:.4g} GB) leave no room for a KV cache on "
            f"tp x {spec.memory_gb:g} GB x 0.9 of {spec.id}: raise tp or use a smaller "
            "precision", arg="tp")
    per_value = m.kv_values_per_token_layer() * kv_b  # bytes per token and layer
    G, local, w = m.global_layers, m.layers - m.global_layers, m.sliding_window
    if local and w:
        below = room / (m.layers * per_value)  # every layer still caching every token
        above = (room / per_value - local * w) / G if G else np.inf
        tokens = np.where(below <= w, below, above)
    else:
        tokens = room / (m.layers * per_value)
    if m.max_seq_len:
        tokens = np.minimum(tokens, m.max_seq_len)
    return v.out(np.floor(tokens))
