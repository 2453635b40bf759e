"""The minimiser recovers Theorem 1 within its stated error; determinism; variants;
negative control; calibration (slow)."""

import numpy as np
import pytest

from numerics import NumericTask, Response, minimise

Z_MAX = 4.0


def eta_star(d, n, s2):
    return n / (n + d + 1 + s2)


def loss_star(d, n, s2):
    return s2 + d * (d + 1 + s2) / (n + d + 1 + s2)


@pytest.fixture(scope="module")
def theorem1():
    d, n, s2 = 2, 6, 0.25
    res = minimise(NumericTask(d=d, n=n, noise=s2), samples=30_000, seed=1, groups=20)
    return d, n, s2, res


def test_recovers_eta(theorem1):
    d, n, s2, res = theorem1
    assert res.restarts_at_best >= 2
    assert abs(res.eta - eta_star(d, n, s2)) < Z_MAX * res.eta_se
    diag = np.diag(res.gamma)
    assert np.all(np.abs(diag - eta_star(d, n, s2)) < Z_MAX * np.diag(res.gamma_se))


def test_off_diagonal_and_odd_block_vanish(theorem1):
    d, _, _, res = theorem1
    off = ~np.eye(d, dtype=bool)
    assert np.all(np.abs(res.gamma[off]) < Z_MAX * res.gamma_se[off])
    assert len(res.odd) == len(res.odd_names) == len(res.odd_se)
    assert np.all(np.abs(res.odd) < Z_MAX * res.odd_se)
    assert np.all(np.abs(res.lifted_odd) < Z_MAX * res.lifted_odd_se)


def test_loss_and_lift(theorem1):
    d, n, s2, res = theorem1
    assert abs(res.loss_debiased - loss_star(d, n, s2)) < Z_MAX * res.loss_se
    assert abs(res.fresh_loss - loss_star(d, n, s2)) < Z_MAX * res.fresh_loss_se
    assert res.lifted_loss <= res.loss + 1e-12  # the lift is a relaxation
    assert np.all(
        np.abs(res.lifted_gamma - eta_star(d, n, s2) * np.eye(d)) < Z_MAX * res.lifted_gamma_se
    )
    assert res.history and res.history[-1]["samples"] == res.samples


def test_negative_control_wrong_step_size_rejected(theorem1):
    d, n, s2, res = theorem1
    assert abs(res.eta - n / (n + d + s2)) > Z_MAX * res.eta_se


def test_same_seed_same_output():
    task = NumericTask(d=2, n=5, noise=0.5)
    a = minimise(task, samples=4_000, seed=7, groups=20, restarts=2)
    b = minimise(task, samples=4_000, seed=7, groups=20, restarts=2)
    assert np.array_equal(a.gamma, b.gamma) and np.array_equal(a.gamma_se, b.gamma_se)
    assert np.array_equal(a.odd, b.odd) and a.loss == b.loss and a.fresh_loss == b.fresh_loss
    c = minimise(task, samples=4_000, seed=8, groups=20, restarts=2)
    assert not np.array_equal(a.gamma, c.gamma)


@pytest.mark.parametrize("parameterisation", ["paper", "merged"])
def test_parameterisations_agree_with_effective(parameterisation):
    task = NumericTask(d=2, n=5, noise=0.25)
    ref = minimise(
        task, samples=6_000, seed=2, groups=20, restarts=8, history=False, fresh_samples=0
    )
    res = minimise(
        task,
        samples=6_000,
        seed=2,
        groups=20,
        restarts=8,
        history=False,
        fresh_samples=0,
        parameterisation=parameterisation,
    )
    assert res.restarts_at_best >= 2
    assert np.allclose(res.gamma, ref.gamma, atol=1e-6) and np.isclose(
        res.loss, ref.loss, rtol=1e-9
    )


def test_variants_residual_and_query_in_keys():
    d, n, s2 = 2, 5, 0.25
    res = minimise(
        NumericTask(d=d, n=n, noise=s2, residual=True), samples=20_000, seed=4, groups=20
    )
    assert res.odd_names[-d:] == ["r[1]", "r[2]"]
    assert np.all(np.abs(res.odd) < Z_MAX * res.odd_se)  # includes r = 0
    assert abs(res.eta - eta_star(d, n, s2)) < Z_MAX * res.eta_se
    qik = minimise(
        NumericTask(d=d, n=n, noise=s2, query_in_keys=True), samples=20_000, seed=4, groups=20
    )
    assert qik.restarts_at_best >= 2 and np.isfinite(qik.eta_se)


def test_nonlinear_single_index_is_gd_like():
    """Theorem 3 shape check: tanh link, Sigma = I: Gamma is a multiple of I, odd block 0."""
    d = 2
    res = minimise(
        NumericTask(d=d, n=5, noise=0.1, response=Response.single_index("tanh")),
        samples=20_000,
        seed=5,
        groups=20,
        restarts=8,
    )
    off = ~np.eye(d, dtype=bool)
    assert np.all(np.abs(res.gamma[off]) < Z_MAX * res.gamma_se[off])
    assert abs(res.gamma[0, 0] - res.gamma[1, 1]) < Z_MAX * np.hypot(
        res.gamma_se[0, 0], res.gamma_se[1, 1]
    )
    assert np.all(np.abs(res.odd) < Z_MAX * res.odd_se)


@pytest.mark.slow
def test_eta_calibration_over_seeds():
    """Nominal 95% intervals for eta cover n/(n+d+1+s2) in 90%..99% of 100 seeds.

    Measured: at 12,000 prompts coverage 0.92 (z mean 0.30, sd 1.08); at 3,000 prompts only
    0.86 (z mean 0.39, sd 1.24): with 150 prompts per jackknife group the fitted optimum has a
    small-sample bias and the SE is about 24% too small (the jackknife bias correction does not
    remove it). The verifier uses 40,000 prompts and t thresholds at alpha = 1e-4.
    """
    d, n, s2 = 2, 5, 0.25
    task = NumericTask(d=d, n=n, noise=s2)
    hits = []
    for seed in range(100):
        # 8 restarts: at d = 2 a single random start ends in a spurious local minimum ~1/3 of
        # the time, which would make the coverage meaningless
        res = minimise(
            task, samples=12_000, seed=seed, groups=20, restarts=8, history=False, fresh_samples=0
        )
        hits.append(abs(res.eta - eta_star(d, n, s2)) <= 1.96 * res.eta_se)
    cov = float(np.mean(hits))
    assert 0.90 <= cov <= 0.99, cov
