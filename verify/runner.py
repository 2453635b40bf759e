"""Run one verification task: the exact side, the Monte Carlo side, and the checks between them."""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import sympy as sp

from derivations import check_claim, expected_loss, global_optimum
from derivations.exact import exact_equal
from derivations.task import Task

from . import checks as C
from .claims import (
    enclosure_claim_checks,
    gaussian_eta_claim,
    off_by_one_eta,
    preconditioned_claim,
    published_optimum,
    user_claim_checks,
)
from .spec import TaskSpec


@dataclass
class TaskResult:
    spec: TaskSpec
    symbolic: dict
    numeric: dict | None
    checks: list
    timings: dict
    exact: object = None          # Optimum / Derivation / nonlinear optimum (for reports)
    fit: object = None            # numerics MinimiseResult (for reports)
    extra: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        """'error' (the tool failed), 'fail' (a check failed), 'pass' (every applicable check
        passed, at least one), or 'n/a' (nothing could be checked)."""
        statuses = {c.status for c in self.checks}
        if "error" in statuses:
            return "error"
        if "fail" in statuses:
            return "fail"
        return "pass" if "pass" in statuses else C.NOT_APPLICABLE

    @property
    def not_applicable(self) -> list:
        return [c for c in self.checks if c.status == C.NOT_APPLICABLE]

    def as_json(self) -> dict:
        return {"name": self.spec.name, "spec": self.spec.describe(), "symbolic": self.symbolic,
                "numeric": self.numeric, "checks": [c.as_json() for c in self.checks],
                "status": self.status, "timings": {k: round(v, 3) for k, v in self.timings.items()}}


def task_seed(seed: int, name: str) -> int:
    """A per-task seed that depends only on the run seed and the task name (stable)."""
    return (zlib.crc32(name.encode()) ^ (seed * 0x9E3779B1)) & 0x7FFFFFFF


def _s(expr) -> str:
    return str(sp.sympify(expr))


def _matrix_strings(m) -> list:
    return [[_s(x) for x in row] for row in sp.Matrix(m).tolist()]


def _strength(task: Task) -> str:
    return "symbolic-n" if task.n_symbolic and task.noise_symbolic else "instance"


# --- exact side ---------------------------------------------------------------------------

def _symbolic_linear(spec: TaskSpec, progress: bool = False):
    from .console import StageProgress

    task = spec.task
    opt = global_optimum(task, progress=StageProgress(spec.name) if progress else None)
    checks = []
    failure = opt.certificate.first_failure
    conclusion = opt.certificate.conclusion or {}
    randomised = conclusion.get("randomised") or []
    # steps checked at pseudo-random points (Schwartz-Zippel) are named with their failure bound,
    # and the strength label says so: a randomised identity test is not an expansion
    randomised_note = (f"; {len(randomised)} of them randomised (exact evaluation at pseudo-random "
                       f"points; probability that any passed a false identity <= "
                       f"{conclusion.get('failure_bound', 0.0):.1e})" if randomised else "")
    checks.append(C.exact_check(
        "certificate", opt.holds,
        f"{len(opt.certificate)} proof steps (reductions, convex lift, quadratic form, symmetry split, "
        "normal equations, realisability, optimal loss, uniqueness) "
        + ("all proved" if opt.holds else f"FAILED at {failure.title}: {failure.detail}") + randomised_note))
    if spec.role == "claim" and spec.user:
        # a task file: its own claim if it makes one, else an exploration (no claim to check)
        if spec.claim is not None:
            checks += user_claim_checks(task, opt.gamma, opt.loss, spec.claim, partial(check_claim, task))
    elif spec.role == "claim":
        form, gamma, loss = published_optimum(task)
        same_gamma, same_loss = exact_equal(gamma, opt.gamma), exact_equal(loss, opt.loss)
        if same_gamma and same_loss:
            detail = f"the published Gamma* and L* equal the derived ones exactly (form {form})"
        else:
            differ = " and ".join(x for x, same in (("Gamma*", same_gamma), ("L*", same_loss)) if not same)
            detail = f"the published {differ} DIFFER from the derived one(s) exactly"
        checks.append(C.exact_check("published-optimum", same_gamma and same_loss, detail))
    else:
        kind = spec.control.get("kind")
        if kind == "off-by-one":
            verdict = check_claim(task, eta=off_by_one_eta(task))
        elif kind == "preconditioned":
            verdict = check_claim(task, gamma=preconditioned_claim(task))
        elif kind == "gaussian-eta":
            verdict = check_claim(task, eta=gaussian_eta_claim(task))
        else:
            verdict = None
        if verdict is not None:
            checks.append(C.exact_check(
                "refuted-exactly", not verdict.holds,
                ("claim refuted as expected: " if not verdict.holds else "claim NOT refuted: ") + verdict.reason))
    symbolic = {"gamma": _matrix_strings(opt.gamma), "eta": None if opt.eta is None else _s(opt.eta),
                "loss": _s(opt.loss), "form": opt.form,
                "preconditioned_eta": None if opt.form_detail is None or opt.form_detail.preconditioned_eta is None
                else _s(opt.form_detail.preconditioned_eta),
                "assumptions": {"linear-response": True, "prior": task.prior_kind},
                "strength": _strength(task) + ("+randomised" if randomised else ""),
                "route": conclusion.get("route", "general")}
    if randomised:
        symbolic["randomised_steps"] = list(randomised)
        symbolic["failure_bound"] = conclusion.get("failure_bound", 0.0)
    _add_law_and_shift(task, opt.gamma, symbolic)
    return opt, symbolic, checks


def _add_law_and_shift(task: Task, gamma, symbolic: dict):
    """JSON: the covariate law (non-Gaussian only) and the exact test-time risk of Gamma*."""
    if not task.covariates.is_gaussian:
        symbolic["covariates"] = task.covariates.spec()
        symbolic["assumptions"]["covariates"] = task.covariates.describe()
    if task.test is not None:
        from derivations.shift import test_risk

        symbolic["test_loss"] = _s(test_risk(task, task.test, gamma=gamma))


def _symbolic_alld(spec: TaskSpec):
    from derivations.alld import prove

    proof = prove(spec.alld)
    c = proof.conclusion
    failure = proof.first_failure
    checks = [C.exact_check(
        "proof", proof.holds,
        f"{len(proof)} steps at symbolic d"
        + ("" if proof.holds else f"; not proved: {failure.title} ({failure.status}): {failure.detail}"))]
    eta = c.get("eta")
    symbolic = {"gamma": [[_s(c.get("gamma"))]], "eta": None if eta is None else _s(eta), "loss": _s(c.get("loss")),
                "form": {"theorem1": "gd", "theorem2": "preconditioned-gd",
                         "theorem3-cubic": "gd"}.get(spec.alld, "general"),
                "assumptions": {"linear-response": spec.alld != "theorem3-cubic"},
                "strength": c.get("strength")}
    return proof, symbolic, checks


# --- Monte Carlo side -----------------------------------------------------------------------

def _random_parameters(task: Task, rng: np.random.Generator):
    """Exact random parameters (small rationals) for the loss-at-random check.

    Entries in [-0.4, 0.4] keep the prediction on the scale of y_q: (yhat - y_q)^2 is a
    degree-8 polynomial in Gaussians, and larger parameters make its tails heavy enough
    that a batch-means SE is noisy (the check stays as sensitive to a wrong loss).
    """
    d = task.d

    def rat(shape):
        return sp.Matrix(*shape, lambda i, j: sp.Rational(int(rng.integers(-4, 5)), 10))
    u, M = rat((d + 1, 1)), rat((d + 1, d))
    r = rat((d, 1)) if task.residual else sp.zeros(d, 1)
    return u, M, r


def _numeric_linear(spec: TaskSpec, opt, seed: int, progress: bool):
    from .numeric import fit, float_matrix, loss_at, loss_at_gd_point, numeric_json, numeric_task

    task = spec.task
    n, s2 = spec.numeric_values()
    ntask = numeric_task(task, n, s2)
    gamma_exact = float_matrix(spec.at_numeric_values(opt.gamma))
    loss_exact = float(spec.at_numeric_values(opt.loss))
    res = fit(ntask, spec.samples, seed, spec.control.get("parameterisation", "effective"), progress)
    checks = []
    kind = spec.control.get("kind")
    d = task.d
    claims_gamma = {"perturbed-optimum": (gamma_exact + float(sp.Rational(spec.control.get("delta", 0))) * np.eye(d),
                                          f"Gamma (LSA fit) vs a PERTURBED Gamma* + {spec.control.get('delta')} I"),
                    "off-by-one": (float(spec.at_numeric_values(off_by_one_eta(task))) * np.eye(d),
                                   "Gamma (LSA fit) vs the off-by-one claim"),
                    "preconditioned": (float_matrix(spec.at_numeric_values(preconditioned_claim(task))),
                                       "Gamma (LSA fit) vs the eta Sigma^{-1} claim"),
                    }
    if kind == "gaussian-eta":
        claims_gamma[kind] = (float(spec.at_numeric_values(gaussian_eta_claim(task))) * np.eye(d),
                              "Gamma (LSA fit) vs the Gaussian step size (Isserlis assumed: WRONG)")
    if spec.role == "claim":
        checks += C.claim_gamma_checks(res, gamma_exact, "Gamma (LSA fit) vs Gamma*")
    elif kind in claims_gamma:
        target, what = claims_gamma[kind]
        df = res.groups - 1
        checks.append(C.entrywise("gamma-entries", res.gamma, res.gamma_se, target, what, False, df))
        checks.append(C.frobenius("gamma-frobenius", res.gamma, res.gamma_se, target, what, False, df))
    if spec.role == "claim" or kind == "wrong-loss":
        # the exact optimum's parameters, evaluated on fresh prompts
        est = loss_at_gd_point(ntask, gamma_exact, spec.samples, seed + 1, progress)
        if kind == "wrong-loss":
            # a realistic slip: the query's own noise left out of E[(yhat - y_q)^2]
            checks.append(C.scalar("loss-at-optimum", est.mean, est.se, loss_exact - float(s2),
                                   "MC loss at the exact optimum vs L* - s2 (query noise dropped: WRONG, must differ)",
                                   expect_agree=False, df=est.batches - 1))
        else:
            checks.append(C.scalar("loss-at-optimum", est.mean, est.se, loss_exact,
                                   "MC loss at the exact optimum vs L*", df=est.batches - 1))
    if spec.role == "claim":
        rng = np.random.default_rng(seed)
        u_r, M_r, r_r = _random_parameters(task, rng)
        fixed = Task(d=d, n=int(n), noise=s2, covariance=task.Sigma if task.covariates.is_gaussian else None,
                     prior=task.Omega, query_in_keys=task.query_in_keys, residual=task.residual,
                     covariates=task.covariates)
        exact_random = float(expected_loss(fixed, u_r, M_r, r_r))
        r_float = float_matrix(r_r).ravel() if task.residual else None
        est = loss_at(ntask, float_matrix(u_r).ravel(), float_matrix(M_r), r_float, spec.samples, seed + 2, progress)
        checks.append(C.scalar("loss-at-random", est.mean, est.se, exact_random,
                               "MC loss at random parameters vs expected_loss", df=est.batches - 1))
    if task.test is not None and (spec.role == "claim" or kind == "test-shift-ignored"):
        checks.append(_test_loss_check(spec, opt, gamma_exact, loss_exact, seed + 3, progress))
    numeric = numeric_json(res, n, s2)
    numeric["exact"] = {"gamma": gamma_exact.tolist(), "eta": float(np.trace(gamma_exact) / d),
                        "loss": loss_exact}
    return res, numeric, checks


def shift_numeric_values(spec: TaskSpec):
    """(n, s2) of the test distribution for the Monte Carlo side: its own when fixed, else the
    training task's Monte Carlo values (a symbolic test n or noise is the training one)."""
    test = spec.task.test
    n, s2 = spec.numeric_values()
    return (n if test.n_symbolic else int(test.n)), (s2 if test.noise_symbolic else test.noise)


def _test_loss_check(spec: TaskSpec, opt, gamma_exact, loss_exact, seed: int, progress: bool):
    """The MC risk of Gamma* on fresh prompts of the TEST distribution vs the exact test loss
    (control 'test-shift-ignored': vs the training L*, which must be refuted)."""
    from derivations.shift import test_risk

    from .numeric import loss_at_gd_point, numeric_task

    task = spec.task
    n_test, s2_test = shift_numeric_values(spec)
    ntest = numeric_task(task.test, n_test, s2_test)
    est = loss_at_gd_point(ntest, gamma_exact, spec.samples, seed, progress)
    if spec.control.get("kind") == "test-shift-ignored":
        return C.scalar("test-loss", est.mean, est.se, loss_exact,
                        "MC risk of Gamma* on the test distribution vs the TRAINING L* (shift ignored: must differ)",
                        expect_agree=False, df=est.batches - 1)
    exact = float(spec.at_numeric_values(test_risk(task, task.test, gamma=opt.gamma)))
    return C.scalar("test-loss", est.mean, est.se, exact,
                    f"MC risk of Gamma* on the test distribution (n = {n_test}) vs the exact test loss",
                    df=est.batches - 1)



def _symbolic_gd_family(spec: TaskSpec):
    """Theorem 1 on the GD family u = e_{d+1}, A = eta I, b = 0, for each listed d."""
    from derivations.gd_family import gd_family_optimum

    checks, results = [], []
    for d in spec.gd_family:
        task = Task(d=d)
        r = gd_family_optimum(task)
        _, gamma, loss = published_optimum(task)
        ok = r.derivation.holds and exact_equal(r.eta * sp.eye(d), gamma) and exact_equal(r.minimum, loss)
        checks.append(C.exact_check(
            f"gd-family-d{d}", ok,
            f"d = {d}: argmin of the exact loss on the GD family eta* = {r.eta}, minimum {r.minimum} "
            + ("equal the published n/(n+d+1+s2) and s2 + d(d+1+s2)/(n+d+1+s2)" if ok else "DIFFER")))
        results.append(r)
    last = results[-1]
    d = spec.gd_family[-1]
    symbolic = {"gamma": _matrix_strings(last.eta * sp.eye(d)), "eta": _s(last.eta), "loss": _s(last.minimum),
                "form": "gd", "assumptions": {"linear-response": True, "prior": "identity",
                                              "restricted-to": "GD family"},
                "strength": "symbolic-n"}
    return results, symbolic, checks


def _symbolic_gd_family_task(spec: TaskSpec):
    """The task's exact loss on the GD family u = e_{d+1}, A = eta I, b = 0 and its minimiser (cheap at
    d = 10, where the full certificate is not); compared with the stated step size, or a control's."""
    from derivations.gd_family import gd_family_optimum

    from .claims import iid_law_eta

    task = spec.task
    r = gd_family_optimum(task)
    checks = [C.exact_check("gd-family", r.derivation.holds,
                            f"L(eta) on the GD family is a convex quadratic with minimiser eta* = {r.eta} "
                            f"(exact; {len(r.derivation)} steps)")]
    stated = iid_law_eta(task) if not task.covariates.is_gaussian else published_optimum(task)[1][0, 0]
    if spec.role == "claim":
        same = exact_equal(r.eta, stated)
        checks.append(C.exact_check("stated-step", same, f"the stated eta* = {stated} "
                                    + ("equals" if same else "DIFFERS from") + " the GD-family minimiser"))
    elif spec.control.get("kind") == "gaussian-eta":
        claim = gaussian_eta_claim(task)
        refuted = not exact_equal(r.eta, claim)
        checks.append(C.exact_check("refuted-exactly", refuted,
                                    f"the Gaussian step size {claim} " + ("differs from" if refuted else "EQUALS")
                                    + f" the exact minimiser {r.eta} (as expected: Isserlis does not hold)"))
    symbolic = {"gamma": _matrix_strings(r.eta * sp.eye(task.d)), "eta": _s(r.eta), "loss": _s(r.minimum),
                "form": "gd", "assumptions": {"linear-response": True, "prior": task.prior_kind,
                                              "restricted-to": "GD family"},
                "strength": _strength(task)}
    _add_law_and_shift(task, r.eta * sp.eye(task.d), symbolic)
    return r, symbolic, checks


def _numeric_gd_family_task(spec: TaskSpec, r, seed: int, progress: bool):
    """Monte Carlo least-squares step on the GD family vs the exact eta* (or a control's claim), and
    the MC loss at eta* vs the exact L(eta*)."""
    from numerics import gd_step

    from .numeric import loss_at_gd_point, numeric_task

    task = spec.task
    n, s2 = spec.numeric_values()
    ntask = numeric_task(task, n, s2)
    est = gd_step(ntask, samples=spec.samples, seed=seed, progress=progress)
    eta = float(spec.at_numeric_values(r.eta))
    checks = []
    df = est.batches - 1
    if spec.role == "claim":
        checks.append(C.scalar("gd-family-eta", est.eta, est.se, eta, "MC least-squares step on the GD family vs eta*",
                               df=df))
        loss = loss_at_gd_point(ntask, eta * np.eye(task.d), spec.samples, seed + 1, progress)
        checks.append(C.scalar("loss-at-optimum", loss.mean, loss.se, float(spec.at_numeric_values(r.minimum)),
                               "MC loss at eta* vs the exact L(eta*)", df=loss.batches - 1))
    else:
        claim = float(spec.at_numeric_values(gaussian_eta_claim(task)))
        checks.append(C.scalar("gd-family-eta", est.eta, est.se, claim,
                               "MC least-squares step vs the Gaussian step size (WRONG, must differ)",
                               expect_agree=False, df=df))
    numeric = {"eta": est.eta, "eta_se": est.se, "samples": est.samples, "seconds": est.seconds, "n": int(n),
               "noise": str(s2)}
    return est, numeric, checks


def exact_side(spec: TaskSpec, seed: int = 0, numeric: bool = True, progress: bool = False):
    """(exact object, symbolic JSON, checks): the derivation of one task."""
    if spec.landscape:
        from .landscape_suite import landscape_exact_side
        return landscape_exact_side(spec, seed, numeric)
    if spec.gd_family_task:
        return _symbolic_gd_family_task(spec)
    if spec.steps:
        from .steps_suite import steps_exact_side
        return steps_exact_side(spec)
    if spec.gd_family:
        return _symbolic_gd_family(spec)
    if spec.alld:
        return _symbolic_alld(spec)
    if spec.task.is_linear:
        return _symbolic_linear(spec, progress)
    from .nonlinear_bridge import symbolic_nonlinear
    exact, symbolic, checks = symbolic_nonlinear(spec)
    if spec.claim is not None:
        if getattr(exact, "route", None) == "unsupported":
            checks = checks + [C.not_applicable("claim", "the optimum was not computed, so the claim "
                                                "cannot be compared with it", kind="symbolic")]
        elif getattr(exact, "enclosure", None) is not None:
            checks = checks + enclosure_claim_checks(spec.task, exact, spec.claim)
        else:
            checks = checks + user_claim_checks(spec.task, exact.gamma, exact.loss, spec.claim)
    return exact, symbolic, checks


def can_sample(spec: TaskSpec) -> bool:
    return spec.numeric and spec.task is not None and not (spec.task.Sigma.free_symbols or spec.task.Omega.free_symbols)


def numeric_side(spec: TaskSpec, exact, seed: int, progress: bool = False):
    """(fit, numeric JSON, checks): the Monte Carlo side at the task's own seed."""
    tseed = task_seed(seed, spec.name)
    if spec.gd_family_task:
        return _numeric_gd_family_task(spec, exact, tseed, progress)
    if spec.task.is_linear:
        return _numeric_linear(spec, exact, tseed, progress)
    from .nonlinear_bridge import numeric_nonlinear
    return numeric_nonlinear(spec, exact, tseed, progress)


def run_spec(spec: TaskSpec, seed: int = 0, numeric: bool = True, progress: bool = False) -> TaskResult:
    """Evaluate one task; an unexpected exception becomes an 'error' check (never a crashed run,
    never reported as a refuted claim)."""
    try:
        return _run_spec(spec, seed, numeric, progress)
    except Exception as err:  # noqa: BLE001 - reported as the tool's error, with its type
        symbolic = {"gamma": [], "eta": None, "loss": "", "form": "general", "assumptions": {},
                    "strength": "instance"}
        return TaskResult(spec, symbolic, None, [_error_check("exact", err)], {})


def _error_check(side: str, err: BaseException) -> C.Check:
    what = "out of memory" if isinstance(err, MemoryError) else f"{type(err).__name__}: {err}"
    return C.Check("error", "error", None, f"the {side} side failed (a tool error, not a verdict): {what}"[:500])


def _run_spec(spec: TaskSpec, seed: int, numeric: bool, progress: bool) -> TaskResult:
    from .numeric import numeric_applicability

    timings = {}
    start = time.perf_counter()
    exact, symbolic, checks = exact_side(spec, seed, numeric, progress)
    timings["symbolic"] = time.perf_counter() - start
    numeric_json, fit_result = None, None
    if numeric and can_sample(spec):
        n, s2 = spec.numeric_values()
        reason = numeric_applicability(spec.task, n, s2)
        if reason:
            checks = checks + [C.not_applicable("numerics", reason)]
        else:
            start = time.perf_counter()
            try:
                fit_result, numeric_json, more = numeric_side(spec, exact, seed, progress)
                checks = checks + more
            except Exception as err:  # noqa: BLE001 - the exact verdicts above still stand
                checks = checks + [_error_check("Monte Carlo", err)]
            timings["numeric"] = time.perf_counter() - start
    return TaskResult(spec, symbolic, numeric_json, checks, timings, exact, fit_result)
