"""Excel functions for money, energy and calendar effects.

Thin wrappers over :mod:`formulas.money`, :mod:`formulas.energy` and
:mod:`formulas.downtime`, plus look-ups in the example price table; re-exported by
:mod:`addin.udfs`.
"""

from __future__ import annotations

import difflib

from llm_budget_planner import formulas as core
from llm_budget_planner.formulas import catalog
from llm_budget_planner.formulas.errors import UnknownNameError

from ._args import ARG_N, ARG_P, ARG_T, ARG_TFLOPS
from ._excel import Arg, udf

__all__ = ["CLOUD_COST_USD", "TCO_PER_GPU_HOUR", "BUY_VS_RENT_BREAKEVEN_MONTHS",
           "TRAIN_COST_USD", "GPU_PRICE", "GPU_PRICE_LIST", "TRAIN_ENERGY_MWH", "TRAIN_CO2_T",
           "GOODPUT", "TRAIN_DAYS_RANGE"]

ARG_K = Arg("FLOPs per parameter per token: 8 (default, with recomputation, as TRAIN_DAYS), "
            "6 without.")
ARG_GOODPUT = Arg("Share of wall-clock time that trains: 0.9 (default, Llama 3: >90% on 16K "
                  "GPUs); GOODPUT(N) scales it to your cluster; 1 for none.")
ARG_PRICE = Arg("Price of one GPU in US dollars, e.g. 25000 (GPU_PRICE gives dated examples).")
ARG_RENT = Arg("Rental price in US dollars per GPU-hour, e.g. 2.99.")
ARG_TDP = Arg("Power per GPU in watts, e.g. 700 for H100 SXM (GPU_SPEC(gpu,\"tdp_w\")).")
ARG_PUE = Arg("Power usage effectiveness of the data centre, a ratio >= 1, e.g. 1.2.")
ARG_KWH = Arg("Electricity price in US dollars per kWh, e.g. 0.10.")
ARG_UTIL = Arg("Share of the hours the GPU is used: 1 (default) for always busy.")
ARG_OVERHEAD = Arg("Server, network and storage cost as a fraction of the GPU price: 0.3 "
                   "(default, an assumption to replace with your quote).")


# ------------------------------------------------------------------------------ Money

@udf("Money and energy", "=CLOUD_COST_USD(2.788E6,2) -> 5,576,000 (DeepSeek-V3)",
     gpu_hours=Arg("GPU-hours, e.g. GPU_HOURS(...) or 2.788E6."), usd_per_gpu_hour=ARG_RENT)
def CLOUD_COST_USD(gpu_hours, usd_per_gpu_hour):
    """Cloud cost in US dollars (USD): gpu_hours·usd_per_gpu_hour."""
    return core.cloud_cost_usd(gpu_hours, usd_per_gpu_hour)


@udf("Money and energy", "=TCO_PER_GPU_HOUR(25000,3,700,1.2,0.1) -> 1.32 USD",
     unit_price_usd=ARG_PRICE,
     years=Arg("Amortisation period in years (straight line), e.g. 3."),
     tdp_w=ARG_TDP, pue=ARG_PUE, usd_per_kwh=ARG_KWH, utilisation=ARG_UTIL,
     server_overhead=ARG_OVERHEAD)
def TCO_PER_GPU_HOUR(unit_price_usd, years, tdp_w, pue, usd_per_kwh, utilisation=1,
                     server_overhead=0.3):
    """Owning cost in USD per used GPU-hour: price·(1+overhead)/(years·8760·utilisation) + tdp_w/1000·pue·usd_per_kwh."""
    return core.tco_per_gpu_hour(unit_price_usd, years, tdp_w, pue, usd_per_kwh, utilisation,
                                 server_overhead)


@udf("Money and energy", "=BUY_VS_RENT_BREAKEVEN_MONTHS(25000,2.99,700,1.2,0.1) -> 15.3",
     unit_price_usd=ARG_PRICE, usd_per_gpu_hour=ARG_RENT, tdp_w=ARG_TDP, pue=ARG_PUE,
     usd_per_kwh=ARG_KWH, utilisation=ARG_UTIL, server_overhead=ARG_OVERHEAD)
def BUY_VS_RENT_BREAKEVEN_MONTHS(unit_price_usd, usd_per_gpu_hour, tdp_w, pue, usd_per_kwh,
                                 utilisation=1, server_overhead=0.3):
    """Months of use after which buying beats renting: price·(1+overhead)/((rent − energy per hour)·730·utilisation)."""
    return core.buy_vs_rent_breakeven_months(unit_price_usd, usd_per_gpu_hour, tdp_w, pue,
                                             usd_per_kwh, utilisation, server_overhead)


@udf("Money and energy", "=TRAIN_COST_USD(6.74E9,2E12,312,1024,0.4,1.844,6,1) -> 331,959",
     P=ARG_P, T=ARG_T, gpu=ARG_TFLOPS, N=ARG_N,
     MFU=Arg("Model FLOPs utilisation while training runs, as a fraction: 0.45 for 45%."),
     usd_per_gpu_hour=ARG_RENT, flops_per_param_token=ARG_K, goodput=ARG_GOODPUT)
def TRAIN_COST_USD(P, T, gpu, N, MFU, usd_per_gpu_hour, flops_per_param_token=8, goodput=0.9):
    """Training cost in USD for the GPUs' wall-clock time: GPU_HOURS(P,T,TFLOPS,MFU,k)/goodput·usd_per_gpu_hour."""
    return core.train_cost_usd(P, T, gpu, N, MFU, usd_per_gpu_hour, flops_per_param_token,
                               goodput)


def _price(price_id: str):
    rows = {p.id: p for p in catalog.gpu_prices()}
    key = price_id.strip().lower()
    if key in rows:
        return rows[key]
    close = difflib.get_close_matches(key, list(rows), n=3, cutoff=0.4)
    hint = f"did you mean {', '.join(close)}?" if close else "use GPU_PRICE_LIST() for the ids"
    raise UnknownNameError(f"price_id '{price_id.strip()}' is not in the price table: {hint}",
                           arg="price_id", value=price_id)


_PRICE_FIELDS = ("usd", "gpu_id", "provider", "offer", "price_type", "unit", "date", "source",
                 "confidence", "notes")


@udf("Money and energy", "=GPU_PRICE(\"aws-p5-cb-2024\") -> 4.916 (USD per GPU-hour, 2024-12)",
     price_id=Arg("Price row id, e.g. \"aws-p5-cb-2024\" (see GPU_PRICE_LIST()).", "text"),
     field=Arg("\"usd\" (default), \"unit\" (gpu_hour or gpu), \"date\", \"source\", "
               "\"confidence\", \"provider\", \"offer\", \"gpu_id\", \"price_type\", \"notes\".",
               "text"))
def GPU_PRICE(price_id, field="usd"):
    """A dated example price in USD (per GPU-hour or per GPU, see its unit) or its source: an example, never a quote."""
    row = _price(price_id)
    key = field.strip().lower()
    if key not in _PRICE_FIELDS:
        raise UnknownNameError(f"field '{field.strip()}' is unknown: use one of "
                               f"{', '.join(_PRICE_FIELDS)}", arg="field", value=field)
    value = getattr(row, key)
    return "" if value is None else value


@udf("Money and energy", "=GPU_PRICE_LIST(\"rtx-4090\") -> a column of price ids",
     broadcast=False,
     gpu=Arg("GPU id to filter on, e.g. \"h100-sxm\"; blank (default) lists every price.",
             "text"))
def GPU_PRICE_LIST(gpu=None):
    """Column of the example price ids (catalog rows with a date and source), optionally for one GPU."""
    rows = catalog.gpu_prices()
    if gpu is not None:
        gid = core.gpu(gpu).id
        rows = [p for p in rows if p.gpu_id == gid]
        if not rows:
            raise UnknownNameError(f"no example price for {gid} in the price table",
                                   arg="gpu", value=gpu)
    return [[p.id] for p in rows]


# ----------------------------------------------------------------------------- Energy

@udf("Money and energy", "=TRAIN_ENERGY_MWH(184320,400) -> 73.728 (Llama 2 7B)",
     gpu_hours=Arg("GPU-hours, e.g. 184320 (Llama 2 7B) or GPU_HOURS(...)."),
     tdp_w=Arg("Power per GPU in watts, e.g. 400 for A100 SXM."),
     pue=Arg("Power usage effectiveness: 1 (default) counts the GPUs alone, as Llama 2 did."))
def TRAIN_ENERGY_MWH(gpu_hours, tdp_w, pue=1):
    """Training energy in MWh: gpu_hours·tdp_w·pue/1E6."""
    return core.train_energy_mwh(gpu_hours, tdp_w, pue)


@udf("Money and energy", "=TRAIN_CO2_T(73.728,0.4234) -> 31.22 (Llama 2 7B)",
     mwh=Arg("Energy in MWh, e.g. 73.728 or TRAIN_ENERGY_MWH(...)."),
     kg_co2_per_kwh=Arg("Carbon intensity in kg CO2eq per kWh, e.g. 0.4234 (implied by Llama "
                        "2's figures); grids range from ~0.02 to ~0.9."))
def TRAIN_CO2_T(mwh, kg_co2_per_kwh):
    """Emissions in tonnes CO2eq: mwh·kg_co2_per_kwh (1 MWh at 1 kg/kWh is 1 t)."""
    return core.train_co2_t(mwh, kg_co2_per_kwh)


# --------------------------------------------------------------------- Calendar effects

@udf("Compute and time", "=GOODPUT(16384) -> 0.9; =GOODPUT(1024) -> 0.994",
     N=ARG_N,
     interruptions_per_gpu_day=Arg("Job interruptions per GPU per day. Blank (default): "
                                   "0.000527, Llama 3's 466 in 54 days on 16,384 GPUs."),
     hours_lost_per_interruption=Arg("Wall-clock hours lost per interruption. Blank "
                                     "(default): 0.278, which gives Llama 3's 90%."))
def GOODPUT(N, interruptions_per_gpu_day=None, hours_lost_per_interruption=None):
    """Goodput as a fraction of wall-clock time: 1 − rate·N·hours_lost/24, Llama 3's failure rate by default."""
    return core.goodput(N, interruptions_per_gpu_day, hours_lost_per_interruption)


@udf("Compute and time", "=TRAIN_DAYS_RANGE(175E9,300E9,1024,312,0.35,0.55) -> 30.7, 37.6, 48.3",
     broadcast=False, P=ARG_P, T=ARG_T, N=ARG_N, TFLOPS=ARG_TFLOPS,
     mfu_low=Arg("Pessimistic MFU as a fraction, e.g. 0.35."),
     mfu_high=Arg("Optimistic MFU as a fraction, e.g. 0.55."),
     goodput=ARG_GOODPUT, flops_per_param_token=ARG_K)
def TRAIN_DAYS_RANGE(P, T, N, TFLOPS, mfu_low, mfu_high, goodput=0.9, flops_per_param_token=8):
    """Row of low, base and high training days: TRAIN_DAYS at mfu_high, mid MFU and mfu_low, divided by goodput."""
    return core.train_days_range(P, T, N, TFLOPS, mfu_low, mfu_high, goodput,
                                 flops_per_param_token)
