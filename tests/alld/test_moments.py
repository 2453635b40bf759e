"""The all-d engine against the closed forms and against the fixed-d engine at d = 1..4."""

import pytest
import sympy as sp

from derivations.alld.canonical import Canonical, decide
from derivations.alld.proofs import claims, setting
from derivations.alld.tensor import average, example, gaussian, identity, inverse, matrix, trace
from derivations.alld.wick import expect
from derivations.engine import context_moment, expectation
from derivations.exact import exact_equal
from derivations.moments import GaussianVector
from derivations.symbols import n, s2

from .conftest import gaussians, rational_matrix, rational_spd

S, A, Om = matrix("Sigma", True), matrix("A"), matrix("Omega", True)


def fourth_moment():
    x = gaussian("x")
    return Canonical.of(expect(x * (x.T @ A @ x) * x.T, {"x": S}))


def wishart():
    x = example("x")
    Smean = average(x * x.T)
    return Canonical.of(expect(Smean @ A @ Smean.T, {"x": S}))


def test_fourth_moment_closed_form():
    assert decide(fourth_moment(), Canonical.of(S @ (A + A.T) @ S + trace(A @ S) * S))[0] is True


def test_wishart_closed_form():
    # the published form holds for a symmetric middle matrix (Omega) ...
    x = example("x")
    Smean = average(x * x.T)
    symmetric = Canonical.of(expect(Smean @ Om @ Smean, {"x": S}))
    claimed = Canonical.of((n + 1) / n * (S @ Om @ S) + trace(Om @ S) / n * S)
    assert decide(symmetric, claimed)[0] is True
    # ... for a general A the transpose appears:
    # Sigma A Sigma + (Sigma A^T Sigma + tr(A Sigma) Sigma) / n
    general = Canonical.of(S @ A @ S + (S @ A.T @ S + trace(A @ S) * S) / n)
    assert decide(wishart(), general)[0] is True


def test_wrong_wishart_is_refuted():
    claimed = Canonical.of(S @ A @ S + trace(A @ S) / n * S)
    ok, reason = decide(wishart(), claimed)
    assert ok is False and "counterexample" in reason


@pytest.mark.parametrize("dim", [1, 2, 3, 4])
def test_fourth_moment_matches_fixed_d(dim, rng):
    Sigma, Am = rational_spd(dim, rng), rational_matrix(dim, rng)
    x = GaussianVector("x", dim, Sigma)
    q = (sp.Matrix(x.coords).T * Am * sp.Matrix(x.coords))[0, 0]
    fixed = sp.Matrix(dim, dim, lambda a, b: expectation(x.coords[a] * q * x.coords[b], [x]))
    assert exact_equal(fourth_moment().evaluate({"Sigma": Sigma, "A": Am}, dim), fixed)


@pytest.mark.parametrize("dim", [1, 2, 3, 4])
def test_wishart_matches_fixed_d(dim, rng):
    Sigma, Am = rational_spd(dim, rng), rational_matrix(dim, rng)
    x = GaussianVector("x", dim, Sigma)
    X = x.coords

    def entry(a, b):
        # (S A S^T)_ab = sum_{c,e} S_ac A_ce S_be, with S = (1/n) sum_i x_i x_i^T
        return sum(Am[c, e] * context_moment([X[a] * X[c], X[b] * X[e]], [x], n=n)
                   for c in range(dim) for e in range(dim))

    fixed = sp.Matrix(dim, dim, entry)
    assert exact_equal(wishart().evaluate({"Sigma": Sigma, "A": Am}, dim), fixed)


def instances(kind, dim, rng):
    """Explicit Sigma, Omega for a kind, and the environment for evaluating closed forms."""
    if kind == "theorem1":
        return sp.eye(dim), sp.eye(dim), {}
    Sigma = rational_spd(dim, rng)
    if kind == "theorem2":
        return Sigma, Sigma.inv(), {"Sigma": Sigma}
    Omega = rational_spd(dim, rng)
    return Sigma, Omega, {"Sigma": Sigma, "Omega": Omega}


@pytest.mark.parametrize("kind", ["theorem1", "theorem2", "general-prior"])
@pytest.mark.parametrize("dim", [1, 2, 3, 4])
def test_moments_of_g_match_fixed_d(kind, dim, rng):
    Sigma, Omega, env = instances(kind, dim, rng)
    x, w, e, *_ , y, _ = gaussians(dim, Sigma, Omega, s2)
    X, W = x.coords, w.coords
    C = sp.Matrix(dim, dim, lambda a, b: context_moment([y * X[a], y * X[b]], [x, e], [w], n=n))
    B = sp.Matrix(dim, dim, lambda a, b: context_moment([y * X[b]], [x, e], [w], n=n,
                                                        shared_factor=W[a]))
    c = claims(setting(kind))
    assert exact_equal(Canonical.of(c["C"]).evaluate(env, dim), C)
    assert exact_equal(Canonical.of(c["B"]).evaluate(env, dim), B)


def fixed_loss(dim, Sigma, Omega, Gamma):
    """E[(x_q^T Gamma g - y_q)^2] by the fixed-d engine (n, s2 symbolic).

    The fixed-d engine works with polynomials, so Gamma enters as a matrix of symbols and
    the given (possibly n-dependent) entries are substituted afterwards.
    """
    x, w, e, xq, eq, y, yq = gaussians(dim, Sigma, Omega, s2)
    G = sp.Matrix(dim, dim, lambda a, b: sp.Symbol(f"G{a}{b}"))
    phi = sp.expand((sp.Matrix(xq.coords).T * G * sp.Matrix(x.coords))[0, 0] * y)
    shared = [w, xq, eq]
    square = context_moment([phi, phi], [x, e], shared, n=n)
    cross = context_moment([phi], [x, e], shared, n=n, shared_factor=yq)
    loss = square - 2 * cross + expectation(yq**2, shared)
    return loss.subs({G[a, b]: Gamma[a, b] for a in range(dim) for b in range(dim)})


@pytest.mark.parametrize("kind", ["theorem1", "theorem2", "general-prior"])
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_loss_quadratic_matches_fixed_d(kind, dim, rng):
    Sigma, Omega, env = instances(kind, dim, rng)
    Gamma = rational_matrix(dim, rng)
    s = setting(kind)
    step_rhs = Canonical.of(_quadratic(s, claims(s)))
    env = dict(env, Gamma=Gamma)
    assert exact_equal(step_rhs.evaluate(env, dim), fixed_loss(dim, Sigma, Omega, Gamma))


def _quadratic(s, c):
    G = matrix("Gamma")
    return (trace(G @ c["C"] @ G.T @ s.Sigma) - 2 * trace(G.T @ s.Sigma @ c["B"])
            + trace(s.Sigma @ s.Omega) + s2)


@pytest.mark.parametrize("kind", ["theorem1", "theorem2"])
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_optimal_loss_matches_fixed_d(kind, dim, rng):
    from derivations.alld.proofs import ETA, LOSS
    from derivations.alld.tensor import d
    Sigma, Omega, _ = instances(kind, dim, rng)
    Gamma = ETA.subs(d, dim) * Sigma.inv()
    assert exact_equal(fixed_loss(dim, Sigma, Omega, Gamma), LOSS.subs(d, dim))


@pytest.mark.parametrize("dim, point", [(1, {}), (2, {}), (3, {n: 5, s2: sp.Rational(1, 2)})])
def test_general_prior_optimum_matches_fixed_d(dim, point, rng):
    """Gamma* = Omega Sigma C^{-1} and L* at explicit Sigma, Omega: the loss there is L*
    and a perturbed Gamma* does strictly worse. At d = 3, n and s2 are fixed (``point``)
    because C^{-1} with symbolic n makes the fixed-d side's rational functions slow."""
    Sigma, Omega, env = instances("general-prior", dim, rng)
    c = claims(setting("general-prior"))
    Cm = Canonical.of(c["C"]).evaluate(env, dim).subs(point)
    env = dict(env, C=Cm)
    Gamma = Canonical.of(c["gamma"]).evaluate(env, dim)
    Lstar = Canonical.of(c["loss"]).evaluate(env, dim).subs(point)
    assert exact_equal(fixed_loss(dim, Sigma, Omega, Gamma).subs(point), Lstar)
    worse = fixed_loss(dim, Sigma, Omega, Gamma + sp.eye(dim) / 7).subs(point)
    gap = sp.cancel(worse - Lstar)
    assert not exact_equal(gap, 0)
    assert gap.subs({n: 5, s2: sp.Rational(1, 2)}) > 0


def test_symbolic_covariance_specs_agree():
    """Sigma = I via identity() and Omega = Sigma^{-1} via inverse() are consistent."""
    x = example("x")
    w = gaussian("w")
    g = average((w.T @ x) * x)
    lhs = Canonical.of(expect(w * g.T, {"x": S, "w": inverse("Sigma", True)}))
    assert decide(lhs, Canonical.of(identity()))[0] is True
    lhs = Canonical.of(expect(w * g.T, {"x": S, "w": Om}))
    assert decide(lhs, Canonical.of(Om @ S))[0] is True
