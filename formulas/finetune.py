"""Fine-tuning: GPU memory of full, LoRA and QLoRA fine-tuning; trainable parameters.

References
----------
.. [R19] Rajbhandari et al. 2019, "ZeRO", arXiv 1910.02054, §3.1: mixed-precision Adam
   keeps ``2 + 2 + 12 = 16`` bytes per trained parameter.
.. [H21] Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models",
   arXiv 2106.09685, §4 and §4.2: ``|Theta| = 2 * L_hat * d_model * r`` trainable
   parameters; GPT-3 175B with r=4 on W_q and W_v: 18.9M parameters, checkpoint ~35 MB
   instead of 350 GB, 350 GB of VRAM during training instead of 1.2 TB.
.. [D23] Dettmers et al. 2023, "QLoRA: Efficient Finetuning of Quantized LLMs",
   arXiv 2305.14314, abstract and §3: 4-bit NormalFloat base weights, double quantisation
   (constants cost 0.127 bits per parameter), BF16 adapters with paged 32-bit Adam;
   fine-tuning a 65B model takes more than 780 GB in 16 bits and less than 48 GB with QLoRA.
.. [K22] Korthikanti et al. 2022, arXiv 2205.05198, Table 2: with full activation
   recomputation (gradient checkpointing) only each layer's input is kept, ``2 s b h L``
   bytes in 16 bits.

Constants are read from ``formulas/data/program_assumptions.csv`` (source per row).
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .arch import is_model, resolve_model
from .assumptions import assumption
from .errors import InvalidInputError
from .units import GB

__all__ = ["FINETUNE_METHODS", "finetune_mem_gb", "finetune_params", "finetune_checkpoint_gb"]

#: Accepted names of the fine-tuning methods.
FINETUNE_METHODS = {
    "full": "full", "fft": "full", "fullfinetune": "full", "fullfinetuning": "full",
    "lora": "lora",
    "qlora": "qlora", "4bitlora": "qlora",
}


def _method(method) -> str:
    return v.choice("method", method, FINETUNE_METHODS)


def _model_dims(P, L, h):
    """A model id gives its layers and hidden size wherever L or h are left out."""
    if is_model(P):
        m = resolve_model(P, "P")
        L = m.layers if L is None else L
        h = m.hidden if h is None else h
    return L, h


def _adapters(P, method, rank, L, h, n_adapted_per_layer):
    """Trainable adapter parameters ``2 n L h r`` (arrays), validated against P."""
    if L is None or h is None:
        raise InvalidInputError(f"{method} needs L and h to count the adapters: e.g. L=32, "
                                "h=4096 for a 7B model (MODEL_SPEC gives them)",
                                arg="L" if L is None else "h")
    L = v.whole("L", L)
    h = v.whole("h", h)
    r = v.whole("rank", rank)
    n = v.positive("n_adapted_per_layer", n_adapted_per_layer)
    if np.any(r > h):
        raise InvalidInputError("rank must not exceed h (a rank-r update of an h x h matrix)",
                                arg="rank", value=rank, code="#NUM!")
    a = 2 * n * L * h * r
    if np.any(a >= P):
        raise InvalidInputError("the adapters would have as many parameters as the model: "
                                "check rank, L, h and n_adapted_per_layer",
                                arg="n_adapted_per_layer", value=n_adapted_per_layer,
                                code="#NUM!")
    return a


def finetune_params(P, method, rank=16, L=None, h=None, n_adapted_per_layer=2):
    """Trainable parameters of a fine-tuning method (raw count).

    Parameters
    ----------
    P : float or array_like
        Parameters of the base model (raw count).
    method : str
        ``"full"``, ``"lora"`` or ``"qlora"`` (case-insensitive).
    rank : int, optional
        LoRA rank r; 16 by default.
    L, h : int, optional
        Layers and hidden size; needed for lora and qlora.
    n_adapted_per_layer : float, optional
        Adapted weight matrices per layer, counted as ``h x h`` equivalents; 2 by default
        (W_q and W_v, as in [H21]_). A ``h x ffn`` MLP matrix counts ``(h + ffn) / (2 h)``.

    Returns
    -------
    float or ndarray
        ``P`` for full fine-tuning; ``2 n L h r`` for lora and qlora [H21]_.

    Examples
    --------
    GPT-3 with r=4 on W_q and W_v (LoRA paper: 18.9M):

    >>> finetune_params(175e9, "lora", 4, 96, 12288, 2)
    18874368.0
    """
    L, h = _model_dims(P, L, h)
    P = v.params("P", P, use="total")
    m = _method(method)
    if m == "full":
        return v.out(P)
    return v.out(_adapters(P, m, rank, L, h, n_adapted_per_layer))


def finetune_checkpoint_gb(P, method, rank=16, L=None, h=None, n_adapted_per_layer=2, bytes=2):
    """Size in GB of what fine-tuning saves: the whole model, or only the adapters.

    Parameters
    ----------
    P, method, rank, L, h, n_adapted_per_layer
        As in :func:`finetune_params`.
    bytes : float, optional
        Bytes per saved value; 2 (fp16/bf16) by default.

    Returns
    -------
    float or ndarray
        GB (1e9 bytes): ``trainable parameters * bytes / 1e9``.

    Examples
    --------
    GPT-3: 350 GB for a full copy, 0.038 GB (36 MiB; the LoRA paper says "35MB") for
    the r=4 adapters [H21]_:

    >>> finetune_checkpoint_gb(175e9, "full")
    350.0
    >>> round(finetune_checkpoint_gb(175e9, "lora", 4, 96, 12288, 2), 4)
    0.0377
    """
    p = v.positive("bytes", bytes)
    if np.any(p > 16):
        raise InvalidInputError("bytes is bytes per saved value (2 for bf16)", arg="bytes",
                                value=bytes, code="#NUM!")
    return v.out(finetune_params(P, method, rank, L, h, n_adapted_per_layer) * p / GB)


def finetune_mem_gb(P, method, rank=16, L=None, h=None, n_adapted_per_layer=2, seq=None,
                    batch=1):
    """GPU memory in GB to fine-tune a model: full 16-bit with Adam, LoRA or QLoRA.

    Parameters
    ----------
    P : float or array_like
        Parameters of the base model (raw count).
    method : str
        ``"full"``: all weights trained, mixed-precision Adam; ``"lora"``: 16-bit frozen
        base plus adapters; ``"qlora"``: 4-bit NF4 frozen base with double quantisation
        plus 16-bit adapters.
    rank : int, optional
        LoRA rank r; 16 by default.
    L, h : int, optional
        Layers and hidden size: needed for the adapters (lora, qlora) and for activations.
    n_adapted_per_layer : float, optional
        Adapted matrices per layer in ``h x h`` equivalents; 2 (W_q, W_v) by default.
    seq : int, optional
        Tokens per training sequence. Blank: activations are left out.
    batch : int, optional
        Sequences per micro-batch on the GPU; 1 by default.

    Returns
    -------
    float or ndarray
        GB (1e9 bytes) for one model copy, before any sharding.

    Notes
    -----
    With ``A = 2 n L h r`` adapter parameters [H21]_ and, when ``seq`` is given,
    activations ``2 seq batch h L`` bytes (gradient checkpointing, [K22]_):

    * full:  ``16 P`` [R19]_
    * lora:  ``2 P + 12 A`` (frozen 16-bit base; adapters in BF16 with BF16 gradients and
      two FP32 Adam moments, [D23]_)
    * qlora: ``(4 + 0.127) / 8 * P + 12 A`` (NF4 plus double-quantised constants [D23]_)

    plus the activations, all divided by 1e9. Since ``A < P`` is enforced,
    qlora < lora < full always holds.

    Examples
    --------
    LLaMA-65B (65.2B; L=80, h=8192), QLoRA r=64 on all seven linear layers per layer
    (``4 + 3 (8192 + 22016) / (2 * 8192) = 9.53`` square equivalents), 2,048 tokens:
    under 48 GB, against more than 780 GB in full 16-bit [D23]_.

    >>> round(finetune_mem_gb(65.2e9, "qlora", 64, 80, 8192, 9.53125, 2048), 1)
    45.9
    >>> round(finetune_mem_gb(65.2e9, "full"))
    1043
    """
    L, h = _model_dims(P, L, h)
    P = v.params("P", P, use="total")
    m = _method(method)
    act = 0.0
    if seq is not None:
        if L is None or h is None:
            raise InvalidInputError("activations need L and h: give them, or leave seq blank",
                                    arg="L" if L is None else "h")
        s = v.whole("seq", seq)
        b = v.whole("batch", batch)
        act = 2 * s * b * v.whole("h", h) * v.whole("L", L)
    if m == "full":
        state = assumption("full_finetune_bytes_per_param") * P
    else:
        a = _adapters(P, m, rank, L, h, n_adapted_per_layer)
        if m == "lora":
            base = assumption("lora_base_bytes_per_param") * P
        else:
            bits = assumption("nf4_bits") + assumption("double_quant_bits")
            base = bits / 8 * P
        state = base + assumption("adapter_bytes_per_param") * a
    return v.out((state + act) / GB)
