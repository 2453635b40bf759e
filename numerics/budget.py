"""Up-front cost estimates of the Monte Carlo side (time and peak memory), so a run too large
for the machine is refused before any sampling, with the estimate and the limit named.

Calibrated on the 2-core reference machine, one torch thread per worker (README, "Resource
limits"): per context example drawn about 7e-8 s per coordinate; the lifted statistics cost
2 p^2 flops per prompt (p = number of lifted features) at about 1e9 flop/s; the fits and the
jackknife's p x p solves about 1e-7 p^3 s; memory 3 x groups x p^2 doubles for the group
statistics plus the sampling batch (at least 64 prompts of (n + 1)(d + 1) doubles, six arrays).

>>> from numerics.task import NumericTask
>>> minimise_cost(NumericTask(d=2, n=10, noise=0.25), 40_000).seconds < 60
True
>>> minimise_cost(NumericTask(d=2, n=10**9, noise=0.25), 40_000).bytes > 2**40
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .features import dimension
from .task import NumericTask

GIB = 2**30
LIMIT_SECONDS = float(os.environ.get("ONESTEP_MAX_SECONDS", 30 * 60))
LIMIT_BYTES = float(os.environ.get("ONESTEP_MAX_BYTES", 8 * GIB))
MIN_BATCH = 64
BATCH_BUDGET = 64 * 2**20


class TooLargeError(ValueError):
    """Monte Carlo work refused up front; the message gives the estimate and the limit."""


@dataclass(frozen=True)
class Cost:
    seconds: float
    bytes: float

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.seconds + other.seconds, max(self.bytes, other.bytes))

    def verdict(self, what: str, limit_seconds=None, limit_bytes=None) -> str | None:
        ls = LIMIT_SECONDS if limit_seconds is None else limit_seconds
        lb = LIMIT_BYTES if limit_bytes is None else limit_bytes
        if self.bytes > lb:
            return f"{what}: estimated peak memory {_size(self.bytes)} exceeds the limit {_size(lb)}"
        if self.seconds > ls:
            return f"{what}: estimated {_duration(self.seconds)} exceeds the limit {_duration(ls)}"
        return None


# (_size and _duration mirror derivations.budget on purpose: numerics never imports derivations)
def _size(b: float) -> str:
    return f"{b / GIB:.3g} GiB" if b >= GIB / 10 else f"{b / 2**20:.3g} MiB"


def _duration(s: float) -> str:
    if s >= 3600:
        return f"{s / 3600:.3g} h"
    if s >= 60:
        return f"{s / 60:.3g} min"
    return f"{s:.2g} s"


def _per_example(task: NumericTask) -> float:
    """Seconds to draw one context example and its response."""
    width = task.response.width if task.response.family == "two-layer-relu" else 1
    return 7e-8 * (task.d + 1) * max(1, width)


def _batch_bytes(task: NumericTask, floats_per_prompt: int) -> float:
    per = max(floats_per_prompt, (task.n + 1) * (task.d + 1)) * 8
    batch = max(MIN_BATCH, min(16384, BATCH_BUDGET // per))
    return 6.0 * batch * per


def sampling_cost(task: NumericTask, samples: int) -> Cost:
    """Drawing ``samples`` prompts (as mc_loss does)."""
    seconds = samples * (task.n + 1) * _per_example(task)
    return Cost(seconds, 2e8 + _batch_bytes(task, task.d + 1))


def minimise_cost(task: NumericTask, samples: int, groups: int = 30) -> Cost:
    """numerics.minimise on ``samples`` prompts (plus its fresh-sample loss)."""
    p = dimension(task.d, task.residual)
    draw = samples * (task.n + 1) * _per_example(task)
    statistics = samples * (2.0 * p * p + 4.0 * (task.n + 1) * (task.d + 1) ** 2) / 1e9
    fits = 1e-7 * p**3 + 1e-2 * (groups + 10)
    memory = 2e8 + 3.0 * groups * p * p * 8 + _batch_bytes(task, p)
    return Cost(draw + statistics + fits, memory) + sampling_cost(task, samples // 4)


def check(cost: Cost, what: str) -> Cost:
    """Raise :class:`TooLargeError` when ``cost`` exceeds the limits."""
    reason = cost.verdict(what)
    if reason:
        raise TooLargeError(reason)
    return cost
