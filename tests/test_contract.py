"""The Excel contract of the core issue is binding: names, argument order and defaults.

Later work may add functions and optional trailing arguments, never reorder or rename.
This test pins the contract so a change that breaks a user's sheet cannot land.
"""

import inspect

import pytest

import llm_budget_planner.addin.udfs as udfs
from llm_budget_planner.addin._excel import REGISTRY

E = inspect.Parameter.empty
CONTRACT = {
    "LLM_PARAMS": [("L", E), ("h", E), ("V", E), ("S", 0)],
    "LLM_PARAMS_APPROX": [("L", E), ("h", E)],
    "LLM_PARAMS_ARCH": [("L", E), ("h", E), ("V", E), ("ffn", E), ("heads", E), ("kv_heads", E),
                        ("experts", 1), ("experts_per_token", 1), ("gated_ffn", True),
                        ("tied_embeddings", False), ("qkv_bias", False)],
    "LLM_ACTIVE_PARAMS": [("L", E), ("h", E), ("V", E), ("ffn", E), ("heads", E),
                          ("kv_heads", E), ("experts", 1), ("experts_per_token", 1),
                          ("gated_ffn", True), ("tied_embeddings", False), ("qkv_bias", False)],
    "TRAIN_FLOPS": [("P", E), ("T", E), ("flops_per_param_token", 6)],
    "ITER_FLOPS": [("B", E), ("S", E), ("L", E), ("h", E), ("V", E), ("recompute", True)],
    "TRAIN_ITERS": [("T", E), ("B", E), ("S", E)],
    "MFU": [("flops_per_iter", E), ("iter_seconds", E), ("N", E), ("peak_TFLOPS", E)],
    "TRAIN_DAYS": [("P", E), ("T", E), ("N", E), ("TFLOPS", E), ("MFU", E),
                   ("flops_per_param_token", 8)],
    "GPU_HOURS": [("P", E), ("T", E), ("TFLOPS", E), ("MFU", E), ("flops_per_param_token", 8)],
    "GPU_COUNT_TIME": [("P", E), ("T", E), ("days", E), ("TFLOPS", E), ("MFU", E),
                       ("flops_per_param_token", 8), ("round_up", True)],
    "GPU_COUNT_MEM": [("P", E), ("bytes_per_param", 18), ("activation_factor", 1.25),
                      ("gpu_memory_GB", 80), ("round_up", True)],
    "TRAIN_MEM_GB": [("P", E), ("bytes_per_param", 20)],
    "MODEL_STATE_GB": [("P", E), ("weight_bytes", E), ("grad_bytes", E), ("optimizer_bytes", 12)],
    "INFER_MEM_GB": [("P", E), ("bytes_per_param", 2), ("overhead", 1.2)],
    "WEIGHTS_GB": [("P", E), ("precision", E)],
    "BYTES_PER_PARAM": [("precision", E)],
    "ACT_MEM_GB": [("L", E), ("b", E), ("s", E), ("h", E), ("a", E), ("bytes", 2), ("tp", 1),
                   ("sequence_parallel", False), ("recompute", "none")],
    "KV_CACHE_GB": [("L", E), ("kv_heads", E), ("head_dim", E), ("seq_len", E), ("batch", E),
                    ("bytes", 2)],
    "ZERO_MEM_GB": [("P", E), ("stage", E), ("dp", E), ("optimizer_bytes", 12)],
    "DP_COMM_GB": [("P", E), ("N", E), ("bytes", 2)],
    "TP_COMM_GB": [("B", E), ("T", E), ("E", E), ("G", E), ("bytes", 2)],
    "COMM_SECONDS": [("GB", E), ("bandwidth", E), ("unit", "GB/s")],
    "PP_BUBBLE": [("stages", E), ("microbatches", E), ("interleave", 1)],
    "CHINCHILLA_TOKENS": [("P", E), ("tokens_per_param", 20)],
    "DECODE_TOKENS_PER_S": [("P", E), ("bytes_per_param", E), ("mem_bw_GBps", E), ("batch", 1)],
    "LORA_PARAMS": [("d_model", E), ("rank", E), ("n_matrices", E)],
    "GPU_SPEC": [("gpu", E), ("field", E)],
    "MODEL_SPEC": [("model", E), ("field", E)],
    "GPU_LIST": [],
    "MODEL_LIST": [],
}

GPU_IDS = ["v100-sxm2-32gb", "a100-sxm-40gb", "a100-sxm-80gb", "h100-sxm", "h100-pcie",
           "h200-sxm", "b200", "rtx-4090", "l40s", "mi300x", "mi325x", "gaudi3", "tpu-v5e",
           "tpu-v5p"]
MODEL_IDS = ["gpt-3-175b", "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3-8b",
             "llama-3-70b", "llama-3.1-405b", "mistral-7b", "mixtral-8x7b", "qwen2.5-7b",
             "qwen2.5-72b", "grok-1", "deepseek-v3"]


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_contract_signature(name):
    func = getattr(udfs, name)
    params = list(inspect.signature(func).parameters.values())
    expected = CONTRACT[name]
    # Leading arguments exactly as contracted; anything after must be optional.
    assert [(p.name, p.default) for p in params[: len(expected)]] == expected
    assert all(p.default is not E for p in params[len(expected):])
    assert name in REGISTRY


def test_catalog_ids_are_contract():
    gpus = [row[0] for row in udfs.GPU_LIST()]
    models = [row[0] for row in udfs.MODEL_LIST()]
    assert set(GPU_IDS) <= set(gpus)
    assert set(MODEL_IDS) <= set(models)
    assert gpus[: len(GPU_IDS)] == GPU_IDS and models[: len(MODEL_IDS)] == MODEL_IDS


@pytest.mark.parametrize("field", ["tflops_bf16", "tflops_fp8", "memory_gb", "mem_bw_gbps",
                                   "interconnect_gbps", "tdp_w"])
def test_gpu_fields_exist(field):
    value = udfs.GPU_SPEC("h100-sxm", field)
    assert isinstance(value, float) and value > 0


@pytest.mark.parametrize("field", ["layers", "hidden", "vocab", "ffn", "heads", "kv_heads",
                                   "params", "active_params"])
def test_model_fields_exist(field):
    value = udfs.MODEL_SPEC("llama-3-70b", field)
    assert isinstance(value, (int, float)) and value > 0
