"""The budget planner's "Inference & fine-tuning" sheet: serving fleet and fine-tuning memory.

Native formulas over the planner's names (``Params``, ``Model``, ``GPU``, ``PeakTFLOPS``,
``GPUMemoryGB``, ``RentUSDPerGPUHour``: the blended rent of Results) that repeat, cell by
cell, what the core computes:

* serving on the roofline (:mod:`formulas.serving`): KV-cache bytes per token from the
  model catalog, the largest batch that fits, prefill and decode times, tokens per second of
  one replica, GPUs for a request rate, dollars per million tokens;
* fine-tuning memory (:mod:`formulas.finetune`): full, LoRA and QLoRA side by side.

Constants come from ``formulas/data/program_assumptions.csv`` when the workbook is built.
Use it as an ``extra_sheets`` builder of :func:`templates.build_budget_planner`::

    wb = build_budget_planner(extra_sheets=[inference_sheet])
"""

from __future__ import annotations

from typing import Mapping

from openpyxl.workbook import Workbook

from llm_budget_planner.formulas.assumptions import assumption
from llm_budget_planner.formulas.plan.assumptions import plan_assumption

from .catalog_sheets import CUSTOM_MODEL
from .sheets import Form, Rule, finish_sheet, sheet_heading

__all__ = ["inference_sheet", "SHEET"]

SHEET = "Inference & fine-tuning"
_M = "MATCH(Model,Model_Ids,0)"


def _kv_formula() -> str:
    """The model's KV values per token (Models sheet: its attention design) x bytes;
    custom: multi-head attention, 2 L hidden values."""
    return (f"=IF(Model=\"{CUSTOM_MODEL}\",2*CustomLayers*CustomHidden*ServeKVBytesPerValue,"
            f"INDEX(Model_KVValues,{_M})*ServeKVBytesPerValue)")


def inference_sheet(wb: Workbook, names: Mapping[str, str]) -> None:
    """Add the "Inference & fine-tuning" sheet (a :data:`templates.budget.SheetBuilder`)."""
    ws = wb.create_sheet(SHEET)
    sheet_heading(ws, "Inference & fine-tuning: serving fleet, cost per token, fine-tuning memory",
                  "Uses the model, GPU, memory and cloud price of the Inputs sheet. Serving here is"
                  " the roofline at one achieved share of peak: prefill is compute-bound, each "
                  "decode step reads every weight once for the batch plus each request's KV cache "
                  "(Pope et al. 2022). For fleet sizing with latency targets and tensor-parallel "
                  "communication use the Serving sheet (SERVE_PLAN).",
                  "E",
                  height=45)
    f = Form(wb, ws, row=4)
    f.header()
    util = assumption("serve_memory_utilization")

    f.section("Serving: requests and precision")
    f.input("ServeBytesPerParam", "Bytes per weight", 2, "bytes per parameter", "decimal",
            Rule("decimal", "Bytes per weight when serving: 2 for bf16, 1 for int8/fp8, 0.5 for "
                 "int4.", "Enter bytes between 0.1 and 16.", 0.1, 16),
            "Storage size of a weight (seed article 004): bf16 2, int8 1, int4 0.5.")
    f.input("ServeKVBytesPerValue", "Bytes per KV-cache value", 2, "bytes", "decimal",
            Rule("decimal", "Bytes per cached key/value: 2 for bf16, 1 for fp8.",
                 "Enter bytes between 0.1 and 16.", 0.1, 16), "2 for a 16-bit KV cache.")
    f.input("ServeKVBytesPerToken", "KV cache per token of context", None, "bytes per token",
            "count", Rule("decimal", "KV-cache bytes per token, all layers: 2 x layers x KV "
                          "heads x head size x bytes (Llama-2-7B in bf16: 524288).",
                          "Enter bytes per token between 0 and 1E8.", 0, 1e8),
            "KV values cached per token (Models sheet, by attention design: 2 x layers x KV "
            "heads x head size for GQA, Pope et al. 2022; the latent for MLA) x bytes; 'custom' "
            "assumes multi-head attention.", default_formula=_kv_formula())
    f.input("ServePromptTokens", "Prompt tokens per request", 512, "tokens", "count",
            Rule("whole", "Tokens in each prompt, e.g. 512.", "Enter a whole number between 0 "
                 "and 10,000,000.", 0, 10000000), "Example request shape; type yours.")
    f.input("ServeOutputTokens", "Generated tokens per request", 512, "tokens", "count",
            Rule("whole", "Tokens generated per request, e.g. 512.", "Enter a whole number "
                 "between 1 and 10,000,000.", 1, 10000000), "Example request shape; type yours.")
    f.input("ServeRequestsPerS", "Requests per second to serve", 10, "requests/s", "decimal",
            Rule("decimal", "Sustained requests per second at peak, e.g. 10.",
                 "Enter a rate between 0.0001 and 1E9.", 0.0001, 1e9), "Your peak demand.")
    f.input("ServeTP", "GPUs per replica (tensor parallel)", None, "GPUs", "count",
            Rule("whole", "GPUs holding one copy of the model, e.g. 1, 2, 4 or 8.",
                 "Enter a whole number between 1 and 64.", 1, 64),
            "Default rule (an assumption, type yours): the smallest power of two whose usable "
            "memory is at least twice the weights, leaving half for the KV cache. Compute, "
            "bandwidth and memory add up; communication is ignored.",
            default_formula="=2^MAX(0,ROUNDUP(LOG(Params*ServeBytesPerParam*2/(GPUMemoryGB*1E9*"
                            "ServeMemUtil),2)-1E-9,0))")
    f.input("ServeEfficiency", "Achieved share of peak", plan_assumption("serve_decode_bw_fraction"),
            "fraction", "pct",
            Rule("decimal", "Fraction of peak compute and bandwidth the server reaches: 1 is "
                 "the roofline bound.", "Enter a fraction between 0.01 and 1.", 0.01, 1),
            "The share of memory bandwidth decode reaches, calibrated on measured runs "
            "(serve_decode_bw_fraction in plan_assumptions.csv); 1 = the roofline upper bound.")
    f.input("ServeMemUtil", "Usable share of GPU memory", util, "fraction", "pct",
            Rule("decimal", "Share of GPU memory for weights and KV cache, e.g. 0.9.",
                 "Enter a fraction between 0.01 and 1.", 0.01, 1),
            "vLLM's default gpu_memory_utilization (0.9).")
    f.input("ServeMemBWGBps", "Memory bandwidth per GPU", None, "GB/s", "count",
            Rule("decimal", "Memory bandwidth per GPU in GB/s, e.g. 3350 for H100 SXM.",
                 "Enter GB/s between 1 and 1,000,000.", 1, 1000000),
            "Catalog memory bandwidth of the GPU.",
            default_formula="=INDEX(GPU_MemBW,MATCH(GPU,GPU_Ids,0))")
    f.input("ServeBatch", "Batch per replica", None, "requests", "count",
            Rule("whole", "Requests decoded together per replica; at most the memory limit "
                 "below. Lower it to cap latency.", "Enter a whole number between 1 and "
                 "10,000,000.", 1, 10000000),
            "The largest batch that fits (below) unless you type a smaller one.",
            default_formula="=MAX(1,ServeMaxBatch)")

    f.section("Serving: results")
    f.result("ServeWeightsGB", "Weights per replica", "=Params*ServeBytesPerParam/1E9", "GB",
             "gb", "Parameters x bytes per weight.")
    f.result("ServeMaxBatch", "Largest batch that fits", "=MAX(0,ROUNDDOWN((ServeTP*GPUMemoryGB*"
             "1E9*ServeMemUtil-Params*ServeBytesPerParam)/((ServePromptTokens+ServeOutputTokens)*"
             "MAX(1,ServeKVBytesPerToken))*(1+1E-12)+1E-9,0))", "requests", "count",
             "(usable memory - weights) / (tokens per request x KV bytes per token), rounded down "
             "(SERVE_MAX_BATCH).")
    f.result("ServeFLOPS", "Peak compute of a replica", "=ServeTP*PeakTFLOPS*1E12*ServeEfficiency",
             "FLOP/s", "flops", "GPUs x peak TFLOPS x achieved share.")
    f.result("ServePrefillSeconds", "Prefill of one batch (time to first token)",
             "=2*Params*ServePromptTokens*ServeBatch/ServeFLOPS", "seconds", "decimal",
             "2 x parameters FLOPs per prompt token (Kaplan et al. 2020), compute-bound.")
    f.result("ServeStepSeconds", "One decode step", "=MAX((Params*ServeBytesPerParam+ServeBatch*"
             "(ServePromptTokens+(ServeOutputTokens-1)/2)*ServeKVBytesPerToken)/(ServeTP*"
             "ServeMemBWGBps*1E9*ServeEfficiency),2*Params*ServeBatch/ServeFLOPS)", "seconds",
             "flops", "max(weights + KV cache at the average context) / bandwidth, 2 x parameters "
             "x batch / compute): the roofline.")
    f.result("ServeTokensPerS", "Generated tokens per second per replica",
             "=ServeBatch*ServeOutputTokens/(ServePrefillSeconds+ServeOutputTokens*"
             "ServeStepSeconds)", "tokens/s", "count", "SERVE_TOKENS_PER_S.", key=True)
    f.result("ServeGPUs", "GPUs to serve the request rate", "=ServeTP*ROUNDUP((ServeRequestsPerS*"
             "ServeOutputTokens/ServeTokensPerS)*(1-1E-12)-1E-9,0)", "GPUs", "count",
             "Whole replicas x GPUs per replica (SERVE_GPUS).", key=True)
    f.result("ServeCostPerMTokens", "Cost per million generated tokens",
             "=RentUSDPerGPUHour*ServeTP/(ServeTokensPerS*3600)*1E6", "$ per 1M tokens",
             "usd_cents", "Blended rent x GPUs per replica / tokens per hour (COST_PER_M_TOKENS).",
             key=True)
    f.result("ServeMonthlyCostUSD", "Serving cost per month (cloud)",
             "=ServeGPUs*730*RentUSDPerGPUHour", "$ per month", "usd",
             "GPUs x 730 hours x blended rent.")
    f.result("ServeFitCheck", "Does one request fit?", "=IF(ServeMaxBatch>=1,IF(ServeBatch<="
             "ServeMaxBatch,\"OK\",\"Batch above the memory limit: lower it\"),\"The weights and "
             "one request do not fit: raise GPUs per replica or lower the bytes\")", "", "text",
             "")

    f.section("Fine-tuning memory (full 16-bit, LoRA, QLoRA)")
    f.input("FTLayers", "Layers", None, "layers", "count",
            Rule("whole", "Transformer layers, e.g. 32.", "Enter a whole number between 1 and "
                 "1000.", 1, 1000), "Model catalog (or the custom layers).",
            default_formula=f"=IF(Model=\"{CUSTOM_MODEL}\",CustomLayers,INDEX(Model_Layers,{_M}))")
    f.input("FTHidden", "Hidden size", None, "width", "count",
            Rule("whole", "Hidden size, e.g. 4096.", "Enter a whole number between 64 and "
                 "1,000,000.", 64, 1000000), "Model catalog (or the custom hidden size).",
            default_formula=f"=IF(Model=\"{CUSTOM_MODEL}\",CustomHidden,INDEX(Model_Hidden,{_M}))")
    f.input("FTRank", "LoRA rank r", 16, "rank", "count",
            Rule("whole", "LoRA rank, e.g. 16 (QLoRA's Guanaco used 64).", "Enter a whole "
                 "number between 1 and 4096.", 1, 4096), "FINETUNE_MEM_GB default 16.")
    f.input("FTAdaptedPerLayer", "Adapted matrices per layer (h x h equivalents)", 2, "matrices",
            "decimal", Rule("decimal", "2 for W_q and W_v (LoRA paper); an h x ffn matrix counts "
                            "(h+ffn)/(2h).", "Enter a number between 0.1 and 100.", 0.1, 100),
            "Hu et al. 2021: W_q and W_v.")
    f.input("FTSeq", "Tokens per training sequence", 2048, "tokens", "count",
            Rule("whole", "Sequence length of the fine-tuning data, e.g. 2048.", "Enter a whole "
                 "number between 1 and 10,000,000.", 1, 10000000), "Example; type yours.")
    f.input("FTBatch", "Sequences per micro-batch", 1, "sequences", "count",
            Rule("whole", "Sequences per GPU micro-batch, e.g. 1.", "Enter a whole number "
                 "between 1 and 100,000.", 1, 100000), "1 with gradient accumulation.")
    full = assumption("full_finetune_bytes_per_param")
    base = assumption("lora_base_bytes_per_param")
    adapter = assumption("adapter_bytes_per_param")
    nf4 = (assumption("nf4_bits") + assumption("double_quant_bits")) / 8
    f.result("FTAdapterParams", "Adapter parameters (LoRA / QLoRA)",
             "=2*FTAdaptedPerLayer*FTLayers*FTHidden*FTRank", "raw count", "count",
             "2 x matrices x layers x h x r (Hu et al. 2021).")
    f.result("FTActivationsGB", "Activations (gradient checkpointing)",
             "=2*FTSeq*FTBatch*FTHidden*FTLayers/1E9", "GB", "gb",
             "One 16-bit layer input per layer (Korthikanti et al. 2022, Table 2).")
    f.result("FTMemFullGB", "Full fine-tuning, 16-bit with Adam",
             f"={full:g}*Params/1E9+FTActivationsGB", "GB", "gb",
             f"{full:g} bytes per parameter (ZeRO: 2 + 2 + 12) + activations.", key=True)
    f.result("FTMemLoRAGB", "LoRA (16-bit frozen base)",
             f"=({base:g}*Params+{adapter:g}*FTAdapterParams)/1E9+FTActivationsGB", "GB", "gb",
             f"{base:g} bytes per base weight + {adapter:g} per adapter parameter (BF16 weight "
             "and gradient, two FP32 Adam moments) + activations.", key=True)
    f.result("FTMemQLoRAGB", "QLoRA (4-bit NF4 base, double quantisation)",
             f"=({nf4:.6g}*Params+{adapter:g}*FTAdapterParams)/1E9+FTActivationsGB", "GB",
             "gb", "(4 + 0.127) / 8 bytes per base weight (Dettmers et al. 2023) + adapters + "
             "activations.", key=True)
    f.result("FTQLoRAGPUs", "GPUs to hold QLoRA fine-tuning", "=ROUNDUP(FTMemQLoRAGB/GPUMemoryGB"
             "*(1-1E-12)-1E-9,0)", "GPUs", "count", "QLoRA memory / memory per GPU.")
    f.result("FTCheckpointGB", "Adapter checkpoint (bf16)", "=FTAdapterParams*2/1E9", "GB", "gb",
             "What LoRA saves: the adapters only (GPT-3 r=4: 35 MB instead of 350 GB).")
    finish_sheet(ws, {"A": 44, "B": 18, "C": 18, "D": 18, "E": 80}, freeze="A5")
