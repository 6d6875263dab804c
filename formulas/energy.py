"""Energy and carbon of a training run.

References
----------
.. [T23] Touvron et al. 2023, "Llama 2: Open Foundation and Fine-Tuned Chat Models",
   arXiv 2307.09288, §2.2.1 and Table 2: GPU-hours, power per GPU and tCO2eq of each
   model; 7B: 184,320 A100-80GB hours at 400 W, 31.22 tCO2eq. Emissions are GPU power
   x time x carbon intensity; PUE and non-GPU power are not counted.
.. [P21] Patterson et al. 2021, "Carbon Emissions and Large Neural Network Training",
   arXiv 2104.10350, §2: energy = hours x processor power x PUE; tCO2e = MWh x tCO2e/MWh.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .errors import ImplausibleUnitError

__all__ = ["train_energy_mwh", "train_co2_t"]


def train_energy_mwh(gpu_hours, tdp_w, pue=1):
    """Energy of a training run in MWh: ``gpu_hours * tdp_w * pue / 1e6``.

    Parameters
    ----------
    gpu_hours : float or array_like
        GPU-hours (e.g. from ``GPU_HOURS``).
    tdp_w : float or array_like
        Power per GPU in watts (A100 SXM: 400).
    pue : float, optional
        Power usage effectiveness of the data centre; 1 (default) counts the GPUs alone,
        as the Llama 2 paper does [T23]_.

    Returns
    -------
    float or ndarray
        MWh.

    Notes
    -----
    ``MWh = gpu_hours * tdp_w * pue / 1e6`` [P21]_.

    Examples
    --------
    Llama 2 7B: 184,320 A100-hours at 400 W [T23]_:

    >>> train_energy_mwh(184320, 400)
    73.728
    """
    h = v.non_negative("gpu_hours", gpu_hours)
    w = v.positive("tdp_w", tdp_w)
    if np.any(w < 10):
        raise ImplausibleUnitError("tdp_w is in watts: use 400 for 0.4 kW", arg="tdp_w",
                                   value=tdp_w)
    p = v.at_least("pue", pue, 1)
    if np.any(p > 5):
        raise ImplausibleUnitError("pue is a ratio of about 1.1-1.6", arg="pue", value=pue)
    return v.out(h * w * p / 1e6)


def train_co2_t(mwh, kg_co2_per_kwh):
    """Emissions in tonnes of CO2-equivalent: ``mwh * kg_co2_per_kwh``.

    Parameters
    ----------
    mwh : float or array_like
        Energy in MWh.
    kg_co2_per_kwh : float or array_like
        Carbon intensity of the electricity, kg CO2eq per kWh (0.4234 is what Llama 2's
        figures imply; grids range from ~0.02 to ~0.9).

    Returns
    -------
    float or ndarray
        Tonnes CO2eq (1 MWh x 1 kg/kWh = 1 t).

    Notes
    -----
    ``t = mwh * 1000 kWh/MWh * kg/kWh / 1000 kg/t`` [P21]_. Llama 2 7B: 31.22 t for
    73.728 MWh implies 31.22 / 73.728 = 0.4234 kg/kWh [T23]_.

    Examples
    --------
    >>> round(train_co2_t(73.728, 0.4234), 2)
    31.22
    """
    e = v.non_negative("mwh", mwh)
    k = v.non_negative("kg_co2_per_kwh", kg_co2_per_kwh)
    if np.any(k > 3):
        v_ = float(np.max(k))
        raise ImplausibleUnitError(f"kg_co2_per_kwh is in kg per kWh: use {v_ / 1000:g} for "
                                   f"{v_:g} g/kWh", arg="kg_co2_per_kwh", value=kg_co2_per_kwh)
    return v.out(e * k)
