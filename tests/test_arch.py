"""Model ids wherever a model is described: the 2026 catalogs, exact counts of modern
architectures, MoE priced on active parameters and stored on total ones, KV caches by
attention design, MAX_CONTEXT_TOKENS and ``build.py --add-model``."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llm_budget_planner import formulas as core
from llm_budget_planner.addin import udfs
from llm_budget_planner.formulas import catalog
from llm_budget_planner.formulas.arch import count_params, resolve_model
from llm_budget_planner.formulas.hf_config import row_from_hf_config

ROOT = Path(__file__).resolve().parents[1]
HF = ROOT / "tests" / "data" / "hf_configs"

NEW_GPUS = ["h800", "h20", "b300", "gb200", "gb300", "mi355x", "tpu-v6e", "tpu-v7", "trn2"]
NEW_MODELS = ["deepseek-r1", "qwen3-8b", "qwen3-32b", "qwen3-30b-a3b", "qwen3-235b-a22b",
              "llama-3.1-8b", "llama-3.1-70b", "llama-4-scout", "llama-4-maverick",
              "gpt-oss-20b", "gpt-oss-120b", "kimi-k2", "glm-4.5", "mistral-large-2411",
              "nemotron-4-15b", "nemotron-4-340b", "bloom-176b", "falcon-180b", "mpt-7b",
              "mpt-70b"]
MOE = [m.id for m in catalog.model_catalog().values() if m.experts > 1]


# ----------------------------------------------------------------------------- catalogs

def test_binding_ids_and_fields():
    assert set(NEW_GPUS) <= set(core.gpu_ids())
    assert set(NEW_MODELS) <= set(core.model_ids())
    for f in ("tflops_fp4", "scaleup_gpus", "scaleout_gbps"):
        assert f in catalog.GPU_FIELDS
    for f in ("head_dim", "moe_ffn", "shared_experts", "dense_layers", "dense_ffn", "attention",
              "kv_lora_rank", "qk_rope_head_dim", "sliding_window", "sliding_layers",
              "weight_format"):
        assert f in catalog.MODEL_FIELDS


@pytest.mark.parametrize("gpu_id", NEW_GPUS)
def test_new_gpu_rows_are_sourced_and_dense(gpu_id):
    g = core.gpu(gpu_id)
    assert g.source.strip() and g.retrieved == "2026-11-29" and g.confidence
    assert g.tflops_fp8 is None or g.tflops_fp8 >= g.tflops_bf16
    assert g.tflops_fp4 is None or g.tflops_fp4 >= (g.tflops_fp8 or 0)
    assert g.scaleup_gpus and g.scaleup_gpus >= 8


def test_gpu_figures_from_datasheets():
    # H800: H100 SXM silicon, NVLink cut to 400 GB/s; GB200 NVL72: 72 GPUs per NVLink
    # domain, dense BF16 2.5 PF (half of the 5 PF sparse headline); B200 FP4 9 PF dense.
    assert core.gpu("h800").tflops_bf16 == core.gpu("h100-sxm").tflops_bf16
    assert core.gpu("h800").interconnect_gbps == 400
    assert core.gpu("gb200").scaleup_gpus == 72 and core.gpu("gb200").tflops_bf16 == 2500
    assert core.gpu("b200").tflops_fp4 == 9000 and core.gpu("h100-sxm").scaleup_gpus == 8
    assert core.gpu("mi355x").memory_gb == 288
    assert core.gpu("GB200-NVL72").id == "gb200" and core.gpu("trainium2").id == "trn2"


# Exact totals of released checkpoints (safetensors totals, main model only).
PUBLISHED_EXACT = {
    "qwen3-8b": 8_190_735_360,
    "qwen3-32b": 32_762_123_264,
    "qwen3-30b-a3b": 30_532_122_624,
    "qwen3-235b-a22b": 235_093_634_560,
    "gpt-oss-20b": 20_914_757_184,
    "gpt-oss-120b": 116_829_156_672,
    "bloom-176b": 176_247_271_424,
    "llama-3.1-8b": 8_030_261_248,
    "llama-3.1-70b": 70_553_706_496,
}
# Model-card headlines (total, active) with the tolerance their rounding allows.
CARD = {
    "deepseek-r1": (671e9, 37e9, 0.02),
    "qwen3-30b-a3b": (30.5e9, 3.3e9, 0.02),
    "qwen3-235b-a22b": (235e9, 22e9, 0.01),
    "llama-4-scout": (109e9, 17e9, 0.02),        # card counts the vision encoder too
    "llama-4-maverick": (400e9, 17e9, 0.02),
    "kimi-k2": (1.0e12, 32e9, 0.03),              # "1T total, 32B activated"
    "glm-4.5": (355e9, 32e9, 0.06),               # card counts the MTP layer, active excl. embedding
    "mistral-large-2411": (123e9, 123e9, 0.005),
    "nemotron-4-15b": (15.6e9, 15.6e9, 0.01),
    "nemotron-4-340b": (341e9, 341e9, 0.005),
    "falcon-180b": (180e9, 180e9, 0.01),
    "mpt-7b": (6.7e9, 6.7e9, 0.01),
}


@pytest.mark.parametrize("model_id", sorted(PUBLISHED_EXACT))
def test_exact_counts_of_checkpoints(model_id):
    assert core.model(model_id).params == PUBLISHED_EXACT[model_id]
    assert udfs.LLM_PARAMS_ARCH(model_id) == PUBLISHED_EXACT[model_id]


@pytest.mark.parametrize("model_id", sorted(CARD))
def test_card_counts(model_id):
    total, active, tol = CARD[model_id]
    m = core.model(model_id)
    assert m.params == pytest.approx(total, rel=tol)
    assert m.active_params == pytest.approx(active, rel=max(tol, 0.1 if m.experts > 1 else tol))


@pytest.mark.parametrize("model_id", core.model_ids())
def test_counting_rule_reproduces_every_catalog_row(model_id):
    m = resolve_model(model_id)
    assert (m.counted_total, m.counted_active) == (core.model(model_id).params,
                                                   core.model(model_id).active_params)


def test_deepseek_v3_counts_by_hand():
    # arXiv 2412.19437 and config.json: 61 layers (3 dense, 58 MoE), h 7168, MLA with
    # q_lora 1536, kv_lora 512, qk 128+64, v 128; 256 routed + 1 shared expert of 2048.
    h, heads = 7168, 128
    mla = (h * 1536 + 1536 + 1536 * heads * 192 + h * 576 + 512 + 512 * heads * 256
           + heads * 128 * h)
    expert = 3 * h * 2048
    moe = h * 256 + 256 + 257 * expert
    total = 61 * (mla + 2 * h) + 3 * 3 * h * 18432 + 58 * moe + 2 * 129280 * h + h
    active = total - 58 * 248 * expert
    assert core.model("deepseek-v3").params == total == 671_026_419_200
    assert core.model("deepseek-v3").active_params == active


def test_llm_params_arch_new_arguments():
    # Qwen3-32B: head_dim 128 although hidden/heads = 80 (QK-norm adds 2 x 128 per layer,
    # which only the model id carries): 32,762,123,264 - 64 x 256.
    assert udfs.LLM_PARAMS_ARCH(64, 5120, 151936, 25600, 64, 8, 1, 1, True, False, False,
                                128) == 32_762_123_264 - 64 * 256
    # Mixtral-style numbers keep today's meaning.
    assert udfs.LLM_ACTIVE_PARAMS(32, 4096, 32000, 14336, 32, 8, 8, 2) == 12_879_925_248
    # Shared experts and leading dense layers (DeepSeek-V3 shape with GQA-free MHA).
    t = udfs.LLM_PARAMS_ARCH(61, 7168, 129280, 2048, 128, 128, 256, 8, True, False, False, 0,
                             1, 3, 18432)
    total, _ = count_params(61, 7168, 129280, 18432, 128, 128, 256, 8, moe_ffn=2048,
                            shared_experts=1, dense_layers=3)
    assert t == float(total)
    assert udfs.LLM_ACTIVE_PARAMS("qwen3-235b-a22b") == 22_190_763_520
    assert udfs.LLM_PARAMS_ARCH(32, "", 32000, 11008, 32, 32).startswith("#VALUE! h is empty")


# --------------------------------------------------- MoE: compute on active, memory on total

COMPUTE = [
    (udfs.TRAIN_FLOPS, (14.8e12,)),
    (udfs.TRAIN_DAYS, (14.8e12, 2048, "h800", 0.4, 6)),
    (udfs.GPU_HOURS, (14.8e12, "h800", 0.4, 6)),
    (udfs.GPU_COUNT_TIME, (14.8e12, 60, "h800", 0.4, 6)),
]
MEMORY = [
    (udfs.GPU_COUNT_MEM, ()),
    (udfs.TRAIN_MEM_GB, ()),
    (udfs.MODEL_STATE_GB, (2, 2)),
    (udfs.INFER_MEM_GB, ("mxfp4",)),
    (udfs.WEIGHTS_GB, ("fp8",)),
    (udfs.ZERO_MEM_GB, (3, 64)),
    (udfs.DP_COMM_GB, (64,)),
]


@pytest.mark.parametrize("model_id", MOE)
def test_moe_compute_follows_active_and_memory_follows_total(model_id):
    m = core.model(model_id)
    for fn, rest in COMPUTE:
        assert fn(model_id, *rest) == fn(m.active_params, *rest), fn.__name__
    for fn, rest in MEMORY:
        assert fn(model_id, *rest) == fn(m.params, *rest), fn.__name__
    assert m.active_params < m.params


def test_issue_examples():
    # DeepSeek-V3 report (arXiv 2412.19437, Table 1): 2.664M H800 GPU-hours of pre-training
    # on 14.8T tokens. At 40% MFU on the dense BF16 peak the active-parameter estimate lands
    # within 15%; the total count was 21x too high.
    hours = udfs.GPU_HOURS("deepseek-v3", 14.8e12, "h800", 0.4, 6)
    assert hours == pytest.approx(2.664e6, rel=0.15)
    assert udfs.GPU_HOURS(671e9, 14.8e12, "h100-sxm", 0.4) / 2.664e6 > 15
    assert udfs.GPU_COUNT_MEM("qwen3-235b-a22b") == math.ceil(235_093_634_560 * 18 * 1.25 / 80e9)
    assert udfs.INFER_MEM_GB("gpt-oss-120b", "mxfp4") == pytest.approx(
        116_829_156_672 * 4.25 / 8 * 1.2 / 1e9)
    assert udfs.KV_BYTES_PER_TOKEN("deepseek-v3") == 61 * (512 + 64) * 2
    assert udfs.TRAIN_DAYS("llama-3.1-405b", 15.6e12, 16384, "h100-sxm", 0.4) == \
        udfs.TRAIN_DAYS(405_853_388_800, 15.6e12, 16384, 989.4, 0.4)


def test_decode_reads_active_experts_at_batch_one_and_all_at_large_batch():
    m = resolve_model("mixtral-8x7b")
    one = udfs.DECODE_TOKENS_PER_S("mixtral-8x7b", 2, "h100-sxm")
    assert one == udfs.DECODE_TOKENS_PER_S(m.active_params, 2, "h100-sxm")
    big = udfs.DECODE_TOKENS_PER_S("mixtral-8x7b", 2, "h100-sxm", 256)
    assert big == pytest.approx(udfs.DECODE_TOKENS_PER_S(m.total_params, 2, "h100-sxm", 256))
    # top-2 of 8 at batch 2: 8 (1 - (6/8)^2) = 3.5 experts expected per layer
    assert float(m.experts_read(2)) == pytest.approx(3.5)


def test_custom_model_range_and_number_meaning_unchanged():
    rows = [["layers", 32], ["hidden", 4096], ["heads", 32], ["ffn", 11008], ["vocab", 32000],
            ["", ""]]
    assert udfs.TRAIN_DAYS(rows, 2e12, 64, "h100-sxm", 0.4) == \
        udfs.TRAIN_DAYS(6_738_415_616, 2e12, 64, 989.4, 0.4)
    moe = rows[:4] + [["vocab", 32000], ["experts", 8], ["experts_per_token", 2],
                      ["kv_heads", 8], ["ffn", 14336]]
    assert udfs.GPU_COUNT_MEM(moe).startswith("#VALUE! P: field 'ffn' is given twice")
    moe = [r for r in moe if r != ["ffn", 11008]]
    assert udfs.TRAIN_FLOPS(moe, 1e12) == 6 * 12_879_925_248 * 1e12
    assert udfs.WEIGHTS_GB(moe, "bf16") == pytest.approx(46_702_792_704 * 2 / 1e9)
    assert udfs.TRAIN_DAYS([["layers", 32], ["hiden", 4096]], 1e12, 8, "h100", 0.4) == \
        "#N/A P: field 'hiden' is unknown: did you mean hidden?"
    assert udfs.TRAIN_DAYS([["layers", 32], ["hidden", 4096]], 1e12, 8, "h100", 0.4) \
        .startswith("#VALUE! P: a custom model needs heads, ffn, vocab")
    assert udfs.TRAIN_DAYS("no-such-model", 1e12, 8, "h100", 0.4).startswith("#N/A P 'no-such")
    assert udfs.TRAIN_DAYS(7e9, 1e12, 8, 312, 0.4) == pytest.approx(
        8 * 7e9 * 1e12 / (8 * 312e12 * 0.4) / 86400)


def test_precision_names_with_block_scales():
    assert udfs.BYTES_PER_PARAM("mxfp4") == 4.25 / 8
    assert udfs.BYTES_PER_PARAM("nvfp4") == udfs.BYTES_PER_PARAM("fp4") == 4.5 / 8
    assert udfs.BYTES_PER_PARAM("fp8") == 1 and udfs.BYTES_PER_PARAM("int4") == 0.5
    assert udfs.WEIGHTS_GB("gpt-oss-20b", "mxfp4") == pytest.approx(20_914_757_184 * 0.53125 / 1e9)


# ---------------------------------------------------------------------- KV and context

def test_kv_cache_by_attention_design():
    # GQA: Llama-3.1-70B, 80 layers x 2 x 8 heads x 128 x 2 bytes = 327,680 B per token.
    assert udfs.KV_BYTES_PER_TOKEN("llama-3.1-70b") == 80 * 2 * 8 * 128 * 2
    assert udfs.KV_CACHE_GB("llama-3.1-70b", "", "", 8192, 4) == pytest.approx(
        327680 * 8192 * 4 / 1e9)
    # MLA: Kimi K2 caches the 512 + 64 latent in each of 61 layers.
    assert udfs.KV_CACHE_GB("kimi-k2", None, None, 100_000, 1) == pytest.approx(
        61 * 576 * 2 * 100_000 / 1e9)
    # Sliding window: gpt-oss-120b, 18 full layers + 18 layers holding 128 tokens,
    # 8 KV heads of 64: 2048 bytes per layer and token in bf16.
    assert udfs.KV_CACHE_GB("gpt-oss-120b", "", "", 100_000, 1) == pytest.approx(
        2048 * (18 * 100_000 + 18 * 128) / 1e9)
    assert udfs.KV_CACHE_GB("gpt-oss-120b", "", "", 100, 1) == pytest.approx(
        2048 * 36 * 100 / 1e9)
    assert udfs.KV_CACHE_GB(32, 8, 128, 8192, 1) == pytest.approx(1.073741824)


def test_max_context_tokens_gqa():
    # 4 x H100 at 90%: 288 GB; Llama-3.1-70B bf16 weights 141.107 GB; 8 sequences.
    room = (4 * 80e9 * 0.9 - 70_553_706_496 * 2) / 8
    assert udfs.MAX_CONTEXT_TOKENS("llama-3.1-70b", "h100-sxm", 4, 8) == math.floor(room / 327680)
    # one sequence would hold 448K tokens: capped at the model's 131,072
    assert udfs.MAX_CONTEXT_TOKENS("llama-3.1-70b", "h100-sxm", 4) == 131072
    assert udfs.MAX_CONTEXT_TOKENS("llama-3.1-70b", "h100-sxm", 1).startswith("#NUM! the weights")


def test_max_context_tokens_mla_and_fp8_kv():
    # 8 x H200 (141 GB) at 90%, DeepSeek-V3 fp8 weights, 64 sequences, bf16 latent cache.
    room = (8 * 141e9 * 0.9 - 671_026_419_200) / 64
    assert udfs.MAX_CONTEXT_TOKENS("deepseek-v3", "h200-sxm", 8, 64, "fp8") == \
        math.floor(room / (61 * 576 * 2))
    assert udfs.MAX_CONTEXT_TOKENS("deepseek-v3", "h200-sxm", 8, 128, "fp8", "fp8") == \
        math.floor(room / 2 / (61 * 576))


def test_max_context_tokens_sliding_window():
    # gpt-oss-120b in MXFP4 on one H100, 4 sequences: every layer caches the first 128
    # tokens, then only the 18 full-attention layers grow.
    per_seq = (80e9 * 0.9 - 116_829_156_672 * 4.25 / 8) / 4
    # bytes = 2048 x (18 s + 18 x 128) for s >= 128
    expected = (per_seq / 2048 - 18 * 128) / 18
    assert udfs.MAX_CONTEXT_TOKENS("gpt-oss-120b", "h100-sxm", 1, 4, "mxfp4") == \
        math.floor(expected)


# ----------------------------------------------------------------------- --add-model

@pytest.mark.parametrize("name, model_id", [("qwen3-8b", "qwen3-8b"),
                                            ("qwen3-30b-a3b", "qwen3-30b-a3b"),
                                            ("deepseek-v3", "deepseek-v3")])
def test_hf_config_rows_match_the_catalog(name, model_id):
    row, unknown = row_from_hf_config(json.loads((HF / f"{name}.json").read_text()), "x-" + name)
    m = core.model(model_id)
    assert (row["params"], row["active_params"]) == (m.params, m.active_params)
    assert row["attention"] == resolve_model(model_id).attention
    assert unknown == []


def _build(args, home):
    env = dict(os.environ, LLM_PLANNER_HOME=str(home))
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_add_model_writes_the_user_catalog(tmp_path):
    home = tmp_path / "home"
    for name in ("qwen3-8b", "qwen3-30b-a3b", "deepseek-v3"):
        r = _build(["--add-model", str(HF / f"{name}.json"), "--id", f"my-{name}"], home)
        assert r.returncode == 0, r.stderr
        m = core.model(name)
        assert f"my-{name}: {m.params:,.0f} parameters in total, {m.active_params:,.0f} active" \
            in r.stdout
    text = (home / "models.csv").read_text()
    assert text.count("\n") == 4 and "my-deepseek-v3" in text
    # the functions use it (a fresh interpreter reading the user catalog)
    code = ("from addin import udfs; print(udfs.TRAIN_FLOPS('my-qwen3-30b-a3b', 1e12), "
            "udfs.KV_BYTES_PER_TOKEN('my-deepseek-v3'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, LLM_PLANNER_HOME=str(home)), timeout=60)
    assert out.stdout.split() == [repr(6 * 3_353_032_704 * 1e12), "70272.0"]
    # a shipped id is refused
    r = _build(["--add-model", str(HF / "qwen3-8b.json"), "--id", "qwen3-8b"], home)
    assert r.returncode == 1 and r.stderr.startswith("build.py: 'qwen3-8b' is a shipped")


def test_add_model_refuses_malformed_files_and_writes_nothing(tmp_path):
    home = tmp_path / "home"
    assert _build(["--add-model", str(HF / "qwen3-8b.json"), "--id", "keep-me"], home).returncode == 0
    before = (home / "models.csv").read_bytes()
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"num_hidden_layers": 32,')
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps({"model_type": "llama", "hidden_size": 4096}))
    wrong = tmp_path / "wrong.json"
    cfg = json.loads((HF / "qwen3-8b.json").read_text())
    wrong.write_text(json.dumps(dict(cfg, num_hidden_layers="thirty-six")))
    for path, start in [(bad_json, "build.py: "), (missing, "build.py: config.json lacks"),
                        (wrong, "build.py: config.json: num_hidden_layers must be a whole"),
                        (tmp_path / "absent.json", "build.py: ")]:
        r = _build(["--add-model", str(path), "--id", "broken"], home)
        assert r.returncode == 1 and r.stderr.startswith(start), r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert (home / "models.csv").read_bytes() == before
    assert not [p for p in home.iterdir() if p.name != "models.csv"]


def test_add_model_names_fields_it_does_not_understand(tmp_path):
    cfg = json.loads((HF / "qwen3-8b.json").read_text())
    path = tmp_path / "c.json"
    path.write_text(json.dumps(dict(cfg, linear_attention_layers=[0, 1], model_type="qwen9")))
    r = _build(["--add-model", str(path), "--id", "odd"], tmp_path / "home")
    assert r.returncode == 0
    assert "not understood and ignored: model_type=qwen9, linear_attention_layers" in r.stdout


def test_finetuning_takes_a_model_id_and_its_dimensions():
    # QLoRA on Llama-3.1-70B: L and h come from the catalog (80 layers, 8192 wide).
    assert udfs.FINETUNE_MEM_GB("llama-3.1-70b", "qlora", 64) == \
        udfs.FINETUNE_MEM_GB(70_553_706_496, "qlora", 64, 80, 8192)
    # LoRA r=16 on W_q and W_v of Llama-3-8B: 2 x 2 x 32 x 4096 x 16 adapters.
    assert udfs.FINETUNE_PARAMS("llama-3-8b", "lora", 16) == 2 * 2 * 32 * 4096 * 16
    assert udfs.FINETUNE_MEM_GB("mixtral-8x7b", "full") == \
        udfs.FINETUNE_MEM_GB(46_702_792_704, "full")


def _user_catalog(tmp_path, monkeypatch, text):
    monkeypatch.setenv(catalog.USER_DIR_ENV, str(tmp_path))
    (tmp_path / "models.csv").write_text(text, encoding="utf-8")
    catalog.reload_catalogs()


def _user_row(model_id, **fields):
    spec = core.model("qwen3-8b").model_dump()
    spec.update(id=model_id, name=model_id, **fields)
    header = list(catalog.ModelSpec.model_fields)
    cells = ["" if spec[k] is None else str(spec[k]).lower() if isinstance(spec[k], bool)
             else str(int(spec[k])) if isinstance(spec[k], float) and spec[k].is_integer()
             else str(spec[k]) for k in header]
    return ",".join(header) + "\n" + ",".join(f'"{c}"' for c in cells) + "\n"


def test_a_user_catalog_saved_with_a_bom_is_read(tmp_path, monkeypatch):
    try:
        _user_catalog(tmp_path, monkeypatch, "\ufeff" + _user_row("my-model"))
        assert udfs.LLM_PARAMS_ARCH("my-model") == core.model("qwen3-8b").params
    finally:
        monkeypatch.undo()
        catalog.reload_catalogs()


def test_a_broken_user_catalog_never_breaks_the_shipped_one(tmp_path, monkeypatch):
    try:
        # parameters typed in billions: refused with file, line and column
        _user_catalog(tmp_path, monkeypatch, _user_row("my-model", params=8.19))
        assert udfs.LLM_PARAMS_ARCH("qwen3-8b") == 8_190_735_360  # shipped ids still work
        msg = udfs.LLM_PARAMS_ARCH("my-model")
        assert msg.startswith("#N/A L 'my-model' is neither a number nor a model id")
        assert "the user catalog was not read" in msg and "line 2 column" in msg \
            and "(params)" in msg
        # a shipped id in the user file is not allowed to replace the shipped row
        _user_catalog(tmp_path, monkeypatch, _user_row("llama-3-8b"))
        assert core.model("llama-3-8b").params == 8_030_261_248
    finally:
        monkeypatch.undo()
        catalog.reload_catalogs()
