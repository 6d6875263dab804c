"""Downtime and uncertainty: goodput (productive share of wall-clock time), a range of days.

No single MFU is right for a plan, and a real run loses time to failures and restarts.
:func:`train_days_range` turns an MFU range into low/base/high days; :func:`goodput`
scales the failure rate Meta measured on Llama 3 to a cluster of N GPUs.

References
----------
.. [L24] Llama Team 2024, "The Llama 3 Herd of Models", arXiv 2407.21783, §3.3.4:
   "higher than 90% effective training time"; 466 job interruptions (47 planned, 419
   unexpected) in a 54-day snapshot of pre-training on up to 16,384 H100 GPUs.
.. [N21] Narayanan et al. 2021, arXiv 2104.04473, §5.1 eq. (4): ``8 T P / (n X)``.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .assumptions import assumption
from .errors import InfeasibleError, InvalidInputError
from .training import train_days

__all__ = [
    "llama3_interruption_rate",
    "llama3_hours_lost",
    "goodput",
    "train_days_range",
]


def llama3_interruption_rate() -> float:
    """Interruptions per GPU per day implied by Llama 3 [L24]_: 466 / (54 x 16,384).

    >>> round(llama3_interruption_rate(), 7)
    0.0005267
    """
    return (assumption("llama3_interruptions")
            / (assumption("llama3_snapshot_days") * assumption("llama3_gpus")))


def llama3_hours_lost() -> float:
    """Wall-clock hours lost per interruption implied by Llama 3 [L24]_.

    With goodput g over D days and n interruptions, each costs ``(1 - g) D 24 / n`` hours:
    (1 - 0.9) x 54 x 24 / 466 = 0.278 h (16.7 minutes).

    >>> round(llama3_hours_lost() * 60, 1)
    16.7
    """
    return ((1 - assumption("goodput")) * assumption("llama3_snapshot_days") * 24
            / assumption("llama3_interruptions"))


def goodput(N, interruptions_per_gpu_day=None, hours_lost_per_interruption=None):
    """Share of wall-clock time that trains, for N GPUs failing at a per-GPU rate.

    Parameters
    ----------
    N : float or array_like
        GPUs in the job.
    interruptions_per_gpu_day : float, optional
        Job interruptions per GPU per day; default 466 / (54 x 16,384) = 5.27e-4, Llama 3's
        rate [L24]_.
    hours_lost_per_interruption : float, optional
        Wall-clock hours each interruption costs (restart plus lost work since the last
        checkpoint); default 0.278 h, what makes Llama 3's rate give its 90% [L24]_.

    Returns
    -------
    float or ndarray
        Goodput fraction ``1 - rate * N * hours_lost / 24``.

    Raises
    ------
    InfeasibleError
        When interruptions would take all the time (goodput <= 0).

    Notes
    -----
    Each GPU fails independently, so a job of N GPUs is interrupted ``rate * N`` times a
    day and loses ``hours_lost`` hours each time. At 16,384 GPUs the defaults give 0.9.

    Examples
    --------
    >>> round(goodput(16384), 4)
    0.9
    >>> round(goodput(1024), 4)
    0.9938
    """
    n = v.positive("N", N)
    rate = v.non_negative("interruptions_per_gpu_day",
                          llama3_interruption_rate() if interruptions_per_gpu_day is None
                          else interruptions_per_gpu_day)
    if np.any(rate > 1):
        raise InvalidInputError("interruptions_per_gpu_day above 1 is implausible: Llama 3 "
                                "saw 0.000527 per GPU per day", arg="interruptions_per_gpu_day",
                                value=interruptions_per_gpu_day, code="#NUM!")
    lost = v.bounded("hours_lost_per_interruption", "hours_lost_per_interruption",
                          llama3_hours_lost() if hours_lost_per_interruption is None
                          else hours_lost_per_interruption, v.non_negative)
    g = 1 - rate * n * lost / 24
    if np.any(g <= 0):
        raise InfeasibleError("interruptions_per_gpu_day x N x hours_lost_per_interruption "
                              "would take all the time (goodput <= 0): use fewer GPUs, or "
                              "more frequent checkpoints", arg="N", value=N)
    return v.out(g)


def train_days_range(P, T, N, TFLOPS, mfu_low, mfu_high, goodput=None, flops_per_param_token=8):
    """Low, base and high training days for an MFU range, with goodput.

    Parameters
    ----------
    P, T : float
        Parameters and training tokens (raw counts).
    N : float
        GPUs.
    TFLOPS : float
        Peak dense TFLOPS per GPU.
    mfu_low, mfu_high : float
        Pessimistic and optimistic MFU (fractions), ``mfu_low <= mfu_high``.
    goodput : float, optional
        Share of wall-clock time that trains; 0.9 by default [L24]_.
    flops_per_param_token : float, optional
        8 by default, as ``TRAIN_DAYS``.

    Returns
    -------
    ndarray
        ``[low, base, high]`` days: at ``mfu_high``, at the midpoint MFU, at ``mfu_low``,
        each ``train_days(...) / goodput``.

    Notes
    -----
    ``days(m) = k P T / (N * TFLOPS * 1e12 * m) / 86400 / goodput`` [N21]_ [L24]_.

    Examples
    --------
    GPT-3 on 1,024 A100, MFU between 0.35 and 0.55, 90% goodput:

    >>> [round(float(d), 1) for d in train_days_range(175e9, 300e9, 1024, 312, 0.35, 0.55)]
    [30.7, 37.6, 48.3]
    """
    lo = v.fraction("mfu_low", mfu_low)
    hi = v.fraction("mfu_high", mfu_high)
    if np.any(lo > hi):
        raise InvalidInputError("mfu_low must not exceed mfu_high: swap them", arg="mfu_low",
                                value=mfu_low, code="#NUM!")
    g = v.fraction("goodput", assumption("goodput") if goodput is None else goodput)
    days = [train_days(P, T, N, TFLOPS, m, flops_per_param_token) / g
            for m in (hi, (lo + hi) / 2, lo)]
    return np.stack([np.asarray(d, dtype=float) for d in days], axis=-1)
