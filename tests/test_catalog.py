"""The catalogs: schema, provenance, and figures checked against their primary sources."""

import re

import pytest

from llm_budget_planner import formulas as core
from llm_budget_planner.formulas import catalog
from llm_budget_planner.formulas.errors import UnknownNameError

# Dense BF16 (FP16 for V100) tensor TFLOPS and memory as printed on the vendors' datasheets.
# Where the datasheet headline is with 2:4 sparsity, the dense value is half of it.
DATASHEET = {
    # id: (dense TFLOPS, sparse headline or None, memory GB, memory bandwidth GB/s)
    "v100-sxm2-32gb": (125, None, 32, 900),       # V100 datasheet: 125 TFLOPS tensor
    "a100-sxm-80gb": (312, 624, 80, 2039),       # A100 datasheet: 312/624*, 2,039 GB/s
    "a100-sxm-40gb": (312, 624, 40, 1555),       # A100 datasheet: 1,555 GB/s
    "h100-sxm": (989.4, 1979, 80, 3350),         # H100 datasheet: 1,979* TFLOPS, 3.35 TB/s
    "h100-pcie": (756.5, 1513, 80, 2000),        # H100 datasheet PCIe: 1,513* TFLOPS, 2 TB/s
    "h200-sxm": (989.4, 1979, 141, 4800),        # H200 page: 141 GB, 4.8 TB/s
    "b200": (2250, 4500, 180, 7700),             # HGX B200: 4.5 PF BF16* per GPU
    "l40s": (362.05, 733, 48, 864),              # L40S datasheet: 362.05 | 733*
    "mi300x": (1307.4, 2614.9, 192, 5300),       # AMD MI300X data sheet
    "tpu-v5e": (197, None, 16, 819),             # Google Cloud TPU v5e docs
    "tpu-v5p": (459, None, 95, 2765),            # Google Cloud TPU v5p docs
}


@pytest.mark.parametrize("gpu_id", sorted(DATASHEET))
def test_gpu_figures_match_datasheets(gpu_id):
    dense, sparse, memory, bandwidth = DATASHEET[gpu_id]
    row = core.gpu(gpu_id)
    assert row.tflops_bf16 == pytest.approx(dense)
    if sparse is not None:  # the catalog holds the dense half, never the sparse headline
        assert row.tflops_bf16 == pytest.approx(sparse / 2, rel=0.015)  # L40S: 362.05 vs 733/2
    assert row.memory_gb == memory
    assert row.mem_bw_gbps == bandwidth


def test_every_gpu_row_has_provenance():
    for row in catalog.gpu_catalog().values():
        assert row.source.strip() and row.confidence in {"high", "medium", "low"}
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row.retrieved), row.id
        assert row.tflops_fp8 is None or row.tflops_fp8 >= row.tflops_bf16
        assert 0 < row.tflops_bf16 < 10_000 and 0 < row.memory_gb < 1_000


def test_every_model_row_has_provenance():
    for row in catalog.model_catalog().values():
        assert row.source.strip() and row.params_basis.strip()
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row.retrieved), row.id
        assert row.active_params <= row.params
        assert row.heads % row.kv_heads == 0
        assert row.head_dim or row.hidden % row.heads == 0, row.id  # else head_dim is given


# Exact counts read from released checkpoints (safetensors metadata total / 2 bytes in bf16).
PUBLISHED_EXACT = {
    "llama-2-7b": 6_738_415_616,
    "llama-3-8b": 8_030_261_248,
    "qwen2.5-7b": 7_615_616_512,
}
# Headline counts from papers and model cards, with the tolerance their rounding allows.
HEADLINE = {
    "gpt-3-175b": (175.0e9, 0.005),      # Brown et al. 2020 Table 2.1
    "llama-2-13b": (13e9, 0.01),         # Touvron et al. 2023
    "llama-2-70b": (70e9, 0.02),
    "llama-3-70b": (70e9, 0.01),         # Llama Team 2024 Table 3
    "llama-3.1-405b": (405e9, 0.005),
    "mistral-7b": (7.3e9, 0.01),         # Jiang et al. 2023: "7.3B"
    "mixtral-8x7b": (46.7e9, 0.002),     # Mixtral model card: 46.7B total
    "qwen2.5-72b": (72.7e9, 0.001),      # Qwen2.5 model card: 72.7B
    # xai-org/grok-1 README: "314B"; the counting rule gives 315.7B (tied embeddings); the
    # README states neither its rounding nor what it counts.
    "grok-1": (314e9, 0.01),
    "deepseek-v3": (671e9, 0.001),       # DeepSeek-V3 report: 671B total
}


@pytest.mark.parametrize("model_id", sorted(PUBLISHED_EXACT))
def test_exact_counts(model_id):
    assert core.model(model_id).params == PUBLISHED_EXACT[model_id]


@pytest.mark.parametrize("model_id", sorted(HEADLINE))
def test_headline_counts(model_id):
    value, tol = HEADLINE[model_id]
    assert core.model(model_id).params == pytest.approx(value, rel=tol)


ARCH_MODELS = ["llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3-8b", "llama-3-70b",
               "llama-3.1-405b", "mistral-7b", "mixtral-8x7b", "qwen2.5-7b", "qwen2.5-72b"]


@pytest.mark.parametrize("model_id", ARCH_MODELS)
def test_catalog_counts_agree_with_the_formula(model_id):
    m = core.model(model_id)
    args = (m.layers, m.hidden, m.vocab, m.ffn, m.heads, m.kv_heads, m.experts,
            m.experts_per_token, m.gated_ffn, m.tied_embeddings, m.qkv_bias)
    assert core.llm_params_arch(*args) == m.params
    assert core.llm_active_params(*args) == m.active_params


def test_mixtral_active_matches_paper():
    # Jiang et al. 2024: "13B active parameters" per token (model card: 12.9B).
    assert core.model("mixtral-8x7b").active_params == pytest.approx(12.9e9, rel=0.005)


def test_deepseek_active_matches_report():
    # DeepSeek-V3 report: 37B activated per token.
    assert core.model("deepseek-v3").active_params == pytest.approx(37e9, rel=0.02)


def test_lookup_is_forgiving_and_errors_name_close_ids():
    assert core.gpu("  H100 ").id == "h100-sxm"
    assert core.gpu("NVIDIA A100 SXM4 80GB").id == "a100-sxm-80gb"
    assert core.model("LLAMA-3-8B").id == "llama-3-8b"
    with pytest.raises(UnknownNameError, match="did you mean .*h100-sxm"):
        core.gpu("h100-sxn")
    with pytest.raises(UnknownNameError, match="has no published tdp_w"):
        core.gpu_field("tpu-v5e", "tdp_w")


def test_catalog_is_loaded_lazily_and_once():
    catalog.gpu_catalog.cache_clear()
    assert catalog.gpu_catalog.cache_info().currsize == 0
    first = catalog.gpu_catalog()
    assert catalog.gpu_catalog() is first
