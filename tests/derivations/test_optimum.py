"""global_optimum and check_claim against the published formulas (the README, "The certified global optimum").

The formulas are written here, in the test, as the independent truth; the product derives
Gamma* from the Gram matrix of the lifted features and never sees them.
"""

import pytest
import sympy as sp

from derivations import Task, check_claim, global_optimum
from derivations.exact import exact_equal
from derivations.symbols import n, s2


def thm1_eta(d, n_=n, s2_=s2):
    return n_ / (n_ + d + 1 + s2_)


def thm1_loss(d, n_=n, s2_=s2):
    return s2_ + d * (d + 1 + s2_) / (n_ + d + 1 + s2_)


def general_prior_optimum(sigma, omega, n_=n, s2_=s2):
    """Published: Gamma* = B C^{-1}, C = ((n+1)/n) S O S + ((tr(O S) + s2)/n) S, B = O S."""
    C = (n_ + 1) / n_ * sigma * omega * sigma + (sp.trace(omega * sigma) + s2_) / n_ * sigma
    B = omega * sigma
    gamma = B * C.inv()
    loss = sp.trace(sigma * omega) + s2_ - sp.trace(sigma * B * C.inv() * B.T)
    return gamma, loss


@pytest.mark.parametrize("d", [1, 2, 3])
def test_theorem1_symbolic(d):
    opt = global_optimum(Task(d=d))
    assert opt.form == "gd"
    assert exact_equal(opt.eta, thm1_eta(d))
    assert exact_equal(opt.gamma, thm1_eta(d) * sp.eye(d))
    assert exact_equal(opt.loss, thm1_loss(d))
    assert opt.certificate.holds, str(opt.certificate)


def test_theorem1_fixed_values():
    opt = global_optimum(Task(d=2, n=7, noise="1/3"))
    assert opt.eta == sp.Rational(7, 7 + 3 + sp.Rational(1, 3))
    assert opt.loss == thm1_loss(2, 7, sp.Rational(1, 3))


@pytest.mark.parametrize("sigma", [[[2, 1], [1, 3]], [[1, "1/2"], ["1/2", 2]]])
def test_theorem2_rational(sigma):
    task = Task(d=2, covariance=sigma, prior="inverse-covariance")
    opt = global_optimum(task)
    assert opt.form == "preconditioned-gd"
    assert exact_equal(opt.eta, thm1_eta(2))
    assert exact_equal(opt.gamma, thm1_eta(2) * task.Sigma.inv())
    assert exact_equal(opt.loss, thm1_loss(2))
    assert opt.holds


def test_theorem2_symbolic_diagonal():
    a, b = sp.symbols("a b", positive=True)
    task = Task(d=2, covariance=[[a, 0], [0, b]], prior="inverse-covariance")
    opt = global_optimum(task)
    assert opt.form == "preconditioned-gd"
    assert exact_equal(opt.gamma, thm1_eta(2) * sp.diag(1 / a, 1 / b))
    assert exact_equal(opt.loss, thm1_loss(2))
    assert opt.holds


@pytest.mark.slow
def test_theorem2_symbolic_diagonal_d3():
    a, b, c = sp.symbols("a b c", positive=True)
    opt = global_optimum(Task(d=3, covariance=sp.diag(a, b, c), prior="inverse-covariance"))
    assert opt.form == "preconditioned-gd" and opt.holds
    assert exact_equal(opt.gamma, thm1_eta(3) * sp.diag(1 / a, 1 / b, 1 / c))


def test_theorem2_rational_d3():
    sigma = sp.Matrix([[2, 1, 0], [1, 2, 1], [0, 1, 2]])
    opt = global_optimum(Task(d=3, n=4, noise="1/2", covariance=sigma, prior="inverse-covariance"))
    assert opt.form == "preconditioned-gd"
    assert exact_equal(opt.gamma, thm1_eta(3, 4, sp.Rational(1, 2)) * sigma.inv())


def test_omega_identity_ahn_wu_formula():
    sigma = sp.Matrix([[2, 1], [1, 3]])
    opt = global_optimum(Task(d=2, covariance=sigma))
    expected = ((n + 1) / n * sigma + (sp.trace(sigma) + s2) / n * sp.eye(2)).inv()
    assert opt.form == "general" and opt.eta is None
    assert exact_equal(opt.gamma, expected)
    _, loss = general_prior_optimum(sigma, sp.eye(2))
    assert exact_equal(opt.loss, loss)
    assert opt.holds


def test_general_prior_non_commuting():
    sigma, omega = sp.Matrix([[2, 1], [1, 3]]), sp.Matrix([[1, 0], [0, 2]])
    assert sigma * omega != omega * sigma
    opt = global_optimum(Task(d=2, covariance=sigma, prior=omega))
    gamma, loss = general_prior_optimum(sigma, omega)
    assert exact_equal(opt.gamma, gamma)
    # Gamma* = Omega Sigma C^{-1} = (((n+1)/n) Sigma + ((tr(Omega Sigma) + s2)/n) Omega^{-1})^{-1}:
    # symmetric even when Sigma and Omega do not commute (so the x_q^T Gamma g versus
    # g^T Gamma x_q conventions agree at every optimum)
    alt = ((n + 1) / n * sigma + (sp.trace(omega * sigma) + s2) / n * omega.inv()).inv()
    assert exact_equal(opt.gamma, alt) and exact_equal(opt.gamma, opt.gamma.T)
    assert exact_equal(opt.loss, loss)
    assert opt.holds


@pytest.mark.parametrize("qik,res", [(True, False), (False, True), (True, True)])
def test_variants_share_the_optimum(qik, res):
    opt = global_optimum(Task(d=2, n=6, noise="1/2", query_in_keys=qik, residual=res))
    assert exact_equal(opt.eta, thm1_eta(2, 6, sp.Rational(1, 2)))
    assert opt.holds, str(opt.certificate)


# --- claims ---------------------------------------------------------------------------

def test_claim_true_holds():
    assert check_claim(Task(d=2), eta=thm1_eta(2)).holds


def test_claim_off_by_one_refuted():
    verdict = check_claim(Task(d=2), eta=n / (n + 2 + s2))
    assert not verdict.holds
    assert "violated normal equation" in verdict.reason
    # the residual is Gamma C - B with C = ((n + 3 + s2)/n) I, B = I: (n/(n+2+s2))(n+3+s2)/n - 1
    expected = 1 / (n + 2 + s2)
    assert exact_equal(verdict.residual[0, 0], expected)
    assert exact_equal(verdict.residual[0, 1], 0)


def test_claim_preconditioner_when_omega_is_identity_refuted():
    task = Task(d=2, covariance=[[2, 1], [1, 3]])
    verdict = check_claim(task, gamma=thm1_eta(2) * task.Sigma.inv())
    assert not verdict.holds and "violated normal equation" in verdict.reason


def test_claim_perturbed_gamma_refuted():
    task = Task(d=2, covariance=[[2, 1], [1, 3]], prior="inverse-covariance")
    gamma = thm1_eta(2) * task.Sigma.inv()
    assert check_claim(task, gamma=gamma).holds
    bumped = gamma + sp.Matrix([[0, sp.Rational(1, 10**6)], [0, 0]])
    verdict = check_claim(task, gamma=bumped)
    assert not verdict.holds


def test_claim_requires_exactly_one_input():
    with pytest.raises(ValueError):
        check_claim(Task(d=1))
