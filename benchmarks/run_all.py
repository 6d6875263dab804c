"""Run every benchmark with one command and print one table of the figures.

    python benchmarks/run_all.py [--update-readme] [--only range,build,...]
    ./dev bench [--update-readme]

Runs each ``benchmarks/bench_*.py`` in its own process (so imports and warm caches do not
leak from one into the next), shows its output, then prints a table of the figures the
scripts report (scripts that take ``--json`` report figures; any other script -- e.g. one
added later -- is run and shown as it is, with its wall time). ``--update-readme`` writes
the table, the machine and the date into ``benchmarks/README.md`` between its markers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import machine  # noqa: E402

ORDER = ["bench_range.py", "bench_range_blanks.py", "bench_plan.py", "bench_build.py", "bench_recalc.py",
         "bench_llm_analysis.py"]
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def scripts(only: set[str] | None) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"), key=lambda p: (
        ORDER.index(p.name) if p.name in ORDER else len(ORDER), p.name))
    if only:
        found = [p for p in found if p.stem.removeprefix("bench_") in only]
    return found


def run(script: Path) -> dict:
    takes_json = "--json" in script.read_text(encoding="utf-8")
    cmd = [sys.executable, str(script)] + (["--json"] if takes_json else [])
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
    seconds = time.perf_counter() - t0
    rows, text = [], []
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH-JSON "):
            rows += json.loads(line[len("BENCH-JSON "):])
        else:
            text.append(line)
    return {"script": script.name, "rc": proc.returncode, "seconds": seconds, "rows": rows,
            "text": "\n".join(text), "stderr": proc.stderr.strip()}


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.3f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return "-" if v is None else str(v)


def table(results: list[dict]) -> str:
    lines = ["| benchmark | figure | value | unit | command |", "|---|---|---:|---|---|"]
    for r in results:
        for f in r["rows"]:
            lines.append(f"| {f['benchmark']} | {f['figure']} | {_fmt(f['value'])} | {f['unit']} "
                         f"| `{f['command']}` |")
        if not r["rows"]:
            status = "ok" if r["rc"] == 0 else f"exit code {r['rc']}"
            lines.append(f"| {r['script'].removeprefix('bench_').removesuffix('.py')} | "
                         f"whole script, wall time ({status}; figures in its output) | "
                         f"{r['seconds']:.1f} | s | `python benchmarks/{r['script']}` |")
    text = "\n".join(lines) + "\n"
    for r in results:
        if not r["rows"] and r["text"].strip():
            text += f"\nOutput of `python benchmarks/{r['script']}`:\n\n```text\n{r['text'].strip()}\n```\n"
    return text


def update_readme(text: str) -> Path:
    readme = HERE / "README.md"
    body = readme.read_text(encoding="utf-8")
    block = f"{START}\n{text}{END}"
    new = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, body, flags=re.S)
    readme.write_text(new, encoding="utf-8")
    return readme


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--update-readme", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated: range,plan,build,recalc,...")
    a = ap.parse_args(argv)
    only = {s.strip() for s in a.only.split(",") if s.strip()} or None
    results = []
    for script in scripts(only):
        print(f"=== {script.name}", flush=True)
        r = run(script)
        print(r["text"])
        if r["rc"] != 0:
            print(f"({script.name} exited with {r['rc']})\n{r['stderr'][-3000:]}")
        print(f"--- {script.name}: {r['seconds']:.1f} s wall\n", flush=True)
        results.append(r)
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = f"Measured {when} on {machine()}.\n\n"
    tab = table(results)
    print(head + tab)
    if a.update_readme:
        print(f"updated {update_readme(head + tab)}")
    return 0 if all(r["rc"] == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
