"""numerics.training: deterministic runs, the two initialisations, validation, a run that learns."""

import numpy as np
import pytest
import torch

from numerics import NumericTask
from numerics.model import LSA, effective_parameters
from numerics.task import make_generator
from numerics.training import TrainingConfig, TrainingConfigError, initialise, train

TASK = NumericTask(d=1, n=5, noise=0.25)
TINY = TrainingConfig(steps=60, batch=64, eval_samples=3000, record_every=5)


def test_same_seed_same_run_and_different_seed_different_run():
    a, b, c = train(TASK, TINY, 3), train(TASK, TINY, 3), train(TASK, TINY, 4)
    assert a.loss_ema == b.loss_ema and np.array_equal(a.u, b.u) and a.final_loss == b.final_loss
    assert a.loss_ema != c.loss_ema
    assert a.steps == list(range(5, 61, 5))


@pytest.mark.parametrize("parameterisation", ["paper", "merged"])
def test_zfb_initialisation_effective_parameters(parameterisation):
    d, s = 3, 0.2
    model = LSA(d, 5, parameterisation=parameterisation)
    initialise(model, TrainingConfig(init="zfb", init_scale=s, parameterisation=parameterisation),
               make_generator(1))
    u, M, _ = effective_parameters(model)
    assert np.allclose(u, np.r_[np.zeros(d), s])                     # u = sigma e_{d+1}
    A, b = M[:d], M[d]
    assert np.allclose(b, 0) and np.allclose(A, A.T)                 # [sigma Theta Theta^T ; 0]
    assert np.isclose(np.linalg.norm(A), s)                          # ||Theta Theta^T||_F = 1
    assert np.all(np.linalg.eigvalsh(A) >= -1e-12)


def test_gaussian_initialisation_scale():
    model = LSA(4, 5)
    initialise(model, TrainingConfig(init="gaussian", init_scale=0.05), make_generator(0))
    w = torch.cat([p.detach().ravel() for p in model.parameters()]).numpy()
    assert 0.04 < w.std() < 0.06 and abs(w.mean()) < 0.02


def test_a_short_run_learns():
    # L(0) = E[y_q^2] = d + s2 = 1.25; L* = s2 + d(d + 1 + s2)/(n + d + 1 + s2) = 0.5603
    run = train(TASK, TrainingConfig(steps=400, batch=128, eval_samples=6000, lr=2e-2), 0)
    assert run.final_loss + 5 * run.final_loss_se < 1.25
    assert abs(run.final_loss - 0.5603) < 5 * run.final_loss_se + 0.02


@pytest.mark.parametrize("field,value,fragment", [
    ("optimiser", "rmsprop", "optimiser"), ("init", "xavier", "init"), ("steps", 0, "steps"),
    ("lr", float("nan"), "lr"), ("lr", -1.0, "lr"), ("batch", 2.5, "batch"), ("ema", 1.0, "ema"),
    ("parameterisation", "effective", "parameterisation"), ("decay_fraction", 2.0, "decay_fraction")])
def test_bad_configuration_names_the_field(field, value, fragment):
    with pytest.raises(TrainingConfigError, match=fragment):
        TrainingConfig(**{field: value})


def test_variants_are_refused():
    with pytest.raises(TrainingConfigError, match="variants"):
        train(NumericTask(d=1, n=3, residual=True), TINY, 0)
