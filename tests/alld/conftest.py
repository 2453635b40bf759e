"""Shared helpers: exact random instances and the fixed-d engine's view of the same objects."""

import random

import pytest
import sympy as sp

from derivations.moments import GaussianVector


def rational_matrix(dim, rng):
    return sp.Matrix(dim, dim, lambda i, j: sp.Rational(rng.randint(-4, 4), rng.randint(1, 3)))


def rational_spd(dim, rng):
    m = rational_matrix(dim, rng)
    return m * m.T + sp.eye(dim) * sp.Rational(rng.randint(1, 3), 2)


@pytest.fixture
def rng():
    return random.Random(20230707)


def gaussians(dim, Sigma, Omega, s2):
    """Fixed-d GaussianVectors for x_i, w, eps_i, x_q, eps_q and the label y_i."""
    x = GaussianVector("x", dim, Sigma)
    w = GaussianVector("w", dim, Omega)
    e = GaussianVector("e", 1, sp.Matrix([[s2]]))
    xq = GaussianVector("q", dim, Sigma)
    eq = GaussianVector("f", 1, sp.Matrix([[s2]]))
    y = sp.Matrix(w.coords).dot(sp.Matrix(x.coords)) + e.coords[0]
    yq = sp.Matrix(w.coords).dot(sp.Matrix(xq.coords)) + eq.coords[0]
    return x, w, e, xq, eq, y, yq
