"""Timing table for the high-precision Theorem 3 route (derivations.nonlinear.highprec).

    python benchmarks/highprec.py [digits]

Per link and d: wall seconds, requested digits, the error estimate (largest of the three
moments) and E|m_f|^2. The two-layer ReLU row is the whole certificate path
(theorem3_optimum, width 3, d = 2).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mpmath  # noqa: E402

from derivations.nonlinear import parse_link, theorem3_optimum  # noqa: E402
from derivations.nonlinear.highprec import single_index_moments  # noqa: E402
from derivations.task import Response, Task  # noqa: E402


def main(digits: int = 30) -> None:
    print(f"{'link':<22} {'d':>2} {'seconds':>8} {'digits':>6} {'error est.':>10}  E|m_f|^2")
    for text in ("tanh(s)", "erf(s)", "sin(s)", "relu(s)"):
        for d in (1, 2, 3):
            t0 = time.perf_counter()
            mom = single_index_moments(parse_link(text), d, 1, digits=digits)
            dt = time.perf_counter() - t0
            print(f"{text:<22} {d:>2} {dt:>8.2f} {digits:>6} {mom.error:>10.1e}  "
                  f"{mpmath.nstr(mom.m2, 12)}")
    task = Task(d=2, n=10, noise=1, response=Response("two-layer-relu", width=3))
    t0 = time.perf_counter()
    res = theorem3_optimum(task, digits=digits)
    dt = time.perf_counter() - t0
    print(f"{'two-layer-relu w=3 eta':<22} {2:>2} {dt:>8.2f} {digits:>6} {res.eta_error:>10.1e}  "
          f"eta = {res.eta_digits[:20]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
