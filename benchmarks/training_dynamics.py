"""Where gradient training of the real LSA ends (issue 15): a table over d, inits and optimisers.

For each d, the paper-parameterisation LSA (W^K, W^Q, W^V, h) is trained on fresh prompts by Adam
and SGD from the small Gaussian and the Zhang-Frei-Bartlett initialisations, over ``--seeds``
seeds (:mod:`numerics.training`). Each run is then classified against the certified critical
points of the exact loss (:func:`verify.landscape_suite.classify_run`; for d > 3 there is no
certified landscape, and runs are only compared with the exact L*: "global-min" when the exact
loss at the final weights is within the run's tolerance of L*, else "above L*").

    python benchmarks/training_dynamics.py [--dims 2 3 4 5] [--seeds 10] [--steps 3000] [--figures DIR]

Prints one row per (d, init, optimiser): runs, fractions ending at the global minimum / a spurious
local minimum / a saddle level / still moving, median wall seconds per run.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

from derivations import Task, global_optimum  # noqa: E402
from derivations.landscape import MAX_D, landscape, loss_polynomial  # noqa: E402
from numerics import NumericTask  # noqa: E402
from numerics.training import TrainingConfig, train  # noqa: E402
from verify.landscape_suite import classify_run  # noqa: E402

LR = {"adam": 1e-2, "sgd": 2e-2}


def levels_for(task: Task):
    if task.d <= MAX_D:
        land = landscape(task, starts=20, seed=0)
        return [{"kind": p.kind, "loss": p.loss_bounds(), "certified": p.certified} for p in land.points], \
            float(land.L_star)
    L_star = sp.Rational(global_optimum(task).loss)
    return [{"kind": "global-min", "loss": (float(L_star), float(L_star)), "certified": True}], float(L_star)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 3, 4, 5])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--figures", default=None, help="write loss-curve figures (PNG, PDF) to this directory")
    args = ap.parse_args()
    if not all(1 <= d <= 8 for d in args.dims) or args.seeds < 1 or args.steps < 10:
        sys.exit("error: --dims in 1..8, --seeds >= 1, --steps >= 10")
    print(f"machine: {os.cpu_count()} cores; load average {open('/proc/loadavg').read().split()[:3]}")
    print(f"n = {args.n}, s2 = 1/4, Sigma = Omega = I; {args.steps} steps of batch {args.batch}; "
          f"lr {LR}; lr decays linearly to 1% over the last 30% of steps")
    print(f"{'d':>2} {'init':<9} {'opt':<5} {'runs':>4} {'global':>7} {'spurious':>8} {'saddle':>7} "
          f"{'moving':>7} {'s/run':>6}  levels (certified)")
    for d in args.dims:
        task = Task(d=d, n=args.n, noise="1/4")
        levels, L_star = levels_for(task)
        loss = loss_polynomial(task)
        ntask = NumericTask(d=d, n=args.n, noise=0.25)
        all_runs = []
        for init in ("gaussian", "zfb"):
            for opt in ("adam", "sgd"):
                config = TrainingConfig(optimiser=opt, lr=LR[opt], batch=args.batch, steps=args.steps, init=init,
                                        eval_samples=60_000)
                runs = []
                for seed in range(args.seeds):
                    run = train(ntask, config, seed)
                    exact = loss.value_float(np.r_[run.u, run.M.ravel()]) if not run.diverged else math.inf
                    verdict = classify_run(levels, L_star, exact, run.final_loss, run.final_loss_se)
                    if d > MAX_D and verdict["class"] == "still moving":
                        verdict["class"] = "above L*"
                    runs.append({**run.as_json(), "exact_final_loss": exact, **verdict})
                count = {c: sum(r["class"] == c for r in runs) for c in
                         ("global-min", "local-min", "saddle", "still moving", "above L*")}
                moving = count["still moving"] + count["above L*"]
                secs = float(np.median([r["seconds"] for r in runs]))
                text = ", ".join(f"{lev['kind']} {sum(lev['loss']) / 2:.6f}" for lev in levels if lev["certified"])
                print(f"{d:>2} {init:<9} {opt:<5} {len(runs):>4} {count['global-min'] / len(runs):>7.2f} "
                      f"{count['local-min'] / len(runs):>8.2f} {count['saddle'] / len(runs):>7.2f} "
                      f"{moving / len(runs):>7.2f} {secs:>6.1f}  {text if (init, opt) == ('gaussian', 'adam') else ''}",
                      flush=True)
                all_runs += runs
        if args.figures:
            from verify.landscape_figures import _save, loss_curves_figure

            out = Path(args.figures)
            out.mkdir(parents=True, exist_ok=True)
            fig = loss_curves_figure(f"Theorem 1, d = {d}, n = {args.n}, s2 = 1/4",
                                     {"runs": all_runs, "levels": levels, "L_star": L_star},
                                     str(sp.Rational(global_optimum(task).loss)))
            _save(fig, out / f"training_d{d}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - start:.0f} s")
