"""The serving step model: one forward step of a replica as a sum of named parts.

A replica is ``tp`` GPUs holding one copy of the model (tensor parallel). Every step of an
inference engine runs each layer once for all tokens in flight: the decode token of every
running request, plus (in prefill, or a chunked-prefill step) the prompt tokens. The time
of one step is

* ``matmul_s``: the weight matrices, ``max(read, math) + (1 - overlap) x min(read, math)``
  with ``read = weight bytes read / (tp x BW x bw_fraction)`` and
  ``math = 2 x active params x tokens / (tp x peak x compute_fraction)`` [W09]_ [P22]_;
* ``attention_s``: the KV cache read of every sequence and the attention-score FLOPs,
  ``max(KV bytes / (tp x BW x bw_fraction), attention FLOPs / (tp x peak x fraction))``,
  run as separate kernels after the matmuls [P22]_;
* ``allreduce_s``: two tensor-parallel all-reduces per layer (after attention and after
  the FFN) [S19]_, each ``latency + 2 (tp - 1) / tp x message / link`` (ring), over the
  scale-up link within ``scaleup_gpus`` and over the scale-out network beyond;
* ``overhead_s``: a fixed per-step cost (scheduling, sampling, kernel launches).

Mixture-of-experts models read the weights of the distinct experts their tokens are routed
to: with top-``k`` routing over ``E`` experts, ``n`` tokens touch on average
``E (1 - (1 - k/E)^n)`` experts per layer (uniform independent routing); FLOPs follow the
active parameters [F22]_.

Memory follows vLLM's convention [K23]_: the engine may use ``gpu_memory_utilization``
(0.9) of the device memory it sees; from that come the weights, an activation workspace
for one step of ``serve_step_tokens`` tokens, and the rest is KV cache. Every constant is a
sourced row of ``formulas/data/plan_assumptions.csv`` (keys ``serve_*``), calibrated on
``tests/data/serving_calibration.csv``.

References
----------
.. [W09] Williams, Waterman and Patterson 2009, "Roofline", CACM 52(4).
.. [P22] Pope et al. 2022, "Efficiently Scaling Transformer Inference", arXiv 2211.05102,
   §2-3: decode steps read all weights once per batch plus every sequence's KV cache.
.. [S19] Shoeybi et al. 2019, "Megatron-LM", arXiv 1909.08053, §3 and Fig. 4: two
   all-reduces per layer in the forward pass (after self-attention and after the MLP).
.. [F22] Fedus, Zoph and Shazeer 2022, "Switch Transformers", JMLR 23: each token is routed
   to its top-k experts; FLOPs per token follow the active parameters.
.. [K23] Kwon et al. 2023 (vLLM), arXiv 2309.06180, and vLLM's engine arguments:
   ``gpu_memory_utilization`` 0.9; the KV cache takes what remains after the weights and
   the profiled activation peak.
.. [A24] Agrawal et al. 2024, "Taming Throughput-Latency Tradeoff in LLM Inference with
   Sarathi-Serve", arXiv 2403.02310: chunked prefill shares each step's token budget
   between decodes and prompt chunks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .arch import Arch, resolve_model
from .catalog import GpuSpec, ModelSpec, gpu
from .errors import InfeasibleError, InvalidInputError, UnknownNameError
from .plan import plan_assumption
from .units import GB, PRECISION_BYTES, TERA

__all__ = [
    "PRECISIONS",
    "KV_PRECISIONS",
    "ServeModel",
    "Replica",
    "resolve_precision",
    "resolve_kv_bytes",
    "serve_model",
    "replica",
    "step_parts",
    "distinct_experts",
]

#: Precision name -> (bytes per weight, compute path). Bytes are the storage sizes of
#: :data:`formulas.units.PRECISION_BYTES` (block scales of NVFP4 and MXFP4 included).
#: Weight-only formats (int8, int4) dequantise to 16-bit and compute on the BF16 path; fp8
#: runs FP8 tensor cores; the FP4 formats run FP4 tensor cores where the GPU has them
#: (``tflops_fp4``), else the 16-bit path.
_PATHS = {"bf16": "bf16", "bfloat16": "bf16", "fp16": "bf16", "float16": "bf16",
          "half": "bf16", "fp8": "fp8", "float8": "fp8", "int8": "bf16", "int4": "bf16",
          "nf4": "bf16", "fp4": "fp4", "nvfp4": "fp4", "mxfp4": "fp4"}
PRECISIONS: dict[str, tuple[float, str]] = {
    k: (PRECISION_BYTES[k], path) for k, path in _PATHS.items() if k in PRECISION_BYTES}
#: KV-cache precision name -> bytes per cached value.
KV_PRECISIONS: dict[str, float] = {"bf16": 2.0, "fp16": 2.0, "bfloat16": 2.0, "fp8": 1.0,
                                   "float8": 1.0, "e4m3": 1.0}



def _key(name: str) -> str:
    return name.strip().lower().replace("-", "").replace("_", "").replace(" ", "")


def resolve_precision(x) -> tuple[float, str]:
    """Bytes per weight and compute path of a precision name or a byte count.

    >>> resolve_precision("fp8"), resolve_precision("int4"), resolve_precision(2)
    ((1.0, 'fp8'), (0.5, 'bf16'), (2.0, 'bf16'))
    """
    if isinstance(x, str):
        k = _key(x)
        if k not in PRECISIONS:
            raise UnknownNameError(
                f"precision '{x.strip()[:40]}' is unknown: use bf16, fp8, int8, int4, fp4, "
                "nvfp4 or mxfp4, or bytes per weight such as 2", arg="bytes_per_param", value=x)
        return PRECISIONS[k]
    b = float(x)
    if not (b > 0) or b > 16:
        raise InvalidInputError(f"bytes_per_param is bytes per weight (2 for bf16, 0.5 for "
                                f"int4), got {b:g}", arg="bytes_per_param", value=x,
                                code="#NUM!")
    return b, "bf16"


def resolve_kv_bytes(x) -> float:
    """Bytes per cached value of a KV precision name (bf16, fp8).

    >>> resolve_kv_bytes("fp8"), resolve_kv_bytes("BF16")
    (1.0, 2.0)
    """
    k = _key(x)
    if k not in KV_PRECISIONS:
        raise UnknownNameError(f"KV precision '{x.strip()[:40]}' is unknown: use bf16 or fp8, "
                               "or bytes per token", arg="kv_bytes_per_token", value=x)
    return KV_PRECISIONS[k]


def distinct_experts(experts, top_k, tokens):
    """Expected distinct experts a layer reads for ``tokens`` tokens routed top-k of E.

    ``E (1 - (1 - k/E)^n)``: each expert is missed by one token with probability
    ``1 - k/E`` (uniform, independent routing) [F22]_.

    >>> float(round(distinct_experts(8, 2, 1), 6)), float(round(distinct_experts(8, 2, 32), 3))
    (2.0, 7.999)
    """
    E = np.asarray(experts, dtype=float)
    return E * (1 - (1 - np.asarray(top_k, dtype=float) / E) ** np.asarray(tokens, dtype=float))


# ------------------------------------------------------------------------------ model

@dataclass(frozen=True)
class ServeModel:
    """What the step model needs of a model (catalog row or a bare parameter count)."""

    id: str
    total_params: float
    active_params: float
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn: int  #: widest FFN a token passes (dense FFN, or experts_per_token x expert FFN)
    experts: int
    experts_per_token: int
    expert_params: float  #: one routed expert's FFN weights
    moe_layers: int
    kv_values_per_layer: float  #: cached values per token and layer (2 kv_heads head_dim; MLA latent)
    sliding_window: int
    sliding_layers: int
    known_shape: bool  #: False for a bare P (shape from the aspect-ratio assumption)

    @property
    def routed_params(self) -> float:
        return self.experts * self.expert_params * self.moe_layers if self.experts > 1 else 0.0

    def kv_bytes(self, context, kv_bytes_per_value):
        """KV bytes of one sequence at ``context`` tokens (sliding layers capped)."""
        c = np.asarray(context, dtype=float)
        full = self.layers - self.sliding_layers
        capped = np.minimum(c, self.sliding_window) if self.sliding_window else c
        return (full * c + self.sliding_layers * capped) * self.kv_values_per_layer \
            * kv_bytes_per_value


def serve_model(P) -> ServeModel:
    """Resolve a model id or a raw parameter count into a :class:`ServeModel`.

    A bare count is taken as a dense model of the aspect ratio in ``serve_aspect_ratio``
    (``hidden = (aspect P / 12)^(1/3)``, ``layers = hidden / aspect``, ``ffn = 4 hidden``,
    ``12 L h^2 = P`` [K20]) with no KV cache unless one is given.

    >>> m = serve_model("mixtral-8x7b"); (m.experts, m.moe_layers, round(m.expert_params / 1e6))
    (8, 32, 176)
    >>> m = serve_model("deepseek-v3"); round(m.expert_params / 1e6, 1)
    44.0
    >>> serve_model(7e9).layers
    33
    """
    if isinstance(P, ServeModel):
        return P
    if isinstance(P, (str, ModelSpec, Arch)):
        a = P if isinstance(P, Arch) else resolve_model(P, "model")
        moe = a.is_moe
        ffn_tok = max(a.dense_ffn if a.dense_layers else 0,
                      a.moe_ffn * (a.experts_per_token + a.shared_experts) if moe else 0)
        expert_p = a.expert_params
        if moe and a.moe_layers * a.experts * expert_p > a.total_params:
            # counts that do not add up: one expert from total - active instead
            expert_p = (a.total_params - a.active_params) / (
                a.moe_layers * (a.experts - a.experts_per_token))
        return ServeModel(
            id=a.id, total_params=float(a.total_params), active_params=float(a.active_params),
            layers=a.layers, hidden=a.hidden, heads=a.heads, kv_heads=a.kv_heads,
            head_dim=a.head_dim, ffn=ffn_tok or a.ffn, experts=max(int(a.experts), 1),
            experts_per_token=max(int(a.experts_per_token), 1), expert_params=float(expert_p),
            moe_layers=a.moe_layers if moe else 0,
            kv_values_per_layer=float(a.kv_values_per_token_layer()),
            sliding_window=a.sliding_window or 0,
            sliding_layers=(a.layers - a.global_layers) if a.sliding_window else 0,
            known_shape=True)
    from . import _validate as v

    p = float(v.params("P", P))
    if p > 1e14:
        raise InvalidInputError(f"P above 1E14 parameters is implausible: give a raw count "
                                f"such as 7E9, or a model id (got {p:g})", arg="P", value=P,
                                code="#NUM!")
    aspect = plan_assumption("serve_aspect_ratio")
    h = (aspect * p / 12) ** (1 / 3)
    layers = max(1, round(h / aspect))
    return ServeModel(id="", total_params=p, active_params=p, layers=layers, hidden=round(h),
                      heads=max(1, round(h / 128)), kv_heads=max(1, round(h / 128)),
                      head_dim=128, ffn=round(4 * h), experts=1, experts_per_token=1,
                      expert_params=0.0, moe_layers=0, kv_values_per_layer=0.0,
                      sliding_window=0, sliding_layers=0, known_shape=False)


# ---------------------------------------------------------------------------- replica

@dataclass(frozen=True)
class Replica:
    """``tp`` GPUs of one kind on one compute path, with the calibrated fractions."""

    spec: GpuSpec
    tp: int
    path: str  #: bf16, fp8 or fp4 (the tensor-core peak used)
    peak: float  #: FLOP/s of the replica on that path, times the compute fraction
    peak16: float  #: FLOP/s on the 16-bit path (attention), times the BF16 fraction
    bw: float  #: bytes/s of the replica, times the bandwidth fraction
    overlap: float
    overhead_s: float
    ar_latency_s: float
    link_bytes_per_s: float  #: per GPU, one direction, times the link efficiency
    memory: float  #: bytes the engine may use on the replica
    workspace: bool  #: count a step's activation workspace (vLLM's accounting)
    step_tokens: float
    act_bytes: float


def _gpu(g) -> GpuSpec:
    return g if isinstance(g, GpuSpec) else gpu(g)


def replica(gpu_id, tp=1, path="bf16", efficiency=None, memory_utilization=None, *,
            plain_memory=None) -> Replica:
    """The replica of ``tp`` GPUs on a compute path, with calibrated or given efficiency.

    ``efficiency`` (a number) replaces both the bandwidth and the compute fraction and
    removes the per-step overhead, the all-reduces and the matmul non-overlap: the roofline
    of earlier versions, which also counted memory plainly (``plain_memory``: catalog
    memory x utilization, no activation workspace). By default memory is counted as vLLM
    does: the memory the device shows (``serve_visible_memory_ratio``) x utilization, less
    one step's workspace.
    """
    spec = _gpu(gpu_id)
    g = spec.id
    tp_i = int(tp)
    if tp_i != tp or tp_i < 1:
        raise InvalidInputError(f"tp must be a whole number of GPUs, got {tp}", arg="tp",
                                value=tp, code="#NUM!")
    peak16 = spec.tflops_bf16 * TERA
    if path == "fp8" and spec.tflops_fp8:
        peak, key = spec.tflops_fp8 * TERA, "serve_compute_fraction_fp8"
    elif path == "fp4" and spec.tflops_fp4:
        peak, key = spec.tflops_fp4 * TERA, "serve_compute_fraction_fp4"
    else:
        path, peak, key = "bf16", peak16, "serve_compute_fraction_bf16"
    util = plan_assumption_serve_util(memory_utilization)
    plain = efficiency is not None if plain_memory is None else bool(plain_memory)
    visible = 1.0 if plain else plan_assumption("serve_visible_memory_ratio", g)
    memory = tp_i * spec.memory_gb * GB * visible * util
    scaleup = spec.scaleup_gpus or plan_assumption("gpus_per_node", g)
    if tp_i <= scaleup:
        link = spec.interconnect_gbps / 2 * GB * plan_assumption("scale_up_efficiency", g)
        lat = plan_assumption("serve_allreduce_latency_s", g)
    else:
        out_gbps = (spec.scaleout_gbps / 8 if spec.scaleout_gbps
                    else plan_assumption("scale_out_gbps", g))
        link = out_gbps * GB * plan_assumption("scale_out_efficiency", g)
        lat = plan_assumption("serve_allreduce_latency_scaleout_s", g)
    if efficiency is None:
        cf, c16 = plan_assumption(key, g), plan_assumption("serve_compute_fraction_bf16", g)
        bwf = plan_assumption("serve_decode_bw_fraction", g)
        overlap = plan_assumption("serve_gemm_overlap", g)
        overhead = plan_assumption("serve_step_overhead_s", g)
    else:
        eff = float(efficiency)
        if not 0 < eff <= 1:
            raise InvalidInputError(f"efficiency must be between 0 and 1, got {eff:g}",
                                    arg="efficiency", value=efficiency, code="#NUM!")
        cf = c16 = bwf = eff
        overlap, overhead, lat, link = 1.0, 0.0, 0.0, math.inf
    return Replica(spec=spec, tp=tp_i, path=path, peak=tp_i * peak * cf,
                   peak16=tp_i * peak16 * c16, bw=tp_i * spec.mem_bw_gbps * GB * bwf,
                   overlap=overlap, overhead_s=overhead, ar_latency_s=lat,
                   link_bytes_per_s=link, memory=memory, workspace=not plain,
                   step_tokens=plan_assumption("serve_step_tokens", g),
                   act_bytes=plan_assumption("serve_activation_bytes", g))


def plan_assumption_serve_util(memory_utilization) -> float:
    """``memory_utilization`` or the ``serve_memory_utilization`` assumption (0.9)."""
    from .assumptions import assumption

    u = assumption("serve_memory_utilization") if memory_utilization is None \
        else float(memory_utilization)
    if not 0 < u <= 1:
        raise InvalidInputError(f"memory_utilization must be between 0 and 1, got {u:g}",
                                arg="memory_utilization", value=memory_utilization,
                                code="#NUM!")
    return u


# ------------------------------------------------------------------------------- step

def weight_bytes(m: ServeModel, bytes_per_param, tokens):
    """Weight bytes one step reads for ``tokens`` tokens (all GPUs of the replica)."""
    if m.experts <= 1:
        return m.total_params * bytes_per_param + 0 * np.asarray(tokens, dtype=float)
    touched = distinct_experts(m.experts, m.experts_per_token, tokens)
    return (m.total_params - m.routed_params
            + touched * m.expert_params * m.moe_layers) * bytes_per_param


def step_parts(m: ServeModel, rep: Replica, bytes_per_param, kv_bytes_per_value, batch,
               context, new_tokens=1, prefill_tokens=0, prefill_context=0):
    """Seconds of one step, by part: a dict of matmul_s, attention_s, allreduce_s,
    overhead_s and total_s.

    ``batch`` sequences each add ``new_tokens`` tokens at an average ``context`` tokens of
    cache (decode: ``new_tokens = 1``; a whole prefill: ``new_tokens = prompt`` and
    ``context = prompt / 2``). ``prefill_tokens`` more tokens of a prompt chunk at
    ``prefill_context`` average context may share the step (chunked prefill).
    """
    b = np.asarray(batch, dtype=float)
    n_new = np.asarray(new_tokens, dtype=float)
    ctx = np.asarray(context, dtype=float)
    pf = np.asarray(prefill_tokens, dtype=float)
    tokens = b * n_new + pf
    # matmuls: weights read once per step, math on the active parameters
    read = weight_bytes(m, bytes_per_param, tokens) / rep.bw
    math_s = 2 * m.active_params * tokens / rep.peak
    matmul = np.maximum(read, math_s) + (1 - rep.overlap) * np.minimum(read, math_s)
    # attention: every sequence reads its KV cache; score FLOPs 4 L heads head_dim per
    # token and context position (QK^T and AV)
    kv_read = b * m.kv_bytes(ctx + n_new / 2, kv_bytes_per_value) \
        * kv_bytes_per_gpu_factor(m, rep.tp)
    per_tok = 4 * m.layers * m.heads * m.head_dim
    attn_flops = per_tok * (b * n_new * ctx + pf * prefill_context)
    attention = np.maximum(kv_read / rep.bw, attn_flops / rep.peak16)
    # two all-reduces per layer of tokens x hidden activations [S19]_
    if rep.tp > 1:
        msg = tokens * m.hidden * rep.act_bytes
        one = rep.ar_latency_s + 2 * (rep.tp - 1) / rep.tp * msg / rep.link_bytes_per_s
        allreduce = 2 * m.layers * one
    else:
        allreduce = 0 * tokens
    overhead = rep.overhead_s + 0 * tokens
    total = matmul + attention + allreduce + overhead
    return {"matmul_s": matmul, "attention_s": attention, "allreduce_s": allreduce,
            "overhead_s": overhead, "total_s": total}


# ----------------------------------------------------------------------------- memory

def kv_bytes_per_gpu_factor(m: ServeModel, tp: int) -> float:
    """KV heads are split over tp GPUs; fewer KV heads than GPUs are replicated."""
    if m.kv_values_per_layer == 0 or not m.known_shape:
        return 1.0
    return max(1.0, tp / m.kv_heads) if m.kv_heads < tp else 1.0


def memory_parts(m: ServeModel, rep: Replica, bytes_per_param, kv_bytes_per_value, batch,
                 context):
    """Bytes of the replica by use: weights, workspace, kv, usable (the engine's share).

    Workspace: the activations of one step of ``serve_step_tokens`` tokens, about
    ``tokens x (4 hidden + 2 ffn / tp) x activation bytes`` per GPU (the QKV/output and
    gate/up intermediates vLLM's profiling run measures).
    """
    weights = m.total_params * bytes_per_param
    work = (rep.tp * rep.step_tokens * (4 * m.hidden + 2 * m.ffn / rep.tp) * rep.act_bytes
            if rep.workspace else 0.0)
    kv = np.asarray(batch, dtype=float) * m.kv_bytes(context, kv_bytes_per_value) \
        * kv_bytes_per_gpu_factor(m, rep.tp)
    return {"weights": weights, "workspace": work, "kv": kv, "usable": rep.memory}


def max_batch(m: ServeModel, rep: Replica, bytes_per_param, kv_bytes_per_value, context):
    """Most sequences of ``context`` tokens whose KV cache fits (``inf`` without a KV size)."""
    parts = memory_parts(m, rep, bytes_per_param, kv_bytes_per_value, 1, context)
    room = parts["usable"] - parts["weights"] - parts["workspace"]
    per = parts["kv"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(per > 0, np.floor(room / np.where(per > 0, per, 1) * (1 + 1e-12)
                                          + 1e-9), np.inf)


def check_weights_fit(m: ServeModel, rep: Replica, bytes_per_param) -> None:
    parts = memory_parts(m, rep, bytes_per_param, 0, 0, 0)
    need = parts["weights"] + parts["workspace"]
    if need > parts["usable"]:
        raise InfeasibleError(
            f"the weights ({parts['weights'] / GB:.4g} GB) and a step's workspace do not fit in "
            f"tp x {rep.spec.memory_gb:g} GB x memory_utilization of {rep.spec.id}: raise tp "
            "or use a smaller precision", arg="tp")
