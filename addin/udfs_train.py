"""Excel functions of the 2024-26 training model: step seconds, memory, breakdown, plans.

Thin wrappers over :mod:`formulas.plan.train` and :mod:`formulas.plan.search`; the model,
its constants and their sources are described there and in
``formulas/data/plan_assumptions.csv``.
"""

from __future__ import annotations

from llm_budget_planner.formulas.plan import search, train

from ._excel import Arg, udf

__all__ = ["TRAIN_STEP_SECONDS", "TRAIN_MEM_GB_PER_GPU", "TRAIN_STEP_BREAKDOWN", "TRAIN_PLAN",
           "TRAIN_PLAN_DEADLINE"]

GROUP = "Training plan"

_MODEL = Arg("Model id, e.g. \"llama-3.1-405b\" (126 layers) or \"deepseek-v3\" (256 experts), "
             "or a two-column range of MODEL_SPEC fields and values.", "model")
_GPU = Arg("GPU catalog id, e.g. \"h100-sxm\" or \"b200\" (see GPU_LIST()).", "text")
_LAYOUT = Arg("Layout text, e.g. \"tp8 pp16 dp64\" or \"TP4 PP8 CP2 DP32 EP8 VP8 MB1\" "
              "(GPUs = tp x pp x cp x dp); vp, mb, zero0-3, none/selective/full are chosen "
              "when left out.", "text")
_SEQ = Arg("Sequence length in tokens, e.g. 8192.")
_GB = Arg("Global batch in sequences per optimizer step, e.g. 512.")
_PREC = Arg("Training precision: \"bf16\" (default), \"fp8\" or \"fp4\" (where the GPU has an "
            "FP4 peak).", "text")
_TOKENS = Arg("Training tokens, raw count: 15.6E12 for 15.6T tokens.")
_SEQ_SEARCH = Arg("Sequence length in tokens: 4096 (default).")
_GBT = Arg("Tokens per optimizer step: 4E6 (default); rounded to whole micro-batches.")
_STEP_ARGS = dict(model=_MODEL, gpu=_GPU, layout=_LAYOUT, seq_len=_SEQ, global_batch=_GB,
                  precision=_PREC)
_EX = "(\"llama-3.1-405b\",\"h100-sxm\",\"tp8 pp9 cp2 dp4 vp7 mb1\",8192,252"


@udf(GROUP, f"=TRAIN_STEP_SECONDS{_EX},\"fp8\") -> 12.0 (NVIDIA measured 11.24 s)",
     **_STEP_ARGS)
def TRAIN_STEP_SECONDS(model, gpu, layout, seq_len, global_batch, precision="bf16"):
    """Seconds per optimizer step of a layout: GEMMs at the precision's achievable peak, attention, memory-bound work, exposed TP/CP/EP/PP/DP traffic, bubble, optimizer."""
    return train.train_step_seconds(model, gpu, layout, seq_len, global_batch, precision)


@udf(GROUP, f"=TRAIN_MEM_GB_PER_GPU{_EX}) -> 74 GB (fits in 80)", **_STEP_ARGS)
def TRAIN_MEM_GB_PER_GPU(model, gpu, layout, seq_len, global_batch, precision="bf16"):
    """Peak GB per GPU on the fullest pipeline stage: weights, gradients, sharded optimizer, activations in flight, logits, buffers."""
    return train.train_mem_gb_per_gpu(model, gpu, layout, seq_len, global_batch, precision)


@udf(GROUP, f"=TRAIN_STEP_BREAKDOWN{_EX}) -> a two-column table: compute_s 16.2, ... "
     "vp 7, recompute none", broadcast=False, **_STEP_ARGS)
def TRAIN_STEP_BREAKDOWN(model, gpu, layout, seq_len, global_batch, precision="bf16"):
    """Two-column table (header row): seconds of compute, memory-bound work, exposed TP/CP/EP/PP/DP communication, bubble and optimizer; the step, GB, MFU and the knobs chosen."""
    rows = train.train_step_breakdown(model, gpu, layout, seq_len, global_batch, precision)
    return [["part", "value"]] + [[k, x] for k, x in rows]


@udf(GROUP, "=TRAIN_PLAN(\"llama-3.1-405b\",15.6E12,\"h100-sxm\",16384,8192,16E6) -> a "
     "table, best first: layout, global_batch, mem_gb, step_s, tokens_per_gpu_s, mfu, days, "
     "days_low, days_high, gpu_hours", broadcast=False,
     example_args=("llama-3.1-405b", 15.6e12, "h100-sxm", 16384, 8192, 16e6),
     model=_MODEL, tokens=_TOKENS, gpu=_GPU,
     num_gpus=Arg("GPUs to plan for, e.g. 16384; every tp x pp x cp x dp = num_gpus is "
                  "tried."),
     seq_len=_SEQ_SEARCH, global_batch_tokens=_GBT, precision=_PREC,
     top=Arg("Rows to return, best first: 10 (default)."))
def TRAIN_PLAN(model, tokens, gpu, num_gpus, seq_len=4096, global_batch_tokens=4e6,
               precision="bf16", top=10):
    """Table (header row, then the fastest layouts that fit in memory): layout (every knob, pastes back into TRAIN_STEP_SECONDS), global_batch, mem_gb, step_s, tokens_per_gpu_s, mfu, days with days_low/days_high, gpu_hours."""
    rows = search.train_plan(model, tokens, gpu, num_gpus, seq_len, global_batch_tokens,
                             precision, top)
    cols = search.TRAIN_PLAN_COLUMNS
    return [list(cols)] + [[r[c] for c in cols] for r in rows]


@udf(GROUP, "=TRAIN_PLAN_DEADLINE(\"llama-3-70b\",15E12,\"h100-sxm\",90,2.5,8192,16E6) -> "
     "header and one row: num_gpus, layout, days, gpu_hours, cost_usd ...", broadcast=False,
     example_args=("llama-3-70b", 15e12, "h100-sxm", 90, 2.5, 8192, 16e6),
     model=_MODEL, tokens=_TOKENS, gpu=_GPU,
     max_days=Arg("Deadline in days, e.g. 90."),
     usd_per_gpu_hour=Arg("Price of one GPU-hour in USD, e.g. 2.5; 0 (default) gives cost 0."),
     seq_len=_SEQ_SEARCH, global_batch_tokens=_GBT, precision=_PREC)
def TRAIN_PLAN_DEADLINE(model, tokens, gpu, max_days, usd_per_gpu_hour=0, seq_len=4096,
                        global_batch_tokens=4e6, precision="bf16"):
    """Table (header row, value row): the fewest GPUs, in whole servers, whose best layout trains within max_days; layout, days (low/high), GPU-hours, cost, GB, MFU."""
    r = search.train_plan_deadline(model, tokens, gpu, max_days, usd_per_gpu_hour, seq_len,
                                   global_batch_tokens, precision)
    cols = search.DEADLINE_COLUMNS
    return [list(cols), [r[c] for c in cols]]
