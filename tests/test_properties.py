"""Properties that must hold for any plausible input (Hypothesis)."""

import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

import llm_budget_planner.addin.udfs as x
from llm_budget_planner import formulas as core
from tests import strategies as s

SETTINGS = settings(max_examples=150, deadline=None)


@SETTINGS
@given(s.params, s.tokens, s.gpus, s.gpus, s.tflops, s.mfu)
def test_more_gpus_never_lengthen_training(P, T, n1, n2, tf, m):
    lo, hi = sorted((n1, n2))
    assert core.train_days(P, T, hi, tf, m) <= core.train_days(P, T, lo, tf, m)


@SETTINGS
@given(s.params, s.tokens, s.gpus, s.tflops, s.mfu, s.mfu)
def test_higher_mfu_never_lengthens_training(P, T, n, tf, m1, m2):
    lo, hi = sorted((m1, m2))
    assert core.train_days(P, T, n, tf, hi) <= core.train_days(P, T, n, tf, lo)


@SETTINGS
@given(s.params, s.tokens, s.days, s.tflops, s.mfu, s.flops_per_token)
def test_gpu_count_for_deadline_meets_it(P, T, d, tf, m, k):
    n = core.gpu_count_time(P, T, d, tf, m, k)
    assert n == int(n) and n >= 1
    assert core.train_days(P, T, n, tf, m, k) <= d * (1 + 1e-12)
    if n > 1:  # and one GPU fewer would miss it
        assert core.train_days(P, T, n - 1, tf, m, k) > d * (1 - 1e-9)


@SETTINGS
@given(s.params, s.gpu_memory, s.gpu_memory)
def test_more_memory_per_gpu_never_needs_more_gpus(P, m1, m2):
    lo, hi = sorted((m1, m2))
    assert core.gpu_count_mem(P, 18, 1.25, hi) <= core.gpu_count_mem(P, 18, 1.25, lo)


@SETTINGS
@given(s.params, st.integers(1, 4096), st.integers(0, 2), st.integers(1, 3))
def test_higher_zero_stage_never_needs_more_memory(P, dp, stage, step):
    higher = min(stage + step, 3)
    assert core.zero_mem_gb(P, higher, dp) <= core.zero_mem_gb(P, stage, dp) * (1 + 1e-12)


@SETTINGS
@given(st.integers(1, 128), st.integers(1, 16), st.sampled_from([512, 2048, 8192]),
       st.sampled_from([1024, 4096, 12288]), st.sampled_from([8, 32, 96]),
       st.sampled_from([1, 2, 4, 8]))
def test_recomputation_and_sequence_parallel_only_save_memory(L, b, seq, h, a, t):
    none = core.act_mem_gb(L, b, seq, h, a, 2, t, False, "none")
    sp = core.act_mem_gb(L, b, seq, h, a, 2, t, True, "none")
    sel = core.act_mem_gb(L, b, seq, h, a, 2, t, True, "selective")
    full = core.act_mem_gb(L, b, seq, h, a, 2, t, True, "full")
    assert full <= sel <= sp <= none * (1 + 1e-12)


@SETTINGS
@given(st.integers(1, 200), st.sampled_from([1024, 2048, 4096, 8192, 16384]),
       st.sampled_from([32000, 128256]), st.sampled_from([1, 2, 4, 8]),
       st.sampled_from([1, 8]), st.sampled_from([1, 2]))
def test_active_never_exceeds_total(L, h, V, kv_div, experts, k):
    assume(k <= experts)
    heads = h // 128
    kv = max(heads // kv_div, 1)
    assume(heads % kv == 0)
    total = core.llm_params_arch(L, h, V, 4 * h, heads, kv, experts, k)
    active = core.llm_active_params(L, h, V, 4 * h, heads, kv, experts, k)
    assert active <= total
    assert (active == total) == (k == experts)


@SETTINGS
@given(st.integers(2, 200), st.integers(1024, 65536))
def test_approximation_converges_for_large_hidden(L, h):
    exact = core.llm_params(L, h, 1) - h  # no embeddings: the per-layer count alone
    assert 0 < exact / core.llm_params_approx(L, h) - 1 <= 13 / (12 * 1024) + 1e-12


@SETTINGS
@given(st.lists(s.params, min_size=2, max_size=8), s.tokens, s.gpus, s.tflops, s.mfu)
def test_a_range_call_equals_the_scalar_calls(Ps, T, n, tf, m):
    column = [[p] for p in Ps]
    out = x.TRAIN_DAYS(column, T, n, tf, m)
    assert out == [[x.TRAIN_DAYS(p, T, n, tf, m)] for p in Ps]
    assert all(math.isfinite(v[0]) for v in out)
