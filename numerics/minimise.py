"""Minimise the expected LSA loss by sample-average approximation (SAA) + L-BFGS.

Method
------
1. Draw N prompts in G groups (batch-wise, memory bounded) and accumulate, per group, the
   sufficient statistics of the lifted quadratic: sum F F^T, sum F y_q, sum y_q^2 and the
   count, where F is the reduced feature vector of :mod:`numerics.features`. The empirical
   loss of ANY LSA is then L_hat(theta) = theta^T H theta - 2 c^T theta + k with
   (H, c, k) the means, evaluated in O(p^2) independently of N.
2. Minimise L_hat over the actual LSA parameters (``parameterisation`` "effective": u, M [, r];
   "paper": W^K, W^Q, W^V, h; "merged": W^KQ, W^PV) with L-BFGS from ``restarts`` seeded random
   initialisations; keep the best and report whether all restarts agree (same loss and the
   same predictor theta).
3. Standard errors by a delete-one-group jackknife: refit with group g removed (warm start
   from the full fit; cheap, only the statistics change) for g = 1..G and take
   SE = sqrt((G - 1)/G * sum_g (est_g - mean)^2). The same is done for the unconstrained
   lifted least-squares solution H^+ c (the convex-lift optimum) and for the loss.
4. The minimum ``loss`` is IN-SAMPLE and therefore biased low by O(p L / N);
   ``loss_debiased`` is the jackknife bias-corrected value G L - (G - 1) mean_g L_g, and
   ``fresh_loss`` is a Monte Carlo evaluation of the fitted parameters on fresh prompts
   (biased high by O(p/N) since the fit is not the exact optimum).

No variance reduction uses the symmetries the theorems rely on: no antithetic pairs, no
analytic expectations; the sample is plain iid prompts.

>>> from numerics.task import NumericTask
>>> res = minimise(NumericTask(d=1, n=4, noise=0.0), samples=6_000, groups=20, restarts=2, seed=0)
>>> bool(abs(res.eta - 4 / 6) < 4 * res.eta_se), res.restarts_agree   # exact: n/(n+d+1+s2)
(True, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from . import budget
from . import features as feat
from .estimate import mc_loss
from .fit import Objective, lbfgs
from .progress import Progress
from .sampling import DTYPE, batch_sizes, default_batch, sample_prompts
from .task import NumericTask, make_generator, resolve_device, spawn_seeds


@dataclass
class MinimiseResult:
    """What :func:`minimise` reports. Arrays are float64 numpy.

    gamma (d x d), odd (p_odd,) with odd_names: the LSA optimum's GD block (Gamma, pinned
    convention yhat_GD = x_q^T Gamma g) and odd-block coefficients; *_se: jackknife SEs.
    eta = trace(Gamma)/d. loss: in-sample minimum (biased low by O(p/N)); loss_debiased:
    jackknife bias-corrected; fresh_loss: the fitted parameters on fresh prompts.
    lifted_*: the convex-lift least-squares optimum H^+ c (its GD block as a Gamma).
    restarts_agree: every restart reached the best loss and predictor; restarts_at_best: how
    many did (the LSA loss has spurious local minima, e.g. at d = 2, so a best found by >= 2
    restarts is the evidence to ask for). u, M, r: effective parameters of the best fit.
    history: cumulative fits after roughly geometric numbers of groups (samples, eta, loss,
    lifted_eta) for a convergence figure.
    """

    gamma: np.ndarray
    gamma_se: np.ndarray
    odd: np.ndarray
    odd_se: np.ndarray
    odd_names: list[str]
    eta: float
    eta_se: float
    loss: float
    loss_se: float
    loss_debiased: float
    fresh_loss: float | None
    fresh_loss_se: float | None
    lifted_gamma: np.ndarray
    lifted_gamma_se: np.ndarray
    lifted_odd: np.ndarray
    lifted_odd_se: np.ndarray
    lifted_loss: float
    u: np.ndarray
    M: np.ndarray
    r: np.ndarray
    theta: np.ndarray
    samples: int
    groups: int
    seconds: float
    restarts_agree: bool
    restarts_at_best: int
    restart_losses: list[float]
    parameterisation: str
    history: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"eta = {self.eta:.6f} +- {self.eta_se:.2g}, "
            f"L* = {self.loss:.6f} +- {self.loss_se:.2g} "
            f"(N = {self.samples}, {self.seconds:.2f} s, restarts at best: "
            f"{self.restarts_at_best}/{len(self.restart_losses)})"
        )


# --- sufficient statistics --------------------------------------------------------------
@dataclass
class _Stats:
    """Per-group SUMS: H (G, p, p), c (G, p), k (G,), count (G,)."""

    H: np.ndarray
    c: np.ndarray
    k: np.ndarray
    count: np.ndarray

    def means(self, keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float]:
        sel = slice(None) if keep is None else keep
        N = self.count[sel].sum()
        return self.H[sel].sum(0) / N, self.c[sel].sum(0) / N, float(self.k[sel].sum() / N)


def _accumulate(
    task: NumericTask, samples: int, groups: int, generator, dev, batch_size, progress
) -> _Stats:
    p = feat.dimension(task.d, task.residual)
    per = samples // groups
    chunk = batch_size or default_batch(task, p)
    H, c = np.zeros((groups, p, p)), np.zeros((groups, p))
    k, count = np.zeros(groups), np.full(groups, float(per))
    # Prompts are streamed in chunks that ignore group boundaries (few, large torch calls);
    # prompt number i (in draw order) belongs to group i // per.
    done = 0
    with torch.no_grad(), Progress(per * groups, "minimise: sampling", progress) as bar:
        for size in batch_sizes(per * groups, chunk):
            prompts = sample_prompts(task, size, generator, dev)
            F = feat.feature_matrix(prompts, task.query_in_keys, task.residual)
            yq = prompts.yq
            lo = done
            while lo < done + size:
                g = lo // per
                hi = min((g + 1) * per, done + size)
                Fs, ys = F[lo - done : hi - done], yq[lo - done : hi - done]
                H[g] += (Fs.T @ Fs).cpu().numpy()
                c[g] += (Fs.T @ ys).cpu().numpy()
                k[g] += float(ys @ ys)
                lo = hi
            done += size
            bar.update(size)
    return _Stats(H, c, k, count)


# --- fitting ----------------------------------------------------------------------------
def _fit(obj: Objective, x0: np.ndarray) -> tuple[np.ndarray, float]:
    """L-BFGS on the gauge-penalised objective; returns (x, L_hat(x)) without the penalty."""
    x, _, _ = lbfgs(obj, x0)
    return x, obj.loss(x)


def _lifted(H: np.ndarray, c: np.ndarray, k: float) -> tuple[np.ndarray, float]:
    """Least-squares optimum of the lift, H^+ c, and its loss k - c^T H^+ c.

    Solved in torch (Cholesky, falling back to least squares when H is singular): numpy's
    threaded LAPACK competes with torch's thread pool on small machines.
    """
    Ht, ct = torch.as_tensor(H, dtype=DTYPE), torch.as_tensor(c, dtype=DTYPE).unsqueeze(1)
    L, info = torch.linalg.cholesky_ex(Ht)
    if int(info) == 0:
        th = torch.cholesky_solve(ct, L)
    else:
        th = torch.linalg.lstsq(Ht, ct, driver="gelsd").solution
    th = th.squeeze(1).numpy()
    return th, float(k - c @ th)


def _jackknife_se(values: np.ndarray) -> np.ndarray:
    G = values.shape[0]
    return np.sqrt((G - 1) / G * ((values - values.mean(0)) ** 2).sum(0))


def minimise(
    task: NumericTask,
    samples: int = 100_000,
    seed: int = 0,
    groups: int = 30,
    restarts: int = 8,
    parameterisation: str = "effective",
    batch_size: int | None = None,
    fresh_samples: int | None = None,
    init_std: float | None = None,
    history: bool = True,
    device: str = "cpu",
    progress: bool | None = None,
) -> MinimiseResult:
    """Minimise E[(yhat - y_q)^2] over the LSA of ``task`` from ``samples`` iid prompts.

    samples: rounded down to a multiple of ``groups`` (>= 20, the jackknife groups).
    restarts: random initialisations of L-BFGS (iid N(0, init_std^2) entries, default 0.1),
    plus one start rounded from the convex-lift optimum (see below); restart_losses lists all.
    fresh_samples: prompts for the fresh-sample loss of the fit (default samples // 4; 0 skips
    it). Deterministic for a given seed and arguments. See the module docstring for the method
    and the bias of ``loss``.
    """
    if groups < 20:
        raise ValueError(f"groups: need at least 20 jackknife groups, got {groups}")
    if samples // groups < 1:
        raise ValueError(f"samples: need at least one prompt per group ({groups}), got {samples}")
    if restarts < 1:
        raise ValueError(f"restarts: must be >= 1, got {restarts}")
    budget.check(budget.minimise_cost(task, samples, groups), "minimise")
    dev = resolve_device(device)
    start = time.perf_counter()
    data_seed, init_seed, fresh_seed = spawn_seeds(seed, 3)
    d = task.d

    stats = _accumulate(
        task, samples, groups, make_generator(data_seed, dev), dev, batch_size, progress
    )
    N = int(stats.count.sum())

    # --- fit on all samples from several random starts
    init_gen = make_generator(init_seed)
    obj = Objective(d, parameterisation, task.residual)
    obj.set(*stats.means())
    std = 0.1 if init_std is None else float(init_std)
    fits = []
    with Progress(restarts + 1, "minimise: restarts", progress) as bar:
        for _ in range(restarts):
            x0 = torch.randn(obj.size, generator=init_gen, dtype=DTYPE).numpy() * std
            fits.append(_fit(obj, x0))
            bar.update()
        # One more start: the sample's own convex-lift optimum H^+ c, rounded to an LSA through
        # its GD block. The LSA loss has spurious local minima whose basins can catch every
        # random start; this start is computed from the samples alone (no closed form, no
        # symmetry), L-BFGS still moves freely, and the best loss over all starts wins.
        lifted_gamma0, _ = feat.split(_lifted(*stats.means())[0], d)
        fits.append(_fit(obj, obj.from_gd_block(lifted_gamma0)))
        bar.update()
    best_x, best_loss = min(fits, key=lambda f: f[1])
    best_theta = obj.theta(best_x)
    scale = max(1.0, float(np.abs(best_theta).max()))
    at_best = [
        abs(L - best_loss) <= 1e-7 * max(1.0, abs(best_loss))
        and np.abs(obj.theta(x) - best_theta).max() <= 1e-4 * scale
        for x, L in fits
    ]

    # --- delete-one-group jackknife (LSA fit and lifted optimum)
    jk_theta, jk_loss, jk_lift = [], [], []
    with Progress(groups, "minimise: jackknife", progress) as bar:
        for g in range(groups):
            keep = np.arange(groups) != g
            H, c, k = stats.means(keep)
            obj.set(H, c, k)
            x, L = _fit(obj, best_x)
            jk_theta.append(obj.theta(x))
            jk_loss.append(L)
            jk_lift.append(_lifted(H, c, k)[0])
            bar.update()
    jk_theta, jk_loss, jk_lift = np.array(jk_theta), np.array(jk_loss), np.array(jk_lift)
    theta_se = _jackknife_se(jk_theta)
    gammas, odds = feat.split(jk_theta, d)
    gamma, odd = feat.split(best_theta, d)
    gamma_se = _jackknife_se(gammas)
    eta_se = float(_jackknife_se(np.trace(gammas, axis1=1, axis2=2) / d))
    H, c, k = stats.means()
    lift_theta, lift_loss = _lifted(H, c, k)
    lift_gamma, lift_odd = feat.split(lift_theta, d)
    lift_gammas, _ = feat.split(jk_lift, d)
    lift_se = _jackknife_se(jk_lift)

    # --- convergence history: cumulative fits (warm-started) after each group
    hist = []
    if history:
        for g in _checkpoints(groups):
            keep = np.arange(groups) < g
            Hg, cg, kg = stats.means(keep)
            obj.set(Hg, cg, kg)
            x, L = _fit(obj, best_x)
            gam, _ = feat.split(obj.theta(x), d)
            lg, _ = feat.split(_lifted(Hg, cg, kg)[0], d)
            hist.append(
                {
                    "samples": int(stats.count[keep].sum()),
                    "eta": float(np.trace(gam) / d),
                    "loss": L,
                    "lifted_eta": float(np.trace(lg) / d),
                }
            )

    u, M, r = (None if t is None else np.array(t) for t in obj.effective(best_x))
    r = np.zeros(d) if r is None else r

    fresh = None
    fresh_n = samples // 4 if fresh_samples is None else fresh_samples
    if fresh_n:
        fresh = mc_loss(
            task,
            (u, M, r if task.residual else None),
            samples=fresh_n,
            seed=fresh_seed,
            batch_size=batch_size,
            device=str(dev),
            progress=progress,
        )

    return MinimiseResult(
        gamma=gamma,
        gamma_se=gamma_se,
        odd=odd,
        odd_se=theta_se[d * d :],
        odd_names=feat.odd_names(d, task.residual),
        eta=float(np.trace(gamma) / d),
        eta_se=eta_se,
        loss=best_loss,
        loss_se=float(_jackknife_se(jk_loss)),
        loss_debiased=float(groups * best_loss - (groups - 1) * jk_loss.mean()),
        fresh_loss=None if fresh is None else fresh.mean,
        fresh_loss_se=None if fresh is None else fresh.se,
        lifted_gamma=lift_gamma,
        lifted_gamma_se=_jackknife_se(lift_gammas),
        lifted_odd=lift_odd,
        lifted_odd_se=lift_se[d * d :],
        lifted_loss=lift_loss,
        u=u,
        M=M,
        r=r,
        theta=best_theta,
        samples=N,
        groups=groups,
        seconds=time.perf_counter() - start,
        restarts_agree=all(at_best),
        restarts_at_best=int(sum(at_best)),
        restart_losses=[f[1] for f in fits],
        parameterisation=parameterisation,
        history=hist,
    )


def _checkpoints(groups: int) -> list[int]:
    """Roughly geometric group counts 1, 2, 3, 5, 8, ... up to ``groups`` for the history."""
    marks = sorted({min(groups, round(1.5**j)) for j in range(60)} | {groups})
    return [m for m in marks if m >= 1]
