"""Benchmark: the exact Theorem 1 loss L(u, M) for d = 1..16 (n and s2 symbolic).

Times what a user gets from ``derivations.expected_loss(Task(d=d))``: the engine
(``loss_parts``, sparse polynomials in 1/n) and the conversion to a SymPy expression
(``.expr()``), separately and together. Peak memory is the tracemalloc peak of one
separate run of both (tracemalloc slows Python down, so it is never on while timing).
Baseline: tests/naive_reference.py (full expansion with one symbol per coordinate of two
explicit context examples, then brute-force Isserlis per monomial), for d = 1..4 only.

Usage:  python benchmarks/exact_loss.py [--max-d 16] [--naive-max-d 4]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import sympy as sp  # noqa: E402
from naive_reference import naive_loss  # noqa: E402
from sympy.core.cache import clear_cache  # noqa: E402

from derivations.loss import loss_parts  # noqa: E402
from derivations.task import Task  # noqa: E402

TARGETS = {4: 0.2, 8: 2.0, 12: 15.0, 16: 60.0}   # seconds, from the issue


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "load average unknown"
    return (f"machine: {cpu}; {cores} cores available; {load}\n"
            f"python {platform.python_version()} ({platform.python_implementation()}), "
            f"sympy {sp.__version__}, {platform.system()} {platform.release()}")


def run_exact(d):
    task = Task(d=d)
    t0 = time.perf_counter()
    parts = loss_parts(task)
    t1 = time.perf_counter()
    expr = parts.expr()
    t2 = time.perf_counter()
    del expr
    return t1 - t0, t2 - t1, parts.nterms()


def best_of(fn, repeats):
    best = None
    for _ in range(repeats):
        clear_cache()        # SymPy's global cache would flatter repeats
        gc.collect()
        out = fn()
        if best is None or sum(out[:2]) < sum(best[:2]):
            best = out
    return best


def peak_mib(fn) -> float:
    clear_cache()
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def time_naive(d, repeats):
    best = float("inf")
    for _ in range(repeats):
        clear_cache()
        gc.collect()
        t0 = time.perf_counter()
        naive_loss(d)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-d", type=int, default=16)
    parser.add_argument("--naive-max-d", type=int, default=4)
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    args = parser.parse_args(argv)
    if args.max_d < 1:
        print("error: --max-d must be >= 1", file=sys.stderr)
        return 2

    print(machine())
    print("task: Theorem 1 (Sigma = Omega = I), n and s2 symbolic, generic (u, M): "
          "expected_loss(Task(d=d))")
    print("timing: best of 3 for d <= 8, one run beyond; SymPy cache cleared before each run\n")
    header = (f"{'d':>3} | {'loss_parts s':>12} | {'.expr() s':>9} | {'total s':>8} | "
              f"{'target s':>8} | {'terms':>6} | "
              f"{'peak MiB':>8} | {'naive s':>8} | {'speed-up':>8}")
    print(header)
    print("-" * len(header))
    for d in range(1, args.max_d + 1):
        repeats = 3 if d <= 8 else 1
        t_parts, t_expr, nterms = best_of(lambda d=d: run_exact(d), repeats)
        total = t_parts + t_expr
        mem = "-" if args.no_memory else f"{peak_mib(lambda d=d: run_exact(d)):.1f}"
        target = TARGETS.get(d)
        target_text = f"< {target:g}" if target else ""
        if target and total >= target:
            target_text += " MISS"
        if d <= args.naive_max_d:
            t_naive = time_naive(d, 3 if d <= 3 else 1)
            naive_text, speed = f"{t_naive:.3f}", f"{t_naive / total:.0f}x"
        else:
            naive_text, speed = "-", "-"
        print(f"{d:>3} | {t_parts:>12.3f} | {t_expr:>9.3f} | {total:>8.3f} | {target_text:>8} | "
              f"{nterms:>6} | {mem:>8} | {naive_text:>8} | {speed:>8}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
