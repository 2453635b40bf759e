"""Stationary points of the d = 1 loss, checked against an independent numeric scan."""

from collections import Counter

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import least_squares

from derivations import Task, expected_loss
from derivations.landscape import multistart, stationary_points_d1
from derivations.lsa import EffectiveParameters


def numeric_scan(n, s2, starts=300, seed=3):
    """Stationary points by least squares on (grad L, |u|^2 - |M|^2) from random starts."""
    p = EffectiveParameters.symbols(1)
    v = [p.u[0], p.u[1], p.M[0], p.M[1]]
    L = sp.expand(expected_loss(Task(d=1, n=n, noise=s2)))
    eqs = [sp.diff(L, x) for x in v] + [v[0] ** 2 + v[1] ** 2 - v[2] ** 2 - v[3] ** 2]
    F = sp.lambdify([v], eqs)
    J = sp.lambdify([v], sp.Matrix(eqs).jacobian(v))
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(starts):
        r = least_squares(lambda x: np.array(F(x), float), rng.normal(scale=1.2, size=4),
                          jac=lambda x: np.array(J(x), float), xtol=1e-15, ftol=1e-15, gtol=1e-15)
        if np.linalg.norm(r.fun) < 1e-10 and not any(np.allclose(r.x, f, atol=1e-6) for f in found):
            found.append(r.x)
    return found


@pytest.mark.parametrize("n,s2", [(5, sp.Rational(1, 4)), (1, 0)])
def test_d1_stationary_points_match_numeric_scan(n, s2):
    exact = stationary_points_d1(n, s2)
    scan = numeric_scan(n, s2)
    exact_pts = [np.array([float(v) for v in pt.point.values()]) for pt in exact]
    # every numerically found point is one of the exact ones, and vice versa
    assert len(scan) == len(exact_pts)
    for x in scan:
        assert any(np.allclose(x, e, atol=1e-6) for e in exact_pts)


def test_d1_classification():
    pts = stationary_points_d1(5, sp.Rational(1, 4))
    kinds = Counter(p.kind for p in pts)
    # origin + 4 mixed saddles; two global-minimum gauge families, each cut twice (+-)
    assert kinds == {"saddle": 5, "global minimum": 4}
    # L* = s2 + d (d + 1 + s2)/(n + d + 1 + s2) at d = 1, n = 5, s2 = 1/4
    L_star = sp.Rational(1, 4) + sp.Rational(9, 4) / sp.Rational(29, 4)
    for p in pts:
        if p.kind == "global minimum":
            assert abs(float(p.loss - L_star)) < 1e-25
            assert p.hessian_eigenvalues[0] > -1e-12     # PSD, the gauge direction is flat
        else:
            assert p.hessian_eigenvalues[0] < -1e-3       # a strict descent direction
    assert "spurious local minimum" not in kinds


@pytest.mark.slow
def test_d2_multistart_finds_global_and_spurious_minima():
    task = Task(d=2, n=5, noise="1/4")
    L_star = 0.25 + 2 * (3.25) / (5 + 3.25)
    limits = multistart(task, starts=20, seed=0, L_star=L_star)
    kinds = {lim.kind for lim in limits}
    assert "global minimum" in kinds
    best = limits[0]
    assert abs(best.loss - L_star) < 1e-8
    assert np.allclose(best.gamma, 5 / 8.25 * np.eye(2), atol=1e-5)
