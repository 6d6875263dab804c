"""Training plans: per-GPU memory, seconds per step, MFU and the layout search.

The package is split so each part reads on its own:

* :mod:`~formulas.plan.assumptions` -- the sourced constants (``plan_assumptions.csv``)
  and the hardware figures of a GPU;
* :mod:`~formulas.plan.classic_model` and :mod:`~formulas.plan.classic_search` -- the
  3D-parallel model of the 2021-22 Megatron-LM runs behind the ``PLAN_*`` functions
  (dense models, ``pp`` dividing the layers, BF16);
* :mod:`~formulas.plan.layout`, :mod:`~formulas.plan.shape`, :mod:`~formulas.plan.step`,
  :mod:`~formulas.plan.train` and :mod:`~formulas.plan.search` -- the model of 2024-26
  runs behind the ``TRAIN_*`` functions: layout text, the per-layer shape of a model
  (MoE, MLA, sliding windows), the vectorised step and memory model (uneven pipeline
  stages, FP8/FP4, context and expert parallelism, Megatron-Core overlaps), one layout
  with its knobs chosen, and the searches.
"""

from __future__ import annotations

from .assumptions import PlanHardware, plan_assumption, plan_assumptions, plan_hardware
from .classic_model import (  # noqa: F401  (private names used by the tests)
    MEM_PARTS, _act_layer_bytes, _constants, plan_mem_breakdown, plan_mem_gb, plan_mfu,
    plan_step_seconds)
from .classic_search import (  # noqa: F401
    PLAN_COLUMNS, _grid, _search_arrays, plan_for_deadline, plan_training)
from .layout import Layout, format_layout, parse_layout
from .search import DEADLINE_COLUMNS, TRAIN_PLAN_COLUMNS, train_plan, train_plan_deadline
from .train import (BREAKDOWN_ROWS, train_mem_gb_per_gpu, train_step, train_step_breakdown,
                    train_step_seconds)

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
    "Layout",
    "parse_layout",
    "format_layout",
    "train_step",
    "train_step_seconds",
    "train_mem_gb_per_gpu",
    "train_step_breakdown",
    "train_plan",
    "train_plan_deadline",
    "TRAIN_PLAN_COLUMNS",
    "DEADLINE_COLUMNS",
    "BREAKDOWN_ROWS",
]
