"""Per-formula tests against cited values (papers' tables, closed forms, seed articles)."""

import numpy as np
import pytest

from llm_budget_planner import formulas as core
from llm_budget_planner.formulas.errors import (
    FormulasError,
    ImplausibleUnitError,
    InfeasibleError,
    InvalidInputError,
    UnknownNameError,
)

SBH = 2048 * 1 * 12288  # s*b*h for one GPT-3 layer, micro-batch 1 (Korthikanti Table 2 setup)
A_S_OVER_H = 96 * 2048 / 12288


class TestParams:
    def test_gpt3_exact_and_approx(self):
        # Seed 003 §1: exact 174,590,656,512; approx 173,946,175,488.
        assert core.llm_params(96, 12288, 51200) == 174_590_656_512
        assert core.llm_params_approx(96, 12288) == 173_946_175_488

    def test_megatron_table1_with_positions(self):
        # Narayanan et al. 2021 Table 1: 18.4B at L=40, h=6144 (2048 learned positions).
        assert core.llm_params(40, 6144, 51200, 2048) == pytest.approx(18.4e9, rel=0.003)

    def test_arch_reduces_to_gpt_count_without_norm_biases(self):
        # GPT layer 12h^2+13h: 4h^2 attention + 4h biases, 8h^2 + 5h MLP, 4h norms.
        # The Llama-style count has 2h^2+2h*kv attention, no biases, RMSNorm (2h).
        L, h, V = 24, 2048, 50000
        arch = core.llm_params_arch(L, h, V, 4 * h, 16, 16, gated_ffn=False, tied_embeddings=True)
        gpt = core.llm_params(L, h, V)
        assert gpt - arch == L * (13 * h - 2 * h) - h

    def test_broadcasting_scalar_in_scalar_out(self):
        assert isinstance(core.llm_params(96, 12288, 51200), float)
        out = core.llm_params(np.array([[24], [96]]), 12288, 51200)
        assert out.shape == (2, 1)

    def test_invalid(self):
        with pytest.raises(InvalidInputError, match="kv_heads cannot exceed heads"):
            core.llm_params_arch(32, 4096, 32000, 11008, 8, 32)
        with pytest.raises(InvalidInputError, match="L must be a whole number"):
            core.llm_params(9.5, 4096, 32000)

    def test_lora_gpt3(self):
        # Hu et al. 2021 §4/§7.1: GPT-3, r=4 on W_q and W_v -> 18.9M (18,874,368) parameters.
        assert core.lora_params(12288, 4, 2 * 96) == 18_874_368


class TestCompute:
    def test_kaplan_6nd(self):
        # Hoffmann et al. 2022 Table 3: 1B params, 20.2B tokens -> 1.21e20 FLOPs.
        assert core.train_flops(1e9, 20.2e9) == pytest.approx(1.21e20, rel=0.005)

    def test_gpt3_total_compute(self):
        # Brown et al. 2020 Table D.1: GPT-3 175B, 3.14e23 FLOPs.
        assert core.train_flops(174.6e9, 300e9) == pytest.approx(3.14e23, rel=0.001)

    def test_iteration_flops_recompute_ratio(self):
        # 96/72 = 4/3 on the dominant term: recomputation adds one forward pass (2 of 6).
        a = core.iter_flops(1536, 2048, 96, 12288, 51200, True)
        b = core.iter_flops(1536, 2048, 96, 12288, 51200, False)
        assert 1.30 < a / b < 4 / 3

    def test_mfu_definition(self):
        # Korthikanti et al. 2022 §6: MFU = model FLOPs per second / peak; the 175B row of
        # Table 5 is in tests/data/published_examples.csv. Here: twice the time, half the MFU.
        f = core.iter_flops(64, 2048, 96, 12288, 51200, False)
        assert core.mfu(f, 27.5, 64, 312) == pytest.approx(core.mfu(f, 13.75, 64, 312) / 2)


class TestTraining:
    def test_seed_examples(self):
        # Seed 003 §3: 2,921,340 s; 1154.1 GPUs for 30 days.
        assert core.train_days(175e9, 300e9, 1024, 312, 0.45) * 86400 == pytest.approx(
            2_921_340, rel=1e-6)
        assert core.gpu_count_time(175e9, 300e9, 30, 312, 0.45, 8, False) == pytest.approx(
            1154.11, rel=1e-5)

    def test_megatron_1t_84_days(self):
        # Narayanan et al. 2021 §5.1: 1T params, 450B tokens, 3072 GPUs at 163 TFLOPS: 84 days.
        assert core.train_days(1e12, 450e9, 3072, 163, 1.0) == pytest.approx(84, rel=0.01)

    def test_gpu_hours_consistent_with_days(self):
        days = core.train_days(70e9, 2e12, 2048, 989.4, 0.4)
        hours = core.gpu_hours(70e9, 2e12, 989.4, 0.4)
        assert hours == pytest.approx(days * 24 * 2048)

    def test_round_up_ignores_float_noise(self):
        # 8*P*T/(days*86400*TF*MFU) == 1000 exactly in exact arithmetic.
        n = core.gpu_count_time(1e11, 1e12, 8e23 / (1000 * 86400 * 100e12 * 0.5) / 1, 100, 0.5)
        assert n == 1000

    @pytest.mark.parametrize("call, error, text", [
        (lambda: core.train_days(7, 2e12, 512, 989, 0.4), ImplausibleUnitError, "use 7E9 for 7B"),
        (lambda: core.train_days(7e9, 2000, 512, 989, 0.4), ImplausibleUnitError, "300E9"),
        (lambda: core.train_days(7e9, 2e12, 512, 989, 45), ImplausibleUnitError, "use 0.45"),
        (lambda: core.train_days(7e9, 2e12, 512, 989e12, 0.4), ImplausibleUnitError, "TFLOPS"),
        (lambda: core.train_days(7e9, 2e12, -1, 989, 0.4), InvalidInputError, "N must be"),
        (lambda: core.train_days(7e9, 2e12, 512, 989, 1.5), InvalidInputError, "between 0 and 1"),
        (lambda: core.gpu_count_mem(7e9, 18, 1.25, 80e9), ImplausibleUnitError, "GB"),
        (lambda: core.train_days(1e300, 1e300, 1, 1, 1), InfeasibleError, "overflows"),
    ])
    def test_unit_traps_and_bad_input(self, call, error, text):
        with np.errstate(all="ignore"), pytest.raises(error, match=text) as info:
            call()
        assert isinstance(info.value, FormulasError)
        assert info.value.excel_text().startswith(("#VALUE!", "#NUM!", "#N/A"))


class TestMemory:
    def test_zero_figure1(self):
        # Rajbhandari et al. 2019 Figure 1: 7.5B params, N_d = 64, K = 12:
        # baseline 120 GB, P_os 31.4 GB, P_os+g 16.6 GB, P_os+g+p 1.9 GB.
        expected = {0: 120, 1: 31.4, 2: 16.6, 3: 1.9}
        for stage, gb in expected.items():
            assert core.zero_mem_gb(7.5e9, stage, 64) == pytest.approx(gb, rel=0.02)

    def test_korthikanti_table2_variants(self):
        # Table 2 (bytes per layer, t = 8): TP only sbh(10 + 24/t + 5as/(ht));
        # TP + selective sbh(10 + 24/t); TP + SP + selective sbh(34/t); full 2sbh.
        t = 8
        cases = [
            (dict(tp=t), SBH * (10 + 24 / t + 5 * A_S_OVER_H / t)),
            (dict(tp=t, recompute="selective"), SBH * (10 + 24 / t)),
            (dict(tp=t, sequence_parallel=True, recompute="selective"), SBH * 34 / t),
            (dict(tp=1, recompute="full"), 2 * SBH),
            (dict(tp=1), SBH * (34 + 5 * A_S_OVER_H)),
        ]
        for kwargs, per_layer_bytes in cases:
            got = core.act_mem_gb(1, 1, 2048, 12288, 96, 2, **kwargs)
            assert got == pytest.approx(per_layer_bytes / 1e9, rel=1e-12), kwargs

    def test_activation_article_form_with_other_bytes(self):
        # Seed 004 §2.3: L*b*s*h*p*[16 + 2/p + (a*s/h)(2 + 1/p)] for any p.
        p = 4
        expected = 2 * 1 * 1024 * 4096 * p * (16 + 2 / p + (32 * 1024 / 4096) * (2 + 1 / p))
        assert core.act_mem_gb(2, 1, 1024, 4096, 32, p) == pytest.approx(expected / 1e9)

    def test_kv_cache_llama2_7b_per_token(self):
        # NVIDIA, "Mastering LLM Techniques: Inference Optimization" (2023): Llama 2 7B in
        # half precision holds 2 * 32 layers * 4096 * 2 bytes = 0.5 MB of KV cache per token.
        assert core.kv_cache_gb(32, 32, 128, 1, 1) * 1e9 == 2 * 32 * 4096 * 2

    def test_seed_memory_examples(self):
        assert core.train_mem_gb(175e9) == 3500          # seed 003: 20 bytes/param
        assert core.train_mem_gb(175e9, 16) == 2800      # seed 001: 700+700+1400 GB
        assert core.infer_mem_gb(175e9, 4) == 840        # seed 003
        assert core.model_state_gb(7e9, 2, 2) == 112     # seed 004: (2+2+12)*7

    def test_unknown_recompute_mode(self):
        with pytest.raises(UnknownNameError, match="none, selective, full"):
            core.act_mem_gb(1, 1, 2048, 12288, 96, recompute="partial")

    def test_zero_stage_range(self):
        with pytest.raises(InvalidInputError, match="stage must be 0, 1, 2 or 3"):
            core.zero_mem_gb(7e9, 4, 8)


class TestCommAndUnits:
    def test_ring_allreduce_volume(self):
        # Patarasuk & Yuan 2009: each process sends 2(N-1)/N of the buffer.
        assert core.dp_comm_gb(1e9, 2) == pytest.approx(2.0)       # 1e9 * 2 bytes * 1
        assert core.dp_comm_gb(1e9, 1024) == pytest.approx(4 * 1023 / 1024)

    def test_pipeline_bubble(self):
        # Narayanan et al. 2021 §2.2.1: (p-1)/m; interleaving divides it by v.
        assert core.pp_bubble(8, 64) == 7 / 64
        assert core.pp_bubble(8, 64, 2) == 7 / 128

    @pytest.mark.parametrize("unit, factor", [("GB/s", 1), ("GBps", 1), ("Gbps", 1 / 8),
                                              ("Gbit/s", 1 / 8), ("Gb/s", 1 / 8), ("TB/s", 1000), (" GB/s ", 1), ("gbps", 1 / 8)])
    def test_bandwidth_units(self, unit, factor):
        assert core.comm_seconds(100, 10, unit) == pytest.approx(10 / factor)

    def test_ambiguous_lower_case_unit_is_refused(self):
        with pytest.raises(UnknownNameError, match="ambiguous"):
            core.comm_seconds(100, 10, "gb/s")

    def test_unknown_bandwidth_unit(self):
        with pytest.raises(UnknownNameError, match="'GB/s' .* 'Gbps'"):
            core.comm_seconds(100, 10, "furlongs")

    @pytest.mark.parametrize("name, size", [("fp32", 4), ("FP16", 2), ("bf16", 2), ("BF-16", 2),
                                            ("fp8", 1), ("int8", 1), ("int4", 0.5), ("2", 2)])
    def test_precisions(self, name, size):
        assert core.bytes_per_param(name) == size

    def test_unknown_precision_lists_names(self):
        with pytest.raises(UnknownNameError, match="fp32, fp16, bf16, fp8, int8, int4"):
            core.bytes_per_param("int3")

    def test_chinchilla(self):
        assert core.chinchilla_tokens(70e9) == 1.4e12   # Chinchilla: 70B on 1.4T tokens

    def test_decode_bound(self):
        # Memory-bound decode: the batch shares one read of the weights per step.
        one = core.decode_tokens_per_s(7e9, 2, 3350)
        assert one == pytest.approx(3350e9 / 14e9)
        assert core.decode_tokens_per_s(7e9, 2, 3350, 8) == pytest.approx(8 * one)
