"""Core formulas of the GPU budget planner: pure Python + numpy, no Excel, no I/O.

Every function takes scalars or arrays (numpy broadcasting, scalar in -> float out),
validates its inputs and raises one :class:`formulas.errors.FormulasError` subclass
naming the argument and the fix. Units: raw counts, GB = 1e9 bytes, TFLOPS per GPU,
GB/s, and the time unit in the function's name.
"""

from .arch import Arch, custom_model, is_model, params_of, resolve_model
from .catalog import (
    GPU_FIELDS,
    MODEL_FIELDS,
    GpuSpec,
    ModelSpec,
    gpu,
    gpu_catalog,
    gpu_field,
    gpu_ids,
    model,
    model_catalog,
    model_field,
    model_ids,
)
from .comm import bandwidth_factor, comm_seconds, dp_comm_gb, pp_bubble, tp_comm_gb
from .compute import iter_flops, mfu, train_flops, train_iters
from .errors import (
    CatalogError,
    FormulasError,
    ImplausibleUnitError,
    InfeasibleError,
    InvalidInputError,
    UnknownNameError,
)
from .inference import decode_tokens_per_s
from .memory import (
    act_mem_gb,
    gpu_count_mem,
    infer_mem_gb,
    kv_cache_gb,
    model_state_gb,
    train_mem_gb,
    weights_gb,
    zero_mem_gb,
)
from .params import llm_active_params, llm_params, llm_params_approx, llm_params_arch, lora_params
from .scaling import chinchilla_tokens
from .training import gpu_count_time, gpu_hours, train_days
from .units import bytes_per_param

__all__ = [
    "Arch", "custom_model", "is_model", "params_of", "resolve_model",
    "GPU_FIELDS", "MODEL_FIELDS", "GpuSpec", "ModelSpec", "gpu", "gpu_catalog", "gpu_field",
    "gpu_ids", "model", "model_catalog", "model_field", "model_ids",
    "bandwidth_factor", "comm_seconds", "dp_comm_gb", "pp_bubble", "tp_comm_gb",
    "iter_flops", "mfu", "train_flops", "train_iters",
    "CatalogError", "FormulasError", "ImplausibleUnitError", "InfeasibleError",
    "InvalidInputError", "UnknownNameError",
    "decode_tokens_per_s",
    "act_mem_gb", "gpu_count_mem", "infer_mem_gb", "kv_cache_gb", "model_state_gb",
    "train_mem_gb", "weights_gb", "zero_mem_gb",
    "llm_active_params", "llm_params", "llm_params_approx", "llm_params_arch", "lora_params",
    "chinchilla_tokens",
    "gpu_count_time", "gpu_hours", "train_days",
    "bytes_per_param",
]

# Serving, fine-tuning, money, energy, goodput and decoding parameters.
from .energy import train_co2_t, train_energy_mwh  # noqa: E402
from .finetune import finetune_checkpoint_gb, finetune_mem_gb, finetune_params  # noqa: E402
from .downtime import goodput, train_days_range  # noqa: E402
from .money import (  # noqa: E402
    buy_vs_rent_breakeven_months,
    cloud_cost_usd,
    tco_per_gpu_hour,
    train_cost_usd,
)
from .sampling import sample_probs  # noqa: E402
from .serving import (  # noqa: E402
    cost_per_m_tokens,
    kv_bytes_per_token,
    prefill_seconds,
    serve_gpus,
    serve_max_batch,
    serve_tokens_per_s,
)

__all__ += [
    "train_co2_t", "train_energy_mwh",
    "finetune_checkpoint_gb", "finetune_mem_gb", "finetune_params",
    "goodput", "train_days_range",
    "buy_vs_rent_breakeven_months", "cloud_cost_usd", "tco_per_gpu_hour", "train_cost_usd",
    "sample_probs",
    "cost_per_m_tokens", "kv_bytes_per_token", "prefill_seconds", "serve_gpus",
    "serve_max_batch", "serve_tokens_per_s",
]

from .plan import (  # noqa: E402
    PLAN_COLUMNS,
    plan_assumptions,
    plan_for_deadline,
    plan_mem_breakdown,
    plan_mem_gb,
    plan_mfu,
    plan_step_seconds,
    plan_training,
)

__all__ += [
    "PLAN_COLUMNS", "plan_assumptions", "plan_for_deadline", "plan_mem_breakdown", "plan_mem_gb",
    "plan_mfu", "plan_step_seconds", "plan_training",
]

from .api_prices import api_price, api_price_list  # noqa: E402
from .serving_fleet import (  # noqa: E402
    PLAN_SERVE_COLUMNS,
    self_host_breakeven_tokens_per_day,
    serve_plan,
    serve_tpot_seconds,
    serve_ttft_seconds,
)

__all__ += [
    "api_price", "api_price_list",
    "PLAN_SERVE_COLUMNS", "self_host_breakeven_tokens_per_day", "serve_plan",
    "serve_tpot_seconds", "serve_ttft_seconds",
]

from .context import max_context_tokens  # noqa: E402

__all__ += ["max_context_tokens"]
