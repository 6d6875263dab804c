"""The parallel training plan: published runs, invariants, special cases and bad input.

Published runs (tests/data/published_plans.csv) go through the Excel functions
(addin.udfs); invariants are checked on the core and through Excel where they concern
what a user sees.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llm_budget_planner.addin.udfs as x
from llm_budget_planner import formulas as core
from llm_budget_planner.formulas import plan
from tests.reference_rows import check_row, load_rows

PLANS = load_rows("published_plans.csv")
GPT3 = dict(P=175e9, L=96, h=12288, a=96)
A100 = "a100-sxm-80gb"


# ------------------------------------------------------------------------- published runs

@pytest.mark.parametrize("row", PLANS, ids=[r["id"] for r in PLANS])
def test_published_run(row):
    check_row(row)


def test_published_table_covers_the_required_rows():
    ids = {r["id"] for r in PLANS}
    assert "korthikanti-t5-175B" in ids  # the reference row, unchanged
    assert len(PLANS) >= 10
    for r in PLANS:
        assert r["source"].strip() and 0 < float(r["rel_tol"]) <= 0.30, r["id"]
    # Korthikanti et al. Table 5 (the runs on current software) are held to 15% or better,
    # except the 22B MFU whose gap is explained in its source column.
    for r in PLANS:
        if r["id"].startswith("korthikanti") and r["id"] != "korthikanti-t5-22B":
            assert float(r["rel_tol"]) <= 0.15, r["id"]


def test_layer_efficiency_matches_korthikanti_table4():
    """layer_fraction_of_mamf is what Korthikanti et al. Table 4's 22B layer implies.

    One layer (h 6144, 64 heads, t 8, s 2048, b 4), no recomputation, no sequence
    parallelism: 19.6 ms forward + backward on an A100. Taking this model's tensor-parallel
    and memory-bound time out leaves the matmuls, whose rate over the A100's measured
    maximum matmul rate is the assumption.
    """
    hw = plan.plan_hardware(A100)
    k = plan._constants(A100)
    b, s, h, a, t = 4, 2048, 6144, 64, 8
    flops = (72 * h * h + 12 * h * s) * b * s / t
    elem = k["act_hbm_passes"] * plan._act_layer_bytes(b, s, h, a, t, False, 0) / (
        hw.mem_bw_gbps * 1e9)
    tp = 4 * 2 * (t - 1) / t * b * s * h * 2 / (hw.scale_up_gbps * 1e9)
    eta = flops / ((19.6e-3 - elem - tp) * hw.peak_tflops * 1e12)
    derived = eta / plan.plan_assumption("mamf_fraction", A100)
    assert derived == pytest.approx(plan.plan_assumption("layer_fraction_of_mamf"), abs=0.005)


def test_assumptions_have_a_source_and_a_default():
    table = plan.plan_assumptions()
    assert table.source.str.strip().str.len().min() > 20
    for key in table.key.unique():
        assert (table[(table.key == key)].gpu == "").sum() == 1, key
    for gpu in core.gpu_ids():  # every catalogued GPU resolves every assumption
        hw = plan.plan_hardware(gpu)
        assert 0.3 < hw.eta < 0.9 and hw.scale_out_gbps > 0 and hw.gpus_per_node >= 1


# --------------------------------------------------------------------- special cases agree

@pytest.mark.parametrize("stage", [0, 1, 2, 3])
@pytest.mark.parametrize("dp", [1, 8, 64])
def test_model_state_agrees_with_zero_mem_gb(stage, dp):
    parts = plan.plan_mem_breakdown(7.5e9, 32, 4096, 32, 2048, 1, 1, 1, dp, stage)
    state = parts["weights_gb"] + parts["grads_gb"] + parts["optimizer_gb"]
    assert state == pytest.approx(x.ZERO_MEM_GB(7.5e9, stage, dp), rel=1e-12)
    # with tp x pp GPUs per replica the state is that of P / (tp pp) parameters
    parts = plan.plan_mem_breakdown(175e9, 96, 12288, 96, 2048, 1, 8, 4, dp, min(stage, 1))
    state = parts["weights_gb"] + parts["grads_gb"] + parts["optimizer_gb"]
    assert state == pytest.approx(x.ZERO_MEM_GB(175e9 / 32, min(stage, 1), dp), rel=1e-12)


@pytest.mark.parametrize("recompute", ["none", "selective", "full"])
@pytest.mark.parametrize("sp", [False, True])
@pytest.mark.parametrize("tp", [1, 2, 8])
@pytest.mark.parametrize("b", [1, 4])
def test_activations_agree_with_act_mem_gb(recompute, sp, tp, b):
    row = x.PLAN_MEM_BREAKDOWN(175e9, 96, 12288, 96, 2048, b, tp, 1, 1, 0, sp, recompute)
    acts = row[0][plan.MEM_PARTS.index("activations_gb")]
    assert acts == pytest.approx(x.ACT_MEM_GB(96, b, 2048, 12288, 96, 2, tp, sp, recompute),
                                 rel=1e-12)


def test_first_stage_holds_pp_micro_batches_of_its_layers():
    # Korthikanti et al. §4.2.3: the first stage stores L/pp layers for pp micro-batches,
    # i.e. all L layers' worth, whatever pp is.
    one = plan.plan_mem_breakdown(175e9, 96, 12288, 96, 2048, 1, 8, 1, 1, 0)["activations_gb"]
    for pp in (2, 8, 32):
        acts = plan.plan_mem_breakdown(175e9, 96, 12288, 96, 2048, 1, 8, pp, 1, 0)
        assert acts["activations_gb"] == pytest.approx(one, rel=1e-12)
    inter = plan.plan_mem_breakdown(530e9, 105, 20480, 128, 2048, 1, 8, 35, 1, 0, True,
                                    "selective", 3)["activations_gb"]
    plain = plan.plan_mem_breakdown(530e9, 105, 20480, 128, 2048, 1, 8, 35, 1, 0, True,
                                    "selective", 1)["activations_gb"]
    assert inter / plain == pytest.approx(1 + 34 / 105)


def test_breakdown_sums_to_total_and_matches_plan_mem_gb():
    row = x.PLAN_MEM_BREAKDOWN(175e9, 96, 12288, 96, 2048, 1, 8, 8, 1, 0)[0]
    assert sum(row[:-1]) == pytest.approx(row[-1])
    assert row[-1] == pytest.approx(x.PLAN_MEM_GB(175e9, 96, 12288, 96, 2048, 1, 8, 8, 1, 0))


def test_mfu_is_model_flops_over_step_time():
    args = (175e9, 96, 12288, 96, 2048, 64, 1, 8, 8, 1, A100)
    seconds = x.PLAN_STEP_SECONDS(*args)
    # 72 B s L h^2 (1 + s/6h + V/12Lh) with P = 12 L h^2 + V h is (6P + 12 L h s) B s
    P = 12 * 96 * 12288**2 + 51200 * 12288
    flops = x.ITER_FLOPS(64, 2048, 96, 12288, 51200, False)
    assert (6 * P + 12 * 96 * 12288 * 2048) * 64 * 2048 == pytest.approx(flops, rel=1e-12)
    mfu = x.PLAN_MFU(P, *args[1:])
    assert mfu == pytest.approx(x.MFU(flops, x.PLAN_STEP_SECONDS(P, *args[1:]), 64, 312),
                                rel=1e-12)
    assert seconds > 0


# ----------------------------------------------------------------------------- invariants

SEARCHES = [
    (175e9, 96, 12288, 96, 300e9, A100, 1024, 2048, 1536 * 2048),
    (175e9, 96, 12288, 96, 300e9, A100, 512, 4096, 4e6),
    (70e9, 80, 8192, 64, 2e12, "h100-sxm", 256, 4096, 4e6),
    (7e9, 32, 4096, 32, 1e12, "h100-sxm", 8, 4096, 4e6),
    (13e9, 40, 5120, 40, 1e12, "mi300x", 64, 4096, 4e6),
]


@pytest.mark.parametrize("args", SEARCHES, ids=lambda a: f"{a[0]:.0e}-{a[5]}-{a[6]}")
def test_search_invariants(args):
    P, L, h, a, T, gpu, N, s, gbt = args
    table = plan.plan_training(P, L, h, a, T, gpu, N, s, gbt, 50)
    assert len(table) > 0
    assert list(table.columns) == list(plan.PLAN_COLUMNS)
    assert (table.tp * table.pp * table.dp == N).all()
    spec = core.gpu(gpu)
    assert (table.mem_gb <= spec.memory_gb).all()
    floor = 6 * P * T / (N * spec.tflops_bf16 * 1e12) / 86400
    assert (table.days >= floor).all() and (table.mfu <= 1).all() and (table.mfu > 0).all()
    assert table.days.is_monotonic_increasing
    assert np.allclose(table.gpu_hours, table.days * 24 * N)
    assert (L % (table.pp * table.interleave) == 0).all() and (a % table.tp == 0).all()
    # each row's memory is what PLAN_MEM_GB says for that layout (first stage, pp in flight
    # whenever the batch gives each replica at least pp micro-batches)
    for r in table.head(5).itertuples():
        m = round(gbt / s / (r.micro_batch * r.dp))
        if m >= r.pp:
            mem = plan.plan_mem_gb(P, L, h, a, s, r.micro_batch, r.tp, r.pp, r.dp, r.zero_stage,
                                   r.sequence_parallel, r.recompute, r.interleave)
            assert mem == pytest.approx(r.mem_gb, rel=1e-9)


def test_excel_table_has_a_header_and_the_dataframe_rows():
    args = (175e9, 96, 12288, 96, 300e9, A100, 1024, 2048, 1536 * 2048, 5)
    out = x.PLAN_TRAINING(*args)
    df = plan.plan_training(*args)
    assert out[0] == list(plan.PLAN_COLUMNS)
    assert len(out) == 6
    assert [tuple(r) for r in out[1:]] == list(df.itertuples(index=False, name=None))
    assert all(isinstance(c, (int, float, str, bool)) for r in out for c in r)


layouts = st.tuples(st.sampled_from([1, 2, 4, 8]), st.sampled_from([1, 2, 4, 8, 16]),
                    st.sampled_from([1, 2, 8, 64]), st.sampled_from([1, 2, 4]),
                    st.sampled_from(["none", "selective", "full"]), st.booleans())


@settings(max_examples=60, deadline=None, database=None)
@given(layouts)
def test_memory_falls_with_zero_stage_and_tp(layout):
    tp, pp, dp, b, rc, sp = layout
    mem = [plan.plan_mem_gb(175e9, 96, 12288, 96, 2048, b, tp, pp, dp, z, sp, rc)
           for z in range(4)]
    assert all(m2 <= m1 for m1, m2 in zip(mem, mem[1:]))
    if dp > 1:
        assert all(m2 < m1 for m1, m2 in zip(mem, mem[1:]))
    by_tp = [plan.plan_mem_gb(175e9, 96, 12288, 96, 2048, b, t, pp, dp, 1, sp, rc)
             for t in (1, 2, 4, 8)]
    assert all(m2 < m1 for m1, m2 in zip(by_tp, by_tp[1:]))


@settings(max_examples=60, deadline=None, database=None)
@given(layouts, st.sampled_from(["a100-sxm-80gb", "h100-sxm", "b200", "mi300x", "l40s"]))
def test_step_time_is_bounded_below_by_peak(layout, gpu):
    tp, pp, dp, b, rc, sp = layout
    B = b * dp * 16
    mfu = plan.plan_mfu(175e9, 96, 12288, 96, 2048, B, b, tp, pp, dp, gpu, rc, sp)
    assert 0 < mfu < plan.plan_hardware(gpu).eta


def test_range_call_equals_single_cells():
    tps = [[1], [2], [4], [8]]
    col = x.PLAN_MEM_GB(175e9, 96, 12288, 96, 2048, 1, tps, 8, 16, 1)
    assert [r[0] for r in col] == [x.PLAN_MEM_GB(175e9, 96, 12288, 96, 2048, 1, t[0], 8, 16, 1)
                                   for t in tps]
    mfus = x.PLAN_MFU(175e9, 96, 12288, 96, 2048, 1536, 1, 8, [[4, 8, 16]], [[32, 16, 8]],
                      A100)
    assert mfus[0] == [x.PLAN_MFU(175e9, 96, 12288, 96, 2048, 1536, 1, 8, p, d, A100)
                       for p, d in ((4, 32), (8, 16), (16, 8))]


# ------------------------------------------------------------------------------ deadline

def test_deadline_gives_the_fewest_whole_nodes():
    args = (175e9, 96, 12288, 96, 300e9, A100)
    best = plan.plan_for_deadline(*args, 30, 2.0, 2048, 1536 * 2048)
    n = best["num_gpus"]
    assert best["days"] <= 30 and n % 8 == 0
    assert best["cost"] == pytest.approx(best["gpu_hours"] * 2.0)
    assert best["tp"] * best["pp"] * best["dp"] == n
    assert best["gpu_hours"] == pytest.approx(best["days"] * 24 * n)
    # one node fewer misses the deadline (or fits no layout at all)
    try:
        fewer = plan.plan_training(*args, n - 8, 2048, 1536 * 2048, 1)
        assert fewer.days.iloc[0] > 30
    except core.InfeasibleError:
        pass
    # the same plan is what the search over n GPUs finds first
    top = plan.plan_training(*args, n, 2048, 1536 * 2048, 1).iloc[0]
    assert top.days == pytest.approx(best["days"])
    # a later deadline never needs more GPUs
    later = plan.plan_for_deadline(*args, 60, None, 2048, 1536 * 2048)
    assert later["num_gpus"] <= n and later["cost"] is None


def test_deadline_below_one_node_and_excel_row():
    best = plan.plan_for_deadline(1e9, 24, 2048, 16, 20e9, "h100-sxm", 30, 2.0, 2048, 1e6)
    assert best["num_gpus"] in (1, 2, 4, 8) and best["days"] <= 30
    out = x.PLAN_FOR_DEADLINE(1e9, 24, 2048, 16, 20e9, "h100-sxm", 30, 2.0, 2048, 1e6)
    assert out[0][:4] == ["num_gpus", "days", "gpu_hours", "cost"]
    assert out[1][0] == best["num_gpus"] and out[1][3] == pytest.approx(best["cost"])


# ---------------------------------------------------------------------------- bad input

BAD = [
    ("heads not divisible by tp", lambda: x.PLAN_MFU(175e9, 96, 12288, 96, 2048, 64, 1, 5, 8, 1,
                                                      A100), "#NUM!", "tp"),
    ("layers not divisible by pp", lambda: x.PLAN_MEM_GB(175e9, 96, 12288, 96, 2048, 1, 8, 7, 1),
     "#NUM!", "pp"),
    ("batch not divisible by micro_batch x dp",
     lambda: x.PLAN_MFU(175e9, 96, 12288, 96, 2048, 60, 1, 8, 8, 8, A100), "#NUM!", "dp"),
    ("unknown gpu", lambda: x.PLAN_MFU(175e9, 96, 12288, 96, 2048, 64, 1, 8, 8, 1, "a100-81gb"),
     "#N/A", "a100-sxm-80gb"),
    ("unknown gpu in the search",
     lambda: x.PLAN_TRAINING(175e9, 96, 12288, 96, 300e9, "h1000", 1024), "#N/A", "gpu"),
    ("no layout of 7 GPUs fits", lambda: x.PLAN_TRAINING(175e9, 96, 12288, 96, 300e9, A100, 7),
     "#NUM!", "more GPUs"),
    ("parameters in billions", lambda: x.PLAN_MEM_GB(175, 96, 12288, 96, 2048, 1, 8, 8, 1),
     "#NUM!", "raw parameter count"),
    ("interleave needs m multiple of pp",
     lambda: x.PLAN_MFU(175e9, 96, 12288, 96, 2048, 60, 1, 8, 8, 1, A100, "selective", True, 2),
     "#NUM!", "interleave"),
    ("unknown recompute", lambda: x.PLAN_MEM_GB(175e9, 96, 12288, 96, 2048, 1, 8, 8, 1, 1, True,
                                                "some"), "#N/A", "selective"),
    ("impossible deadline",
     lambda: x.PLAN_FOR_DEADLINE(175e9, 96, 12288, 96, 300e9, A100, 1e-6), "#NUM!", "deadline"),
    ("range into a table function",
     lambda: x.PLAN_TRAINING(175e9, 96, 12288, 96, 300e9, A100, [[512], [1024]]), "#VALUE!",
     "single cell"),
]


@pytest.mark.parametrize("case", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_clear_line(case):
    _, call, code, fragment = case
    out = call()
    assert isinstance(out, str) and out.startswith(code + " "), out
    assert "\n" not in out and fragment in out, out


def test_bad_cell_in_a_range_stays_local():
    col = x.PLAN_MEM_GB(175e9, 96, 12288, 96, 2048, 1, [[8], [5], [4]], 8, 1, 0)
    assert isinstance(col[0][0], float) and isinstance(col[2][0], float)
    assert col[1][0].startswith("#NUM!") and "tp" in col[1][0]
    assert math.isclose(col[0][0], x.PLAN_MEM_GB(175e9, 96, 12288, 96, 2048, 1, 8, 8, 1, 0))
