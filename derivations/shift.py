"""Test-time shift: the exact risk of fixed LSA parameters under another distribution.

The pre-training loss of parameters (u, M, r) is a function of the distribution the prompts
come from: context length, covariance, prior, noise (and the law of x). So the risk at test
time of a model trained on one task is :func:`derivations.loss.expected_loss` on the *test*
task, at the trained parameters:

* :func:`expected_loss` (re-exported): the exact risk of any (u, M, r) under any task;
* :func:`test_risk`: the exact risk, on ``test_task``, of the optimum of ``train_task``
  (Gamma* of the training distribution, realised by u = e_{d+1}, A = Gamma*^T, b = 0, r = 0;
  the optimal predictor is unique, so the realisation does not matter);
* :func:`risk_curve`: the same with the test context length left symbolic, as a rational
  function of the symbol ``m`` (a curve over test lengths).

When training and test share the symbol n (both symbolic), the test length IS the training
length. :func:`risk_curve` renames the test length to ``m`` first, so a symbolic training n
and a symbolic test length can differ.

>>> from derivations import Task
>>> from derivations.symbols import n
>>> train = Task(d=1, noise=0)
>>> sp.factor(test_risk(train, train))              # the test task is the training task: L*
2/(n + 2)
>>> sp.factor(risk_curve(Task(d=1, n=4, noise=0)))  # trained at n = 4, tested at length m
(m + 8)/(9*m)
"""

from __future__ import annotations

import sympy as sp

from . import symbols as pinned
from .exact import canonical
from .loss import expected_loss
from .lsa import EffectiveParameters
from .task import Task

#: the symbolic test context length of :func:`risk_curve`
m = sp.Symbol("m", integer=True, positive=True)


def _compatible(train_task: Task, test_task: Task):
    if test_task.d != train_task.d:
        raise ValueError(f"test task: d = {test_task.d} differs from the training task's d = {train_task.d}")
    for flag in ("query_in_keys", "residual"):
        if getattr(test_task, flag) != getattr(train_task, flag):
            raise ValueError(f"test task: {flag} must match the training task (the same model)")
    if not (train_task.is_linear and test_task.is_linear):
        raise NotImplementedError("test-time risk covers linear tasks")


def trained_parameters(train_task: Task, gamma=None) -> EffectiveParameters:
    """The effective parameters of the training optimum (or of a given Gamma)."""
    if gamma is None:
        from .optimum import global_optimum
        gamma = global_optimum(train_task).gamma
    return EffectiveParameters.gd_point(sp.Matrix(gamma))


def risk_at(test_task: Task, params: EffectiveParameters, length=None) -> sp.Expr:
    """Exact risk of ``params`` on ``test_task``; with ``length`` (a symbol) the test task's
    symbolic n is renamed to it before the parameters (which may contain the training n) are
    substituted, so the two lengths never share a symbol."""
    generic_params = EffectiveParameters.symbols(test_task.d)
    generic = expected_loss(test_task)
    if length is not None:
        if not test_task.n_symbolic:
            raise ValueError("risk_at: a symbolic length needs a test task with symbolic n")
        generic = generic.xreplace({pinned.n: length})
    entries = params.all_symbols()
    mapping = dict(zip(generic_params.all_symbols(), entries, strict=True))
    return canonical(generic.xreplace(mapping))


def test_risk(train_task: Task, test_task: Task | None = None, gamma=None) -> sp.Expr:
    """The exact risk on ``test_task`` (default: ``train_task.test``) of the optimum trained on
    ``train_task`` (or of ``gamma``, if given)."""
    test_task = train_task.test if test_task is None else test_task
    if test_task is None:
        raise ValueError("test_risk: the training task has no test distribution; pass test_task")
    _compatible(train_task, test_task)
    return risk_at(test_task, trained_parameters(train_task, gamma))


test_risk.__test__ = False      # a library function, not a pytest test


def risk_curve(train_task: Task, test_task: Task | None = None, gamma=None) -> sp.Expr:
    """The exact risk of the training optimum as a function of the test context length ``m``
    (the test task's other values; default: the training distribution itself)."""
    base = train_task.test if test_task is None else test_task
    base = train_task if base is None else base
    symbolic = Task(d=base.d, n=None, noise=None if base.noise_symbolic else base.noise,
                    covariance=base.Sigma if base.covariates.is_gaussian else None, prior=base.Omega,
                    query_in_keys=base.query_in_keys, residual=base.residual, covariates=base.covariates)
    _compatible(train_task, symbolic)
    return risk_at(symbolic, trained_parameters(train_task, gamma), length=m)


__all__ = ["expected_loss", "test_risk", "risk_curve", "risk_at", "trained_parameters", "m"]
