"""The two symmetry assumptions of Theorem 3, checked rather than assumed.

* reflection: the law of (x_i, x_q, w) is invariant under negation (always, all are centred
  Gaussians) and f(-x; -w) = f(x; w). Then odd-in-x features are orthogonal to the GD block
  and to the target.
* rotation: Sigma = I, Omega = c I (so the law of (x, w) is invariant under (Qx, Qw) for every
  orthogonal Q) and f(Qx; Qw) = f(x; w). Then E[g g^T] and E[m g^T] commute with O(d), so
  both are multiples of I.

Built-in families are decided structurally (f depends on (x, w) only through w^T x).
Polynomial expressions are decided by exact substitution: Q = (I - S)(I + S)^{-1} for random
rational skew-symmetric S (Cayley; these Q are dense in SO(d)) together with the coordinate
reflection diag(-1, 1, ..., 1), which with SO(d) generates O(d). Equality at a random rational
Q is a randomised polynomial identity test in the entries of S (Schwartz-Zippel); a failure is
a proof of non-invariance.

>>> from derivations.task import Task, Response
>>> from derivations.nonlinear.responses import response_model
>>> t = Task(d=2, response=Response("expression", expr="s + x1^2"))
>>> check_rotation(t, response_model(t))["holds"]
False
>>> check_reflection(t, response_model(t))["holds"]
True
"""

from __future__ import annotations

import random

import sympy as sp

from ..task import Task
from .responses import ResponseModel


def _result(holds, how):
    return {"holds": holds, "how": how}


def isotropic_scale(matrix) -> sp.Expr | None:
    """c when matrix == c I, else None."""
    c = matrix[0, 0]
    return c if sp.Matrix(matrix) == c * sp.eye(matrix.rows) else None


def cayley(S: sp.Matrix) -> sp.Matrix:
    """(I - S)(I + S)^{-1}: orthogonal (with det 1) for every real skew-symmetric S."""
    eye = sp.eye(S.rows)
    return (eye - S) * (eye + S).inv()


def random_skew(d: int, rng: random.Random, size: int = 1000) -> sp.Matrix:
    S = sp.zeros(d, d)
    for i in range(d):
        for j in range(i + 1, d):
            S[i, j] = sp.Rational(rng.randint(-size, size), rng.randint(1, size))
            S[j, i] = -S[i, j]
    return S


def _invariant_under(model: ResponseModel, Q: sp.Matrix) -> bool:
    x, w = sp.Matrix(model.xs), sp.Matrix(model.ws)
    moved = model.response_at(list(Q * x), list(Q * w))
    return sp.expand(moved - model.f) == 0


def check_reflection(task: Task, model: ResponseModel) -> dict:
    """Is f(-x; -w) = f(x; w)? (The Gaussian laws are centred, hence always invariant.)"""
    if model.family == "two-layer-relu":
        return _result(True, "structural: relu(v_j^T x) depends on (x, v_j) only through "
                             "v_j^T x, unchanged by (x, v) -> (-x, -v); centred Gaussian laws")
    if model.link is not None:
        return _result(True, "structural: f depends on (x, w) only through s = w^T x, which "
                             "(x, w) -> (-x, -w) leaves unchanged; centred Gaussian laws")
    if model.polynomial:
        ok = _invariant_under(model, -sp.eye(task.d))
        return _result(ok, "exact: f(-x; -w) - f(x; w) expands to "
                           + ("0" if ok else "a nonzero polynomial"))
    flipped = model.response_at([-v for v in model.xs], [-v for v in model.ws])
    if sp.expand(flipped - model.f) == 0:
        return _result(True, "exact: f(-x; -w) - f(x; w) expands to 0")
    return _result(None, "undecided: non-polynomial expression not visibly invariant")


def check_rotation(task: Task, model: ResponseModel, trials: int = 3, seed: int = 0) -> dict:
    """Is the law of the response function invariant under rotations?"""
    if task.Sigma != sp.eye(task.d):
        return _result(False, "covariates are not isotropic: Sigma is not I")
    c = isotropic_scale(task.Omega)
    if c is None:
        return _result(False, f"prior is not rotation invariant: Omega = {task.Omega.tolist()} "
                              "is not a multiple of I")
    prior = "Sigma = I and Omega = c I make the law of (x, w) O(d)-invariant"
    if model.family == "two-layer-relu" or model.link is not None:
        return _result(True, f"structural: f depends on (x, w) only through w^T x, and (Qw)^T(Qx) "
                             f"= w^T x; {prior}")
    if not model.polynomial:
        return _result(None, "undecided: non-polynomial expression that is not a function of s")
    rng = random.Random(seed)
    reflect = sp.diag(-1, *([1] * (task.d - 1)))
    if not _invariant_under(model, reflect):
        return _result(False, "exact: f(Px; Pw) != f(x; w) for the coordinate reflection "
                              "P = diag(-1, 1, ..., 1)")
    for _ in range(trials if task.d > 1 else 0):
        S = random_skew(task.d, rng)
        if not _invariant_under(model, cayley(S)):
            return _result(False, "exact: f(Qx; Qw) != f(x; w) for the rational rotation "
                                  f"Q = (I - S)(I + S)^-1, S = {S.tolist()}")
    return _result(True, f"exact: f(Qx; Qw) = f(x; w) for P = diag(-1, 1, ..) and {trials} random "
                         "rational Cayley rotations (randomised identity test); " + prior)
