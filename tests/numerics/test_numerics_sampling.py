"""Samplers: first and second moments against Sigma, Omega, s2 (|z| < 4 per entry)."""

import numpy as np
import pytest
import torch

from numerics import NumericTask, NumericTaskError, Response, make_generator, sample_prompts

Z_MAX = 4.0
SIGMA = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
OMEGA = np.array([[1.0, -0.4, 0.2], [-0.4, 0.8, 0.0], [0.2, 0.0, 1.5]])


def _z_mean(samples: np.ndarray, target) -> np.ndarray:
    """z-scores of sample means (rows = observations) against ``target``."""
    se = samples.std(0, ddof=1) / np.sqrt(samples.shape[0])
    return (samples.mean(0) - target) / se


def _z_second_moment(v: np.ndarray, target: np.ndarray) -> np.ndarray:
    prods = (v[:, :, None] * v[:, None, :]).reshape(v.shape[0], -1)
    return _z_mean(prods, target.ravel())


@pytest.fixture(scope="module")
def prompts():
    task = NumericTask(d=3, n=4, noise=0.3, Sigma=SIGMA, Omega=OMEGA)
    return task, sample_prompts(task, 40_000, make_generator(11))


def test_covariates_mean_and_covariance(prompts):
    _, p = prompts
    x = torch.cat([p.x.reshape(-1, 3), p.xq]).numpy()
    assert np.abs(_z_mean(x, 0.0)).max() < Z_MAX
    assert np.abs(_z_second_moment(x, SIGMA)).max() < Z_MAX


def test_task_vector_and_noise(prompts):
    task, p = prompts
    w = p.w.numpy()
    assert np.abs(_z_mean(w, 0.0)).max() < Z_MAX
    assert np.abs(_z_second_moment(w, OMEGA)).max() < Z_MAX
    eps = (p.y - torch.einsum("bnd,bd->bn", p.x, p.w)).reshape(-1).numpy()
    eps_q = (p.yq - (p.xq * p.w).sum(1)).numpy()
    eps = np.concatenate([eps, eps_q])
    assert abs(_z_mean(eps[:, None], 0.0)[0]) < Z_MAX
    assert abs(_z_mean(eps[:, None] ** 2, task.noise)[0]) < Z_MAX
    # noise independent of x: E[eps x] = 0
    x = torch.cat([p.x.reshape(-1, 3), p.xq]).numpy()
    assert np.abs(_z_mean(eps[:, None] * x, 0.0)).max() < Z_MAX


def test_negative_control_wrong_covariance_is_rejected(prompts):
    _, p = prompts
    x = p.xq.numpy()
    assert np.abs(_z_second_moment(x, SIGMA * 1.05)).max() > Z_MAX


def test_single_index_and_callable_responses():
    task = NumericTask(d=2, n=3, noise=0.0, response=Response.single_index("tanh"))
    p = sample_prompts(task, 100, make_generator(0))
    assert torch.allclose(p.y, torch.tanh(torch.einsum("bnd,bd->bn", p.x, p.w)), atol=1e-15)
    task = NumericTask(
        d=2,
        n=3,
        noise=0.0,
        response=Response.from_callable(lambda x, w: (x * w[:, None]).sum(-1) + x[..., 0] ** 2),
    )
    p = sample_prompts(task, 100, make_generator(0))
    assert torch.allclose(p.yq, (p.xq * p.w).sum(1) + p.xq[:, 0] ** 2, atol=1e-14)


def test_two_layer_relu_network_is_shared_within_a_prompt():
    # width 1, no noise: y = a relu(v^T x), so every nonzero response of a prompt has the sign of a
    task = NumericTask(d=3, n=30, noise=0.0, response=Response.two_layer_relu(1))
    p = sample_prompts(task, 200, make_generator(1))
    y = torch.cat([p.y, p.yq[:, None]], dim=1)
    signs = torch.sign(y)
    for row in signs:
        nz = row[row != 0]
        assert len(nz) > 0 and (nz == nz[0]).all()
    # and E[f(x)^2] = E[a^2] E[relu(v^T x)^2] = 1 * E|v|^2 / 2 = d / 2 (Sigma = I)
    big = sample_prompts(
        NumericTask(d=3, n=1, noise=0.0, response=Response.two_layer_relu(2)),
        40_000,
        make_generator(2),
    )
    assert abs(_z_mean(big.yq.numpy()[:, None] ** 2, 2 * 3 / 2)[0]) < Z_MAX


def test_same_seed_same_prompts_and_no_global_rng():
    task = NumericTask(d=2, n=5, noise=0.1)
    torch.manual_seed(0)
    a = sample_prompts(task, 10, make_generator(3))
    torch.manual_seed(1)
    b = sample_prompts(task, 10, make_generator(3))
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y) and torch.equal(a.yq, b.yq)
    c = sample_prompts(task, 10, make_generator(4))
    assert not torch.equal(a.x, c.x)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"d": 0, "n": 3}, "d"),
        ({"d": 2, "n": 0}, "n"),
        ({"d": 2, "n": 3, "noise": -1}, "noise"),
        ({"d": 2, "n": 3, "Sigma": [[1, 2], [2, 1]]}, "Sigma"),
        ({"d": 2, "n": 3, "Omega": [[1, 0]]}, "Omega"),
    ],
)
def test_bad_tasks_name_the_field(kwargs, field):
    with pytest.raises(NumericTaskError, match=f"^{field}:"):
        NumericTask(**kwargs)
