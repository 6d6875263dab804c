"""Training plans: per-GPU memory, seconds per step, MFU and the layout search.

The package is split so each part reads on its own:

* :mod:`~formulas.plan.assumptions` -- the sourced constants (``plan_assumptions.csv``)
  and the hardware figures of a GPU;
* :mod:`~formulas.plan.classic_model` and :mod:`~formulas.plan.classic_search` -- the
  3D-parallel model of the 2021-22 Megatron-LM runs behind the ``PLAN_*`` functions
  (dense models, ``pp`` dividing the layers, BF16);
"""

from __future__ import annotations

from .assumptions import PlanHardware, plan_assumption, plan_assumptions, plan_hardware
from .classic_model import (  # noqa: F401  (private names used by the tests)
    MEM_PARTS, _act_layer_bytes, _constants, plan_mem_breakdown, plan_mem_gb, plan_mfu,
    plan_step_seconds)
from .classic_search import (  # noqa: F401
    PLAN_COLUMNS, _grid, _search_arrays, plan_for_deadline, plan_training)

__all__ = [
    "plan_assumptions",
    "plan_assumption",
    "plan_hardware",
    "PlanHardware",
    "plan_mem_gb",
    "plan_mem_breakdown",
    "plan_step_seconds",
    "plan_mfu",
    "plan_training",
    "plan_for_deadline",
    "PLAN_COLUMNS",
    "MEM_PARTS",
]
