"""Monte Carlo estimate of the pre-training loss L = E[(yhat - y_q)^2] with an honest SE.

The standard error is by **batch means**: the N prompts are split into ``batches`` (>= 30)
equal groups, each group's mean squared error is one observation, and
SE = sd(group means) / sqrt(batches). Group means of many prompts are close to normal even
for heavy-tailed responses (e.g. y = (w^T x)^3), and the estimator of Var(mean) is unbiased
whatever the tails, so the SE is not optimistic the way a plug-in from a few extreme values
can be.

>>> import numpy as np
>>> from numerics.task import NumericTask
>>> t = NumericTask(d=2, n=10, noise=0.25)
>>> u, M = np.r_[0.0, 0.0, 1.0], np.r_[np.eye(2) * 0.75, np.zeros((1, 2))]
>>> est = mc_loss(t, (u, M), samples=30_000, seed=1)
>>> abs(est.mean - 0.740625) < 5 * est.se    # closed form L(eta) for Sigma = Omega = I
True
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from . import budget
from .model import LSA, predict_effective
from .progress import Progress
from .sampling import batch_sizes, default_batch, sample_prompts
from .task import NumericTask, make_generator, resolve_device

MIN_BATCHES = 30


@dataclass(frozen=True)
class LossEstimate:
    """mean +- se from ``samples`` prompts in ``batches`` batch means."""

    mean: float
    se: float
    samples: int
    batches: int
    seconds: float

    def z(self, value: float) -> float:
        """(mean - value) / se: the z-score of a claimed exact value."""
        return (self.mean - value) / self.se


def _predictor(task: NumericTask, params):
    """A function prompts -> yhat, from an LSA module or explicit (u, M[, r])."""
    if isinstance(params, LSA):
        if (
            (params.d, params.n) != (task.d, task.n)
            or params.query_in_keys != task.query_in_keys
            or params.residual != task.residual
        ):
            raise ValueError("model: its d, n, query_in_keys and residual must match the task")
        return params
    if isinstance(params, torch.nn.Module):
        return params
    if isinstance(params, dict):
        u, M, r = params["u"], params["M"], params.get("r")
    else:
        u, M, *rest = params
        r = rest[0] if rest else None
    u, M = np.asarray(u, dtype=np.float64), np.asarray(M, dtype=np.float64)
    if u.shape != (task.D,) or M.shape != (task.D, task.d):
        raise ValueError(
            f"effective parameters: need u of shape ({task.D},) and M of shape "
            f"({task.D}, {task.d}); got {u.shape} and {M.shape}"
        )
    if r is not None:
        r = np.asarray(r, dtype=np.float64)
        if r.shape != (task.d,):
            raise ValueError(f"effective parameters: r must have shape ({task.d},), got {r.shape}")
        if not task.residual and np.any(r != 0):
            raise ValueError("effective parameters: r is nonzero but the task has no residual")
    return lambda prompts: predict_effective(prompts, u, M, r, task.query_in_keys)


def mc_loss(
    task: NumericTask,
    params,
    samples: int = 100_000,
    seed: int = 0,
    batches: int = MIN_BATCHES,
    batch_size: int | None = None,
    device: str = "cpu",
    progress: bool | None = None,
) -> LossEstimate:
    """Estimate L = E[(yhat - y_q)^2] for ``params``: an LSA module or effective (u, M[, r]).

    ``samples`` is rounded down to a multiple of ``batches`` (each batch mean uses the same
    number of prompts). Deterministic for a given (seed, samples, batch_size); the batch
    count only groups the same prompts differently.
    """
    if batches < MIN_BATCHES:
        raise ValueError(
            f"batches: need at least {MIN_BATCHES} for an honest batch-means SE, got {batches}"
        )
    per = samples // batches
    if per < 1:
        raise ValueError(f"samples: need at least one prompt per batch ({batches}), got {samples}")
    budget.check(budget.sampling_cost(task, samples), "mc_loss")
    dev = resolve_device(device)
    if isinstance(params, torch.nn.Module):
        params = params.to(dev)
    predict = _predictor(task, params)
    chunk = batch_size or default_batch(task, (task.n + 1) * (task.d + 1))
    gen = make_generator(seed, dev)
    start = time.perf_counter()
    # Prompts are streamed in chunks that ignore batch boundaries (few, large torch calls);
    # each prompt's squared error is credited to batch (global index // per).
    sums = np.zeros(batches)
    done = 0
    with torch.no_grad(), Progress(per * batches, "mc_loss", progress) as bar:
        for size in batch_sizes(per * batches, chunk):
            p = sample_prompts(task, size, gen, dev)
            sq = ((predict(p) - p.yq) ** 2).cpu().numpy()
            sums += np.bincount((done + np.arange(size)) // per, weights=sq, minlength=batches)
            done += size
            bar.update(size)
    means = sums / per
    return LossEstimate(
        mean=float(means.mean()),
        se=float(means.std(ddof=1) / math.sqrt(batches)),
        samples=per * batches,
        batches=batches,
        seconds=time.perf_counter() - start,
    )


@dataclass(frozen=True)
class StepEstimate:
    """The least-squares step size on the one-step-GD family, eta = E[P y_q] / E[P^2] with
    P = x_q^T g, g = (1/n) sum_i y_i x_i, and its delete-one-batch jackknife SE."""

    eta: float
    se: float
    samples: int
    batches: int
    seconds: float

    def z(self, value: float) -> float:
        return (self.eta - value) / self.se


def gd_step(
    task: NumericTask,
    samples: int = 100_000,
    seed: int = 0,
    batches: int = MIN_BATCHES,
    batch_size: int | None = None,
    device: str = "cpu",
    progress: bool | None = None,
) -> StepEstimate:
    """Minimise the Monte Carlo loss over the GD family yhat = eta x_q^T g (a ratio of two means:
    the family is one-dimensional, so no optimiser is needed); SE by a delete-one-batch jackknife.

    >>> from numerics.task import NumericTask
    >>> est = gd_step(NumericTask(d=2, n=10, noise=0.25), samples=30_000, seed=1)
    >>> abs(est.z(10 / 13.25)) < 4.5      # Theorem 1: eta* = n / (n + d + 1 + s2)
    True
    """
    if batches < MIN_BATCHES:
        raise ValueError(f"batches: need at least {MIN_BATCHES}, got {batches}")
    per = samples // batches
    if per < 1:
        raise ValueError(f"samples: need at least one prompt per batch ({batches}), got {samples}")
    budget.check(budget.sampling_cost(task, samples), "gd_step")
    dev = resolve_device(device)
    chunk = batch_size or default_batch(task, (task.n + 1) * (task.d + 1))
    gen = make_generator(seed, dev)
    start = time.perf_counter()
    py, pp = np.zeros(batches), np.zeros(batches)
    done = 0
    with torch.no_grad(), Progress(per * batches, "gd_step", progress) as bar:
        for size in batch_sizes(per * batches, chunk):
            p = sample_prompts(task, size, gen, dev)
            g = torch.einsum("bm,bmd->bd", p.y, p.x) / task.n
            P = (p.xq * g).sum(-1)
            index = (done + np.arange(size)) // per
            py += np.bincount(index, weights=(P * p.yq).cpu().numpy(), minlength=batches)
            pp += np.bincount(index, weights=(P * P).cpu().numpy(), minlength=batches)
            done += size
            bar.update(size)
    eta = float(py.sum() / pp.sum())
    leave = (py.sum() - py) / (pp.sum() - pp)
    se = float(np.sqrt((batches - 1) / batches * np.sum((leave - leave.mean()) ** 2)))
    return StepEstimate(eta, se, per * batches, batches, time.perf_counter() - start)
