"""Training time, GPU-hours and the GPU count that meets a deadline.

References
----------
.. [N21] Narayanan et al. 2021, arXiv 2104.04473, §5.1 eq. (4): end-to-end training time
   ``~ 8 T P / (n X)`` with X the achieved FLOP/s per GPU (activation recomputation on).
.. [S003] Seed articles 002/003 (digest §3): X = peak x utilisation (MFU); 175B on 300B
   tokens, 1024 A100 at 312 TFLOPS x 0.45 -> 2,921,340 s; 1154 GPUs for 30 days.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .units import SECONDS_PER_DAY, SECONDS_PER_HOUR, TERA

__all__ = ["train_days", "gpu_hours", "gpu_count_time", "round_up_count"]


def round_up_count(x):
    """Round a GPU count up to a whole number, ignoring float noise below 1e-9.

    >>> float(round_up_count(6.5625)), float(round_up_count(1154.0000000000002))
    (7.0, 1154.0)
    """
    a = np.asarray(x, dtype=float)
    return np.ceil(a * (1 - 1e-12) - 1e-9)


def _achieved_flops(TFLOPS, MFU):
    return v.tflops("TFLOPS", TFLOPS) * TERA * v.fraction("MFU", MFU)


def train_days(P, T, N, TFLOPS, MFU, flops_per_param_token=8):
    """Training time in days: ``k P T / (N * TFLOPS * 1e12 * MFU)``.

    Parameters
    ----------
    P : float or array_like
        Parameters (raw count).
    T : float or array_like
        Training tokens (raw count).
    N : float or array_like
        GPUs.
    TFLOPS : float or array_like
        Peak dense TFLOPS per GPU (A100 BF16: 312), or the achieved TFLOPS with MFU = 1.
    MFU : float or array_like
        Model FLOPs utilisation as a fraction (0.45, not 45).
    flops_per_param_token : float, optional
        8 by default (the articles' convention: 6 plus one recomputed forward pass [N21]_);
        6 without recomputation.

    Returns
    -------
    float or ndarray
        Days of wall-clock training (86,400 s each), assuming no interruptions.

    Notes
    -----
    ``days = k P T / (N * TFLOPS * 1e12 * MFU) / 86400`` [N21]_ [S003]_.

    Examples
    --------
    GPT-3 (175B, 300B tokens) on 1024 A100 at 45% of 312 TFLOPS: about 34 days.

    >>> round(train_days(175e9, 300e9, 1024, 312, 0.45), 4)
    33.8118
    """
    P = v.params("P", P, use="active")
    T = v.tokens("T", T)
    N = v.positive("N", N)
    k = v.positive("flops_per_param_token", flops_per_param_token)
    x = _achieved_flops(TFLOPS, MFU)
    return v.out(k * P * T / (N * x) / SECONDS_PER_DAY)


def gpu_hours(P, T, TFLOPS, MFU, flops_per_param_token=8):
    """GPU-hours of training: ``k P T / (TFLOPS * 1e12 * MFU) / 3600``.

    Parameters
    ----------
    P, T : float or array_like
        Parameters and training tokens (raw counts).
    TFLOPS : float or array_like
        Peak dense TFLOPS per GPU.
    MFU : float or array_like
        Model FLOPs utilisation as a fraction.
    flops_per_param_token : float, optional
        8 by default (recomputation), 6 without.

    Returns
    -------
    float or ndarray
        GPU-hours; independent of the GPU count under this model.

    Examples
    --------
    Llama-2-7B's 2T tokens on A100 at 312 TFLOPS and 40% MFU, 6 FLOPs per token
    (the paper reports 184,320 GPU-hours):

    >>> round(gpu_hours(6.74e9, 2e12, 312, 0.40, 6))
    180021
    """
    P = v.params("P", P, use="active")
    T = v.tokens("T", T)
    k = v.positive("flops_per_param_token", flops_per_param_token)
    x = _achieved_flops(TFLOPS, MFU)
    return v.out(k * P * T / x / SECONDS_PER_HOUR)


def gpu_count_time(P, T, days, TFLOPS, MFU, flops_per_param_token=8, round_up=True):
    """GPUs needed to finish training within a deadline.

    Parameters
    ----------
    P, T : float or array_like
        Parameters and training tokens (raw counts).
    days : float or array_like
        Deadline in days.
    TFLOPS : float or array_like
        Peak dense TFLOPS per GPU.
    MFU : float or array_like
        Model FLOPs utilisation as a fraction.
    flops_per_param_token : float, optional
        8 by default, 6 without recomputation.
    round_up : bool, optional
        True (default): whole GPUs, rounded up; False: the exact quotient.

    Returns
    -------
    float or ndarray
        GPUs.

    Notes
    -----
    ``n = k P T / (days * 86400 * TFLOPS * 1e12 * MFU)`` [S003]_, then ceiling.

    Examples
    --------
    175B on 300B tokens in 30 days at 45% of 312 TFLOPS: 1154.1, so 1155 GPUs.

    >>> round(gpu_count_time(175e9, 300e9, 30, 312, 0.45, 8, False), 2)
    1154.11
    >>> gpu_count_time(175e9, 300e9, 30, 312, 0.45)
    1155.0
    """
    P = v.params("P", P, use="active")
    T = v.tokens("T", T)
    d = v.deadline_days("days", days)
    k = v.positive("flops_per_param_token", flops_per_param_token)
    x = _achieved_flops(TFLOPS, MFU)
    n = k * P * T / (d * SECONDS_PER_DAY * x)
    return v.out(round_up_count(n) if round_up else n)
