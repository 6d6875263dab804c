"""A model's architecture: exact parameter counts, active parameters and KV-cache size.

A planner types a catalog id (``"deepseek-v3"``) or describes a custom model; either
becomes an :class:`Arch`, from which every other module takes what it needs: memory
follows :attr:`Arch.total_params`, compute follows :attr:`Arch.active_params`, the KV
cache follows the attention design (:meth:`Arch.kv_bytes`).

The counting rule (:func:`count_params`) covers dense and mixture-of-experts decoders with
grouped-query or multi-head latent attention, an explicit head dimension, shared experts,
dense layers among MoE layers, QK-norm, attention sinks and the usual biases.

References
----------
.. [T23] Touvron et al. 2023, "Llama 2", arXiv 2307.09288: RMSNorm, SwiGLU, GQA, no biases.
.. [J24] Jiang et al. 2024, "Mixtral of Experts", arXiv 2401.04088: a linear router, top-2.
.. [DS3] DeepSeek-AI 2024, "DeepSeek-V3 Technical Report", arXiv 2412.19437, §2.1.1
   (multi-head latent attention: a compressed KV latent ``d_c`` plus a shared RoPE key
   ``d_h^R`` cached per token and layer) and §2.1.2 (shared and routed experts, a bias
   per expert for load balancing).
.. [Q3] Qwen Team 2025, "Qwen3 Technical Report", arXiv 2505.09388: QK-norm, head_dim 128.
.. [OAI25] OpenAI 2025, "gpt-oss-120b & gpt-oss-20b Model Card": attention sinks, biases,
   alternating dense and 128-token banded-window layers, MXFP4 expert weights.
.. [W23] Workshop 2023, "BLOOM", arXiv 2211.05100: embedding LayerNorm, ALiBi, biases.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

import numpy as np

from .catalog import MODEL_FIELDS, ModelSpec, model
from .errors import InvalidInputError, UnknownNameError

__all__ = [
    "Arch",
    "ATTENTION_KINDS",
    "count_params",
    "count_fields",
    "resolve_model",
    "is_model",
    "params_of",
    "custom_model",
]

ATTENTION_KINDS = ("mha", "gqa", "mla")

#: Fields a custom model must give (the rest default as a dense Llama-style decoder).
REQUIRED_FIELDS = ("layers", "hidden", "heads", "ffn", "vocab")


def _ffn_params(h, f, gated, bias):
    """One FFN of intermediate size ``f``: 3 (SwiGLU) or 2 matrices, optional biases."""
    weights = np.where(gated, 3, 2) * h * f
    biases = np.where(gated, 2 * f + h, f + h)
    return weights + np.where(bias, biases, 0)


def count_params(layers, hidden, vocab, ffn, heads, kv_heads, experts=1, experts_per_token=1,
                 gated_ffn=True, tied_embeddings=False, qkv_bias=False, *, head_dim=None,
                 moe_ffn=None, shared_experts=0, dense_layers=0, dense_ffn=None,
                 attention=None, kv_lora_rank=0, q_lora_rank=0, qk_rope_head_dim=0,
                 v_head_dim=None, position_embeddings=0, norm_bias=False, out_bias=False,
                 mlp_bias=False, qk_norm=False, router_bias=False, attention_sinks=False,
                 embed_norm=False):
    """Total and active parameters of a decoder, broadcasting over numeric arguments.

    Returns
    -------
    (total, active) : tuple of float or ndarray
        Raw counts. Active parameters are those one token uses: the routed top-k and the
        shared experts of every MoE layer, everything else in full (both embedding
        matrices included, as the catalog counts them).

    Notes
    -----
    Per layer, with ``d = head_dim`` (``hidden / heads`` when not given):

    * attention (MHA/GQA): ``h·heads·d + 2·h·kv_heads·d + heads·d·h``, plus
      ``heads·d + 2·kv_heads·d`` for QKV biases, ``h`` for an output bias, ``2d`` for
      QK-norm weights [Q3]_ and ``heads`` sink logits [OAI25]_;
    * attention (MLA) [DS3]_: ``h·q_lora + q_lora + q_lora·heads·(d + rope)`` (or
      ``h·heads·(d + rope)`` without query compression) ``+ h·(kv_lora + rope) + kv_lora
      + kv_lora·heads·(d + v) + heads·v·h``;
    * norms ``2h`` (RMSNorm), ``4h`` for LayerNorm with biases;
    * FFN of size ``f``: ``3hf`` (gated) or ``2hf``, plus ``2f + h`` or ``f + h`` biases;
    * a MoE layer: router ``h·E`` (``+E`` with a per-expert bias) and ``E + shared``
      expert FFNs of size ``moe_ffn`` (active: ``k + shared``) [J24]_ [DS3]_; a dense layer
      of a MoE model one FFN of size ``dense_ffn``.

    Plus embeddings ``V·h`` (twice when untied), learned positions ``S·h``, an embedding
    LayerNorm ``2h`` [W23]_ and the final norm ``h`` (``2h`` with a bias) [T23]_.

    Examples
    --------
    Llama-2-7B: 6,738,415,616 (the checkpoint's total):

    >>> float(count_params(32, 4096, 32000, 11008, 32, 32)[0])
    6738415616.0
    """
    h = np.asarray(hidden, dtype=float)
    L = np.asarray(layers, dtype=float)
    E = np.asarray(experts, dtype=float)
    k = np.asarray(experts_per_token, dtype=float)
    d = h / heads if head_dim is None else np.asarray(head_dim, dtype=float)
    f_moe = ffn if moe_ffn is None else moe_ffn
    f_dense = ffn if dense_ffn is None else dense_ffn
    is_moe = E > 1
    n_dense = np.where(is_moe, dense_layers, L)
    n_moe = L - n_dense

    if attention == "mla":
        rope = qk_rope_head_dim
        vd = d if v_head_dim is None else v_head_dim
        q = np.where(q_lora_rank > 0,
                     h * q_lora_rank + q_lora_rank + q_lora_rank * heads * (d + rope),
                     h * heads * (d + rope))
        attn = (q + h * (kv_lora_rank + rope) + kv_lora_rank
                + kv_lora_rank * heads * (d + vd) + heads * vd * h)
    else:
        attn = h * heads * d + 2 * h * kv_heads * d + heads * d * h
        attn = attn + np.where(qkv_bias, heads * d + 2 * kv_heads * d, 0)
        attn = attn + np.where(qk_norm, 2 * d, 0) + np.where(attention_sinks, heads, 0)
    attn = attn + np.where(out_bias, h, 0)
    norms = np.where(norm_bias, 4, 2) * h

    expert = _ffn_params(h, f_moe, gated_ffn, mlp_bias)
    router = h * E + np.where(router_bias, E, 0)
    moe_total = router + (E + shared_experts) * expert
    moe_active = router + (k + shared_experts) * expert
    dense = _ffn_params(h, f_dense, gated_ffn, mlp_bias)

    common = L * (attn + norms) + n_dense * dense
    embed = (vocab * h * np.where(tied_embeddings, 1, 2) + position_embeddings * h
             + np.where(embed_norm, 2 * h, 0) + np.where(norm_bias, 2, 1) * h)
    total = common + np.where(is_moe, n_moe * moe_total, 0) + embed
    active = common + np.where(is_moe, n_moe * moe_active, 0) + embed
    return total, active


@dataclasses.dataclass(frozen=True)
class Arch:
    """One model's architecture with its derived sizes (see :func:`resolve_model`).

    Every field of :class:`formulas.catalog.ModelSpec` that describes the network is here,
    with blanks resolved (``head_dim`` given, ``attention`` named). ``total_params`` and
    ``active_params`` are the catalog's counts for a catalog id (exact where the checkpoint
    is published) and the counting rule's for a custom model.
    """

    id: str
    name: str
    layers: int
    hidden: int
    vocab: int
    ffn: int
    heads: int
    kv_heads: int
    head_dim: float
    experts: int
    experts_per_token: int
    shared_experts: int
    dense_layers: int  #: layers with a dense FFN (all of them for a dense model)
    moe_ffn: int
    dense_ffn: int
    gated_ffn: bool
    tied_embeddings: bool
    attention: str
    kv_lora_rank: int
    q_lora_rank: int
    qk_rope_head_dim: int
    v_head_dim: float
    sliding_window: int
    sliding_layers: int
    weight_format: str
    max_seq_len: int
    total_params: float
    active_params: float
    counted_total: float  #: the counting rule's total (equals ``total_params`` when exact)
    counted_active: float

    # -------------------------------------------------------------- derived sizes
    @property
    def is_moe(self) -> bool:
        return self.experts > 1

    @property
    def moe_layers(self) -> int:
        return self.layers - self.dense_layers

    @property
    def expert_params(self) -> float:
        """Weights of one routed expert's FFN (0 for a dense model)."""
        if not self.is_moe:
            return 0.0
        return float((3 if self.gated_ffn else 2) * self.hidden * self.moe_ffn)

    @property
    def attn_params_per_layer(self) -> float:
        """Attention weights of one layer (projections only; biases and norms excluded)."""
        h, d = self.hidden, self.head_dim
        if self.attention == "mla":
            rope, r_kv, r_q = self.qk_rope_head_dim, self.kv_lora_rank, self.q_lora_rank
            q = (h * r_q + r_q * self.heads * (d + rope)) if r_q else h * self.heads * (d + rope)
            return float(q + h * (r_kv + rope) + r_kv * self.heads * (d + self.v_head_dim)
                         + self.heads * self.v_head_dim * h)
        return float(2 * h * self.heads * d + 2 * h * self.kv_heads * d)

    @property
    def global_layers(self) -> int:
        """Layers whose KV cache grows with the whole context."""
        return self.layers - (self.sliding_layers if self.sliding_window else 0)

    def kv_values_per_token_layer(self) -> float:
        """Values cached per token and layer: ``2·kv_heads·head_dim``, or the MLA latent
        ``kv_lora_rank + qk_rope_head_dim`` [DS3]_."""
        if self.attention == "mla":
            return float(self.kv_lora_rank + self.qk_rope_head_dim)
        return float(2 * self.kv_heads * self.head_dim)

    def kv_bytes_per_token(self, bytes_per_value=2.0, context_tokens=None):
        """KV-cache bytes per token of context. Without ``context_tokens``: every layer
        caches the token (exact while the context is within any sliding window, an upper
        bound beyond it). With ``context_tokens``: the average over that context, sliding
        layers holding at most their window (:meth:`kv_bytes` / context)."""
        if context_tokens is None:
            return self.layers * self.kv_values_per_token_layer() * float(bytes_per_value)
        s = np.asarray(context_tokens, dtype=float)
        return self.kv_bytes(s, bytes_per_value) / s

    def kv_bytes(self, context_tokens, bytes_per_value=2.0):
        """KV-cache bytes of one sequence of ``context_tokens`` tokens: global layers
        cache every token, sliding-window layers at most ``sliding_window`` tokens."""
        s = np.asarray(context_tokens, dtype=float)
        per_layer = self.kv_values_per_token_layer() * float(bytes_per_value)
        local = self.layers - self.global_layers
        held = self.global_layers * s + local * np.minimum(s, self.sliding_window or 0)
        return per_layer * held

    def experts_read(self, batch):
        """Expected distinct routed experts a MoE layer reads for ``batch`` tokens routed
        independently and uniformly, top-k of E: ``E·(1 − (1 − k/E)^b)``."""
        b = np.asarray(batch, dtype=float)
        if not self.is_moe:
            return np.zeros_like(b)
        return self.experts * (1 - (1 - self.experts_per_token / self.experts) ** b)

    def params_read(self, batch=1):
        """Weights one decode step reads for ``batch`` sequences: everything but the
        routed experts, plus the experts the batch is expected to hit. Batch 1 reads the
        active parameters; a large batch reads them all."""
        if not self.is_moe:
            return np.asarray(self.total_params + 0 * np.asarray(batch, dtype=float))
        routed_total = self.moe_layers * self.experts * self.expert_params
        rest = self.total_params - routed_total
        return rest + self.moe_layers * self.experts_read(batch) * self.expert_params


# ------------------------------------------------------------------------ resolving

_INT_FIELDS = {"layers", "hidden", "vocab", "ffn", "heads", "kv_heads", "experts",
               "experts_per_token", "position_embeddings", "max_seq_len", "moe_ffn",
               "shared_experts", "dense_layers", "dense_ffn", "kv_lora_rank", "q_lora_rank",
               "qk_rope_head_dim", "sliding_window", "sliding_layers"}
_FLOAT_FIELDS = {"head_dim", "v_head_dim", "params", "active_params"}
_BOOL_FIELDS = {"gated_ffn", "tied_embeddings", "qkv_bias", "norm_bias", "out_bias",
                "mlp_bias", "qk_norm", "router_bias", "attention_sinks", "embed_norm"}
_TEXT_FIELDS = {"id", "name", "attention", "weight_format", "params_basis", "source",
                "retrieved"}
#: Field names a custom-model table may use (the catalog's columns).
CUSTOM_FIELDS = tuple(f for f in MODEL_FIELDS if f not in ("params_basis", "source", "retrieved"))


def count_fields(spec: Mapping[str, Any]) -> tuple[float, float]:
    """(total, active) of a model given as catalog fields (a ``models.csv`` row as a dict),
    by :func:`count_params`."""
    attention = spec.get("attention")
    total, active = count_params(
        spec["layers"], spec["hidden"], spec["vocab"], spec["ffn"], spec["heads"],
        spec["kv_heads"], spec["experts"], spec["experts_per_token"], spec["gated_ffn"],
        spec["tied_embeddings"], spec["qkv_bias"], head_dim=spec["head_dim"],
        moe_ffn=spec["moe_ffn"], shared_experts=spec["shared_experts"],
        dense_layers=spec["dense_layers"], dense_ffn=spec["dense_ffn"], attention=attention,
        kv_lora_rank=spec["kv_lora_rank"], q_lora_rank=spec["q_lora_rank"],
        qk_rope_head_dim=spec["qk_rope_head_dim"], v_head_dim=spec["v_head_dim"],
        position_embeddings=spec["position_embeddings"], norm_bias=spec["norm_bias"],
        out_bias=spec["out_bias"], mlp_bias=spec["mlp_bias"], qk_norm=spec["qk_norm"],
        router_bias=spec["router_bias"], attention_sinks=spec["attention_sinks"],
        embed_norm=spec["embed_norm"])
    return float(total), float(active)


def _arch_from_fields(spec: dict[str, Any], total=None, active=None) -> Arch:
    heads, kv_heads = spec["heads"], spec["kv_heads"]
    attention = spec.get("attention") or ("mha" if kv_heads == heads else "gqa")
    spec = dict(spec, attention=attention)
    counted_total, counted_active = count_fields(spec)
    head_dim = spec["head_dim"] if spec["head_dim"] else spec["hidden"] / heads
    is_moe = spec["experts"] > 1
    return Arch(
        id=spec.get("id") or "custom", name=spec.get("name") or spec.get("id") or "custom model",
        layers=spec["layers"], hidden=spec["hidden"], vocab=spec["vocab"], ffn=spec["ffn"],
        heads=heads, kv_heads=kv_heads, head_dim=head_dim, experts=spec["experts"],
        experts_per_token=spec["experts_per_token"],
        shared_experts=spec["shared_experts"] if is_moe else 0,
        dense_layers=spec["dense_layers"] if is_moe else spec["layers"],
        moe_ffn=spec["moe_ffn"] or spec["ffn"], dense_ffn=spec["dense_ffn"] or spec["ffn"],
        gated_ffn=spec["gated_ffn"], tied_embeddings=spec["tied_embeddings"],
        attention=attention, kv_lora_rank=spec["kv_lora_rank"],
        q_lora_rank=spec["q_lora_rank"], qk_rope_head_dim=spec["qk_rope_head_dim"],
        v_head_dim=spec["v_head_dim"] or head_dim, sliding_window=spec["sliding_window"],
        sliding_layers=spec["sliding_layers"] if spec["sliding_window"] else 0,
        weight_format=spec.get("weight_format") or "bf16", max_seq_len=spec["max_seq_len"],
        total_params=counted_total if total is None else float(total),
        active_params=counted_active if active is None else float(active),
        counted_total=counted_total, counted_active=counted_active)


def _from_spec(m: ModelSpec) -> Arch:
    return _arch_from_fields(m.model_dump(), m.params, m.active_params)


_DEFAULTS = {name: field.default for name, field in ModelSpec.model_fields.items()
             if not field.is_required()}


def custom_model(fields, arg: str = "model") -> Arch:
    """An :class:`Arch` from field names and values (a two-column range in Excel).

    ``layers, hidden, heads, ffn, vocab`` are required; the rest default as a dense
    Llama-style decoder (``kv_heads = heads``, SwiGLU, untied embeddings, no biases).
    ``params``/``active_params`` may be given to override the counting rule.

    Examples
    --------
    >>> m = custom_model({"layers": 32, "hidden": 4096, "heads": 32, "ffn": 11008,
    ...                   "vocab": 32000})
    >>> m.total_params
    6738415616.0
    """
    spec: dict[str, Any] = {}
    pairs = fields.items() if isinstance(fields, Mapping) else fields
    for raw_key, value in pairs:
        key = str(raw_key).strip().lower().replace("-", "_").replace(" ", "_")
        if not key:
            continue
        if key not in CUSTOM_FIELDS:
            import difflib
            close = difflib.get_close_matches(key, CUSTOM_FIELDS, n=2, cutoff=0.6)
            hint = f"did you mean {' or '.join(close)}?" if close else \
                f"use MODEL_SPEC field names such as {', '.join(REQUIRED_FIELDS)}"
            raise UnknownNameError(f"{arg}: field '{str(raw_key).strip()[:40]}' is unknown: {hint}",
                                   arg=arg, value=raw_key)
        if key in spec:
            raise InvalidInputError(f"{arg}: field '{key}' is given twice", arg=arg)
        spec[key] = _field_value(key, value, arg)
    missing = [f for f in REQUIRED_FIELDS if spec.get(f) is None]
    if missing:
        raise InvalidInputError(f"{arg}: a custom model needs {', '.join(missing)} "
                                f"(required: {', '.join(REQUIRED_FIELDS)})", arg=arg)
    merged = dict(_DEFAULTS)
    merged.update({k: x for k, x in spec.items() if x is not None})
    if merged.get("kv_heads") is None:
        merged["kv_heads"] = merged["heads"]
    merged.setdefault("max_seq_len", 0)
    if merged.get("max_seq_len") is None:
        merged["max_seq_len"] = 0
    _check_shape(merged, arg)
    return _arch_from_fields(merged, merged.get("params"), merged.get("active_params"))


def _field_value(key: str, value, arg: str):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if key in _TEXT_FIELDS:
        text = str(value).strip().lower() if key in ("attention", "weight_format") else str(value)
        if key == "attention" and text not in ATTENTION_KINDS:
            raise InvalidInputError(f"{arg}: attention must be one of {', '.join(ATTENTION_KINDS)}",
                                    arg=arg, value=value)
        return text
    if key in _BOOL_FIELDS:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        raise InvalidInputError(f"{arg}: {key} must be TRUE or FALSE", arg=arg, value=value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{arg}: {key} must be a number (got '{str(value)[:40]}')",
                                arg=arg, value=value) from None
    if not math.isfinite(number) or number < 0:
        raise InvalidInputError(f"{arg}: {key} must be a non-negative number", arg=arg,
                                value=value, code="#NUM!")
    if key in _INT_FIELDS:
        if number != int(number):
            raise InvalidInputError(f"{arg}: {key} must be a whole number", arg=arg,
                                    value=value, code="#NUM!")
        return int(number)
    return number


def _check_shape(spec: Mapping[str, Any], arg: str) -> None:
    for key in ("layers", "hidden", "heads", "ffn", "vocab", "kv_heads", "experts",
                "experts_per_token"):
        if not spec.get(key):
            raise InvalidInputError(f"{arg}: {key} must be at least 1", arg=arg, code="#NUM!")
    if spec["kv_heads"] > spec["heads"]:
        raise InvalidInputError(f"{arg}: kv_heads cannot exceed heads", arg=arg, code="#NUM!")
    if spec["experts_per_token"] > spec["experts"]:
        raise InvalidInputError(f"{arg}: experts_per_token cannot exceed experts", arg=arg,
                                code="#NUM!")
    if spec["dense_layers"] > spec["layers"] or spec["sliding_layers"] > spec["layers"]:
        raise InvalidInputError(f"{arg}: dense_layers and sliding_layers cannot exceed layers",
                                arg=arg, code="#NUM!")
    if spec.get("attention") == "mla" and not spec.get("kv_lora_rank"):
        raise InvalidInputError(f"{arg}: MLA attention needs kv_lora_rank", arg=arg)
    if not spec.get("head_dim") and spec["hidden"] % spec["heads"]:
        raise InvalidInputError(f"{arg}: hidden is not a multiple of heads: give head_dim",
                                arg=arg, code="#NUM!")


_cache: dict[str, Arch] = {}


def resolve_model(x, arg: str = "model") -> Arch:
    """The :class:`Arch` of a catalog id or name, a :class:`ModelSpec`, an :class:`Arch`,
    or a field/value mapping (or list of pairs) describing a custom model.

    Examples
    --------
    >>> m = resolve_model("deepseek-v3")
    >>> m.attention, round(m.total_params / 1e9), round(m.active_params / 1e9)
    ('mla', 671, 38)
    """
    if isinstance(x, Arch):
        return x
    if isinstance(x, ModelSpec):
        return _from_spec(x)
    if isinstance(x, str):
        spec = model(x) if arg == "model" else _named(x, arg)
        if spec.id not in _cache:
            _cache[spec.id] = _from_spec(spec)
        return _cache[spec.id]
    if isinstance(x, Mapping):
        return custom_model(x, arg)
    if isinstance(x, (list, tuple)) and x and all(isinstance(r, (list, tuple)) and len(r) == 2
                                                  for r in x):
        return custom_model([(r[0], r[1]) for r in x if r[0] not in (None, "")], arg)
    raise InvalidInputError(f"{arg} must be a model id such as 'llama-3-8b' or a two-column "
                            "range of MODEL_SPEC field names and values", arg=arg, value=x)


def _named(name: str, arg: str) -> ModelSpec:
    try:
        return model(name)
    except UnknownNameError as exc:
        exc.arg = arg
        exc.message = exc.message.replace("model '", f"{arg} '", 1)
        exc.args = (exc.message,)
        raise


def is_model(x) -> bool:
    """True for a value :func:`resolve_model` takes (text, a spec or a field table)."""
    return isinstance(x, (str, Arch, ModelSpec, Mapping))


def params_of(P, use: str, name: str = "P"):
    """``P`` as a raw parameter count: a number stays as it is; a model gives its total
    parameters (``use="total"``: memory, weights, gradients, optimizer state) or its
    active parameters (``use="active"``: FLOPs per token)."""
    if not is_model(P):
        return P
    m = resolve_model(P, name)
    if use == "total":
        return m.total_params
    if use == "active":
        return m.active_params
    raise ValueError(f"use must be 'total' or 'active', not {use!r}")
