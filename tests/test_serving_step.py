"""The calibrated serving step model (issue 12): calibration rows, TP scaling, MoE,
latency targets, "max" batch, API list prices, break-even."""

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llm_budget_planner.addin.udfs as x
from llm_budget_planner import formulas as core
from llm_budget_planner.formulas import serving_step as ss
from tests.reference_rows import evaluate, load_rows

CALIBRATION = load_rows("serving_calibration.csv")
#: Rows the model misses, each with its cause (reported, not hidden).
KNOWN_MISSES = {
    # 1,602 tok/s at batch 32 needs every expert read (E(1-(1-k/E)^32) = 7.99 of 8) in each
    # step: 93.4 GB of bf16 weights over 2 x 2,039 GB/s is 22.9 ms per step at 100% of HBM
    # bandwidth, so at most 32 / 0.0229 = 1,397 tok/s without prefill or KV reads. The row's
    # "801 per GPU x 2" reading exceeds the roofline; as 801 for the replica it is within 5%.
    "ss_trt09_a100x2_mixtral_fp16_b32_2048_2048",
}


def _err(row):
    got = evaluate(row["expr"])
    assert isinstance(got, float), f"{row['id']}: {row['expr']} returned {got!r}"
    return got / float(row["expected"]) - 1


@pytest.mark.parametrize("row", CALIBRATION, ids=[r["id"] for r in CALIBRATION])
def test_calibration_row(row):
    err = _err(row)
    if row["id"] in KNOWN_MISSES:
        assert abs(err) > float(row["rel_tol"]), f"{row['id']} now passes: drop it from the misses"
        pytest.xfail(f"known miss ({err:+.0%}); cause documented in KNOWN_MISSES")
    assert abs(err) <= float(row["rel_tol"]), f"{row['id']}: {err:+.1%} ({row['source'][:120]})"


def test_at_least_80_percent_of_calibration_rows_within_tolerance():
    within = [abs(_err(r)) <= float(r["rel_tol"]) for r in CALIBRATION]
    assert len(CALIBRATION) == 23
    assert sum(within) / len(within) >= 0.8
    assert sum(within) == 22


def test_the_roofline_of_the_mixtral_miss_is_below_the_measurement():
    m = ss.serve_model("mixtral-8x7b")
    weights = float(ss.weight_bytes(m, 2, 32))
    assert weights / 1e9 == pytest.approx(93.4, abs=0.1)
    bound = 32 / (weights / (2 * 2039e9))
    assert bound < 1602 * 0.9


# ---------------------------------------------------------------- tensor parallelism

def test_tp_per_gpu_efficiency_is_below_one_and_falls_with_tp():
    """Per-GPU throughput over the per-GPU roofline (efficiency 1, no communication):
    below 1 at TP 1 (calibrated fractions, overhead) and lower at every larger TP (two
    all-reduces per layer and step). Llama-2-70B in FP8 on H100, batch 8, 512 + 256."""
    ratios = []
    for tp in (1, 2, 4, 8):
        got = x.SERVE_TOKENS_PER_S("llama-2-70b", "fp8", "h100-sxm", 8, 512, 256, tp, "fp8")
        roof = x.SERVE_TOKENS_PER_S("llama-2-70b", "fp8", "h100-sxm", 8, 512, 256, tp, "fp8", 1)
        ratios.append(got / roof)
    assert all(r < 1 for r in ratios)
    assert all(b < a for a, b in zip(ratios, ratios[1:])), ratios


def test_allreduce_parts_follow_latency_plus_volume():
    m = ss.serve_model("llama-2-70b")
    rep = ss.replica("h100-sxm", 4, "fp8")
    parts = ss.step_parts(m, rep, 1.0, 1.0, 16, 1000)
    msg = 16 * 8192 * 2
    one = 10e-6 + 2 * 3 / 4 * msg / (900e9 / 2 * 0.65)
    assert float(parts["allreduce_s"]) == pytest.approx(2 * 80 * one, rel=1e-12)
    assert float(parts["total_s"]) == pytest.approx(sum(float(parts[k]) for k in
                                                        ("matmul_s", "attention_s",
                                                         "allreduce_s", "overhead_s")))
    # Beyond the 8-GPU server the all-reduce crosses the network and gets slower.
    far = ss.step_parts(m, ss.replica("h100-sxm", 16, "fp8"), 1.0, 1.0, 16, 1000)
    assert float(far["allreduce_s"]) > float(parts["allreduce_s"])


# ---------------------------------------------------------------- mixture of experts

@pytest.mark.parametrize("gpu,tp", [("a100-sxm-80gb", 2), ("h100-sxm", 2), ("h200-sxm", 1)])
def test_moe_batch1_decode_between_dense_of_total_and_dense_of_active(gpu, tp):
    """Mixtral-8x7B, one request of 512 + 128 tokens: far faster than a dense model of its
    46.7B total (it reads 2 of 8 experts per token), slower than a dense model of its 12.9B
    active parameters and the same shape (its prefill reads every expert)."""
    from dataclasses import replace

    from llm_budget_planner.formulas.serving import _static_tokens_per_s

    m = core.model("mixtral-8x7b")
    moe = x.SERVE_TOKENS_PER_S("mixtral-8x7b", "bf16", gpu, 1, 512, 128, tp, "bf16")
    dense_total = x.SERVE_TOKENS_PER_S(m.params, "bf16", gpu, 1, 512, 128, tp)
    assert moe > 2.5 * dense_total
    shape = ss.serve_model("mixtral-8x7b")
    dense_active = replace(shape, experts=1, moe_layers=0, expert_params=0.0,
                           total_params=shape.active_params)
    rep = ss.replica(gpu, tp)
    args = (rep, 2.0, 2.0, 1.0, 512.0, 128.0)
    assert float(_static_tokens_per_s(shape, *args)) == pytest.approx(moe, rel=1e-12)
    assert moe < float(_static_tokens_per_s(dense_active, *args))


def test_large_batches_read_every_expert():
    assert float(ss.distinct_experts(8, 2, 1)) == pytest.approx(2)
    assert float(ss.distinct_experts(8, 2, 64)) == pytest.approx(8, abs=1e-6)
    assert float(ss.distinct_experts(256, 8, 1)) == pytest.approx(8)
    m = ss.serve_model("mixtral-8x7b")
    assert float(ss.weight_bytes(m, 2, 1)) / 2 == pytest.approx(m.active_params, rel=0.01)
    assert float(ss.weight_bytes(m, 2, 512)) / 2 == pytest.approx(m.total_params, rel=1e-9)


# ---------------------------------------------------------------- precision names

def test_precision_names_set_bytes_and_compute_path():
    assert ss.resolve_precision("bf16") == (2.0, "bf16")
    assert ss.resolve_precision("FP8") == (1.0, "fp8")
    assert ss.resolve_precision("int4") == (0.5, "bf16")
    assert ss.resolve_precision("nvfp4") == (4.5 / 8, "fp4")
    assert ss.resolve_precision("mxfp4") == (4.25 / 8, "fp4")
    # FP8 compute is faster where the GPU has FP8 tensor cores, the same on an A100.
    h8 = x.SERVE_TTFT_SECONDS("llama-2-7b", "h100-sxm", 1, 4096, 4, "fp8")
    h16 = x.SERVE_TTFT_SECONDS("llama-2-7b", "h100-sxm", 1, 4096, 4, "bf16")
    a8 = x.SERVE_TTFT_SECONDS("llama-2-7b", "a100-sxm-80gb", 1, 4096, 4, "fp8")
    a16 = x.SERVE_TTFT_SECONDS("llama-2-7b", "a100-sxm-80gb", 1, 4096, 4, "bf16")
    assert h8 < 0.8 * h16
    assert a16 * 0.9 < a8 <= a16
    assert x.SERVE_TTFT_SECONDS("llama-2-7b", "h100-sxm", 1, 512, 1, "fp16x").startswith("#N/A")
    kv16 = x.SERVE_MAX_BATCH("llama-2-7b", "fp8", "h100-sxm", 1024, 1024, "bf16")
    kv8 = x.SERVE_MAX_BATCH("llama-2-7b", "fp8", "h100-sxm", 1024, 1024, "fp8")
    assert kv8 == pytest.approx(2 * kv16, abs=1)


def test_engines_run_the_llama2_7b_fp8_batch_of_120_at_2176_tokens():
    """Issue 12: the old accounting refused the TensorRT-LLM batch of 120 x (128 + 2048)."""
    assert x.SERVE_MAX_BATCH("llama-2-7b", "fp8", "h100-sxm", 128, 2048, "fp8") >= 120


# ---------------------------------------------------------------- "max" batch

@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["llama-2-7b", "llama-3-8b", "mistral-7b", "llama-2-13b", "mixtral-8x7b",
                        "qwen2.5-7b", "llama-3-70b"]),
       st.sampled_from(["h100-sxm", "a100-sxm-80gb", "h200-sxm", "l40s", "mi300x", "b200"]),
       st.sampled_from(["bf16", "fp8", "int4"]), st.integers(0, 8192), st.integers(1, 4096),
       st.sampled_from([1, 2, 4, 8]))
def test_max_batch_always_fits(model, gpu, precision, prompt, out, tp):
    cap = x.SERVE_MAX_BATCH(model, precision, gpu, prompt, out, "bf16", tp)
    if isinstance(cap, str):
        assert re.match(r"#NUM! (the weights|not even one)", cap), cap
        return
    got = x.SERVE_TOKENS_PER_S(model, precision, gpu, "max", prompt, out, tp)
    assert isinstance(got, float)
    assert got == x.SERVE_TOKENS_PER_S(model, precision, gpu, cap, prompt, out, tp)
    assert x.SERVE_TOKENS_PER_S(model, precision, gpu, cap + 1, prompt, out, tp).startswith(
        "#NUM! batch does not fit")
    m = ss.serve_model(model)
    rep = ss.replica(gpu, tp, ss.resolve_precision(precision)[1])
    parts = ss.memory_parts(m, rep, ss.resolve_precision(precision)[0], 2.0, cap, prompt + out)
    assert parts["weights"] + parts["workspace"] + float(parts["kv"]) <= parts["usable"]


# ---------------------------------------------------------------- latency and plans

def test_ttft_and_tpot_grow_with_load():
    t1 = x.SERVE_TTFT_SECONDS("llama-3-70b", "h100-sxm", 4, 2000, 1, "fp8")
    t8 = x.SERVE_TTFT_SECONDS("llama-3-70b", "h100-sxm", 4, 2000, 8, "fp8")
    assert t8 > 4 * t1
    p1 = x.SERVE_TPOT_SECONDS("llama-3-70b", "h100-sxm", 4, 1, 1000, 250, "fp8")
    p64 = x.SERVE_TPOT_SECONDS("llama-3-70b", "h100-sxm", 4, 64, 1000, 250, "fp8")
    assert p1 < p64
    # Batch 1 decode of a 70B model in FP8 on 4 H100: at least the weight read per GPU.
    assert p1 > 70.6e9 / 4 / 3350e9
    assert isinstance(x.SERVE_TPOT_SECONDS("llama-3-70b", "h100-sxm", 4, "max", 1000, 250, "fp8"), float)


PLANS = [
    ("llama-3-70b", "h100-sxm", 10, 1000, 250, "fp8", 2, 0.05, 3.0),
    ("llama-3-70b", "h100-sxm", 10, 1000, 250, "fp8", None, None, 0),
    ("llama-2-7b", "a100-sxm-80gb", 50, 512, 256, "bf16", 1, 0.03, 1.8),
    ("mixtral-8x7b", "h200-sxm", 5, 2000, 500, "fp8", 3, 0.04, 3.5),
    ("llama-3.1-405b", "mi300x", 10, 1000, 250, "fp8", 5, 0.1, 2.5),
]


@pytest.mark.parametrize("args", PLANS)
def test_serve_plan_rows_meet_slos_and_the_cheapest_is_never_beaten(args):
    model, gpu, rps, prompt, out, prec, ttft, tpot, usd = args
    table = x.SERVE_PLAN(model, gpu, rps, prompt, out, prec, ttft, tpot, usd)
    assert isinstance(table, list), table
    header, rows = table[0], table[1:]
    for col in ("gpus", "replicas", "tp", "batch", "output_tokens_per_s", "ttft_s", "tpot_s",
                "usd_per_m_output_tokens"):
        assert col in header
    c = {k: header.index(k) for k in header}
    assert rows
    for r in rows:
        if ttft is not None:
            assert r[c["ttft_s"]] <= ttft
        if tpot is not None:
            assert r[c["tpot_s"]] <= tpot
        assert r[c["gpus"]] == r[c["replicas"]] * r[c["tp"]]
        assert r[c["output_tokens_per_s"]] >= rps * out * (1 - 1e-9)
        # The TPOT of the row is what SERVE_TPOT_SECONDS gives at its batch.
        assert r[c["tpot_s"]] == pytest.approx(x.SERVE_TPOT_SECONDS(
            model, gpu, r[c["tp"]], r[c["batch"]], prompt, out, prec), rel=1e-12)
        # One replica fewer would not carry the load.
        per_replica = r[c["output_tokens_per_s"]] / r[c["replicas"]]
        assert (r[c["replicas"]] - 1) * per_replica < rps * out
    key = (lambda r: (r[c["usd_per_m_output_tokens"]], r[c["gpus"]])) if usd else \
        (lambda r: r[c["gpus"]])
    assert all(key(rows[0]) <= key(r) for r in rows)
    # A TP size missing from the table cannot meet the targets.
    listed = {r[c["tp"]] for r in rows}
    for tp in (1, 2, 4, 8):
        if tp in listed:
            continue
        tp1 = x.SERVE_TPOT_SECONDS(model, gpu, tp, 1, prompt, out, prec)
        if isinstance(tp1, str):
            assert tp1.startswith("#NUM!")
            continue
        assert (tpot is not None and tp1 > tpot) or (ttft is not None and x.SERVE_TTFT_SECONDS(
            model, gpu, tp, prompt, 1, prec) > ttft)


def test_405b_on_mi300x_needs_more_gpus_than_the_roofline_gave():
    """Issue 12: the roofline under-sized 405B fleets on MI300X (16 GPUs where measured
    throughput needs about 40). At 1,000 + 250 tokens and 10 requests/s the calibrated model
    needs twice the roofline's GPUs at TP 8."""
    args = ("llama-3.1-405b", "fp8", "mi300x", 10, 1000, 250, None, 8, "fp8")
    assert x.SERVE_GPUS(*args) >= 2 * x.SERVE_GPUS(*args, 1)


def test_serve_plan_infeasible_targets_are_refused():
    got = x.SERVE_PLAN("llama-3-70b", "h100-sxm", 10, 1000, 250, "fp8", 0.001, 0.001)
    assert isinstance(got, str) and got.startswith("#NUM! no tensor-parallel size")


# ---------------------------------------------------------------- API prices, break-even

def test_api_price_rows_are_sourced_and_dated():
    table = x.API_PRICE_LIST()
    header, rows = table[0], table[1:]
    assert header[:6] == ["id", "provider", "model", "input_usd_per_m", "output_usd_per_m",
                          "cached_input_usd_per_m"]
    assert len(rows) >= 5
    for r in rows:
        pid = r[0]
        assert re.fullmatch(r"20\d\d-\d\d", x.API_PRICE(pid, "date")), pid
        assert re.fullmatch(r"20\d\d-\d\d-\d\d", x.API_PRICE(pid, "retrieved")), pid
        assert len(x.API_PRICE(pid, "source")) > 30
        inp, outp = x.API_PRICE(pid, "input_usd_per_m"), x.API_PRICE(pid, "output_usd_per_m")
        assert 0 < inp <= outp < 200
        cached = r[header.index("cached_input_usd_per_m")]
        assert cached == "" or 0 < cached < inp
        model_id = x.API_PRICE(pid, "model_id")
        assert model_id == "" or model_id in core.model_ids()
    assert x.API_PRICE("openai-gpt-4o", "output_usd_per_m") == 10.0
    assert x.API_PRICE("nope", "output_usd_per_m").startswith("#N/A")
    assert x.API_PRICE("groq-llama-3-70b", "cached_input_usd_per_m").startswith("#N/A")


def test_breakeven_is_where_one_replica_costs_what_the_api_charges():
    v = x.SELF_HOST_BREAKEVEN_TOKENS_PER_DAY("llama-3-70b", "h100-sxm", "groq-llama-3-70b",
                                              1000, 250, 2.5, "fp8")
    a = (1000 * 0.59 + 250 * 0.79) / 1e6
    requests = v / 1250
    tp_cost = requests * a / (2.5 * 24)  # GPUs of the replica the volume pays for
    assert tp_cost == pytest.approx(round(tp_cost), rel=1e-9) and round(tp_cost) in (1, 2, 4, 8)
    dearer = x.SELF_HOST_BREAKEVEN_TOKENS_PER_DAY("llama-3-70b", "h100-sxm",
                                                  "groq-llama-3-70b", 1000, 250, 5, "fp8")
    assert dearer > v
    # Against a pricier API the break-even comes sooner.
    assert x.SELF_HOST_BREAKEVEN_TOKENS_PER_DAY("llama-3-70b", "h100-sxm", "openai-gpt-4o",
                                                1000, 250, 2.5, "fp8") < v
    blank = x.SELF_HOST_BREAKEVEN_TOKENS_PER_DAY("llama-3-70b", "h100-sxm", "openai-gpt-4o",
                                                 1000, 250, None, "fp8")
    assert isinstance(blank, float) and math.isfinite(blank)
