"""Benchmark: time to report eta = trace(Gamma)/d for Theorem 1 (d = 5, n = 20, s2 = 1/4).

Two methods, measured in the same run on the same machine:

* ``numerics.minimise``: sample-average approximation + L-BFGS + jackknife; the sample size
  is doubled (and the time accumulated) until the reported SE of eta is below ``--rel-se``
  (default 0.5%, stricter than the required 1%: the baseline is timed against a +-1% band
  around the minimiser's value, and a target that is itself 1% off the truth could leave
  a correctly converging baseline outside the band). 20 jackknife groups and 4 restarts:
  at d = 5 every one of 20 random starts reached the global minimum in our runs, and the
  table reports how many restarts reached the best.
* anchor-style baseline: the full paper-parameterisation LSA (W^K, W^Q, W^V, h) trained by
  Adam on fresh batches as public reproductions do (batch 2048, lr 1e-3, N(0, (0.1/sqrt(d))^2)
  initialisation, MSE loss); timed until an exponential moving average (decay 0.99) of its
  eta = trace(Gamma)/d enters the band +-1% around the minimiser's eta and stays there for
  200 steps (the time reported is the entry time). Capped at ``--cap`` seconds.

Usage: python benchmarks/numeric_minimise.py [--cap 600] [--seed 0]
The LAST line is ``speedup: <baseline seconds / minimiser seconds>x``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from numerics import LSA, NumericTask, gamma_of, make_generator, minimise, sample_prompts  # noqa: E402

D_, N_, S2 = 5, 20, 0.25


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_minimiser(task: NumericTask, seed: int, rel_se: float):
    samples, spent = 50_000, 0.0
    while True:
        res = minimise(
            task,
            samples=samples,
            seed=seed,
            groups=20,
            restarts=4,
            history=False,
            fresh_samples=0,
            progress=False,
        )
        spent += res.seconds
        if res.eta_se < rel_se * res.eta:
            return res, spent
        samples *= 2


def run_adam(task: NumericTask, target: float, seed: int, cap: float):
    gen = make_generator(seed)
    model = LSA(task.d, task.n, "paper", init_std=0.1 / math.sqrt(task.d), generator=gen)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ema, inside_since, steps = None, None, 0
    start = time.perf_counter()
    while True:
        prompts = sample_prompts(task, 2048, gen)
        loss = ((model(prompts) - prompts.yq) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
        eta = float(np.trace(gamma_of(model)) / task.d)
        ema = eta if ema is None else 0.99 * ema + 0.01 * eta
        now = time.perf_counter() - start
        if abs(ema - target) <= 0.01 * target:
            if inside_since is None:
                inside_since = (now, steps, ema)
            elif steps - inside_since[1] >= 200:
                return inside_since[0], inside_since[2], inside_since[1] * 2048, True
        else:
            inside_since = None
        if now > cap:
            return now, ema, steps * 2048, False


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cap", type=float, default=600.0, help="baseline time cap in seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--rel-se",
        type=float,
        default=0.005,
        help="target relative SE of the minimiser's eta (required: < 0.01)",
    )
    args = ap.parse_args(argv)
    task = NumericTask(d=D_, n=N_, noise=S2)

    res, t_min = run_minimiser(task, args.seed, args.rel_se)
    t_adam, eta_adam, n_adam, reached = run_adam(task, res.eta, args.seed, args.cap)

    print(f"Theorem 1: d = {D_}, n = {N_}, s2 = {S2}; target: SE(eta) < {args.rel_se:.1%} of eta")
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"python {platform.python_version()}"
    )
    print()
    print(f"| {'method':<44} | {'seconds':>9} | {'eta':>8} | {'se':>8} | {'samples':>10} |")
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 10}|{'-' * 10}|{'-' * 12}|")
    print(
        f"| {'numerics.minimise (SAA + L-BFGS + jackknife)':<44} | {t_min:>9.2f} | "
        f"{res.eta:>8.5f} | "
        f"{res.eta_se:>8.5f} | {res.samples:>10d} |"
    )
    t_text = f"{t_adam:.2f}" if reached else f"> {args.cap:.0f}"
    print(
        f"| {'Adam, paper LSA, batch 2048, lr 1e-3':<44} | {t_text:>9} | {eta_adam:>8.5f} | "
        f"{'(EMA)':>8} | {n_adam:>10d} |"
    )
    print()
    print(
        f"restarts at best: {res.restarts_at_best}/{len(res.restart_losses)}; "
        f"eta relative SE {res.eta_se / res.eta:.2%}"
    )
    speedup = t_adam / t_min
    print(f"speedup: {'>' if not reached else ''}{speedup:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
