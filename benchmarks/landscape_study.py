"""The landscape study of the effective LSA loss (issue 4): print every stationary point found.

d = 1: all real stationary points on the grid D1_GRID (exact Groebner basis, 60-digit roots,
exact Hessians). d = 2, 3: distinct limits of L-BFGS-B + trust-exact on the exact loss from
seeded random starts, each classified from its exact gradient and Hessian.

    python benchmarks/landscape_study.py [--starts 20] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from derivations import Task, global_optimum  # noqa: E402
from derivations.landscape import D1_GRID, multistart, stationary_points_d1  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--starts", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print("d = 1: every real stationary point of L(u_x, u_y, a, b) (gauge-balanced representatives)")
    print(f"{'n':>3} {'s2':>5} | {'global min':>10} {'saddles':>8} {'spurious min':>12} | saddle losses (L* = global)")
    for n, s2 in D1_GRID:
        pts = stationary_points_d1(n, s2)
        kinds = Counter(p.kind for p in pts)
        L_star = min(float(p.loss) for p in pts)
        saddles = sorted({round(float(p.loss), 6) for p in pts if p.kind == "saddle"})
        print(f"{n:>3} {str(s2):>5} | {kinds['global minimum']:>10} {kinds['saddle']:>8} "
              f"{kinds['spurious local minimum']:>12} | L* = {L_star:.6f}; saddles at {saddles}")
    for d in (2, 3):
        task = Task(d=d, n=5, noise="1/4")
        L_star = float(global_optimum(task).loss)
        start = time.perf_counter()
        limits = multistart(task, starts=args.starts, seed=args.seed, L_star=L_star)
        print(f"\nd = {d}, n = 5, s2 = 1/4: {args.starts} starts, L* = {L_star:.6f} "
              f"({time.perf_counter() - start:.0f} s)")
        print(f"{'kind':<24} {'starts':>6} {'loss':>12} {'|grad|':>8} {'null dim':>8} {'sym dim':>7} "
              f"{'min eig':>9}  eigenvalues of sym(Gamma)")
        import numpy as np
        for lim in limits:
            eig = np.linalg.eigvalsh((lim.gamma + lim.gamma.T) / 2)
            print(f"{lim.kind:<24} {lim.count:>6} {lim.loss:>12.7f} {lim.grad_norm:>8.1e} {lim.null_dim:>8} "
                  f"{lim.symmetry_dim:>7} {lim.hessian_eigenvalues.min():>9.2e}  {np.round(eig, 4)}")


if __name__ == "__main__":
    main()
