"""GPT-3 175B estimates from this project and from llm-analysis (PyPI), side by side.

    python benchmarks/bench_llm_analysis.py [--peer-python /work/peer-venv/bin/python] [--json]

The peer runs in its own virtual environment (never a dependency of this project):

    python3 -m venv /work/peer-venv && /work/peer-venv/bin/pip install llm-analysis

The case is the Megatron-LM paper's GPT-3 run (Narayanan et al. 2021, Table 1): 96 layers,
hidden 12288, 96 heads, vocabulary 51200, sequence 2048, global batch 1536, 300B tokens,
1024 A100-80GB, tensor 8 x pipeline 8 x data 16, full activation recomputation, 140
achieved TFLOPS per GPU (0.449 of 312). For each estimate -- parameters, training FLOPs,
model-state memory per GPU, training days -- it prints both values, the agreement
(project / peer) and the time per estimate of each tool.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, machine, row, time_call  # noqa: E402

import llm_budget_planner.addin.udfs as x  # noqa: E402

L, H, HEADS, V, S, B, TOKENS = 96, 12288, 96, 51200, 2048, 1536, 300e9
GPUS, TP, PP, PEAK, ACHIEVED = 1024, 8, 8, 312.0, 140.0
COMMAND = "python benchmarks/bench_llm_analysis.py"

#: Runs inside the peer's venv: llm-analysis's public Python API on the case above.
PEER_PROGRAM = r"""
import json, statistics, sys, time, logging
logging.disable(logging.CRITICAL)
from llm_analysis.analysis import train
cfg = sys.argv[1]
def run():
    return train(model_name=cfg, gpu_name="a100-sxm-80gb", dtype_name="w16a16e16",
                 total_num_tokens=300e9, seq_len=2048, global_batch_size=1536,
                 activation_recomputation=2, tp_size=8, pp_size=8, total_num_gpus=1024,
                 achieved_tflops=140, log_level="ERROR")
r = run()
times = []
for _ in range(30):
    t0 = time.perf_counter(); run(); times.append(time.perf_counter() - t0)
import llm_analysis, importlib.metadata as md
iters = r["total_training_latency"] / r["latency_per_iter"]
print(json.dumps({
    "version": md.version("llm-analysis"),
    "params": r["num_params_total"],
    "train_flops": r["num_flops_total_per_micro_batch"] * r["gradient_accumulation_steps"]
                   * r["dp_size"] * iters,
    "state_gb_per_gpu": r["(weight+op_state+grad)_memory_per_gpu"] / 1e9,
    "days": r["total_training_latency"] / 86400,
    "seconds_per_call": statistics.median(times),
}))
"""


def project() -> tuple[dict, dict]:
    """The project's four estimates through its Excel functions, and seconds per estimate."""
    P = lambda: x.LLM_PARAMS(L, H, V)  # noqa: E731
    p = P()
    iters = lambda: x.TRAIN_ITERS(TOKENS, B, S)  # noqa: E731
    flops = lambda: x.ITER_FLOPS(B, S, L, H, V, True) * x.TRAIN_ITERS(TOKENS, B, S)  # noqa: E731
    # Model state per GPU: 2-byte weights, 4-byte (fp32) gradients as llm-analysis keeps them,
    # 12 bytes of Adam state, split over tensor x pipeline ranks.
    state = lambda: x.MODEL_STATE_GB(p, 2, 4, 12) / (TP * PP)  # noqa: E731
    days = lambda: x.TRAIN_DAYS(p, TOKENS, GPUS, PEAK, ACHIEVED / PEAK)  # noqa: E731
    # The same time from the Megatron per-iteration FLOPs (what llm-analysis counts).
    days_iter = lambda: flops() / (GPUS * ACHIEVED * 1e12) / 86400  # noqa: E731
    values = {"params": p, "train_flops": flops(), "state_gb_per_gpu": state(),
              "days": days(), "days_iter": days_iter(), "train_flops_8pt": x.TRAIN_FLOPS(p, TOKENS, 8),
              "iters": iters()}
    seconds = {"params": time_call(P), "train_flops": time_call(flops),
               "state_gb_per_gpu": time_call(state), "days": time_call(days)}
    return values, seconds


def peer(python: str) -> dict | None:
    if not Path(python).exists():
        return None
    with tempfile.TemporaryDirectory() as d:
        cfg = Path(d) / "gpt3-175b-v51200.json"
        cfg.write_text(json.dumps({"name": "gpt3-175b-v51200", "max_seq_len": S,
                                   "num_layers": L, "n_head": HEADS, "hidden_dim": H,
                                   "vocab_size": V, "ffn_embed_dim": 4 * H}))
        env = dict(os.environ, TRANSFORMERS_VERBOSITY="error", PYTHONWARNINGS="ignore")
        out = subprocess.run([python, "-c", PEER_PROGRAM, str(cfg)], capture_output=True,
                             text=True, env=env, timeout=600)
    if out.returncode != 0:
        print(f"llm-analysis failed:\n{out.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-python", default=os.environ.get(
        "PEER_PYTHON", "/work/peer-venv/bin/python"))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)

    ours, ours_s = project()
    theirs = peer(a.peer_python)
    print(f"machine: {machine()}")
    print(f"case: GPT-3 175B, {TOKENS:.0e} tokens, {GPUS} A100, TP{TP} PP{PP} DP{GPUS // (TP * PP)}, "
          f"full recompute, {ACHIEVED:g} achieved TFLOPS")
    rows = []
    labels = {"params": ("parameters", "raw", "LLM_PARAMS"),
              "train_flops": ("training FLOPs", "FLOPs", "ITER_FLOPS x TRAIN_ITERS"),
              "state_gb_per_gpu": ("model-state memory per GPU", "GB", "MODEL_STATE_GB(P,2,4)/64"),
              "days": ("training days", "days", "TRAIN_DAYS (8PT)")}
    if theirs is None:
        print(f"llm-analysis is NOT installed at {a.peer_python}: only the project's figures "
              "are shown. Install it with: python3 -m venv /work/peer-venv && "
              "/work/peer-venv/bin/pip install llm-analysis")
    else:
        print(f"peer: llm-analysis {theirs['version']} ({a.peer_python}); one train() call gives "
              f"all four estimates in {theirs['seconds_per_call'] * 1e3:.3f} ms")
    print(f"{'estimate':30} {'project':>14} {'llm-analysis':>14} {'agreement':>10} "
          f"{'project us':>11}")
    for key, (label, unit, how) in labels.items():
        mine = ours[key]
        other = None if theirs is None else theirs[key]
        agree = None if other is None else 100 * mine / other
        print(f"{label:30} {mine:14.5g} {'-' if other is None else f'{other:14.5g}':>14} "
              f"{'-' if agree is None else f'{agree:9.2f}%':>10} {ours_s[key] * 1e6:11.2f}")
        rows.append(row("llm-analysis", f"GPT-3 {label} ({how}), project / llm-analysis",
                        None if agree is None else round(agree, 2), "%", COMMAND))
    if theirs is not None:
        d = ours["days_iter"]
        print(f"{'training days (per-iteration)':30} {d:14.5g} {theirs['days']:14.5g} "
              f"{100 * d / theirs['days']:9.2f}%")
        rows.append(row("llm-analysis", "GPT-3 training days from ITER_FLOPS, project / llm-analysis",
                        round(100 * d / theirs["days"], 2), "%", COMMAND))
    total = sum(ours_s.values())
    print(f"time for the four estimates: project {total * 1e6:.1f} us (4 Excel-function calls)"
          + ("" if theirs is None else
             f", llm-analysis {theirs['seconds_per_call'] * 1e6:.1f} us (one train() call); "
             f"ratio {theirs['seconds_per_call'] / total:.1f}x"))
    rows.append(row("llm-analysis", "project: four GPT-3 estimates (4 calls)", round(total * 1e6, 1),
                    "us", COMMAND))
    if theirs is not None:
        rows.append(row("llm-analysis", "llm-analysis: one train() call (all four)",
                        round(theirs["seconds_per_call"] * 1e6, 1), "us", COMMAND))
        rows.append(row("llm-analysis", "time ratio llm-analysis / project",
                        round(theirs["seconds_per_call"] / total, 1), "x", COMMAND))
    else:
        rows.append(row("llm-analysis", "llm-analysis", "not installed", "", COMMAND))
    emit(rows, a.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
