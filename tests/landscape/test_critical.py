"""Certified critical points of the exact loss: gradient equations, negative controls, the d = 1 grid."""

from functools import cache

import numpy as np
import pytest
import sympy as sp

from derivations import Task, expected_loss
from derivations.errors import TaskError
from derivations.landscape import (
    certify_exact,
    certify_numeric,
    check_invariance,
    exact_inertia,
    generators,
    landscape,
    lie_algebra,
    loss_polynomial,
    nearest_critical_point,
    stationary_points_d1,
)
from derivations.landscape.polynomial import parameter_symbols, polynomial_response_loss
from derivations.landscape.symmetry import data_generator
from derivations.task import Response

THM1_D2 = Task(d=2, n=5, noise="1/4")
OMEGA_I = Task(d=2, n=5, noise="1/4", covariance=[[2, 1], [1, 3]])


@cache
def land(task):
    return landscape(task, starts=8, seed=0)


def _spurious(task):
    found = land(task).spurious_minima
    assert found, "a certified spurious local minimum"
    return found[0]


def test_spurious_minimum_theorem1_d2_is_certified():
    p = _spurious(THM1_D2)
    L_star = sp.Rational(137, 132)           # s2 + d(d+1+s2)/(n+d+1+s2) at d = 2, n = 5, s2 = 1/4
    assert land(THM1_D2).L_star == L_star
    lo, hi = p.loss_bounds()
    assert 1.5989497 < lo <= hi < 1.5989498 and hi - lo < 1e-9       # the README's 1.598950
    assert p.inertia == (0, 2, 7) and p.symmetry_dim == 2


def test_certified_point_satisfies_the_gradient_equations_in_ball_arithmetic():
    loss = loss_polynomial(THM1_D2)
    p = _spurious(THM1_D2)
    assert all(g.contains(0) for g in loss.gradient_balls(p.point))
    # independently: SymPy's own derivatives of expected_loss (a different code path), in floats
    V = parameter_symbols(2)
    L = sp.expand(expected_loss(THM1_D2))
    grad = sp.lambdify([V], [sp.diff(L, v) for v in V])
    assert np.linalg.norm(grad(p.point_float())) < 1e-12
    hess = np.array(sp.lambdify([V], sp.hessian(L, V))(p.point_float()), dtype=float)
    eig = np.linalg.eigvalsh(hess)
    assert (np.abs(eig) < 1e-9).sum() == 2 and (eig > 1e-3).sum() == 7


def test_perturbed_point_fails_its_certificate():
    loss, gens = loss_polynomial(THM1_D2), generators(THM1_D2)
    x = _spurious(THM1_D2).point_float()
    assert certify_numeric(loss, gens, x, refine=False).certified       # the point itself
    bad = x + 1e-6 * np.arange(1, 10)
    cp = certify_numeric(loss, gens, bad, refine=False)
    assert not cp.certified and "Krawczyk" in cp.reason


def test_exact_global_minimiser_and_its_negative_control():
    loss, gens = loss_polynomial(THM1_D2), generators(THM1_D2)
    eta = sp.Rational(5, 5 + 3 + sp.Rational(1, 4))                      # n/(n + d + 1 + s2)
    p = [0, 0, 1, eta, 0, 0, eta, 0, 0]
    cp = certify_exact(loss, gens, p, sp.Rational(137, 132))
    assert cp.kind == "global-min" and cp.certified and cp.loss == sp.Rational(137, 132)
    assert cp.inertia == (0, 1, 8)                                       # the gauge direction only
    p[3] += sp.Rational(1, 10**6)
    bad = certify_exact(loss, gens, p, sp.Rational(137, 132))
    assert not bad.certified and "not a critical point" in bad.reason


def test_origin_family_is_a_certified_saddle_family():
    pts = [p for p in land(THM1_D2).points if p.family_dim]
    assert len(pts) == 1
    origin = pts[0]
    assert origin.loss == sp.Rational(9, 4)                              # E[y_q^2] = d + s2
    assert origin.family_dim == 3 and origin.kind == "saddle" and origin.certified
    assert origin.inertia == (3, 3, 3)


@pytest.mark.parametrize("n,s2", [(5, sp.Rational(1, 4)), pytest.param(1, 0, marks=pytest.mark.slow)])
def test_d1_reproduces_the_groebner_grid(n, s2, landscape_of):
    task = Task(d=1, n=n, noise=s2)
    result = landscape_of(task)
    groebner = stationary_points_d1(n, s2)
    values = {round(float(p.loss), 9) for p in groebner}
    listed = {round(sum(p.loss_bounds()) / 2, 9) for p in result.certified}
    assert values == listed
    L_star = s2 + sp.Rational(1) * (2 + s2) / (n + 2 + s2)
    assert result.lowest_certified_loss == L_star
    kinds = sorted(p.kind for p in result.points)
    assert kinds == ["global-min", "global-min", "saddle", "saddle"]     # u_y a = eta, u_x b = eta; origin; mixed
    assert not result.spurious_minima


@pytest.mark.slow
def test_omega_identity_search_finds_the_spurious_minimum():
    p = _spurious(OMEGA_I)
    assert p.symmetry_dim == 1 and p.inertia == (0, 1, 8)
    assert p.loss_bounds()[0] > float(land(OMEGA_I).L_star) + 0.5


def test_omega_identity_spurious_minimum_certified_from_a_rough_start():
    # a 4-digit start (rank-one Gamma = b u_x^T, u_y = 0, A = 0); Newton + Krawczyk do the rest
    assert lie_algebra(OMEGA_I.Sigma, OMEGA_I.Omega) == []          # only the gauge symmetry
    start = [-0.1021, -0.1651, 0.0, 0.0, 0.0, 0.0, 0.0, -0.5023, -0.8128]
    loss, gens = loss_polynomial(OMEGA_I), generators(OMEGA_I)
    p = certify_numeric(loss, gens, start, L_star=sp.Rational(16487, 7788))
    assert p.certified and p.kind == "local-min" and p.inertia == (0, 1, 8)
    # L* of Omega = I: tr(Sigma) + s2 - tr(Sigma B C^-1 B^T) with B = Sigma (computed by global_optimum)
    assert p.loss_bounds()[0] > 16487 / 7788 + 0.5
    assert all(g.contains(0) for g in loss.gradient_balls(p.point))


def test_symmetry_generators_are_checked_and_a_false_one_is_refused():
    loss = loss_polynomial(OMEGA_I)
    assert all(check_invariance(loss, g) for g in generators(OMEGA_I))
    rotation = data_generator(2, sp.Matrix([[0, -1], [1, 0]]))
    assert not check_invariance(loss, rotation)        # not a symmetry when Sigma is not isotropic
    thm2 = Task(d=2, n=5, noise="1/4", covariance=[[2, 1], [1, 3]], prior="inverse-covariance")
    (X,) = lie_algebra(thm2.Sigma, thm2.Omega)
    assert X * thm2.Sigma + thm2.Sigma * X.T == sp.zeros(2, 2)
    assert check_invariance(loss_polynomial(thm2), data_generator(2, X))


@pytest.mark.parametrize("seed", range(4))
def test_exact_inertia_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    A = sp.Matrix(5, 5, lambda i, j: sp.Rational(int(rng.integers(-9, 10)), int(rng.integers(1, 5))))
    A = A + A.T
    A[4, :] = A[3, :]
    A[:, 4] = A[:, 3]                                  # rank deficient: a zero eigenvalue
    eig = np.linalg.eigvalsh(np.array(A.tolist(), dtype=float))
    expect = (int((eig < -1e-9).sum()), int((abs(eig) <= 1e-9).sum()), int((eig > 1e-9).sum()))
    assert exact_inertia(A) == expect


def test_polynomial_response_route_reproduces_the_linear_loss():
    for task in (Task(d=1, n=3, noise="1/2"), Task(d=2, n=4, noise="1/4", covariance=[[2, 1], [1, 3]])):
        assert sp.expand(polynomial_response_loss(task) - expected_loss(task)) == 0


def test_nearest_critical_point_classifies_weights():
    result = land(THM1_D2)
    x = _spurious(THM1_D2).point_float()
    cp, value, gap = nearest_critical_point(result, x[:3], x[3:].reshape(3, 2))
    assert cp.kind == "local-min" and gap < 1e-9
    eta = 5 / 8.25
    cp, value, gap = nearest_critical_point(result, [0, 0, 1], [[eta, 0], [0, eta], [0, 0]])
    assert cp.kind == "global-min" and abs(float(value.mid()) - 137 / 132) < 1e-12 and gap < 1e-12


def test_bad_input_is_refused_before_work():
    with pytest.raises(TaskError, match="d must be at most 3"):
        landscape(Task(d=4, n=5, noise="1/4"))
    with pytest.raises(TaskError, match="n and noise must be fixed"):
        landscape(Task(d=1))
    with pytest.raises(TaskError, match="polynomial"):
        landscape(Task(d=1, n=3, noise=0, response=Response("single-index", link="tanh(s)")))
    with pytest.raises(TaskError, match="expected u of size"):
        nearest_critical_point(land(THM1_D2), [0, 1], [[0, 0]])


@pytest.mark.slow
def test_cubic_d2_has_a_certified_spurious_minimum():
    task = Task(d=2, n=5, noise="1/4", response=Response("single-index", link="s^3"))
    result = landscape(task, starts=12, seed=0)
    assert result.lowest_certified_loss == result.L_star
    assert result.spurious_minima and all(p.certified for p in result.points)
    assert result.spurious_minima[0].loss_bounds()[0] > float(result.L_star)
