"""Time the all-d proofs (wall seconds, best of 3) and print a Markdown table.

Usage: ``python benchmarks/symbolic_d.py [--repeat 3]``. Each proof is run in full
(every step, including the independent recomputation of the optimal loss); the
machine line names the CPU, core count, Python and SymPy versions.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sympy  # noqa: E402

from derivations.alld.proofs import KINDS, prove  # noqa: E402


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def best_of(kind: str, repeat: int):
    times, holds = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        D = prove(kind)
        times.append(time.perf_counter() - start)
        holds = D.holds
    return min(times), holds, len(D), D.conclusion["strength"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SymPy {sympy.__version__}")
    print()
    print(f"| proof | strength | steps | holds | wall s (best of {args.repeat}) |")
    print("|---|---|---|---|---|")
    total = {}
    for kind in KINDS:
        seconds, holds, steps, strength = best_of(kind, args.repeat)
        total[kind] = seconds
        print(f"| {kind} | {strength} | {steps} | {holds} | {seconds:.2f} |")
    both = total["theorem1"] + total["theorem2"]
    print()
    print(f"Theorems 1 + 2 together: {both:.2f} s (goal: under 5 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
