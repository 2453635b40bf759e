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
    assert r.form == "gd" and r.certificate.holds
    assert exact_equal(r.eta, n / (n + d + 1 + s2))
    assert exact_equal(r.gamma, n / (n + d + 1 + s2) * sp.eye(d))
    assert exact_equal(r.loss, s2 + d * (d + 1 + s2) / (n + d + 1 + s2))


@pytest.mark.parametrize("link, d", [("s^3", 2), ("s + s^3/3", 3)])
def test_odd_polynomial_link_is_gd(link, d):
    task = Task(d=d, response=Response("single-index", link=link))
    r = theorem3_optimum(task)
    block = exact_gd_block(task, odd=False)
    # DESIGN.md formula from the separately computed moments
    design = n * block.m2 / (block.y2x2 + (n - 1) * block.m2)
    assert r.form == "gd" and exact_equal(r.gamma, design * sp.eye(d))


def test_x1_squared_breaks_rotation_not_odd_block():
    r = theorem3_optimum(Task(d=2, response=Response("expression", expr="s + x1^2")))
    assert r.form == "general" and r.assumptions["rotation"]["holds"] is False
    assert r.assumptions["reflection"]["holds"] is True
    assert r.certificate["odd-block-orthogonal"].proved      # odd block still orthogonal
    assert not r.certificate["normal-equations-at-gd"].proved
    assert exact_equal(r.gamma, sp.diag(n / (n + s2 + 18), n / (n + s2 + 6)))
    assert "normal equation violated" in r.reason


def test_x1_cubed_breaks_reflection_and_odd_features_correlate():
    r = theorem3_optimum(Task(d=2, response=Response("expression", expr="s + x1^3")))
    assert r.form == "general" and r.assumptions["reflection"]["holds"] is False
    assert not r.certificate["odd-block-orthogonal"].proved
    assert any(not exact_equal(v, 0) for v in r.odd_residuals.values())


def test_non_isotropic_prior_refuted():
    r = theorem3_optimum(Task(d=2, prior=[[1, 0], [0, 2]]))
    assert r.form == "general" and "prior is not rotation invariant" in r.reason
    assert exact_equal(r.gamma, sp.diag(n / (n + s2 + 4), 2 * n / (2 * n + s2 + 5)))
