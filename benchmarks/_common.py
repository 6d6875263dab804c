"""Shared helpers of the benchmark scripts: machine description, timing, JSON output."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def machine() -> str:
    """``nproc``, CPU model (from /proc/cpuinfo) and Python version, on one line."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs, {cpu}, Python {platform.python_version()}"


def time_call(fn, repeat: int = 7, number: int | None = None) -> float:
    """Median seconds per call of ``fn`` (``number`` calls per sample, auto-sized to ~20 ms)."""
    fn()  # warm-up
    if number is None:
        number = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            if time.perf_counter() - t0 > 0.02 or number >= 1 << 16:
                break
            number *= 2
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)


def emit(rows: list[dict], as_json: bool) -> None:
    """Print the figures as JSON (for run_all.py) when asked; the text was printed already."""
    if as_json:
        print("BENCH-JSON " + json.dumps(rows))


def row(benchmark: str, figure: str, value, unit: str = "", command: str = "") -> dict:
    return {"benchmark": benchmark, "figure": figure, "value": value, "unit": unit,
            "command": command}
