"""One training layout: seconds per step, GB per GPU and the breakdown, knobs chosen if left out.

The model is :mod:`formulas.plan.step`; this module checks the inputs, enumerates the
knobs the layout text leaves out (interleaving ``vp``, micro-batch ``mb``, ZeRO stage,
recomputation), keeps those that fit in GPU memory and returns the fastest.

``mfu`` (model FLOPs utilisation) is model FLOPs per token -- ``6 x active parameters +
causal attention`` (:meth:`TrainShape.flops_per_token`) -- times tokens per second, over
the GPUs' dense BF16 peak, whatever the training precision.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as v
from ..errors import InfeasibleError, InvalidInputError
from .layout import RECOMPUTE_NAMES, Layout, format_layout, parse_layout
from .shape import TrainShape, train_shape
from .step import evaluate, peak_for, train_hardware

__all__ = ["train_step", "train_step_seconds", "train_mem_gb_per_gpu", "train_step_breakdown",
           "BREAKDOWN_ROWS", "precision_name", "model_shape"]

_PRECISION_ALIASES = {"bf16": "bf16", "bfloat16": "bf16", "fp8": "fp8", "mxfp8": "fp8",
                      "fp8cs": "fp8", "fp4": "fp4", "nvfp4": "fp4", "mxfp4": "fp4"}
_VP = (1, 2, 3, 4, 5, 6, 7, 8, 12, 16)
_MB = (1, 2, 4, 8)
#: Rows of :func:`train_step_breakdown` after its header, in order.
BREAKDOWN_ROWS = ("compute_s", "memory_bound_s", "tp_comm_s", "cp_comm_s", "ep_comm_s",
                  "pp_comm_s", "dp_comm_s", "bubble_s", "optimizer_s", "step_s", "mem_gb",
                  "mfu", "layout", "vp", "mb", "zero", "recompute", "stage_layers")


def precision_name(precision) -> str:
    """``bf16``, ``fp8`` or ``fp4`` from a precision name (``MXFP8`` -> ``fp8``)."""
    return v.choice("precision", precision, _PRECISION_ALIASES)


def model_shape(model) -> TrainShape:
    """The model's :class:`TrainShape`, refusing what is not a model."""
    if isinstance(model, (int, float)) and not isinstance(model, bool):
        raise InvalidInputError("model must be a catalog id such as \"llama-3.1-405b\" (see "
                                "MODEL_LIST()), not a number", arg="model", value=model)
    return train_shape(model)


def _check(shape: TrainShape, lay: Layout, s: int, B: int):
    def bad(msg):
        raise InvalidInputError(msg, arg="layout", value=format_layout(
            lay.tp, lay.pp, lay.cp, lay.dp, lay.ep, lay.vp or 1, lay.mb or 1, lay.zero or 1,
            lay.recompute or "none"), code="#NUM!")

    if shape.heads % lay.tp:
        bad(f"tp{lay.tp} does not divide the {shape.heads} attention heads: use a tp that "
            "does (1, 2, 4, 8)")
    if lay.pp * (lay.vp or 1) > shape.layers:
        bad(f"pp x vp = {lay.pp * (lay.vp or 1)} exceeds the {shape.layers} layers: lower pp "
            "or vp")
    if lay.ep > 1 and not shape.is_moe:
        bad(f"ep{lay.ep} on a dense model: use ep1")
    if shape.is_moe and shape.experts % lay.ep:
        bad(f"ep{lay.ep} does not divide the {shape.experts} experts: use a divisor")
    if s % (2 * lay.cp) and lay.cp > 1:
        bad(f"seq_len {s} does not split into 2 x cp{lay.cp} chunks: use a cp dividing "
            "seq_len / 2")
    if B % lay.dp:
        bad(f"global_batch {B} is not a multiple of dp{lay.dp}: change dp or the batch")
    if lay.mb is not None and B % (lay.dp * lay.mb):
        bad(f"global_batch {B} is not a multiple of dp x mb = {lay.dp * lay.mb}: change mb")


def _inputs(model, gpu, layout, seq_len, global_batch, precision):
    shape = model_shape(model)
    if not isinstance(gpu, str):
        raise InvalidInputError("gpu must be a catalog id such as \"h100-sxm\"", arg="gpu",
                                value=gpu)
    hw = train_hardware(gpu)
    lay = layout if isinstance(layout, Layout) else parse_layout(layout)
    s = int(v.whole("seq_len", seq_len))
    if s > 10_000_000:
        raise InvalidInputError("seq_len above 10,000,000 tokens is implausible: use e.g. "
                                "8192", arg="seq_len", value=seq_len, code="#NUM!")
    B = int(v.whole("global_batch", global_batch))
    if B > 100_000_000:
        raise InvalidInputError("global_batch is in sequences (e.g. 512): above 1E8 is "
                                "implausible", arg="global_batch", value=global_batch,
                                code="#NUM!")
    p = precision_name(precision)
    peak_for(hw, p)
    _check(shape, lay, s, B)
    return shape, hw, lay, s, B, p


def _candidates(shape: TrainShape, lay: Layout, B: int):
    """Arrays of every (vp, mb, zero, recompute) the layout leaves open."""
    vps = [lay.vp] if lay.vp else [x for x in _VP if lay.pp * x <= shape.layers
                                   and (x == 1 or lay.pp > 1)]
    mbs = [lay.mb] if lay.mb else [x for x in _MB if (B // lay.dp) % x == 0] or [1]
    zeros = [lay.zero] if lay.zero is not None else ([1, 2, 3] if lay.pp == 1 else [1])
    rcs = ([RECOMPUTE_NAMES.index(lay.recompute)] if lay.recompute else [0, 1, 2])
    g = np.meshgrid(vps, mbs, zeros, rcs, indexing="ij")
    return [x.ravel().astype(float) for x in g]


def _refuse(shape, hw, lay, res, i):
    need = float(res["mem_gb"][i])
    parts = {k: float(res[k][i]) for k in ("weights_gb", "grads_gb", "optimizer_gb",
                                           "activations_gb")}
    worst = max(parts, key=parts.get)
    fix = {"activations_gb": "full recomputation, a smaller mb, or a larger tp, cp or pp",
           "optimizer_gb": "a larger dp (the optimizer state is sharded over dp x cp)",
           "weights_gb": "a larger pp or tp", "grads_gb": "a larger pp or tp"}[worst]
    return InfeasibleError(
        f"{shape.id} on this layout needs {need:.1f} GB per GPU, more than the "
        f"{hw.memory_gb:g} GB of {hw.gpu_id} ({worst[:-3]} {parts[worst]:.1f} GB): use {fix}",
        arg="layout", value=None)


def train_step(model, gpu, layout, seq_len, global_batch, precision="bf16") -> dict:
    """Price one layout, choosing the knobs it leaves out; a dict of parts and knobs.

    Keys: the memory parts and :data:`formulas.plan.step.STEP_PARTS`, ``step_s``,
    ``mem_gb``, ``mfu``, ``tokens_per_gpu_s``, ``vp``, ``mb``, ``zero``, ``recompute``,
    ``layout`` (every knob spelled), ``stage_layers`` (first/middle/last stage).
    """
    shape, hw, lay, s, B, p = _inputs(model, gpu, layout, seq_len, global_batch, precision)
    vp, mb, zero, rc = _candidates(shape, lay, B)
    res = evaluate(shape, hw, s, B, p, lay.tp, lay.pp, lay.cp, lay.dp, lay.ep, vp, mb, zero,
                   rc)
    fits = res["mem_gb"] <= hw.memory_gb
    if not fits.any():
        raise _refuse(shape, hw, lay, res, int(np.argmin(res["mem_gb"])))
    step = np.where(fits, res["step_s"], np.inf)
    i = int(np.argmin(step))
    out = {k: float(np.broadcast_to(x, step.shape)[i]) for k, x in res.items()}
    n = lay.num_gpus
    tokens = B * s
    out["tokens_per_gpu_s"] = tokens / (out["step_s"] * n)
    out["mfu"] = shape.flops_per_token(s) * tokens / (out["step_s"] * n * hw.peak_bf16)
    out.update(vp=int(vp[i]), mb=int(mb[i]), zero=int(zero[i]),
               recompute=RECOMPUTE_NAMES[int(rc[i])])
    out["layout"] = format_layout(lay.tp, lay.pp, lay.cp, lay.dp, lay.ep, out["vp"], out["mb"],
                                  out["zero"], out["recompute"])
    out["stage_layers"] = (f"{int(out['n_first'])}/{int(out['n_mid'])}/{int(out['n_last'])}"
                           if lay.pp > 2 else
                           f"{int(out['n_first'])}/{int(out['n_last'])}" if lay.pp == 2
                           else f"{shape.layers}")
    return out


def train_step_seconds(model, gpu, layout, seq_len, global_batch, precision="bf16") -> float:
    """Seconds per optimizer step of a layout (``global_batch`` in sequences).

    Examples
    --------
    Llama 3.1 8B on 8 H100s, 8K tokens, 128 sequences (NVIDIA measured 12.91 s in BF16,
    9.67 s in FP8):

    >>> round(train_step_seconds("llama-3.1-8b", "h100-sxm", "tp1 pp1 cp2 dp4 mb1", 8192, 128),
    ...       1)
    12.6
    """
    return train_step(model, gpu, layout, seq_len, global_batch, precision)["step_s"]


def train_mem_gb_per_gpu(model, gpu, layout, seq_len, global_batch, precision="bf16") -> float:
    """Peak GB per GPU on the fullest pipeline stage, with the knobs the step chose.

    >>> round(train_mem_gb_per_gpu("llama-3.1-405b", "h100-sxm", "tp8 pp16 dp128 vp1 mb1",
    ...                            8192, 2048), 1)
    59.3
    """
    return train_step(model, gpu, layout, seq_len, global_batch, precision)["mem_gb"]


def train_step_breakdown(model, gpu, layout, seq_len, global_batch, precision="bf16"):
    """``(part, value)`` rows: the seconds of each part of the step, then the chosen knobs."""
    r = train_step(model, gpu, layout, seq_len, global_batch, precision)
    return [(k, r[k]) for k in BREAKDOWN_ROWS]

