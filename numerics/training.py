"""Gradient training of the real LSA on fresh prompts: what practitioners run first.

:func:`train` trains one :class:`~numerics.model.LSA` (paper parameterisation by default: W^K,
W^Q, W^V, h) by Adam or SGD on the mean squared error of fresh prompts drawn at every step
(online learning: no prompt is seen twice), from one of two initialisations:

* ``"gaussian"``: every weight iid N(0, init_scale^2) (small random init, the common default);
* ``"zfb"``: the initialisation of Zhang, Frei and Bartlett (arXiv 2306.09927), under which they
  prove that gradient flow on the merged parameterisation reaches the global minimum: the value/
  projection block has only its label-label entry, W^PV(0) = init_scale * e_{d+1} e_{d+1}^T, and
  W^KQ(0) = init_scale * [[Theta Theta^T, 0], [0, 0]] with Theta a d x d Gaussian matrix scaled so
  that ||Theta Theta^T||_F = 1. For the paper parameterisation the same effective parameters are
  produced by W^V = I, h = init_scale * e_{d+1}, W^K = I, W^Q = W^KQ(0) (u = W^V^T h,
  M = first d columns of W^K^T W^Q). (Their theorem is for the merged parameterisation and
  gradient flow; with the paper's four matrices and Adam/SGD it is an initialisation, not a
  guarantee.)

Every run is deterministic for its seed (init, prompts and evaluation draw from separate seeded
generators). The learning rate is constant and then decays linearly to 1% of its value over
the last ``decay_fraction`` of the steps. It records the batch loss and an exponential moving average (EMA) every
``record_every`` steps, the final effective parameters (u, M) and Gamma, and a fresh-sample
estimate of the final loss with its batch-means standard error (:func:`numerics.mc_loss`).
The run itself does not decide where it ended: ``verify`` compares it with the certified
critical points.

>>> from numerics.task import NumericTask
>>> run = train(NumericTask(d=1, n=5, noise=0.25), TrainingConfig(steps=20, batch=64, eval_samples=3000), seed=0)
>>> len(run.steps) == len(run.loss_ema), run.final_loss_se > 0
(True, True)
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from .estimate import mc_loss
from .model import LSA, effective_parameters, gamma_from_effective
from .sampling import DTYPE, sample_prompts
from .task import NumericTask, make_generator, spawn_seeds

OPTIMISERS = ("adam", "sgd")
INITS = ("gaussian", "zfb")
PARAMETERISATIONS = ("paper", "merged")


class TrainingConfigError(ValueError):
    """An invalid training configuration. The message names the field."""


@dataclass(frozen=True)
class TrainingConfig:
    """How one run trains. ``init_scale``: std of the Gaussian init, or sigma of ZFB's init."""

    optimiser: str = "adam"
    lr: float = 1e-2
    batch: int = 256
    steps: int = 2000
    init: str = "gaussian"
    init_scale: float = 0.1
    parameterisation: str = "paper"
    record_every: int = 10
    ema: float = 0.98
    eval_samples: int = 30_000
    decay_fraction: float = 0.3

    def __post_init__(self):
        if self.optimiser not in OPTIMISERS:
            raise TrainingConfigError(f"optimiser: must be one of {', '.join(OPTIMISERS)}, got {self.optimiser!r}")
        if self.init not in INITS:
            raise TrainingConfigError(f"init: must be one of {', '.join(INITS)}, got {self.init!r}")
        if self.parameterisation not in PARAMETERISATIONS:
            raise TrainingConfigError(f"parameterisation: must be one of {', '.join(PARAMETERISATIONS)}, "
                                      f"got {self.parameterisation!r}")
        for key in ("batch", "steps", "record_every", "eval_samples"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise TrainingConfigError(f"{key}: must be an integer >= 1, got {v!r}")
        for key in ("lr", "init_scale"):
            v = getattr(self, key)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v <= 0:
                raise TrainingConfigError(f"{key}: must be a finite number > 0, got {v!r}")
        if not (0 <= self.decay_fraction <= 1):
            raise TrainingConfigError(f"decay_fraction: must be in [0, 1], got {self.decay_fraction!r}")
        if not (0 <= self.ema < 1):
            raise TrainingConfigError(f"ema: must be in [0, 1), got {self.ema!r}")


@dataclass
class TrainingRun:
    """One trained model: loss curves, final parameters, final loss with its SE."""

    config: TrainingConfig
    seed: int
    steps: list
    loss_ema: list
    batch_loss: list
    u: np.ndarray
    M: np.ndarray
    gamma: np.ndarray
    final_loss: float
    final_loss_se: float
    eval_samples: int
    seconds: float
    diverged: bool = False
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"seed": self.seed, "config": asdict(self.config), "steps": self.steps,
                "loss_ema": self.loss_ema, "final_loss": self.final_loss, "final_loss_se": self.final_loss_se,
                "eval_samples": self.eval_samples, "u": self.u.tolist(), "M": self.M.tolist(),
                "gamma": self.gamma.tolist(), "seconds": round(self.seconds, 3), "diverged": self.diverged}


def _zfb_theta(d: int, generator: torch.Generator) -> torch.Tensor:
    theta = torch.randn(d, d, generator=generator, dtype=DTYPE)
    tt = theta @ theta.T
    return tt / torch.linalg.norm(tt)


def initialise(model: LSA, config: TrainingConfig, generator: torch.Generator):
    """Set the model's weights in place (see the module docstring)."""
    d, D, s = model.d, model.D, float(config.init_scale)
    with torch.no_grad():
        if config.init == "gaussian":
            for p in model.parameters():
                p.copy_(torch.randn(p.shape, generator=generator, dtype=DTYPE) * s)
            return
        kq = torch.zeros(D, D, dtype=DTYPE)
        kq[:d, :d] = s * _zfb_theta(d, generator)
        if model.parameterisation == "merged":
            pv = torch.zeros(D, D, dtype=DTYPE)
            pv[d, d] = s
            model.W_KQ.copy_(kq)
            model.W_PV.copy_(pv)
        else:
            h = torch.zeros(D, dtype=DTYPE)
            h[d] = s
            model.W_K.copy_(torch.eye(D, dtype=DTYPE))
            model.W_Q.copy_(kq)
            model.W_V.copy_(torch.eye(D, dtype=DTYPE))
            model.h.copy_(h)


def train(task: NumericTask, config: TrainingConfig, seed: int, threads: int | None = 1) -> TrainingRun:
    """Train one model from ``seed`` (see the module docstring).

    threads: torch intra-op threads while training (default 1: the matrices are tiny and extra
    threads only add contention on a shared machine; restored afterwards; None leaves it alone).
    """
    if threads is None:
        return _train(task, config, seed)
    old = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        return _train(task, config, seed)
    finally:
        torch.set_num_threads(old)


def _train(task: NumericTask, config: TrainingConfig, seed: int) -> TrainingRun:
    if not isinstance(task, NumericTask):
        raise TrainingConfigError(f"task: expected a NumericTask, got {type(task).__name__}")
    if task.query_in_keys or task.residual:
        raise TrainingConfigError("task: the variants query_in_keys / residual are not supported in training")
    start = time.perf_counter()
    init_seed, data_seed, eval_seed = spawn_seeds(seed, 3)
    model = LSA(task.d, task.n, parameterisation=config.parameterisation)
    initialise(model, config, make_generator(init_seed))
    if config.optimiser == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=config.lr)
    gen = make_generator(data_seed)
    # the learning rate is constant, then decays linearly to 1% over the last decay_fraction of
    # the steps, so the final weights sit close to where the dynamics went, not on its SGD noise
    decay_start = int(config.steps * (1 - config.decay_fraction))
    steps, ema_curve, batch_curve = [], [], []
    ema = None
    diverged = False
    for step in range(1, config.steps + 1):
        if step > decay_start:
            frac = (step - decay_start) / max(1, config.steps - decay_start)
            for group in opt.param_groups:
                group["lr"] = config.lr * (1 - 0.99 * frac)
        prompts = sample_prompts(task, config.batch, gen)
        loss = ((model(prompts) - prompts.yq) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        value = float(loss.detach())
        if not math.isfinite(value):
            diverged = True
            break
        ema = value if ema is None else config.ema * ema + (1 - config.ema) * value
        if step % config.record_every == 0 or step == config.steps:
            steps.append(step)
            ema_curve.append(ema)
            batch_curve.append(value)
    u, M, _ = effective_parameters(model)
    if diverged or not (np.all(np.isfinite(u)) and np.all(np.isfinite(M))):
        final, se = math.inf, math.inf
        diverged = True
    else:
        est = mc_loss(task, model, samples=config.eval_samples, seed=eval_seed, progress=False)
        final, se = est.mean, est.se
    return TrainingRun(config, seed, steps, ema_curve, batch_curve, u, M, gamma_from_effective(u, M), final, se,
                       config.eval_samples, time.perf_counter() - start, diverged)


def train_many(task: NumericTask, config: TrainingConfig, seeds) -> list:
    """:func:`train` for each seed, in order (one thread each call; deterministic per seed)."""
    return [train(task, config, int(s)) for s in seeds]


__all__ = ["INITS", "OPTIMISERS", "TrainingConfig", "TrainingConfigError", "TrainingRun", "initialise", "train",
           "train_many"]
