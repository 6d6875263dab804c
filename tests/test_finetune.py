"""Fine-tuning memory and trainable parameters against the QLoRA and LoRA papers."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llm_budget_planner.addin.udfs as x
from llm_budget_planner import formulas as core
from llm_budget_planner.formulas.assumptions import assumption

SETTINGS = settings(max_examples=150, deadline=None)

# LLaMA-65B (Touvron et al. 2023, arXiv 2302.13971, Table 2: 65.2B, dim 8192, 80 layers;
# FFN 22016 in the released config). QLoRA adapts all seven linear layers with r=64
# (Dettmers et al. 2023, arXiv 2305.14314, §5 and Appendix B).
P65, L65, H65, FFN65 = 65.2e9, 80, 8192, 22016
N65 = 4 + 3 * (H65 + FFN65) / (2 * H65)  # q, k, v, o square; gate, up, down h x ffn


def test_all_linear_layers_as_square_equivalents():
    assert N65 == 9.53125
    exact = 64 * (4 * 2 * H65 + 3 * (H65 + FFN65)) * L65  # r (d_in + d_out) per matrix
    assert x.FINETUNE_PARAMS(P65, "qlora", 64, L65, H65, N65) == exact == 799_539_200


def test_qlora_headline_65b():
    """QLoRA abstract: fine-tuning a 65B model needs more than 780 GB in 16 bits and fits
    under 48 GB with QLoRA (one 48 GB GPU)."""
    full = x.FINETUNE_MEM_GB(P65, "full")
    assert full > 780
    assert full == pytest.approx(16 * 65.2, rel=1e-12)  # ZeRO's 2 + 2 + 12 bytes
    for seq in (512, 2048):
        q = x.FINETUNE_MEM_GB(P65, "qlora", 64, L65, H65, N65, seq)
        assert q < 48, seq
    q = x.FINETUNE_MEM_GB(P65, "qlora", 64, L65, H65, N65, 2048)
    base = P65 * (4 + 0.127) / 8  # NF4 + double-quantised constants (QLoRA §3)
    adapters = 799_539_200 * 12  # BF16 weight and gradient, two FP32 Adam moments
    act = 2 * 2048 * 1 * H65 * L65  # gradient checkpointing: one 16-bit input per layer
    assert q == pytest.approx((base + adapters + act) / 1e9, rel=1e-12)
    assert q == pytest.approx(45.91, abs=0.01)
    # LoRA with a 16-bit base does not fit a 48 GB GPU, QLoRA does.
    assert x.FINETUNE_MEM_GB(P65, "lora", 64, L65, H65, N65, 2048) > 130


def test_qlora_double_quantisation_figure():
    # QLoRA §3: 8/64 + 32/(64*256) = 0.127 bits per parameter (from 0.5 without DQ).
    assert 8 / 64 + 32 / (64 * 256) == pytest.approx(assumption("double_quant_bits"), abs=5e-4)


def test_lora_gpt3_figures():
    """LoRA §4.2: GPT-3 175B, r=4 on W_q and W_v: 18.9M trainable parameters (Table 5: 18M),
    checkpoint 35MB instead of 350GB (~10,000x), VRAM 350GB during training."""
    n = x.FINETUNE_PARAMS(175e9, "lora", 4, 96, 12288, 2)
    assert n == 18_874_368 == x.LORA_PARAMS(12288, 4, 192)
    ckpt = x.FINETUNE_CHECKPOINT_GB(175e9, "lora", 4, 96, 12288, 2)
    assert ckpt * 1e9 / 2**20 == pytest.approx(36.0, abs=0.05)  # 36 MiB: "35MB"
    full = x.FINETUNE_CHECKPOINT_GB(175e9, "full")
    assert full == 350
    assert full / ckpt == pytest.approx(9272, abs=1)  # "roughly 10,000x"
    assert x.FINETUNE_MEM_GB(175e9, "lora", 4, 96, 12288, 2) == pytest.approx(350.23, abs=0.01)


@SETTINGS
@given(st.floats(1e9, 1e12), st.integers(8, 128), st.integers(1024, 16384),
       st.integers(1, 256), st.floats(0.5, 12), st.one_of(st.none(), st.integers(128, 8192)),
       st.integers(1, 16))
def test_qlora_below_lora_below_full(P, L, h, rank, n, seq, batch):
    if 2 * n * L * h * min(rank, h) >= P:
        return
    args = (min(rank, h), L, h, n, seq, batch)
    q = core.finetune_mem_gb(P, "qlora", *args)
    lo = core.finetune_mem_gb(P, "lora", *args)
    f = core.finetune_mem_gb(P, "full", *args)
    assert q < lo < f


@SETTINGS
@given(st.floats(1e9, 1e12), st.integers(1, 64), st.integers(1, 64))
def test_more_rank_more_memory(P, r1, r2):
    lo, hi = sorted((r1, r2))
    a = core.finetune_mem_gb(P, "lora", lo, 32, 4096, 2)
    b = core.finetune_mem_gb(P, "lora", hi, 32, 4096, 2)
    assert b >= a


def test_method_names_and_defaults():
    assert x.FINETUNE_MEM_GB(7e9, "QLoRA", None, 32, 4096) == x.FINETUNE_MEM_GB(7e9, "qlora", 16, 32, 4096, 2)
    assert x.FINETUNE_MEM_GB(7e9, " Full ") == pytest.approx(112.0)


@pytest.mark.parametrize("call,start", [
    (lambda: x.FINETUNE_MEM_GB(65, "qlora", 64, 80, 8192), "#NUM! P is a raw parameter"),
    (lambda: x.FINETUNE_MEM_GB(65e9, "prefix", 64, 80, 8192), "#N/A method 'prefix' is unknown"),
    (lambda: x.FINETUNE_MEM_GB(65e9, "lora"), "#VALUE! lora needs L and h"),
    (lambda: x.FINETUNE_MEM_GB(65e9, "full", 16, None, None, 2, 2048), "#VALUE! activations need L"),
    (lambda: x.FINETUNE_MEM_GB(65e9, "lora", 9000, 80, 8192), "#NUM! rank must not exceed h"),
    (lambda: x.FINETUNE_MEM_GB(1e9, "lora", 4096, 80, 8192), "#NUM! the adapters"),
    (lambda: x.FINETUNE_MEM_GB(65e9, "lora", 1.5, 80, 8192), "#NUM! rank must be a whole"),
    (lambda: x.FINETUNE_CHECKPOINT_GB(65e9, "full", 16, None, None, 2, "fp64"), "#N/A bytes: precision 'fp64'"),
])
def test_bad_input(call, start):
    out = call()
    assert isinstance(out, str) and out.startswith(start) and "\n" not in out, out
