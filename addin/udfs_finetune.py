"""Excel functions for fine-tuning: memory of full, LoRA and QLoRA; trainable parameters.

Thin wrappers over :mod:`formulas.finetune`, re-exported by :mod:`addin.udfs`.
"""

from __future__ import annotations

from llm_budget_planner import formulas as core

from ._excel import Arg, udf

__all__ = ["FINETUNE_MEM_GB", "FINETUNE_PARAMS", "FINETUNE_CHECKPOINT_GB"]

ARGS = dict(
    P=Arg("Parameters of the base model, raw count: 65.2E9 for LLaMA-65B; or a model id such "
          "as \"llama-3.1-70b\" (then L and h may be blank).", "model"),
    method=Arg("\"full\" (16-bit mixed precision with Adam), \"lora\" (16-bit frozen base + "
               "adapters) or \"qlora\" (4-bit NF4 base + adapters).", "text"),
    rank=Arg("LoRA rank r: 16 (default). QLoRA's Guanaco used 64."),
    L=Arg("Layers, e.g. 80; needed for lora/qlora adapters and for activations (blank with a "
          "model id)."),
    h=Arg("Hidden size (model dimension), e.g. 8192; needed for lora/qlora adapters and for "
          "activations (blank with a model id)."),
    n_adapted_per_layer=Arg("Adapted h x h matrices per layer: 2 (default, W_q and W_v). An "
                            "h x ffn MLP matrix counts (h+ffn)/(2h); all 7 Llama linears of "
                            "LLaMA-65B: 9.53."),
)


@udf("Fine-tuning",
     "=FINETUNE_MEM_GB(65.2E9,\"qlora\",64,80,8192,9.53125,2048) -> 45.9 (QLoRA: under 48 GB)",
     seq=Arg("Tokens per training sequence, e.g. 2048. Blank (default): activations left out."),
     batch=Arg("Sequences per micro-batch: 1 (default)."), **ARGS)
def FINETUNE_MEM_GB(P, method, rank=16, L=None, h=None, n_adapted_per_layer=2, seq=None,
                    batch=1):
    """GPU memory in GB to fine-tune: full 16·P; lora 2·P+12·A; qlora 0.516·P+12·A (A adapters), plus 2·seq·batch·h·L activations."""
    return core.finetune_mem_gb(P, method, rank, L, h, n_adapted_per_layer, seq, batch)


@udf("Fine-tuning", "=FINETUNE_PARAMS(175E9,\"lora\",4,96,12288,2) -> 18,874,368 (GPT-3, LoRA)",
     **ARGS)
def FINETUNE_PARAMS(P, method, rank=16, L=None, h=None, n_adapted_per_layer=2):
    """Trainable parameters (raw count): P for full fine-tuning, 2·n·L·h·r adapters for lora and qlora."""
    return core.finetune_params(P, method, rank, L, h, n_adapted_per_layer)


@udf("Fine-tuning",
     "=FINETUNE_CHECKPOINT_GB(175E9,\"lora\",4,96,12288,2) -> 0.0377 (LoRA paper: ~35 MB)",
     bytes=Arg("Bytes per saved value: 2 (default) for fp16/bf16.", "bytes"), **ARGS)
def FINETUNE_CHECKPOINT_GB(P, method, rank=16, L=None, h=None, n_adapted_per_layer=2,
                           bytes=2):
    """Saved checkpoint in GB: trainable parameters·bytes/1E9 (the whole model for full, the adapters for lora/qlora)."""
    return core.finetune_checkpoint_gb(P, method, rank, L, h, n_adapted_per_layer, bytes)
