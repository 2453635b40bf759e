"""The landscape of the effective LSA loss (issues 4 and 15): every certified critical point.

d = 1 (Theorem 1 on the grid D1_GRID, and the cubic link): complete lists (exact Groebner basis),
each critical value certified. d = 2 (Theorem 1, Theorem 2, Omega = I with a dense Sigma, the
cubic link) and d = 3 (Theorem 1): seeded multistart search, each critical value found certified
(Krawczyk existence in ball arithmetic or exact arithmetic, inertia modulo the exact symmetries).

    python benchmarks/landscape_study.py [--starts 30] [--seed 0] [--no-d3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from derivations import Task  # noqa: E402
from derivations.landscape import D1_GRID, landscape  # noqa: E402
from derivations.task import Response  # noqa: E402

CUBIC = Response("single-index", link="s^3")
SIGMA2 = [[2, 1], [1, 3]]


def show(name, task, starts, seed):
    start = time.perf_counter()
    land = landscape(task, starts=starts, seed=seed)
    print(f"\n{name}: L* = {land.L_star} = {float(land.L_star):.9f}  ({time.perf_counter() - start:.1f} s; "
          f"{len(land.symmetries) - 1} data-symmetry generator(s) + gauge)")
    print(f"  {'kind':<11} {'certified':<9} {'method':<9} {'loss (enclosure or exact)':<40} "
          f"{'inertia (-,0,+)':<15} {'sym':>3} {'family':>6}")
    for p in land.points:
        loss = str(p.loss) if p.exact else p.loss.str(15)
        inertia = "-" if p.inertia is None else str(p.inertia)
        print(f"  {p.kind:<11} {str(p.certified):<9} {p.method:<9} {loss:<40} {inertia:<15} {p.symmetry_dim:>3} "
              f"{p.family_dim:>6}")
    print(f"  completeness: {land.completeness}")
    print(f"  searched: ended at (point index: count) {land.search['ended_at']}; not converged "
          f"{land.search['not_converged']}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--starts", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-d3", action="store_true")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average {open('/proc/loadavg').read().split()[:3]}")
    print("d = 1, Theorem 1: every real critical point (exact Groebner basis), certified")
    print(f"{'n':>3} {'s2':>5} | {'kinds':<40} | critical values")
    for n, s2 in D1_GRID:
        land = landscape(Task(d=1, n=n, noise=s2))
        kinds = Counter(p.kind for p in land.points)
        values = ", ".join(str(p.loss) if p.exact else p.loss.str(8, radius=False) for p in land.points)
        ok = all(p.certified for p in land.points)
        print(f"{n:>3} {str(s2):>5} | {dict(kinds)!s:<40} | {values}{'' if ok else '  (NOT all certified)'}")
    show("d = 1, cubic link y = (w^T x)^3 + eps, n = 5, s2 = 1/4", Task(d=1, n=5, noise="1/4", response=CUBIC),
         args.starts, args.seed)
    show("d = 2, Theorem 1, n = 5, s2 = 1/4", Task(d=2, n=5, noise="1/4"), args.starts, args.seed)
    show("d = 2, Theorem 2, Sigma = [[2,1],[1,3]], Omega = Sigma^-1, n = 5, s2 = 1/4",
         Task(d=2, n=5, noise="1/4", covariance=SIGMA2, prior="inverse-covariance"), args.starts, args.seed)
    show("d = 2, Omega = I, Sigma = [[2,1],[1,3]], n = 5, s2 = 1/4", Task(d=2, n=5, noise="1/4", covariance=SIGMA2),
         args.starts, args.seed)
    show("d = 2, cubic link, n = 5, s2 = 1/4", Task(d=2, n=5, noise="1/4", response=CUBIC), args.starts, args.seed)
    if not args.no_d3:
        show("d = 3, Theorem 1, n = 5, s2 = 1/4", Task(d=3, n=5, noise="1/4"), args.starts, args.seed)


if __name__ == "__main__":
    main()
