"""Argument descriptions shared by several Excel functions (Function Wizard text).

Each states the unit and an example value, within Excel's 255 characters.
"""

from __future__ import annotations

from ._excel import Arg

ARG_P = Arg("Parameters, raw count (7E9 for a 7B model), or a model id such as \"deepseek-v3\" "
            "or a two-column range of MODEL_SPEC fields and values.", "model")
ARG_T = Arg("Training tokens, raw count: 300E9 for 300B tokens.")
ARG_N = Arg("Number of GPUs, e.g. 1024.")
ARG_TFLOPS = Arg("Peak dense TFLOPS per GPU (A100 BF16: 312, H100 SXM: 989.4), or a GPU id "
             "such as \"h100-sxm\".", "tflops")
ARG_MFU = Arg("Model FLOPs utilisation as a fraction: 0.45 for 45%. Typical 0.3-0.55.")
ARG_K_TRAIN = Arg("FLOPs per parameter per token: 8 with activation recomputation (default, the "
              "articles' convention), 6 without.")
ARG_ROUND_UP = Arg("TRUE (default) rounds up to whole GPUs; FALSE returns the exact quotient.",
               "flag")
ARG_L = Arg("Transformer layers, e.g. 96 for GPT-3.")
ARG_H = Arg("Hidden size (model dimension), e.g. 12288 for GPT-3.")
ARG_V = Arg("Vocabulary size in tokens, e.g. 51200 for GPT-3, 128256 for Llama-3.")
ARG_BYTES = Arg("Bytes per value: 2 for bf16/fp16, 1 for fp8/int8, 0.5 for int4; or a "
            "precision name such as \"bf16\".", "bytes")
ARG_BYTES_PER_PARAM_INF = Arg("Bytes per parameter: 2 for bf16 (default), 4 fp32, 1 int8, "
                          "0.5 int4; or a precision name such as \"int8\".", "bytes")
_ARCH_BLANK = " Leave blank when L is a model id."
ARG_ARCH = dict(
    L=Arg("Transformer layers (e.g. 32), or a model id such as \"qwen3-235b-a22b\" for that "
          "model's exact catalog count (the other arguments may then be blank).", "model"),
    h=Arg("Hidden size (model dimension), 4096 for Llama-2-7B." + _ARCH_BLANK, arch=True),
    V=Arg("Vocabulary size in tokens, 128256 for Llama-3." + _ARCH_BLANK, arch=True),
    ffn=Arg("FFN intermediate dimension (per expert for MoE), 11008 for Llama-2-7B.",
            arch=True),
    heads=Arg("Attention (query) heads, 32 for Llama-2-7B.", arch=True),
    kv_heads=Arg("Key/value heads: equal to heads for multi-head, fewer for grouped-query "
                 "attention (Llama-3-8B: 8).", arch=True),
    experts=Arg("Routed experts per MoE layer; 1 (default) for a dense model. Mixtral: 8."),
    experts_per_token=Arg("Experts routed per token; 1 (default) for dense. Mixtral: 2."),
    gated_ffn=Arg("TRUE (default) for SwiGLU/GeGLU with three FFN matrices; FALSE for a "
                  "two-matrix MLP.", "flag"),
    tied_embeddings=Arg("TRUE if the output head shares the input embedding; FALSE "
                        "(default) for separate matrices.", "flag"),
    qkv_bias=Arg("TRUE for biases on the Q, K, V projections (Qwen2); FALSE (default).",
                 "flag"),
    head_dim=Arg("Dimension per head; 0 (default) means h/heads. Qwen3-32B: 128."),
    shared_experts=Arg("Always-active shared experts per MoE layer, each of size ffn; 0 "
                       "(default). DeepSeek-V3: 1."),
    dense_layers=Arg("Layers of a MoE model with a dense FFN instead of experts; 0 (default). "
                     "DeepSeek-V3: 3."),
    dense_ffn=Arg("FFN size of those dense layers; 0 (default) means ffn. DeepSeek-V3: 18432."),
)
