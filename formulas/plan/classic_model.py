"""The classic 3D-parallel plan model (2021-22 Megatron-LM on A100): per-GPU memory, step time, MFU.

A *layout* is tensor-parallel degree ``tp``, pipeline stages ``pp`` and data-parallel
replicas ``dp`` (``tp * pp * dp`` GPUs), a micro-batch size, a ZeRO stage, an activation
recomputation mode (``none``, ``selective``, ``full``) and sequence parallelism on or off.
This module prices one layout (memory per GPU, seconds per step, model FLOPs utilisation)
with closed-form expressions that broadcast over numpy arrays, so the search evaluates every
layout of a GPU count in one pass over arrays, without a Python loop per layout.

Every constant that is not a published formula (achievable fraction of peak, link
efficiencies, the overlap of the data-parallel all-reduce, buffers and fragmentation) is
a row of ``formulas/data/plan_assumptions.csv`` with its source; :func:`plan_assumptions`
returns that table.

Model (per GPU, first pipeline stage, one training step)
---------------------------------------------------------
Memory [R19]_ [K22]_:

* weights, gradients, optimizer: ``zero_mem_gb(P / (tp * pp), zero_stage, dp)``
  (2-byte weights and gradients, 12 bytes of Adam state, sharded by ZeRO over ``dp``);
* activations: ``act_mem_gb(L / pp * min(pp, m) * f, b, s, h, a, 2, tp, sp, recompute)``:
  under 1F1B the first stage holds ``min(pp, m)`` micro-batches of its ``L / pp`` layers,
  ``f = 1 + (pp - 1) / (pp * v)`` with ``v`` interleaved chunks ([K22]_ §4.2.3);
* buffers: CUDA context + fragmentation x (state + activations), plus one layer's full
  activations while it is recomputed under ``full`` recomputation.

Step time [N21]_ [K22]_, per layer and micro-batch of ``b * s`` tokens:

* matmuls: ``(6 P / L + 12 h s + extra) * b s / tp`` FLOPs at ``peak * eta``;
  ``extra = 4 h s`` for selective recomputation (``Q K^T`` and attention over ``V``
  again), ``2 P / L + 4 h s`` for full recomputation (one more forward pass);
  ``eta = mamf_fraction(gpu) * layer_fraction_of_mamf``;
* memory-bound element-wise work: ``act_hbm_passes`` x the layer's activation bytes /
  HBM bandwidth;
* tensor parallelism: 4 all-reduces (6 with full recomputation) of ``b s h`` 2-byte values,
  ``2 (tp - 1) / tp`` of it per GPU, over the scale-up link (the scale-out network when
  ``tp`` exceeds one node); sequence parallelism moves the same volume ([K22]_ §4.2.2);
* pipeline: ``(m + (pp - 1) / v)`` micro-batch slots per step (bubble ``(pp - 1)/(m v)``),
  plus the point-to-point send of ``b s h / tp`` values each way per micro-batch;
* data parallelism, ZeRO-0/1: one ring all-reduce of ``grad_allreduce_bytes`` per
  parameter held per step, hidden only behind the backward pass of the last micro-batch
  (``dp_overlap``); ZeRO-2 reduce-scatters 2-byte gradients in every micro-batch and
  all-gathers the weights once per step; ZeRO-3 moves ``zero3_comm_factor`` x an all-reduce
  in every micro-batch (weights gathered forward and backward, gradients reduce-scattered).
  Per-micro-batch traffic hides behind ``zero_overlap`` x that micro-batch's compute. The
  data-parallel ring runs over the scale-up link when ``tp * dp`` fits one node, else over
  the scale-out network (``scale_out_gbps`` per GPU);
* optimizer: ``adam_step_bytes`` per parameter held / HBM bandwidth.

MFU counts model FLOPs only: ``(6 P + 12 L h s)`` per token, no recomputation ([K22]_
§6 and Appendix A: with ``P = 12 L h^2 + V h`` this is ``72 B s L h^2 (1 + s/(6h) +
V/(12 L h))``).

References
----------
.. [K22] Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
   Models", arXiv 2205.05198: §4 and Table 2 (activations), §4.2.3 (pipeline stages in
   flight), Table 4 (per-layer times), Tables 3 and 5 (layouts, MFU).
.. [N21] Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on GPU
   Clusters Using Megatron-LM", arXiv 2104.04473: §2.2 (1F1B, bubble (p-1)/(m v)),
   §3.3 and §4.1 (communication of each kind of parallelism).
.. [R19] Rajbhandari et al. 2019, "ZeRO", arXiv 1910.02054: §5 (per-GPU model states),
   §7 (communication volume of each stage).
.. [MAMF] S. Bekman, "Machine Learning Engineering", compute/accelerator: maximum
   achievable matmul FLOPS measured per accelerator.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as v
from ..errors import InvalidInputError
from ..memory import RECOMPUTE_MODES
from ..units import GB, TERA
from .assumptions import PlanHardware, plan_assumption, plan_hardware

__all__ = ["plan_mem_gb", "plan_mem_breakdown", "plan_step_seconds", "plan_mfu", "MEM_PARTS"]

#: Parts returned by :func:`plan_mem_breakdown`, in order.
MEM_PARTS = ("weights_gb", "grads_gb", "optimizer_gb", "activations_gb", "buffers_gb",
             "total_gb")
_RECOMPUTE_NAMES = ("none", "selective", "full")
_RECOMPUTE_CODE = {n: i for i, n in enumerate(_RECOMPUTE_NAMES)}
_ADAM_BYTES = 12.0  # fp32 master copy + two fp32 moments [R19]_
_MAX_GPUS = 1_000_000


# ---------------------------------------------------------------------------------------
# The vectorised model
# ---------------------------------------------------------------------------------------

def _act_parts(b, s, h, a, t, sp):
    """The two terms of one layer's stored activations (bytes, 16-bit), no recomputation.

    ``linear``: everything but the attention scores; ``scores``: the ``a s^2 b`` terms
    that selective recomputation drops ([K22]_ Table 2, ``p = 2``).
    """
    p = 2.0
    sbh = s * b * h
    linear = np.where(sp, sbh * (16 * p + 2) / t, sbh * (4 * p + 2) + sbh * 12 * p / t)
    return linear, a * s * s * b * (2 * p + 1) / t, sbh


def _act_layer_bytes(b, s, h, a, t, sp, rc, parts=None):
    """Activation bytes of one layer and micro-batch per GPU, 16-bit ([K22]_ Table 2).

    Written exactly as :func:`formulas.memory.act_mem_gb` with ``p = 2`` so the two agree;
    ``sp`` and ``rc`` are arrays (bool, recompute code 0 none, 1 selective, 2 full).
    """
    linear, scores, sbh = parts if parts is not None else _act_parts(b, s, h, a, t, sp)
    if np.ndim(rc) == 0 and rc == 0:
        return linear + scores
    stored = linear + np.where(rc == 0, scores, 0.0)
    return np.where(rc == 2, 2.0 * sbh / np.where(sp, t, 1), stored)


def _memory(P, L, h, a, s, b, t, pp, d, m, z, rc, sp, iv, ctx, frag):
    """Per-GPU memory parts in GB (arrays)."""
    params = P / (t * pp)
    w = np.where(z >= 3, 2.0 / d, 2.0) * params / GB
    g = np.where(z >= 2, 2.0 / d, 2.0) * params / GB
    o = np.where(z >= 1, _ADAM_BYTES / d, _ADAM_BYTES) * params / GB
    factor = np.where(iv > 1, 1 + (pp - 1) / (pp * iv), 1.0)
    layers_held = L / pp * np.minimum(pp, m) * factor
    parts = _act_parts(b, s, h, a, t, sp)
    act = layers_held * _act_layer_bytes(b, s, h, a, t, sp, rc, parts) / GB
    working = np.where(rc == 2, (parts[0] + parts[1]) / GB, 0.0)
    buffers = ctx + frag * (w + g + o + act) + working
    return w, g, o, act, buffers


def _step_seconds(P, L, h, a, s, b, t, pp, d, m, z, rc, sp, iv, hw: PlanHardware, k: dict):
    """Seconds per training step (arrays)."""
    tok = b * s
    peak = hw.peak_tflops * TERA
    bw_mem = hw.mem_bw_gbps * GB
    up = hw.scale_up_gbps * GB
    out = hw.scale_out_gbps * GB
    node = hw.gpus_per_node
    # one layer, one micro-batch, forward + backward
    model = 6 * P / L + 12 * h * s
    extra = np.where(rc == 1, 4 * h * s, np.where(rc == 2, 2 * P / L + 4 * h * s, 0.0))
    t_mm = (model + extra) * tok / t / (peak * hw.eta)
    t_elem = k["act_hbm_passes"] * _act_layer_bytes(b, s, h, a, t, sp, 0) / bw_mem
    n_coll = np.where(rc == 2, 6.0, 4.0)
    bw_tp = np.where((t <= node) & (node % t == 0), up, out)
    t_tp = n_coll * 2 * (t - 1) / t * tok * h * 2 / bw_tp
    t_layer = t_mm + t_elem + t_tp
    t_compute = L / pp * t_layer  # one micro-batch on one stage
    # pipeline point-to-point: activations forward, gradients backward, per chunk
    bw_pp = np.where(t * d * pp <= node, up, out)
    t_p2p = np.where(pp > 1, 2 * iv * tok * h * 2 / t / bw_pp, 0.0)
    # data parallel [R19]_ §7: ZeRO-2/3 reduce-scatter gradients in every micro-batch's
    # backward pass (2-byte values), ZeRO-3 also all-gathers the weights in its forward and
    # backward passes; both overlap with compute. ZeRO-0/1 all-reduce once per step.
    params = P / (t * pp)
    bw_dp = np.where((t * d <= node) & (node % (t * d) == 0), up, out)
    ring = 2 * (d - 1) / d * params / bw_dp  # seconds of ring all-reduce per byte/parameter
    half = 0.5 * 2.0 * ring  # one reduce-scatter or all-gather of 2-byte values
    per_mb = np.where(z >= 3, k["zero3_comm_factor"] * 2.0 * ring, np.where(z >= 2, half, 0.0))
    t_slot = t_compute + t_p2p + np.maximum(0.0, per_mb - k["zero_overlap"] * t_compute)
    t_pipe = (m + (pp - 1) / iv) * t_slot
    hidden = k["dp_overlap"] * (2.0 / 3.0) * t_compute
    t_end = np.where(z >= 2, np.where(z >= 3, 0.0, half),
                     np.maximum(0.0, k["grad_allreduce_bytes"] * ring - hidden))
    t_opt = k["adam_step_bytes"] * params / np.where(z >= 1, d, 1.0) / bw_mem
    t_dp_exposed = t_end
    return t_pipe + t_dp_exposed + t_opt


def _model_flops_per_token(P, L, h, s):
    return 6 * P + 12 * L * h * s


def _constants(gpu_id: str = "") -> dict:
    keys = ("act_hbm_passes", "zero3_comm_factor", "grad_allreduce_bytes", "dp_overlap",
            "zero_overlap",
            "adam_step_bytes", "cuda_context_gb", "fragmentation")
    return {key: plan_assumption(key, gpu_id) for key in keys}


# ---------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------

def _recompute_code(recompute) -> int:
    return _RECOMPUTE_CODE[v.choice("recompute", recompute, RECOMPUTE_MODES)]


def _flag(name, x) -> bool:
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, float)) and x in (0, 1):
        return bool(x)
    raise InvalidInputError(f"{name} must be TRUE or FALSE", arg=name, value=x)


def _zero(stage):
    z = v.whole("zero_stage", stage, low=0)
    if np.any(z > 3):
        raise InvalidInputError("zero_stage must be 0, 1, 2 or 3", arg="zero_stage",
                                value=stage, code="#NUM!")
    return z


def _divides(what: str, n, by, by_name: str, hint: str):
    bad = np.broadcast_to(np.mod(n, by) != 0, np.broadcast_shapes(np.shape(n), np.shape(by)))
    if np.any(bad):
        nv = float(np.broadcast_to(n, bad.shape)[bad].flat[0])
        bv = float(np.broadcast_to(by, bad.shape)[bad].flat[0])
        raise InvalidInputError(f"{what} ({nv:g}) is not divisible by {by_name} ({bv:g}): {hint}",
                                arg=by_name.split()[0], value=bv, code="#NUM!")


def _model_args(P, L, h, a, s):
    P = v.params("P", P)
    if np.any(P > 1e15):
        raise InvalidInputError("P above 1E15 parameters is implausible: use e.g. 175E9", arg="P",
                                value=P, code="#NUM!")
    L = v.whole("L", L)
    h = v.whole("h", h)
    a = v.whole("a", a)
    s = v.whole("s", s)
    for name, x, top, example in (("L", L, 10_000, "96 for GPT-3"),
                                  ("h", h, 1_000_000, "12288 for GPT-3"),
                                  ("a", a, 100_000, "96 for GPT-3"),
                                  ("s", s, 100_000_000, "2048 or 8192")):
        if np.any(x > top):
            raise InvalidInputError(f"{name} above {top:,} is implausible: use e.g. {example}",
                                    arg=name, value=x, code="#NUM!")
    _divides("h", h, a, "a heads", "h must split evenly over the attention heads")
    return P, L, h, a, s


def _layout_args(a, L, micro_batch, tp, pp, dp, interleave):
    b = v.whole("micro_batch", micro_batch)
    t = v.whole("tp", tp)
    p = v.whole("pp", pp)
    d = v.whole("dp", dp)
    iv = v.whole("interleave", interleave)
    for name, x in (("micro_batch", b), ("tp", t), ("pp", p), ("dp", d), ("interleave", iv)):
        if np.any(x > _MAX_GPUS):
            raise InvalidInputError(f"{name} above {_MAX_GPUS:,} is implausible", arg=name,
                                    value=x, code="#NUM!")
    _divides("a heads", a, t, "tp", "use a tp that divides the number of heads (1, 2, 4, 8...)")
    _divides("L layers", L, p * iv, "pp x interleave",
             "use pp (and interleave) dividing the number of layers")
    return b, t, p, d, iv


# ---------------------------------------------------------------------------------------
# Public functions: one layout
# ---------------------------------------------------------------------------------------

def plan_mem_breakdown(P, L, h, a, s, micro_batch, tp, pp, dp, zero_stage=1,
                       sequence_parallel=True, recompute="selective", interleave=1):
    """Per-GPU memory of a layout in GB, by part: weights, grads, optimizer, activations, buffers, total.

    Parameters are those of :func:`plan_mem_gb`.

    Returns
    -------
    dict of str to float or ndarray
        Keys :data:`MEM_PARTS`. ``weights + grads + optimizer`` equals
        ``zero_mem_gb(P / (tp * pp), zero_stage, dp)``; with ``pp = 1``, ``activations``
        equals ``act_mem_gb(L, micro_batch, s, h, a, 2, tp, sequence_parallel, recompute)``.

    Examples
    --------
    GPT-3 175B, TP8 PP8, no ZeRO, selective recomputation with sequence parallelism:

    >>> parts = plan_mem_breakdown(175e9, 96, 12288, 96, 2048, 1, 8, 8, 1, 0)
    >>> {k: round(x, 2) for k, x in parts.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'weights_gb': 5.47, 'grads_gb': 5.47, 'optimizer_gb': 32.81, 'activations_gb': 10.27,
     'buffers_gb': 6.08, 'total_gb': 60.1}
    """
    P, L, h, a, s = _model_args(P, L, h, a, s)
    b, t, p, d, iv = _layout_args(a, L, micro_batch, tp, pp, dp, interleave)
    z = _zero(zero_stage)
    sp = _flag("sequence_parallel", sequence_parallel)
    rc = _recompute_code(recompute)
    k = _constants()
    parts = _memory(P, L, h, a, s, b, t, p, d, p, z, rc, sp, iv, k["cuda_context_gb"],
                    k["fragmentation"])
    total = sum(parts)
    return dict(zip(MEM_PARTS, (v.out(x) for x in (*parts, total))))


def plan_mem_gb(P, L, h, a, s, micro_batch, tp, pp, dp, zero_stage=1, sequence_parallel=True,
                recompute="selective", interleave=1):
    """Per-GPU memory of a training layout in GB (first pipeline stage, the fullest).

    Parameters
    ----------
    P : float or array_like
        Parameters (raw count).
    L, h, a : int or array_like
        Layers, hidden size, attention heads.
    s : int or array_like
        Sequence length (tokens).
    micro_batch : int or array_like
        Micro-batch size b (sequences).
    tp, pp, dp : int or array_like
        Tensor-parallel degree, pipeline stages, data-parallel replicas.
    zero_stage : int, optional
        ZeRO stage 0-3 over the ``dp`` replicas (1 by default: optimizer states sharded,
        as Megatron's distributed optimizer).
    sequence_parallel : bool, optional
        True (default): norms and dropout split over ``tp`` [K22]_.
    recompute : {'selective', 'none', 'full'}, optional
        Activation recomputation (selective by default).
    interleave : int, optional
        Model chunks per GPU v of the interleaved schedule (1 = plain 1F1B).

    Returns
    -------
    float or ndarray
        GB (1e9 bytes) per GPU, including buffers and fragmentation.

    Notes
    -----
    ``zero_mem_gb(P/(tp pp), zero_stage, dp) + act_mem_gb(L/pp * pp * f, b, s, h, a, 2,
    tp, sp, recompute) + buffers``: the first stage holds ``pp`` micro-batches in flight
    ([K22]_ §4.2.3), ``f = 1 + (pp-1)/(pp v)`` when interleaved. Buffers =
    ``cuda_context_gb + fragmentation * (state + activations)`` (+ one layer's full
    activations under full recomputation); see :func:`plan_assumptions`.
    The embedding is counted inside ``P / (tp pp)``; logits are not counted.

    Examples
    --------
    GPT-3 175B on 64 A100s as in [K22]_ Table 3 (TP8, PP8, micro-batch 1, no ZeRO):

    >>> round(plan_mem_gb(175e9, 96, 12288, 96, 2048, 1, 8, 8, 1, 0), 1)
    60.1
    """
    return plan_mem_breakdown(P, L, h, a, s, micro_batch, tp, pp, dp, zero_stage,
                              sequence_parallel, recompute, interleave)["total_gb"]


def _one_layout(P, L, h, a, s, global_batch, micro_batch, tp, pp, dp, gpu, recompute,
                sequence_parallel, interleave, zero_stage):
    P, L, h, a, s = _model_args(P, L, h, a, s)
    b, t, p, d, iv = _layout_args(a, L, micro_batch, tp, pp, dp, interleave)
    B = v.whole("global_batch", global_batch)
    if np.any(B > 1e9):
        raise InvalidInputError("global_batch is in sequences (e.g. 1536): above 1E9 is "
                                "implausible", arg="global_batch", value=B, code="#NUM!")
    _divides("global_batch", B, b * d, "micro_batch x dp",
             "the global batch must be a whole number of micro-batches per replica")
    m = B / (b * d)
    if np.any((iv > 1) & (np.mod(m, p) != 0)):
        raise InvalidInputError("the interleaved schedule needs the micro-batches per replica "
                                "(global_batch / (micro_batch x dp)) to be a multiple of pp",
                                arg="interleave", value=interleave, code="#NUM!")
    z = _zero(zero_stage)
    sp = _flag("sequence_parallel", sequence_parallel)
    rc = _recompute_code(recompute)
    hw = plan_hardware(gpu)
    k = _constants(hw.gpu_id)
    seconds = _step_seconds(P, L, h, a, s, b, t, p, d, m, z, rc, sp, iv, hw, k)
    flops = _model_flops_per_token(P, L, h, s) * B * s
    return seconds, flops, t * p * d, hw


def plan_step_seconds(P, L, h, a, s, global_batch, micro_batch, tp, pp, dp, gpu,
                      recompute="selective", sequence_parallel=True, interleave=1,
                      zero_stage=1):
    """Predicted seconds per training step (one global batch) of a layout on a catalog GPU.

    Parameters are those of :func:`plan_mfu`.

    Returns
    -------
    float or ndarray
        Seconds per iteration.

    Examples
    --------
    GPT-3 175B on 64 A100s ([K22]_ Table 5 measured 13.75 s with selective recomputation
    and sequence parallelism, 18.13 s with full recomputation):

    >>> args = (175e9, 96, 12288, 96, 2048, 64, 1, 8, 8, 1, "a100-sxm-80gb")
    >>> round(plan_step_seconds(*args), 2), round(plan_step_seconds(*args, "full", False), 2)
    (13.47, 18.23)
    """
    seconds, *_ = _one_layout(P, L, h, a, s, global_batch, micro_batch, tp, pp, dp, gpu,
                              recompute, sequence_parallel, interleave, zero_stage)
    return v.out(seconds)


def plan_mfu(P, L, h, a, s, global_batch, micro_batch, tp, pp, dp, gpu, recompute="selective",
             sequence_parallel=True, interleave=1, zero_stage=1):
    """Predicted model FLOPs utilisation of a layout: model FLOPs / (step time x GPUs x peak).

    Parameters
    ----------
    P : float or array_like
        Parameters (raw count).
    L, h, a : int or array_like
        Layers, hidden size, attention heads.
    s : int or array_like
        Sequence length.
    global_batch : int or array_like
        Sequences per step; a multiple of ``micro_batch * dp``.
    micro_batch : int or array_like
        Micro-batch size b.
    tp, pp, dp : int or array_like
        Tensor-parallel degree, pipeline stages, data-parallel replicas.
    gpu : str
        GPU catalog id (``a100-sxm-80gb``, ``h100-sxm`` ...).
    recompute : {'selective', 'none', 'full'}, optional
        Activation recomputation.
    sequence_parallel : bool, optional
        Sequence parallelism (True by default).
    interleave : int, optional
        Model chunks per GPU v (interleaved 1F1B); bubble ``(pp - 1) / (m v)``.
    zero_stage : int, optional
        ZeRO stage 0-3 (1 by default).

    Returns
    -------
    float or ndarray
        MFU as a fraction: ``(6 P + 12 L h s) * global_batch * s / (seconds * tp pp dp *
        peak)``, recomputation not counted ([K22]_ §6).

    Notes
    -----
    The step-time model is described in the module docstring; each constant is a sourced
    row of :func:`plan_assumptions`.

    Examples
    --------
    GPT-3 175B, 64 A100s, TP8 PP8, batch 64: [K22]_ Table 5 measured 51.4%.

    >>> round(plan_mfu(175e9, 96, 12288, 96, 2048, 64, 1, 8, 8, 1, "a100-sxm-80gb"), 3)
    0.526
    """
    seconds, flops, n, hw = _one_layout(P, L, h, a, s, global_batch, micro_batch, tp, pp, dp,
                                        gpu, recompute, sequence_parallel, interleave,
                                        zero_stage)
    return v.out(flops / (seconds * n * hw.peak_tflops * TERA))

