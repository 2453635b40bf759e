"""Fraction-free linear algebra with flint polynomials, against SymPy's own linear algebra."""

import random

import pytest
import sympy as sp

from derivations.polymatrix import FractionMatrix, PolyDomain, bareiss, solve
from derivations.positivity import _certify_positive_definite_flint, certify_positive_definite
from derivations.symbols import n, s2


def random_matrix(rng, k, symbols):
    def entry():
        value = sp.Rational(rng.randint(-5, 5), rng.randint(1, 4))
        for s in symbols:
            value += rng.randint(-2, 2) * s
        return value
    return sp.Matrix(k, k, lambda i, j: entry())


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("symbols,size", [((), 5), ((n,), 3), ((n, s2), 3)])
def test_minors_and_solve_match_sympy(seed, symbols, size):
    rng = random.Random(seed)
    A = random_matrix(rng, size, symbols)
    R = random_matrix(rng, size, symbols)[:, :2]
    dom = PolyDomain(symbols)
    rows = [[dom.poly(A[i, j]) for j in range(size)] for i in range(size)]
    minors = bareiss(rows)
    for k, minor in enumerate(minors, start=1):
        assert sp.expand(dom.to_expr(minor) - A[:k, :k].det(method="berkowitz")) == 0
    N, delta = solve(rows, [[dom.poly(R[i, j]) for j in range(2)] for i in range(size)])
    X = sp.Matrix(size, 2, lambda i, j: dom.ratio(N[i][j], delta))
    assert (A * X - R).applyfunc(sp.cancel) == sp.zeros(size, 2)


def test_solve_refuses_a_singular_matrix():
    dom = PolyDomain([n])
    rows = [[dom.poly(n), dom.poly(2 * n)], [dom.poly(1), dom.poly(2)]]
    with pytest.raises(ZeroDivisionError):
        solve(rows, [[dom.one], [dom.one]])


def test_fraction_matrix_product_and_comparison():
    dom = PolyDomain([n, s2])
    A = sp.Matrix([[1 / n, s2], [(n + 1) / (n + s2), 2]])
    B = sp.Matrix([[n, 0], [1, 1 / (n + 1)]])
    P = FractionMatrix.from_sympy(dom, A) @ FractionMatrix.from_sympy(dom, B)
    assert (P.sympy() - A * B).applyfunc(sp.cancel) == sp.zeros(2, 2)
    assert P.first_difference(FractionMatrix.from_sympy(dom, A * B)) is None
    assert P.first_difference(FractionMatrix.from_sympy(dom, A * B + sp.Matrix([[0, 0], [0, 1]]))) == (1, 1)
    assert P.evaluate({n: 2, s2: sp.Rational(1, 2)}) == (A * B).subs({n: 2, s2: sp.Rational(1, 2)})


def test_ratio_is_cancelled_and_factored():
    dom = PolyDomain([n, s2])
    num, den = dom.fraction((n**2 - 1) / ((n - 1) * (n + s2 + 3)))
    assert dom.ratio(num, den) == (n + 1) / (n + s2 + 3)


@pytest.mark.parametrize("matrix,expected", [
    (sp.Matrix([[2, 1], [1, 2]]), True),
    (sp.Matrix([[1, 2], [2, 1]]), False),
    (sp.Matrix([[0, 1], [1, 0]]), False),
    (sp.Matrix([[1, 1, 0], [1, 1, 0], [0, 0, 1]]), False),
    ((n + 4 + s2) / n * sp.eye(3), True),
    (sp.Matrix([[n - 1, 0], [0, 1]]), None),                # zero at n = 1: never certified
    (sp.Matrix([[(n + 1) / n, 1], [1, (n + 2 + s2) / n]]), True),   # minor 2 = (3n + 2 + s2 + n s2)/n^2
    (sp.Matrix([[1, 1], [1, 2 - s2]]), None),                       # minor 2 = 1 - s2
])
def test_flint_positivity_agrees_with_the_sympy_route(matrix, expected):
    fast = _certify_positive_definite_flint(matrix)
    assert fast is not None and fast[0] is expected
    assert certify_positive_definite(matrix)[0] is expected


def test_numeric_positivity_of_a_large_matrix():
    rng = random.Random(0)
    L = sp.Matrix(30, 30, lambda i, j: rng.randint(-3, 3) if j <= i else 0)
    M = L * L.T + sp.eye(30) / 7
    assert certify_positive_definite(M)[0] is True
    M[0, 0] = -M[0, 0]
    status, detail = certify_positive_definite(M)
    assert status is False and detail.startswith("leading principal minor 1 ")
    M[0, 0] = -M[0, 0]
    M[2, 2] = 0
    assert certify_positive_definite(M)[0] is False
