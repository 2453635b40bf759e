"""The continuous symmetries of the loss over (u, M), computed exactly and checked exactly.

Two kinds, both linear vector fields p -> K p on the parameters:

* **gauge**: (u, M) -> (c u, M / c) leaves yhat unchanged; its tangent at p is (u, -M).
* **data symmetries**: a change of variables x -> R x, w -> R^{-T} w keeps y = w^T x (and any
  response f(w^T x)), and keeps the laws x ~ N(0, Sigma), w ~ N(0, Omega) exactly when
  R Sigma R^T = Sigma and R^T Omega R = Omega. The prediction of (u, M) on the transformed
  data is the prediction of (R^T u_x, u_y, R^T A R, R^T b) on the original data, so that map
  leaves the loss unchanged. Its Lie algebra is {X : X Sigma + Sigma X^T = 0,
  X^T Omega + Omega X = 0}, solved exactly over Q (:func:`lie_algebra`); a generator X acts
  with tangent (X^T u_x, 0, X^T A + A X, X^T b).

  Sigma = Omega = I: the antisymmetric matrices (rotations); Sigma any, Omega = Sigma^{-1}: a
  conjugate of them (dimension d(d-1)/2); Omega = I with a Sigma of distinct eigenvalues: {0}
  (only finitely many orthogonal maps commute with Sigma).

Each field is **checked**, not assumed: grad L(p) . K p = 0 is verified as an exact polynomial
identity (:func:`check_invariance`), which proves L(exp(tK) p) = L(p). Differentiating the
identity gives H(p) K p + K^T grad L(p) = 0, so at a critical point every tangent K p* is in the
kernel of the Hessian: the symmetry directions are exactly known null directions.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .polynomial import LossPolynomial, parameter_symbols, split


@dataclass(frozen=True)
class Generator:
    """A linear vector field p -> K p that leaves the loss invariant.

    name: "gauge" or "rotation X" with the Lie algebra element; K: N x N rational matrix.
    """

    name: str
    K: sp.Matrix

    def tangent(self, p) -> list:
        """K p for a point p (exact or float entries)."""
        return list(self.K * sp.Matrix(list(p))) if _exact(p) else _float_matvec(self.K, p)


def _exact(p) -> bool:
    return all(isinstance(v, (int, sp.Rational)) for v in p)


def _float_matvec(K: sp.Matrix, p):
    import numpy as np

    return list(np.array(K.tolist(), dtype=float) @ np.asarray(p, dtype=float))


def lie_algebra(sigma: sp.Matrix, omega: sp.Matrix) -> list:
    """A rational basis of {X : X Sigma + Sigma X^T = 0 and X^T Omega + Omega X = 0}."""
    d = sigma.rows
    xs = sp.symbols(f"x0:{d * d}")
    X = sp.Matrix(d, d, xs)
    eqs = list(X * sigma + sigma * X.T) + list(X.T * omega + omega * X)
    A, _ = sp.linear_eq_to_matrix(eqs, xs)
    return [sp.Matrix(d, d, list(v)) for v in A.nullspace()]


def _field_matrix(d: int, transform) -> sp.Matrix:
    """The matrix K of a linear field given as a function of symbolic (u, M)."""
    syms = parameter_symbols(d)
    u, M = split(syms, d)
    out = transform(sp.Matrix(u), sp.Matrix(M))
    return sp.Matrix([[sp.diff(e, s) for s in syms] for e in out])


def gauge_generator(d: int) -> Generator:
    return Generator("gauge (u, M) -> (c u, M / c)",
                     _field_matrix(d, lambda u, M: list(u) + list(-M)))


def data_generator(d: int, X: sp.Matrix) -> Generator:
    def act(u, M):
        ux, A, b = u[:d, :], M[:d, :], M[d, :].T
        return list(X.T * ux) + [0] + list(X.T * A + A * X) + list(X.T * b)

    return Generator(f"data symmetry x -> (I + tX) x, X = {X.tolist()}", _field_matrix(d, act))


def generators(task) -> list:
    """The gauge and a basis of the data symmetries of a task (see the module docstring)."""
    d = task.d
    return [gauge_generator(d)] + [data_generator(d, X) for X in lie_algebra(task.Sigma, task.Omega)]


def check_invariance(loss: LossPolynomial, gen: Generator) -> bool:
    """Exact: grad L(p) . K p == 0 as a polynomial in p (so L is constant along the flow)."""
    p = sp.Matrix(loss.variables)
    Kp = gen.K * p
    total = sp.Poly(0, *loss.variables, domain="QQ")
    for g, k in zip(loss.gradient_polys, Kp, strict=True):
        if k != 0:
            total += g * sp.Poly(k, *loss.variables, domain="QQ")
    return total.is_zero


__all__ = ["Generator", "check_invariance", "data_generator", "gauge_generator", "generators", "lie_algebra"]
