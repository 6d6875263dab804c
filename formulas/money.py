"""Money: cloud cost, on-premises cost per GPU-hour, buy-vs-rent breakeven, training cost.

All amounts are US dollars. Prices in ``formulas/data/gpu_prices.csv`` are dated public
examples (see :func:`formulas.catalog.gpu_prices`), never quotes.

References
----------
.. [B13] Barroso, Clidaras and Hölzle 2013, "The Datacenter as a Computer", 2nd ed.,
   ch. 6 (cost model): total cost of ownership = capital expense amortised over the
   equipment's life + operating expense, with energy at IT power x PUE x price per kWh.
.. [N21] Narayanan et al. 2021, arXiv 2104.04473, §5.1 eq. (4): training time
   ``8 T P / (n X)`` (see :func:`formulas.training.train_days`).
.. [L24] Llama Team 2024, arXiv 2407.21783, §3.3.4: higher than 90% effective training
   time (goodput) on up to 16K GPUs.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .assumptions import assumption
from .errors import ImplausibleUnitError, InfeasibleError
from .training import gpu_hours

__all__ = [
    "HOURS_PER_YEAR",
    "HOURS_PER_MONTH",
    "cloud_cost_usd",
    "tco_per_gpu_hour",
    "buy_vs_rent_breakeven_months",
    "train_cost_usd",
]

HOURS_PER_YEAR = 365 * 24.0  #: 8,760 hours
HOURS_PER_MONTH = HOURS_PER_YEAR / 12  #: 730 hours


def _usd(name, x):
    return v.non_negative(name, x)


def _years(x):
    a = v.positive("years", x)
    if np.any(a > 30):
        raise ImplausibleUnitError(f"years is the amortisation period in years: use 3 for 36 "
                                   f"months (got {float(np.max(a)):g})", arg="years", value=x)
    return a


def _watts(x):
    a = v.positive("tdp_w", x)
    if np.any(a < 10):
        raise ImplausibleUnitError(f"tdp_w is in watts: use 700 for 0.7 kW (got "
                                   f"{float(np.min(a)):g})", arg="tdp_w", value=x)
    if np.any(a > 1e5):
        raise ImplausibleUnitError("tdp_w is the power of one GPU in watts (H100 SXM: 700)",
                                   arg="tdp_w", value=x)
    return a


def _pue(x):
    a = v.at_least("pue", x, 1)
    if np.any(a > 5):
        raise ImplausibleUnitError(f"pue is a ratio of about 1.1-1.6, got {float(np.max(a)):g}",
                                   arg="pue", value=x)
    return a


def _kwh(x):
    a = v.non_negative("usd_per_kwh", x)
    if np.any(a > 5):
        v_ = float(np.max(a))
        raise ImplausibleUnitError(f"usd_per_kwh is in dollars: use {v_ / 100:g} for {v_:g} cents",
                                   arg="usd_per_kwh", value=x)
    return a


def _overhead(x):
    a = v.non_negative("server_overhead", assumption("server_overhead") if x is None else x)
    if np.any(a > 10):
        v_ = float(np.max(a))
        raise ImplausibleUnitError(f"server_overhead is a fraction of the GPU price: use "
                                   f"{v_ / 100:g} for {v_:g}%", arg="server_overhead", value=x)
    return a


def _energy_per_hour(tdp_w, pue, usd_per_kwh):
    return _watts(tdp_w) / 1000 * _pue(pue) * _kwh(usd_per_kwh)


def cloud_cost_usd(gpu_hours, usd_per_gpu_hour):
    """Cloud cost in US dollars: ``gpu_hours * usd_per_gpu_hour``.

    Examples
    --------
    DeepSeek-V3's 2.788M H800 GPU-hours at the report's assumed $2 per GPU-hour
    (DeepSeek-AI 2024, arXiv 2412.19437, Table 1: $5.576M):

    >>> cloud_cost_usd(2.788e6, 2)
    5576000.0
    """
    return v.out(_usd("gpu_hours", gpu_hours) * v.rent("usd_per_gpu_hour", usd_per_gpu_hour))


def tco_per_gpu_hour(unit_price_usd, years, tdp_w, pue, usd_per_kwh, utilisation=1,
                     server_overhead=None):
    """Cost of owning a GPU per hour it is used: amortised capital plus energy, in USD.

    Parameters
    ----------
    unit_price_usd : float or array_like
        Price of one GPU (e.g. 25000 for an H100 SXM, an example street price).
    years : float or array_like
        Amortisation period (straight line), e.g. 3 or 4.
    tdp_w : float or array_like
        Power per GPU in watts (H100 SXM: 700).
    pue : float or array_like
        Power usage effectiveness of the data centre (>= 1, typically 1.1-1.6).
    usd_per_kwh : float or array_like
        Electricity price in dollars per kWh, e.g. 0.10.
    utilisation : float, optional
        Share of the hours in the period the GPU is used (and paid for by work); 1 by default.
    server_overhead : float, optional
        Server, network and storage cost as a fraction of the GPU price; 0.3 by default
        (a project assumption: replace it with your quote).

    Returns
    -------
    float or ndarray
        USD per used GPU-hour.

    Notes
    -----
    ``unit_price * (1 + server_overhead) / (years * 8760 * utilisation)
    + tdp_w / 1000 * pue * usd_per_kwh`` [B13]_. Energy is counted for used hours at full
    power; idle power, staff, space and financing are left out.

    Examples
    --------
    An H100 SXM at $25,000, 3 years, 700 W, PUE 1.2, $0.10/kWh, fully used:

    >>> round(tco_per_gpu_hour(25000, 3, 700, 1.2, 0.10), 3)
    1.321
    """
    price = _usd("unit_price_usd", unit_price_usd)
    util = v.fraction("utilisation", utilisation)
    capex = price * (1 + _overhead(server_overhead)) / (_years(years) * HOURS_PER_YEAR * util)
    return v.out(capex + _energy_per_hour(tdp_w, pue, usd_per_kwh))


def buy_vs_rent_breakeven_months(unit_price_usd, usd_per_gpu_hour, tdp_w, pue, usd_per_kwh,
                                 utilisation=1, server_overhead=None):
    """Months of use after which buying a GPU costs less than renting one.

    Parameters
    ----------
    unit_price_usd : float or array_like
        Price of one GPU.
    usd_per_gpu_hour : float or array_like
        Rental price per GPU-hour.
    tdp_w, pue, usd_per_kwh, utilisation, server_overhead
        As in :func:`tco_per_gpu_hour`.

    Returns
    -------
    float or ndarray
        Months (of 730 hours).

    Raises
    ------
    InfeasibleError
        When renting costs no more per hour than the electricity of owning: buying never
        breaks even.

    Notes
    -----
    ``months = unit_price * (1 + server_overhead)
    / ((usd_per_gpu_hour - tdp_w / 1000 * pue * usd_per_kwh) * 730 * utilisation)``:
    the capital is recovered by the rent saved net of energy [B13]_.

    Examples
    --------
    An H100 SXM bought at $25,000 against renting at $2.99 per hour:

    >>> round(buy_vs_rent_breakeven_months(25000, 2.99, 700, 1.2, 0.10), 1)
    15.3
    """
    price = _usd("unit_price_usd", unit_price_usd)
    rent = v.rent("usd_per_gpu_hour", usd_per_gpu_hour)
    energy = _energy_per_hour(tdp_w, pue, usd_per_kwh)
    util = v.fraction("utilisation", utilisation)
    saved = rent - energy
    if np.any(saved <= 0):
        raise InfeasibleError("renting costs no more per hour than the electricity of owning: "
                              "buying never breaks even", arg="usd_per_gpu_hour",
                              value=usd_per_gpu_hour)
    return v.out(price * (1 + _overhead(server_overhead)) / (saved * HOURS_PER_MONTH * util))


def train_cost_usd(P, T, TFLOPS, N, MFU, usd_per_gpu_hour, flops_per_param_token=8,
                   goodput=None):
    """Cost of a training run in US dollars, paying for the GPUs' whole wall-clock time.

    Parameters
    ----------
    P, T : float or array_like
        Parameters and training tokens (raw counts).
    TFLOPS : float or array_like
        Peak dense TFLOPS per GPU.
    N : float or array_like
        GPUs (the bill is N x wall-clock hours; with a fixed goodput it equals the
        productive GPU-hours / goodput).
    MFU : float or array_like
        Model FLOPs utilisation while training runs (fraction).
    usd_per_gpu_hour : float or array_like
        Price per GPU-hour (rent, or :func:`tco_per_gpu_hour`).
    flops_per_param_token : float, optional
        8 by default (with recomputation, as ``TRAIN_DAYS``), 6 without.
    goodput : float, optional
        Share of wall-clock time that trains; 0.9 by default (Llama 3 [L24]_). Use
        ``goodput(N)`` for a value scaled to the cluster size, 1 for none.

    Returns
    -------
    float or ndarray
        USD.

    Notes
    -----
    ``usd = N * days * 24 / goodput * usd_per_gpu_hour
    = k P T / (TFLOPS * 1e12 * MFU) / 3600 / goodput * usd_per_gpu_hour`` [N21]_.

    Examples
    --------
    Llama-2-7B (2T tokens, 6 FLOPs per token, 40% MFU on A100) at $1.844 per GPU-hour,
    no downtime:

    >>> round(train_cost_usd(6.74e9, 2e12, 312, 1024, 0.40, 1.844, 6, 1))
    331959
    """
    n = v.positive("N", N)
    g = v.fraction("goodput", assumption("goodput") if goodput is None else goodput)
    hours = gpu_hours(P, T, TFLOPS, MFU, flops_per_param_token)
    usd = hours / g * v.rent("usd_per_gpu_hour", usd_per_gpu_hour)
    return v.out(usd + 0 * n)  # N only shapes the result: cost = N x wall-clock hours
