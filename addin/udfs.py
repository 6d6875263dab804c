"""Excel functions of the GPU budget planner (xlwings UDF module).

Each function is named exactly as Excel shows it and is a thin wrapper over
:mod:`formulas`; conversion of Excel inputs, broadcasting over ranges and error text are
done once, by :func:`addin._excel.udf`. Units: raw counts (7E9 parameters), GB = 1E9
bytes, TFLOPS per GPU, GB/s, and the time unit in the function's name.
"""

from __future__ import annotations

from llm_budget_planner import formulas as core
from llm_budget_planner.formulas import catalog

from ._excel import Arg, udf

from ._args import (  # noqa: F401  (shared argument descriptions)
    ARG_P,
    ARG_T,
    ARG_N,
    ARG_TFLOPS,
    ARG_MFU,
    ARG_K_TRAIN,
    ARG_ROUND_UP,
    ARG_L,
    ARG_H,
    ARG_V,
    ARG_BYTES,
    ARG_BYTES_PER_PARAM_INF,
    ARG_ARCH,
)


# --------------------------------------------------------------------------- Model size

@udf("Model size", "=LLM_PARAMS(96,12288,51200) -> 174,590,656,512 (GPT-3)",
     L=ARG_L, h=ARG_H, V=ARG_V,
     S=Arg("Learned position embeddings (GPT-3: 2048); 0 (default) for rotary positions."))
def LLM_PARAMS(L, h, V, S=0):
    """Parameter count (raw) of a GPT-style decoder: L(12h²+13h)+V·h, plus S·h for learned positions."""
    return core.llm_params(L, h, V, S)


@udf("Model size", "=LLM_PARAMS_APPROX(96,12288) -> 173,946,175,488", L=ARG_L, h=ARG_H)
def LLM_PARAMS_APPROX(L, h):
    """Approximate parameter count (raw) of a decoder: 12·L·h²."""
    return core.llm_params_approx(L, h)


@udf("Model size", "=LLM_PARAMS_ARCH(32,4096,32000,11008,32,32) -> 6,738,415,616 (Llama-2-7B)",
     **ARG_ARCH)
def LLM_PARAMS_ARCH(L, h, V, ffn, heads, kv_heads, experts=1, experts_per_token=1,
                    gated_ffn=True, tied_embeddings=False, qkv_bias=False, head_dim=0,
                    shared_experts=0, dense_layers=0, dense_ffn=0):
    """Exact total parameters (raw) of a decoder: GQA, SwiGLU, MoE with shared experts and dense layers; a model id gives its catalog count."""
    return core.llm_params_arch(L, h, V, ffn, heads, kv_heads, experts, experts_per_token,
                                gated_ffn, tied_embeddings, qkv_bias, head_dim, shared_experts,
                                dense_layers, dense_ffn)


@udf("Model size",
     "=LLM_ACTIVE_PARAMS(32,4096,32000,14336,32,8,8,2) -> 12,879,925,248 (Mixtral-8x7B)", **ARG_ARCH)
def LLM_ACTIVE_PARAMS(L, h, V, ffn, heads, kv_heads, experts=1, experts_per_token=1,
                      gated_ffn=True, tied_embeddings=False, qkv_bias=False, head_dim=0,
                      shared_experts=0, dense_layers=0, dense_ffn=0):
    """Parameters used per token (raw): MoE counts routed top-k and shared experts; a model id gives its catalog count."""
    return core.llm_active_params(L, h, V, ffn, heads, kv_heads, experts, experts_per_token,
                                  gated_ffn, tied_embeddings, qkv_bias, head_dim,
                                  shared_experts, dense_layers, dense_ffn)


@udf("Model size", "=LORA_PARAMS(12288,4,192) -> 18,874,368 (GPT-3, r=4 on Wq and Wv)",
     d_model=Arg("Model dimension d of each adapted d x d matrix, e.g. 4096."),
     rank=Arg("LoRA rank r, e.g. 8 or 16."),
     n_matrices=Arg("Adapted matrices in the whole model: layers x matrices per layer (32 x 2 = 64)."))
def LORA_PARAMS(d_model, rank, n_matrices):
    """Trainable LoRA parameters (raw count): 2·n·d·r for n adapted d×d matrices."""
    return core.lora_params(d_model, rank, n_matrices)


# --------------------------------------------------------------------- Compute and time

@udf("Compute and time", "=TRAIN_FLOPS(174.6E9,300E9) -> 3.14E+23 (GPT-3)",
     P=ARG_P, T=ARG_T,
     flops_per_param_token=Arg("FLOPs per parameter per token: 6 (default); 8 with "
                               "activation recomputation."))
def TRAIN_FLOPS(P, T, flops_per_param_token=6):
    """Training compute in FLOPs: k·P·T with k = 6 (8 with activation recomputation)."""
    return core.train_flops(P, T, flops_per_param_token)


@udf("Compute and time", "=ITER_FLOPS(1536,2048,96,12288,51200) -> 4.51E+18 (GPT-3)",
     B=Arg("Global batch size in sequences, e.g. 1536."),
     S=Arg("Sequence length in tokens, e.g. 2048."),
     L=ARG_L, h=ARG_H, V=ARG_V,
     recompute=Arg("TRUE (default): count full activation recomputation (96 form); FALSE: "
                   "model FLOPs only (72 form).", "flag"))
def ITER_FLOPS(B, S, L, h, V, recompute=True):
    """FLOPs per training iteration (Megatron): 96·B·S·L·h²(1+S/6h+V/16Lh); 72·…(1+S/6h+V/12Lh) without recomputation."""
    return core.iter_flops(B, S, L, h, V, recompute)


@udf("Compute and time", "=TRAIN_ITERS(300E9,1536,2048) -> 95,367",
     T=ARG_T, B=Arg("Global batch size in sequences, e.g. 1536."),
     S=Arg("Sequence length in tokens, e.g. 2048."))
def TRAIN_ITERS(T, B, S):
    """Training iterations (count): T/(B·S)."""
    return core.train_iters(T, B, S)


@udf("Compute and time", "=MFU(ITER_FLOPS(64,2048,96,12288,51200,FALSE),13.75,64,312) -> 0.514",
     flops_per_iter=Arg("Model FLOPs of one iteration, raw count: 1.41E17 for GPT-3 at batch "
                        "64 (ITER_FLOPS(64,2048,96,12288,51200,FALSE))."),
     iter_seconds=Arg("Measured seconds per iteration, e.g. 13.75."),
     N=ARG_N,
     peak_TFLOPS=Arg("Peak dense TFLOPS per GPU (A100: 312), or a GPU id.", "tflops"))
def MFU(flops_per_iter, iter_seconds, N, peak_TFLOPS):
    """Model FLOPs utilisation (fraction of peak): FLOPs per iteration / (seconds · N · peak TFLOPS · 1E12)."""
    return core.mfu(flops_per_iter, iter_seconds, N, peak_TFLOPS)


@udf("Compute and time", "=TRAIN_DAYS(175E9,300E9,1024,312,0.45) -> 33.81 (GPT-3 on A100)",
     P=ARG_P, T=ARG_T, N=ARG_N, TFLOPS=ARG_TFLOPS, MFU=ARG_MFU, flops_per_param_token=ARG_K_TRAIN)
def TRAIN_DAYS(P, T, N, TFLOPS, MFU, flops_per_param_token=8):
    """Training time in days: k·P·T/(N·TFLOPS·1E12·MFU)/86400, k = 8 by default (Megatron with recomputation)."""
    return core.train_days(P, T, N, TFLOPS, MFU, flops_per_param_token)


@udf("Compute and time", "=GPU_HOURS(175E9,300E9,312,0.45) -> 830,959",
     P=ARG_P, T=ARG_T, TFLOPS=ARG_TFLOPS, MFU=ARG_MFU, flops_per_param_token=ARG_K_TRAIN)
def GPU_HOURS(P, T, TFLOPS, MFU, flops_per_param_token=8):
    """GPU-hours of training: k·P·T/(TFLOPS·1E12·MFU)/3600, k = 8 by default."""
    return core.gpu_hours(P, T, TFLOPS, MFU, flops_per_param_token)


@udf("Compute and time", "=GPU_COUNT_TIME(175E9,300E9,30,312,0.45) -> 1155",
     P=ARG_P, T=ARG_T, days=Arg("Deadline in days, e.g. 30."), TFLOPS=ARG_TFLOPS, MFU=ARG_MFU,
     flops_per_param_token=ARG_K_TRAIN, round_up=ARG_ROUND_UP)
def GPU_COUNT_TIME(P, T, days, TFLOPS, MFU, flops_per_param_token=8, round_up=True):
    """GPUs needed to train within a deadline (count): k·P·T/(days·86400·TFLOPS·1E12·MFU), rounded up."""
    return core.gpu_count_time(P, T, days, TFLOPS, MFU, flops_per_param_token, round_up)


@udf("Compute and time", "=CHINCHILLA_TOKENS(1E9,20.2) -> 20.2E9",
     P=ARG_P, tokens_per_param=Arg("Tokens per parameter: 20 (default, Chinchilla)."))
def CHINCHILLA_TOKENS(P, tokens_per_param=20):
    """Compute-optimal training tokens (raw count): tokens_per_param·P, 20 by default (Chinchilla)."""
    return core.chinchilla_tokens(P, tokens_per_param)


# ------------------------------------------------------------------------------- Memory

@udf("Memory", "=GPU_COUNT_MEM(7E9,18,1.25,24) -> 7 (Llama 7B on RTX 4090)",
     P=ARG_P,
     bytes_per_param=Arg("Training-state bytes per parameter: 18 (default), 20 for "
                         "mixed-precision AdamW with fp32 gradients."),
     activation_factor=Arg("Multiplier for activations and overheads: 1.25 (default)."),
     gpu_memory_GB=Arg("Memory per GPU in GB: 80 (default), 24 for RTX 4090; or a GPU id.",
                       "gpumem"),
     round_up=ARG_ROUND_UP)
def GPU_COUNT_MEM(P, bytes_per_param=18, activation_factor=1.25, gpu_memory_GB=80,
                  round_up=True):
    """GPUs needed to hold the training state (count): P·bytes·activation_factor/(GPU GB·1E9), rounded up."""
    return core.gpu_count_mem(P, bytes_per_param, activation_factor, gpu_memory_GB, round_up)


@udf("Memory", "=TRAIN_MEM_GB(175E9) -> 3,500",
     P=ARG_P, bytes_per_param=Arg("Bytes per parameter: 20 (default, mixed-precision AdamW); "
                              "16 for naive fp32."))
def TRAIN_MEM_GB(P, bytes_per_param=20):
    """Training-state memory in GB: bytes_per_param·P/1E9 (20 bytes for mixed-precision AdamW), activations excluded."""
    return core.train_mem_gb(P, bytes_per_param)


@udf("Memory", "=MODEL_STATE_GB(7E9,2,2) -> 112",
     P=ARG_P, weight_bytes=Arg("Bytes per weight copy x: 2 for bf16.", "bytes"),
     grad_bytes=Arg("Bytes per gradient y: 2 for bf16.", "bytes"),
     optimizer_bytes=Arg("Optimizer bytes per parameter: 12 (default) for Adam's fp32 master "
                         "copy and two moments."))
def MODEL_STATE_GB(P, weight_bytes, grad_bytes, optimizer_bytes=12):
    """Model-state memory in GB: (x + y + 12)·P/1E9 for weights, gradients and Adam state."""
    return core.model_state_gb(P, weight_bytes, grad_bytes, optimizer_bytes)


@udf("Memory", "=INFER_MEM_GB(175E9,4) -> 840",
     P=ARG_P, bytes_per_param=ARG_BYTES_PER_PARAM_INF,
     overhead=Arg("Multiplier for activations and buffers: 1.2 (default, +20%)."))
def INFER_MEM_GB(P, bytes_per_param=2, overhead=1.2):
    """Inference memory in GB: overhead·P·bytes/1E9 (1.2 by default), KV cache of long contexts excluded."""
    return core.infer_mem_gb(P, bytes_per_param, overhead)


@udf("Memory", "=WEIGHTS_GB(7E9,\"bf16\") -> 14",
     P=ARG_P, precision=Arg("fp32, fp16, bf16, fp8, int8 or int4 (any case), or bytes per "
                        "parameter such as 2.", "bytes"))
def WEIGHTS_GB(P, precision):
    """Weights alone in GB: P·bytes per parameter/1E9 for the given precision."""
    return core.weights_gb(P, precision)


@udf("Memory", "=BYTES_PER_PARAM(\"int4\") -> 0.5",
     precision=Arg("fp32, fp16, bf16, fp8, int8 or int4 (any case), or a byte count.", "text"))
def BYTES_PER_PARAM(precision):
    """Bytes per parameter for a precision: fp32 4, fp16/bf16 2, fp8/int8 1, int4 0.5."""
    return core.bytes_per_param(precision)


@udf("Memory", "=ACT_MEM_GB(1,1,2048,12288,96) -> 2.87 (one GPT-3 layer)",
     L=Arg("Layers held on the GPU (all, or one pipeline stage's), e.g. 96."),
     b=Arg("Micro-batch size in sequences, e.g. 1."),
     s=Arg("Sequence length in tokens, e.g. 2048."),
     h=ARG_H, a=Arg("Attention heads, e.g. 96."),
     bytes=Arg("Bytes per activation value: 2 (default) for 16-bit.", "bytes"),
     tp=Arg("Tensor-parallel degree: 1 (default)."),
     sequence_parallel=Arg("TRUE with sequence parallelism (splits norms and dropout over "
                           "tp); FALSE (default).", "flag"),
     recompute=Arg("Activation recomputation: \"none\" (default), \"selective\" or \"full\".",
                   "text"))
def ACT_MEM_GB(L, b, s, h, a, bytes=2, tp=1, sequence_parallel=False, recompute="none"):
    """Activation memory in GB per GPU (Korthikanti et al. 2022, Table 2): L·s·b·h·(34+5·a·s/h) bytes for 16-bit, tp=1, no recomputation."""
    return core.act_mem_gb(L, b, s, h, a, bytes, tp, sequence_parallel, recompute)


@udf("Memory", "=KV_CACHE_GB(32,8,128,8192,1) -> 1.07 (Llama-3-8B, 8K tokens)",
     L=Arg("Layers (32), or a model id such as \"deepseek-v3\": its attention design (GQA, "
           "MLA latent, sliding-window layers) sets the cache and kv_heads, head_dim may be "
           "blank.", "model"),
     kv_heads=Arg("Key/value heads, 8 for Llama-3-8B. Blank when L is a model id.", arch=True),
     head_dim=Arg("Dimension per head (hidden/heads), 128 for Llama-3-8B. Blank when L is a "
                  "model id.", arch=True),
     seq_len=Arg("Tokens cached per sequence (prompt + output), e.g. 8192."),
     batch=Arg("Concurrent sequences, e.g. 16."),
     bytes=Arg("Bytes per cached value: 2 (default) for fp16/bf16, 1 for fp8; or a "
               "precision name.", "bytes"))
def KV_CACHE_GB(L, kv_heads, head_dim, seq_len, batch, bytes=2):
    """KV-cache memory in GB: 2·L·kv_heads·head_dim·seq_len·batch·bytes/1E9; a model id uses its attention design."""
    return core.kv_cache_gb(L, kv_heads, head_dim, seq_len, batch, bytes)


@udf("Memory", "=MAX_CONTEXT_TOKENS(\"llama-3-8b\",\"h100-sxm\",1) -> 8,192 (the model's "
     "limit; the memory would hold 426,786)",
     model=Arg("Model id such as \"llama-3.1-70b\", or a two-column range of MODEL_SPEC "
               "fields and values.", "model"),
     gpu=Arg("GPU id, e.g. \"h100-sxm\" (its memory is used).", "text"),
     tp=Arg("GPUs holding one copy of the model (tensor parallel), e.g. 8."),
     batch=Arg("Sequences held at once, each of that context: 1 (default)."),
     precision=Arg("Weight precision: \"bf16\" (default), \"fp8\", \"mxfp4\", \"int4\"... or "
                   "bytes per weight.", "text"),
     kv_precision=Arg("KV-cache precision: blank for bf16 (2 bytes), \"fp8\" for 1 byte.",
                      "text"))
def MAX_CONTEXT_TOKENS(model, gpu, tp, batch=1, precision="bf16", kv_precision=None):
    """Longest context (tokens) whose weights, KV cache and 10% runtime reserve fit on tp GPUs, capped at the model's max_seq_len."""
    return core.max_context_tokens(model, gpu, tp, batch, precision, kv_precision)


@udf("Memory", "=ZERO_MEM_GB(7.5E9,1,64) -> 31.4",
     P=ARG_P, stage=Arg("ZeRO stage: 0 none, 1 optimizer, 2 +gradients, 3 +parameters."),
     dp=Arg("Data-parallel GPUs sharing the state, e.g. 64."),
     optimizer_bytes=Arg("Optimizer bytes per parameter K: 12 (default) for mixed-precision Adam."))
def ZERO_MEM_GB(P, stage, dp, optimizer_bytes=12):
    """Per-GPU model-state memory in GB under ZeRO stage 0-3 (Rajbhandari et al. 2019), 2-byte weights and gradients."""
    return core.zero_mem_gb(P, stage, dp, optimizer_bytes)


# ------------------------------------------------------------------------ Communication

@udf("Communication", "=DP_COMM_GB(7E9,64) -> 27.6",
     P=ARG_P, N=Arg("GPUs in the data-parallel ring, e.g. 64."),
     bytes=Arg("Bytes per gradient value: 2 (default) for bf16.", "bytes"))
def DP_COMM_GB(P, N, bytes=2):
    """Data each GPU sends per step in a ring all-reduce of gradients, in GB: 2(N−1)/N·P·bytes/1E9."""
    return core.dp_comm_gb(P, N, bytes)


@udf("Communication", "=TP_COMM_GB(8,2048,12288,8) -> 0.705",
     B=Arg("Batch size in sequences, e.g. 8."), T=Arg("Tokens per sequence, e.g. 2048."),
     E=Arg("Embedding (hidden) dimension, e.g. 12288 for GPT-3."),
     G=Arg("GPUs sharing the attention heads (tensor-parallel degree), e.g. 8."),
     bytes=Arg("Bytes per value: 2 (default) for 16-bit.", "bytes"))
def TP_COMM_GB(B, T, E, G, bytes=2):
    """Tensor-parallel attention traffic per GPU in GB (send + receive): 2·B·T·(E/G)·(G−1)·bytes/1E9."""
    return core.tp_comm_gb(B, T, E, G, bytes)


@udf("Communication", "=COMM_SECONDS(500,200,\"Gbps\") -> 20",
     GB=Arg("Volume in GB (1E9 bytes), e.g. 500."),
     bandwidth=Arg("Link bandwidth in the given unit: 450 GB/s (NVLink4), 200 Gbps (NIC)."),
     unit=Arg("\"GB/s\" (gigabytes, default) or \"Gbps\" (gigabits, as NICs are sold).", "text"))
def COMM_SECONDS(GB, bandwidth, unit="GB/s"):
    """Seconds to move a volume over a link at full bandwidth: GB/bandwidth (Gbps converted to GB/s)."""
    return core.comm_seconds(GB, bandwidth, unit)


@udf("Communication", "=PP_BUBBLE(8,64) -> 0.109",
     stages=Arg("Pipeline stages p, e.g. 8."),
     microbatches=Arg("Micro-batches per iteration m, e.g. 64."),
     interleave=Arg("Model chunks per GPU v: 1 (default) for plain 1F1B."))
def PP_BUBBLE(stages, microbatches, interleave=1):
    """Pipeline bubble as a fraction of compute time: (p−1)/(m·v)."""
    return core.pp_bubble(stages, microbatches, interleave)


# ---------------------------------------------------------------------------- Inference

@udf("Inference", "=DECODE_TOKENS_PER_S(6.74E9,2,3350) -> 249 (Llama-2-7B on H100)",
     P=ARG_P, bytes_per_param=ARG_BYTES,
     mem_bw_GBps=Arg("Memory bandwidth in GB/s (H100 SXM: 3350), or a GPU id.", "membw"),
     batch=Arg("Sequences decoded together: 1 (default)."),
     context_tokens=Arg("Tokens in each sequence's KV cache (prompt + generated so far), e.g. "
                        "1024; 0 (default) ignores the KV cache."),
     kv_bytes_per_token=Arg("KV-cache bytes per token, e.g. KV_BYTES_PER_TOKEN(\"llama-2-7b\") "
                            "= 524288; 0 (default) ignores the KV cache."))
def DECODE_TOKENS_PER_S(P, bytes_per_param, mem_bw_GBps, batch=1, context_tokens=0,
                        kv_bytes_per_token=0):
    """Memory-bound decode speed in tokens per second: batch·bandwidth·1E9/(P·bytes + batch·context·KV bytes), an upper bound."""
    return core.decode_tokens_per_s(P, bytes_per_param, mem_bw_GBps, batch, context_tokens,
                                    kv_bytes_per_token)


# ------------------------------------------------------------------------------ Catalog

@udf("Catalog", "=GPU_SPEC(\"h100-sxm\",\"tflops_bf16\") -> 989.4",
     gpu=Arg("GPU id, e.g. \"h100-sxm\" (see GPU_LIST()).", "text"),
     field=Arg("Field: tflops_bf16, tflops_fp8, memory_gb, mem_bw_gbps (GB/s), "
               "interconnect_gbps (GB/s), tdp_w, source, retrieved ...", "text"))
def GPU_SPEC(gpu, field):
    """One catalog value for a GPU (unit in the field name: TFLOPS dense, GB, GB/s, W), or its source."""
    return catalog.gpu_field(gpu, field)


@udf("Catalog", "=MODEL_SPEC(\"llama-3-8b\",\"kv_heads\") -> 8",
     model=Arg("Model id, e.g. \"llama-3-8b\" (see MODEL_LIST()).", "text"),
     field=Arg("Field: layers, hidden, vocab, ffn, heads, kv_heads, params, active_params, "
               "max_seq_len, source ...", "text"))
def MODEL_SPEC(model, field):
    """One catalog value for a model (architecture dims, raw parameter counts), or its source."""
    return catalog.model_field(model, field)


@udf("Catalog", "=GPU_LIST() -> a column of GPU ids", broadcast=False)
def GPU_LIST():
    """Column of the GPU catalog ids, for data validation lists and GPU_SPEC."""
    return [[g] for g in catalog.gpu_ids()]


@udf("Catalog", "=MODEL_LIST() -> a column of model ids", broadcast=False)
def MODEL_LIST():
    """Column of the model catalog ids, for data validation lists and MODEL_SPEC."""
    return [[m] for m in catalog.model_ids()]


from .udfs_serving import (  # noqa: E402,F401
    API_PRICE, API_PRICE_LIST, COST_PER_M_TOKENS, KV_BYTES_PER_TOKEN, PREFILL_SECONDS,
    SELF_HOST_BREAKEVEN_TOKENS_PER_DAY, SERVE_GPUS, SERVE_MAX_BATCH, SERVE_PLAN,
    SERVE_TOKENS_PER_S, SERVE_TPOT_SECONDS, SERVE_TTFT_SECONDS)
from .udfs_finetune import FINETUNE_CHECKPOINT_GB, FINETUNE_MEM_GB, FINETUNE_PARAMS  # noqa: E402,F401
from .udfs_money import (  # noqa: E402,F401
    BUY_VS_RENT_BREAKEVEN_MONTHS, CLOUD_COST_USD, GOODPUT, GPU_PRICE, GPU_PRICE_LIST,
    TCO_PER_GPU_HOUR, TRAIN_CO2_T, TRAIN_COST_USD, TRAIN_DAYS_RANGE, TRAIN_ENERGY_MWH)
from .udfs_sampling import SAMPLE_PROBS  # noqa: E402,F401

from .udfs_plan import PLAN_FOR_DEADLINE, PLAN_MEM_BREAKDOWN, PLAN_MEM_GB, PLAN_MFU, PLAN_STEP_SECONDS, PLAN_TRAINING  # noqa: E402,E501,F401
from .udfs_train import (  # noqa: E402,F401
    TRAIN_MEM_GB_PER_GPU, TRAIN_PLAN, TRAIN_PLAN_DEADLINE, TRAIN_STEP_BREAKDOWN,
    TRAIN_STEP_SECONDS)


if __name__ == "__main__":  # pragma: no cover - debug server for classic xlwings
    import xlwings as xw

    xw.serve()
