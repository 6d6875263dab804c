"""Excel functions for serving a model: prefill, decode throughput, batch, GPUs, token cost.

Thin wrappers over :mod:`formulas.serving`; registered through :func:`addin._excel.udf`
and re-exported by :mod:`addin.udfs`.
"""

from __future__ import annotations

import formulas as core

from ._excel import Arg, udf

__all__ = ["PREFILL_SECONDS", "KV_BYTES_PER_TOKEN", "SERVE_TOKENS_PER_S", "SERVE_MAX_BATCH",
           "SERVE_GPUS", "COST_PER_M_TOKENS"]

ARG_P = Arg("Parameters, raw count: 7E9 for a 7B model (MODEL_SPEC(\"llama-2-7b\",\"params\")).")
ARG_BYTES = Arg("Bytes per weight: 2 for bf16, 1 for int8/fp8, 0.5 for int4; or a precision "
                "name such as \"int8\".", "bytes")
ARG_GPU = Arg("GPU id, e.g. \"h100-sxm\" or \"rtx-4090\" (see GPU_LIST()): its dense BF16 "
              "TFLOPS, memory bandwidth and memory are used.", "text")
ARG_PROMPT = Arg("Prompt tokens per request, e.g. 512.")
ARG_OUTPUT = Arg("Generated tokens per request, e.g. 512.")
ARG_TP = Arg("GPUs per model replica (tensor parallel): 1 (default). Their compute, "
             "bandwidth and memory add up; communication is ignored.")
ARG_KV = Arg("KV-cache bytes per token of context, e.g. KV_BYTES_PER_TOKEN(\"llama-2-7b\") = "
             "524288; 0 (default) ignores the KV cache.")
ARG_EFF = Arg("Achieved fraction of peak compute and bandwidth: 1 (default) is the roofline "
              "upper bound; 0.5-0.8 is typical of tuned servers.")
ARG_MEM_UTIL = Arg("Share of GPU memory usable for weights and KV cache: 0.9 (default, "
                   "vLLM's gpu_memory_utilization).")


@udf("Inference", "=PREFILL_SECONDS(6.74E9,2000,1,\"h100-sxm\") -> 0.0272 (Llama-2-7B)",
     P=ARG_P, prompt_tokens=Arg("Tokens per prompt, e.g. 2000."),
     batch=Arg("Prompts processed together, e.g. 8."),
     gpu=Arg("Peak dense TFLOPS per GPU, or a GPU id such as \"h100-sxm\".", "tflops"),
     tp=Arg("GPUs sharing the model (tensor parallel): 1 (default)."),
     efficiency=Arg("Achieved fraction of peak compute: 1 (default, roofline bound); large-"
                    "batch prefill reached 0.76 in Pope et al. 2022."))
def PREFILL_SECONDS(P, prompt_tokens, batch, gpu, tp=1, efficiency=1):
    """Prefill time in seconds (time to first token), compute-bound: 2·P·prompt_tokens·batch/(tp·TFLOPS·1E12·efficiency)."""
    return core.prefill_seconds(P, prompt_tokens, batch, gpu, tp, efficiency)


@udf("Inference", "=KV_BYTES_PER_TOKEN(\"llama-3-8b\") -> 131,072",
     model=Arg("Model id, e.g. \"llama-3-8b\" (see MODEL_LIST()).", "text"),
     bytes=Arg("Bytes per cached value: 2 (default) for fp16/bf16, 1 for fp8.", "bytes"))
def KV_BYTES_PER_TOKEN(model, bytes=2):
    """KV-cache bytes per token of context for a catalog model: 2·layers·kv_heads·head_dim·bytes (MLA latent for DeepSeek-V3)."""
    return core.kv_bytes_per_token(model, bytes)


@udf("Inference",
     "=SERVE_TOKENS_PER_S(6.74E9,2,\"h100-sxm\",16,512,512,1,524288) -> 2,596 (Llama-2-7B)",
     P=ARG_P, bytes_per_param=ARG_BYTES, gpu=ARG_GPU,
     batch=Arg("Requests decoded together, e.g. 16 (at most SERVE_MAX_BATCH)."),
     prompt_tokens=ARG_PROMPT, output_tokens=ARG_OUTPUT, tp=ARG_TP,
     kv_bytes_per_token=ARG_KV, efficiency=ARG_EFF, memory_utilization=ARG_MEM_UTIL)
def SERVE_TOKENS_PER_S(P, bytes_per_param, gpu, batch, prompt_tokens, output_tokens, tp=1,
                       kv_bytes_per_token=0, efficiency=1, memory_utilization=0.9):
    """Generated tokens per second of one replica: prefill compute-bound, decode reading weights plus KV cache (roofline)."""
    return core.serve_tokens_per_s(P, bytes_per_param, gpu, batch, prompt_tokens,
                                   output_tokens, tp, kv_bytes_per_token, efficiency,
                                   memory_utilization)


@udf("Inference", "=SERVE_MAX_BATCH(6.74E9,2,\"rtx-4090\",512,512,524288) -> 15",
     P=ARG_P, bytes_per_param=ARG_BYTES, gpu=ARG_GPU, prompt_tokens=ARG_PROMPT,
     output_tokens=ARG_OUTPUT,
     kv_bytes_per_token=Arg("KV-cache bytes per token of context, e.g. "
                            "KV_BYTES_PER_TOKEN(\"llama-2-7b\") = 524288."),
     tp=ARG_TP, memory_utilization=ARG_MEM_UTIL)
def SERVE_MAX_BATCH(P, bytes_per_param, gpu, prompt_tokens, output_tokens, kv_bytes_per_token,
                    tp=1, memory_utilization=0.9):
    """Largest batch (count of requests) whose KV cache fits beside the weights: (memory·utilization−P·bytes)/((prompt+output)·KV)."""
    return core.serve_max_batch(P, bytes_per_param, gpu, prompt_tokens, output_tokens,
                                kv_bytes_per_token, tp, memory_utilization)


@udf("Inference", "=SERVE_GPUS(6.74E9,2,\"rtx-4090\",10,512,512,,1,524288) -> 8",
     P=ARG_P, bytes_per_param=ARG_BYTES, gpu=ARG_GPU,
     requests_per_s=Arg("Sustained requests per second to serve, e.g. 10."),
     prompt_tokens=ARG_PROMPT, output_tokens=ARG_OUTPUT,
     max_batch=Arg("Largest batch per replica in requests (a latency cap), e.g. 32. Blank "
                   "(default): as many as memory allows (compute-bound batch without KV)."),
     tp=ARG_TP, kv_bytes_per_token=ARG_KV, efficiency=ARG_EFF, memory_utilization=ARG_MEM_UTIL)
def SERVE_GPUS(P, bytes_per_param, gpu, requests_per_s, prompt_tokens, output_tokens,
               max_batch=None, tp=1, kv_bytes_per_token=0, efficiency=1,
               memory_utilization=0.9):
    """GPUs needed to serve a request rate (count): tp × replicas, each at SERVE_TOKENS_PER_S of its largest batch."""
    return core.serve_gpus(P, bytes_per_param, gpu, requests_per_s, prompt_tokens,
                           output_tokens, max_batch, tp, kv_bytes_per_token, efficiency,
                           memory_utilization)


@udf("Inference", "=COST_PER_M_TOKENS(2596,4.76) -> 0.509 USD",
     tokens_per_s=Arg("Tokens per second of the serving unit, e.g. 2596 or "
                      "SERVE_TOKENS_PER_S(...)."),
     usd_per_gpu_hour=Arg("US dollars per GPU-hour: a rental price or TCO_PER_GPU_HOUR(...), "
                          "e.g. 2.99."),
     gpus=Arg("GPUs in the serving unit (its tp): 1 (default)."),
     utilisation=Arg("Share of paid hours that carry traffic at that rate: 1 (default)."))
def COST_PER_M_TOKENS(tokens_per_s, usd_per_gpu_hour, gpus=1, utilisation=1):
    """US dollars (USD) per million generated tokens: usd_per_gpu_hour·gpus/(tokens_per_s·3600·utilisation)·1E6."""
    return core.cost_per_m_tokens(tokens_per_s, usd_per_gpu_hour, gpus, utilisation)
