"""Parameter counts of decoder-only transformers.

References
----------
.. [S003] Seed article 003 §1 (digest: ``spec/seed-formulas.md`` §1): exact GPT count
   ``L(12h^2 + 13h) + Vh`` and the approximation ``12 L h^2``.
.. [N21] Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on GPU
   Clusters Using Megatron-LM", arXiv 2104.04473, Table 1 (GPT models with learned
   position embeddings of length 2048).
.. [T23] Touvron et al. 2023, "Llama 2", arXiv 2307.09288, and the released config.json
   files: RMSNorm, SwiGLU (three FFN matrices), no linear biases, grouped-query attention.
.. [J24] Jiang et al. 2024, "Mixtral of Experts", arXiv 2401.04088: 8 experts, top-2, a
   linear router without bias.
.. [H21] Hu et al. 2021, "LoRA", arXiv 2106.09685, §4: ``|Theta| = 2 * L_hat * d_model * r``.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v

__all__ = [
    "llm_params",
    "llm_params_approx",
    "llm_params_arch",
    "llm_active_params",
    "lora_params",
]


def llm_params(L, h, V, S=0):
    """Exact parameter count of a GPT-style decoder.

    Parameters
    ----------
    L : int or array_like
        Transformer layers.
    h : int or array_like
        Hidden size.
    V : int or array_like
        Vocabulary size.
    S : int or array_like, optional
        Learned position embeddings (GPT-2/3 and Megatron: the sequence length, 2048);
        0 for rotary or other parameter-free positions. Default 0.

    Returns
    -------
    float or ndarray
        Parameters (raw count).

    Notes
    -----
    ``P = L * (12 h^2 + 13 h) + V h + S h`` [S003]_. Per layer: QKV and output
    projections ``4h^2 + 4h`` (weights and biases), a 4h MLP ``8h^2 + 5h``, two layer
    norms ``4h``. The position-embedding term follows [N21]_.

    Examples
    --------
    GPT-3 175B (L=96, h=12288, V=51200) [S003]_:

    >>> llm_params(96, 12288, 51200)
    174590656512.0
    """
    L = v.whole("L", L)
    h = v.whole("h", h)
    V = v.whole("V", V)
    S = v.whole("S", S, low=0)
    return v.out(L * (12 * h**2 + 13 * h) + V * h + S * h)


def llm_params_approx(L, h):
    """Approximate parameter count ``12 L h^2`` (large h).

    Parameters
    ----------
    L : int or array_like
        Transformer layers.
    h : int or array_like
        Hidden size.

    Returns
    -------
    float or ndarray
        Parameters (raw count).

    Notes
    -----
    ``P ~ 12 L h^2`` [S003]_: the exact count less biases, norms and embeddings.

    Examples
    --------
    >>> llm_params_approx(96, 12288)
    173946175488.0
    """
    L = v.whole("L", L)
    h = v.whole("h", h)
    return v.out(12 * L * h**2)


def _arch_counts(L, h, V, ffn, heads, kv_heads, experts, experts_per_token,
                 gated_ffn, tied_embeddings, qkv_bias):
    L = v.whole("L", L)
    h = v.whole("h", h)
    V = v.whole("V", V)
    ffn = v.whole("ffn", ffn)
    heads = v.whole("heads", heads)
    kv_heads = v.whole("kv_heads", kv_heads)
    experts = v.whole("experts", experts)
    k = v.whole("experts_per_token", experts_per_token)
    if np.any(kv_heads > heads):
        raise v.InvalidInputError("kv_heads cannot exceed heads", arg="kv_heads", value=kv_heads)
    if np.any(k > experts):
        raise v.InvalidInputError("experts_per_token cannot exceed experts",
                                  arg="experts_per_token", value=k)
    head_dim = h / heads
    kv_dim = kv_heads * head_dim
    attn = 2 * h * h + 2 * h * kv_dim  # W_q, W_o (h x h); W_k, W_v (h x kv_dim)
    if qkv_bias:
        attn = attn + h + 2 * kv_dim
    expert = (3 if gated_ffn else 2) * h * ffn  # gate/up/down (SwiGLU) or up/down
    router = np.where(experts > 1, h * experts, 0)
    norms = 2 * h  # RMSNorm weights before attention and before the MLP
    embed = V * h * (1 if tied_embeddings else 2)
    final_norm = h
    total = L * (attn + experts * expert + router + norms) + embed + final_norm
    active = L * (attn + k * expert + router + norms) + embed + final_norm
    return total, active


def llm_params_arch(L, h, V, ffn, heads, kv_heads, experts=1, experts_per_token=1,
                    gated_ffn=True, tied_embeddings=False, qkv_bias=False):
    """Exact total parameters of a Llama-style decoder (GQA, SwiGLU, optional MoE).

    Parameters
    ----------
    L, h, V : int
        Layers, hidden size, vocabulary size.
    ffn : int
        FFN intermediate size (per expert for a mixture of experts).
    heads, kv_heads : int
        Query heads and key/value heads (``kv_heads < heads`` is grouped-query attention).
        Head dimension is ``h / heads``.
    experts, experts_per_token : int, optional
        Experts per MoE layer and experts routed per token (1, 1 for a dense model).
    gated_ffn : bool, optional
        True for SwiGLU/GeGLU (three FFN matrices), False for a two-matrix MLP.
    tied_embeddings : bool, optional
        True when the output head shares the input embedding matrix.
    qkv_bias : bool, optional
        True for biases on the Q, K, V projections (Qwen2).

    Returns
    -------
    float or ndarray
        Parameters (raw count).

    Notes
    -----
    Per layer: attention ``2h^2 + 2 h kv`` with ``kv = kv_heads * h / heads``
    (+ ``h + 2 kv`` biases when ``qkv_bias``); FFN ``experts * (3 or 2) * h * ffn``; router
    ``h * experts`` when ``experts > 1``; two RMSNorm weight vectors ``2h``. Plus
    embeddings ``V h`` (twice when untied) and the final norm ``h`` [T23]_ [J24]_.
    No linear biases otherwise. Exact for Llama 2/3, Mistral, Mixtral and Qwen2.5.

    Examples
    --------
    Llama-2-7B (config.json dims) has 6,738,415,616 parameters:

    >>> llm_params_arch(32, 4096, 32000, 11008, 32, 32)
    6738415616.0
    """
    total, _ = _arch_counts(L, h, V, ffn, heads, kv_heads, experts, experts_per_token,
                            gated_ffn, tied_embeddings, qkv_bias)
    return v.out(total)


def llm_active_params(L, h, V, ffn, heads, kv_heads, experts=1, experts_per_token=1,
                      gated_ffn=True, tied_embeddings=False, qkv_bias=False):
    """Parameters used per token by a Llama-style decoder (MoE: routed experts only).

    Parameters are those of :func:`llm_params_arch`.

    Returns
    -------
    float or ndarray
        Active parameters per token (raw count), router and both embedding matrices
        included.

    Notes
    -----
    As :func:`llm_params_arch` with ``experts`` replaced by ``experts_per_token`` in the
    FFN term (the router still counts in full). For a dense model it equals the total.

    Examples
    --------
    Mixtral-8x7B, 8 experts, top-2 [J24]_ (published: 12.9B active of 46.7B):

    >>> round(llm_active_params(32, 4096, 32000, 14336, 32, 8, 8, 2) / 1e9, 2)
    12.88
    """
    _, active = _arch_counts(L, h, V, ffn, heads, kv_heads, experts, experts_per_token,
                             gated_ffn, tied_embeddings, qkv_bias)
    return v.out(active)


def lora_params(d_model, rank, n_matrices):
    """Trainable LoRA parameters for square adapted matrices.

    Parameters
    ----------
    d_model : int or array_like
        Model (hidden) dimension of each adapted ``d x d`` matrix.
    rank : int or array_like
        LoRA rank r.
    n_matrices : int or array_like
        Number of adapted weight matrices in the whole model (layers x matrices per layer).

    Returns
    -------
    float or ndarray
        Trainable parameters (raw count).

    Notes
    -----
    ``2 * n * d * r``: each adapted matrix gets ``B (d x r)`` and ``A (r x d)`` [H21]_.

    Examples
    --------
    GPT-3 with r=4 on W_q and W_v in all 96 layers (LoRA paper: 18.9M, ~35 MB in fp16):

    >>> lora_params(12288, 4, 2 * 96)
    18874368.0
    """
    d = v.whole("d_model", d_model)
    r = v.whole("rank", rank)
    n = v.whole("n_matrices", n_matrices)
    return v.out(2 * n * d * r)
