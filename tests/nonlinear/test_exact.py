"""Polynomial responses through the exact Gaussian engine: Theorem 3's GD form when it holds,
the true (general) optimum when it does not. Reference values are hand derivations."""

import pytest
import sympy as sp

from derivations.exact import exact_equal
from derivations.nonlinear import theorem3_optimum
from derivations.nonlinear.exact_optimum import exact_gd_block
from derivations.symbols import n, s2
from derivations.task import Response, Task


@pytest.mark.parametrize("d", [1, 2, 3])
def test_linear_link_reproduces_theorem1(d):
    r = theorem3_optimum(Task(d=d, response=Response("single-index", link="s")))
    assert r.form == "gd" and r.certificate.holds and r.route == "polynomial"
    assert exact_equal(r.eta, n / (n + d + 1 + s2))
    assert exact_equal(r.gamma, n / (n + d + 1 + s2) * sp.eye(d))
    assert exact_equal(r.loss, s2 + d * (d + 1 + s2) / (n + d + 1 + s2))
    assert r.hypotheses.relation == "confirms"          # odd link, rotation invariant


@pytest.mark.parametrize("link, d", [("s^3", 2), ("s + s^3/3", 3)])
def test_odd_polynomial_link_is_gd(link, d):
    task = Task(d=d, response=Response("single-index", link=link))
    r = theorem3_optimum(task)
    block = exact_gd_block(task, odd=False)
    design = n * block.m2 / (block.y2x2 + (n - 1) * block.m2)      # the paper's formula
    assert r.form == "gd" and exact_equal(r.gamma, design * sp.eye(d))


def test_cubic_d1_by_hand():
    # m_f = E_x[x (w x)^3] = 3 w^3, E|m_f|^2 = 9 E[w^6] = 135;
    # E[y^2 x^2] = E[w^6] E[x^8] + s2 = 15 * 105 + s2
    r = theorem3_optimum(Task(d=1, response=Response("single-index", link="s^3")))
    assert exact_equal(r.eta, 135 * n / (1575 + s2 + 135 * (n - 1)))


def test_x1_squared_breaks_rotation_not_odd_block():
    r = theorem3_optimum(Task(d=2, response=Response("expression", expr="s + x1^2")))
    assert r.form == "general" and r.assumptions["rotation"] is False
    assert r.assumptions["reflection"] is True and r.hypotheses.relation == "outside"
    assert r.odd_orthogonal and r.certificate.holds      # the true optimum is derived
    assert exact_equal(r.gamma, sp.diag(n / (n + s2 + 18), n / (n + s2 + 6)))
    assert "normal equation violated" in r.reason


def test_x1_cubed_breaks_reflection_and_odd_features_correlate():
    r = theorem3_optimum(Task(d=2, response=Response("expression", expr="s + x1^3")))
    assert r.form == "general" and r.assumptions["reflection"] is False
    assert r.odd_orthogonal is False
    assert any(not exact_equal(v, 0) for v in r.odd_residuals.values())


def test_non_isotropic_prior_refuted():
    r = theorem3_optimum(Task(d=2, prior=[[1, 0], [0, 2]]))
    assert r.form == "general" and "not a multiple of I" in r.reason
    assert exact_equal(r.gamma, sp.diag(n / (n + s2 + 4), 2 * n / (2 * n + s2 + 5)))


def test_d1_rotation_alone_is_not_enough():
    """SO(1) is trivial: y = x1^3 is 'rotation invariant' at d = 1, yet the odd feature
    (1/n) sum x_i^2 x_q correlates with y_q: E[F y_q] = E[x_i^2] E[x_q^4] = 3 (by hand)."""
    r = theorem3_optimum(Task(d=1, response=Response("expression", expr="x1^3")))
    h = r.hypotheses
    assert h.holds("rotation") is True and h.holds("reflection") is False and h.holds("sign") is False
    assert h.relation == "outside" and r.odd_orthogonal is False
    targets = [v["target"] for v in r.odd_block.values()]
    assert any(exact_equal(t, 3) for t in targets)


def test_d1_sign_symmetry_alone_suffices():
    """y = w1 x1^2 at d = 1: reflection fails but p(f) = p(-f) (w -> -w); the paper's
    Assumption 1 holds and the odd block is exactly orthogonal (m_f = E[x w x^2] = 0)."""
    r = theorem3_optimum(Task(d=1, response=Response("expression", expr="w1*x1^2")))
    h = r.hypotheses
    assert h.holds("reflection") is False and h.holds("sign") is True
    assert h.relation == "confirms" and r.odd_orthogonal and r.form == "gd"
    assert exact_equal(r.eta, 0)


def test_rotation_alone_at_d2_keeps_odd_block_orthogonal():
    """s + |x|^2 at d = 2: sign symmetry fails (E_w f = |x|^2), rotation holds; the exact odd
    block is orthogonal, as the SO(d) lemma says for d >= 2, and the optimum is GD."""
    r = theorem3_optimum(Task(d=2, response=Response("expression", expr="s + x1**2 + x2**2")))
    assert r.hypotheses.rests_on == "rotation" and r.hypotheses.relation == "extends"
    assert r.odd_orthogonal and r.form == "gd" and r.certificate.holds
    assert r.certificate["lemma-odd-invariants"].proved
