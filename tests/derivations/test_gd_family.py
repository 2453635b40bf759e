"""The GD-family restriction of Theorem 1 against the hand formulas (the README, "The certified global optimum")."""

import pytest
import sympy as sp

from derivations import Task
from derivations.exact import exact_equal
from derivations.gd_family import gd_family_optimum
from derivations.symbols import eta, n, s2


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_gd_family_matches_hand_formulas(d):
    r = gd_family_optimum(Task(d=d))
    assert r.derivation.holds
    # hand derivation: L(eta) = d + s2 - 2 eta d + eta^2 d (n + d + 1 + s2)/n
    assert exact_equal(r.loss, d + s2 - 2 * eta * d + eta**2 * d * (n + d + 1 + s2) / n)
    assert exact_equal(r.eta, n / (n + d + 1 + s2))
    assert exact_equal(r.minimum, s2 + d * (d + 1 + s2) / (n + d + 1 + s2))
    assert not exact_equal(r.eta, n / (n + d + s2))      # the off-by-one claim is a different value


def test_gd_family_on_a_non_isotropic_task_is_still_a_quadratic():
    r = gd_family_optimum(Task(d=2, covariance=[[2, 1], [1, 3]], n=5, noise="1/2"))
    assert r.derivation.holds
    assert sp.Poly(r.loss, eta).degree() == 2
