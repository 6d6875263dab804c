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
from .arch import count_params, is_model, resolve_model

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
                 gated_ffn, tied_embeddings, qkv_bias, head_dim=0, shared_experts=0,
                 dense_layers=0, dense_ffn=0):
    if is_model(L):  # a model id or spec: its catalog counts (exact where published)
        m = resolve_model(L, "L")
        return m.total_params, m.active_params
    L = v.whole("L", L)
    h = v.whole("h", h)
    V = v.whole("V", V)
    ffn = v.whole("ffn", ffn)
    heads = v.whole("heads", heads)
    kv_heads = v.whole("kv_heads", kv_heads)
    experts = v.whole("experts", experts)
    k = v.whole("experts_per_token", experts_per_token)
    head_dim = v.whole("head_dim", 0 if head_dim is None else head_dim, low=0)
    shared = v.whole("shared_experts", 0 if shared_experts is None else shared_experts, low=0)
    dense = v.whole("dense_layers", 0 if dense_layers is None else dense_layers, low=0)
    dense_ffn = v.whole("dense_ffn", 0 if dense_ffn is None else dense_ffn, low=0)
    if np.any(kv_heads > heads):
        raise v.InvalidInputError("kv_heads cannot exceed heads", arg="kv_heads", value=kv_heads)
    if np.any(k > experts):
        raise v.InvalidInputError("experts_per_token cannot exceed experts",
                                  arg="experts_per_token", value=k)
    if np.any(dense > L):
        raise v.InvalidInputError("dense_layers cannot exceed L", arg="dense_layers",
                                  value=dense_layers)
    return count_params(L, h, V, ffn, heads, kv_heads, experts, k, gated_ffn,
                        tied_embeddings, qkv_bias, head_dim=np.where(head_dim > 0, head_dim,
                                                                     h / heads),
                        shared_experts=shared, dense_layers=dense,
                        dense_ffn=np.where(dense_ffn > 0, dense_ffn, ffn))


def llm_params_arch(L, h=None, V=None, ffn=None, heads=None, kv_heads=None, experts=1,
                    experts_per_token=1, gated_ffn=True, tied_embeddings=False, qkv_bias=False,
                    head_dim=0, shared_experts=0, dense_layers=0, dense_ffn=0):
    """Exact total parameters of a Llama-style decoder (GQA, SwiGLU, optional MoE).

    Parameters
    ----------
    L : int or model
        Layers; or a model id (``"qwen3-235b-a22b"``), whose catalog total is returned
        (the other arguments are then ignored and may be left out).
    h, V : int
        Hidden size, vocabulary size.
    ffn : int
        FFN intermediate size (per expert for a mixture of experts).
    heads, kv_heads : int
        Query heads and key/value heads (``kv_heads < heads`` is grouped-query attention).
    experts, experts_per_token : int, optional
        Routed experts per MoE layer and experts routed per token (1, 1 for a dense model).
    gated_ffn : bool, optional
        True for SwiGLU/GeGLU (three FFN matrices), False for a two-matrix MLP.
    tied_embeddings : bool, optional
        True when the output head shares the input embedding matrix.
    qkv_bias : bool, optional
        True for biases on the Q, K, V projections (Qwen2).
    head_dim : int, optional
        Dimension per head; 0 (default) means ``h / heads`` (Qwen3-32B: 128 with
        ``h / heads = 80``).
    shared_experts : int, optional
        Always-active shared experts per MoE layer, each of size ``ffn`` (DeepSeek-V3: 1).
    dense_layers : int, optional
        Layers of a MoE model with a dense FFN instead of experts (DeepSeek-V3: 3).
    dense_ffn : int, optional
        FFN size of those dense layers; 0 (default) means ``ffn``.

    Returns
    -------
    float or ndarray
        Parameters (raw count).

    Notes
    -----
    The counting rule of :func:`formulas.arch.count_params` restricted to these
    arguments: per layer, attention ``2·h·heads·d + 2·h·kv_heads·d`` (``d`` the head
    dimension; ``+ heads·d + 2·kv_heads·d`` biases when ``qkv_bias``), two RMSNorm vectors
    ``2h``; a dense layer one FFN ``(3 or 2)·h·f``; a MoE layer a router ``h·E`` and
    ``E + shared`` expert FFNs. Plus embeddings ``V h`` (twice when untied) and the final
    norm ``h`` [T23]_ [J24]_. Exact for Llama 2/3, Mistral, Mixtral and Qwen2.5; MLA,
    QK-norm, sinks and biases elsewhere come through a model id.

    Examples
    --------
    Llama-2-7B (config.json dims) has 6,738,415,616 parameters:

    >>> llm_params_arch(32, 4096, 32000, 11008, 32, 32)
    6738415616.0
    """
    total, _ = _arch_counts(L, h, V, ffn, heads, kv_heads, experts, experts_per_token,
                            gated_ffn, tied_embeddings, qkv_bias, head_dim, shared_experts,
                            dense_layers, dense_ffn)
    return v.out(total)


def llm_active_params(L, h=None, V=None, ffn=None, heads=None, kv_heads=None, experts=1,
                      experts_per_token=1, gated_ffn=True, tied_embeddings=False,
                      qkv_bias=False, head_dim=0, shared_experts=0, dense_layers=0,
                      dense_ffn=0):
    """Parameters used per token by a Llama-style decoder (MoE: routed and shared experts).

    Parameters are those of :func:`llm_params_arch` (a model id as ``L`` returns the
    catalog's active count).

    Returns
    -------
    float or ndarray
        Active parameters per token (raw count), router and both embedding matrices
        included.

    Notes
    -----
    As :func:`llm_params_arch` with ``experts`` replaced by ``experts_per_token`` in the
    MoE layers' FFN term (the router and shared experts count in full). For a dense model
    it equals the total.

    Examples
    --------
    Mixtral-8x7B, 8 experts, top-2 [J24]_ (published: 12.9B active of 46.7B):

    >>> round(llm_active_params(32, 4096, 32000, 14336, 32, 8, 8, 2) / 1e9, 2)
    12.88
    """
    _, active = _arch_counts(L, h, V, ffn, heads, kv_heads, experts, experts_per_token,
                             gated_ffn, tied_embeddings, qkv_bias, head_dim, shared_experts,
                             dense_layers, dense_ffn)
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
