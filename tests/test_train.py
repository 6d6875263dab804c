"""The 2024-26 training model (TRAIN_* functions) against measured runs and hand-worked cases.

Measured runs: tests/data/training_calibration.csv (NVIDIA's published step times with
full layouts, H100 and B200, BF16 and FP8, dense and MoE) through addin.udfs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llm_budget_planner.addin.udfs as x
from llm_budget_planner.formulas.errors import InfeasibleError
from llm_budget_planner.formulas.plan import assumptions, format_layout, parse_layout, step, train
from llm_budget_planner.formulas.plan.search import train_plan, train_plan_deadline
from llm_budget_planner.formulas.plan.shape import train_shape
from llm_budget_planner.formulas.plan.step import _stage_layers, train_hardware
from tests.reference_rows import evaluate, load_rows

CALIBRATION = load_rows("training_calibration.csv")
H100 = "h100-sxm"


# ----------------------------------------------------------------------- calibration runs

def _ratios():
    return {r["id"]: evaluate(r["expr"]) / float(r["expected"]) for r in CALIBRATION}


@pytest.mark.parametrize("row", CALIBRATION, ids=[r["id"] for r in CALIBRATION])
def test_every_calibration_run_is_priced_not_refused(row):
    got = evaluate(row["expr"])
    assert isinstance(got, float) and got > 0, f"{row['id']}: {got!r}"
    mem = evaluate(row["expr"].replace("TRAIN_STEP_SECONDS", "TRAIN_MEM_GB_PER_GPU"))
    gpu = row["expr"].split(",")[1].strip("'\" ")
    assert isinstance(mem, float) and mem <= train_hardware(gpu).memory_gb, (row["id"], mem)


def test_at_least_80_percent_of_calibration_runs_within_15_percent():
    ratios = _ratios()
    inside = [k for k, r in ratios.items() if abs(r - 1) <= 0.15]
    assert len(CALIBRATION) == 23
    assert len(inside) / len(ratios) >= 0.80, {k: round(r, 2) for k, r in ratios.items()}
    # the misses are the MoE recipes named in the report, nothing dense
    missed = set(ratios) - set(inside)
    assert all(("gptoss" in k or "qwen3" in k or "deepseek" in k) for k in missed), missed


def test_days_range_is_the_calibration_spread():
    """days_ratio_low/high are the 10th/90th percentiles of measured over predicted."""
    measured_over_predicted = [1 / r for r in _ratios().values()]
    lo, hi = np.percentile(measured_over_predicted, [10, 90])
    assert assumptions.plan_assumption("days_ratio_low") == pytest.approx(lo, abs=0.01)
    assert assumptions.plan_assumption("days_ratio_high") == pytest.approx(hi, abs=0.01)


def test_published_plans_rows_still_pass():
    for row in load_rows("published_plans.csv"):
        got = evaluate(row["expr"])
        assert math.isclose(got, float(row["expected"]), rel_tol=float(row["rel_tol"])), row


# ----------------------------------------------------------------------- uneven pipelines

def test_llama_405b_on_pp16_gives_the_first_and_last_stage_one_layer_less():
    """126 layers on 16 stages: 14 x 8 + 2 x 7, as Meta ran it (Llama 3 paper §3.3.2)."""
    r = train.train_step("llama-3.1-405b", H100, "tp8 pp16 dp128 vp1 mb1", 8192, 2048)
    assert r["stage_layers"] == "7/8/7"
    # the slowest stage holds 8 layers: the step is (m + pp - 1) slots of 8 layers' work
    first, mid, last, slowest = _stage_layers(126, 16, 1, 0.05, 0.7)
    assert (float(first), float(mid), float(last), float(slowest)) == (7, 8, 7, 8)
    assert 14 * 8 + 2 * 7 == 126
    # the classic model refuses the layout; the new one prices it
    assert x.PLAN_MFU(405e9, 126, 16384, 128, 8192, 2048, 1, 8, 16, 128, H100).startswith("#")


def test_uneven_stage_time_follows_the_slowest_stage():
    """With no embedding/output cost 61 layers on 8 stages is paced by a stage of 8."""
    f, m, la, slowest = (float(v) for v in _stage_layers(61, 8, 1, 0.0, 0.0))
    assert f + 6 * m + la == 61 and slowest == 8
    f, m, la, slowest = (float(v) for v in _stage_layers(61, 8, 4, 0.0, 0.0))
    assert min(f, la) >= 4 and f + 6 * m + la == 61 and slowest == 8


# ----------------------------------------------------------------------- mixture of experts

def test_moe_all_to_all_inside_and_across_the_scale_up_domain():
    """Grok-1 (8 experts, top-2, h 6144), 4,096-token micro-batch, tp1, pp1.

    Each all-to-all moves n k h 2 bytes = 4096 x 2 x 6144 x 2 = 100.7 MB per GPU, of which
    (ep - 1)/ep leaves it; four per MoE layer (dispatch and combine, forward and
    backward). ep8 fits the 8-GPU NVLink domain: all over NVLink at 900/2 x 0.65 GB/s.
    ep16 (dp16): 7/16 over NVLink, 8/16 over InfiniBand at 50 x 0.9 x 0.65 GB/s.
    """
    hw = train_hardware(H100)
    a2a = 4096 * 2 * 6144 * 2
    up = 450e9 * 0.65
    out = 50e9 * 0.9 * 0.65
    assert hw.up_bps == pytest.approx(up) and hw.out_bps == pytest.approx(50e9 * 0.9)
    expect8 = 4 * a2a * 7 / 8 / up
    expect16 = 4 * a2a * (7 / 16 / up + 8 / 16 / out)
    shape = train_shape("grok-1")
    for ep, expect in ((8, expect8), (16, expect16)):
        res = step.evaluate(shape, hw, 4096, ep, "bf16", 1, 1, 1, ep, ep, 1, 1, 1, 2)
        per_layer = res["ep_comm_s"] / (res["micro_batches"] * res["slowest_layers"])
        assert per_layer == pytest.approx(expect, rel=1e-9)
    assert expect16 > 4 * expect8  # leaving the NVLink domain costs several times more


def test_moe_memory_counts_every_expert_and_compute_only_the_active_ones():
    """DeepSeek-V3 on 64 GPUs, tp1 pp1 dp64 ep64: each GPU holds the dense part and 1/64 of
    the 256 x 58 routed experts; Adam state of the dense part is sharded over the 64
    data-parallel ranks, the experts' over their expert-data-parallel group (64 / 64 = 1)."""
    shape, hw = train_shape("deepseek-v3"), train_hardware("h800")
    assert shape.total_params == pytest.approx(671.0e9, rel=0.001)
    assert shape.active_params == pytest.approx(37.55e9, rel=0.001)
    experts = 256 * (3 * 7168 * 2048) * 58
    dense = shape.total_params - experts
    r = step.evaluate(shape, hw, 4096, 64, "bf16", 1, 1, 1, 64, 64, 1, 1, 1, 0)
    assert r["weights_gb"] * 1e9 / 2 == pytest.approx(dense + experts / 64, rel=1e-4)
    assert r["optimizer_gb"] * 1e9 / 12 == pytest.approx(dense / 64 + experts / 64, rel=1e-4)
    # FLOPs follow the active parameters: MFU's numerator is 6 x 37.55B + attention
    per_token = shape.flops_per_token(4096)
    assert 6 * 37.55e9 < per_token < 6 * 37.55e9 * 1.2


# ----------------------------------------------------------------------- precision

DENSE_PAIRS = [(r, s) for r in CALIBRATION for s in CALIBRATION
               if r["expr"].endswith("'bf16')") and s["expr"] == r["expr"].replace(
                   "'bf16')", "'fp8')") and "grok" not in r["id"]]


@pytest.mark.parametrize("bf16,fp8", DENSE_PAIRS, ids=[r["id"] for r, _ in DENSE_PAIRS])
def test_fp8_is_1_2_to_1_6_times_faster_on_the_same_layout(bf16, fp8):
    """NVIDIA measured FP8 1.24-1.53x faster than BF16 on identical layouts."""
    speedup = evaluate(bf16["expr"]) / evaluate(fp8["expr"])
    measured = float(bf16["expected"]) / float(fp8["expected"])
    assert 1.2 <= speedup <= 1.6 and 1.2 <= measured <= 1.6, (speedup, measured)


def test_fp4_only_where_the_gpu_has_an_fp4_peak():
    lay = "tp1 pp1 dp8 mb1"
    assert x.TRAIN_STEP_SECONDS("llama-3.1-8b", H100, lay, 8192, 64, "fp4").startswith(
        "#NUM! h100-sxm has no FP4")
    b200 = [x.TRAIN_STEP_SECONDS("llama-3.1-8b", "b200", lay, 8192, 64, p)
            for p in ("bf16", "fp8", "fp4")]
    assert b200[0] > b200[1] > b200[2] > 0


def test_attention_stays_bf16_under_fp8():
    """Only GEMMs speed up: the FP8 gain falls as attention grows with the sequence."""
    def gain(s, batch):  # same tokens per step, so only attention changes
        lay = "tp1 pp1 cp2 dp4 mb1 none"
        return (train.train_step_seconds("llama-3.1-8b", H100, lay, s, batch)
                / train.train_step_seconds("llama-3.1-8b", H100, lay, s, batch, "fp8"))
    assert gain(2048, 64) > gain(16384, 8) > 1.0


# ----------------------------------------------------------------------- context parallelism

def test_llama3_128k_stage_fits_in_80gb_with_cp16():
    """Llama 3's 131K-token stage ran TP8 CP16 PP16 DP8 on 16,384 H100s (paper §3.3.2)."""
    lay = "tp8 cp16 pp16 dp8"
    mem = x.TRAIN_MEM_GB_PER_GPU("llama-3.1-405b", H100, lay, 131072, 64)
    assert isinstance(mem, float) and mem <= 80
    mfu = train.train_step("llama-3.1-405b", H100, lay, 131072, 64)["mfu"]
    assert 0.25 < mfu < 0.55  # Meta reports 38%
    # without context parallelism (and without full recomputation) it does not fit
    out = x.TRAIN_MEM_GB_PER_GPU("llama-3.1-405b", H100, "tp8 pp16 dp128 none", 131072, 128)
    assert out.startswith("#NUM!") and "GB per GPU" in out


def test_cp_splits_attention_and_activations():
    a = train.train_step("llama-3.1-70b", H100, "tp8 pp1 cp1 dp8 vp1 mb1 full", 32768, 8)
    b = train.train_step("llama-3.1-70b", H100, "tp8 pp1 cp2 dp4 vp1 mb1 full", 32768, 8)
    assert b["activations_gb"] == pytest.approx(a["activations_gb"] / 2, rel=1e-9)
    assert b["cp_comm_s"] >= 0 and b["step_s"] == pytest.approx(a["step_s"], rel=0.1)


# ----------------------------------------------------------------------- FlashAttention era

def test_no_s_squared_term_in_memory():
    """Doubling the sequence and halving the batch keeps activations (no a s^2 b term)."""
    shape, hw = train_shape("llama-3.1-8b"), train_hardware(H100)
    a = step.evaluate(shape, hw, 8192, 8, "bf16", 1, 1, 1, 8, 1, 1, 1, 1, 0)
    b = step.evaluate(shape, hw, 4096, 16, "bf16", 1, 1, 1, 8, 1, 1, 2, 1, 0)
    assert a["activations_gb"] == pytest.approx(b["activations_gb"], rel=1e-9)


def test_causal_attention_flops():
    """Per token: 6 x params + 6 heads (d_qk + d_v) s/2 per layer (Llama 3.1 8B at 8K)."""
    shape = train_shape("llama-3.1-8b")
    attn = 6 * 32 * (128 + 128) * 8192 / 2 * 32
    assert shape.flops_per_token(8192) == pytest.approx(6 * shape.active_params + attn)


# ----------------------------------------------------------------------- overlap, schedules

def test_knobs_left_out_are_chosen_and_reported():
    table = x.TRAIN_STEP_BREAKDOWN("llama-3.1-70b", H100, "tp4 pp4 cp2 dp2", 8192, 128)
    assert table[0] == ["part", "value"]
    rows = dict((k, v) for k, v in table[1:])
    for part in ("compute_s", "memory_bound_s", "tp_comm_s", "cp_comm_s", "ep_comm_s",
                 "pp_comm_s", "dp_comm_s", "bubble_s", "optimizer_s"):
        assert rows[part] >= 0
    assert sum(rows[p] for p in step.STEP_PARTS) == pytest.approx(rows["step_s"])
    assert rows["vp"] > 1  # interleaving is chosen when left out
    chosen = x.TRAIN_STEP_SECONDS("llama-3.1-70b", H100, rows["layout"], 8192, 128)
    assert chosen == pytest.approx(rows["step_s"])
    plain = x.TRAIN_STEP_SECONDS("llama-3.1-70b", H100, "tp4 pp4 cp2 dp2 vp1", 8192, 128)
    assert plain > chosen


def test_bubble_of_interleaved_1f1b():
    """Bubble = (pp - 1) / vp slots of one micro-batch's time on the slowest GPU."""
    for vp in (1, 2, 4):
        r = train.train_step("llama-3.1-70b", H100, f"tp8 pp4 dp2 vp{vp} mb1 none", 4096, 16)
        slot = (r["step_s"] - r["bubble_s"] - r["dp_comm_s"] - r["optimizer_s"]) / 8
        assert r["bubble_s"] == pytest.approx(3 / vp * slot, rel=1e-9)


def test_tp_communication_is_mostly_hidden():
    """Sequence parallelism: 8 all-gathers/reduce-scatters of n h 2-byte values per layer,
    (tp - 1)/tp of each over NVLink, 1 - tp_comm_overlap of it exposed."""
    r = train.train_step("llama-3.1-70b", H100, "tp8 pp1 dp8 mb1 none zero1", 4096, 64)
    k = assumptions.plan_assumption("tp_comm_overlap")
    hw = train_hardware(H100)
    per_layer = 8 * 7 / 8 * 4096 * 8192 * 2 / hw.up_bps * (1 - k)
    assert r["tp_comm_s"] == pytest.approx(r["micro_batches"] * r["slowest_layers"]
                                           * per_layer, rel=1e-9)
    assert r["tp_comm_s"] < 0.1 * r["compute_s"]


# ----------------------------------------------------------------------- refusals

def test_a_layout_that_does_not_fit_is_refused_with_the_gb_and_the_knob():
    out = x.TRAIN_STEP_SECONDS("llama-3.1-405b", H100, "tp8 pp2 dp8 mb1 none", 8192, 64)
    assert out.startswith("#NUM! llama-3.1-405b on this layout needs ")
    assert "GB per GPU, more than the 80 GB of h100-sxm" in out and "use " in out


@pytest.mark.parametrize("layout,needle", [
    ("tp8 pp16", "has no dp"),
    ("tp3 pp1 dp8", "does not divide the 128 attention heads"),
    ("tp8 pp16 dp8 xx4", "token 'xx4' is not understood"),
    ("tp8 pp200 dp1", "exceeds the 126 layers"),
    ("tp8 pp8 dp8 ep2", "ep2 on a dense model"),
])
def test_bad_layouts_are_one_clear_line(layout, needle):
    out = x.TRAIN_STEP_SECONDS("llama-3.1-405b", H100, layout, 8192, 64)
    assert isinstance(out, str) and out.startswith("#") and needle in out and "\n" not in out


def test_ep_must_divide_dp_times_cp():
    out = x.TRAIN_STEP_SECONDS("deepseek-v3", H100, "tp2 pp8 dp6 ep4", 4096, 96)
    assert out.startswith("#NUM!") and "ep4 must divide dp x cp = 6" in out


# ----------------------------------------------------------------------- layout text

def test_layout_text_any_case_spaces_or_commas():
    a = parse_layout("TP4 PP8 DP32 CP2 EP8 VP8 MB1")
    b = parse_layout("tp4,pp8, dp32 ,cp2,ep8,vp8,mb1")
    assert a == b and a.num_gpus == 4 * 8 * 32 * 2 and a.zero is None


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([1, 2, 4, 8]), st.integers(1, 64), st.sampled_from([1, 2, 4]),
       st.integers(1, 512), st.integers(1, 8), st.integers(1, 16), st.integers(0, 3),
       st.sampled_from(["none", "selective", "full"]))
def test_layout_text_round_trips(tp, pp, cp, dp, vp, mb, zero, rc):
    ep = math.gcd(dp * cp, 8)
    text = format_layout(tp, pp, cp, dp, ep, vp, mb, zero, rc)
    lay = parse_layout(text)
    assert format_layout(lay.tp, lay.pp, lay.cp, lay.dp, lay.ep, lay.vp, lay.mb, lay.zero,
                         lay.recompute) == text


# ----------------------------------------------------------------------- plans

def test_train_plan_table_and_round_trip():
    table = x.TRAIN_PLAN("deepseek-v3", 14.8e12, "h800", 2048, 4096, 15.7e6, "fp8", 5)
    head = table[0]
    for col in ("layout", "mem_gb", "step_s", "tokens_per_gpu_s", "mfu", "days", "days_low",
                "days_high", "gpu_hours"):
        assert col in head
    rows = [dict(zip(head, r)) for r in table[1:]]
    assert len(rows) == 5 and rows == sorted(rows, key=lambda r: r["days"])
    for r in rows:
        assert r["days_low"] < r["days"] < r["days_high"]
        again = x.TRAIN_STEP_SECONDS("deepseek-v3", "h800", r["layout"], 4096,
                                     r["global_batch"], "fp8")
        assert again == pytest.approx(r["step_s"], rel=1e-9)
        assert r["mem_gb"] <= 80
    # DeepSeek-V3 took 2.664M H800 GPU-hours for 14.8T tokens of pre-training (paper Table 1)
    assert 0.5 < rows[0]["gpu_hours"] / 2.664e6 < 2.0


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(["llama-3.1-8b", "llama-3.1-70b", "qwen3-30b-a3b", "mixtral-8x7b"]),
       st.sampled_from([8, 16, 64, 128, 256]), st.sampled_from([2048, 4096, 8192]))
def test_train_plan_layouts_all_fit_and_round_trip(model, n, s):
    try:
        rows = train_plan(model, 1e12, H100, n, s, 2e6, "bf16", 4)
    except InfeasibleError as exc:  # a model too large for so few GPUs is refused
        assert str(exc).startswith(f"no layout of {n} x h100-sxm fits"), exc
        return
    for r in rows:
        assert r["mem_gb"] <= 80 and parse_layout(r["layout"]).num_gpus == n
        again = train.train_step(model, H100, r["layout"], s, r["global_batch"])
        assert again["step_s"] == pytest.approx(r["step_s"], rel=1e-9)
        assert again["mem_gb"] == pytest.approx(r["mem_gb"], rel=1e-9)


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(["llama-3.1-8b", "llama-3.1-70b", "qwen3-30b-a3b"]),
       st.floats(5, 365), st.floats(0.2, 0.9))
def test_more_gpus_never_raise_the_deadline_plans_days(model, days, shrink):
    loose = train_plan_deadline(model, 2e12, H100, days, 2.0)
    tight = train_plan_deadline(model, 2e12, H100, days * shrink, 2.0)
    assert tight["num_gpus"] >= loose["num_gpus"]
    assert tight["days"] <= loose["days"] + 1e-9
    for r in (loose, tight):
        assert r["num_gpus"] % 8 == 0
        assert r["cost_usd"] == pytest.approx(r["gpu_hours"] * 2.0)


def test_deadline_excel_row():
    out = x.TRAIN_PLAN_DEADLINE("llama-3.1-70b", 15e12, H100, 90, 2.5, 8192, 16e6)
    head, row = out
    r = dict(zip(head, row))
    for col in ("num_gpus", "layout", "days", "gpu_hours", "cost_usd"):
        assert col in r
    assert r["days"] <= 90 and r["num_gpus"] % 8 == 0
    assert parse_layout(r["layout"]).num_gpus == r["num_gpus"]
    # a GPU count one server smaller misses the deadline
    smaller = train_plan(
        "llama-3.1-70b", 15e12, H100, r["num_gpus"] - 8, 8192, 16e6, "bf16", 1)[0]
    assert smaller["days"] > 90


def test_mfu_is_model_flops_over_bf16_peak():
    r = train.train_step("llama-3.1-405b", H100, "tp8 pp9 cp2 dp4 vp7 mb1", 8192, 252, "fp8")
    flops = train_shape("llama-3.1-405b").flops_per_token(8192) * 252 * 8192
    assert r["mfu"] == pytest.approx(flops / (r["step_s"] * 576 * 989.4e12))


def test_a_custom_model_range_prices_like_its_catalog_twin():
    """A two-column range of MODEL_SPEC fields describes a model the catalog lacks."""
    table = [["layers", 32], ["hidden", 4096], ["heads", 32], ["kv_heads", 8],
             ["ffn", 14336], ["vocab", 128256]]
    args = ("h100-sxm", "tp1 pp1 dp8", 4096, 64)
    assert x.TRAIN_STEP_SECONDS(table, *args) == pytest.approx(
        x.TRAIN_STEP_SECONDS("llama-3.1-8b", *args), rel=1e-12)
    assert x.TRAIN_STEP_SECONDS(7e9, *args).startswith("#VALUE! model must be a catalog id")
