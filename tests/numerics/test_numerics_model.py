"""The LSA module against a direct numpy evaluation of the effective formula (to 1e-12),
the lifted features, the Gamma convention and the fitting gradients."""

import numpy as np
import pytest
import torch

from numerics import (
    LSA,
    NumericTask,
    effective_parameters,
    feature_matrix,
    gamma_from_effective,
    make_generator,
    sample_prompts,
    theta_numpy,
)
from numerics.features import dimension, names, odd_names
from numerics.fit import Objective

VARIANTS = [(qik, res) for qik in (False, True) for res in (False, True)]


def numpy_effective_prediction(x, y, xq, u, M, r, qik):
    """yhat = (1/n) sum_i (u_x.x_i + u_y y_i)(x_i^T A x_q + y_i b^T x_q)
    + [qik] (1/n)(u_x.x_q)(x_q^T A x_q) + r.x_q, written as plain loops."""
    B, n, d = x.shape
    A, b, ux, uy = M[:d], M[d], u[:d], u[d]
    out = np.zeros(B)
    for k in range(B):
        total = 0.0
        for i in range(n):
            total += (ux @ x[k, i] + uy * y[k, i]) * (x[k, i] @ A @ xq[k] + y[k, i] * (b @ xq[k]))
        if qik:
            total += (ux @ xq[k]) * (xq[k] @ A @ xq[k])
        out[k] = total / n + (0.0 if r is None else r @ xq[k])
    return out


@pytest.mark.parametrize("parameterisation", ["paper", "merged", "effective"])
@pytest.mark.parametrize("qik, residual", VARIANTS)
def test_module_matches_numpy_effective_formula(parameterisation, qik, residual):
    d, n = 3, 4
    task = NumericTask(
        d=d, n=n, noise=0.2, Sigma=np.diag([1.0, 2.0, 0.5]), query_in_keys=qik, residual=residual
    )
    model = LSA(d, n, parameterisation, qik, residual, generator=make_generator(5))
    p = sample_prompts(task, 16, make_generator(6))
    with torch.no_grad():
        yhat = model(p).numpy()
    u, M, r = effective_parameters(model)
    if parameterisation == "merged":
        assert np.all(r == 0)  # the query's label slot is 0
    ref = numpy_effective_prediction(p.x.numpy(), p.y.numpy(), p.xq.numpy(), u, M, r, qik)
    assert np.abs(yhat - ref).max() < 1e-12 * max(1.0, np.abs(ref).max())
    # the convex lift reproduces the prediction: yhat = F theta
    F = feature_matrix(p, qik, residual).numpy()
    th = theta_numpy(u, M, r if residual else None, residual)
    assert F.shape[1] == dimension(d, residual) == len(names(d, residual))
    assert np.abs(F @ th - ref).max() < 1e-12 * max(1.0, np.abs(ref).max())


def test_paper_effective_parameters_by_hand():
    model = LSA(2, 3, "paper", residual=True, generator=make_generator(0))
    u, M, r = effective_parameters(model)
    with torch.no_grad():
        WK, WQ, WV, h = (t.numpy() for t in (model.W_K, model.W_Q, model.W_V, model.h))
    assert np.allclose(u, WV.T @ h, rtol=0, atol=1e-15)
    assert np.allclose(M, (WK.T @ WQ)[:, :2], rtol=0, atol=1e-15)
    assert np.array_equal(r, h[:2])


def test_gamma_convention_is_the_gd_block():
    """yhat's GD part is x_q^T Gamma g with Gamma = u_y A^T + b u_x^T (non-symmetric case)."""
    rng = np.random.default_rng(0)
    d = 3
    u, M = rng.normal(size=d + 1), rng.normal(size=(d + 1, d))
    gamma = gamma_from_effective(u, M)
    assert np.allclose(gamma, u[-1] * M[:d].T + np.outer(M[d], u[:d]))
    # GD block of theta, entry (b, c) = Gamma[c, b]
    th = theta_numpy(u, M)
    assert np.allclose(th[: d * d].reshape(d, d), gamma.T)
    # direct check on prompts: only the GD features on
    x, y, xq = rng.normal(size=(1, 5, d)), rng.normal(size=(1, 5)), rng.normal(size=(1, d))
    g = (y[0][:, None] * x[0]).mean(0)
    yhat_gd = xq[0] @ gamma @ g
    F = np.concatenate([np.outer(g, xq[0]).ravel(), np.zeros(len(th) - d * d)])
    assert np.isclose(F @ th, yhat_gd)


def test_odd_names_order():
    assert odd_names(2, residual=True) == [
        "xx[1,1;1]",
        "xx[1,1;2]",
        "xx[1,2;1]",
        "xx[1,2;2]",
        "xx[2,2;1]",
        "xx[2,2;2]",
        "yy[;1]",
        "yy[;2]",
        "r[1]",
        "r[2]",
    ]


@pytest.mark.parametrize("parameterisation", ["paper", "merged", "effective"])
@pytest.mark.parametrize("residual", [False, True])
def test_fit_objective_matches_torch_autograd(parameterisation, residual):
    """The hand-written value/gradient of the fit equals autograd through the LSA module."""
    d = 2
    p = dimension(d, residual)
    rng = np.random.default_rng(1)
    A = rng.normal(size=(p, p))
    H, c, k = A @ A.T / p, rng.normal(size=p), 3.0
    model = LSA(d, 4, parameterisation, residual=residual, generator=make_generator(2))
    obj = Objective(d, parameterisation, residual)
    obj.set(H, c, k)
    x = torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy().copy()
    assert obj.size == x.size
    u, M, r = model.effective()
    from numerics.features import theta

    th = theta(u, M, r if residual else None, residual)
    Ht, ct = torch.as_tensor(H), torch.as_tensor(c)
    loss = th @ Ht @ th - 2 * ct @ th + k
    loss.backward()
    grad_ref = torch.cat([q.grad.reshape(-1) for q in model.parameters()]).numpy()
    pen, gpen = obj._balance(x)
    value, grad = obj(x)
    assert np.isclose(value - pen, float(loss.detach()), rtol=1e-13)
    assert np.isclose(obj.loss(x), float(loss.detach()), rtol=1e-13)
    assert np.allclose(grad - gpen, grad_ref, rtol=1e-11, atol=1e-12)
    assert np.allclose(obj.theta(x), th.detach().numpy(), atol=1e-14)
    # the penalty's gradient by finite differences
    e = rng.normal(size=x.size)
    h = 1e-6
    fd = (obj._balance(x + h * e)[0] - obj._balance(x - h * e)[0]) / (2 * h)
    assert np.isclose(fd, gpen @ e, rtol=1e-6, atol=1e-8)
