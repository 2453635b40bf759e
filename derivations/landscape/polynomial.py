"""The exact loss of a task as a polynomial in the effective parameters, with fast evaluators.

:func:`loss_polynomial` returns L(u, M) = E[(yhat - y_q)^2] at fixed n and s2 as a
:class:`LossPolynomial` over the variables p = (u_x1..u_xd, u_y, A_11, A_12, .., A_dd, b_1..b_d)
(the order of ``EffectiveParameters.symbols(d)``: u, then M row by row). Linear tasks use
:func:`derivations.expected_loss`; polynomial responses (e.g. the cubic link y = (w^T x)^3 + eps)
use the full lifted loss from exact Gaussian moments:

    E[yhat^2] = E[(1/n sum_i phi_i)^2],  E[yhat y_q] = E[(1/n sum_i phi_i) y_q],
    phi_i = (u^T z_i)(z_i^T M x_q),

the n-fold context average split by set partitions (``engine.context_expectation``), one
example's (x_i, eps_i) integrated first, then the shared (w, x_q, eps_q). Parameters are
generators of the same sparse polynomial ring, so nothing is expanded as an expression tree.

Derivatives are taken exactly and entrywise on the sparse polynomial (never a matrix
derivative). Evaluation: exact (rationals), float (numpy, for searching) and ball arithmetic
(python-flint arb, for certificates).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy as sp
from flint import arb, fmpq

from .. import symbols as pinned
from ..engine import Space, context_expectation
from ..loss import expected_loss
from ..lsa import EffectiveParameters
from ..moments import GaussianVector
from ..task import Task


def parameter_symbols(d: int) -> list:
    """[ux1..uxd, uy, A_11, .., A_dd, b1..bd]: the variables of the landscape."""
    p = EffectiveParameters.symbols(d)
    return list(p.u) + list(p.M)


def split(values, d: int):
    """(u, M) from a flat parameter vector (any sequence; M as nested lists (d+1) x d)."""
    values = list(values)
    u = values[: d + 1]
    flat = values[d + 1:]
    M = [flat[i * d:(i + 1) * d] for i in range(d + 1)]
    return u, M


def _terms(poly: sp.Poly):
    """[(exponents, fmpq coefficient)] of a SymPy Poly with rational coefficients."""
    out = []
    for exps, coeff in poly.terms():
        c = sp.Rational(coeff)
        out.append((tuple(exps), fmpq(int(c.p), int(c.q))))
    return out


class _Compiled:
    """One polynomial, evaluable on exact rationals, floats and arbs."""

    def __init__(self, poly: sp.Poly):
        self.poly = poly
        self.terms = _terms(poly)
        exps = np.array([e for e, _ in self.terms], dtype=np.int64).reshape(len(self.terms), -1)
        self._exps = exps
        self._coeffs = np.array([float(c.p) / float(c.q) for _, c in self.terms])

    def at_float(self, x: np.ndarray) -> float:
        if not self.terms:
            return 0.0
        return float(self._coeffs @ np.prod(np.power(x[None, :], self._exps), axis=1))

    def at_balls(self, powers) -> arb:
        """powers[i][k] = x_i^k as arbs (shared by all polynomials of a system)."""
        total = arb(0)
        for exps, c in self.terms:
            term = arb(c)
            for i, e in enumerate(exps):
                if e:
                    term *= powers[i][e]
            total += term
        return total

    def at_exact(self, powers) -> fmpq:
        total = fmpq(0)
        for exps, c in self.terms:
            term = c
            for i, e in enumerate(exps):
                if e:
                    term *= powers[i][e]
            total += term
        return total


def _powers(values, degree: int):
    out = []
    for v in values:
        row = [v ** 0 if not isinstance(v, arb) else arb(1)]
        for _ in range(degree):
            row.append(row[-1] * v)
        out.append(row)
    return out


@dataclass
class LossPolynomial:
    """L(p) as a sparse polynomial with rational coefficients, its gradient and Hessian.

    task: the task (n, s2 fixed); variables: SymPy symbols in the landscape order; expr: the
    loss as a SymPy expression.
    """

    task: Task
    variables: list
    expr: sp.Expr

    @cached_property
    def poly(self) -> sp.Poly:
        return sp.Poly(self.expr, *self.variables, domain="QQ")

    @property
    def size(self) -> int:
        return len(self.variables)

    @property
    def d(self) -> int:
        return self.task.d

    @cached_property
    def degree(self) -> int:
        return max(self.poly.degree_list())

    @cached_property
    def _value(self):
        return _Compiled(self.poly)

    @cached_property
    def gradient_polys(self) -> list:
        return [self.poly.diff(v) for v in self.variables]

    @cached_property
    def hessian_polys(self) -> list:
        g = self.gradient_polys
        return [[g[i].diff(v) for v in self.variables] for i in range(self.size)]

    @cached_property
    def _grad(self):
        return [_Compiled(p) for p in self.gradient_polys]

    @cached_property
    def _hess(self):
        return [[_Compiled(p) for p in row] for row in self.hessian_polys]

    # --- float (search) ------------------------------------------------------------------
    def value_float(self, x) -> float:
        return self._value.at_float(np.asarray(x, dtype=float))

    def gradient_float(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return np.array([g.at_float(x) for g in self._grad])

    def hessian_float(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return np.array([[h.at_float(x) for h in row] for row in self._hess])

    # --- balls (certificates) --------------------------------------------------------------
    def value_balls(self, x) -> arb:
        return self._value.at_balls(_powers(x, self.degree))

    def gradient_balls(self, x) -> list:
        pw = _powers(x, self.degree)
        return [g.at_balls(pw) for g in self._grad]

    def hessian_balls(self, x) -> list:
        pw = _powers(x, self.degree)
        return [[h.at_balls(pw) for h in row] for row in self._hess]

    # --- exact -----------------------------------------------------------------------------
    def value_exact(self, x) -> sp.Rational:
        return _rational(self._value.at_exact(_powers([_fmpq(v) for v in x], self.degree)))

    def gradient_exact(self, x) -> list:
        pw = _powers([_fmpq(v) for v in x], self.degree)
        return [_rational(g.at_exact(pw)) for g in self._grad]

    def hessian_exact(self, x) -> sp.Matrix:
        pw = _powers([_fmpq(v) for v in x], self.degree)
        return sp.Matrix([[_rational(h.at_exact(pw)) for h in row] for row in self._hess])


def _fmpq(v) -> fmpq:
    from ..intervals import to_fmpq

    return to_fmpq(v)


def _rational(q: fmpq) -> sp.Rational:
    return sp.Rational(int(q.p), int(q.q))


# --- building the loss ---------------------------------------------------------------------------

def _require_fixed(task: Task):
    from ..errors import TaskError

    if task.n_symbolic or task.noise_symbolic:
        raise TaskError("landscape: n and noise must be fixed numbers (the landscape is computed at "
                        f"fixed n and s2), got n = {task.n}, noise = {task.noise}")
    if task.parameters:
        raise TaskError("landscape: covariance and prior must be numeric matrices, not symbols")
    if task.query_in_keys or task.residual:
        raise TaskError("landscape: the variants query_in_keys / residual are not supported")


def loss_polynomial(task: Task) -> LossPolynomial:
    """The exact loss of ``task`` (n, s2 fixed) as a :class:`LossPolynomial` in (u, M)."""
    _require_fixed(task)
    variables = parameter_symbols(task.d)
    if task.is_linear:
        expr = sp.expand(expected_loss(task))
    else:
        expr = polynomial_response_loss(task)
    return LossPolynomial(task, variables, expr)


def polynomial_response_loss(task: Task) -> sp.Expr:
    """E[(yhat - y_q)^2] for a polynomial response, exactly (see the module docstring)."""
    from ..nonlinear.responses import response_model

    model = response_model(task)
    if not model.polynomial:
        from ..errors import TaskError

        raise TaskError(f"landscape: the response must be a polynomial in x and w for the exact loss, "
                        f"got family {task.response.family!r}")
    d, n = task.d, task.n
    noise = sp.Matrix([[task.noise]])
    x = GaussianVector("x", d, task.Sigma, private=True)
    e = GaussianVector("e", 1, noise, private=True)
    w = GaussianVector("w", d, task.Omega, private=True)
    xq = GaussianVector("xq", d, task.Sigma, private=True)
    eq = GaussianVector("eq", 1, noise, private=True)
    params = EffectiveParameters.symbols(d)
    variables = parameter_symbols(d)
    space = Space([x, e, w, xq, eq], variables)
    X, XQ = space.coords("x"), space.coords("xq")
    y = space(sp.expand(model.response_at(x.coords, w.coords))) + space.coords("e")[0]
    yq = space(sp.expand(model.response_at(xq.coords, w.coords))) + space.coords("eq")[0]
    U = [space(s) for s in params.u]
    A = [[space(params.A[i, j]) for j in range(d)] for i in range(d)]
    b = [space(s) for s in params.b]
    key = sum((U[k] * X[k] for k in range(d)), space.ring.zero) + U[d] * y
    Mx = sum((sum((A[k][c] * X[k] for k in range(d)), space.ring.zero) + y * b[c]) * XQ[c]
             for c in range(d))
    phi = key * Mx                                   # (u^T z_i)(z_i^T M x_q)
    example, shared = ["x", "e"], ["w", "xq", "eq"]
    cache: dict = {}

    def block(factors):
        k = len(factors)
        if k not in cache:
            prod = space.ring.one
            for f in factors:
                prod = prod * f
            cache[k] = space.expect_all(prod, example)
        return cache[k]

    def context(k, shared_factor):
        weights, parts = context_expectation([phi] * k, block, n)
        total = sp.Integer(0)
        for m, part in parts.items():
            total += weights[m] * space.expect_all(part * shared_factor, shared).as_expr()
        return total

    second = context(2, space.ring.one)
    cross = context(1, yq)
    target = space.expect_all(yq * yq, shared).as_expr()
    return sp.expand(second - 2 * cross + target)


__all__ = ["LossPolynomial", "loss_polynomial", "parameter_symbols", "polynomial_response_loss", "split",
           "pinned"]
