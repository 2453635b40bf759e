"""Exact risk against test context length, with Monte Carlo points: a figure.

For a training task (fixed n), the optimum Gamma* is evaluated at every test length m: the
exact curve is :func:`derivations.shift.risk_curve` (a rational function of the symbol m,
evaluated exactly at each plotted m), the reference is the best risk attainable at length m
(L*_m: the optimum trained AT m), and the points are Monte Carlo risks of Gamma* on fresh prompts
of length m (+-2 SE). In Zhang-Frei-Bartlett's setting (Omega = I, noiseless) the trained model's
risk at m != N is their test-length mismatch curve.

>>> from derivations import Task
>>> data = curve_data(Task(d=1, n=4, noise=0), lengths=[2, 4, 8], samples=0)
>>> [str(x) for x in data["exact"]], [str(x) for x in data["best"]]
(['5/9', '1/3', '2/9'], ['1/2', '1/3', '1/5'])
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sympy as sp


def curve_data(train_task, lengths, samples: int = 20_000, seed: int = 0, test_task=None) -> dict:
    """Exact risk of the training optimum at each test length, the best risk at that length, and
    (``samples`` > 0) Monte Carlo estimates of the former."""
    from derivations import global_optimum
    from derivations.shift import m, risk_curve

    from .numeric import float_matrix, loss_at_gd_point, numeric_task

    if train_task.n_symbolic:
        raise ValueError("curve_data: the training task needs a fixed n")
    opt = global_optimum(train_task)
    curve = risk_curve(train_task, test_task, gamma=opt.gamma)
    base = train_task if test_task is None else test_task
    exact = [curve.subs(m, k) for k in lengths]
    best_curve = _best_risk_curve(base)
    best = [best_curve.subs(m, k) for k in lengths]
    points = []
    if samples:
        gamma = float_matrix(opt.gamma)
        noise = 0 if base.noise_symbolic else base.noise
        for i, k in enumerate(lengths):
            from derivations import Task

            tk = Task(d=base.d, n=int(k), noise=noise, covariance=base.Sigma if base.covariates.is_gaussian else None,
                      prior=base.Omega, covariates=base.covariates)
            est = loss_at_gd_point(numeric_task(tk, int(k), noise), gamma, samples, seed + i)
            points.append((int(k), est.mean, est.se))
    return {"lengths": list(lengths), "exact": exact, "best": best, "points": points,
            "train_n": int(train_task.n), "curve": curve}


def _best_risk_curve(task):
    """L*_m: the optimum's loss with symbolic context length, renamed to m."""
    from derivations import Task, global_optimum
    from derivations.shift import m
    from derivations.symbols import n

    symbolic = Task(d=task.d, n=None, noise=task.noise, covariance=task.Sigma if task.covariates.is_gaussian else None,
                    prior=task.Omega, covariates=task.covariates)
    return global_optimum(symbolic).loss.xreplace({n: m})


def draw(data: dict, directory, stem: str = "risk_vs_length", title: str = "") -> list[str]:
    """risk_vs_length.{pdf,png}: exact risk of Gamma*_N at length m, L*_m, and MC points (+-2 SE)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    from .report.figures import _save

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    from derivations.shift import m

    lo, hi = min(data["lengths"]), max(data["lengths"])
    grid = np.unique(np.round(np.geomspace(lo, hi, 200)).astype(int))
    curve = sp.lambdify(m, data["curve"], "mpmath")
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    ax.plot(grid, [float(curve(int(k))) for k in grid], color="C0",
            label=f"exact risk of Γ* trained at n = {data['train_n']}")
    ax.plot(data["lengths"], [float(x) for x in data["best"]], "s--", color="C2", markersize=4,
            label="exact L*ₘ (trained at the test length)")
    if data["points"]:
        ks, means, ses = zip(*data["points"], strict=True)
        ax.errorbar(ks, means, yerr=2 * np.asarray(ses), fmt="o", color="C3", markersize=4, capsize=2,
                    label="Monte Carlo risk of Γ* (±2 SE)")
    ax.axvline(data["train_n"], color="0.6", linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    ax.set_xticks(data["lengths"])
    ax.xaxis.set_major_formatter(FormatStrFormatter("%d"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("test context length m")
    ax.set_ylabel("expected loss E[(ŷ − y_q)²]")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    written = _save(fig, directory, stem)
    plt.close(fig)
    return written


__all__ = ["curve_data", "draw"]
