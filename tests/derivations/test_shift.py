"""Test-time shift: the exact risk of the trained optimum under another distribution.

Independent truths: (1) at the training distribution the risk is L*; (2) the closed form, for
Gaussian x and the GD predictor x_q^T Gamma g evaluated with m examples,
L = tr(Gamma C_m Gamma^T Sigma') - 2 tr(Gamma^T Sigma' B') + tr(Sigma' Omega') + s2',
C_m = ((m+1)/m) Sigma' Omega' Sigma' + ((tr(Omega' Sigma') + s2')/m) Sigma', B' = Omega' Sigma'
(Wishart moments; written here, never in the product); (3) Zhang-Frei-Bartlett's setting
(Omega = I, noiseless, Gamma = ((1 + 1/N) Lambda + tr(Lambda)/N I)^{-1}) in the eigenbasis.
"""

import pytest
import sympy as sp

from derivations import Task, global_optimum
from derivations.errors import TaskError
from derivations.shift import m, risk_curve, test_risk
from derivations.symbols import n

SIGMA = [[2, 1], [1, 3]]


def closed_form(gamma, sigma, omega, noise, length):
    length, noise = sp.sympify(length), sp.sympify(noise)
    C = (length + 1) / length * sigma * omega * sigma + (sp.trace(omega * sigma) + noise) / length * sigma
    B = omega * sigma
    return (sp.trace(gamma * C * gamma.T * sigma) - 2 * sp.trace(gamma.T * sigma * B)
            + sp.trace(sigma * omega) + noise)


def test_test_loss_at_the_training_distribution_is_L_star():
    task = Task(d=2, covariance=SIGMA, test={"n": None})         # n, s2 symbolic, test = train
    assert sp.cancel(test_risk(task) - global_optimum(task).loss) == 0
    task = Task(d=2, n=10, noise="1/4", test={"n": 10})
    assert test_risk(task) == global_optimum(task).loss


def test_test_loss_equals_the_closed_form_under_every_shift():
    train = Task(d=2, n=6, noise="1/4", covariance=SIGMA, prior=[[1, 0], [0, 2]])
    test_sigma, test_omega = sp.Matrix([[1, 0], [0, 2]]), sp.Matrix([[3, 1], [1, 1]])
    shifted = Task(d=2, n=6, noise="1/4", covariance=SIGMA, prior=[[1, 0], [0, 2]],
                   test={"n": 15, "covariance": test_sigma.tolist(), "prior": test_omega.tolist(), "noise": 1})
    gamma = global_optimum(train).gamma
    assert test_risk(shifted) == closed_form(gamma, test_sigma, test_omega, 1, 15)
    # a near miss: the same closed form with the TRAINING covariance differs
    assert test_risk(shifted) != closed_form(gamma, sp.Matrix(SIGMA), test_omega, 1, 15)


def test_risk_curve_is_a_rational_function_of_the_test_length():
    train = Task(d=2, n=10, noise=0, covariance=SIGMA)
    gamma = global_optimum(train).gamma
    curve = risk_curve(train)
    assert sp.cancel(curve - closed_form(gamma, sp.Matrix(SIGMA), sp.eye(2), 0, m)) == 0
    assert sp.cancel(curve.subs(m, 10) - global_optimum(train).loss) == 0


def test_symbolic_training_length_and_test_length_stay_apart():
    train = Task(d=1, noise=0)                   # n symbolic
    curve = risk_curve(train)
    eta = n / (n + 2)
    assert sp.cancel(curve - (eta**2 * (m + 2) / m - 2 * eta + 1)) == 0
    assert curve.has(m) and curve.has(n)


def test_zhang_frei_bartlett_length_mismatch():
    """Omega = I, s2 = 0, Lambda = diag(1, 3): risk at test length M of the model trained at N, in the
    eigenbasis: sum_i (M+1)/M l_i^3 g_i^2 - 2 l_i^2 g_i + l_i + tr(Lambda)/M sum_i l_i^2 g_i^2,
    g_i = 1/((1 + 1/N) l_i + tr(Lambda)/N)."""
    lam, N = [1, 3], 8
    train = Task(d=2, n=N, noise=0, covariance=[[1, 0], [0, 3]])
    g = [1 / ((1 + sp.Rational(1, N)) * li + sp.Integer(sum(lam)) / N) for li in lam]
    M = m
    zfb = sum((M + 1) / M * li**3 * gi**2 - 2 * li**2 * gi + li for li, gi in zip(lam, g, strict=True)) \
        + sp.Integer(sum(lam)) / M * sum(li**2 * gi**2 for li, gi in zip(lam, g, strict=True))
    assert sp.cancel(risk_curve(train) - zfb) == 0
    assert sp.diag(*g) == global_optimum(train).gamma


def test_non_gaussian_test_shift_uses_the_law():
    train = Task(d=1, n=4, noise=0, covariates={"law": "rademacher"}, test={"n": 9})
    # Rademacher d = 1: x^2 = 1, so g = w exactly and eta* = 1: the risk is 0 at every length
    assert test_risk(train) == 0


@pytest.mark.parametrize("test,fragment", [
    ({"n": 0}, "test.n: must be an integer"),
    ({"noise": -1}, "test.noise: the variance must be >= 0"),
    ({"noise": 0.5}, "test.noise"),
    ({"covariance": [[1, 2], [2, 1]]}, "test.covariance: not positive definite"),
    ({"prior": "uniform"}, "test.prior"),
    ({"length": 3}, "test: unknown key 'length'"),
    ([1, 2], "test: must be a table"),
])
def test_bad_test_keys_are_refused(test, fragment):
    with pytest.raises(TaskError) as err:
        Task(d=2, n=4, noise=0, test=test)
    assert fragment in str(err.value)


def test_covariance_shift_is_refused_for_iid_laws():
    with pytest.raises(TaskError, match="test.covariance: not allowed"):
        Task(d=2, n=4, noise=0, covariates={"law": "rademacher"}, test={"covariance": [[2, 0], [0, 2]]})
