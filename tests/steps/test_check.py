"""Verdicts: identities from the literature proved at symbolic d; near misses refuted with
small counterexamples that are re-computed here independently (coordinates, explicit
matrices, the fixed-d Isserlis engine); the declared kinds matter."""

import pytest
import sympy as sp

from derivations.engine import context_moment, expectation
from derivations.exact import exact_equal
from derivations.moments import GaussianVector
from derivations.notation.check import check_claim
from derivations.notation.parse import parse_claim
from derivations.notation.scope import Scope
from derivations.symbols import n as N
from derivations.symbols import s2 as S2

from .scopes import general_scope

S = general_scope()


def verdict(claim, scope=S):
    return check_claim(parse_claim(claim, scope), scope)


def at(value, cx):
    """A counterexample's symbolic value at its n, s2 (None: not used)."""
    rep = {k: v for k, v in ((N, cx.n), (S2, cx.s2)) if v is not None}
    return sp.Matrix(value).xreplace(rep) if isinstance(value, sp.MatrixBase) else sp.sympify(value).xreplace(rep)


# --- true identities (published moment formulas), proved for every d ----------------------

PROVED = [
    # Gaussian quadratic forms, x ~ N(0, Sigma)
    "E[x^T * A * x] = tr(A * Sigma)",
    "E[x * x^T] = Sigma",
    "E[x^T * inv(Sigma) * x] = d",                                   # chi-square mean
    "E[(x^T * inv(Sigma) * x)^2] = d * (d + 2)",                     # chi-square second moment
    "E[(x^T * A * x) * (x^T * B * x)] = tr(A * Sigma) * tr(B * Sigma) + tr(A * Sigma * B * Sigma) + tr(A^T * Sigma * B * Sigma)",  # noqa: E501
    "E[(x^T * B * x)^2] = tr(B * Sigma)^2 + 2 * tr(B * Sigma * B * Sigma)",
    "E[(u^T * x)^4] = 3 * (u^T * Sigma * u)^2",
    # quartic (Isserlis) and the identity-covariance special case
    "E[x * x^T * A * x * x^T] = Sigma * (A + A^T) * Sigma + tr(A * Sigma) * Sigma",
    "E[w * w^T * w * w^T] = (d + 2) * I",
    "E[(w^T * w)^3] = d * (d + 2) * (d + 4)",
    # Wishart-type moments of context averages
    "E[S] = Sigma",
    "E[S * Omega * S] = ((n + 1) / n) * Sigma * Omega * Sigma + (tr(Omega * Sigma) / n) * Sigma",
    "E[S * A * S] = Sigma * A * Sigma + (Sigma * A^T * Sigma + tr(A * Sigma) * Sigma) / n",
    "E[tr(S)^2] = tr(Sigma)^2 + 2 * tr(Sigma * Sigma) / n",
    "E[g * g^T] = ((n + 1) / n) * Sigma * Sigma + ((tr(Sigma) + s2) / n) * Sigma",
    "E[g * w^T] = Sigma",
    # inverses and traces
    "inv(Sigma * Omega) = inv(Omega) * inv(Sigma)",
    "inv(2 * R * A^T) = inv(A)^T * inv(R) / 2",
    "tr(inv(Sigma) * A * Sigma) = tr(A)",
    "tr(inv(R) * R) = d",
    "inv(C) * C = I",
    # pointwise (every value of the random variables)
    "x^T * A * x = tr(A * x * x^T)",
    "u^T * S * u = avg((u^T * x_i)^2)",
    "avg(x_i) * avg(1) = avg(x_i)",
    "(v - w)^T * (v - w) = v^T * v - 2 * w^T * v + w^T * w",
    # positivity
    "E[g * g^T] succ 0",
    "Sigma * Omega * Sigma succ 0",
    "R * R^T succeq 0",
    "inv(Sigma) + s2 * I succ 0",
    "x * x^T succeq 0",
    "E[(x^T * B * x)^2] succeq 0",
    "E[(x^T * A * x)^2] - tr(A * Sigma)^2 - tr(A * Sigma * A * Sigma) succeq 0",
]


@pytest.mark.parametrize("claim", PROVED)
def test_true_identities_are_proved_for_every_d(claim):
    v = verdict(claim)
    assert v.status == "proved", v.detail
    assert v.strength == "symbolic-d"


# --- near misses: refuted, and the counterexample re-computed independently ---------------

def quartic(Sigma, M):
    """E[x x^T M x x^T] by coordinate-wise Isserlis (the fixed-d engine)."""
    dim = Sigma.rows
    x = GaussianVector("x", dim, Sigma)
    X = sp.Matrix(x.coords)
    q = (X.T * M * X)[0, 0]
    return sp.Matrix(dim, dim, lambda a, b: expectation(X[a] * q * X[b], [x]))


def wishart(Sigma, M):
    """E[S M S] with S = (1/n) sum x_i x_i^T, by coordinates and context moments."""
    dim = Sigma.rows
    x = GaussianVector("x", dim, Sigma)
    X = x.coords
    return sp.Matrix(dim, dim, lambda a, b: sum(
        M[c, e] * context_moment([X[a] * X[c], X[e] * X[b]], [x], n=N)
        for c in range(dim) for e in range(dim)))


def test_quartic_with_a_symmetric_middle_is_refuted_for_a_general_matrix():
    claim = "E[x * x^T * A * x * x^T] = 2 * Sigma * A * Sigma + tr(A * Sigma) * Sigma"
    v = verdict(claim)
    assert v.status == "refuted"
    cx = v.counterexample
    assert cx.d == 2                                      # at d = 1 every matrix is symmetric
    Sig, A = cx.matrices["Sigma"], cx.matrices["A"]
    assert A != A.T and all(x.is_integer for x in A) and all(x.is_integer for x in Sig)
    assert exact_equal(cx.lhs, quartic(Sig, A))           # independent recomputation
    assert exact_equal(cx.rhs, 2 * Sig * A * Sig + (A * Sig).trace() * Sig)
    assert not exact_equal(cx.lhs, cx.rhs)
    # the same claim for a symmetric matrix is true
    assert verdict(claim.replace("A", "B")).status == "proved"


def test_wishart_with_the_symmetric_coefficient_is_refuted_for_a_general_matrix():
    claim = "E[S * A * S] = ((n + 1) / n) * Sigma * A * Sigma + (tr(A * Sigma) / n) * Sigma"
    v = verdict(claim)
    assert v.status == "refuted"
    cx = v.counterexample
    assert cx.d == 2 and cx.n is not None
    Sig, A = cx.matrices["Sigma"], cx.matrices["A"]
    lhs = wishart(Sig, A).xreplace({N: cx.n})
    rhs = (sp.Rational(cx.n + 1, cx.n) * Sig * A * Sig + (A * Sig).trace() / cx.n * Sig)
    assert exact_equal(cx.lhs, lhs) and exact_equal(cx.rhs, rhs)
    assert not exact_equal(lhs, rhs)
    # as functions of n too
    assert exact_equal(cx.lhs_general, wishart(Sig, A))
    assert verdict(claim.replace("A", "Omega")).status == "proved"


@pytest.mark.parametrize("claim, d", [
    ("E[x^T * A * x] = tr(A)", 1),
    ("E[(x^T * inv(Sigma) * x)^2] = d * (d + 1)", 1),
    ("E[(x^T * B * x)^2] = tr(B * Sigma)^2 + tr(B * Sigma * B * Sigma)", 1),
    ("E[w * w^T * w * w^T] = (d + 1) * I", 1),
    ("E[tr(S)^2] = tr(Sigma)^2 + tr(Sigma * Sigma) / n", 1),
    ("inv(Sigma * Omega) = inv(Sigma) * inv(Omega)", 2),
    ("tr(A) * A = A^2", 2),
])
def test_near_misses_are_refuted_at_the_smallest_d(claim, d):
    v = verdict(claim)
    assert v.status == "refuted", v.detail
    assert v.counterexample.d == d
    for m in v.counterexample.matrices.values():
        assert all(abs(x) <= 4 and x.is_integer for x in m)


def test_scalar_quadratic_form_counterexample_recomputed_by_coordinates():
    v = verdict("E[x^T * A * x] = tr(A)")
    cx = v.counterexample
    Sig, A = cx.matrices["Sigma"], cx.matrices["A"]
    x = GaussianVector("x", 1, Sig)
    X = sp.Matrix(x.coords)
    assert cx.lhs == expectation((X.T * A * X)[0, 0], [x]) == (A * Sig).trace()
    assert cx.rhs == A.trace() and cx.lhs != cx.rhs


def test_pointwise_near_miss_is_refuted_with_explicit_data():
    v = verdict("avg(x_i)^T * avg(x_i) = avg(x_i^T * x_i)")
    assert v.status == "refuted"
    cx = v.counterexample
    xs = cx.data["x_i"]
    mean = sum(xs, sp.zeros(cx.d, 1)) / cx.n
    assert cx.lhs == (mean.T * mean)[0, 0]
    assert cx.rhs == sum((xi.T * xi)[0, 0] for xi in xs) / cx.n
    assert cx.lhs != cx.rhs and cx.n >= 2


@pytest.mark.parametrize("claim, why", [
    ("Sigma - I succeq 0", "not positive semidefinite"),
    ("B succ 0", "not positive definite"),
    ("s2 / n * Sigma succ 0", "not positive definite"),
    ("A * A succeq 0", "not positive semidefinite"),
])
def test_false_positivity_is_refuted(claim, why):
    v = verdict(claim)
    assert v.status == "refuted" and why in v.detail
    cx = v.counterexample
    diff = sp.Matrix(cx.lhs) - sp.Matrix(cx.rhs) if isinstance(cx.lhs, sp.MatrixBase) else cx.lhs - cx.rhs
    if isinstance(diff, sp.MatrixBase):
        symmetric = diff == diff.T
        assert not symmetric or min(diff.eigenvals()) <= 0
    else:
        assert diff <= 0


def test_kinds_matter_for_positivity_and_symmetry():
    assert verdict("B * B^T = B^2").status == "proved"
    assert verdict("A * A^T = A^2").status == "refuted"
    assert verdict("Sigma succ 0").status == "proved"
    assert verdict("inv(Sigma) succ 0").status == "proved"
    assert verdict("B succeq 0").status == "refuted"


# --- undecidable claims are never reported proved -----------------------------------------

@pytest.mark.parametrize("claim", [
    "E[v] = 0",                         # opaque: its law is unknown (an odd moment is NOT 0)
    "E[e] = 0",
    "E[v * v^T] succeq 0",
    "inv(S) = inv(Sigma)",              # the inverse of a random matrix
    "inv(Sigma + Omega) = inv(Omega + Sigma)",
    "E[(x^T * A * x)^2] succeq 0",      # true, but tr(A Sigma A Sigma) has no sign termwise
])
def test_claims_outside_the_engine_are_unproved(claim):
    v = verdict(claim)
    assert v.status == "unproved" and v.detail


def test_a_defined_matrix_is_inverted_as_one_atom_and_evaluated_consistently():
    v = verdict("inv(C) * Sigma = inv(Sigma)")
    assert v.status == "refuted"
    cx = v.counterexample
    Sig, Om = cx.matrices["Sigma"], cx.matrices["Omega"]
    C = Sig * Om * Sig + ((Om * Sig).trace() + (cx.s2 or 0)) / (cx.n or N) * Sig
    assert exact_equal(cx.defined["C"], C.xreplace({N: cx.n} if cx.n else {}))
    assert exact_equal(cx.lhs, at(C.inv() * Sig, cx))


# --- a fixed d decides at that d only ---------------------------------------------------------

CAYLEY_HAMILTON_2 = "A^2 - tr(A) * A + ((tr(A)^2 - tr(A^2)) / 2) * I = 0"


def test_fixed_d_proves_an_identity_true_only_in_small_dimension():
    v2 = verdict(CAYLEY_HAMILTON_2, general_scope(d=2))
    assert v2.status == "proved" and "d = 2" in v2.method and v2.strength == "instance"
    v = verdict(CAYLEY_HAMILTON_2)                    # false for d = 3
    assert v.status == "refuted" and v.counterexample.d == 3
    A = v.counterexample.matrices["A"]
    lhs = A**2 - A.trace() * A + (A.trace()**2 - (A**2).trace()) / 2 * sp.eye(3)
    assert lhs != sp.zeros(3, 3)


def test_fixed_d_refutes_at_that_d():
    v = verdict("tr(A) * A = A^2", general_scope(d=1))
    assert v.status == "proved"
    v = verdict("tr(A) * A = A^2", general_scope(d=3))
    assert v.status == "refuted" and v.counterexample.d == 3


def test_fixed_n_and_s2_are_substituted():
    s = Scope.build(n=3, s2="1/4", matrices={"Sigma": "spd"}, context={"x_i": "N(0, Sigma)"},
                    definitions={"S": "avg(x_i * x_i^T)"})
    assert verdict("E[tr(S)^2] = tr(Sigma)^2 + 2 * tr(Sigma * Sigma) / 3", s).status == "proved"
    assert verdict("s2 = 1/4", s).status == "proved"
    assert verdict("n = 4", s).status == "refuted"
