"""The exact Gaussian engine against independent truths.

Truths used: closed-form Gaussian/Wishart moment identities (textbook)
and a brute-force Isserlis written here (a sum over ALL perfect matchings of the multiset
of coordinate indices), never the engine's own output.
"""

from math import prod

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations.engine import Space, context_moment, expectation, wick
from derivations.moments import GaussianVector

n = sp.Symbol("n", integer=True, positive=True)
s2 = sp.Symbol("s2", nonnegative=True)

SIGMA = {
    2: sp.Matrix([[2, sp.Rational(1, 2)], [sp.Rational(1, 2), 1]]),
    3: sp.Matrix([[2, 1, 0], [1, 3, sp.Rational(-1, 2)],
                  [0, sp.Rational(-1, 2), sp.Rational(3, 4)]]),
}


def symbol_matrix(d, name="a"):
    return sp.Matrix(d, d, lambda i, j: sp.Symbol(f"{name}{i + 1}{j + 1}"))


def matrix_equal(a, b):
    diff = (sp.Matrix(a) - sp.Matrix(b)).applyfunc(lambda e: sp.expand(sp.together(e) * n**3))
    return diff == sp.zeros(*diff.shape)


# --- an independent brute-force Isserlis ------------------------------------------------

def matchings(items):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for k in range(len(rest)):
        for tail in matchings(rest[:k] + rest[k + 1:]):
            yield [(first, rest[k])] + tail


def brute_moment(cov, exponents):
    """E[prod_k x_k^e_k] = sum over perfect matchings of the index multiset of prod cov."""
    indices = [k for k, e in enumerate(exponents) for _ in range(e)]
    if len(indices) % 2:
        return sp.Integer(0)
    return sp.Add(*(prod((cov[i, j] for i, j in m), start=sp.Integer(1))
                    for m in matchings(indices)))


def test_brute_force_is_itself_right():
    # 15 matchings of 6 equal indices: E[x^6] = 15 for x ~ N(0, 1); E[x1^2 x2^2] = 1 + 2 c^2
    assert brute_moment(sp.Matrix([[1]]), (6,)) == 15
    c = sp.Symbol("c")
    assert sp.expand(brute_moment(sp.Matrix([[1, c], [c, 1]]), (2, 2)) - 1 - 2 * c**2) == 0


# --- fourth moments: E[x x^T A x x^T] -------------------------------------------------------

def fourth_moment(x, A):
    X = sp.Matrix(x.coords)
    quad = (X.T * A * X)[0]
    return sp.Matrix(x.dim, x.dim, lambda j, k: expectation(X[j] * quad * X[k], [x]))


@pytest.mark.parametrize("d", [2, 3])
def test_fourth_moment_identity_isotropic(d):
    A = symbol_matrix(d)
    got = fourth_moment(GaussianVector("x", d), A)
    assert matrix_equal(got, A + A.T + A.trace() * sp.eye(d))


@pytest.mark.parametrize("d", [2, 3])
def test_fourth_moment_identity_general_covariance(d):
    A, S = symbol_matrix(d), SIGMA[d]
    got = fourth_moment(GaussianVector("x", d, S), A)
    assert matrix_equal(got, S * (A + A.T) * S + (A * S).trace() * S)
    # the check has power: the isotropic formula is wrong here
    assert not matrix_equal(got, A + A.T + A.trace() * sp.eye(d))


def test_fourth_moment_diagonal_covariance():
    S = sp.diag(2, sp.Rational(1, 3), 5)
    A = symbol_matrix(3)
    got = fourth_moment(GaussianVector("x", 3, S), A)
    assert matrix_equal(got, S * (A + A.T) * S + (A * S).trace() * S)


# --- Wishart moments via context_moment (n symbolic) ---------------------------------------

def wishart_SAS(d, S, A):
    """E[S_hat A S_hat] with S_hat = (1/n) sum_i x_i x_i^T, entry by entry.

    (S_hat A S_hat)_jk = sum_l (1/n sum_i x_ij x_il) (1/n sum_i' sum_m A_lm x_i'm x_i'k).
    """
    x = GaussianVector("x", d, S)
    X = x.coords
    return sp.Matrix(d, d, lambda j, k: sum(
        context_moment([X[j] * X[l], sum(A[l, m] * X[m] * X[k] for m in range(d))], [x])
        for l in range(d)))


@pytest.mark.parametrize("d", [2, 3])
def test_wishart_second_moment(d):
    S = SIGMA[d]
    got = wishart_SAS(d, S, sp.eye(d))
    assert matrix_equal(got, (n + 1) / n * S**2 + S.trace() / n * S)
    assert not matrix_equal(got, S**2 + S.trace() / n * S)


def test_wishart_sandwich_symmetric_A():
    d, S = 2, SIGMA[2]
    a11, a12, a22 = sp.symbols("a11 a12 a22")
    A = sp.Matrix([[a11, a12], [a12, a22]])
    got = wishart_SAS(d, S, A)
    assert matrix_equal(got, (n + 1) / n * S * A * S + (A * S).trace() / n * S)


def test_wishart_sandwich_nonsymmetric_A():
    # (1/n) E[x x^T A x x^T] + ((n-1)/n) Sigma A Sigma: the (n+1)/n form needs A = A^T
    d, S, A = 2, SIGMA[2], symbol_matrix(2)
    got = wishart_SAS(d, S, A)
    assert matrix_equal(got, S * A * S + S * A.T * S / n + (A * S).trace() / n * S)
    assert not matrix_equal(got, (n + 1) / n * S * A * S + (A * S).trace() / n * S)


def test_wishart_isotropic_d3():
    got = wishart_SAS(3, sp.eye(3), sp.eye(3))
    assert matrix_equal(got, (n + 1) / n * sp.eye(3) + 3 / n * sp.eye(3))


def test_context_moment_scalar_closed_forms():
    x = GaussianVector("x", 1)
    t = x.coords[0]
    # the mean of n iid N(0,1) is N(0, 1/n): E[mean^4] = 3/n^2
    assert sp.simplify(context_moment([t, t, t, t], [x]) - 3 / n**2) == 0
    # chi-square: E[(chi2_n / n)^3] = n(n+2)(n+4)/n^3
    got = context_moment([t**2, t**2, t**2], [x])
    assert sp.expand(sp.together(got - n * (n + 2) * (n + 4) / n**3) * n**3) == 0


def test_context_moment_with_shared_vectors_gives_C():
    """E[g g^T] for g = (1/n) sum y_i x_i, y = w^T x + eps: the closed form of C."""
    d = 2
    S, O = SIGMA[2], sp.Matrix([[1, sp.Rational(1, 3)], [sp.Rational(1, 3), 2]])
    x = GaussianVector("x", d, S)
    e = GaussianVector("e", 1, sp.Matrix([[s2]]))
    w = GaussianVector("w", d, O)
    y = sum(wk * xk for wk, xk in zip(w.coords, x.coords, strict=True)) + e.coords[0]
    got = sp.Matrix(d, d, lambda j, k: context_moment([y * x.coords[j], y * x.coords[k]],
                                                       [x, e], shared=[w]))
    want = (n + 1) / n * S * O * S + ((O * S).trace() + s2) / n * S
    assert matrix_equal(got, want)
    # B = E[w g^T] = Omega Sigma (a shared factor times one context average)
    B = sp.Matrix(d, d, lambda j, k: context_moment([y * x.coords[k]], [x, e], shared=[w],
                                                    shared_factor=w.coords[j]))
    assert matrix_equal(B, O * S)


def test_context_moment_numeric_n():
    x = GaussianVector("x", 1)
    t = x.coords[0]
    assert context_moment([t**2, t**2], [x], n=4) == sp.Rational(4 * 6, 16)  # n(n+2)/n^2


# --- odd moments vanish ----------------------------------------------------------------------

@pytest.mark.parametrize("alpha", [(1, 0, 0), (3, 0, 0), (1, 1, 1), (2, 1, 0), (2, 2, 1),
                                   (5, 0, 2)])
def test_odd_moments_vanish(alpha):
    for cov in (None, sp.diag(2, 3, 5), SIGMA[3]):
        x = GaussianVector("x", 3, cov)
        assert x.moment(alpha) == 0
        mono = prod((c**a for c, a in zip(x.coords, alpha, strict=True)), start=sp.Integer(1))
        assert expectation(mono, [x]) == 0


def test_odd_context_moments_vanish():
    x = GaussianVector("x", 2, SIGMA[2])
    X = x.coords
    assert context_moment([X[0], X[0] * X[1]], [x]) == 0
    assert context_moment([X[0] * X[1] ** 2], [x]) == 0
    w = GaussianVector("w", 2)
    assert context_moment([X[0] * X[1]], [x], shared=[w], shared_factor=w.coords[0]) == 0


# --- hypothesis: engine vs brute-force Isserlis on random monomials ------------------------

@st.composite
def spd_covariances(draw, max_dim=3):
    """Small rational SPD matrices L L^T / q, L lower triangular with nonzero diagonal."""
    dim = draw(st.integers(1, max_dim))
    kind = draw(st.sampled_from(["general", "general", "diagonal", "identity"]))
    if kind == "identity":
        return sp.eye(dim)
    diag = [draw(st.integers(1, 3)) for _ in range(dim)]
    L = sp.zeros(dim, dim)
    for i in range(dim):
        L[i, i] = diag[i]
        for j in range(i):
            if kind == "general":
                L[i, j] = draw(st.integers(-2, 2))
    return L * L.T / draw(st.integers(1, 3))


@st.composite
def monomials(draw, dim, max_degree=8):
    exps = [draw(st.integers(0, 4)) for _ in range(dim)]
    while sum(exps) > max_degree:
        k = max(range(dim), key=lambda i: exps[i])
        exps[k] -= 1
    return tuple(exps)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_moments_match_brute_force_isserlis(data):
    cov = data.draw(spd_covariances())
    alpha = data.draw(monomials(cov.rows))
    x = GaussianVector("x", cov.rows, cov)
    truth = brute_moment(cov, alpha)
    assert sp.expand(x.moment(alpha) - truth) == 0
    c = sp.Symbol("c")
    mono = c * prod((v**a for v, a in zip(x.coords, alpha, strict=True)), start=sp.Integer(1))
    assert sp.expand(expectation(mono, [x]) - c * truth) == 0


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_two_independent_vectors_factorise(data):
    cx, cy = data.draw(spd_covariances(2)), data.draw(spd_covariances(2))
    x, y = GaussianVector("x", cx.rows, cx), GaussianVector("y", cy.rows, cy)
    ax, ay = data.draw(monomials(cx.rows, 6)), data.draw(monomials(cy.rows, 6))
    poly = (prod((v**a for v, a in zip(x.coords, ax, strict=True)), start=sp.Integer(1))
            * prod((v**a for v, a in zip(y.coords, ay, strict=True)), start=sp.Integer(1)))
    extra = x.coords[0] ** 2 * 7   # a second term: linearity
    got = expectation(poly + extra, [x, y])
    truth = brute_moment(cx, ax) * brute_moment(cy, ay) + 7 * cx[0, 0]
    assert sp.expand(got - truth) == 0


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_wick_matches_expanded_brute_force(data):
    """E[prod_k (a_k . xi)] in closed form equals expanding the product and Isserlis."""
    cov = data.draw(spd_covariances())
    dim = cov.rows
    k = data.draw(st.integers(1, 6))
    coeffs = [[data.draw(st.integers(-2, 2)) for _ in range(dim)] for _ in range(k)]
    t = sp.Symbol("t")
    coeffs[0][0] += t                    # a symbolic coefficient rides along
    xi = GaussianVector("xi", dim, cov)
    space = Space([xi], [t])
    forms = [[space(c) for c in row] for row in coeffs]
    got = wick(forms, sp.ImmutableMatrix(cov), space).as_expr()
    linear = [sum(c * v for c, v in zip(row, xi.coords, strict=True)) for row in coeffs]
    poly = sp.Poly(sp.expand(prod(linear, start=sp.Integer(1))), *xi.coords)
    truth = sum((coef * brute_moment(cov, mon) for mon, coef in
                 poly.as_dict(native=False).items()), sp.Integer(0))
    assert sp.expand(got - truth) == 0


# --- documented behaviour: other symbols are constants ------------------------------------

def test_expectation_treats_other_symbols_as_constants():
    x = GaussianVector("x", 2)
    a, b = sp.symbols("a b", positive=True)
    assert sp.expand(expectation(a * x.coords[0] ** 2 + b * x.coords[1] ** 4, [x]) - a - 3 * b) == 0


def test_expectation_accepts_rational_function_coefficients():
    """BUG (engine.expectation): a coefficient 1/a is a constant too, but the expression is
    converted into a polynomial ring over QQ with a as a generator, so from_expr raises
    ValueError. Expected E[x1^2 / a] = 1/a."""
    x = GaussianVector("x", 1)
    a = sp.Symbol("a", positive=True)
    assert sp.simplify(expectation(x.coords[0] ** 2 / a, [x]) - 1 / a) == 0
