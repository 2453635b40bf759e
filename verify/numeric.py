"""The bridge to ``numerics``: exact task -> float task, and the Monte Carlo calls.

Only numbers cross this bridge: the numerics package never sees a derivation.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from derivations.task import Task
from numerics import NumericTask, mc_loss, minimise
from numerics.task import Response as NumericResponse


def float_matrix(m) -> np.ndarray:
    """An exact SymPy matrix (numbers only) as float64."""
    return np.array([[float(x) for x in row] for row in sp.Matrix(m).tolist()], dtype=np.float64)


def numeric_task(task: Task, n: int, noise) -> NumericTask:
    """The same distribution in float64 (n and noise given: the exact task may leave them symbolic)."""
    if task.Sigma.free_symbols or task.Omega.free_symbols:
        raise ValueError("the Monte Carlo side needs numeric covariances")
    if task.response.is_linear:
        response = NumericResponse.linear()
    else:
        from .nonlinear_bridge import numeric_response  # noqa: PLC0415
        response = numeric_response(task)
    return NumericTask(d=task.d, n=int(n), noise=float(noise), Sigma=float_matrix(task.Sigma),
                       Omega=float_matrix(task.Omega), response=response,
                       query_in_keys=task.query_in_keys, residual=task.residual)


def fit(ntask: NumericTask, samples: int, seed: int, parameterisation: str = "effective", progress=False):
    return minimise(ntask, samples=samples, seed=seed, parameterisation=parameterisation, progress=progress)


def loss_at_gd_point(ntask: NumericTask, gamma: np.ndarray, samples: int, seed: int, progress=False):
    """MC loss of the LSA u = e_{d+1}, M = [Gamma^T; 0] (r = 0): the predictor x_q^T Gamma g."""
    d = ntask.d
    u = np.zeros(d + 1)
    u[d] = 1.0
    M = np.vstack([np.asarray(gamma, float).T, np.zeros((1, d))])
    return loss_at(ntask, u, M, np.zeros(d) if ntask.residual else None, samples, seed, progress)


def loss_at(ntask: NumericTask, u, M, r, samples: int, seed: int, progress=False):
    params = {"u": np.asarray(u, float).ravel(), "M": np.asarray(M, float)}
    if r is not None:
        params["r"] = np.asarray(r, float).ravel()
    return mc_loss(ntask, params, samples=samples, seed=seed, progress=progress)
