"""Benchmark: TRAIN_PLAN on two 2024-25 runs, and configurations per second against Calculon.

    python benchmarks/bench_train_plan.py [--calculon DIR] [--calculon-python PATH]
                                          [--repeat 5] [--peer-configs 200]

Part 1 times ``TRAIN_PLAN`` (the whole search: every layout of the GPU count priced in one
vectorised call, ranked, top 10 rows) for

* ``llama-3.1-405b`` on 16,384 H100s, 8,192-token sequences, 16M-token batches (Meta's
  pre-training run), and
* ``deepseek-v3`` on 2,048 H800s in FP8, 4,096-token sequences, 15,360-sequence batches
  (DeepSeek-V3's run),

target under 0.5 s each.

Part 2 compares configurations per second with Calculon's evaluator (calculon-ai/calculon,
``Llm.compile`` + ``Llm.run``, one configuration per call), on a sample of the same
Llama 3.1 405B layouts (tp, pp, dp, micro-batch, interleaving, recomputation). Calculon is
never a dependency of the project: point ``--calculon`` at a checkout outside the
repository and ``--calculon-python`` at an interpreter with numpy, pandas and psutil.
Calculon has no mixture-of-experts, FP8 or context-parallel model, so only dense
BF16 layouts without context parallelism are compared, and it is given 128 blocks
(it needs the pipeline to divide the blocks evenly; the project prices 126 layers).
Calculon's rate counts the configurations it completes; those it rejects (memory,
divisibility) are reported apart. Target: the project at least 1,000x faster.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import llm_budget_planner.addin.udfs as x  # noqa: E402
from llm_budget_planner.formulas.plan import search  # noqa: E402
from llm_budget_planner.formulas.plan.shape import train_shape  # noqa: E402
from llm_budget_planner.formulas.plan.step import train_hardware  # noqa: E402

RUNS = [
    ("llama-3.1-405b", 15.6e12, "h100-sxm", 16384, 8192, 16e6, "bf16"),
    ("deepseek-v3", 14.8e12, "h800", 2048, 4096, 15360 * 4096, "fp8"),
]

PEER_SCRIPT = r"""
import json, logging, sys, time
sys.path.insert(0, sys.argv[1])
import calculon
from calculon.llm import Llm
from calculon import System
cfg = json.load(open(sys.argv[2]))
app = Llm.Application(cfg["app"])
syst = System(calculon.io.read_json_file(cfg["system"]))
log = logging.getLogger("calculon")
log.setLevel(logging.CRITICAL)
ok = failed = 0
t_ok = t_failed = 0.0
for e in cfg["executions"]:
    t0 = time.perf_counter()
    try:
        m = Llm(app, log)
        m.compile(syst, Llm.Execution.from_json(e))
        m.run(syst)
        ok += 1
        t_ok += time.perf_counter() - t0
    except Exception:
        failed += 1
        t_failed += time.perf_counter() - t0
print(json.dumps({"ok": ok, "failed": failed, "seconds": t_ok, "failed_seconds": t_failed}))
"""


def time_plans(repeat: int):
    out = []
    for run in RUNS:
        x.TRAIN_PLAN(*run)  # warm-up: catalogs and assumptions load once
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            table = x.TRAIN_PLAN(*run)
            times.append(time.perf_counter() - t0)
        out.append((run, statistics.median(times), table))
    return out


def project_rate(repeat: int):
    """Configurations per second of the vectorised evaluation of the 405B search."""
    model, _, gpu, n, s, gbt, prec = RUNS[0]
    shape, hw = train_shape(model), train_hardware(gpu)
    B = round(gbt / s)
    search._search(shape, hw, s, B, prec, [n], False)
    times, evaluated = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = search._search(shape, hw, s, B, prec, [n], False)
        times.append(time.perf_counter() - t0)
        evaluated = res["evaluated"]
    return evaluated, statistics.median(times)


def peer_executions(limit: int):
    """A spread sample of the 405B grid's dense, cp1 layouts as Calculon executions."""
    model, _, gpu, n, s, gbt, _ = RUNS[0]
    shape, hw = train_shape(model), train_hardware(gpu)
    N, t, p, c, d, e, vp, mb, z, rc = search._grid(shape, hw, s, round(gbt / s), [n], False)
    keep = [i for i in range(len(N)) if c[i] == 1 and z[i] == 1 and 128 % (p[i] * vp[i]) == 0]
    step = max(1, len(keep) // limit)
    execs = []
    for i in keep[::step][:limit]:
        dp, micro = int(d[i]), int(mb[i])
        batch = max(1, round(gbt / s / (dp * micro))) * dp * micro
        execs.append({
            "num_procs": int(N[i]), "tensor_par": int(t[i]), "pipeline_par": int(p[i]),
            "data_par": dp, "tensor_par_net": 0, "pipeline_par_net": 1, "data_par_net": 1,
            "batch_size": batch, "microbatch_size": micro, "datatype": "float16",
            "fused_activation": True, "attention_type": "multihead",
            "activation_recompute": ("none", "attn_only", "full")[int(rc[i])],
            "pipeline_interleaving": int(vp[i]), "optimizer_sharding": True,
            "tensor_par_comm_type": "rs_ag", "tensor_par_overlap": "ring",
            "seq_par_ag_redo": False, "data_par_overlap": True, "weight_offload": False,
            "activations_offload": False, "optimizer_offload": False, "training": True})
    return execs


def run_peer(calculon: Path, python: str, execs: list[dict]):
    if not (calculon / "calculon" / "llm" / "llm.py").exists():
        return None, f"no Calculon checkout at {calculon}"
    if not Path(python).exists():
        return None, f"interpreter {python} not found"
    s = RUNS[0][4]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "cfg.json"
        cfg.write_text(json.dumps({
            "app": {"hidden": 16384, "feedforward": 53248, "seq_size": s, "attn_heads": 128,
                    "attn_size": 128, "num_blocks": 128},
            "system": str(calculon / "systems" / "h100_80g_nvl8.json"),
            "executions": execs}))
        script = Path(tmp) / "peer.py"
        script.write_text(PEER_SCRIPT)
        proc = subprocess.run([python, str(script), str(calculon), str(cfg)],
                              capture_output=True, text=True, cwd=tmp)
    if proc.returncode != 0:
        return None, f"Calculon run failed: {proc.stderr.strip().splitlines()[-1:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1]), None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calculon", default=os.environ.get("CALCULON_DIR",
                                                         "/tmp/calculon"))
    ap.add_argument("--calculon-python", default=os.environ.get("CALCULON_PYTHON",
                                                                sys.executable))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--peer-configs", type=int, default=200)
    args = ap.parse_args(argv)

    for run, seconds, table in time_plans(args.repeat):
        best = dict(zip(table[0], table[1])) if isinstance(table, list) else {}
        ok = "ok" if seconds < 0.5 else "SLOW"
        print(f"TRAIN_PLAN {run[0]} on {run[3]:,} x {run[2]} ({run[6]}): median "
              f"{seconds:.3f} s ({ok}, target < 0.5 s)")
        if best:
            print(f"  best: {best['layout']}  step {best['step_s']:.2f} s  MFU "
                  f"{best['mfu']:.3f}  {best['days']:.1f} days "
                  f"({best['days_low']:.1f}-{best['days_high']:.1f})  "
                  f"{best['gpu_hours'] / 1e6:.2f}M GPU-hours")
        else:
            print(f"  {table}")

    evaluated, t_eval = project_rate(max(args.repeat, 5))
    ours = evaluated / t_eval
    print(f"project: {evaluated:,} configurations of the 405B search in {t_eval * 1e3:.1f} ms "
          f"-> {ours:,.0f} configurations/s")
    execs = peer_executions(args.peer_configs)
    peer, why = run_peer(Path(args.calculon), args.calculon_python, execs)
    if peer is None:
        print(f"Calculon: NOT AVAILABLE ({why}); fetch calculon-ai/calculon outside the "
              "repository and give --calculon DIR --calculon-python PATH (numpy, pandas, "
              "psutil)")
        return 0
    if not peer["ok"]:
        print(f"Calculon: rejected all {peer['failed']} configurations")
        return 0
    theirs = peer["ok"] / peer["seconds"]
    print(f"Calculon Llm.compile+run: {peer['ok']} of {len(execs)} sampled configurations in "
          f"{peer['seconds']:.2f} s -> {theirs:,.1f} configurations/s "
          f"({peer['failed']} rejected in {peer['failed_seconds']:.2f} s, not counted)")
    print(f"speed-up (configurations per second): {ours / theirs:,.0f}x (target >= 1,000x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
