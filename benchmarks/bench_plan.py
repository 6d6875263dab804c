"""Benchmark: the parallel-plan search against a peer estimator on the same configurations.

    python benchmarks/bench_plan.py [--peer-python /work/peer-venv/bin/python] [--repeat 50]

Workload: GPT-3 175B (96 layers, h 12288, 96 heads), 300B tokens, 1,024 A100 80 GB,
2,048-token sequences, 1,536-sequence batch. The project's search enumerates every
(tp, pp, dp, micro-batch, ZeRO stage, recomputation, sequence parallelism, interleave)
layout of 1,024 GPUs, prices memory and step time for each, and ranks those that fit.

The peer is llm-analysis (PyPI), run in its own virtual environment (it is never a
dependency of this project): its ``train()`` estimates one configuration per call, so it is
called once for each of the same configurations (interleaving, which it does not model,
is left out of its copies). The script prints configurations per second for both, the wall
time of one full search, and the ratio; it says so plainly when the peer is not installed.
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

from llm_budget_planner.formulas import plan  # noqa: E402

MODEL = dict(P=175e9, L=96, h=12288, a=96)
T, GPU, N, S, BATCH_SEQ = 300e9, "a100-sxm-80gb", 1024, 2048, 1536
DEFAULT_PEER = "/work/peer-venv/bin/python"

PEER_SCRIPT = r"""
import json, sys, time, logging
from llm_analysis.analysis import train
cfg = json.load(open(sys.argv[1]))
model = sys.argv[2]
ok = failed = 0
t_ok = t_failed = 0.0
for c in cfg["configs"]:
    t0 = time.perf_counter()
    try:
        train(model_name=model, gpu_name="a100-sxm-80gb", dtype_name="w16a16e16",
              log_level="ERROR", batch_size_per_gpu=c["b"], global_batch_size=c["B"],
              seq_len=cfg["s"], total_num_tokens=cfg["T"], activation_recomputation=c["rc"],
              ds_zero=c["z"], tp_size=c["tp"], pp_size=c["pp"], dp_size=c["dp"],
              sp_size=c["sp"], total_num_gpus=cfg["N"], flops_efficiency=0.7)
        ok += 1
        t_ok += time.perf_counter() - t0
    except Exception:
        failed += 1
        t_failed += time.perf_counter() - t0
print(json.dumps({"ok": ok, "failed": failed, "seconds": t_ok, "failed_seconds": t_failed}))
"""


def project_search(repeat: int):
    hw = plan.plan_hardware(GPU)
    args = (MODEL["P"], MODEL["L"], MODEL["h"], MODEL["a"], S, T, hw, [N], BATCH_SEQ * S)
    plan._search_arrays(*args)  # warm-up (catalog and assumptions load once)
    core, full = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = plan._search_arrays(*args)
        core.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        plan.plan_training(MODEL["P"], MODEL["L"], MODEL["h"], MODEL["a"], T, GPU, N, S,
                           BATCH_SEQ * S, 10)
        full.append(time.perf_counter() - t0)
    return res, statistics.median(core), statistics.median(full)


def peer_configs():
    """The search's configurations as llm-analysis arguments (interleave dropped, deduplicated)."""
    hw = plan.plan_hardware(GPU)
    n, t, p, d, iv, b, z, rc, sp = plan._grid(
        __import__("numpy").array([N]), MODEL["L"], MODEL["a"], BATCH_SEQ)
    seen, out = set(), []
    for row in zip(t, p, d, b, z, rc, sp):
        tp, pp, dp, mb, zs, r, s = (int(v) for v in row)
        m = max(1, round(BATCH_SEQ / (mb * dp)))
        key = (tp, pp, dp, mb, zs, r, s)
        if key in seen:
            continue
        seen.add(key)
        out.append(dict(tp=tp, pp=pp, dp=dp, b=mb, B=m * mb * dp, z=zs, rc=r,
                        sp=tp if s else 1))
    del hw
    return out


def run_peer(python: str, configs: list[dict]):
    if not Path(python).exists():
        return None, f"interpreter {python} not found"
    check = subprocess.run([python, "-c", "import llm_analysis"], capture_output=True, text=True)
    if check.returncode != 0:
        return None, "llm_analysis does not import in that interpreter"
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "gpt3-175b-v51200.json"
        model.write_text(json.dumps({
            "name": "gpt3-175b-v51200", "max_seq_len": S, "num_layers": MODEL["L"],
            "n_head": MODEL["a"], "hidden_dim": MODEL["h"], "vocab_size": 51200,
            "ffn_embed_dim": 4 * MODEL["h"]}))
        cfg = Path(tmp) / "configs.json"
        cfg.write_text(json.dumps({"configs": configs, "s": S, "T": T, "N": N}))
        script = Path(tmp) / "peer.py"
        script.write_text(PEER_SCRIPT)
        env = {**os.environ, "TRANSFORMERS_VERBOSITY": "error", "HF_HUB_OFFLINE": "1"}
        proc = subprocess.run([python, str(script), str(cfg), str(model)], capture_output=True,
                              text=True, env=env, cwd=tmp)
    if proc.returncode != 0:
        return None, f"peer run failed: {proc.stderr.strip().splitlines()[-1:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1]), None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-python", default=os.environ.get("PEER_PYTHON", DEFAULT_PEER))
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--peer-limit", type=int, default=0,
                    help="evaluate only the first K configurations with the peer (0 = all)")
    args = ap.parse_args(argv)

    res, t_core, t_full = project_search(args.repeat)
    evaluated = res["evaluated"]
    fits = len(res["days"])
    ours = evaluated / t_core
    print(f"workload: GPT-3 175B, {T:.0e} tokens, {N} x {GPU}, s={S}, batch {BATCH_SEQ} seq")
    print(f"project search: {evaluated} configurations ({fits} fit in memory)")
    print(f"  vectorised evaluation  median {t_core * 1e3:8.3f} ms  ->  {ours:12,.0f} "
          "configurations/s")
    print(f"  full PLAN search (DataFrame, top 10)  median {t_full * 1e3:8.3f} ms wall time")

    configs = peer_configs()
    if args.peer_limit:
        configs = configs[:args.peer_limit]
    peer, why = run_peer(args.peer_python, configs)
    if peer is None:
        print(f"peer llm-analysis: NOT AVAILABLE ({why}); install it in a separate venv with")
        print("  python3 -m venv /work/peer-venv && /work/peer-venv/bin/pip install llm-analysis")
        return 0
    theirs = peer["ok"] / peer["seconds"]
    print(f"peer llm-analysis train(): the {len(configs)} configurations without interleaving,"
          " one call each")
    print(f"  {peer['ok']} estimated in {peer['seconds']:8.3f} s  ->  {theirs:12,.0f} "
          "configurations/s")
    print(f"  {peer['failed']} refused at once ({peer['failed_seconds']:.3f} s; it rejects tp "
          "above one node), not counted in its rate")
    print(f"  estimated wall time for the {evaluated} configurations: "
          f"{evaluated / theirs:8.3f} s")
    print(f"speed-up (configurations per second): {ours / theirs:,.0f}x (target >= 1,000x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
