"""``--suite landscape``: certified critical points per distribution, and where real training ends.

Two kinds of task (``TaskSpec.landscape``):

* ``"critical"`` -- :func:`derivations.landscape.landscape` for one distribution: every critical
  point found, each certified (Krawczyk existence in ball arithmetic or exact arithmetic, inertia
  modulo the exactly identified symmetries, loss enclosure). Checks: the symmetries leave the loss
  invariant (exact identity); the lowest certified loss equals L* of :func:`global_optimum` exactly;
  every listed point is certified; at d = 1 the points agree with the exact Groebner solver; for a
  spurious local minimum, the pull-back to the paper's (W^K, W^Q, W^V, h); for a polynomial
  response, the exact loss polynomial against Monte Carlo at random parameters.
* ``"training"`` -- :func:`numerics.training.train` over seeds, initialisations and optimisers
  (the numerics side never sees the exact answer), then each run is classified here against the
  certified critical points (:func:`classify_run`). Checks: every run's fresh-sample loss agrees
  with the exact loss at its own final weights (z-test), and each classification is consistent
  with the run's final loss.

The JSON of a task (``symbolic``) holds ``landscape = [{"point", "loss", "kind", "certified",
"inertia", ...}]``; training tasks add ``runs`` and a summary table. Figures (loss curves with
the exact L* and the certified spurious levels as reference lines) are drawn by
:mod:`verify.landscape_figures`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import sympy as sp

from derivations.task import Response, Task

from . import checks as C
from .spec import TaskSpec
from .stats import measured, z_threshold

#: the distributions of the suite (d = 2, n = 5, s2 = 1/4 unless stated)
SIGMA2 = [[2, 1], [1, 3]]
N, NOISE = 5, "1/4"


@dataclass(frozen=True)
class TrainingPlan:
    """Runs of one training task: every (init, optimiser) pair for ``seeds`` seeds."""

    d: int
    n: int
    noise: str
    inits: tuple = ("gaussian", "zfb")
    optimisers: tuple = ("adam", "sgd")
    seeds: int = 6
    steps: int = 2000
    batch: int = 256
    lr: dict = None
    eval_samples: int = 60_000

    def learning_rate(self, optimiser: str) -> float:
        return (self.lr or {"adam": 1e-2, "sgd": 2e-2})[optimiser]

    def runs(self) -> int:
        return len(self.inits) * len(self.optimisers) * self.seeds


def critical_specs(grid_d1: bool = True) -> list:
    cubic = Response("single-index", link="s^3")
    specs = []
    if grid_d1:
        from derivations.landscape import D1_GRID

        for n, s2 in D1_GRID:
            specs.append(TaskSpec(f"landscape-thm1-d1-n{n}-s2-{str(s2).replace('/', 'o')}",
                                  Task(d=1, n=n, noise=s2), numeric=False, landscape="critical",
                                  description=f"Theorem 1, d = 1, n = {n}, s2 = {s2}: every critical point"))
    specs += [
        TaskSpec("landscape-thm1-d2", Task(d=2, n=N, noise=NOISE), numeric=False, landscape="critical",
                 description="Theorem 1 (Sigma = Omega = I), d = 2, n = 5, s2 = 1/4"),
        TaskSpec("landscape-thm2-d2", Task(d=2, n=N, noise=NOISE, covariance=SIGMA2, prior="inverse-covariance"),
                 numeric=False, landscape="critical",
                 description="Theorem 2 (Sigma = [[2,1],[1,3]], Omega = Sigma^-1), d = 2, n = 5, s2 = 1/4"),
        TaskSpec("landscape-omega-identity-d2", Task(d=2, n=N, noise=NOISE, covariance=SIGMA2), numeric=False,
                 landscape="critical",
                 description="Omega = I, Sigma = [[2,1],[1,3]] (Ahn et al., Wu et al.), d = 2, n = 5, s2 = 1/4"),
        TaskSpec("landscape-cubic-d1", Task(d=1, n=N, noise=NOISE, response=cubic), numeric=False,
                 landscape="critical", description="cubic link y = (w^T x)^3 + eps, d = 1, n = 5, s2 = 1/4"),
        TaskSpec("landscape-cubic-d2", Task(d=2, n=N, noise=NOISE, response=cubic), numeric=False,
                 landscape="critical", description="cubic link y = (w^T x)^3 + eps, d = 2, n = 5, s2 = 1/4"),
    ]
    return specs


def training_specs() -> list:
    plans = [TrainingPlan(d=2, n=N, noise=NOISE, seeds=4),
             TrainingPlan(d=3, n=N, noise=NOISE, optimisers=("adam",), seeds=3)]
    return [TaskSpec(f"training-thm1-d{p.d}", Task(d=p.d, n=p.n, noise=p.noise), numeric=False,
                     landscape="training", control={"plan": p},
                     description=(f"the paper-parameterisation LSA trained on fresh prompts ({p.runs()} runs), "
                                  f"Theorem 1, d = {p.d}, n = {p.n}, s2 = {p.noise}"))
            for p in plans]


def landscape_suite() -> list:
    return critical_specs() + training_specs()


def estimated_seconds(spec: TaskSpec) -> float:
    """A generous estimate on the reference machine (2 cores, loaded)."""
    if spec.landscape == "critical":
        return 5.0 if spec.task.d == 1 else 15.0
    plan = spec.control["plan"]
    return 15.0 * plan.d + plan.runs() * 2e-6 * plan.steps * plan.batch * (plan.n + 1) * plan.d


# --- the critical-point side ------------------------------------------------------------------------

def _landscape_checks(spec: TaskSpec, land) -> list:
    checks = []
    sym_ok = all(s["invariance_checked_exactly"] for s in land.symmetries)
    checks.append(C.exact_check(
        "symmetries", sym_ok,
        f"{len(land.symmetries)} symmetry generator(s) (gauge + data symmetries) leave the loss invariant: "
        "grad L . K p = 0 as exact polynomials"))
    low = land.lowest_certified_loss
    enclosures_above = all(p.loss_bounds()[0] >= float(land.L_star) - 1e-12 for p in land.certified)
    ok = low is not None and sp.Rational(low) == land.L_star and enclosures_above
    checks.append(C.exact_check(
        "lowest-equals-L-star", ok,
        f"the lowest certified loss is {low} (exact global minimiser u = e_(d+1), A = Gamma*^T, b = 0), "
        f"L* = {land.L_star} from the global-optimality certificate; every other certified loss is >= L*"))
    uncertified = [p for p in land.points if not p.certified]
    checks.append(C.exact_check(
        "all-certified", not uncertified,
        f"{len(land.points)} critical values listed, {len(land.points) - len(uncertified)} certified"
        + ("; NOT certified: " + "; ".join(p.reason for p in uncertified[:3]) if uncertified else "")))
    return checks


def d1_grid_check(task: Task, land) -> C.Check:
    """Every point of the exact Groebner solver lies on a listed orbit (same loss and kind)."""
    from derivations.landscape import stationary_points_d1

    points = stationary_points_d1(int(task.n), task.noise, task=task)
    kind_map = {"global minimum": "global-min", "saddle": "saddle", "spurious local minimum": "local-min"}
    missing = []
    for pt in points:
        value = float(pt.loss)
        match = [p for p in land.certified if abs(sum(p.loss_bounds()) / 2 - value) < 1e-9 * max(1, abs(value))]
        if not match or kind_map.get(pt.kind) != match[0].kind:
            missing.append(f"L = {value:.9g} ({pt.kind})")
    values = sorted({round(float(p.loss), 9) for p in points})
    listed = sorted({round(sum(p.loss_bounds()) / 2, 9) for p in land.certified})
    ok = not missing and values == listed
    return C.exact_check("d1-groebner-agrees", ok,
                         f"{len(points)} Groebner points on the balanced slice, critical values {values}; "
                         f"certified values {listed}" + (f"; unmatched: {missing}" if missing else ""))


def pullback_check(task: Task, point) -> C.Check:
    """A local minimum of L_eff pulls back to a local minimum of the paper's parameterisation.

    Proof (recorded in the detail): Phi(W^K, W^Q, W^V, h) = (W^V^T h, (W^K^T W^Q)[:, :d]) is
    continuous and L_paper = L_eff o Phi (the reduction identity, certified exactly in every
    global-optimum certificate). If L_eff >= L_eff(p*) on a neighbourhood U of p*, then for every W
    with Phi(W) = p* and every W' in the open set Phi^{-1}(U): L_paper(W') >= L_paper(W). Such W
    exists: W^K = I, W^V = I, h = u*, W^Q = [M*, 0]. Checked here as well: at that W, 2000 random
    perturbations of size 1e-3 never lower L_paper (float evaluation of the exact polynomial).
    """
    from derivations.landscape import loss_polynomial

    loss = loss_polynomial(task)
    d = task.d
    x = point.point_float()
    u, M = x[: d + 1], x[d + 1:].reshape(d + 1, d)
    D = d + 1
    WK, WV, h = np.eye(D), np.eye(D), u.copy()
    WQ = np.zeros((D, D))
    WQ[:, :d] = M

    def L_paper(WK, WQ, WV, h):
        uu = WV.T @ h
        MM = (WK.T @ WQ)[:, :d]
        return loss.value_float(np.r_[uu, MM.ravel()])

    base = L_paper(WK, WQ, WV, h)
    rng = np.random.default_rng(0)
    worst = math.inf
    for _ in range(2000):
        dK, dQ, dV = (rng.normal(size=(D, D)) * 1e-3 for _ in range(3))
        dh = rng.normal(size=D) * 1e-3
        worst = min(worst, L_paper(WK + dK, WQ + dQ, WV + dV, h + dh) - base)
    ok = worst >= -1e-12 * max(1.0, base)
    return C.exact_check(
        "pullback-paper", ok,
        "proved: L_paper = L_eff o Phi with Phi continuous, so every preimage of a local minimum of L_eff is a "
        "local minimum of L_paper (realised by W^K = W^V = I, h = u*, W^Q = [M*, 0]); checked: 2000 perturbations "
        f"of size 1e-3 of those weights, smallest change of L_paper {worst:.3e} (>= 0 up to rounding)")


def _mc_loss_minus_target(ntask, u, M, samples: int, seed: int, batches: int = 30):
    """Batch-means estimate of E[yhat^2 - 2 yhat y_q] = L(u, M) - E[y_q^2] (the target's own heavy-
    tailed variance cancels, so the estimate is much sharper than that of L itself)."""
    import torch

    from numerics import make_generator, predict_effective, sample_prompts

    gen = make_generator(seed)
    per = samples // batches
    means = []
    with torch.no_grad():
        for _ in range(batches):
            p = sample_prompts(ntask, per, gen)
            yhat = predict_effective(p, u, M)
            means.append(float((yhat * yhat - 2 * yhat * p.yq).mean()))
    means = np.array(means)
    return float(means.mean()), float(means.std(ddof=1) / np.sqrt(batches))


def cubic_mc_check(task: Task, seed: int, samples: int = 300_000, loss=None) -> C.Check:
    """The exact loss polynomial of a polynomial response against Monte Carlo at random parameters.

    Compared: L(u, M) - L(0) (exact) with the Monte Carlo mean of yhat^2 - 2 yhat y_q (numerics'
    sampler and LSA), at two random points, one with b = 0 and one with u_y = 0: with both nonzero
    the prediction holds y_i^2 = (w^T x_i)^6 and the squared error has moments of degree 24, too
    heavy-tailed to test at an affordable sample size (the terms in u_y b come from the same code
    path that reproduces the linear-response loss exactly, tested).
    """
    from derivations.landscape import loss_polynomial
    from numerics import NumericTask
    from numerics import Response as NResponse

    loss = loss if loss is not None else loss_polynomial(task)      # override: negative controls
    d = task.d
    rng = np.random.default_rng(seed)
    ntask = NumericTask(d=d, n=int(task.n), noise=float(sp.Rational(task.noise)),
                        response=NResponse.single_index("cube"))
    base = loss.value_float(np.zeros(loss.size))
    worst, details = None, []
    t = z_threshold(2, df=29)
    for k, which in enumerate(("b = 0", "u_y = 0")):
        x = rng.uniform(-0.4, 0.4, size=loss.size)
        if which == "b = 0":
            x[loss.size - d:] = 0.0
        else:
            x[d] = 0.0
        exact = loss.value_float(x) - base
        mean, se = _mc_loss_minus_target(ntask, x[: d + 1], x[d + 1:].reshape(d + 1, d), samples, seed + 1 + k)
        z = (mean - exact) / se
        details.append(f"{which}: {measured(mean, se)} vs exact {exact:.6g} (z = {z:.2f})")
        worst = z if worst is None or abs(z) > abs(worst) else worst
    ok = abs(worst) <= t
    return C.Check("loss-polynomial-vs-monte-carlo", "pass" if ok else "fail", worst,
                   "MC of L(u, M) - L(0) at random (u, M) vs the exact lifted loss of y = (w^T x)^3 + eps: "
                   + "; ".join(details) + f" (tolerance |z| <= {t:.2f}: alpha = 1e-4, Bonferroni over 2, "
                   "t with 29 df)", t, "numeric")


def critical_exact_side(spec: TaskSpec, seed: int = 0, numeric: bool = True):
    from derivations.landscape import landscape

    task = spec.task
    land = landscape(task, starts=spec.control.get("starts", 20), seed=spec.control.get("seed", 0))
    checks = _landscape_checks(spec, land)
    if task.d == 1:
        checks.append(d1_grid_check(task, land))
    for p in land.spurious_minima:
        checks.append(pullback_check(task, p))
        break
    if not task.is_linear:
        checks.append(cubic_mc_check(task, seed) if numeric else
                      C.not_applicable("loss-polynomial-vs-monte-carlo", "skipped by --no-numeric"))
    doc = land.as_json()
    symbolic = {"gamma": None, "eta": None, "loss": str(land.L_star), "form": "landscape",
                "assumptions": {"n": str(task.n), "noise": str(task.noise)},
                "strength": "enclosure", **doc}
    levels = [{"kind": p.kind, "loss": p.loss_bounds(), "certified": p.certified} for p in land.points]
    return {"kind": "critical", "levels": levels, "L_star": float(land.L_star), "landscape": doc}, symbolic, checks


# --- the training side ----------------------------------------------------------------------------

def classify_run(levels, L_star: float, exact_final: float, estimate: float, se: float, df: int = 29) -> dict:
    """Where a run ended, from certified critical levels and its own measurements.

    The run's fresh-sample loss ``estimate`` +- ``se`` must agree with the exact loss at its final
    weights (``exact_final``, computed from the exact polynomial): that is a z-test with the t
    threshold for alpha = 1e-4. The run "ended at" the certified level nearest to ``exact_final``
    when the gap is within the same tolerance, tol = t * se; otherwise it is "still moving".
    ``levels``: [{"kind", "loss": (lo, hi), "certified"}]. Returns {"class", "level", "gap", "z",
    "tolerance"}.
    """
    t = z_threshold(1, df=df)
    tol = t * se
    z = (estimate - exact_final) / se if se > 0 and math.isfinite(se) else math.inf
    best, gap = None, math.inf
    for i, lev in enumerate(levels):
        if not lev["certified"]:
            continue
        lo, hi = lev["loss"]
        g = 0.0 if lo <= exact_final <= hi else min(abs(exact_final - lo), abs(exact_final - hi))
        if g < gap:
            best, gap = i, g
    if best is None or not math.isfinite(exact_final) or gap > tol:
        cls = "still moving"
    else:
        cls = levels[best]["kind"]
    return {"class": cls, "level": best, "gap": gap, "z": z, "tolerance": tol}


def training_exact_side(spec: TaskSpec, seed: int = 0):
    from derivations.landscape import landscape, loss_polynomial
    from numerics import NumericTask
    from numerics.training import TrainingConfig, train

    from .runner import task_seed

    plan: TrainingPlan = spec.control["plan"]
    task = spec.task
    start = time.perf_counter()
    land = landscape(task, starts=20, seed=0)
    land_seconds = time.perf_counter() - start
    loss = loss_polynomial(task)
    levels = [{"kind": p.kind, "loss": p.loss_bounds(), "certified": p.certified} for p in land.points]
    ntask = NumericTask(d=plan.d, n=plan.n, noise=float(sp.Rational(plan.noise)))
    runs, base = [], task_seed(seed, spec.name)
    for init in plan.inits:
        for opt in plan.optimisers:
            config = TrainingConfig(optimiser=opt, lr=plan.learning_rate(opt), batch=plan.batch, steps=plan.steps,
                                    init=init, eval_samples=plan.eval_samples)
            for k in range(plan.seeds):
                run = train(ntask, config, base + k)
                exact_final = loss.value_float(np.r_[run.u, run.M.ravel()]) if not run.diverged else math.inf
                verdict = classify_run(levels, float(land.L_star), exact_final, run.final_loss, run.final_loss_se)
                runs.append({**run.as_json(), "exact_final_loss": exact_final, **verdict})
    checks = _training_checks(runs, levels)
    table = summarise(runs)
    doc = land.as_json()
    symbolic = {"gamma": None, "eta": None, "loss": str(land.L_star), "form": "training",
                "assumptions": {"n": str(task.n), "noise": str(task.noise)}, "strength": "enclosure",
                "landscape": doc["landscape"], "runs": runs, "table": table,
                "landscape_seconds": round(land_seconds, 2)}
    return {"kind": "training", "levels": levels, "L_star": float(land.L_star), "runs": runs,
            "table": table}, symbolic, checks


def _training_checks(runs, levels) -> list:
    finite = [r for r in runs if math.isfinite(r["z"])]
    k = max(1, len(finite))
    t = z_threshold(k, df=29)
    worst = max(finite, key=lambda r: abs(r["z"]), default=None)
    ok = worst is not None and abs(worst["z"]) <= t
    checks = [C.Check("final-loss-mc-vs-exact", "pass" if ok else "fail", None if worst is None else worst["z"],
                      (f"{len(finite)} runs: fresh-sample loss of the final weights vs the exact loss at those "
                       "weights, "
                       f"max |z| = {abs(worst['z']) if worst else float('nan'):.2f} (tolerance {t:.2f}: alpha = 1e-4, "
                       f"Bonferroni over {k}, t with 29 df)"), t, "numeric")]
    bad = []
    for r in runs:
        if r["class"] == "still moving":
            continue
        lo, hi = levels[r["level"]]["loss"]
        if not (lo - r["tolerance"] <= r["exact_final_loss"] <= hi + r["tolerance"]):
            bad.append(r["seed"])
    checks.append(C.exact_check("classification-consistent", not bad,
                                f"every classified run's final loss lies within its tolerance of the level it "
                                f"was classified at ({len(runs) - len(bad)}/{len(runs)})"))
    return checks


def summarise(runs) -> list:
    """Rows (init, optimiser, runs, fractions per class, mean seconds)."""
    rows = []
    keys = sorted({(r["config"]["init"], r["config"]["optimiser"]) for r in runs})
    for init, opt in keys:
        sel = [r for r in runs if r["config"]["init"] == init and r["config"]["optimiser"] == opt]
        count = {c: sum(1 for r in sel if r["class"] == c)
                 for c in ("global-min", "local-min", "saddle", "still moving")}
        rows.append({"init": init, "optimiser": opt, "runs": len(sel), **count,
                     "seconds_mean": round(float(np.mean([r["seconds"] for r in sel])), 2)})
    return rows


def landscape_exact_side(spec: TaskSpec, seed: int = 0, numeric: bool = True):
    """(exact plain data, symbolic JSON, checks) of a landscape-suite task (the runner's dispatch).

    With ``numeric=False`` (``--no-numeric``) the Monte Carlo check of a critical task is skipped
    and a training task trains nothing: it reports one not-applicable check.
    """
    if spec.landscape == "critical":
        return critical_exact_side(spec, seed, numeric)
    if not numeric:
        symbolic = {"gamma": None, "eta": None, "loss": "", "form": "training", "assumptions": {},
                    "strength": "instance"}
        return {"kind": "training", "runs": []}, symbolic, [
            C.not_applicable("training", "training runs are Monte Carlo work; skipped by --no-numeric")]
    return training_exact_side(spec, seed)


__all__ = ["TrainingPlan", "classify_run", "critical_specs", "estimated_seconds", "landscape_exact_side",
           "landscape_suite", "summarise", "training_specs"]
