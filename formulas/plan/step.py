"""The training step model of 2024-26 runs: MoE, FP8/FP4, context parallelism, uneven pipelines.

One function, :func:`evaluate`, prices layouts given as numpy arrays (one element per
layout: ``tp, pp, cp, dp, ep, vp, mb, zero, recompute``) for one model, GPU, sequence
length, global batch and precision. It returns per-GPU memory on the fullest pipeline
stage and the parts of the step time, so one call prices one layout or a whole search.

Per micro-batch of ``b`` sequences, each GPU sees ``n = b s / cp`` tokens of each of its
layers. Per layer (forward + backward):

* GEMMs: ``6 x`` the layer's active linear parameters ``x n / tp`` FLOPs at the
  precision's peak x ``gemm_fraction`` (per GPU and precision, a sourced row). Routed
  experts run as grouped GEMMs at ``grouped_gemm_fraction x M / (M + 128) x W / (W +
  128)`` of that rate (``128 = grouped_gemm_half_tokens``, the kernel's tile), ``M = n k
  ep / E`` tokens per expert and ``W = f_e / tp`` of each expert's FFN columns per GPU;
* attention: ``6 heads (d_qk + d_v) x`` mean keys per query ``x n / tp`` FLOPs at the BF16
  peak x ``attention_fraction`` (FlashAttention stays BF16 under FP8 training);
* memory-bound work: ``act_hbm_passes x`` stored activation bytes ``/ tp`` / HBM
  bandwidth, no ``s^2`` term (FlashAttention never writes scores);
* tensor parallelism with sequence parallelism: 8 all-gathers / reduce-scatters of
  ``n h`` 2-byte values, ``(tp - 1) / tp`` of it per GPU, ``1 - tp_comm_overlap`` exposed
  (Megatron-Core overlaps them with the GEMMs they feed);
* context parallelism: the ring passes each rank's K and V ``cp - 1`` times forward and
  twice that backward; what the attention compute cannot hide (``cp_comm_overlap``) shows;
* expert parallelism: dispatch and combine all-to-alls in the forward and backward pass
  (4 per MoE layer) of ``n / tp x k x h`` 2-byte values, ``(ep - 1) / ep`` of them
  leaving the GPU: over the scale-up link while ``tp x ep`` fits in the scale-up domain,
  the part beyond over the scale-out network; ``1 - ep_comm_overlap`` exposed.

Pipeline: layers are spread over the ``pp`` GPUs of a pipeline so that the slowest one is
as fast as it can be (the first stage also embeds, the last also computes the output
layer and loss, so they may take fewer layers: Llama 3.1 405B on PP16 gives 7 layers to
the first and last stage, 8 to the others). A step is ``(m + (pp - 1) / vp)`` slots of
the slowest GPU's micro-batch time ([N21]_ §2.2), ``m = global_batch / (dp b)``.

Data parallelism (distributed optimizer, ZeRO-1): gradients are reduce-scattered (BF16)
and weights all-gathered once per step over ``dp x cp`` ranks (experts: over ``dp x cp /
ep``), overlapped with the last micro-batch's backward pass and the pipeline drain
(reduce-scatter) and the first micro-batch's forward pass and the fill (all-gather), as
Megatron-Core's ``overlap_grad_reduce`` / ``overlap_param_gather`` do. ZeRO-2/3 move
their traffic in every micro-batch (``zero_overlap`` of it hidden). Optimizer: a memory-
bound Adam pass over the parameters each GPU owns.

Memory of a pipeline stage: weights (2 bytes) and gradients (``grad_bytes``) of its
layers (experts ``/ ep``), the embedding on the first and the output layer on the last,
Adam state (12 bytes) sharded over the data-parallel ranks, activations of the micro-
batches in flight (interleaved 1F1B: ``(pp - i - 1) 2 + (vp - 1) pp + 1`` chunks on
stage ``i``, [N21]_), the last stage's logits, and buffers (CUDA context, fragmentation).

References
----------
.. [N21] Narayanan et al. 2021, arXiv 2104.04473, §2.2 (interleaved 1F1B and its bubble).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..catalog import gpu as _gpu
from ..errors import InvalidInputError
from ..units import GB, TERA
from .assumptions import plan_assumption
from .shape import TrainShape

__all__ = ["TrainHardware", "train_hardware", "evaluate", "PRECISIONS", "STEP_PARTS"]

PRECISIONS = ("bf16", "fp8", "fp4")
#: Parts of the step, in seconds (they sum to the step).
STEP_PARTS = ("compute_s", "memory_bound_s", "tp_comm_s", "cp_comm_s", "ep_comm_s",
              "pp_comm_s", "dp_comm_s", "bubble_s", "optimizer_s")
_ADAM_BYTES = 12.0  # fp32 master weight and two moments (Rajbhandari et al. 2019, §3.1)


@dataclass(frozen=True)
class TrainHardware:
    """What the training step model needs to know about one GPU (catalog + assumptions)."""

    gpu_id: str
    peak_bf16: float  #: FLOP/s, dense
    peak: dict  #: precision -> dense FLOP/s at that precision (None where absent)
    gemm_fraction: dict  #: precision -> achievable fraction of that peak in layer GEMMs
    attention_fraction: float
    memory_gb: float
    hbm_bps: float
    scaleup_gpus: int
    up_bps: float  #: one direction, effective
    out_bps: float  #: per GPU, effective


@functools.lru_cache(maxsize=64)
def train_hardware(gpu: str) -> TrainHardware:
    """Catalog figures and sourced assumptions of one GPU for the step model.

    >>> hw = train_hardware("h100-sxm")
    >>> hw.scaleup_gpus, round(hw.up_bps / 1e9), round(hw.out_bps / 1e9)
    (8, 292, 45)
    """
    g = _gpu(gpu)
    a = functools.partial(plan_assumption, gpu_id=g.id)
    peaks = {"bf16": g.tflops_bf16, "fp8": g.tflops_fp8, "fp4": g.tflops_fp4}
    scaleup = int(g.scaleup_gpus or a("gpus_per_node"))
    out_gbps = (g.scaleout_gbps / 8) if g.scaleout_gbps else a("scale_out_gbps")
    return TrainHardware(
        gpu_id=g.id, peak_bf16=g.tflops_bf16 * TERA,
        peak={p: (x * TERA if x else None) for p, x in peaks.items()},
        gemm_fraction={p: a(f"gemm_fraction_{p}") for p in PRECISIONS},
        attention_fraction=a("attention_fraction"), memory_gb=g.memory_gb,
        hbm_bps=g.mem_bw_gbps * GB, scaleup_gpus=scaleup,
        up_bps=g.interconnect_gbps / 2 * a("scale_up_efficiency") * GB,
        out_bps=out_gbps * a("scale_out_efficiency") * GB)


@functools.lru_cache(maxsize=64)
def _k(gpu_id: str) -> dict:
    keys = ("act_hbm_passes", "tp_comm_overlap", "cp_comm_overlap", "ep_comm_overlap",
            "pp_comm_overlap", "grad_bytes", "adam_step_bytes", "grouped_gemm_half_tokens",
            "grouped_gemm_fraction", "alltoall_scaleout_fraction",
            "zero3_comm_factor", "zero_overlap", "cuda_context_gb", "allocator_fragmentation",
            "logit_bytes_per_vocab", "fp8_weight_bytes")
    return {key: plan_assumption(key, gpu_id) for key in keys}


def peak_for(hw: TrainHardware, precision: str) -> float:
    """Dense peak FLOP/s of the GPU at a precision, or a one-line refusal."""
    x = hw.peak.get(precision)
    if not x:
        raise InvalidInputError(f"{hw.gpu_id} has no {precision.upper()} tensor peak in the "
                                "catalog: use precision \"bf16\"" + (
                                    " or \"fp8\"" if hw.peak.get("fp8") else ""),
                                arg="precision", value=precision, code="#NUM!")
    return x


def _link(group_span, hw: TrainHardware):
    """Bandwidth of a collective whose group spans ``group_span`` consecutive GPUs."""
    return np.where(group_span <= hw.scaleup_gpus, hw.up_bps, hw.out_bps)


def _stage_layers(L, pp, vp, e_first, e_last):
    """Layers on the first, a middle and the last stage, balancing the slowest stage.

    ``e_first`` and ``e_last`` are the first stage's embedding and the last stage's
    output layer and loss in layer-equivalents. Middle stages take ``k`` layers each; the
    two ends share the rest so that ``n_first + e_first`` and ``n_last + e_last`` are as
    even as whole layers allow, every stage keeping at least ``vp`` layers (one per
    chunk). Of the ``k`` near ``(L + e_first + e_last) / pp`` the one whose slowest stage
    is fastest is kept. Returns ``(n_first, n_mid, n_last, slowest)``, ``slowest`` in
    layer-equivalents.

    >>> [float(x) for x in _stage_layers(126, 16, 1, 0.05, 0.7)]  # Llama 3.1 405B
    [7.0, 8.0, 7.0, 8.0]
    """
    L = float(L)
    pp, vp, e_first, e_last = np.broadcast_arrays(*(np.asarray(x, dtype=float)
                                                    for x in (pp, vp, e_first, e_last)))
    mids = np.maximum(pp - 2, 0)
    k_max = np.where(mids > 0, np.floor((L - 2 * vp) / np.maximum(mids, 1)), vp)
    k_lo = np.floor((L + e_first + e_last) / pp)
    best = None
    for dk in (-1, 0, 1, 2):
        k = np.clip(k_lo + dk, vp, np.maximum(k_max, vp))
        rest = L - mids * k
        n_first = np.clip(np.round((rest + e_last - e_first) / 2), vp, np.maximum(rest - vp,
                                                                                  vp))
        n_last = rest - n_first
        slow = np.maximum(np.where(mids > 0, k, 0.0),
                          np.maximum(n_first + e_first, n_last + e_last))
        cand = (n_first, np.where(mids > 0, k, np.maximum(n_first, n_last)), n_last, slow)
        if best is None:
            best = cand
        else:
            take = slow < best[3]
            best = tuple(np.where(take, c, b) for c, b in zip(cand, best))
    one = pp == 1
    n_first, n_mid, n_last, slow = best
    return (np.where(one, L, n_first), np.where(one, L, n_mid), np.where(one, L, n_last),
            np.where(one, L + e_first + e_last, slow))


def evaluate(shape: TrainShape, hw: TrainHardware, s, B, precision: str, tp, pp, cp, dp, ep,
             vp, mb, zero, rc):
    """Memory (GB, fullest stage) and step parts (seconds) of layouts given as arrays.

    ``rc``: 0 none, 1 selective, 2 full recomputation. Returns a dict of arrays:
    ``mem_gb``, the memory parts (``weights_gb``, ``grads_gb``, ``optimizer_gb``,
    ``activations_gb``, ``buffers_gb``), the parts of :data:`STEP_PARTS`, ``step_s``,
    ``micro_batches``, ``n_first``, ``n_mid``, ``n_last`` (layers per stage) and
    ``slowest_layers`` (the slowest GPU's work in layer-equivalents: each per-layer part
    of the step is ``micro_batches x slowest_layers x`` its time per layer).
    """
    k = _k(hw.gpu_id)
    tp, pp, cp, dp, ep, vp, mb, zero, rc = (np.asarray(x, dtype=float)
                                            for x in (tp, pp, cp, dp, ep, vp, mb, zero, rc))
    S = shape
    L, h, V = S.layers, float(S.hidden), float(S.vocab)
    f_dense = S.dense_layers / L
    f_moe = S.moe_layers / L
    m = B / (dp * mb)  # micro-batches per step on each pipeline
    n = mb * s / cp  # tokens per micro-batch on each GPU (before the tp split)
    peak = peak_for(hw, precision) * hw.gemm_fraction[precision]
    peak16 = hw.peak_bf16 * hw.gemm_fraction["bf16"]

    # --- one layer, one micro-batch, forward + backward, on one GPU -------------------
    recompute_fwd = np.where(rc == 2, 1.0 / 3.0, 0.0)  # full: one more forward pass
    dense_flops = 6 * (S.attn_params + S.dense_ffn_params)
    attn_lin = 6 * S.attn_params
    if S.is_moe:
        per_expert = n * S.top_k * ep / S.experts  # tokens each local expert sees
        width = S.moe_ffn / tp  # each expert's FFN columns on one GPU
        tile = k["grouped_gemm_half_tokens"]
        grouped = (k["grouped_gemm_fraction"] * per_expert / (per_expert + tile)
                   * width / (width + tile))
        moe_lin = 6 * (S.router_params + S.shared_params) + 6 * S.top_k * S.expert_params / grouped
    else:
        moe_lin = 0.0
    gemm_flops = f_dense * dense_flops + f_moe * (attn_lin + moe_lin)
    t_gemm = gemm_flops * n / tp / peak * (1 + recompute_fwd)
    attn_flops = S.attn_flops_per_token(s)
    t_attn = attn_flops * n / tp / (hw.peak_bf16 * hw.attention_fraction) * (
        1 + recompute_fwd)
    act_tok = S.act_attn_bytes + f_dense * S.act_dense_bytes + f_moe * S.act_moe_bytes
    sel_tok = f_dense * S.act_selective_saved + f_moe * S.act_selective_saved_moe
    t_mem = (k["act_hbm_passes"] * act_tok + np.where(rc == 1, sel_tok, 0.0)
             + np.where(rc == 2, act_tok / 2, 0.0)) * n / tp / hw.hbm_bps
    n_tp = np.where(rc == 2, 12.0, 8.0)
    t_tp = n_tp * (tp - 1) / tp * n * h * 2 / _link(tp, hw) * (1 - k["tp_comm_overlap"])
    kv_ring = 3 * (cp - 1) * n * S.kv_bytes / tp / _link(tp * cp, hw)
    t_cp = np.maximum(0.0, kv_ring - k["cp_comm_overlap"] * t_attn)
    if S.is_moe:
        a2a = n / tp * S.top_k * h * 2  # bytes a GPU dispatches per all-to-all
        inside = np.minimum(ep, np.maximum(hw.scaleup_gpus // tp, 1))
        t_a2a = (a2a * (inside - 1) / ep / hw.up_bps
                 + a2a * (ep - inside) / ep / (hw.out_bps * k["alltoall_scaleout_fraction"]))
        t_ep = f_moe * 4 * t_a2a * (1 - k["ep_comm_overlap"])
    else:
        t_ep = np.zeros_like(t_gemm)
    t_layer = t_gemm + t_attn + t_mem + t_tp + t_cp + t_ep

    # --- embedding (first stage), output layer and loss (last stage) ------------------
    t_out = (6 * S.output_params * n / tp / peak16
             + k["act_hbm_passes"] * k["logit_bytes_per_vocab"] * V * n / tp / hw.hbm_bps)
    t_emb = k["act_hbm_passes"] * 2 * h * n / hw.hbm_bps
    n_first, n_mid, n_last, slowest = _stage_layers(L, pp, vp, t_emb / t_layer,
                                                    t_out / t_layer)
    p2p = np.where(pp > 1, 2 * vp * n * h * 2 / tp / _link(tp * cp * dp * pp, hw), 0.0)
    t_p2p = p2p * (1 - k["pp_comm_overlap"])
    slot = slowest * t_layer + t_p2p

    # --- data parallelism and optimizer -------------------------------------------------
    dense_per_layer = S.attn_params + (S.dense_ffn_params * S.dense_layers + (
        S.router_params + S.shared_params) * S.moe_layers) / L
    expert_per_layer = S.experts * S.expert_params * S.moe_layers / L if S.is_moe else 0.0
    n_max = np.maximum(np.maximum(n_first, n_last), n_mid)
    dense_held = (n_max * dense_per_layer + np.where(pp == 1, S.embed_params + S.output_params,
                                                     S.output_params)) / tp
    expert_held = n_max * expert_per_layer / (tp * ep)
    d_dense = dp * cp
    d_exp = dp * cp / ep
    g = k["grad_bytes"]
    ring_dense = (d_dense - 1) / d_dense * dense_held / _link(tp * cp * dp, hw)
    ring_exp = (d_exp - 1) / d_exp * expert_held / _link(tp * cp * dp, hw)
    rs = g * (ring_dense + ring_exp)  # reduce-scatter of gradients
    ag = 2.0 * (ring_dense + ring_exp)  # all-gather of BF16 weights
    bubble_slots = (pp - 1) / vp
    hide_rs = (2.0 / 3.0) * slot + 0.5 * bubble_slots * slot
    hide_ag = (1.0 / 3.0) * slot + 0.5 * bubble_slots * slot
    per_mb = np.where(zero >= 3, k["zero3_comm_factor"] * (rs + ag),
                      np.where(zero >= 2, rs, 0.0))
    t_zero_mb = np.maximum(0.0, per_mb - k["zero_overlap"] * slot)
    t_dp = np.where(zero >= 2, m * t_zero_mb + np.where(zero >= 3, 0.0, np.maximum(
        0.0, ag - hide_ag)), np.maximum(0.0, rs - hide_rs) + np.maximum(0.0, ag - hide_ag))
    own = np.where(zero >= 1, dense_held / d_dense + expert_held / d_exp,
                   dense_held + expert_held)
    t_opt = k["adam_step_bytes"] * own / hw.hbm_bps

    compute = m * slowest * (t_gemm + t_attn)
    parts = {
        "compute_s": compute,
        "memory_bound_s": m * slowest * t_mem,
        "tp_comm_s": m * slowest * t_tp,
        "cp_comm_s": m * slowest * t_cp,
        "ep_comm_s": m * slowest * t_ep,
        "pp_comm_s": m * t_p2p,
        "dp_comm_s": t_dp,
        "bubble_s": bubble_slots * slot,
        "optimizer_s": t_opt,
    }
    step = sum(parts.values())

    # --- memory of each stage; the fullest counts --------------------------------------
    def stage_mem(n_layers, rank, first, last):
        dense_p = (n_layers * dense_per_layer + np.where(first, S.embed_params, 0.0)
                   + np.where(last, S.output_params, 0.0)) / tp
        exp_p = n_layers * expert_per_layer / (tp * ep)
        params = dense_p + exp_p
        wbytes = 2.0 + (k["fp8_weight_bytes"] if precision != "bf16" else 0.0)
        w = np.where(zero >= 3, wbytes / d_dense, wbytes) * params
        gr = np.where(zero >= 2, g / d_dense, g) * params
        opt = np.where(zero >= 1, _ADAM_BYTES * (dense_p / d_dense + exp_p / d_exp),
                       _ADAM_BYTES * params)
        chunks = np.where(vp > 1, (pp - rank - 1) * 2 + (vp - 1) * pp + 1, pp - rank)
        chunks = np.minimum(chunks, m * vp)
        per_layer_tok = np.where(rc == 2, 2 * h, np.where(rc == 1, act_tok - sel_tok,
                                                             act_tok))
        act = chunks * (n_layers / vp) * n / tp * per_layer_tok
        work = np.where(rc == 2, act_tok * n / tp, 0.0) + np.where(
            last, k["logit_bytes_per_vocab"] * V * n / tp, 0.0)
        if S.is_moe:
            work = work + 2 * n / tp * S.top_k * h * 2
        return w / GB, gr / GB, opt / GB, act / GB, work / GB

    one = pp == 1
    cands = (stage_mem(n_first, 0, True, one), stage_mem(n_mid, 1, False, False),
             stage_mem(n_last, pp - 1, one, True))
    totals = [sum(c) for c in cands]
    pick = np.argmax(np.stack(np.broadcast_arrays(*totals)), axis=0)
    out = {}
    for i, name in enumerate(("weights_gb", "grads_gb", "optimizer_gb", "activations_gb",
                              "work_gb")):
        out[name] = np.choose(pick, np.broadcast_arrays(*(c[i] for c in cands)))
    state = out["weights_gb"] + out["grads_gb"] + out["optimizer_gb"] + out["activations_gb"]
    out["buffers_gb"] = (k["cuda_context_gb"] + k["allocator_fragmentation"] * state
                         + out.pop("work_gb"))
    out["mem_gb"] = state + out["buffers_gb"]
    out.update(parts)
    out.update(step_s=step, micro_batches=m, n_first=n_first, n_mid=n_mid, n_last=n_last,
               slowest_layers=slowest)
    return out
