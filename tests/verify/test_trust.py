"""Verdict hygiene: a check that cannot be carried out is 'n/a', never a pass or a refutation;
work too large for the machine is refused before it starts; output is written safely."""

import math
import os
import time

import numpy as np
import pytest
import sympy as sp

from derivations import Task, global_optimum
from derivations.errors import TooLargeError
from derivations.task import Response
from numerics import NumericTask, mc_loss, minimise
from numerics import TooLargeError as NumericTooLarge
from verify import checks as C
from verify.errors import one_line
from verify.io import write_atomic
from verify.numeric import numeric_applicability
from verify.runner import TaskResult, run_spec
from verify.spec import TaskSpec

TOL_DF = 29


# --- checks: non-finite inputs are not applicable --------------------------------------------

@pytest.mark.parametrize("est,se,exact", [
    (np.nan, 0.1, 1.0), (1.0, np.inf, 1.0), (1.0, 0.1, np.inf), (np.inf, np.inf, 1.0), (1.0, 0.0, 2.0),
])
def test_scalar_check_not_applicable(est, se, exact):
    c = C.scalar("x", est, se, exact, "thing", df=TOL_DF)
    assert c.status == "n/a" and c.detail.startswith("numerics not applicable")
    c = C.scalar("x", est, se, exact, "thing", expect_agree=False, df=TOL_DF)   # a control: not refuted
    assert c.status == "n/a"


def test_infinite_se_no_longer_passes():
    # before: z = (est - exact)/inf = 0, a "pass" that tested nothing
    assert C.scalar("x", 5.0, math.inf, 1.0, "thing", df=TOL_DF).status == "n/a"


def test_entrywise_and_frobenius_not_applicable():
    est, se, ex = np.array([1.0, np.nan]), np.array([0.1, 0.1]), np.array([1.0, 1.0])
    assert C.entrywise("g", est, se, ex, "Gamma", df=TOL_DF).status == "n/a"
    assert C.frobenius("g", est, se, ex, "Gamma", df=TOL_DF).status == "n/a"


def test_finite_checks_still_decide():
    # a must-pass and a must-fail case (near miss) for the same machinery
    assert C.scalar("x", 1.01, 0.01, 1.0, "thing", df=TOL_DF).status == "pass"        # z = 1
    assert C.scalar("x", 1.10, 0.01, 1.0, "thing", df=TOL_DF).status == "fail"        # z = 10
    assert C.entrywise("g", [1.0, 1.2], [0.01, 0.01], [1.0, 1.0], "G", df=TOL_DF).status == "fail"
    assert C.scalar("x", 1.0, 0.0, 1.0, "thing", df=TOL_DF).status == "pass"          # exact agreement


def test_task_status_rules():
    spec = TaskSpec("t", Task(d=1))
    ok, na = C.exact_check("a", True, ""), C.not_applicable("numerics", "why")
    bad, err = C.exact_check("b", False, ""), C.Check("error", "error", None, "boom")
    assert TaskResult(spec, {}, None, [ok, na], {}).status == "pass"
    assert TaskResult(spec, {}, None, [na], {}).status == "n/a"
    assert TaskResult(spec, {}, None, [ok, na, bad], {}).status == "fail"
    assert TaskResult(spec, {}, None, [ok, bad, err], {}).status == "error"


# --- numerics applicability -----------------------------------------------------------------

BIG = sp.Integer(10) ** 150


@pytest.mark.parametrize("task,fragment", [
    (Task(d=2, n=10, noise="1/4", covariance=[[1, 1 - sp.Rational(1, 10**100)], [1 - sp.Rational(1, 10**100), 1]]),
     "condition number"),
    (Task(d=2, n=10, noise="1/4", covariance=[[BIG, 0], [0, BIG]]), "eigenvalues span"),
    (Task(d=2, n=10, noise="1/4", covariance=[[1 / BIG, 0], [0, 1 / BIG]]), "eigenvalues span"),
    (Task(d=1, n=10, noise=BIG), "noise variance"),
])
def test_beyond_float64_is_not_applicable(task, fragment):
    reason = numeric_applicability(task, 10, task.noise)
    assert reason and fragment in reason


def test_ordinary_task_is_applicable():
    assert numeric_applicability(Task(d=2, covariance=[[2, 1], [1, 2]]), 10, sp.Rational(1, 4)) is None


def test_run_spec_scale_is_exact_pass_numerics_na():
    """At Sigma = 10^-150 I the exact verdict is unaffected and the numerics say n/a."""
    task = Task(d=1, n=10, noise="1/4", covariance=[[1 / BIG]])
    result = run_spec(TaskSpec("tiny", task), seed=0, numeric=True)
    assert result.status == "pass"
    statuses = {c.id: c.status for c in result.checks}
    assert statuses["certificate"] == "pass" and statuses["published-optimum"] == "pass"
    assert statuses["numerics"] == "n/a"


# --- resource limits ------------------------------------------------------------------------

def test_exact_side_refused_up_front():
    start = time.perf_counter()
    with pytest.raises(TooLargeError, match="exceeds the limit"):
        # the query among the keys has no Kronecker structure: the general route's Gram matrix
        # (the plain d = 14 task now takes the structured route, well within the limits)
        global_optimum(Task(d=14, query_in_keys=True))
    with pytest.raises(TooLargeError, match="exceeds the limit"):
        global_optimum(Task(d=16, response=Response("expression", expr="s**12")))
    assert time.perf_counter() - start < 30      # refused, not attempted (generous: loaded machines)


def test_numeric_side_refused_up_front():
    with pytest.raises(NumericTooLarge, match="exceeds the limit"):
        minimise(NumericTask(d=2, n=10**9, noise=0.25), samples=40_000)
    with pytest.raises(NumericTooLarge, match="exceeds the limit"):
        mc_loss(NumericTask(d=2, n=10**9, noise=0.25), (np.r_[0.0, 0.0, 1.0], np.zeros((3, 2))), samples=40_000)
    with pytest.raises(NumericTooLarge, match="exceeds the limit"):
        minimise(NumericTask(d=32, n=10, noise=0.25), samples=40_000)


def test_budget_accepts_the_default_suite():
    from verify.budget import plan
    from verify.suite import default_suite

    costs = plan(default_suite(), numeric=True)
    assert len(costs) == len(default_suite())
    assert max(c.bytes for c in costs) < 2 * 2**30


# --- output ---------------------------------------------------------------------------------

def test_one_line():
    assert one_line("a\nb\x1b[31mc\x1b[0m\td\x00") == "a\\nbc\\td\\x00"
    assert "\n" not in one_line("x\u2028y")


def test_write_atomic_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "f.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "f.json").stat().st_mode & 0o777 == 0o644
