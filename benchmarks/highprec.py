"""Timing table for Theorem 3's exact closed forms and rigorous enclosures.

    python benchmarks/highprec.py [digits]

Enclosures (derivations.nonlinear.enclosure): per link and d, wall seconds, the correct digits
certified by the balls (the fewest among E|m_f|^2, E[f^2 |x|^2], E[f^2]), Gauss-Legendre nodes
and E|m_f|^2 (correct digits only). sin and relu have closed forms: there the enclosure is a
check of the machinery, and the closed form must lie inside it ("in ball").
Closed forms (theorem3_optimum, n and s2 symbolic): wall seconds and eta*.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import flint  # noqa: E402
import sympy as sp  # noqa: E402

from derivations.nonlinear import parse_link, theorem3_optimum  # noqa: E402
from derivations.nonlinear.closed_form import isotropic_moments  # noqa: E402
from derivations.nonlinear.enclosure import correct_decimal, single_index_enclosure  # noqa: E402
from derivations.nonlinear.highprec import arb_value  # noqa: E402
from derivations.task import Response, Task  # noqa: E402

ENCLOSED = ("tanh(s)", "erf(s)", "relu(s - 1/2)", "sin(s)", "relu(s)")
CLOSED = ("s**3", "relu(s)", "relu(s) - relu(-s)/2", "abs(s)", "sin(s)", "s*cos(s)", "exp(s/4)")


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def main(digits: int = 30) -> None:
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, SymPy {sp.__version__}, python-flint "
          f"{flint.__version__}; load average {_load()}")
    print(f"\nrigorous enclosures, {digits} digits requested")
    print(f"{'link':<16} {'d':>2} {'seconds':>8} {'digits':>6} {'nodes':>6}  {'in ball':>7}  E|m_f|^2")
    for text in ENCLOSED:
        link = parse_link(text)
        for d in (1, 2, 3):
            t0 = time.perf_counter()
            enc = single_index_enclosure(link, d, 1, digits)
            dt = time.perf_counter() - t0
            inside = "-"
            try:
                exact = isotropic_moments(link, d)
                old = flint.ctx.prec
                flint.ctx.dps = digits + 20
                inside = str(all(ball.overlaps(arb_value(v)) for ball, v in
                                 ((enc.m2, exact.m2), (enc.f2x2, exact.f2x2), (enc.f2, exact.f2))))
                flint.ctx.prec = old
            except ValueError:
                pass
            print(f"{text:<16} {d:>2} {dt:>8.2f} {enc.correct_digits():>6} {enc.nodes:>6}  "
                  f"{inside:>7}  {correct_decimal(enc.m2)[:24]}")
    print("\nclosed forms (theorem3_optimum, n and s2 symbolic, d = 3)")
    print(f"{'link':<22} {'seconds':>8}  eta*")
    for text in CLOSED:
        t0 = time.perf_counter()
        res = theorem3_optimum(Task(d=3, response=Response("single-index", link=text)))
        dt = time.perf_counter() - t0
        print(f"{text:<22} {dt:>8.2f}  {str(res.eta)[:70]}")
    print(f"\nload average after: {_load()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
