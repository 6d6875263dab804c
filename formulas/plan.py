"""Training plans under 3D parallelism: per-GPU memory, step time, predicted MFU and the search.

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

import csv
import functools
import io
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np

from . import _validate as v
from .catalog import gpu as _gpu
from .errors import CatalogError, InfeasibleError, InvalidInputError
from .memory import RECOMPUTE_MODES
from .units import GB, SECONDS_PER_DAY, TERA

__all__ = [
    "plan_assumptions",
    "plan_assumption",
    "plan_hardware",
    "PlanHardware",
    "plan_mem_gb",
    "plan_mem_breakdown",
    "plan_step_seconds",
    "plan_mfu",
    "plan_training",
    "plan_for_deadline",
    "PLAN_COLUMNS",
    "MEM_PARTS",
]

#: Columns of the table :func:`plan_training` returns (and PLAN_TRAINING spills).
PLAN_COLUMNS = ("tp", "pp", "dp", "micro_batch", "zero_stage", "recompute", "mem_gb", "mfu",
                "days", "gpu_hours", "sequence_parallel", "interleave")
#: Parts returned by :func:`plan_mem_breakdown`, in order.
MEM_PARTS = ("weights_gb", "grads_gb", "optimizer_gb", "activations_gb", "buffers_gb",
             "total_gb")
_RECOMPUTE_NAMES = ("none", "selective", "full")
_RECOMPUTE_CODE = {n: i for i, n in enumerate(_RECOMPUTE_NAMES)}
_ADAM_BYTES = 12.0  # fp32 master copy + two fp32 moments [R19]_
_MAX_MICRO_BATCH = 64
_INTERLEAVE = (1, 2, 3, 4, 6, 8)  # model chunks per GPU tried by the search
_MAX_GPUS = 1_000_000
_BRACKET = 256  # most GPU counts searched between a miss and a hit in plan_for_deadline


# ---------------------------------------------------------------------------------------
# Assumptions
# ---------------------------------------------------------------------------------------

@functools.cache
def _assumption_rows() -> tuple[dict, ...]:
    text = resources.files(__package__).joinpath("data", "plan_assumptions.csv").read_text(
        encoding="utf-8")
    rows = []
    for line, raw in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            value = float(raw["value"])
        except (TypeError, ValueError):
            raise CatalogError(f"plan_assumptions.csv line {line}: value is not a number") from None
        if not raw.get("source", "").strip():
            raise CatalogError(f"plan_assumptions.csv line {line}: no source")
        rows.append({**raw, "value": value, "gpu": raw["gpu"].strip()})
    return tuple(rows)


def plan_assumptions():
    """The assumptions of the plan model as a pandas DataFrame, one sourced row each.

    Columns: key, gpu (blank = every other GPU), value, unit, source, retrieved, notes.

    >>> t = plan_assumptions()
    >>> float(t[(t.key == "mamf_fraction") & (t.gpu == "a100-sxm-80gb")].value.iloc[0])
    0.859
    """
    import pandas as pd

    return pd.DataFrame(list(_assumption_rows()))


def plan_assumption(key: str, gpu_id: str = "") -> float:
    """One assumption: the row for ``gpu_id`` if there is one, else the default row.

    >>> plan_assumption("scale_out_gbps", "h100-sxm"), plan_assumption("scale_out_gbps", "l40s")
    (50.0, 25.0)
    """
    default = None
    for row in _assumption_rows():
        if row["key"] == key:
            if row["gpu"] == gpu_id and gpu_id:
                return row["value"]
            if not row["gpu"]:
                default = row["value"]
    if default is None:
        raise CatalogError(f"plan_assumptions.csv has no default row for '{key}'")
    return default


@dataclass(frozen=True)
class PlanHardware:
    """What the plan model needs to know about one GPU (catalog + assumptions)."""

    gpu_id: str
    peak_tflops: float  #: dense BF16 peak
    memory_gb: float
    mem_bw_gbps: float  #: HBM bandwidth, GB/s
    eta: float  #: achievable fraction of peak for a transformer layer's matmuls
    scale_up_gbps: float  #: effective one-direction scale-up bandwidth, GB/s
    scale_out_gbps: float  #: effective scale-out bandwidth per GPU, GB/s
    gpus_per_node: int


@functools.cache
def plan_hardware(gpu: str) -> PlanHardware:
    """Catalog figures and assumptions of one GPU id.

    The catalog's ``interconnect_gbps`` is the vendor's bidirectional figure: one
    direction is half of it.

    >>> hw = plan_hardware("a100-sxm-80gb")
    >>> hw.peak_tflops, hw.scale_up_gbps, hw.scale_out_gbps, hw.gpus_per_node
    (312.0, 195.0, 22.5, 8)
    """
    g = _gpu(gpu)
    a = functools.partial(plan_assumption, gpu_id=g.id)
    return PlanHardware(
        gpu_id=g.id,
        peak_tflops=g.tflops_bf16,
        memory_gb=g.memory_gb,
        mem_bw_gbps=g.mem_bw_gbps,
        eta=a("mamf_fraction") * a("layer_fraction_of_mamf"),
        scale_up_gbps=g.interconnect_gbps / 2 * a("scale_up_efficiency"),
        scale_out_gbps=a("scale_out_gbps") * a("scale_out_efficiency"),
        gpus_per_node=int(a("gpus_per_node")),
    )


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


# ---------------------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------------------

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
