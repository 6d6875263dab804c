"""Serving a model: prefill and decode on the roofline, batch limits, fleet size, token cost.

A request is a prompt of ``prompt_tokens`` followed by ``output_tokens`` generated tokens.
Prefill (the prompt) is compute-bound: ``2 P`` FLOPs per token. Each decode step reads
every weight once for the whole batch, plus the KV cache of every sequence, so it is
bound by memory bandwidth until the batch is large enough to become compute-bound.

References
----------
.. [K20] Kaplan et al. 2020, "Scaling Laws for Neural Language Models", arXiv 2001.08361,
   Table 1: a forward pass costs ``C_forward ~ 2 N`` FLOPs per token (context term dropped).
.. [P22] Pope et al. 2022, "Efficiently Scaling Transformer Inference", arXiv 2211.05102,
   §2 and §3.1: decode steps load all weights once per batch and the KV cache of every
   sequence; prefill runs at high utilisation; cost per token is latency x chips / batch.
.. [W09] Williams, Waterman and Patterson 2009, "Roofline: an insightful visual performance
   model", CACM 52(4): time = max(FLOPs / peak compute, bytes / peak bandwidth).
.. [K23] Kwon et al. 2023, "Efficient Memory Management for Large Language Model Serving
   with PagedAttention" (vLLM), arXiv 2309.06180, §2-3: the batch is limited by the KV-cache
   memory left after the weights. vLLM's ``gpu_memory_utilization`` defaults to 0.9.
.. [S000] Seed article 000 (digest §5): decoding is bound by reading the weights from memory
   for every generated token; an RTX 4090 is cost-effective for inference, not training.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .assumptions import assumption
from .arch import resolve_model
from .catalog import GpuSpec, gpu
from .errors import ImplausibleUnitError, InfeasibleError, InvalidInputError
from .training import round_up_count
from .units import GB, SECONDS_PER_HOUR, TERA

__all__ = [
    "prefill_seconds",
    "kv_bytes_per_token",
    "serve_tokens_per_s",
    "serve_max_batch",
    "serve_gpus",
    "cost_per_m_tokens",
]


# ------------------------------------------------------------------------- checks

def _bytes_per_param(x):
    a = v.positive("bytes_per_param", x)
    bad = a > 16
    if np.any(bad):
        raise InvalidInputError("bytes_per_param is bytes per weight (2 for bf16, 0.5 for int4), "
                                f"got {float(np.max(a)):g}", arg="bytes_per_param", value=x,
                                code="#NUM!")
    return a


def _kv(x, required: bool = False):
    a = v.non_negative("kv_bytes_per_token", x)
    if required and np.any(a == 0):
        raise InvalidInputError("kv_bytes_per_token must be greater than 0: use "
                                "KV_BYTES_PER_TOKEN(\"llama-2-7b\") -> 524288",
                                arg="kv_bytes_per_token", value=x, code="#NUM!")
    small = (a > 0) & (a < 1000)
    if np.any(small):
        raise ImplausibleUnitError(
            f"kv_bytes_per_token is in bytes per token (Llama-2-7B: 524288), got "
            f"{float(a[small].flat[0]) if a.ndim else float(a):g}: give bytes, not MB or GB",
            arg="kv_bytes_per_token", value=x)
    if np.any(a > 1e8):
        raise ImplausibleUnitError("kv_bytes_per_token above 100 MB per token is implausible: "
                                   "give bytes per token (Llama-2-7B: 524288)",
                                   arg="kv_bytes_per_token", value=x)
    return a


def _gpu(name) -> GpuSpec:
    if isinstance(name, GpuSpec):
        return name
    return gpu(name)


class _Replica:
    """Peak compute (FLOP/s), bandwidth (byte/s) and memory (bytes) of ``tp`` GPUs."""

    def __init__(self, spec: GpuSpec, tp, efficiency=1.0, memory_utilization=None):
        self.tp = v.whole("tp", tp)
        eff = v.fraction("efficiency", efficiency)
        util = v.fraction("memory_utilization",
                          assumption("serve_memory_utilization") if memory_utilization is None
                          else memory_utilization)
        self.flops = self.tp * spec.tflops_bf16 * TERA * eff
        self.bw = self.tp * spec.mem_bw_gbps * GB * eff
        self.memory = self.tp * spec.memory_gb * GB * util
        self.spec = spec


def _weights_fit(P, b, rep: _Replica):
    w = P * b
    bad = w > rep.memory
    if np.any(bad):
        need = float(np.max(w)) / GB
        raise InfeasibleError(
            f"the weights (P x bytes_per_param = {need:.4g} GB) do not fit in tp x "
            f"{rep.spec.memory_gb:g} GB x memory_utilization of {rep.spec.id}: raise tp or use "
            "fewer bytes_per_param", arg="tp")
    return w


# ------------------------------------------------------------------------- prefill

def prefill_seconds(P, prompt_tokens, batch, TFLOPS, tp=1, efficiency=1):
    """Seconds to process the prompts of a batch (time to first token), compute-bound.

    Parameters
    ----------
    P : float or array_like
        Parameters (raw count).
    prompt_tokens : float or array_like
        Tokens per prompt.
    batch : float or array_like
        Prompts processed together.
    TFLOPS : float or array_like
        Peak dense TFLOPS per GPU (the Excel function also takes a GPU id).
    tp : int, optional
        GPUs sharing the model (tensor parallel); 1 by default. Communication is ignored.
    efficiency : float, optional
        Achieved fraction of peak: 1 (default) gives the roofline bound; Pope et al.
        measured 0.76 for large-batch prefill of PaLM 540B on TPU v4 [P22]_.

    Returns
    -------
    float or ndarray
        Seconds.

    Notes
    -----
    ``t = 2 P * prompt_tokens * batch / (tp * TFLOPS * 1e12 * efficiency)`` [K20]_ [P22]_.
    The attention-score FLOPs (``2 n_layer n_ctx d``) are left out, as in [K20]_'s ``2N``.

    Examples
    --------
    Llama-2-7B, one 2,000-token prompt on an H100 SXM (989.4 TFLOPS): 27 ms at the bound.

    >>> round(prefill_seconds(6.74e9, 2000, 1, 989.4) * 1000, 1)
    27.2
    """
    P = v.params("P", P)
    n = v.whole("prompt_tokens", prompt_tokens)
    b = v.whole("batch", batch)
    peak = v.tflops("TFLOPS", TFLOPS)
    tp = v.whole("tp", tp)
    eff = v.fraction("efficiency", efficiency)
    return v.out(2 * P * n * b / (tp * peak * TERA * eff))


# ------------------------------------------------------------------------- KV cache

def kv_bytes_per_token(model_id, bytes=2):
    """KV-cache bytes per token of a model: ``2 L kv_heads head_dim bytes`` (GQA/MHA).

    Parameters
    ----------
    model_id : str
        Model catalog id, e.g. ``"llama-3-8b"``.
    bytes : float, optional
        Bytes per cached value: 2 (default) for fp16/bf16, 1 for fp8.

    Returns
    -------
    float
        Bytes per token of context, all layers.

    Notes
    -----
    Keys and values of every layer and KV head [P22]_ (as in ``KV_CACHE_GB``), by the
    model's attention design (:meth:`formulas.arch.Arch.kv_bytes_per_token`): multi-head
    latent attention caches ``kv_lora_rank + qk_rope_head_dim`` values per layer
    (DeepSeek-V3: ``61 * (512 + 64) * bytes``, arXiv 2412.19437 §2.1.1). Every layer is
    counted: exact while a context is within a model's sliding window, an upper bound
    beyond it (gpt-oss-120b's 18 sliding layers hold 128 tokens; ``KV_CACHE_GB`` with a
    model id applies the window).

    Examples
    --------
    >>> kv_bytes_per_token("llama-2-7b"), kv_bytes_per_token("llama-3-8b")
    (524288.0, 131072.0)
    >>> kv_bytes_per_token("deepseek-v3")
    70272.0
    """
    m = resolve_model(model_id, "model")
    p = v.positive("bytes", bytes)
    if p > 16:
        raise InvalidInputError(f"bytes is bytes per cached value (2 for bf16), got {p:g}",
                                arg="bytes", value=bytes, code="#NUM!")
    return v.out(m.kv_bytes_per_token(p))


# ------------------------------------------------------------------------- serving

def _throughput(P, W, batch, prompt, out, kv, rep: _Replica):
    """Output tokens per second of one replica (arrays, already validated)."""
    prefill = 2 * P * prompt * batch / rep.flops
    ctx_avg = prompt + (out - 1) / 2
    step_mem = (W + batch * ctx_avg * kv) / rep.bw
    step_flops = 2 * P * batch / rep.flops
    decode = out * np.maximum(step_mem, step_flops)
    return batch * out / (prefill + decode)


def _max_batch(W, prompt, out, kv, rep: _Replica):
    with np.errstate(divide="ignore"):
        room = (rep.memory - W) / ((prompt + out) * kv)
    return np.floor(room * (1 + 1e-12) + 1e-9)


def serve_tokens_per_s(P, bytes_per_param, gpu_id, batch, prompt_tokens, output_tokens, tp=1,
                       kv_bytes_per_token=0, efficiency=1, memory_utilization=None):
    """Generated tokens per second of one model replica serving batches of requests.

    Parameters
    ----------
    P : float or array_like
        Parameters (raw count).
    bytes_per_param : float or array_like
        Bytes per weight: 2 for bf16, 1 for int8/fp8, 0.5 for int4.
    gpu_id : str
        GPU catalog id (its dense BF16 TFLOPS, bandwidth and memory are used).
    batch : int or array_like
        Requests decoded together.
    prompt_tokens, output_tokens : int or array_like
        Tokens per prompt and generated per request.
    tp : int, optional
        GPUs per replica (tensor parallel, 1 by default); compute, bandwidth and memory
        add up, communication is ignored.
    kv_bytes_per_token : float, optional
        KV-cache bytes per token of context (``kv_bytes_per_token("llama-2-7b")`` = 524288);
        0 (default) ignores the KV cache, as the articles' weights-only bound does.
    efficiency : float, optional
        Achieved fraction of peak compute and bandwidth; 1 (default) is the roofline bound.
    memory_utilization : float, optional
        Share of GPU memory usable for weights and KV cache; 0.9 by default (vLLM's).

    Returns
    -------
    float or ndarray
        Output tokens per second of the replica (all requests of the batch together).

    Raises
    ------
    InfeasibleError
        When the weights, or the weights plus the batch's KV cache, do not fit.

    Notes
    -----
    One batch takes ``prefill + output_tokens * step`` seconds [P22]_ [W09]_:

    * ``prefill = 2 P * prompt_tokens * batch / F``
    * ``step = max((P * bytes + batch * c * kv) / BW, 2 P * batch / F)`` with the average
      context ``c = prompt_tokens + (output_tokens - 1) / 2``
    * ``tokens/s = batch * output_tokens / (prefill + output_tokens * step)``

    where ``F = tp * TFLOPS * 1e12 * efficiency`` and ``BW = tp * GB/s * 1e9 * efficiency``.
    The average context is exact while decode stays on one side of the roofline. It must
    hold that ``P * bytes + batch * (prompt + output) * kv <= tp * memory * utilization``.
    More batch never lowers the result: the weight read is shared.

    Examples
    --------
    Llama-2-7B in bf16 on one H100 SXM, 16 requests of 512 + 512 tokens with their KV cache:

    >>> round(serve_tokens_per_s(6.74e9, 2, "h100-sxm", 16, 512, 512, 1, 524288))
    2596
    """
    spec = _gpu(gpu_id)
    P = v.params("P", P)
    b = _bytes_per_param(bytes_per_param)
    n = v.whole("batch", batch)
    prompt = v.whole("prompt_tokens", prompt_tokens, 0)
    out = v.whole("output_tokens", output_tokens)
    kv = _kv(kv_bytes_per_token)
    rep = _Replica(spec, tp, efficiency, memory_utilization)
    W = _weights_fit(P, b, rep)
    need = W + n * (prompt + out) * kv
    bad = need > rep.memory
    if np.any(bad):
        cap = _max_batch(W, prompt, out, kv, rep)
        cap = float(np.broadcast_to(cap, bad.shape)[bad].flat[0])
        raise InfeasibleError(f"batch does not fit in memory with the KV cache of "
                              f"prompt_tokens + output_tokens each: at most {max(cap, 0):g} "
                              "requests on this replica (SERVE_MAX_BATCH)", arg="batch",
                              value=batch)
    return v.out(_throughput(P, W, n, prompt, out, kv, rep))


def serve_max_batch(P, bytes_per_param, gpu_id, prompt_tokens, output_tokens,
                    kv_bytes_per_token, tp=1, memory_utilization=None):
    """Largest batch whose KV cache fits beside the weights.

    Parameters
    ----------
    P, bytes_per_param, gpu_id, prompt_tokens, output_tokens, tp, memory_utilization
        As in :func:`serve_tokens_per_s`.
    kv_bytes_per_token : float or array_like
        KV-cache bytes per token of context (must be > 0).

    Returns
    -------
    float or ndarray
        Requests (whole number, rounded down).

    Notes
    -----
    ``floor((tp * memory * utilization - P * bytes) / ((prompt + output) * kv))`` [K23]_.

    Examples
    --------
    Llama-2-7B in bf16 with 1,024-token requests: 15 fit on an RTX 4090, 109 on an H100.

    >>> serve_max_batch(6.74e9, 2, "rtx-4090", 512, 512, 524288)
    15.0
    >>> serve_max_batch(6.74e9, 2, "h100-sxm", 512, 512, 524288)
    109.0
    """
    spec = _gpu(gpu_id)
    P = v.params("P", P)
    b = _bytes_per_param(bytes_per_param)
    prompt = v.whole("prompt_tokens", prompt_tokens, 0)
    out = v.whole("output_tokens", output_tokens)
    kv = _kv(kv_bytes_per_token, required=True)
    rep = _Replica(spec, tp, 1, memory_utilization)
    W = _weights_fit(P, b, rep)
    cap = _max_batch(W, prompt, out, kv, rep)
    if np.any(cap < 1):
        raise InfeasibleError("not even one request of prompt_tokens + output_tokens fits "
                              "beside the weights: raise tp, shorten the requests or use "
                              "fewer bytes_per_param", arg="output_tokens")
    return v.out(cap)


def serve_gpus(P, bytes_per_param, gpu_id, requests_per_s, prompt_tokens, output_tokens,
               max_batch=None, tp=1, kv_bytes_per_token=0, efficiency=1,
               memory_utilization=None):
    """GPUs needed to serve a request rate: whole replicas of ``tp`` GPUs.

    Parameters
    ----------
    P, bytes_per_param, gpu_id, prompt_tokens, output_tokens, tp, kv_bytes_per_token,
    efficiency, memory_utilization
        As in :func:`serve_tokens_per_s`.
    requests_per_s : float or array_like
        Sustained requests per second to serve.
    max_batch : int, optional
        Largest batch a replica runs (latency target). None (default): as many as memory
        allows (:func:`serve_max_batch`); without a KV cache, the batch at which decode
        turns compute-bound, ``ceil(bytes * F / (2 BW))``, beyond which throughput is flat.

    Returns
    -------
    float or ndarray
        GPUs: ``tp * ceil(requests_per_s * output_tokens / tokens_per_s(batch))``.

    Notes
    -----
    Throughput at the chosen batch is :func:`serve_tokens_per_s` [P22]_; the batch is the
    smaller of ``max_batch`` and what memory allows [K23]_.

    Examples
    --------
    10 requests per second of 512 + 512 tokens of Llama-2-7B (bf16, KV cache included):

    >>> serve_gpus(6.74e9, 2, "h100-sxm", 10, 512, 512, None, 1, 524288)
    1.0
    >>> serve_gpus(6.74e9, 2, "rtx-4090", 10, 512, 512, None, 1, 524288)
    8.0
    """
    spec = _gpu(gpu_id)
    P = v.params("P", P)
    b = _bytes_per_param(bytes_per_param)
    rps = v.positive("requests_per_s", requests_per_s)
    prompt = v.whole("prompt_tokens", prompt_tokens, 0)
    out = v.whole("output_tokens", output_tokens)
    kv = _kv(kv_bytes_per_token)
    rep = _Replica(spec, tp, efficiency, memory_utilization)
    W = _weights_fit(P, b, rep)
    saturation = np.ceil(b * rep.flops / (2 * rep.bw))
    with np.errstate(divide="ignore", invalid="ignore"):
        mem_cap = np.where(kv > 0, _max_batch(W, prompt, out, np.where(kv > 0, kv, 1.0), rep),
                           np.inf)
    if np.any(mem_cap < 1):
        raise InfeasibleError("not even one request of prompt_tokens + output_tokens fits "
                              "beside the weights: raise tp, shorten the requests or use "
                              "fewer bytes_per_param", arg="output_tokens")
    if max_batch is None:
        batch = np.where(np.isinf(mem_cap), saturation, mem_cap)
    else:
        batch = np.minimum(v.whole("max_batch", max_batch), mem_cap)
    tps = _throughput(P, W, batch, prompt, out, kv, rep)
    replicas = round_up_count(rps * out / tps)
    return v.out(replicas * rep.tp)


def cost_per_m_tokens(tokens_per_s, usd_per_gpu_hour, gpus=1, utilisation=1):
    """US dollars per million generated tokens.

    Parameters
    ----------
    tokens_per_s : float or array_like
        Tokens per second of the serving unit (e.g. :func:`serve_tokens_per_s`).
    usd_per_gpu_hour : float or array_like
        Price of one GPU-hour (rent, or :func:`formulas.money.tco_per_gpu_hour`).
    gpus : float, optional
        GPUs in the serving unit (its ``tp``); 1 by default.
    utilisation : float, optional
        Share of paid hours that carry traffic at that rate; 1 by default.

    Returns
    -------
    float or ndarray
        USD per 1e6 tokens.

    Notes
    -----
    ``usd = usd_per_gpu_hour * gpus / (tokens_per_s * 3600 * utilisation) * 1e6``, the
    cost per token of [P22]_ (chips x time / tokens) priced per GPU-hour.

    Examples
    --------
    >>> round(cost_per_m_tokens(2000, 3.0), 4)
    0.4167
    """
    tps = v.positive("tokens_per_s", tokens_per_s)
    usd = v.non_negative("usd_per_gpu_hour", usd_per_gpu_hour)
    n = v.positive("gpus", gpus)
    util = v.fraction("utilisation", utilisation)
    return v.out(usd * n / (tps * SECONDS_PER_HOUR * util) * 1e6)
