"""Training compute: total FLOPs, per-iteration FLOPs, iterations and MFU.

References
----------
.. [K20] Kaplan et al. 2020, "Scaling Laws for Neural Language Models", arXiv 2001.08361,
   §2.1: C ~ 6 N per token (2 forward, 4 backward).
.. [N21] Narayanan et al. 2021, arXiv 2104.04473, Appendix: per-iteration FLOPs
   ``96 B s l h^2 (1 + s/(6h) + V/(16 l h))`` with activation recomputation.
.. [K22] Korthikanti et al. 2022, "Reducing Activation Recomputation in Large
   Transformer Models", arXiv 2205.05198, §6 and Table 5: model FLOPs utilisation from the
   FLOPs of one iteration *without* recomputation, ``72 B s l h^2 (1 + s/(6h) + V/(12 l h))``.
.. [S003] Seed articles 000/003 (digest §2): 6PT, 8PT with recomputation.
"""

from __future__ import annotations

from . import _validate as v
from .bounds import check_measured_mfu
from .units import TERA

__all__ = ["train_flops", "iter_flops", "train_iters", "mfu"]


def train_flops(P, T, flops_per_param_token=6):
    """Total training compute in FLOPs: ``k * P * T``.

    Parameters
    ----------
    P : float or array_like
        Parameters (raw count, 7e9 for 7B).
    T : float or array_like
        Training tokens (raw count, 300e9).
    flops_per_param_token : float, optional
        6 (forward 2 + backward 4) by default; 8 with full activation recomputation.

    Returns
    -------
    float or ndarray
        FLOPs.

    Notes
    -----
    ``C = k P T`` with ``k = 6`` [K20]_, or 8 with recomputation [S003]_.

    Examples
    --------
    GPT-3 (174.6B parameters, 300B tokens): 3.14e23 FLOPs.

    >>> f"{train_flops(174.6e9, 300e9):.4e}"
    '3.1428e+23'
    """
    P = v.params("P", P, use="active")
    T = v.tokens("T", T)
    k = v.positive("flops_per_param_token", flops_per_param_token)
    return v.out(k * P * T)


def iter_flops(B, S, L, h, V, recompute=True):
    """FLOPs of one training iteration of a GPT model (Megatron appendix formula).

    Parameters
    ----------
    B : int or array_like
        Global batch size (sequences).
    S : int or array_like
        Sequence length (tokens).
    L, h, V : int or array_like
        Layers, hidden size, vocabulary size.
    recompute : bool, optional
        True (default): with full activation recomputation (one extra forward pass).

    Returns
    -------
    float or ndarray
        FLOPs per iteration.

    Notes
    -----
    With recomputation [N21]_: ``96 B S L h^2 (1 + S/(6h) + V/(16 L h))``.
    Without [K22]_: ``72 B S L h^2 (1 + S/(6h) + V/(12 L h))``.

    Examples
    --------
    GPT-3, global batch 1536 of 2048 tokens: 4.5 ExaFLOPs per iteration [N21]_.

    >>> round(iter_flops(1536, 2048, 96, 12288, 51200) / 1e18, 2)
    4.51
    """
    B = v.positive("B", B)
    S = v.positive("S", S)
    L = v.whole("L", L)
    h = v.whole("h", h)
    V = v.whole("V", V)
    if recompute:
        f = 96 * B * S * L * h**2 * (1 + S / (6 * h) + V / (16 * L * h))
    else:
        f = 72 * B * S * L * h**2 * (1 + S / (6 * h) + V / (12 * L * h))
    return v.out(f)


def train_iters(T, B, S):
    """Training iterations: ``T / (B * S)``.

    Parameters
    ----------
    T : float or array_like
        Training tokens (raw count).
    B : int or array_like
        Global batch size (sequences).
    S : int or array_like
        Sequence length (tokens).

    Returns
    -------
    float or ndarray
        Iterations (not rounded).

    Examples
    --------
    >>> train_iters(300e9, 1536, 2048)
    95367.431640625
    """
    T = v.tokens("T", T)
    B = v.positive("B", B)
    S = v.positive("S", S)
    return v.out(T / (B * S))


def mfu(flops_per_iter, iter_seconds, N, peak_TFLOPS):
    """Model FLOPs utilisation: achieved fraction of the GPUs' peak.

    Parameters
    ----------
    flops_per_iter : float or array_like
        Model FLOPs of one iteration (without recomputation, [K22]_).
    iter_seconds : float or array_like
        Measured seconds per iteration.
    N : float or array_like
        GPUs.
    peak_TFLOPS : float or array_like
        Dense peak per GPU in TFLOPS (A100: 312).

    Returns
    -------
    float or ndarray
        MFU as a fraction (not per cent).

    Notes
    -----
    ``MFU = F / (t * N * peak * 1e12)`` [K22]_.

    Examples
    --------
    GPT-3 175B on 64 A100s at 13.75 s per iteration of 64 x 2048 tokens: 51.4% [K22]_ Table 5.

    >>> round(mfu(iter_flops(64, 2048, 96, 12288, 51200, False), 13.75, 64, 312), 3)
    0.514
    """
    F = v.positive("flops_per_iter", flops_per_iter)
    t = v.positive("iter_seconds", iter_seconds)
    N = v.positive("N", N)
    peak = v.tflops("peak_TFLOPS", peak_TFLOPS)
    return v.out(check_measured_mfu(F / (t * N * peak * TERA), t))
