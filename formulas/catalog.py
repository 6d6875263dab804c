"""GPU and model catalogs, read lazily from the CSV files in ``formulas/data``.

Each row carries its source, the date it was checked and a confidence. Ids are stable,
lower case and hyphenated; they are part of the Excel contract (dropdowns, ``GPU_SPEC``).
Nothing is read at import time: the first look-up loads and validates a file once.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import os
from importlib import resources
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .bounds import check_catalog_row
from .errors import CatalogError, InvalidInputError, UnknownNameError

__all__ = [
    "GpuSpec",
    "ModelSpec",
    "gpu_catalog",
    "model_catalog",
    "gpu",
    "model",
    "gpu_field",
    "model_field",
    "gpu_ids",
    "model_ids",
    "GPU_FIELDS",
    "MODEL_FIELDS",
    "USER_DIR_ENV",
    "user_models_path",
    "reload_catalogs",
]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        if isinstance(value, str) and value.strip() == "":
            return None
        return value


class GpuSpec(_Row):
    """One accelerator. Peaks are dense (never the with-sparsity headline)."""

    id: str
    name: str
    vendor: str
    aliases: str = ""
    tflops_bf16: float  #: dense BF16 (FP16 where there is no BF16) tensor TFLOPS
    tflops_fp8: Optional[float] = None  #: dense FP8 TFLOPS; None where there is no FP8
    tflops_fp4: Optional[float] = None  #: dense FP4 TFLOPS; None where there is no FP4
    tflops_fp32: Optional[float] = None
    memory_gb: float  #: device memory, GB (1e9 bytes)
    memory_type: str
    mem_bw_gbps: float  #: memory bandwidth, GB/s (gigabytes per second)
    interconnect_gbps: float  #: scale-up link bandwidth per GPU, GB/s, as the vendor quotes it
    interconnect: str
    scaleup_gpus: Optional[int] = None  #: GPUs in one scale-up (NVLink/IF/ICI) domain
    scaleout_gbps: Optional[float] = None  #: scale-out network per GPU, Gb/s (NIC unit)
    tdp_w: Optional[float] = None  #: board power, W; None where not published
    notes: str = ""
    source: str
    retrieved: str
    confidence: str


class ModelSpec(_Row):
    """One model architecture with its total and active parameter counts."""

    id: str
    name: str
    layers: int
    hidden: int
    vocab: int
    ffn: int  #: FFN intermediate size (per expert for MoE)
    heads: int
    kv_heads: int
    experts: int = 1
    experts_per_token: int = 1
    gated_ffn: bool = True
    tied_embeddings: bool = False
    qkv_bias: bool = False
    position_embeddings: int = 0  #: learned position embeddings (GPT-3: 2048), else 0
    max_seq_len: int
    head_dim: Optional[int] = None  #: per-head dimension; None = hidden / heads (MLA: no-RoPE q/k part)
    moe_ffn: Optional[int] = None  #: FFN size of one routed or shared expert; None = ffn
    shared_experts: int = 0  #: always-active shared experts per MoE layer (size moe_ffn)
    dense_layers: int = 0  #: layers with a dense FFN in a MoE model (DeepSeek: 3 leading)
    dense_ffn: Optional[int] = None  #: FFN size of those dense layers; None = ffn
    attention: Optional[str] = None  #: mha, gqa or mla; None = mha if kv_heads == heads else gqa
    kv_lora_rank: int = 0  #: MLA compressed KV latent (DeepSeek-V3: 512)
    q_lora_rank: int = 0  #: MLA compressed query latent; 0 = no query compression
    qk_rope_head_dim: int = 0  #: MLA decoupled RoPE key dimension (DeepSeek-V3: 64)
    v_head_dim: Optional[int] = None  #: MLA value head dimension; None = head_dim
    sliding_window: int = 0  #: window (tokens) of the local-attention layers; 0 = none
    sliding_layers: int = 0  #: layers that attend within the window only
    weight_format: str = "bf16"  #: precision of the released weights (bf16, fp8, mxfp4)
    norm_bias: bool = False  #: LayerNorm with a bias (BLOOM, Falcon); False for RMSNorm
    out_bias: bool = False  #: bias on the attention output projection
    mlp_bias: bool = False  #: biases on the FFN / expert matrices
    qk_norm: bool = False  #: per-head RMSNorm weights on queries and keys (Qwen3)
    router_bias: bool = False  #: a bias per expert on the router (DeepSeek-V3, gpt-oss)
    attention_sinks: bool = False  #: one learned sink logit per head and layer (gpt-oss)
    embed_norm: bool = False  #: LayerNorm right after the token embedding (BLOOM)
    params: float  #: total parameters (raw count)
    active_params: float  #: parameters used per token (raw count)
    params_basis: str  #: how ``params`` was obtained (published exact, derived, headline)
    source: str
    retrieved: str


GPU_FIELDS = tuple(f for f in GpuSpec.model_fields if f != "aliases")
MODEL_FIELDS = tuple(ModelSpec.model_fields)


def _load(filename: str, record: type[_Row], text: str | None = None) -> dict[str, _Row]:
    if text is None:
        text = resources.files(__package__).joinpath("data", filename).read_text(encoding="utf-8")
    text = text.lstrip("\ufeff")  # a CSV saved as "CSV UTF-8" by Excel starts with a BOM
    rows: dict[str, _Row] = {}
    reader = csv.DictReader(io.StringIO(text))
    expected = set(record.model_fields)
    if set(reader.fieldnames or ()) != expected:
        raise CatalogError(f"{filename}: columns {sorted(reader.fieldnames or ())} differ from "
                           f"the schema {sorted(expected)}")
    for line, raw in enumerate(reader, start=2):
        try:  # a blank cell takes the field's default (required fields stay required)
            row = record(**{k: x for k, x in raw.items() if x is not None and x.strip()})
        except ValidationError as exc:
            raise CatalogError(f"{filename} line {line}: {exc.errors()[0]['loc'][0]}: "
                               f"{exc.errors()[0]['msg']}") from None
        check_catalog_row(filename, line, list(reader.fieldnames), raw)
        if row.id in rows:
            raise CatalogError(f"{filename} line {line}: duplicate id '{row.id}'")
        rows[row.id] = row
    return rows


@functools.cache
def gpu_catalog() -> dict[str, GpuSpec]:
    """All GPUs by id (loaded once; do not mutate)."""
    return _load("gpus.csv", GpuSpec)  # type: ignore[return-value]


#: Environment variable naming the folder of the user's own catalog (``models.csv``);
#: default ``~/.llm_budget_planner``. ``build.py --add-model`` writes there.
USER_DIR_ENV = "LLM_PLANNER_HOME"
_user_error: list[str] = []


def user_models_path() -> Path:
    """The user's model catalog file (it need not exist)."""
    folder = os.environ.get(USER_DIR_ENV) or str(Path.home() / ".llm_budget_planner")
    return Path(folder) / "models.csv"


@functools.cache
def model_catalog() -> dict[str, ModelSpec]:
    """All models by id: the shipped catalog, then the user's own models (see
    :func:`user_models_path`). Loaded once; do not mutate. A user file that cannot be read
    leaves the shipped catalog working; look-ups of unknown ids then say why."""
    rows = _load("models.csv", ModelSpec)
    _user_error.clear()
    path = user_models_path()
    if path.is_file():
        try:
            extra = _load(path.name, ModelSpec, path.read_text(encoding="utf-8"))
        except (CatalogError, OSError, UnicodeDecodeError) as exc:
            _user_error.append(f"{path}: {exc}")
        else:
            clash = sorted(set(extra) & set(rows))
            if clash:
                _user_error.append(f"{path}: ids {', '.join(clash)} are shipped ids")
            rows.update({k: r for k, r in extra.items() if k not in clash})
    return rows  # type: ignore[return-value]


def reload_catalogs() -> None:
    """Forget the loaded catalogs (after the user catalog changed)."""
    for f in (gpu_catalog, model_catalog, _alias_table):
        f.cache_clear()
    from . import arch
    arch._cache.clear()


def _norm(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", "-").split())


@functools.cache
def _alias_table(kind: str) -> dict[str, str]:
    cat = gpu_catalog() if kind == "gpu" else model_catalog()
    table: dict[str, str] = {}
    for rid, row in cat.items():
        table[_norm(rid)] = rid
        table[_norm(row.name)] = rid
        for alias in getattr(row, "aliases", "").split(";"):
            if alias.strip():
                table[_norm(alias)] = rid
    return table


def _lookup(kind: str, name, arg: str):
    cat = gpu_catalog() if kind == "gpu" else model_catalog()
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"{arg} must be a catalog id such as "
                                f"'{next(iter(cat))}'", arg=arg, value=name)
    table = _alias_table(kind)
    key = _norm(name)
    if key in table:
        return cat[table[key]]
    close = difflib.get_close_matches(key, list(cat), n=3, cutoff=0.4)
    hint = f"did you mean {', '.join(close)}?" if close else f"use {kind.upper()}_LIST() for the ids"
    if kind == "model" and _user_error:
        hint += f" (the user catalog was not read: {_user_error[0][:160]})"
    raise UnknownNameError(f"{arg} '{name.strip()}' is not in the {kind} catalog: {hint}",
                           arg=arg, value=name)


def gpu(name: str) -> GpuSpec:
    """The GPU with this id, name or alias (case-insensitive).

    Raises
    ------
    UnknownNameError
        Naming the closest ids.

    Examples
    --------
    >>> gpu("H100").id, gpu("h100-sxm").tflops_bf16
    ('h100-sxm', 989.4)
    """
    return _lookup("gpu", name, "gpu")


def model(name: str) -> ModelSpec:
    """The model with this id or name (case-insensitive).

    Examples
    --------
    >>> model("Llama-2-7B").layers
    32
    """
    return _lookup("model", name, "model")


def _field(kind: str, row, field, fields) -> object:
    if not isinstance(field, str) or _norm(field).replace("-", "_") not in fields:
        close = difflib.get_close_matches(str(field).strip().lower(), fields, n=3, cutoff=0.4)
        hint = f"did you mean {', '.join(close)}?" if close else f"use one of {', '.join(fields)}"
        raise UnknownNameError(f"field '{str(field).strip()}' is unknown: {hint}",
                               arg="field", value=field)
    key = _norm(field).replace("-", "_")
    value = getattr(row, key)
    if value is None:
        raise UnknownNameError(f"{row.id} has no published {key}", arg="field", value=field)
    return value


def gpu_field(name: str, field: str):
    """One field of a GPU: ``gpu_field('a100-sxm-80gb', 'memory_gb')`` -> 80.0.

    >>> gpu_field("a100-sxm-80gb", "memory_gb")
    80.0
    """
    return _field("gpu", gpu(name), field, GPU_FIELDS)


def model_field(name: str, field: str):
    """One field of a model: ``model_field('llama-3-8b', 'kv_heads')`` -> 8.

    >>> model_field("llama-3-8b", "kv_heads")
    8
    """
    return _field("model", model(name), field, MODEL_FIELDS)


def gpu_ids() -> list[str]:
    """GPU ids in catalog order."""
    return list(gpu_catalog())


def model_ids() -> list[str]:
    """Model ids in catalog order."""
    return list(model_catalog())


# ---------------------------------------------------------------------------------------
# Example GPU prices (formulas/data/gpu_prices.csv)
# ---------------------------------------------------------------------------------------

#: Kinds of price in ``gpu_prices.csv``: rented per GPU-hour, or bought per GPU.
PRICE_TYPES = {
    "cloud_on_demand": "gpu_hour",  # pay-as-you-go list or market price
    "cloud_reserved": "gpu_hour",  # capacity blocks, reservations
    "purchase_new": "gpu",  # list/MSRP/street price of a new GPU (GPU only, no server)
    "purchase_used": "gpu",  # secondary market
}


class GpuPrice(_Row):
    """One dated example price of a GPU: an illustration, never a quote."""

    id: str
    gpu_id: str  #: id in gpus.csv
    provider: str
    offer: str  #: the product or instance the price is for
    price_type: str  #: one of PRICE_TYPES
    usd: float  #: US dollars per ``unit``
    unit: str  #: ``gpu_hour`` (rent) or ``gpu`` (purchase)
    date: str  #: when the price applied (as precise as the source allows)
    source: str
    confidence: str
    notes: Optional[str] = None

    @field_validator("price_type")
    @classmethod
    def _known_type(cls, value):
        if value not in PRICE_TYPES:
            raise ValueError(f"price_type must be one of {sorted(PRICE_TYPES)}")
        return value


@functools.cache
def gpu_prices() -> tuple[GpuPrice, ...]:
    """Example GPU prices from ``gpu_prices.csv``, in file order (loaded once).

    Each row is a dated public price (cloud per GPU-hour, or purchase per GPU) with its
    source and confidence. They illustrate orders of magnitude; they are not quotes.

    Raises
    ------
    CatalogError
        A row breaks the schema, names an unknown GPU id, or has a unit that does not
        match its price type.

    Examples
    --------
    >>> [p.usd for p in gpu_prices() if p.id == "aws-p5-cb-2024"]
    [4.916]
    """
    rows = tuple(_load("gpu_prices.csv", GpuPrice).values())
    known = gpu_catalog()
    for row in rows:
        if row.gpu_id not in known:
            raise CatalogError(f"gpu_prices.csv: '{row.id}' names unknown gpu_id '{row.gpu_id}'")
        if PRICE_TYPES[row.price_type] != row.unit:
            raise CatalogError(f"gpu_prices.csv: '{row.id}' has unit '{row.unit}', expected "
                               f"'{PRICE_TYPES[row.price_type]}' for {row.price_type}")
    return rows


__all__ += ["PRICE_TYPES", "GpuPrice", "gpu_prices"]
