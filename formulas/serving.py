"""Serving a model: prefill and decode steps, batch limits, fleet size, token cost.

A request is a prompt of ``prompt_tokens`` followed by ``output_tokens`` generated tokens.
Prefill (the prompt) is compute-bound: ``2 P`` FLOPs per token. Each decode step reads
every weight once for the whole batch, plus the KV cache of every sequence, so it is
bound by memory bandwidth until the batch is large enough to become compute-bound.

By default (``efficiency`` left blank) every time comes from the calibrated step model of
:mod:`formulas.serving_step` (achievable fractions of bandwidth and peak, tensor-parallel
all-reduces, a per-step overhead, mixture-of-experts reads, FP8/FP4 compute paths) and
memory is counted as vLLM does. A number as ``efficiency`` keeps the plain roofline of
earlier versions at that fraction of peak. Latency targets, fleets and API prices are in
:mod:`formulas.serving_fleet` and :mod:`formulas.api_prices`.

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
from .plan import plan_assumption
from .errors import ImplausibleUnitError, InfeasibleError, InvalidInputError
from .serving_step import (
    check_weights_fit,
    max_batch as _fit_batch,
    replica,
    resolve_kv_bytes,
    resolve_precision,
    serve_model,
    step_parts,
)
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
    return v.bytes_per_value("bytes_per_param", x)


def _kv(x, required: bool = False):
    a = v.non_negative("kv_bytes_per_token", x)
    if required and np.any(a == 0):
        raise InvalidInputError("kv_bytes_per_token must be greater than 0: use "
                                "KV_BYTES_PER_TOKEN(\"llama-2-7b\") -> 524288",
                                arg="kv_bytes_per_token", value=x, code="#NUM!")
    v.bounded("kv_bytes_per_token", "kv_bytes_per_token", a, v.non_negative)
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


# ------------------------------------------------------------------------- prefill

def prefill_seconds(P, prompt_tokens, batch, TFLOPS, tp=1, efficiency=None):
    """Seconds to process the prompts of a batch (time to first token).

    Parameters
    ----------
    P : float, array_like or str
        Parameters (raw count), or a model id.
    prompt_tokens : float or array_like
        Tokens per prompt.
    batch : float or array_like
        Prompts processed together.
    TFLOPS : float, array_like or str
        Peak dense TFLOPS per GPU, or a GPU id (then, with a blank efficiency, the whole
        calibrated prefill step: matmuls, attention, all-reduces, overhead, in bf16).
    tp : int, optional
        GPUs sharing the model (tensor parallel); 1 by default.
    efficiency : float, optional
        Achieved fraction of peak. None (default): the calibrated
        ``serve_compute_fraction_bf16`` (0.75); a number keeps the compute-bound formula at
        that fraction (Pope et al. measured 0.76 for large-batch prefill [P22]_).

    Returns
    -------
    float or ndarray
        Seconds.

    Notes
    -----
    With a TFLOPS figure: ``t = 2 P * prompt_tokens * batch / (tp * TFLOPS * 1e12 *
    efficiency)`` [K20]_ [P22]_ (P = active parameters of a model id). With a GPU id and no
    efficiency: :func:`formulas.serving_fleet.serve_ttft_seconds` in bf16.

    Examples
    --------
    Llama-2-7B, one 2,000-token prompt on an H100 SXM (989.4 TFLOPS): 27 ms at the bound,
    36 ms at the calibrated fraction.

    >>> round(prefill_seconds(6.74e9, 2000, 1, 989.4, 1, 1) * 1000, 1)
    27.2
    >>> round(prefill_seconds(6.74e9, 2000, 1, 989.4) * 1000, 1)
    36.3
    """
    if isinstance(TFLOPS, (str, GpuSpec)) and efficiency is None:
        from .serving_fleet import serve_ttft_seconds

        return serve_ttft_seconds(P, TFLOPS, tp, prompt_tokens, batch)
    if isinstance(TFLOPS, (str, GpuSpec)):
        TFLOPS = _gpu(TFLOPS).tflops_bf16
    P = serve_model(P).active_params if isinstance(P, str) else v.params("P", P)
    n = v.whole("prompt_tokens", prompt_tokens)
    b = v.whole("batch", batch)
    peak = v.tflops("TFLOPS", TFLOPS)
    tp = v.whole("tp", tp)
    eff = v.fraction("efficiency", plan_assumption("serve_compute_fraction_bf16")
                     if efficiency is None else efficiency)
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

def _setup(P, bytes_per_param, kv_bytes_per_token):
    """Resolve the model, the precision (weight bytes, compute path) and the KV size.

    Returns ``(m, weight_bytes, path, kv_bytes_per_value)``; a numeric KV size per token
    replaces the model's (``kv_bytes_per_value`` is then 1 and the model caches
    ``kv / layers`` "values" per layer).
    """
    from dataclasses import replace

    m = serve_model(P)
    if isinstance(bytes_per_param, str):
        wb, path = resolve_precision(bytes_per_param)
    else:
        wb, path = _bytes_per_param(bytes_per_param), "bf16"
    if kv_bytes_per_token is None:
        return m, wb, path, 2.0 if m.known_shape else 0.0
    if isinstance(kv_bytes_per_token, str):
        if not m.known_shape:
            raise InvalidInputError("a KV precision name needs a model id as P: give "
                                    "kv_bytes_per_token in bytes per token instead",
                                    arg="kv_bytes_per_token", value=kv_bytes_per_token)
        return m, wb, path, resolve_kv_bytes(kv_bytes_per_token)
    kv = _kv(kv_bytes_per_token)
    return replace(m, kv_values_per_layer=kv / m.layers, sliding_layers=0), wb, path, 1.0


def _decode_steps(prompt, out):
    """Decode steps after prefill and their average context (the first output token comes
    from the prefill step; without a prompt every output token takes a decode step)."""
    steps = np.where(prompt > 0, out - 1, out)
    ctx = np.where(prompt > 0, prompt + out / 2, (out - 1) / 2)
    return steps, ctx


def _batch(batch, m, rep, wb, kvv, prompt, out):
    """A whole batch, or "max": the most requests whose KV cache fits at full length."""
    if isinstance(batch, str):
        if batch.strip().lower() != "max":
            raise InvalidInputError(f"batch is a count of requests or \"max\", got "
                                    f"'{batch.strip()[:40]}'", arg="batch", value=batch)
        cap = _fit_batch(m, rep, wb, kvv, prompt + out)
        if np.any(np.isinf(cap)):
            raise InvalidInputError("batch \"max\" needs a KV-cache size: give a model id "
                                    "as P or kv_bytes_per_token", arg="batch", value=batch)
        if np.any(cap < 1):
            raise InfeasibleError("not even one request of prompt_tokens + output_tokens "
                                  "fits beside the weights: raise tp, shorten the requests "
                                  "or use a smaller precision", arg="batch")
        return cap
    return v.whole("batch", batch)


def _check_fits(m, rep, wb, kvv, n, prompt, out, batch_arg):
    check_weights_fit(m, rep, wb)
    cap = _fit_batch(m, rep, wb, kvv, prompt + out)
    bad = np.asarray(n > cap)
    if np.any(bad):
        c = float(np.broadcast_to(cap, bad.shape)[bad].flat[0])
        raise InfeasibleError(f"batch does not fit in memory with the KV cache of "
                              f"prompt_tokens + output_tokens each: at most {max(c, 0):g} "
                              "requests on this replica (SERVE_MAX_BATCH)", arg="batch",
                              value=batch_arg)


def _static_tokens_per_s(m, rep, wb, kvv, n, prompt, out):
    """Output tokens/s of a static batch: one prefill step, then the decode steps."""
    pre = step_parts(m, rep, wb, kvv, n, prompt / 2, np.maximum(prompt, 1))["total_s"]
    pre = np.where(prompt > 0, pre, 0.0)
    steps, ctx = _decode_steps(prompt, out)
    dec = step_parts(m, rep, wb, kvv, n, ctx, 1)["total_s"]
    return n * out / (pre + steps * dec)


def _throughput(P, W, batch, prompt, out, kv, rep: _Replica):
    """Output tokens per second of one replica on the plain roofline (a given efficiency)."""
    prefill = 2 * P * prompt * batch / rep.flops
    ctx_avg = prompt + (out - 1) / 2
    step_mem = (W + batch * ctx_avg * kv) / rep.bw
    step_flops = 2 * P * batch / rep.flops
    decode = out * np.maximum(step_mem, step_flops)
    return batch * out / (prefill + decode)


def serve_tokens_per_s(P, bytes_per_param, gpu_id, batch, prompt_tokens, output_tokens, tp=1,
                       kv_bytes_per_token=None, efficiency=None, memory_utilization=None):
    """Generated tokens per second of one model replica serving a static batch of requests.

    Parameters
    ----------
    P : float, array_like or str
        Parameters (raw count), or a model id such as ``"llama-2-70b"`` (then weights come
        from the total and FLOPs from the active parameters, with the model's layers for
        the all-reduces and its attention design for the KV cache).
    bytes_per_param : float or str
        Bytes per weight (2, 1, 0.5: 16-bit compute), or a precision name that also sets
        the compute path: ``bf16``, ``fp8`` (FP8 tensor cores), ``int8``/``int4``
        (weight-only, 16-bit compute), ``fp4``/``nvfp4``/``mxfp4`` (FP4 tensor cores).
    gpu_id : str
        GPU catalog id.
    batch : int, array_like or "max"
        Requests decoded together; ``"max"``: the most whose KV cache fits.
    prompt_tokens, output_tokens : int or array_like
        Tokens per prompt and generated per request.
    tp : int, optional
        GPUs per replica (tensor parallel), 1 by default.
    kv_bytes_per_token : float or str, optional
        KV-cache bytes per token, or ``"bf16"``/``"fp8"`` with a model id. None (default):
        the model's KV cache at 2 bytes per value; none for a bare ``P``.
    efficiency : float, optional
        None (default): the calibrated step model (:mod:`formulas.serving_step`). A number:
        the plain roofline of earlier versions at that fraction of peak compute and
        bandwidth (no all-reduce, no per-step overhead).
    memory_utilization : float, optional
        Share of device memory the engine uses (0.9, vLLM's default).

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
    Step model: ``tokens/s = batch * out / (prefill + (out - 1) * step)``, where the
    prefill is one step of ``batch * prompt`` tokens and ``step`` the decode step at the
    average context ``prompt + out / 2`` (:func:`formulas.serving_step.step_parts`); with
    ``prompt_tokens = 0`` every output token takes a decode step. Roofline (a number as
    ``efficiency``): ``prefill = 2 P prompt batch / F``,
    ``step = max((P bytes + batch c kv) / BW, 2 P batch / F)`` with
    ``c = prompt + (out - 1) / 2`` [P22]_ [W09]_.

    Examples
    --------
    Llama-2-7B in FP8 on one H100 SXM, 120 requests of 128 + 2048 tokens with an FP8 KV
    cache (TensorRT-LLM v0.9 measured 6,944):

    >>> round(serve_tokens_per_s("llama-2-7b", "fp8", "h100-sxm", 120, 128, 2048, 1, "fp8"))
    6493

    The roofline bound of earlier versions (efficiency 1):

    >>> round(serve_tokens_per_s(6.74e9, 2, "h100-sxm", 16, 512, 512, 1, 524288, 1))
    2596
    """
    spec = _gpu(gpu_id)
    m, wb, path, kvv = _setup(P, bytes_per_param, kv_bytes_per_token)
    prompt = v.whole("prompt_tokens", prompt_tokens, 0)
    out = v.whole("output_tokens", output_tokens)
    v.whole("tp", tp)
    rep = replica(spec, tp, path, efficiency, memory_utilization)
    n = _batch(batch, m, rep, wb, kvv, prompt, out)
    _check_fits(m, rep, wb, kvv, n, prompt, out, batch)
    if efficiency is None:
        return v.out(_static_tokens_per_s(m, rep, wb, kvv, n, prompt, out))
    legacy = _Replica(spec, tp, efficiency, memory_utilization)
    kv = m.kv_bytes(1, kvv)
    return v.out(_throughput(m.active_params, m.total_params * wb, n, prompt, out, kv, legacy))


def serve_max_batch(P, bytes_per_param, gpu_id, prompt_tokens, output_tokens,
                    kv_bytes_per_token=None, tp=1, memory_utilization=None, *,
                    accounting="vllm"):
    """Largest batch whose KV cache fits beside the weights and a step's workspace.

    Parameters
    ----------
    P, bytes_per_param, gpu_id, prompt_tokens, output_tokens, tp, memory_utilization
        As in :func:`serve_tokens_per_s`.
    kv_bytes_per_token : float or str, optional
        KV-cache bytes per token of context, or a KV precision with a model id; None: the
        model's KV cache in 16-bit (a bare ``P`` needs a number > 0).
    accounting : {"vllm", "plain"}, keyword-only
        ``"vllm"`` (default) as below; ``"plain"``: ``tp x memory x utilization`` of the
        catalog memory less the weights, the accounting of earlier versions (and of the
        roofline with a given ``efficiency``).

    Returns
    -------
    float or ndarray
        Requests (whole number, rounded down).

    Notes
    -----
    vLLM's accounting [K23]_: ``usable = tp x memory x visible ratio x utilization``;
    ``floor((usable - weights - workspace) / (KV bytes of prompt + output tokens))``, where
    the visible ratio is the device memory the driver reports over the catalog figure
    (H100: 85.52 / 80) and the workspace holds one step of ``serve_step_tokens`` tokens
    (:func:`formulas.serving_step.memory_parts`).

    Examples
    --------
    Llama-2-7B in bf16 with 1,024-token requests: 14 fit on an RTX 4090, 117 on an H100.

    >>> serve_max_batch(6.74e9, 2, "rtx-4090", 512, 512, 524288)
    14.0
    >>> serve_max_batch("llama-2-7b", "bf16", "h100-sxm", 512, 512)
    117.0
    """
    spec = _gpu(gpu_id)
    m, wb, path, kvv = _setup(P, bytes_per_param, kv_bytes_per_token)
    prompt = v.whole("prompt_tokens", prompt_tokens, 0)
    out = v.whole("output_tokens", output_tokens)
    if np.any(m.kv_bytes(1, kvv) == 0):
        raise InvalidInputError("kv_bytes_per_token must be greater than 0: use "
                                "KV_BYTES_PER_TOKEN(\"llama-2-7b\") -> 524288",
                                arg="kv_bytes_per_token", value=kv_bytes_per_token,
                                code="#NUM!")
    v.whole("tp", tp)
    if accounting not in ("vllm", "plain"):
        raise InvalidInputError("accounting is \"vllm\" or \"plain\"", arg="accounting",
                                value=accounting)
    rep = replica(spec, tp, path, None, memory_utilization,
                  plain_memory=accounting == "plain")
    check_weights_fit(m, rep, wb)
    cap = _fit_batch(m, rep, wb, kvv, prompt + out)
    if np.any(cap < 1):
        raise InfeasibleError("not even one request of prompt_tokens + output_tokens fits "
                              "beside the weights: raise tp, shorten the requests or use "
                              "fewer bytes_per_param", arg="output_tokens")
    return v.out(cap)


def serve_gpus(P, bytes_per_param, gpu_id, requests_per_s, prompt_tokens, output_tokens,
               max_batch=None, tp=1, kv_bytes_per_token=None, efficiency=None,
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
    smaller of ``max_batch`` and what memory allows [K23]_. For latency targets and the
    choice of ``tp`` use :func:`formulas.serving_fleet.serve_plan`.

    Examples
    --------
    10 requests per second of 512 + 512 tokens of Llama-2-7B in bf16:

    >>> serve_gpus("llama-2-7b", "bf16", "h100-sxm", 10, 512, 512)
    2.0
    >>> serve_gpus("llama-2-7b", "bf16", "rtx-4090", 10, 512, 512)
    11.0
    """
    spec = _gpu(gpu_id)
    m, wb, path, kvv = _setup(P, bytes_per_param, kv_bytes_per_token)
    rps = v.positive("requests_per_s", requests_per_s)
    prompt = v.whole("prompt_tokens", prompt_tokens, 0)
    out = v.whole("output_tokens", output_tokens)
    v.whole("tp", tp)
    rep = replica(spec, tp, path, efficiency, memory_utilization)
    check_weights_fit(m, rep, wb)
    mem_cap = _fit_batch(m, rep, wb, kvv, prompt + out)
    if np.any(mem_cap < 1):
        raise InfeasibleError("not even one request of prompt_tokens + output_tokens fits "
                              "beside the weights: raise tp, shorten the requests or use "
                              "fewer bytes_per_param", arg="output_tokens")
    saturation = np.ceil(wb * rep.peak / (2 * rep.bw))
    if max_batch is None:
        batch = np.where(np.isinf(mem_cap), saturation, mem_cap)
    else:
        batch = np.minimum(v.whole("max_batch", max_batch), mem_cap)
    if efficiency is None:
        tps = _static_tokens_per_s(m, rep, wb, kvv, batch, prompt, out)
    else:
        legacy = _Replica(spec, tp, efficiency, memory_utilization)
        tps = _throughput(m.active_params, m.total_params * wb, batch, prompt, out,
                          m.kv_bytes(1, kvv), legacy)
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
    usd = v.rent("usd_per_gpu_hour", usd_per_gpu_hour)
    n = v.positive("gpus", gpus)
    util = v.fraction("utilisation", utilisation)
    return v.out(usd * n / (tps * SECONDS_PER_HOUR * util) * 1e6)
