"""Prompt samplers: float64, explicitly seeded, vectorised over a batch of prompts.

A batch of B prompts is a :class:`Prompts` with x (B, n, d), y (B, n), xq (B, d), yq (B,)
and w (B, d) (w is kept for diagnostics; for two-layer ReLU responses it is all NaN since
there is no task vector). Context and query of a prompt share the same response function.

>>> from numerics.task import NumericTask, make_generator
>>> p = sample_prompts(NumericTask(d=3, n=5, noise=0.25), 4, make_generator(0))
>>> tuple(p.x.shape), tuple(p.y.shape), tuple(p.xq.shape), p.x.dtype
((4, 5, 3), (4, 5), (4, 3), torch.float64)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from .task import NumericTask

DTYPE = torch.float64


@dataclass(frozen=True)
class Prompts:
    """A batch of prompts. ``y``/``yq`` include the label noise."""

    x: torch.Tensor
    y: torch.Tensor
    xq: torch.Tensor
    yq: torch.Tensor
    w: torch.Tensor

    @property
    def batch(self) -> int:
        return self.x.shape[0]

    def tokens(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Z (B, n, d+1) with rows z_i = (x_i, y_i), and z_q = (x_q, 0) of shape (B, d+1)."""
        Z = torch.cat([self.x, self.y.unsqueeze(-1)], dim=-1)
        zq = torch.cat([self.xq, torch.zeros_like(self.xq[:, :1])], dim=-1)
        return Z, zq


def _cholesky(matrix: np.ndarray, device) -> torch.Tensor:
    return torch.linalg.cholesky(torch.as_tensor(np.array(matrix), dtype=DTYPE, device=device))


def _responses(
    task: NumericTask, xs: torch.Tensor, generator: torch.Generator, device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Noiseless f(x) for xs of shape (B, n+1, d) (context rows then the query), and w."""
    B, _, d = xs.shape
    resp = task.response
    if resp.family == "two-layer-relu":
        # v_j ~ N(0, I_d), a_j ~ N(0, 1), one network per prompt
        v = torch.randn(B, resp.width, d, generator=generator, dtype=DTYPE, device=device)
        a = torch.randn(B, resp.width, generator=generator, dtype=DTYPE, device=device)
        hidden = torch.clamp(torch.einsum("bmd,bjd->bmj", xs, v), min=0.0)
        f = torch.einsum("bmj,bj->bm", hidden, a)
        return f, torch.full((B, d), math.nan, dtype=DTYPE, device=device)
    w = (
        torch.randn(B, d, generator=generator, dtype=DTYPE, device=device)
        @ _cholesky(task.Omega, device).T
    )
    if resp.family == "callable":
        f = resp.fn(xs, w)
        if not isinstance(f, torch.Tensor) or tuple(f.shape) != (B, xs.shape[1]):
            raise ValueError(
                f"response.fn: must return a tensor of shape {(B, xs.shape[1])}, "
                f"got {getattr(f, 'shape', type(f).__name__)}"
            )
        return f.to(DTYPE), w
    s = torch.einsum("bmd,bd->bm", xs, w)
    if resp.family == "single-index":
        return resp.link(s).to(DTYPE), w
    return s, w


def _covariates(task: NumericTask, shape, generator: torch.Generator, device) -> torch.Tensor:
    """x for every token: N(0, Sigma), or iid coordinates from the task's non-Gaussian law."""
    law = task.covariates
    if law.is_gaussian:
        xs = torch.randn(*shape, generator=generator, dtype=DTYPE, device=device)
        return xs @ _cholesky(task.Sigma, device).T
    if law.law == "uniform":
        u = torch.rand(*shape, generator=generator, dtype=DTYPE, device=device)
        return (2.0 * u - 1.0) * law.scale
    signs = torch.randint(0, 2, shape, generator=generator, device=device).to(DTYPE) * 2.0 - 1.0
    if law.law == "rademacher":
        return signs
    # three-point: +-a with probability p, 0 otherwise
    keep = torch.rand(*shape, generator=generator, dtype=DTYPE, device=device) < law.p
    return signs * keep.to(DTYPE) * law.scale


def sample_prompts(
    task: NumericTask, batch: int, generator: torch.Generator, device: str | torch.device = "cpu"
) -> Prompts:
    """Draw ``batch`` iid prompts of ``task`` using ``generator`` (and nothing else).

    Draw order (fixed, so results are reproducible): covariates of all n+1 tokens (Gaussian,
    or iid from the task's ``covariates`` law),
    then the response function (w, or the ReLU network), then the noise.
    """
    if batch < 1:
        raise ValueError(f"batch: must be >= 1, got {batch}")
    n, d = task.n, task.d
    xs = _covariates(task, (batch, n + 1, d), generator, device)
    f, w = _responses(task, xs, generator, device)
    noise = torch.randn(batch, n + 1, generator=generator, dtype=DTYPE, device=device)
    ys = f + math.sqrt(task.noise) * noise
    return Prompts(x=xs[:, :n], y=ys[:, :n], xq=xs[:, n], yq=ys[:, n], w=w)


def batch_sizes(total: int, batch: int) -> list[int]:
    """Split ``total`` samples into chunks of at most ``batch`` (the last may be smaller)."""
    if total < 1 or batch < 1:
        raise ValueError(f"need total >= 1 and batch >= 1, got {total}, {batch}")
    full, rest = divmod(total, batch)
    return [batch] * full + ([rest] if rest else [])


def iterate_prompts(
    task: NumericTask,
    total: int,
    batch: int,
    generator: torch.Generator,
    device: str | torch.device = "cpu",
) -> Iterator[Prompts]:
    """Yield ``total`` prompts in batches of at most ``batch`` (memory stays bounded)."""
    for size in batch_sizes(total, batch):
        yield sample_prompts(task, size, generator, device)


def default_batch(task: NumericTask, floats_per_prompt: int, budget_bytes: int = 64 * 2**20) -> int:
    """A batch size keeping one batch's largest array under ``budget_bytes``."""
    per = max(floats_per_prompt, (task.n + 1) * (task.d + 1)) * 8
    return int(np.clip(budget_bytes // per, 64, 16384))
