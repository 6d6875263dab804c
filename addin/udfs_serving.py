"""Excel functions for serving a model: prefill, decode throughput, batch, GPUs, token cost.

Thin wrappers over :mod:`formulas.serving`; registered through :func:`addin._excel.udf`
and re-exported by :mod:`addin.udfs`.
"""

from __future__ import annotations

from llm_budget_planner import formulas as core

from ._excel import Arg, udf

__all__ = ["PREFILL_SECONDS", "KV_BYTES_PER_TOKEN", "SERVE_TOKENS_PER_S", "SERVE_MAX_BATCH",
           "SERVE_GPUS", "COST_PER_M_TOKENS", "SERVE_TTFT_SECONDS", "SERVE_TPOT_SECONDS",
           "SERVE_PLAN", "API_PRICE", "API_PRICE_LIST", "SELF_HOST_BREAKEVEN_TOKENS_PER_DAY"]

ARG_P = Arg("Model id such as \"llama-2-70b\" (MODEL_LIST()), a MODEL_SPEC field/value range "
            "of a custom model, or parameters as a raw count: 7E9 for a 7B model.", "model")
ARG_MODEL = Arg("Model id, e.g. \"llama-3-70b\" or \"mixtral-8x7b\" (see MODEL_LIST()), or its "
                "parameters as a raw count such as 7E9.", "model")
ARG_BYTES = Arg("Precision: \"bf16\", \"fp8\" (FP8 tensor cores), \"int8\"/\"int4\" (weight-only, "
                "16-bit compute), \"fp4\"/\"nvfp4\"/\"mxfp4\"; or bytes per weight (2, 1, 0.5).",
                "name")
ARG_PRECISION = Arg("Precision of the weights and compute path: \"bf16\" (default, 2 bytes), "
                    "\"fp8\", \"int8\", \"int4\" (0.5 bytes), \"fp4\", \"nvfp4\" or \"mxfp4\".", "name")
ARG_GPU = Arg("GPU id, e.g. \"h100-sxm\" or \"rtx-4090\" (see GPU_LIST()): its peaks, memory "
              "bandwidth, memory and links are used.", "text")
ARG_PROMPT = Arg("Prompt tokens per request, e.g. 512.")
ARG_OUTPUT = Arg("Generated tokens per request, e.g. 512.")
ARG_TP = Arg("GPUs per model replica (tensor parallel): 1 (default). Two all-reduces per "
             "layer and step are charged over NVLink (the network beyond one server).")
ARG_KV = Arg("KV cache: \"bf16\" or \"fp8\" with a model id, or bytes per token of context "
             "(KV_BYTES_PER_TOKEN). Blank: the model's KV in bf16 (none for a raw P).", "name")
ARG_EFF = Arg("Blank (default): the calibrated step model. A fraction such as 0.6: the plain "
              "roofline at that share of peak (no all-reduce or per-step overhead).")
ARG_MEM_UTIL = Arg("Share of GPU memory usable for weights and KV cache: 0.9 (default, "
                   "vLLM's gpu_memory_utilization).")


@udf("Inference", "=PREFILL_SECONDS(6.74E9,2000,1,989.4,1,1) -> 0.0272 (Llama-2-7B)",
     P=ARG_P, prompt_tokens=Arg("Tokens per prompt, e.g. 2000."),
     batch=Arg("Prompts processed together, e.g. 8."),
     gpu=Arg("GPU id such as \"h100-sxm\" (the calibrated prefill step), or peak dense TFLOPS "
             "per GPU.", "name"),
     tp=Arg("GPUs sharing the model (tensor parallel): 1 (default)."),
     efficiency=Arg("Blank (default): calibrated (0.75 of the BF16 peak with TFLOPS; the whole "
                    "step with a GPU id). A fraction keeps 2·P·tokens/(TFLOPS·efficiency)."))
def PREFILL_SECONDS(P, prompt_tokens, batch, gpu, tp=1, efficiency=None):
    """Prefill time in seconds (time to first token) of a batch of prompts: the calibrated step with a GPU id, else 2·P·prompt_tokens·batch/(tp·TFLOPS·1E12·efficiency)."""
    return core.prefill_seconds(P, prompt_tokens, batch, gpu, tp, efficiency)


@udf("Inference", "=KV_BYTES_PER_TOKEN(\"llama-3-8b\") -> 131,072",
     model=Arg("Model id, e.g. \"llama-3-8b\" (see MODEL_LIST()).", "text"),
     bytes=Arg("Bytes per cached value: 2 (default) for fp16/bf16, 1 for fp8.", "bytes"))
def KV_BYTES_PER_TOKEN(model, bytes=2):
    """KV-cache bytes per token of context for a catalog model: 2·layers·kv_heads·head_dim·bytes (MLA latent for DeepSeek-V3)."""
    return core.kv_bytes_per_token(model, bytes)


@udf("Inference",
     "=SERVE_TOKENS_PER_S(\"llama-2-7b\",\"fp8\",\"h100-sxm\",120,128,2048,1,\"fp8\") -> 6,493",
     P=ARG_P, bytes_per_param=ARG_BYTES, gpu=ARG_GPU,
     batch=Arg("Requests decoded together, e.g. 16 (at most SERVE_MAX_BATCH), or \"max\": "
               "the most whose KV cache fits.", "name"),
     prompt_tokens=ARG_PROMPT, output_tokens=ARG_OUTPUT, tp=ARG_TP,
     kv_bytes_per_token=ARG_KV, efficiency=ARG_EFF, memory_utilization=ARG_MEM_UTIL)
def SERVE_TOKENS_PER_S(P, bytes_per_param, gpu, batch, prompt_tokens, output_tokens, tp=1,
                       kv_bytes_per_token=None, efficiency=None, memory_utilization=0.9):
    """Generated tokens per second of one replica serving a static batch: one prefill step, then decode steps (weights, KV cache, all-reduces, overhead)."""
    return core.serve_tokens_per_s(P, bytes_per_param, gpu, batch, prompt_tokens,
                                   output_tokens, tp, kv_bytes_per_token, efficiency,
                                   memory_utilization)


@udf("Inference", "=SERVE_MAX_BATCH(6.74E9,2,\"rtx-4090\",512,512,524288) -> 14",
     P=ARG_P, bytes_per_param=ARG_BYTES, gpu=ARG_GPU, prompt_tokens=ARG_PROMPT,
     output_tokens=ARG_OUTPUT,
     kv_bytes_per_token=Arg("KV cache: bytes per token of context (KV_BYTES_PER_TOKEN), or "
                            "\"bf16\"/\"fp8\" with a model id, e.g. 524288 or \"bf16\".",
                            "name"),
     tp=ARG_TP, memory_utilization=ARG_MEM_UTIL)
def SERVE_MAX_BATCH(P, bytes_per_param, gpu, prompt_tokens, output_tokens, kv_bytes_per_token,
                    tp=1, memory_utilization=0.9):
    """Largest batch (count of requests) whose KV cache fits beside the weights and a step's workspace, as vLLM accounts memory."""
    return core.serve_max_batch(P, bytes_per_param, gpu, prompt_tokens, output_tokens,
                                kv_bytes_per_token, tp, memory_utilization)


@udf("Inference", "=SERVE_GPUS(\"llama-2-7b\",\"bf16\",\"rtx-4090\",10,512,512) -> 11",
     P=ARG_P, bytes_per_param=ARG_BYTES, gpu=ARG_GPU,
     requests_per_s=Arg("Sustained requests per second to serve, e.g. 10."),
     prompt_tokens=ARG_PROMPT, output_tokens=ARG_OUTPUT,
     max_batch=Arg("Largest batch per replica in requests (a latency cap), e.g. 32. Blank "
                   "(default): as many as memory allows (compute-bound batch without KV)."),
     tp=ARG_TP, kv_bytes_per_token=ARG_KV, efficiency=ARG_EFF, memory_utilization=ARG_MEM_UTIL)
def SERVE_GPUS(P, bytes_per_param, gpu, requests_per_s, prompt_tokens, output_tokens,
               max_batch=None, tp=1, kv_bytes_per_token=None, efficiency=None,
               memory_utilization=0.9):
    """GPUs needed to serve a request rate (count): tp × replicas, each at SERVE_TOKENS_PER_S of its largest batch (SERVE_PLAN adds latency targets)."""
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


@udf("Inference",
     "=SERVE_TTFT_SECONDS(\"llama-2-7b\",\"h100-sxm\",1,2048,1,\"fp8\") -> 0.0282",
     model=ARG_MODEL, gpu=ARG_GPU, tp=Arg("GPUs per model replica (tensor parallel), e.g. 2."),
     prompt_tokens=Arg("Prompt tokens per request, e.g. 2048."),
     batch=Arg("Prompts prefilled together: 1 (default), the request and batch-1 others."),
     precision=ARG_PRECISION)
def SERVE_TTFT_SECONDS(model, gpu, tp, prompt_tokens, batch=1, precision="bf16"):
    """Time to first token in seconds: one prefill step of batch × prompt_tokens (matmuls, attention, all-reduces, overhead)."""
    return core.serve_ttft_seconds(model, gpu, tp, prompt_tokens, batch, precision)


@udf("Inference",
     "=SERVE_TPOT_SECONDS(\"llama-3-70b\",\"h100-sxm\",2,32,1000,250,\"fp8\") -> 0.0289",
     model=ARG_MODEL, gpu=ARG_GPU, tp=Arg("GPUs per model replica (tensor parallel), e.g. 2."),
     batch=Arg("Requests in flight on the replica, e.g. 32, or \"max\" (the most whose KV cache "
               "fits).", "name"),
     prompt_tokens=ARG_PROMPT, output_tokens=ARG_OUTPUT, precision=ARG_PRECISION,
     kv_precision=Arg("KV-cache precision: \"bf16\" (default, 2 bytes per value) or \"fp8\" (1 byte).", "name"))
def SERVE_TPOT_SECONDS(model, gpu, tp, batch, prompt_tokens, output_tokens, precision="bf16",
                       kv_precision=None):
    """Time per output token in seconds each user sees with batch requests in flight (continuous batching, chunked prefill)."""
    return core.serve_tpot_seconds(model, gpu, tp, batch, prompt_tokens, output_tokens,
                                   precision, kv_precision)


@udf("Inference",
     "=SERVE_PLAN(\"llama-3-70b\",\"h100-sxm\",10,1000,250,\"fp8\",2,0.05,3) -> a table, "
     "cheapest first: 4 GPUs = 1 replica of tp 4 ...", broadcast=False,
     model=ARG_MODEL, gpu=ARG_GPU,
     requests_per_s=Arg("Sustained requests per second to serve, e.g. 10."),
     prompt_tokens=ARG_PROMPT, output_tokens=ARG_OUTPUT, precision=ARG_PRECISION,
     ttft_slo_s=Arg("Longest time to first token allowed, seconds, e.g. 2. Blank: none."),
     tpot_slo_s=Arg("Longest time per output token allowed, seconds, e.g. 0.05. Blank: none."),
     usd_per_gpu_hour=Arg("US dollars per GPU-hour, e.g. 3. 0 (default) ranks by GPU count."))
def SERVE_PLAN(model, gpu, requests_per_s, prompt_tokens, output_tokens, precision="bf16",
               ttft_slo_s=None, tpot_slo_s=None, usd_per_gpu_hour=0):
    """Table (header row, then one row per tensor-parallel size that meets the latency targets, cheapest first): gpus, replicas, tp, batch, output_tokens_per_s, ttft_s, tpot_s, usd_per_m_output_tokens, usd_per_month."""
    rows = core.serve_plan(model, gpu, requests_per_s, prompt_tokens, output_tokens,
                           precision, ttft_slo_s, tpot_slo_s, usd_per_gpu_hour)
    return [list(core.PLAN_SERVE_COLUMNS)] + [list(r) for r in rows]


@udf("Inference", "=API_PRICE(\"openai-gpt-4o\",\"output_usd_per_m\") -> 10 USD",
     price_id=Arg("Row id of the API list-price table, e.g. \"openai-gpt-4o\" (API_PRICE_LIST()).",
                  "text"),
     field=Arg("input_usd_per_m, output_usd_per_m (default), cached_input_usd_per_m, "
               "provider, model, model_id, date, source, retrieved, confidence or notes.",
               "text"))
def API_PRICE(price_id, field="output_usd_per_m"):
    """One field of a dated public list price of a hosted model: US dollars per million tokens (input, output, cached input) or its date and source."""
    return core.api_price(price_id, field)


@udf("Inference", "=API_PRICE_LIST() -> a table of dated list prices", broadcast=False)
def API_PRICE_LIST():
    """Table (header row first) of public list prices per million tokens: id, provider, model, input, output, cached input (USD), date, source."""
    return [list(r) for r in core.api_price_list()]


@udf("Inference",
     "=SELF_HOST_BREAKEVEN_TOKENS_PER_DAY(\"llama-3-70b\",\"h100-sxm\",\"groq-llama-3-70b\","
     "1000,250,2.5,\"fp8\") -> 95E6 tokens per day",
     model=ARG_MODEL, gpu=ARG_GPU,
     price_id=Arg("API list-price row to compare with, e.g. \"deepseek-chat-v3\" "
                  "(API_PRICE_LIST()).", "text"),
     prompt_tokens=ARG_PROMPT, output_tokens=ARG_OUTPUT,
     usd_per_gpu_hour=Arg("US dollars per GPU-hour, e.g. 2.5. Blank: the median on-demand "
                          "example price of the GPU (GPU_PRICE_LIST)."),
     precision=ARG_PRECISION)
def SELF_HOST_BREAKEVEN_TOKENS_PER_DAY(model, gpu, price_id, prompt_tokens, output_tokens,
                                       usd_per_gpu_hour=None, precision="bf16"):
    """Tokens per day (prompt plus output) above which one replica on your own GPUs, paid around the clock, costs less than the API list price."""
    return core.self_host_breakeven_tokens_per_day(model, gpu, price_id, prompt_tokens,
                                                   output_tokens, usd_per_gpu_hour, precision)
