"""Searches of the training step model: the best layouts of a GPU count, and the deadline.

Every layout of ``num_gpus`` GPUs is enumerated by broadcasting -- ``tp`` (dividing the
heads, within the scale-up domain), ``cp`` (powers of two, at least 1,024 tokens per
rank), ``pp`` (any divisor of what is left, at most the layers: uneven stages are fine),
``dp`` the rest, ``ep`` (MoE: dividing ``dp x cp`` and the experts), ``vp``, ``mb``, ZeRO
stage and recomputation -- and priced in one vectorised call of
:func:`formulas.plan.step.evaluate`. Layouts over the GPU's memory are dropped.

``days_low`` and ``days_high`` scale ``days`` by the 10th and 90th percentiles of measured
over predicted step time on the calibration runs (rows ``days_ratio_low`` and
``days_ratio_high`` of the assumptions table), so a budget carries the model's own
demonstrated error.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _validate as v
from ..errors import InfeasibleError, InvalidInputError
from ..units import SECONDS_PER_DAY
from .assumptions import plan_assumption
from .layout import RECOMPUTE_NAMES, format_layout
from .shape import TrainShape
from .step import evaluate, peak_for, train_hardware
from .train import model_shape, precision_name

__all__ = ["train_plan", "train_plan_deadline", "TRAIN_PLAN_COLUMNS", "DEADLINE_COLUMNS"]

#: Columns of :func:`train_plan`'s table, in order.
TRAIN_PLAN_COLUMNS = ("layout", "global_batch", "mem_gb", "step_s", "tokens_per_gpu_s", "mfu",
                      "days", "days_low", "days_high", "gpu_hours")
#: Columns of :func:`train_plan_deadline`'s row, in order.
DEADLINE_COLUMNS = ("num_gpus", "layout", "global_batch", "days", "days_low", "days_high",
                    "gpu_hours", "cost_usd", "mem_gb", "mfu")
_VP = (1, 2, 3, 4, 6, 8, 12)
_MB = (1, 2, 4, 8)
_MAX_GPUS = 1_000_000


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, int(math.isqrt(n)) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def _layouts(shape: TrainShape, hw, s: int, counts) -> np.ndarray:
    """Rows ``(N, tp, pp, cp, dp, ep)`` of every parallel layout of each GPU count."""
    tps = [t for t in (1, 2, 4, 8, 16, 32, 64) if shape.heads % t == 0 and t <= hw.scaleup_gpus]
    cps = [c for c in (1, 2, 4, 8, 16, 32) if c == 1 or (s % (2 * c) == 0 and s // c >= 1024)]
    rows = []
    for N in counts:
        for t in tps:
            for c in cps:
                if N % (t * c):
                    continue
                for p in _divisors(N // (t * c)):
                    if p > shape.layers:
                        break
                    d = N // (t * c * p)
                    eps = ([e for e in _divisors(d * c) if shape.experts % e == 0]
                           if shape.is_moe else [1])
                    rows.extend((N, t, p, c, d, e) for e in eps)
    return np.array(rows, dtype=float).reshape(-1, 6)


def _grid(shape: TrainShape, hw, s: int, B: int, counts, pruned: bool):
    lay = _layouts(shape, hw, s, counts)
    vps = np.array(_VP, dtype=float)
    mbs = np.array(_MB, dtype=float)
    zs = np.array([1.0] if pruned else [1.0, 2.0, 3.0])
    rcs = np.array([0.0, 1.0, 2.0])
    idx = np.stack(np.meshgrid(np.arange(len(lay)), vps, mbs, zs, rcs, indexing="ij"),
                   -1).reshape(-1, 5)
    L = lay[idx[:, 0].astype(int)]
    N, t, p, c, d, e = L.T
    vp, mb, z, rc = idx[:, 1:].T
    ok = ((p * vp <= shape.layers) & ((vp == 1) | (p > 1)) & ((z == 1) | (p == 1))
          & (d * mb <= B))
    cols = [x[ok] for x in (N, t, p, c, d, e, vp, mb, z, rc)]
    return cols


def _search(shape, hw, s, B_target, precision, counts, pruned):
    N, t, p, c, d, e, vp, mb, z, rc = _grid(shape, hw, s, B_target, counts, pruned)
    B = np.maximum(np.round(B_target / (d * mb)), 1.0) * d * mb  # whole micro-batches
    res = evaluate(shape, hw, s, B, precision, t, p, c, d, e, vp, mb, z, rc)
    fits = res["mem_gb"] <= hw.memory_gb
    sel = np.nonzero(fits)[0]
    out = {k: np.broadcast_to(x, fits.shape)[sel] for k, x in res.items()}
    out.update({k: x[sel] for k, x in dict(num_gpus=N, tp=t, pp=p, cp=c, dp=d, ep=e, vp=vp,
                                               mb=mb, zero=z, rc=rc, global_batch=B).items()})
    out["evaluated"] = int(fits.size)
    return out


def _finish(shape, hw, s, T, res):
    tokens_step = res["global_batch"] * s
    step = res["step_s"]
    n = res["num_gpus"]
    res["tokens_per_gpu_s"] = tokens_step / (step * n)
    res["mfu"] = shape.flops_per_token(s) * tokens_step / (step * n * hw.peak_bf16)
    res["days"] = T / tokens_step * step / SECONDS_PER_DAY
    res["days_low"] = res["days"] * plan_assumption("days_ratio_low")
    res["days_high"] = res["days"] * plan_assumption("days_ratio_high")
    res["gpu_hours"] = res["days"] * 24 * n
    return res


def _row(res, i) -> dict:
    out = {k: (x[i].item() if hasattr(x, "__len__") else x) for k, x in res.items()
           if k != "evaluated"}
    out["layout"] = format_layout(out["tp"], out["pp"], out["cp"], out["dp"], out["ep"],
                                  out["vp"], out["mb"], out["zero"],
                                  RECOMPUTE_NAMES[int(out["rc"])])
    out["global_batch"] = int(out["global_batch"])
    out["num_gpus"] = int(out["num_gpus"])
    return out


def _inputs(model, tokens, gpu, s, global_batch_tokens, precision):
    shape = model_shape(model)
    T = float(v.tokens("tokens", tokens))
    if T > 1e17:
        raise InvalidInputError("tokens above 1E17 is implausible: use e.g. 15E12",
                                arg="tokens", value=tokens, code="#NUM!")
    if not isinstance(gpu, str):
        raise InvalidInputError("gpu must be a catalog id such as \"h100-sxm\"", arg="gpu",
                                value=gpu)
    hw = train_hardware(gpu)
    s = int(v.whole("seq_len", s))
    if s > 10_000_000:
        raise InvalidInputError("seq_len above 10,000,000 is implausible: use e.g. 8192",
                                arg="seq_len", value=s, code="#NUM!")
    gbt = float(v.positive("global_batch_tokens", global_batch_tokens))
    if gbt < s or gbt > 1e10:
        raise InvalidInputError(f"global_batch_tokens must hold at least one sequence of "
                                f"{s} tokens and at most 1E10: use e.g. 4E6",
                                arg="global_batch_tokens", value=global_batch_tokens,
                                code="#NUM!")
    p = precision_name(precision)
    peak_for(hw, p)
    return shape, T, hw, s, max(1, round(gbt / s)), p


def _order(res):
    return np.lexsort((res["mem_gb"], res["days"]))


def train_plan(model, tokens, gpu, num_gpus, seq_len=4096, global_batch_tokens=4e6,
               precision="bf16", top=10) -> list[dict]:
    """The fastest layouts of ``num_gpus`` GPUs that fit in memory, best first (list of dicts).

    Each dict has the columns :data:`TRAIN_PLAN_COLUMNS` plus the knobs. ``layout`` spells
    every knob and ``global_batch`` is the batch in sequences the layout runs (the
    requested tokens rounded to whole micro-batches per replica), so
    ``train_step_seconds(model, gpu, layout, seq_len, global_batch, precision)`` gives
    the same ``step_s``.

    Examples
    --------
    Llama 3.1 405B on 16,384 H100s, 15.6T tokens at 8K context (Meta ran TP8 PP16 DP128
    at 38-43% MFU and reports 30.84M GPU-hours for the whole run, failures and the
    long-context stage included):

    >>> best = train_plan("llama-3.1-405b", 15.6e12, "h100-sxm", 16384, 8192, 16e6, top=1)[0]
    >>> best["layout"], round(best["mfu"], 2), round(best["gpu_hours"] / 1e6, 1)
    ('tp8 pp16 cp4 dp32 ep1 vp6 mb1 zero1 none', 0.52, 21.3)
    """
    shape, T, hw, s, B, p = _inputs(model, tokens, gpu, seq_len, global_batch_tokens,
                                    precision)
    N = int(v.whole("num_gpus", num_gpus))
    if N > _MAX_GPUS:
        raise InvalidInputError(f"num_gpus above {_MAX_GPUS:,} is not supported",
                                arg="num_gpus", value=num_gpus, code="#NUM!")
    top = int(v.whole("top", top))
    res = _search(shape, hw, s, B, p, [N], pruned=False)
    if len(res["step_s"]) == 0:
        raise InfeasibleError(f"no layout of {N} x {hw.gpu_id} fits {shape.id} in "
                              f"{hw.memory_gb:g} GB per GPU: use more GPUs or a GPU with "
                              "more memory", arg="num_gpus", value=num_gpus)
    res = _finish(shape, hw, s, T, res)
    return [_row(res, i) for i in _order(res)[:top]]


def train_plan_deadline(model, tokens, gpu, max_days, usd_per_gpu_hour=0.0, seq_len=4096,
                        global_batch_tokens=4e6, precision="bf16") -> dict:
    """The fewest GPUs, in whole servers of the GPU's scale-up size, that train in time.

    Returns a dict with :data:`DEADLINE_COLUMNS` and the knobs of the best layout.

    Notes
    -----
    Whole scale-up domains (8 GPUs for HGX, 72 for NVL72) are tried from the bound
    ``flops / (max_days x peak)`` (MFU cannot exceed 1), growing by a quarter until a
    count meets the deadline; every count between the last that missed and that one is
    then searched and the smallest that meets it is returned.

    Examples
    --------
    >>> r = train_plan_deadline("llama-3-8b", 1e12, "h100-sxm", 30, 2.5)
    >>> r["num_gpus"] % 8 == 0 and r["days"] <= 30
    True
    """
    shape, T, hw, s, B, p = _inputs(model, tokens, gpu, seq_len, global_batch_tokens,
                                    precision)
    days_max = float(v.deadline_days("max_days", max_days))
    price = float(v.non_negative("usd_per_gpu_hour", usd_per_gpu_hour))
    unit = hw.scaleup_gpus
    bound = shape.flops_per_token(s) * T / (days_max * SECONDS_PER_DAY * peak_for(hw, p))
    if not bound <= _MAX_GPUS:
        raise InfeasibleError(f"even at 100% utilisation this needs over {_MAX_GPUS:,} GPUs: "
                              "extend the deadline or train on fewer tokens", arg="max_days",
                              value=max_days)

    def best(counts):
        res = _search(shape, hw, s, B, p, counts, pruned=False)
        if len(res["step_s"]):
            res = _finish(shape, hw, s, T, res)
            ok = np.nonzero(res["days"] <= days_max)[0]
        else:
            ok = np.array([], dtype=int)
        return res, ok

    n = max(unit, math.ceil(bound / unit) * unit)
    lo = n - unit
    while True:
        if n > _MAX_GPUS:
            raise InfeasibleError(f"no plan on up to {_MAX_GPUS:,} x {hw.gpu_id} meets "
                                  f"{days_max:g} days: extend the deadline or train on fewer "
                                  "tokens", arg="max_days", value=max_days)
        res, ok = best([n])
        if len(ok):
            break
        lo = n
        n = max(n + unit, math.ceil(n * 1.25 / unit) * unit)
    between = list(range(lo + unit, n, unit))
    for first in range(0, len(between), 16):
        r2, ok2 = best(between[first:first + 16])
        if len(ok2):
            res, ok = r2, ok2
            break
    nmin = res["num_gpus"][ok].min()
    rows = ok[res["num_gpus"][ok] == nmin]
    i = rows[np.lexsort((res["mem_gb"][rows], res["days"][rows]))[0]]
    out = _row(res, i)
    out["cost_usd"] = out["gpu_hours"] * price
    return out
