"""The bridge to ``numerics``: exact task -> float task, and the Monte Carlo calls.

Only numbers cross this bridge: the numerics package never sees a derivation.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from derivations.task import Task
from numerics import Covariates, NumericTask, mc_loss, minimise
from numerics.task import Response as NumericResponse


def float_matrix(m) -> np.ndarray:
    """An exact SymPy matrix (numbers only) as float64."""
    return np.array([[float(x) for x in row] for row in sp.Matrix(m).tolist()], dtype=np.float64)


#: float64 Monte Carlo moments have degree up to about 12 in the Gaussians: keep every scale in
#: [1e-30, 1e30] so none of them overflows (1e308) or loses itself below the subnormals
SCALE_LIMITS = (1e-30, 1e30)
#: beyond this condition number float64 (about 16 digits) cannot represent the covariance
MAX_CONDITION = 1e12


def numeric_applicability(task: Task, n, noise) -> str | None:
    """None when the Monte Carlo side can run in float64, else the reason it cannot.

    The exact side is unaffected either way; a task the numerics cannot represent gets a
    'numerics not applicable' check instead of a spurious pass or refutation.
    """
    lo, hi = SCALE_LIMITS
    matrices = [("covariance", task.Sigma), ("prior", task.Omega)]
    if task.test is not None:
        matrices += [("test covariance", task.test.Sigma), ("test prior", task.test.Omega)]
        if not task.test.noise_symbolic and float(task.test.noise) > hi:
            return f"the test noise variance {float(task.test.noise):.3g} is above {hi:.0e}"
    for name, matrix in matrices:
        try:
            values = float_matrix(matrix)
        except (OverflowError, ValueError, TypeError):
            return f"the {name} has entries beyond float64's range"
        if not np.all(np.isfinite(values)):
            return f"the {name} has entries beyond float64's range"
        eig = np.linalg.eigvalsh(values)
        if eig.min() <= 0 or eig.max() / eig.min() > MAX_CONDITION:
            return (f"the {name} is not positive definite once rounded to float64, or its condition "
                    f"number exceeds {MAX_CONDITION:.0e} (float64 keeps about 16 digits)")
        if eig.min() < lo or eig.max() > hi:
            return (f"the {name}'s eigenvalues span [{eig.min():.3g}, {eig.max():.3g}], outside "
                    f"[{lo:.0e}, {hi:.0e}] where float64 Monte Carlo moments stay representable")
    s2 = float(noise)
    if not np.isfinite(s2) or s2 > hi:
        return (f"the noise variance {s2:.3g} is above {hi:.0e}, beyond which float64 Monte Carlo "
                "moments overflow")
    return None


def numeric_task(task: Task, n: int, noise) -> NumericTask:
    """The same distribution in float64 (n and noise given: the exact task may leave them symbolic)."""
    if task.Sigma.free_symbols or task.Omega.free_symbols:
        raise ValueError("the Monte Carlo side needs numeric covariances")
    if task.response.is_linear:
        response = NumericResponse.linear()
    else:
        response = numeric_response(task)
    law = task.covariates
    return NumericTask(d=task.d, n=int(n), noise=float(noise),
                       Sigma=float_matrix(task.Sigma) if law.is_gaussian else None,
                       Omega=float_matrix(task.Omega), response=response,
                       query_in_keys=task.query_in_keys, residual=task.residual,
                       covariates=numeric_covariates(law))


def numeric_covariates(law) -> Covariates:
    """The same covariate law in float64 (a 'moments' law is sampled as the symmetric
    three-point law with its variance and fourth moment: the loss depends on no other moment)."""
    if law.is_gaussian:
        return Covariates.gaussian()
    if law.name == "uniform":
        return Covariates.uniform(float(law.half_width))
    if law.name == "rademacher":
        return Covariates.rademacher()
    return Covariates.with_moments(float(law.moment(2)), float(law.moment(4)))


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


def numeric_response(task: Task):
    from derivations.nonlinear.responses import response_model
    from numerics.task import Response as NR

    from .torch_expr import expression_function, link_function

    model = response_model(task)
    if task.response.family == "two-layer-relu":
        return NR.two_layer_relu(task.response.width)
    if model.link is not None:
        return NR.single_index(link_function(model.link))
    from derivations.nonlinear.parse import parse_expression
    return NR.from_callable(expression_function(parse_expression(task.response.expr, task.d), task.d))


def numeric_json(res, n, s2) -> dict:
    """The Monte Carlo result of a task as plain data (JSON ``numeric``)."""
    return {"gamma": res.gamma.tolist(), "gamma_se": res.gamma_se.tolist(), "loss": float(res.loss),
            "loss_se": float(res.loss_se), "samples": int(res.samples), "seconds": float(res.seconds),
            "odd": res.odd.tolist(), "odd_se": res.odd_se.tolist(), "odd_names": list(res.odd_names),
            "eta": float(res.eta), "eta_se": float(res.eta_se), "n": int(n), "noise": str(s2),
            "restarts_at_best": int(res.restarts_at_best)}
