"""The default suite of ``python -m verify.all``.

Names start with thm1-, thm2-, thm3- (the three theorems), ext- (extensions and model
variants) or control- (negative controls, which must be refuted). ``QUICK`` is a
representative subset.
"""

from __future__ import annotations

import sympy as sp

from derivations.task import Response, Task

from .spec import TaskSpec

SIGMA2 = [[2, 1], [1, 3]]
SIGMA3 = [[2, 1, 0], [1, 2, 1], [0, 1, 2]]
UNIFORM = {"law": "uniform", "half_width": 1}


def _linear():
    a, b = sp.symbols("a b", positive=True)
    return [
        TaskSpec("thm1-gd-family-d1-8", None, gd_family=tuple(range(1, 9)), numeric=False,
                 description="Theorem 1 on the GD family (u = e_{d+1}, A = eta I, b = 0), d = 1..8"),
        TaskSpec("thm1-d1", Task(d=1), description="Theorem 1, d = 1, n and s2 symbolic"),
        TaskSpec("thm1-d2", Task(d=2), description="Theorem 1, d = 2, n and s2 symbolic"),
        TaskSpec("thm1-d3", Task(d=3), description="Theorem 1, d = 3, n and s2 symbolic"),
        TaskSpec("thm1-all-d", None, alld="theorem1", numeric=False,
                 description="Theorem 1 for every d, n, s2 (index-notation proof)"),
        TaskSpec("thm2-d2", Task(d=2, covariance=SIGMA2, prior="inverse-covariance"),
                 description="Theorem 2, rational Sigma, d = 2"),
        TaskSpec("thm2-d3", Task(d=3, covariance=SIGMA3, prior="inverse-covariance"), numeric=True,
                 description="Theorem 2, rational Sigma, d = 3"),
        TaskSpec("thm2-d2-symbolic-diagonal", Task(d=2, covariance=[[a, 0], [0, b]], prior="inverse-covariance"),
                 numeric=False, description="Theorem 2, Sigma = diag(a, b) with symbols a, b > 0"),
        TaskSpec("thm2-all-d", None, alld="theorem2", numeric=False,
                 description="Theorem 2 for every d and symbolic Sigma (index-notation proof)"),
        TaskSpec("ext-omega-identity-d2", Task(d=2, covariance=SIGMA2),
                 description=("Omega = I (Ahn et al., Wu et al.): "
                              "Gamma* = (((n+1)/n) Sigma + ((tr Sigma + s2)/n) I)^{-1}")),
        TaskSpec("ext-general-prior-d2", Task(d=2, covariance=SIGMA2, prior=[[1, 0], [0, 2]]),
                 description="general prior, Sigma and Omega not commuting"),
        TaskSpec("ext-general-prior-all-d", None, alld="general-prior", numeric=False,
                 description="general prior for every d (index-notation proof)"),
        TaskSpec("ext-query-in-keys-d2", Task(d=2, n=8, noise="1/2", query_in_keys=True),
                 description="variant: the query is among the keys"),
        TaskSpec("ext-residual-d2", Task(d=2, n=8, noise="1/2", residual=True),
                 description="variant: residual connection"),
        TaskSpec("ext-paper-parameterisation-d2", Task(d=2, n=8, noise="1/2"),
                 control={"parameterisation": "paper"},
                 description="the Monte Carlo fit over the paper's W^K, W^Q, W^V, h"),
        TaskSpec("ext-merged-parameterisation-d2", Task(d=2, n=8, noise="1/2"),
                 control={"parameterisation": "merged"},
                 description="the Monte Carlo fit over merged W^KQ, W^PV"),
        TaskSpec("ext-uniform-d2", Task(d=2, covariates=UNIFORM),
                 description="x with iid uniform(-1, 1) coordinates: eta* depends on E[x^4]"),
        TaskSpec("ext-rademacher-d2", Task(d=2, covariates={"law": "rademacher"}),
                 description="x with iid +-1 coordinates"),
        TaskSpec("ext-test-shift-d2", Task(d=2, n=10, noise="1/4", covariance=SIGMA2,
                                           test={"n": 40, "covariance": [[1, 0], [0, 2]], "noise": 0}),
                 description="the optimum trained at n = 10 evaluated at test length 40, another covariance, no noise"),
        TaskSpec("ext-von-oswald-uniform-d10", Task(d=10, n=10, noise=0, covariates=UNIFORM), gd_family_task=True,
                 description="von Oswald et al.'s setting (d = N = 10, x ~ U(-1, 1)^d, noiseless): the GD-family step"),
    ]


def _controls():
    return [
        TaskSpec("control-off-by-one-d2", Task(d=2), role="control", control={"kind": "off-by-one"},
                 description="claim eta = n/(n + d + s2) (d + 1 replaced by d): must be refuted"),
        TaskSpec("control-preconditioned-omega-identity-d2", Task(d=2, covariance=SIGMA2), role="control",
                 control={"kind": "preconditioned"},
                 description="claim Gamma* = eta Sigma^{-1} when Omega = I: must be refuted"),
        TaskSpec("control-perturbed-optimum-d2", Task(d=2), role="control",
                 control={"kind": "perturbed-optimum", "delta": "1/20"},
                 description="the numeric agreement check fed Gamma* + (1/20) I: must fail"),
        TaskSpec("control-uniform-gaussian-eta-d2", Task(d=2, covariates=UNIFORM), role="control",
                 control={"kind": "gaussian-eta"},
                 description="claim the Gaussian step size n/((n + d + 1 + s2/s) s) for uniform x: must be refuted"),
        TaskSpec("control-von-oswald-gaussian-eta-d10", Task(d=10, n=10, noise=0, covariates=UNIFORM),
                 role="control", control={"kind": "gaussian-eta"}, gd_family_task=True,
                 description="the Gaussian step size in von Oswald et al.'s setting: must be refuted"),
        TaskSpec("control-test-shift-ignored-d2", Task(d=2, n=10, noise="1/4", covariance=SIGMA2,
                                                        test={"n": 40, "covariance": [[1, 0], [0, 2]], "noise": 0}),
                 role="control", control={"kind": "test-shift-ignored"},
                 description="MC test risk compared with the TRAINING L* (shift ignored): must fail"),
        TaskSpec("control-wrong-loss-d2", Task(d=2), role="control", control={"kind": "wrong-loss"},
                 description="MC loss at the optimum against an exact loss that drops the query noise s2: must fail"),
    ]


def _nonlinear():
    try:
        from . import nonlinear_bridge  # noqa: F401
    except ImportError:
        return []
    return nonlinear_bridge_suite()


def nonlinear_bridge_suite():
    from .nonlinear_bridge import default_specs

    return default_specs()


def default_suite() -> list:
    from .steps_suite import paper_specs

    return _linear() + _nonlinear() + _controls() + paper_specs()


QUICK_NAMES = ("thm1-d1", "thm1-d2", "thm1-all-d", "thm2-d2", "ext-omega-identity-d2",
               "thm3-confirms-cubic-d1", "control-off-by-one-d2", "control-perturbed-optimum-d2")


def quick_suite() -> list:
    return [s for s in default_suite() if s.name in QUICK_NAMES]


__all__ = ["default_suite", "quick_suite", "Response"]
