"""The verifier's JSON for the new task keys: the law and the exact test loss are reported, and the
task-file keys reach the exact task unchanged."""

import sympy as sp

from derivations import Task
from derivations.shift import test_risk
from verify.runner import run_spec
from verify.spec import TaskSpec
from verify.taskfile import parse_task


def test_test_loss_and_law_in_the_json():
    task = Task(d=1, n=4, noise="1/4", covariates={"law": "uniform", "half_width": 2}, test={"n": 9, "noise": 0})
    result = run_spec(TaskSpec("t", task), numeric=False)
    assert result.status == "pass"
    doc = result.as_json()
    assert doc["symbolic"]["test_loss"] == str(test_risk(task))
    assert doc["symbolic"]["covariates"] == {"law": "uniform", "half_width": "2"}
    assert doc["spec"]["test"]["n"] == "9" and doc["spec"]["test"]["noise"] == "0"
    # the law enters the derivation: uniform on [-2, 2] has s = 4/3, m4 = 16/5
    s, m4, n, s2 = sp.Rational(4, 3), sp.Rational(16, 5), 4, sp.Rational(1, 4)
    assert sp.Rational(doc["symbolic"]["eta"]) == s / ((m4 + s2 * s) / n + (1 - sp.Rational(1, n)) * s**2)


def test_task_file_keys_reach_the_task():
    spec = parse_task({"name": "x", "d": 2, "n": 5, "noise": "1/2",
                       "covariates": {"law": "moments", "variance": "1/2", "fourth_moment": 1},
                       "test": {"n": 7, "prior": "inverse-covariance"}}, 0)
    t = spec.task
    assert t.covariates.name == "moments" and t.Sigma == sp.eye(2) / 2
    assert t.test.n == 7 and t.test.Omega == 2 * sp.eye(2) and t.test.noise == sp.Rational(1, 2)
