"""Non-Gaussian covariates: the engine's cumulant blocks against brute-force expectations.

Truths used, independent of the engine: a full expansion of (yhat - y_q)^2 over explicit
coordinates of n = 2 context examples, integrated monomial by monomial with per-coordinate
moments (uniform: the integral of x^k over [-a, a] / 2a computed by SymPy's integrate;
Rademacher: 1 for even powers; Gaussian w and noise: (k-1)!!). No partitions, no cumulants.
The step size eta* = s / ((m4 + (d-1) s^2 + s2 s)/n + (1 - 1/n) s^2) is derived by hand in
the README (fourth moments of iid coordinates with one fourth-cumulant term).
"""

from functools import cache
from math import prod

import pytest
import sympy as sp

from derivations import Task, expected_loss, global_optimum
from derivations.errors import TaskError
from derivations.laws import Moments, Rademacher, Uniform, law_from_spec
from derivations.lsa import EffectiveParameters
from derivations.symbols import n, s2

HALF = sp.Rational(3, 2)


@cache
def law_moment(law, k):
    """E[x^k] of one coordinate, computed independently of derivations.laws."""
    if k % 2:
        return sp.Integer(0)
    if law == "uniform":
        x = sp.Symbol("x", real=True)
        return sp.integrate(x**k, (x, -HALF, HALF)) / (2 * HALF)
    if law == "rademacher":
        return sp.Integer(1)
    raise ValueError(law)


def gaussian_moment(k, var=1):
    if k % 2:
        return sp.Integer(0)
    return var ** (k // 2) * prod(range(k - 1, 0, -2))


def brute_loss(d, law, params, noise, count=2, query_in_keys=False, residual=False):
    """E[(yhat - y_q)^2] with ``count`` explicit context examples, by full expansion."""
    xs = [[sp.Symbol(f"x{i}_{k}", real=True) for k in range(d)] for i in range(count)]
    xq = [sp.Symbol(f"q_{k}", real=True) for k in range(d)]
    w = [sp.Symbol(f"w_{k}", real=True) for k in range(d)]
    eps = [sp.Symbol(f"e{i}", real=True) for i in range(count + 1)]
    ys = [sum(w[k] * xs[i][k] for k in range(d)) + eps[i] for i in range(count)]
    yq = sum(w[k] * xq[k] for k in range(d)) + eps[count]
    u, M, r = params.u, params.M, params.r
    zs = [sp.Matrix(xs[i] + [ys[i]]) for i in range(count)]
    xqm = sp.Matrix(xq)
    keys = list(zs) + ([sp.Matrix(xq + [0])] if query_in_keys else [])
    yhat = sum(((u.T * z)[0] * (z.T * M * xqm)[0] for z in keys), sp.Integer(0)) / count
    if residual:
        yhat += (r.T * xqm)[0]
    poly = sp.Poly(sp.expand((yhat - yq) ** 2), *[c for row in xs for c in row], *xq, *w, *eps)
    law_vars = len(xs) * d + d
    total = sp.Integer(0)
    for monomial, coeff in poly.terms():
        value = coeff
        for j, k in enumerate(monomial):
            if j < law_vars:
                value *= law_moment(law, k)
            elif j < law_vars + d:
                value *= gaussian_moment(k)
            else:
                value *= gaussian_moment(k, noise)
            if value == 0:
                break
        total += value
    return sp.expand(total)


def random_params(d, seed, residual=False):
    import random
    rng = random.Random(seed)

    def rat():
        return sp.Rational(rng.randint(-5, 5), rng.randint(1, 4))
    return EffectiveParameters(sp.Matrix(d + 1, 1, lambda i, j: rat()), sp.Matrix(d + 1, d, lambda i, j: rat()),
                               sp.Matrix(d, 1, lambda i, j: rat()) if residual else sp.zeros(d, 1))


LAWS = {"uniform": {"law": "uniform", "half_width": "3/2"}, "rademacher": {"law": "rademacher"}}


@pytest.mark.parametrize("law", sorted(LAWS))
def test_loss_matches_brute_force_d1_symbolic_parameters(law):
    task = Task(d=1, n=2, noise="1/3", covariates=LAWS[law])
    params = EffectiveParameters.symbols(1)
    got = sp.expand(expected_loss(task))
    want = brute_loss(1, law, params, sp.Rational(1, 3))
    assert sp.expand(got - want) == 0


@pytest.mark.parametrize("law", sorted(LAWS))
@pytest.mark.parametrize("variant", [{}, pytest.param({"query_in_keys": True}, marks=pytest.mark.slow),
                                     pytest.param({"residual": True}, marks=pytest.mark.slow)])
def test_loss_matches_brute_force_d2_random_parameters(law, variant):
    task = Task(d=2, n=2, noise="1/2", covariates=LAWS[law], **variant)
    params = random_params(2, seed=len(law) + len(variant), residual=variant.get("residual", False))
    got = expected_loss(task, params.u, params.M, params.r)
    want = brute_loss(2, law, params, sp.Rational(1, 2), **variant)
    assert got == want


def test_query_in_keys_uses_the_sixth_moment_d1():
    # the query-in-keys loss needs E[x^6]: a law with a different sixth moment but the same
    # second and fourth moments gives a different loss, and the brute force sees it too
    task = Task(d=1, n=2, noise=0, covariates=LAWS["uniform"], query_in_keys=True)
    params = random_params(1, seed=3)
    assert expected_loss(task, params.u, params.M) == brute_loss(1, "uniform", params, 0, query_in_keys=True)


def hand_eta(s, m4, d):
    return s / ((m4 + (d - 1) * s**2 + s2 * s) / n + (1 - 1 / n) * s**2)


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("law,s,m4", [
    ({"law": "uniform", "half_width": 1}, sp.Rational(1, 3), sp.Rational(1, 5)),
    ({"law": "rademacher"}, 1, 1),
    ({"law": "moments", "variance": 2, "fourth_moment": 7}, 2, 7),
])
def test_certified_optimum_is_eta_identity_with_the_fourth_moment(d, law, s, m4):
    opt = global_optimum(Task(d=d, covariates=law))
    assert opt.holds and opt.form == "gd"
    assert sp.cancel(opt.eta - hand_eta(s, m4, d)) == 0
    # near miss: the Gaussian step size for the same variance (Isserlis) is NOT the optimum
    gaussian = n / ((n + d + 1 + s2 / s) * s)
    assert sp.cancel(opt.eta - gaussian) != 0


def test_gaussian_law_is_the_old_engine():
    a = expected_loss(Task(d=2, covariance=[[2, 1], [1, 3]]))
    b = expected_loss(Task(d=2, covariance=[[2, 1], [1, 3]], covariates={"law": "gaussian"}))
    assert sp.expand(a - b) == 0


def test_cumulants_of_the_laws():
    assert Uniform(2).cumulant(4) == sp.Rational(16, 5) - 3 * sp.Rational(4, 3) ** 2
    assert Rademacher().cumulant(4) == -2 and Rademacher().cumulant(6) == 16
    assert Uniform(1).cumulant(6) == sp.Rational(1, 7) - 15 * sp.Rational(1, 5) / 3 + 30 * sp.Rational(1, 27)
    assert Moments(1, 3).cumulant(4) == 0       # Gaussian-like fourth moment


@pytest.mark.parametrize("kwargs,fragment", [
    ({"covariates": {"law": "uniform", "half_width": 0}}, "half_width: must be a positive"),
    ({"covariates": {"law": "uniform", "half_width": 0.5}}, "float"),
    ({"covariates": {"law": "uniform"}}, "half_width: required"),
    ({"covariates": {"law": "cauchy"}}, "covariates.law"),
    ({"covariates": {"law": "rademacher", "scale": 2}}, "unknown key 'scale'"),
    ({"covariates": {"law": "moments", "variance": 2, "fourth_moment": 3}}, "fourth_moment: must be >="),
    ({"covariates": {"law": "uniform", "half_width": 1}, "covariance": [[2, 0], [0, 2]]}, "covariance: not allowed"),
    ({"covariates": {"law": "moments", "variance": 1, "fourth_moment": 2}, "query_in_keys": True}, "E[x^6]"),
    ({"covariates": "uniform"}, "must be a table"),
])
def test_bad_laws_are_refused(kwargs, fragment):
    with pytest.raises(TaskError) as err:
        Task(d=2, **kwargs)
    assert fragment in str(err.value)


def test_law_from_spec_defaults_to_gaussian():
    assert law_from_spec(None).is_gaussian
    assert Task(d=1).covariates.is_gaussian
