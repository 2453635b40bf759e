"""Theorem 3 at symbolic d for single-index links (published facts as references)."""

import pytest
import sympy as sp

from derivations.alld import d as D
from derivations.exact import exact_equal
from derivations.nonlinear.alld_single_index import (
    equal_d,
    prove_single_index,
    step_values,
)
from derivations.symbols import n, s2


def test_relu_every_d_is_the_published_step():
    proof = prove_single_index("relu(s)")
    assert proof.holds and proof.conclusion["strength"] == "symbolic-d"
    assert exact_equal(proof.conclusion["eta"], n / (n + 2 * D + 3 + 4 * s2))
    assert all(v == "every d" for v in proof.conclusion["scope"].values())


def test_sin_every_d_matches_the_hand_moments():
    proof = prove_single_index("sin(s)")
    assert proof.holds and proof.conclusion["strength"] == "symbolic-d"
    m = proof.conclusion["moments"]
    assert equal_d(m["m2"], D * sp.Integer(3) ** (-D / 2 - 1))
    assert equal_d(m["f2x2"], D / 2 * (1 - sp.Integer(5) ** (-D / 2 - 1)))
    assert not equal_d(m["m2"], D * sp.Integer(3) ** (-D / 2))           # near miss


def test_even_link_gives_zero_every_d():
    proof = prove_single_index("cos(s)")
    assert proof.holds and proof.conclusion["eta"] == 0


def test_wrong_step_size_is_refuted():
    m2 = D / 4
    f2x2 = D * (D + 2) / 2
    c = ((n - 1) * m2 + f2x2 + D * s2) / (n * D)
    b = m2 / D
    right = n / (n + 2 * D + 3 + 4 * s2)
    loss = (D / 2 + s2) - right * m2
    assert step_values(right, loss, c, b, D / 2 + s2).proved
    wrong = n / (n + 2 * D + 4 + 4 * s2)                                 # d + 1 -> d + 2 slip
    assert not step_values(wrong, loss, c, b, D / 2 + s2).proved


def test_odd_powers_are_not_claimed_for_every_d():
    """relu(s) + s^2 has a rho^3 term: Gamma((d+3)/2)/Gamma(d/2) is not polynomial in d, so the
    derivation stops (unproved) instead of claiming symbolic-d."""
    proof = prove_single_index("relu(s) + s^2")
    assert not proof.holds and proof.conclusion["strength"] != "symbolic-d"
    assert proof["chi-moments"].status == "unproved"


@pytest.fixture(scope="module")
def leaky():
    return prove_single_index("relu(s) - relu(-s)/2")


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_symbolic_d_leaky_relu_instances(leaky, k):
    eta = leaky.conclusion["eta"].subs(D, k)
    # E|m|^2 = 9k/16, E[f^2|x|^2] = 5k(k+2)/8
    assert exact_equal(eta, n * sp.Rational(9 * k, 16) /
                       (sp.Rational(5 * k * (k + 2), 8) + k * s2 + (n - 1) * sp.Rational(9 * k, 16)))
