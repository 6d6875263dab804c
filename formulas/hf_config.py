"""A model catalog row from a Hugging Face ``config.json`` (already parsed into a dict).

Pure mapping, no I/O: ``build.py --add-model`` reads the file and writes the user catalog.
The keys are those of the ``transformers`` configuration classes of each ``model_type``
(LlamaConfig, MistralConfig, MixtralConfig, Qwen2/Qwen3(Moe)Config, DeepseekV3Config,
GptOssConfig, Glm4MoeConfig); the parameter counts follow :func:`formulas.arch.count_params`.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from .arch import count_fields
from .errors import InvalidInputError

__all__ = ["row_from_hf_config", "HfConfigError", "MODEL_TYPES"]


class HfConfigError(InvalidInputError):
    """A config.json that cannot describe a model this planner counts."""


#: model_type -> attention/bias conventions of that family's modelling code.
MODEL_TYPES: dict[str, dict[str, Any]] = {
    "llama": {},
    "mistral": {"sliding_all": True},
    "mixtral": {"sliding_all": True},
    "qwen2": {"qkv_bias": True},
    "qwen2_moe": {"qkv_bias": True},
    "qwen3": {"qk_norm": True},
    "qwen3_moe": {"qk_norm": True},
    "deepseek_v3": {"mla": True},
    "deepseek_v2": {"mla": True},
    "kimi_k2": {"mla": True},
    "gpt_oss": {"sinks": True, "all_bias": True, "router_bias": True},
    "glm4_moe": {"router_bias": True},
}

_REQUIRED = {"num_hidden_layers": "layers", "hidden_size": "hidden", "vocab_size": "vocab",
             "num_attention_heads": "heads"}

#: Keys that describe the architecture and are read.
_READ = {
    "model_type", "architectures", "num_hidden_layers", "hidden_size", "vocab_size",
    "num_attention_heads", "num_key_value_heads", "intermediate_size", "head_dim",
    "tie_word_embeddings", "max_position_embeddings", "attention_bias", "sliding_window",
    "use_sliding_window", "layer_types", "torch_dtype", "dtype", "quantization_config",
    "num_local_experts", "num_experts", "n_routed_experts", "num_experts_per_tok",
    "moe_intermediate_size", "n_shared_experts", "first_k_dense_replace", "kv_lora_rank",
    "q_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim", "topk_method",
    "use_qk_norm", "decoder_sparse_step", "mlp_only_layers", "shared_expert_intermediate_size",
    "_name_or_path", "name_or_path", "max_window_layers", "mlp_bias", "hidden_act",
}
#: Keys known not to change the parameter count or KV cache (training and runtime knobs,
#: token ids, RoPE settings, routing and initialisation details).
_IGNORED = {
    "bos_token_id", "eos_token_id", "pad_token_id", "rope_theta", "rope_scaling",
    "rms_norm_eps", "initializer_range", "use_cache", "transformers_version",
    "attention_dropout", "hidden_dropout", "output_router_logits", "router_aux_loss_coef",
    "router_jitter_noise", "norm_topk_prob", "routed_scaling_factor", "scoring_func",
    "n_group", "topk_group", "ep_size", "aux_loss_alpha", "seq_aux", "num_nextn_predict_layers",
    "pretraining_tp", "auto_map", "moe_layer_freq", "rope_interleave", "partial_rotary_factor",
    "swiglu_limit", "experts_per_token", "initial_context_length", "rope_type",
    "attention_chunk_size", "use_mla", "bias", "mlp_bias_dummy", "max_window_layers_dummy",
    "tie_encoder_decoder", "is_decoder", "torchscript", "return_dict", "output_hidden_states",
    "output_attentions", "chunk_size_feed_forward", "id2label", "label2id", "problem_type",
}


def _int(cfg: Mapping[str, Any], key: str, default=None) -> int | None:
    value = cfg.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
            or value != int(value):
        raise HfConfigError(f"config.json: {key} must be a whole number, got {value!r}",
                            arg="config")
    return int(value)


def _weight_format(cfg: Mapping[str, Any]) -> str:
    quant = cfg.get("quantization_config") or {}
    method = str(quant.get("quant_method", "")).lower() if isinstance(quant, Mapping) else ""
    if method in ("fp8", "mxfp4"):
        return method
    dtype = str(cfg.get("torch_dtype") or cfg.get("dtype") or "bfloat16").lower()
    return {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}.get(dtype, dtype)


def _model_id(cfg: Mapping[str, Any], model_id: str | None) -> str:
    name = model_id or str(cfg.get("_name_or_path") or cfg.get("name_or_path") or "")
    name = name.rstrip("/").split("/")[-1].strip().lower().replace("_", "-").replace(" ", "-")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{0,63}", name or ""):
        raise HfConfigError("config.json: give the model an id (--id NAME: lower-case letters, "
                            "digits, '.', '-')", arg="id")
    return name


def row_from_hf_config(cfg: Mapping[str, Any], model_id: str | None = None,
                       source: str = "config.json") -> tuple[dict[str, Any], list[str]]:
    """Catalog fields of one model and the config keys that were not understood.

    Returns
    -------
    (row, unknown) : (dict, list of str)
        ``row`` has every column of ``models.csv`` (the counts derived by
        :func:`formulas.arch.count_params`); ``unknown`` lists keys that are neither read
        nor known to be irrelevant, so the caller can name them.

    Raises
    ------
    HfConfigError
        A required key is missing or a value has the wrong type.

    Examples
    --------
    >>> cfg = {"model_type": "llama", "num_hidden_layers": 32, "hidden_size": 4096,
    ...        "vocab_size": 32000, "num_attention_heads": 32, "intermediate_size": 11008}
    >>> row, unknown = row_from_hf_config(cfg, "my-llama")
    >>> row["params"], unknown
    (6738415616, [])
    """
    if not isinstance(cfg, Mapping):
        raise HfConfigError("config.json must hold a JSON object", arg="config")
    missing = [k for k in _REQUIRED if k not in cfg]
    if missing:
        raise HfConfigError(f"config.json lacks {', '.join(missing)}: is it a decoder "
                            "language model's config?", arg="config")
    model_type = str(cfg.get("model_type", "llama"))
    family = MODEL_TYPES.get(model_type, {})
    unknown = sorted(k for k in cfg if k not in _READ and k not in _IGNORED)
    if model_type not in MODEL_TYPES:
        unknown.insert(0, f"model_type={model_type}")

    layers = _int(cfg, "num_hidden_layers")
    hidden = _int(cfg, "hidden_size")
    heads = _int(cfg, "num_attention_heads")
    kv_heads = _int(cfg, "num_key_value_heads", heads)
    vocab = _int(cfg, "vocab_size")
    ffn = _int(cfg, "intermediate_size")
    experts = _int(cfg, "n_routed_experts") or _int(cfg, "num_local_experts") \
        or _int(cfg, "num_experts") or 1
    k = _int(cfg, "num_experts_per_tok", 1) if experts > 1 else 1
    moe_ffn = _int(cfg, "moe_intermediate_size")
    if ffn is None:
        ffn = moe_ffn
    if ffn is None or not all((layers, hidden, heads, kv_heads, vocab, ffn)):
        raise HfConfigError("config.json: num_hidden_layers, hidden_size, num_attention_heads, "
                            "vocab_size and intermediate_size must be positive", arg="config")
    mla = bool(family.get("mla")) or cfg.get("kv_lora_rank") is not None
    head_dim = _int(cfg, "qk_nope_head_dim") if mla else _int(cfg, "head_dim")
    dense_layers = _int(cfg, "first_k_dense_replace", 0) if experts > 1 else 0
    mlp_only = cfg.get("mlp_only_layers") or []
    if experts > 1 and isinstance(mlp_only, list):
        dense_layers += len(mlp_only)
    shared = _int(cfg, "n_shared_experts", 0) if experts > 1 else 0

    sliding_window = 0
    sliding_layers = 0
    window = _int(cfg, "sliding_window")
    layer_types = cfg.get("layer_types")
    if window and isinstance(layer_types, list):
        sliding_layers = sum(1 for t in layer_types if "sliding" in str(t))
        sliding_window = window if sliding_layers else 0
    elif window and family.get("sliding_all") and cfg.get("use_sliding_window", True):
        sliding_window, sliding_layers = window, layers

    attn_bias = bool(cfg.get("attention_bias", False))
    all_bias = bool(family.get("all_bias"))
    router_bias = bool(family.get("router_bias")) or cfg.get("topk_method") == "noaux_tc"
    qk_norm = bool(family.get("qk_norm")) or bool(cfg.get("use_qk_norm", False))
    gated = str(cfg.get("hidden_act", "silu")).lower() not in ("relu2", "squared-relu", "gelu_new_plain")
    row: dict[str, Any] = {
        "id": _model_id(cfg, model_id),
        "name": model_id or str(cfg.get("_name_or_path") or _model_id(cfg, model_id)),
        "layers": layers, "hidden": hidden, "vocab": vocab, "ffn": ffn, "heads": heads,
        "kv_heads": heads if mla else kv_heads, "experts": experts, "experts_per_token": k,
        "gated_ffn": gated, "tied_embeddings": bool(cfg.get("tie_word_embeddings", False)),
        "qkv_bias": bool(family.get("qkv_bias")) or attn_bias or all_bias,
        "position_embeddings": 0,
        "max_seq_len": _int(cfg, "max_position_embeddings", 0) or 0,
        "head_dim": head_dim, "moe_ffn": moe_ffn if experts > 1 else None,
        "shared_experts": shared, "dense_layers": dense_layers,
        "dense_ffn": None, "attention": "mla" if mla else ("mha" if kv_heads == heads else "gqa"),
        "kv_lora_rank": _int(cfg, "kv_lora_rank", 0) if mla else 0,
        "q_lora_rank": (_int(cfg, "q_lora_rank", 0) or 0) if mla else 0,
        "qk_rope_head_dim": _int(cfg, "qk_rope_head_dim", 0) if mla else 0,
        "v_head_dim": _int(cfg, "v_head_dim") if mla else None,
        "sliding_window": sliding_window, "sliding_layers": sliding_layers,
        "weight_format": _weight_format(cfg),
        "norm_bias": False,
        "out_bias": all_bias or (attn_bias and model_type in ("llama", "mistral", "mixtral")),
        "mlp_bias": all_bias or bool(cfg.get("mlp_bias", False)),
        "qk_norm": qk_norm, "router_bias": router_bias and experts > 1,
        "attention_sinks": bool(family.get("sinks")), "embed_norm": False,
    }
    total, active = count_fields(row)
    row["params"] = int(total)
    row["active_params"] = int(active)
    row["params_basis"] = (f"derived by build.py --add-model from {model_type} config.json "
                           "(counting rule of formulas.arch.count_params)")
    row["source"] = source
    return row, unknown
