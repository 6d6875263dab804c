"""Sourced assumptions of the training-plan models and the hardware figures they use.

Every constant that is not a published formula (achievable fraction of peak, link
efficiencies, overlaps, buffers and fragmentation) is a row of
``formulas/data/plan_assumptions.csv`` with its source; :func:`plan_assumptions` returns
that table and :func:`plan_assumption` one value (a GPU's own row, else the default row).
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources

from ..catalog import gpu as _gpu
from ..errors import CatalogError

__all__ = ["plan_assumptions", "plan_assumption", "plan_hardware", "PlanHardware"]

@functools.cache
def _assumption_rows() -> tuple[dict, ...]:
    text = resources.files(__package__.rpartition(".")[0]).joinpath(  # the formulas package
        "data", "plan_assumptions.csv").read_text(
        encoding="utf-8")
    rows = []
    for line, raw in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            value = float(raw["value"])
        except (TypeError, ValueError):
            raise CatalogError(f"plan_assumptions.csv line {line}: value is not a number") from None
        if not raw.get("source", "").strip():
            raise CatalogError(f"plan_assumptions.csv line {line}: no source")
        rows.append({**raw, "value": value, "gpu": raw["gpu"].strip()})
    return tuple(rows)


def plan_assumptions():
    """The assumptions of the plan model as a pandas DataFrame, one sourced row each.

    Columns: key, gpu (blank = every other GPU), value, unit, source, retrieved, notes.

    >>> t = plan_assumptions()
    >>> float(t[(t.key == "mamf_fraction") & (t.gpu == "a100-sxm-80gb")].value.iloc[0])
    0.859
    """
    import pandas as pd

    return pd.DataFrame(list(_assumption_rows()))


def plan_assumption(key: str, gpu_id: str = "") -> float:
    """One assumption: the row for ``gpu_id`` if there is one, else the default row.

    >>> plan_assumption("scale_out_gbps", "h100-sxm"), plan_assumption("scale_out_gbps", "l40s")
    (50.0, 25.0)
    """
    default = None
    for row in _assumption_rows():
        if row["key"] == key:
            if row["gpu"] == gpu_id and gpu_id:
                return row["value"]
            if not row["gpu"]:
                default = row["value"]
    if default is None:
        raise CatalogError(f"plan_assumptions.csv has no default row for '{key}'")
    return default


@dataclass(frozen=True)
class PlanHardware:
    """What the plan model needs to know about one GPU (catalog + assumptions)."""

    gpu_id: str
    peak_tflops: float  #: dense BF16 peak
    memory_gb: float
    mem_bw_gbps: float  #: HBM bandwidth, GB/s
    eta: float  #: achievable fraction of peak for a transformer layer's matmuls
    scale_up_gbps: float  #: effective one-direction scale-up bandwidth, GB/s
    scale_out_gbps: float  #: effective scale-out bandwidth per GPU, GB/s
    gpus_per_node: int


@functools.cache
def plan_hardware(gpu: str) -> PlanHardware:
    """Catalog figures and assumptions of one GPU id.

    The catalog's ``interconnect_gbps`` is the vendor's bidirectional figure: one
    direction is half of it.

    >>> hw = plan_hardware("a100-sxm-80gb")
    >>> hw.peak_tflops, hw.scale_up_gbps, hw.scale_out_gbps, hw.gpus_per_node
    (312.0, 195.0, 22.5, 8)
    """
    g = _gpu(gpu)
    a = functools.partial(plan_assumption, gpu_id=g.id)
    return PlanHardware(
        gpu_id=g.id,
        peak_tflops=g.tflops_bf16,
        memory_gb=g.memory_gb,
        mem_bw_gbps=g.mem_bw_gbps,
        eta=a("mamf_fraction") * a("layer_fraction_of_mamf"),
        scale_up_gbps=g.interconnect_gbps / 2 * a("scale_up_efficiency"),
        scale_out_gbps=a("scale_out_gbps") * a("scale_out_efficiency"),
        gpus_per_node=int(a("gpus_per_node")),
    )

