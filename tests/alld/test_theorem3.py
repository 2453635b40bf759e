"""Theorem 3 instance y = (w^T x)^3 + eps at symbolic d, cross-checked at fixed d."""

import pytest
import sympy as sp

from derivations.alld.canonical import Canonical
from derivations.alld.proofs import ETA, ETA3, claims, prove, setting
from derivations.alld.tensor import d, identity
from derivations.engine import context_moment
from derivations.exact import exact_equal
from derivations.moments import GaussianVector
from derivations.symbols import n, s2


@pytest.fixture(scope="module")
def cubic():
    return prove("theorem3-cubic")


def test_cubic_theorem_holds(cubic):
    assert cubic.holds, str(cubic)
    assert cubic.conclusion["strength"] == "symbolic-d"
    assert exact_equal(cubic.conclusion["eta"], ETA3)


def test_cubic_rejects_the_linear_step_size():
    D = prove("theorem3-cubic", {"gamma": ETA * identity()})
    assert D["normal-equations"].status == "refuted"
    assert not D.holds


@pytest.mark.parametrize("dim", [1, 2])
def test_cubic_moments_match_fixed_d(dim):
    x = GaussianVector("x", dim)
    w = GaussianVector("w", dim)
    e = GaussianVector("e", 1, sp.Matrix([[s2]]))
    q = GaussianVector("q", dim)
    f = GaussianVector("f", 1, sp.Matrix([[s2]]))
    X, Q = x.coords, q.coords
    y = sp.Matrix(w.coords).dot(sp.Matrix(X)) ** 3 + e.coords[0]
    yq = sp.Matrix(w.coords).dot(sp.Matrix(Q)) ** 3 + f.coords[0]
    C = sp.Matrix(dim, dim, lambda a, b: context_moment([y * X[a], y * X[b]], [x, e], [w], n=n))
    B = sp.Matrix(dim, dim, lambda a, b: context_moment([y * X[b]], [x, e], [w, q, f], n=n,
                                                        shared_factor=yq * Q[a]))
    c = claims(setting("theorem3-cubic"))
    assert exact_equal(Canonical.of(c["C"]).evaluate({}, dim), C)
    assert exact_equal(Canonical.of(c["B"]).evaluate({}, dim), B)
    assert not exact_equal(ETA3.subs(d, dim), ETA.subs(d, dim))
