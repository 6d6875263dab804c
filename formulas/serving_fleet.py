"""Serving under load: time to first token, time per output token, fleet plans, break-even.

A replica under continuous batching [Y22]_ keeps ``batch`` requests decoding; as requests
finish, new prompts are prefilled in chunks that share each step with the decodes
(chunked prefill [A24]_). In steady state every step carries ``batch`` decode tokens plus,
on average, ``batch x prompt / output`` prompt tokens (each request brings ``prompt``
tokens of prefill for ``output`` decode steps), so

* time per output token (TPOT) = the time of that mixed step;
* output tokens per second of the replica = ``batch / TPOT``;
* time to first token (TTFT) = the steps needed to prefill a prompt in chunks of the step
  budget left beside the decodes, ``ceil(prompt / (serve_step_tokens - batch))``, each a
  step with that chunk (queueing for a free slot is not included: the plan sizes the
  fleet so a slot is free).

References
----------
.. [Y22] Yu et al. 2022, "Orca: A Distributed Serving System for Transformer-Based
   Generative Models", OSDI '22: iteration-level scheduling (continuous batching).
.. [A24] Agrawal et al. 2024, "Sarathi-Serve", arXiv 2403.02310, §4: chunked prefills
   stall-free with ongoing decodes under a per-step token budget.
.. [P22] Pope et al. 2022, arXiv 2211.05102: cost per token = chips x time / tokens.
"""

from __future__ import annotations

import math

import numpy as np

from . import _validate as v
from .catalog import gpu, gpu_prices
from .errors import InfeasibleError, InvalidInputError
from .serving_step import (
    check_weights_fit,
    max_batch,
    replica,
    resolve_kv_bytes,
    resolve_precision,
    serve_model,
    step_parts,
)
from .units import SECONDS_PER_DAY, SECONDS_PER_HOUR

__all__ = [
    "PLAN_SERVE_COLUMNS",
    "serve_ttft_seconds",
    "serve_tpot_seconds",
    "serve_schedule",
    "serve_plan",
    "self_host_breakeven_tokens_per_day",
    "default_usd_per_gpu_hour",
]

#: Columns of :func:`serve_plan`, in order (the header row of SERVE_PLAN).
PLAN_SERVE_COLUMNS = ("gpus", "replicas", "tp", "batch", "output_tokens_per_s", "ttft_s",
                      "tpot_s", "usd_per_m_output_tokens", "usd_per_month")
HOURS_PER_MONTH = 730.0  #: 8,760 hours a year / 12
_TP_CHOICES = (1, 2, 4, 8, 16, 32, 64)


_MAX_TOKENS = 1e8  #: longest prompt or answer accepted (tokens)
_MAX_TP = 1024


def _tokens(name, x, low=1):
    t = float(v.whole(name, x, low))
    if t > _MAX_TOKENS:
        raise InvalidInputError(f"{name} above 100,000,000 tokens is implausible: give tokens "
                                "per request, e.g. 1000", arg=name, value=x, code="#NUM!")
    return t


def _tp(x):
    t = int(v.whole("tp", x))
    if t > _MAX_TP:
        raise InvalidInputError(f"tp above {_MAX_TP} GPUs per replica is implausible: e.g. 8",
                                arg="tp", value=x, code="#NUM!")
    return t


def _bounded(name, x, high, example):
    a = float(v.positive(name, x))
    if a > high:
        raise InvalidInputError(f"{name} above {high:g} is implausible: e.g. {example}",
                                arg=name, value=x, code="#NUM!")
    return a


def _kv(m, kv_precision):
    if kv_precision is None:
        return 2.0
    return resolve_kv_bytes(kv_precision) if isinstance(kv_precision, str) else \
        float(kv_precision)


def serve_ttft_seconds(model, gpu_id, tp, prompt_tokens, batch=1, precision="bf16"):
    """Time to first token (seconds) of a request prefilled with ``batch - 1`` others.

    Parameters
    ----------
    model : str or float
        Model id (or a raw parameter count).
    gpu_id : str
        GPU catalog id.
    tp : int
        GPUs per replica (tensor parallel).
    prompt_tokens : int
        Tokens per prompt.
    batch : int, optional
        Prompts prefilled together (1 by default).
    precision : str, optional
        Weight precision and compute path (bf16, fp8, int8, int4, fp4, nvfp4, mxfp4).

    Returns
    -------
    float
        Seconds: one prefill step of ``batch x prompt_tokens`` tokens, the first output
        token included (:func:`formulas.serving_step.step_parts`).

    Examples
    --------
    Llama-2-7B in FP8 on one H100 SXM, 2,048-token prompt (TensorRT-LLM v0.9: 30.8 ms):

    >>> round(serve_ttft_seconds("llama-2-7b", "h100-sxm", 1, 2048, 1, "fp8") * 1000, 1)
    28.2
    """
    m = serve_model(model)
    wb, path = resolve_precision(precision)
    n = _tokens("prompt_tokens", prompt_tokens)
    b = _tokens("batch", batch)
    rep = replica(gpu_id, _tp(tp), path)
    check_weights_fit(m, rep, wb)
    return v.out(step_parts(m, rep, wb, 2.0, b, n / 2, n)["total_s"])


def serve_schedule(m, rep, wb, kvv, batch, prompt, out):
    """Continuous-batching steady state of one replica: (tpot_s, ttft_s, tokens_per_s).

    ``tpot`` is the step with ``batch`` decodes at the average context ``prompt + out/2``
    and ``batch x prompt / out`` prompt tokens; ``ttft`` the chunked prefill of one prompt
    beside ``batch - 1`` decodes (the request's own slot is the one being filled).
    """
    b = float(batch)
    ctx = prompt + out / 2
    pf = b * prompt / out
    tpot = float(step_parts(m, rep, wb, kvv, b, ctx, 1, pf, prompt / 2)["total_s"])
    budget = rep.step_tokens - (b - 1)
    if budget < 1:
        return tpot, math.inf, b / tpot
    chunk = min(budget, max(prompt, 1))
    steps = math.ceil(max(prompt, 1) / chunk)
    t_step = float(step_parts(m, rep, wb, kvv, b - 1, ctx, 1, chunk, prompt / 2)["total_s"])
    return tpot, steps * t_step, b / tpot


def serve_tpot_seconds(model, gpu_id, tp, batch, prompt_tokens, output_tokens,
                       precision="bf16", kv_precision=None):
    """Time per output token (seconds) each user sees with ``batch`` requests in flight.

    Parameters
    ----------
    model, gpu_id, tp, precision
        As in :func:`serve_ttft_seconds`.
    batch : int or "max"
        Requests decoding together; "max": the most whose KV cache fits.
    prompt_tokens, output_tokens : int
        Tokens per prompt and generated per request.
    kv_precision : str, optional
        KV-cache precision (bf16 or fp8); None: bf16.

    Returns
    -------
    float
        Seconds per output token under continuous batching with chunked prefill
        (:func:`serve_schedule`).

    Examples
    --------
    Llama-3-70B in FP8 on 2 H100 SXM, 32 users of 1,000 + 250 tokens:

    >>> round(serve_tpot_seconds("llama-3-70b", "h100-sxm", 2, 32, 1000, 250, "fp8") * 1000, 1)
    28.9
    """
    m = serve_model(model)
    wb, path = resolve_precision(precision)
    kvv = _kv(m, kv_precision)
    prompt = _tokens("prompt_tokens", prompt_tokens, 0)
    out = _tokens("output_tokens", output_tokens)
    rep = replica(gpu_id, _tp(tp), path)
    check_weights_fit(m, rep, wb)
    cap = _cap(m, rep, wb, kvv, prompt + out)
    if isinstance(batch, str):
        if batch.strip().lower() != "max":
            raise InvalidInputError("batch is a count of requests or \"max\"", arg="batch",
                                    value=batch)
        b = cap
    else:
        b = _tokens("batch", batch)
    if b < 1 or b > cap:
        raise InfeasibleError(f"batch does not fit in memory: at most {max(cap, 0):g} requests "
                              "of prompt_tokens + output_tokens on this replica", arg="batch",
                              value=batch)
    return v.out(serve_schedule(m, rep, wb, kvv, b, prompt, out)[0])


def _cap(m, rep, wb, kvv, context) -> float:
    """Most requests a replica runs: what the KV cache allows, and at most one decode token
    each in a step's token budget (``serve_step_tokens``; vLLM's max_num_seqs never exceeds
    max_num_batched_tokens)."""
    return min(float(max_batch(m, rep, wb, kvv, context)), float(rep.step_tokens))


def _batches(cap: float) -> list[int]:
    out, b = [], 1
    while b < cap:
        out.append(b)
        b *= 2
    if cap >= 1:
        out.append(int(cap))
    return out


def serve_plan(model, gpu_id, requests_per_s, prompt_tokens, output_tokens, precision="bf16",
               ttft_slo_s=None, tpot_slo_s=None, usd_per_gpu_hour=0, kv_precision=None):
    """Fleets that serve a request rate within latency targets, cheapest first.

    Parameters
    ----------
    model, gpu_id, precision, kv_precision
        As in :func:`serve_tpot_seconds`.
    requests_per_s : float
        Sustained requests per second.
    prompt_tokens, output_tokens : int
        Tokens per prompt and generated per request.
    ttft_slo_s, tpot_slo_s : float, optional
        Largest time to first token and time per output token allowed (seconds).
    usd_per_gpu_hour : float, optional
        Price of a GPU-hour; 0 (default) ranks by GPU count.

    Returns
    -------
    list of tuple
        One row per tensor-parallel size that meets the targets, with the columns of
        :data:`PLAN_SERVE_COLUMNS`; cheapest first (fewest GPUs, then lowest TPOT).

    Notes
    -----
    For each ``tp`` whose weights fit, batches ``1, 2, 4, ...`` up to the most that fit
    are scheduled (:func:`serve_schedule`); the batch that needs the fewest replicas
    within the targets is kept. ``replicas = ceil(requests_per_s * output / (batch /
    tpot))``; ``usd_per_m_output_tokens = gpus * usd_per_gpu_hour / (requests_per_s *
    output * 3600) * 1e6`` (the fleet's cost over the demanded tokens) [P22]_.

    Examples
    --------
    >>> rows = serve_plan("llama-3-70b", "h100-sxm", 10, 1000, 250, "fp8", 2, 0.05, 3)
    >>> [(r[0], r[2]) for r in rows][:2]
    [(4.0, 4.0), (4.0, 2.0)]
    """
    m = serve_model(model)
    wb, path = resolve_precision(precision)
    kvv = _kv(m, kv_precision)
    rps = _bounded("requests_per_s", requests_per_s, 1e9, 10)
    prompt = _tokens("prompt_tokens", prompt_tokens, 0)
    out = _tokens("output_tokens", output_tokens)
    ttft_slo = math.inf if ttft_slo_s is None else float(v.positive("ttft_slo_s", ttft_slo_s))
    tpot_slo = math.inf if tpot_slo_s is None else float(v.positive("tpot_slo_s", tpot_slo_s))
    price = float(v.non_negative("usd_per_gpu_hour", usd_per_gpu_hour))
    if price > 1e4:
        raise InvalidInputError("usd_per_gpu_hour above 10,000 is implausible: e.g. 3",
                                arg="usd_per_gpu_hour", value=usd_per_gpu_hour, code="#NUM!")
    rows = []
    for tp in _TP_CHOICES:
        rep = replica(gpu_id, tp, path)
        try:
            check_weights_fit(m, rep, wb)
        except InfeasibleError:
            continue
        cap = _cap(m, rep, wb, kvv, prompt + out)
        best = None
        for b in _batches(cap):
            tpot, ttft, tps = serve_schedule(m, rep, wb, kvv, b, prompt, out)
            if tpot > tpot_slo or ttft > ttft_slo:
                continue
            replicas = math.ceil(rps * out / tps * (1 - 1e-12))
            key = (replicas, tpot)
            if best is None or key < best[0]:
                best = (key, b, tpot, ttft, tps, replicas)
        if best is None:
            continue
        _, b, tpot, ttft, tps, replicas = best
        gpus = replicas * tp
        usd_m = gpus * price / (rps * out * SECONDS_PER_HOUR) * 1e6
        rows.append((float(gpus), float(replicas), float(tp), float(b), replicas * tps, ttft,
                     tpot, usd_m, gpus * price * HOURS_PER_MONTH))
    if not rows:
        raise InfeasibleError("no tensor-parallel size up to 64 meets the targets: relax "
                              "ttft_slo_s or tpot_slo_s, or choose a faster GPU or a "
                              "smaller precision", arg="tpot_slo_s")
    rows.sort(key=lambda r: (r[7], r[0], r[6]))
    return rows


def default_usd_per_gpu_hour(gpu_id) -> float:
    """Median on-demand price per GPU-hour of a GPU in the dated example price table."""
    spec = gpu(gpu_id)
    prices = sorted(p.usd for p in gpu_prices()
                    if p.gpu_id == spec.id and p.price_type == "cloud_on_demand")
    if not prices:
        raise InvalidInputError(f"no example on-demand price for {spec.id}: give "
                                "usd_per_gpu_hour", arg="usd_per_gpu_hour")
    return float(np.median(prices))


def self_host_breakeven_tokens_per_day(model, gpu_id, price_id, prompt_tokens, output_tokens,
                                       usd_per_gpu_hour=None, precision="bf16"):
    """Daily tokens (prompt + output) above which your own GPUs cost less than the API.

    Parameters
    ----------
    model, gpu_id, precision
        As in :func:`serve_plan`.
    price_id : str
        Row of the API list-price table (:func:`formulas.api_prices.api_price`).
    prompt_tokens, output_tokens : int
        Tokens per request (the mix the volume is made of; cached input is not assumed).
    usd_per_gpu_hour : float, optional
        Price of a GPU-hour; None: the median on-demand example price of the GPU.

    Returns
    -------
    float
        Tokens per day (prompt plus output) at which one replica, paid 24 hours a day,
        costs what the API charges for the same requests.

    Notes
    -----
    API cost per request ``a = (prompt x input + output x output price) / 1e6``. For each
    ``tp`` that fits, one replica costs ``C = tp x usd_per_gpu_hour x 24`` a day and
    serves at most ``R = 86400 x batch / (tpot x output)`` requests a day at the largest
    batch that fits. Break-even is ``C / a`` requests a day when ``C / a <= R`` (self-hosting
    is cheaper above it, adding replicas as volume grows); the smallest over ``tp``.

    Raises
    ------
    InfeasibleError
        When even a full replica costs more per request than the API.

    Examples
    --------
    >>> v = self_host_breakeven_tokens_per_day("llama-3-70b", "h100-sxm",
    ...     "groq-llama-3-70b", 1000, 250, 2.5, "fp8")
    >>> round(v / 1e6)
    95
    """
    from .api_prices import api_price

    m = serve_model(model)
    wb, path = resolve_precision(precision)
    prompt = _tokens("prompt_tokens", prompt_tokens, 0)
    out = _tokens("output_tokens", output_tokens)
    price = (default_usd_per_gpu_hour(gpu_id) if usd_per_gpu_hour is None
             else _bounded("usd_per_gpu_hour", usd_per_gpu_hour, 1e4, 3))
    a = (prompt * api_price(price_id, "input_usd_per_m")
         + out * api_price(price_id, "output_usd_per_m")) / 1e6
    best = math.inf
    for tp in _TP_CHOICES:
        rep = replica(gpu_id, tp, path)
        try:
            check_weights_fit(m, rep, wb)
        except InfeasibleError:
            continue
        cap = _cap(m, rep, wb, 2.0, prompt + out)
        if cap < 1:
            continue
        tpot, _, _ = serve_schedule(m, rep, wb, 2.0, cap, prompt, out)
        per_day = SECONDS_PER_DAY * cap / (tpot * out)
        need = tp * price * 24 / a
        if need <= per_day:
            best = min(best, need)
    if not math.isfinite(best):
        raise InfeasibleError("the API costs less per request at every volume on this GPU: "
                              "lower usd_per_gpu_hour or use a smaller precision",
                              arg="usd_per_gpu_hour")
    return v.out(best * (prompt + out))
