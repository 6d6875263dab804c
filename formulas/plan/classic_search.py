"""The search of the classic 3D-parallel model: every layout of a GPU count, and the deadline.

The model each layout is priced with is :mod:`formulas.plan.classic_model`; the layouts
are enumerated by broadcasting, so a search is one vectorised evaluation.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .. import _validate as v
from ..errors import InfeasibleError, InvalidInputError
from ..units import SECONDS_PER_DAY, TERA
from .assumptions import PlanHardware, plan_hardware
from .classic_model import (_RECOMPUTE_NAMES, _constants, _memory, _model_args,
                            _model_flops_per_token, _step_seconds)

__all__ = ["plan_training", "plan_for_deadline", "PLAN_COLUMNS"]

#: Columns of the table :func:`plan_training` returns (and PLAN_TRAINING spills).
PLAN_COLUMNS = ("tp", "pp", "dp", "micro_batch", "zero_stage", "recompute", "mem_gb", "mfu",
                "days", "gpu_hours", "sequence_parallel", "interleave")
_MAX_MICRO_BATCH = 64
_INTERLEAVE = (1, 2, 3, 4, 6, 8)  # model chunks per GPU tried by the search
_MAX_GPUS = 1_000_000
_BRACKET = 256  # most GPU counts searched between a miss and a hit in plan_for_deadline


def _divisors(n: int) -> np.ndarray:
    k = np.arange(1, int(n) + 1)
    return k[n % k == 0]


def _grid(N: np.ndarray, L: int, a: int, B_seq: float, pruned: bool = False):
    """Every valid (N, tp, pp, v, b, zero, recompute, sp) as flat arrays, by broadcasting.

    Built in two vectorised stages: the (N, tp, pp, v) layouts that divide the GPUs and the
    layers, then their cross product with the (micro-batch, ZeRO, recompute, SP) options.
    ``pruned`` drops options that can never be the fastest plan: ZeRO-0 (ZeRO-1 has the
    same traffic, a shorter optimizer step and less memory) and sequence parallelism off
    when ``tp > 1`` (same traffic, less memory and memory-bound time with it on).
    """
    n_, t_, p_, v_ = np.meshgrid(N, _divisors(a), _divisors(L), np.array(_INTERLEAVE),
                                 indexing="ij", sparse=True)
    ok = (n_ % (t_ * p_) == 0) & (L % (p_ * v_) == 0) & ((v_ == 1) | (p_ > 1))
    ok = np.broadcast_to(ok, np.broadcast_shapes(n_.shape, t_.shape, p_.shape, v_.shape))
    idx = np.nonzero(ok)
    lay = [np.broadcast_to(x, ok.shape)[idx] for x in (n_, t_, p_, v_)]
    b_, z_, r_, s_ = _options(pruned)
    n, t, p, iv = (x[:, None] for x in lay)
    d = n // (t * p)
    valid = ((b_ * d <= max(B_seq, 1)) & ((z_ <= 1) | ((p == 1) & (iv == 1)))
             & ((s_ == (t > 1)) if pruned else (s_ <= (t > 1))))
    i, j = np.nonzero(valid)
    n, t, p, iv, d = (x[i, 0] for x in (n, t, p, iv, d))
    return (n.astype(float), t.astype(float), p.astype(float), d.astype(float),
            iv.astype(float), b_[0, j].astype(float), z_[0, j].astype(float), r_[0, j],
            s_[0, j])


@functools.cache
def _options(pruned: bool):
    """(micro-batch, ZeRO, recompute, SP) combinations as 1 x k rows (read-only)."""
    grids = np.meshgrid(2 ** np.arange(int(math.log2(_MAX_MICRO_BATCH)) + 1),
                        np.arange(1, 4) if pruned else np.arange(4), np.arange(3),
                        np.array([False, True]), indexing="ij")
    rows = tuple(x.reshape(1, -1) for x in grids)
    for x in rows:
        x.flags.writeable = False
    return rows


def _search_arrays(P, L, h, a, s, T, hw: PlanHardware, N, global_batch_tokens, pruned=False):
    k = _constants(hw.gpu_id)
    B_seq = global_batch_tokens / s
    n, t, p, d, iv, b, z, rc, sp = _grid(np.asarray(N, dtype=np.int64), int(L), int(a), B_seq,
                                         pruned)
    # micro-batches per replica: the batch rounded to whole micro-batches, and to a multiple
    # of pp under the interleaved schedule (which Megatron requires)
    m = np.where(iv > 1, p * np.maximum(1.0, np.round(B_seq / (b * d * p))),
                 np.maximum(1.0, np.round(B_seq / (b * d))))
    ok = np.ones(m.shape, dtype=bool)
    parts = _memory(P, L, h, a, s, b, t, p, d, m, z, rc, sp, iv, k["cuda_context_gb"],
                    k["fragmentation"])
    mem = sum(parts)
    fits = ok & (mem <= hw.memory_gb)
    sel = np.nonzero(fits)[0]
    n, t, p, d, iv, b, z, rc, sp, m, mem = (x[sel] for x in (n, t, p, d, iv, b, z, rc, sp, m,
                                                             mem))
    seconds = _step_seconds(P, L, h, a, s, b, t, p, d, m, z, rc, sp, iv, hw, k)
    tokens_per_step = m * b * d * s
    flops = _model_flops_per_token(P, L, h, s) * tokens_per_step
    mfu = flops / (seconds * n * hw.peak_tflops * TERA)
    days = T / tokens_per_step * seconds / SECONDS_PER_DAY
    return dict(num_gpus=n, tp=t, pp=p, dp=d, micro_batch=b, zero_stage=z, recompute=rc,
                mem_gb=mem, mfu=mfu, days=days, gpu_hours=days * 24 * n, sequence_parallel=sp,
                interleave=iv, evaluated=int(np.count_nonzero(ok)))


def _search_inputs(P, L, h, a, T, gpu, s, global_batch_tokens):
    P, L, h, a, s = (float(x) for x in _model_args(P, L, h, a, s))
    T = float(v.tokens("T", T))
    if T > 1e16:
        raise InvalidInputError("T above 1E16 tokens is implausible: use e.g. 300E9", arg="T",
                                value=T, code="#NUM!")
    gbt = float(v.positive("global_batch_tokens", global_batch_tokens))
    if gbt > 1e10:
        raise InvalidInputError("global_batch_tokens above 1E10 is implausible: use e.g. 4E6",
                                arg="global_batch_tokens", value=gbt, code="#NUM!")
    if gbt < s:
        raise InvalidInputError(f"global_batch_tokens ({gbt:g}) is less than one sequence of "
                                f"s={s:g} tokens: use e.g. 4E6", arg="global_batch_tokens",
                                value=global_batch_tokens, code="#NUM!")
    return P, L, h, a, T, plan_hardware(gpu), s, gbt


def _table(res: dict, order: np.ndarray):
    import pandas as pd

    cols = {}
    for c in PLAN_COLUMNS:
        x = res[c][order]
        if c == "recompute":
            x = np.array(_RECOMPUTE_NAMES, dtype=object)[x]
        elif c == "sequence_parallel":
            x = x.astype(bool)
        elif c in ("tp", "pp", "dp", "micro_batch", "zero_stage", "interleave"):
            x = x.astype(int)
        cols[c] = x
    return pd.DataFrame(cols)


def plan_training(P, L, h, a, T, gpu, num_gpus, s=4096, global_batch_tokens=4e6, top=10):
    """Search every parallel layout of ``num_gpus`` GPUs and rank those that fit by training days.

    Parameters
    ----------
    P : float
        Parameters (raw count).
    L, h, a : int
        Layers, hidden size, attention heads.
    T : float
        Training tokens (raw count).
    gpu : str
        GPU catalog id.
    num_gpus : int
        GPUs; every ``tp * pp * dp = num_gpus`` is tried.
    s : int, optional
        Sequence length (4096).
    global_batch_tokens : float, optional
        Tokens per step (4e6); the batch is rounded to whole micro-batches per replica (and
        to a multiple of ``pp`` micro-batches under the interleaved schedule).
    top : int, optional
        Rows to return (10).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PLAN_COLUMNS` (``tp, pp, dp, micro_batch, zero_stage, recompute,
        mem_gb, mfu, days, gpu_hours, sequence_parallel``), fastest first (ties: less
        memory first).

    Notes
    -----
    Enumerated: ``tp`` dividing ``a`` and ``pp`` dividing ``L`` with ``tp * pp`` dividing
    ``num_gpus``; micro-batch 1, 2, 4 ... 64 (at most the batch per replica); ZeRO 0-3
    (2 and 3 only without pipeline parallelism, which DeepSpeed does not combine);
    recomputation none/selective/full; sequence parallelism when ``tp > 1``; interleaved
    schedule with 1, 2, 3, 4, 6 or 8 chunks per GPU when ``pp > 1`` (``pp * v`` dividing
    ``L``). Layouts whose :func:`plan_mem_gb` exceeds the GPU's memory are
    dropped. One vectorised evaluation over all of them, no loop per layout.

    Examples
    --------
    GPT-3 175B on 300B tokens, 1,024 A100 80 GB, 2,048-token sequences, 1,536-sequence batch:

    >>> best = plan_training(175e9, 96, 12288, 96, 300e9, "a100-sxm-80gb", 1024, 2048,
    ...                      1536 * 2048, 3)
    >>> list(best.columns[:6])
    ['tp', 'pp', 'dp', 'micro_batch', 'zero_stage', 'recompute']
    >>> bool((best.tp * best.pp * best.dp == 1024).all())
    True
    """
    P, L, h, a, T, hw, s, gbt = _search_inputs(P, L, h, a, T, gpu, s, global_batch_tokens)
    N = float(v.whole("num_gpus", num_gpus))
    if N > _MAX_GPUS:
        raise InvalidInputError(f"num_gpus above {_MAX_GPUS:,} is not supported",
                                arg="num_gpus", value=num_gpus, code="#NUM!")
    top = int(v.whole("top", top))
    res = _search_arrays(P, L, h, a, s, T, hw, [int(N)], gbt)
    if len(res["days"]) == 0:
        raise InfeasibleError(f"no layout of {int(N)} x {hw.gpu_id} fits in {hw.memory_gb:g} GB "
                              "per GPU: use more GPUs or a GPU with more memory",
                              arg="num_gpus", value=num_gpus)
    order = np.lexsort((res["mem_gb"], res["days"]))[:top]
    return _table(res, order)


def plan_for_deadline(P, L, h, a, T, gpu, max_days, price_per_gpu_hour=None, s=4096,
                      global_batch_tokens=4e6):
    """Fewest GPUs (whole nodes beyond one node) whose best layout trains within ``max_days``.

    Parameters
    ----------
    P, L, h, a, T, gpu, s, global_batch_tokens
        As in :func:`plan_training`.
    max_days : float
        Deadline in days.
    price_per_gpu_hour : float, optional
        Price of one GPU-hour; None leaves the cost out.

    Returns
    -------
    dict
        ``num_gpus``, ``days``, ``gpu_hours``, ``cost`` (None without a price), and the
        layout: ``tp, pp, dp, micro_batch, zero_stage, recompute, sequence_parallel,
        mem_gb, mfu``.

    Notes
    -----
    Candidates: 1, 2, 4 ... below one node, then whole nodes (8 GPUs) from the bound
    ``6 P T / (max_days * 86400 * peak)`` (MFU cannot exceed 1). Whole-node counts grow by
    1/8 until one meets the deadline; every whole-node count between the last miss and
    that hit is then searched (vectorised, 64 counts at a time), so the answer is the
    fewest GPUs provided a count that missed is not beaten by a smaller one (more GPUs
    rarely make the best plan slower). Each count's layouts are searched as in
    :func:`plan_training`, leaving out options that can never be fastest (ZeRO-0, and
    sequence parallelism off).

    Examples
    --------
    GPT-3 175B on 300B tokens within 30 days on A100 80 GB at $2 per GPU-hour:

    >>> r = plan_for_deadline(175e9, 96, 12288, 96, 300e9, "a100-sxm-80gb", 30, 2, 2048,
    ...                       1536 * 2048)
    >>> r["num_gpus"] % 8 == 0 and r["days"] <= 30
    True
    """
    P, L, h, a, T, hw, s, gbt = _search_inputs(P, L, h, a, T, gpu, s, global_batch_tokens)
    days_max = float(v.deadline_days("max_days", max_days))
    price = None if price_per_gpu_hour is None else float(
        v.non_negative("price_per_gpu_hour", price_per_gpu_hour))
    node = hw.gpus_per_node
    bound = 6 * P * T / (days_max * SECONDS_PER_DAY * hw.peak_tflops * TERA)

    def search(cands):
        res = _search_arrays(P, L, h, a, s, T, hw, np.asarray(cands, dtype=np.int64), gbt,
                             pruned=True)
        return res, np.nonzero(res["days"] <= days_max)[0]

    if not bound <= _MAX_GPUS:
        raise InfeasibleError(f"even at 100% utilisation this needs over {_MAX_GPUS:,} GPUs: "
                              "extend the deadline or train on fewer tokens", arg="max_days",
                              value=max_days)
    res, ok = None, ()
    small = [int(n) for n in 2 ** np.arange(int(math.log2(node))) if n >= bound]
    if small:  # fewer GPUs than one node
        res, ok = search(small)
    if not len(ok):
        # whole nodes, growing by 1/8 from the bound until a plan meets the deadline ...
        n = max(node, int(math.ceil(bound / node)) * node)
        lo = n - node
        while True:
            if n > _MAX_GPUS:
                raise InfeasibleError(f"no plan on up to {_MAX_GPUS:,} x {hw.gpu_id} meets "
                                      f"{days_max:g} days: extend the deadline or train on "
                                      "fewer tokens", arg="max_days", value=max_days)
            res, ok = search([n])
            if len(ok):
                break
            lo = n
            n = max(n + node, int(math.ceil(n * 1.125 / node)) * node)
        # ... then the whole nodes between the last count that missed and that one (at
        # most _BRACKET counts: the step grows in whole nodes for very large clusters)
        step = node * max(1, math.ceil((n - lo) / node / _BRACKET))
        for first in range(lo + step, n, 64 * step):
            r2, ok2 = search(np.arange(first, min(first + 64 * step, n), step))
            if len(ok2):
                res, ok = r2, ok2
                break
    nmin = res["num_gpus"][ok].min()
    rows = ok[res["num_gpus"][ok] == nmin]
    i = rows[np.lexsort((res["mem_gb"][rows], res["days"][rows]))[0]]
    row = _table(res, np.array([i])).iloc[0].to_dict()
    row = {k: (x.item() if hasattr(x, "item") else x) for k, x in row.items()}
    out = {"num_gpus": int(nmin), "days": row.pop("days"), "gpu_hours": row.pop("gpu_hours")}
    out["cost"] = None if price is None else out["gpu_hours"] * price
    out.update(row)
    return out
