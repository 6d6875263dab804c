"""Excel functions of the parallel training plan: memory per GPU, step time, MFU, the search.

Thin wrappers over :mod:`formulas.plan`; the model, its constants and their sources are
described there and in ``formulas/data/plan_assumptions.csv``.
"""

from __future__ import annotations

from llm_budget_planner.formulas import plan

from ._args import ARG_H, ARG_L, ARG_P
from ._excel import Arg, udf

__all__ = ["PLAN_MEM_GB", "PLAN_MEM_BREAKDOWN", "PLAN_STEP_SECONDS", "PLAN_MFU",
           "PLAN_TRAINING", "PLAN_FOR_DEADLINE"]

GROUP = "Parallel plan"

_P, _L, _H = ARG_P, ARG_L, ARG_H
_A = Arg("Attention heads, e.g. 96 for GPT-3; tp must divide it.")
_S = Arg("Sequence length in tokens, e.g. 2048.")
_MB = Arg("Micro-batch size in sequences per pipeline slot, e.g. 1.")
_GB = Arg("Global batch in sequences per step, e.g. 1536; a multiple of micro_batch x dp.")
_TP = Arg("Tensor-parallel degree (GPUs splitting each layer), e.g. 8.")
_PP = Arg("Pipeline stages, e.g. 8; must divide L (times interleave).")
_DP = Arg("Data-parallel replicas, e.g. 16 (GPUs = tp x pp x dp).")
_ZERO = Arg("ZeRO stage over the dp replicas: 0 none, 1 optimizer states (default), "
            "2 +gradients, 3 +weights.")
_SP = Arg("TRUE (default) with sequence parallelism (norms and dropout split over tp).",
          "flag")
_RC = Arg("Activation recomputation: \"selective\" (default), \"none\" or \"full\".", "text")
_IV = Arg("Model chunks per GPU of the interleaved pipeline schedule: 1 (default) for plain "
          "1F1B.")
_GPU = Arg("GPU catalog id, e.g. \"a100-sxm-80gb\" or \"h100-sxm\" (see GPU_LIST()).", "text")
_T = Arg("Training tokens, raw count: 300E9 for 300B tokens.")
_S_SEARCH = Arg("Sequence length in tokens: 4096 (default).")
_GBT = Arg("Tokens per optimizer step: 4E6 (default); rounded to whole micro-batches.")

_MEM_ARGS = dict(P=_P, L=_L, h=_H, a=_A, s=_S, micro_batch=_MB, tp=_TP, pp=_PP, dp=_DP,
                 zero_stage=_ZERO, sequence_parallel=_SP, recompute=_RC, interleave=_IV)
_STEP_ARGS = dict(P=_P, L=_L, h=_H, a=_A, s=_S, global_batch=_GB, micro_batch=_MB, tp=_TP,
                  pp=_PP, dp=_DP, gpu=_GPU, recompute=_RC, sequence_parallel=_SP,
                  interleave=_IV, zero_stage=_ZERO)


@udf(GROUP, "=PLAN_MEM_GB(175E9,96,12288,96,2048,1,8,8,1,0) -> 60.1 (GPT-3, TP8 PP8)",
     **_MEM_ARGS)
def PLAN_MEM_GB(P, L, h, a, s, micro_batch, tp, pp, dp, zero_stage=1, sequence_parallel=True,
                recompute="selective", interleave=1):
    """Per-GPU memory in GB of a tp x pp x dp layout: ZeRO-sharded model state, activations of the micro-batches in flight (Korthikanti 2022), buffers."""
    return plan.plan_mem_gb(P, L, h, a, s, micro_batch, tp, pp, dp, zero_stage,
                            sequence_parallel, recompute, interleave)


@udf(GROUP, "=PLAN_MEM_BREAKDOWN(175E9,96,12288,96,2048,1,8,8,1,0) -> 5.47, 5.47, 32.8, "
     "10.3, 6.08, 60.1", broadcast=False, **_MEM_ARGS)
def PLAN_MEM_BREAKDOWN(P, L, h, a, s, micro_batch, tp, pp, dp, zero_stage=1,
                       sequence_parallel=True, recompute="selective", interleave=1):
    """Row of per-GPU memory parts in GB: weights, gradients, optimizer, activations, buffers, total."""
    parts = plan.plan_mem_breakdown(P, L, h, a, s, micro_batch, tp, pp, dp, zero_stage,
                                    sequence_parallel, recompute, interleave)
    return [[parts[k] for k in plan.MEM_PARTS]]


@udf(GROUP, "=PLAN_STEP_SECONDS(175E9,96,12288,96,2048,64,1,8,8,1,\"a100-sxm-80gb\") -> "
     "13.5 (measured 13.75 s)", **_STEP_ARGS)
def PLAN_STEP_SECONDS(P, L, h, a, s, global_batch, micro_batch, tp, pp, dp, gpu,
                      recompute="selective", sequence_parallel=True, interleave=1,
                      zero_stage=1):
    """Predicted seconds per training step of a layout: matmuls at achievable peak, TP/PP/DP communication, pipeline bubble, optimizer."""
    return plan.plan_step_seconds(P, L, h, a, s, global_batch, micro_batch, tp, pp, dp, gpu,
                                  recompute, sequence_parallel, interleave, zero_stage)


@udf(GROUP, "=PLAN_MFU(175E9,96,12288,96,2048,64,1,8,8,1,\"a100-sxm-80gb\") -> 0.526 "
     "(measured 0.514)", **_STEP_ARGS)
def PLAN_MFU(P, L, h, a, s, global_batch, micro_batch, tp, pp, dp, gpu, recompute="selective",
             sequence_parallel=True, interleave=1, zero_stage=1):
    """Predicted model FLOPs utilisation (fraction of peak) of a layout: (6P + 12·L·h·s) FLOPs per token / (step seconds x GPUs x peak)."""
    return plan.plan_mfu(P, L, h, a, s, global_batch, micro_batch, tp, pp, dp, gpu, recompute,
                         sequence_parallel, interleave, zero_stage)


@udf(GROUP, "=PLAN_TRAINING(175E9,96,12288,96,300E9,\"a100-sxm-80gb\",1024,2048,3145728) -> "
     "a table, best first: tp 4, pp 16, dp 16, ... 20.8 days", broadcast=False,
     example_args=(175e9, 96, 12288, 96, 300e9, "a100-sxm-80gb", 1024, 2048, 3145728),
     P=_P, L=_L, h=_H, a=_A, T=_T, gpu=_GPU,
     num_gpus=Arg("GPUs to plan for, e.g. 1024; every tp x pp x dp = num_gpus is tried."),
     s=_S_SEARCH, global_batch_tokens=_GBT,
     top=Arg("Rows to return, best first: 10 (default)."))
def PLAN_TRAINING(P, L, h, a, T, gpu, num_gpus, s=4096, global_batch_tokens=4e6, top=10):
    """Table (header row, then the fastest layouts that fit in GPU memory): tp, pp, dp, micro_batch, zero_stage, recompute, mem_gb, mfu, days, gpu_hours, sequence_parallel, interleave."""
    table = plan.plan_training(P, L, h, a, T, gpu, num_gpus, s, global_batch_tokens, top)
    return [list(plan.PLAN_COLUMNS)] + [list(row) for row in
                                        table.itertuples(index=False, name=None)]


_DEADLINE_COLUMNS = ("num_gpus", "days", "gpu_hours", "cost", "tp", "pp", "dp", "micro_batch",
                     "zero_stage", "recompute", "sequence_parallel", "interleave", "mem_gb",
                     "mfu")


@udf(GROUP, "=PLAN_FOR_DEADLINE(175E9,96,12288,96,300E9,\"a100-sxm-80gb\",30,2,2048,3145728) "
     "-> 704 GPUs, 29.5 days, $995,787", broadcast=False,
     example_args=(175e9, 96, 12288, 96, 300e9, "a100-sxm-80gb", 30, 2, 2048, 3145728),
     P=_P, L=_L, h=_H, a=_A, T=_T, gpu=_GPU,
     max_days=Arg("Deadline in days, e.g. 30."),
     price_per_gpu_hour=Arg("Price of one GPU-hour, e.g. 2 (USD); 0 (default) leaves the "
                            "cost at 0."),
     s=_S_SEARCH, global_batch_tokens=_GBT)
def PLAN_FOR_DEADLINE(P, L, h, a, T, gpu, max_days, price_per_gpu_hour=0, s=4096,
                      global_batch_tokens=4e6):
    """Table (header row, value row): the fewest GPUs whose best layout trains within max_days, its days, GPU-hours, cost and layout."""
    best = plan.plan_for_deadline(P, L, h, a, T, gpu, max_days, price_per_gpu_hour, s,
                                  global_batch_tokens)
    return [list(_DEADLINE_COLUMNS), [best[k] for k in _DEADLINE_COLUMNS]]
