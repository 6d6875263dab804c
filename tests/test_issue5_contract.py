"""The Excel signatures of the serving, fine-tuning, money, energy, calendar and decoding
functions, as their issue states them: later work may add optional trailing arguments,
never reorder, rename or change a default."""

import inspect

import pytest

import llm_budget_planner.addin.udfs as udfs

E = inspect.Parameter.empty
CONTRACT = {
    "PREFILL_SECONDS": [("P", E), ("prompt_tokens", E), ("batch", E), ("gpu", E), ("tp", 1)],
    "DECODE_TOKENS_PER_S": [("P", E), ("bytes_per_param", E), ("mem_bw_GBps", E), ("batch", 1)],
    "SERVE_TOKENS_PER_S": [("P", E), ("bytes_per_param", E), ("gpu", E), ("batch", E),
                           ("prompt_tokens", E), ("output_tokens", E), ("tp", 1)],
    "SERVE_GPUS": [("P", E), ("bytes_per_param", E), ("gpu", E), ("requests_per_s", E),
                   ("prompt_tokens", E), ("output_tokens", E), ("max_batch", None), ("tp", 1)],
    "SERVE_MAX_BATCH": [("P", E), ("bytes_per_param", E), ("gpu", E), ("prompt_tokens", E),
                        ("output_tokens", E), ("kv_bytes_per_token", E), ("tp", 1)],
    "COST_PER_M_TOKENS": [("tokens_per_s", E), ("usd_per_gpu_hour", E)],
    "KV_BYTES_PER_TOKEN": [("model", E), ("bytes", 2)],
    "FINETUNE_MEM_GB": [("P", E), ("method", E), ("rank", 16), ("L", None), ("h", None),
                        ("n_adapted_per_layer", 2), ("seq", None), ("batch", 1)],
    "CLOUD_COST_USD": [("gpu_hours", E), ("usd_per_gpu_hour", E)],
    "TCO_PER_GPU_HOUR": [("unit_price_usd", E), ("years", E), ("tdp_w", E), ("pue", E),
                         ("usd_per_kwh", E), ("utilisation", 1), ("server_overhead", 0.3)],
    "BUY_VS_RENT_BREAKEVEN_MONTHS": [("unit_price_usd", E), ("usd_per_gpu_hour", E),
                                     ("tdp_w", E), ("pue", E), ("usd_per_kwh", E),
                                     ("utilisation", 1), ("server_overhead", 0.3)],
    "TRAIN_COST_USD": [("P", E), ("T", E), ("gpu", E), ("N", E), ("MFU", E),
                       ("usd_per_gpu_hour", E)],
    "TRAIN_ENERGY_MWH": [("gpu_hours", E), ("tdp_w", E), ("pue", 1)],
    "TRAIN_CO2_T": [("mwh", E), ("kg_co2_per_kwh", E)],
    "SAMPLE_PROBS": [("logits", E), ("temperature", 1), ("top_k", 0), ("top_p", 1)],
    "TRAIN_DAYS_RANGE": [("P", E), ("T", E), ("N", E), ("TFLOPS", E), ("mfu_low", E),
                         ("mfu_high", E), ("goodput", 0.9)],
    "GOODPUT": [("N", E)],
}
GROUPS = {"Inference": ["PREFILL_SECONDS", "SERVE_TOKENS_PER_S", "SERVE_GPUS",
                        "SERVE_MAX_BATCH", "COST_PER_M_TOKENS", "KV_BYTES_PER_TOKEN"],
          "Fine-tuning": ["FINETUNE_MEM_GB", "FINETUNE_PARAMS", "FINETUNE_CHECKPOINT_GB"],
          "Money and energy": ["CLOUD_COST_USD", "TCO_PER_GPU_HOUR", "TRAIN_COST_USD",
                               "BUY_VS_RENT_BREAKEVEN_MONTHS", "TRAIN_ENERGY_MWH", "TRAIN_CO2_T",
                               "GPU_PRICE", "GPU_PRICE_LIST"],
          "Decoding": ["SAMPLE_PROBS"]}


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_signature(name):
    params = list(inspect.signature(getattr(udfs, name)).parameters.values())
    expected = CONTRACT[name]
    assert [(p.name, p.default) for p in params[: len(expected)]] == expected
    assert all(p.default is not E for p in params[len(expected):])


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_groups(group):
    for name in GROUPS[group]:
        assert getattr(udfs, name).__udf__.group == group


def test_table_functions_do_not_broadcast():
    for name in ("SAMPLE_PROBS", "TRAIN_DAYS_RANGE", "GPU_PRICE_LIST"):
        assert getattr(udfs, name).__udf__.broadcast is False
    assert udfs.SAMPLE_PROBS.__udf__.args[0].kind == "vector"
