"""The per-layer shape of a model as the training step model needs it.

From a catalog id (or a catalog row, an ``Arch``, or a field/value mapping) this module
derives, per token and per layer, the parameters a token's matmuls touch, the attention
dimensions, the bytes of stored activations and the parameters each GPU holds. Total
parameters (weights, gradients, optimizer, their communication) and active parameters
(FLOPs) are kept apart, as a mixture-of-experts model needs.

Formulas (``m = 3`` for a gated FFN, else 2; ``q = heads * d_qk``; ``o = heads * d_v``):

* attention parameters per layer, grouped-query: ``h q + 2 h kv_heads d_qk + o h``;
  MLA [DS3]_: ``h r_q + r_q heads (d_qk + d_rope)`` (or ``h heads (d_qk + d_rope)``
  without query compression) ``+ h (r_kv + d_rope) + r_kv heads (d_qk + d_v) + o h``;
* FFN parameters per token: dense ``m h f``; MoE ``(k + shared) m h f_e + h E`` (router);
* stored activations per token and layer (bytes, 16-bit, no recomputation; FlashAttention
  keeps no ``s x s`` scores [FA2]_): attention ``2 (2h + q_k + 2 kv + o)`` -- norm input and
  output, Q/K/V, attention output -- and FFN ``2 (2h + m f)`` dense (``(m - 1) f`` matmul
  outputs and ``f`` activation outputs), or ``2 (2h + k h + (k + shared) m f_e)`` for MoE
  (dispatched token copies, expert matmul and activation outputs), after Korthikanti et
  al. [K22]_ Table 2 with sequence parallelism and no dropout. Selective recomputation
  drops the norm outputs and activation outputs (``2 (2h + f)`` dense, ``2 (2h + (k +
  shared) f_e)`` MoE) and recomputes them, as Megatron-Core's ``recompute_modules``
  (layernorm, mlp activation) do.

References
----------
.. [DS3] DeepSeek-AI 2024, "DeepSeek-V3 Technical Report", arXiv 2412.19437, §2.1.1 (MLA).
.. [FA2] Dao 2023, "FlashAttention-2", arXiv 2307.08691: scores are recomputed in the
   backward pass, never written to HBM.
.. [K22] Korthikanti et al. 2022, arXiv 2205.05198, §4 and Table 2.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ..arch import resolve_model
from ..errors import InvalidInputError

__all__ = ["TrainShape", "train_shape"]


@dataclass(frozen=True)
class TrainShape:
    """Per-layer, per-token quantities of one model (raw counts; bytes are 16-bit)."""

    id: str
    total_params: float
    active_params: float
    layers: int
    dense_layers: int  #: layers with a dense FFN (all of a dense model)
    moe_layers: int
    hidden: int
    vocab: int
    heads: int
    kv_heads: int
    d_qk: int  #: query/key width per head (MLA: incl. the RoPE part)
    d_v: int
    experts: int
    top_k: int
    shared_experts: int
    attn_params: float  #: per layer
    dense_ffn_params: float  #: per dense layer
    expert_params: float  #: one routed expert
    moe_ffn: int  #: one expert's FFN width
    shared_params: float  #: the shared experts of one MoE layer
    router_params: float
    embed_params: float  #: input embedding
    output_params: float  #: output projection (a copy on the last stage even when tied)
    act_attn_bytes: float  #: stored per token and layer, attention block
    act_dense_bytes: float  #: stored per token, dense FFN block
    act_moe_bytes: float  #: stored per token, MoE FFN block
    act_selective_saved: float  #: of a dense layer: norm and activation outputs
    act_selective_saved_moe: float
    kv_bytes: float  #: K and V of one token and layer (what context parallelism exchanges)
    sliding_window: int
    sliding_layers: int

    @property
    def is_moe(self) -> bool:
        return self.experts > 1 and self.moe_layers > 0

    def flops_per_token(self, seq_len: float) -> float:
        """Model FLOPs per trained token: ``6 x active params + causal attention``.

        Causal attention: ``3 x 2 x heads x (d_qk + d_v) x`` the mean keys a query sees
        (``s/2`` causal; about the window ``w`` on sliding-window layers), forward and
        backward (``x 3``), per layer.

        >>> round(train_shape("llama-3.1-8b").flops_per_token(8192) / 1e9, 1)
        54.6
        """
        return 6 * self.active_params + self.attn_flops_per_token(seq_len) * self.layers

    def attn_flops_per_token(self, seq_len: float) -> float:
        """Attention-score and value FLOPs per token, forward + backward, mean over layers."""
        full = seq_len / 2
        w = self.sliding_window
        slide = min(w - w * w / (2 * seq_len), full) if w else full
        n_slide = self.sliding_layers if w else 0
        keys = (full * (self.layers - n_slide) + slide * n_slide) / self.layers
        return 6 * self.heads * (self.d_qk + self.d_v) * keys


def _get(m, name, default=None):
    x = getattr(m, name, default)
    return default if x is None else x


@functools.lru_cache(maxsize=256)
def _shape_of_id(model_id: str) -> TrainShape:
    return _shape(resolve_model(model_id))


def train_shape(model) -> TrainShape:
    """The :class:`TrainShape` of a catalog id, ``Arch``, catalog row or field/value table.

    >>> s = train_shape("deepseek-v3")
    >>> s.is_moe, s.experts, s.top_k
    (True, 256, 8)
    """
    if isinstance(model, TrainShape):
        return model
    if isinstance(model, str):
        return _shape_of_id(model.strip())
    return _shape(resolve_model(model))


def _shape(m) -> TrainShape:
    L = int(_get(m, "layers"))
    h = int(_get(m, "hidden"))
    heads = int(_get(m, "heads"))
    kvh = int(_get(m, "kv_heads", heads))
    V = int(_get(m, "vocab"))
    E = int(_get(m, "experts", 1))
    k = int(_get(m, "experts_per_token", 1))
    shared = int(_get(m, "shared_experts", 0))
    gated = bool(_get(m, "gated_ffn", True))
    mult = 3 if gated else 2
    ffn = int(_get(m, "ffn", 0) or _get(m, "dense_ffn", 0) or 4 * h)
    moe_ffn = int(_get(m, "moe_ffn", 0) or ffn)
    dense_ffn = int(_get(m, "dense_ffn", 0) or ffn)
    n_dense_lead = int(_get(m, "dense_layers", 0))
    moe_layers = L - n_dense_lead if E > 1 else 0
    hd = int(_get(m, "head_dim", 0) or h // heads)
    rope = int(_get(m, "qk_rope_head_dim", 0))
    d_v = int(_get(m, "v_head_dim", 0) or hd)
    kv_rank = int(_get(m, "kv_lora_rank", 0))
    q_rank = int(_get(m, "q_lora_rank", 0))
    mla = (str(_get(m, "attention", "") or "").lower() == "mla") or kv_rank > 0
    d_qk = hd + (rope if mla else 0)
    q_dim, o_dim = heads * d_qk, heads * d_v
    if mla:
        q_p = (h * q_rank + q_rank * q_dim) if q_rank else h * q_dim
        attn = q_p + h * (kv_rank + rope) + kv_rank * heads * (hd + d_v) + o_dim * h
        kv_tok = heads * (d_qk + d_v)  # MLA keys/values are materialised per head
    else:
        attn = h * q_dim + 2 * h * kvh * hd + o_dim * h
        kv_tok = kvh * (hd + d_v)
    expert = mult * h * moe_ffn
    total = float(_get(m, "total_params", 0) or _get(m, "params"))
    active = float(_get(m, "active_params", 0) or total)
    act_attn = 2.0 * (2 * h + q_dim + kv_tok + o_dim)
    act_dense = 2.0 * (2 * h + (mult - 1) * dense_ffn + dense_ffn)
    act_moe = 2.0 * (2 * h + k * h + (k + shared) * mult * moe_ffn)
    if L <= 0 or h <= 0 or heads <= 0:
        raise InvalidInputError("the model needs layers, hidden and heads above 0",
                                arg="model", value=getattr(m, "id", ""))
    return TrainShape(
        id=str(_get(m, "id", "custom")), total_params=total, active_params=active, layers=L,
        dense_layers=L - moe_layers, moe_layers=moe_layers, hidden=h, vocab=V, heads=heads,
        kv_heads=kvh, d_qk=d_qk, d_v=d_v, experts=E, top_k=k, shared_experts=shared,
        attn_params=float(attn), dense_ffn_params=float(mult * h * dense_ffn),
        expert_params=float(expert), moe_ffn=moe_ffn, shared_params=float(shared * expert),
        router_params=float(h * E if E > 1 else 0), embed_params=float(V * h),
        output_params=float(V * h), act_attn_bytes=act_attn, act_dense_bytes=act_dense,
        act_moe_bytes=act_moe,
        act_selective_saved=2.0 * (2 * h + dense_ffn),
        act_selective_saved_moe=2.0 * (2 * h + (k + shared) * moe_ffn),
        kv_bytes=2.0 * kv_tok, sliding_window=int(_get(m, "sliding_window", 0)),
        sliding_layers=int(_get(m, "sliding_layers", 0)))
