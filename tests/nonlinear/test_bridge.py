"""Nonlinear tasks through the verifier: true-form optima, honest labels, clean JSON."""

import json
import math
import re
from decimal import ROUND_HALF_EVEN, Context, Decimal

import pytest
import sympy as sp

from derivations.task import Response, Task
from verify.nonlinear_bridge import default_specs, growth_degree, light_tailed
from verify.runner import run_spec
from verify.spec import TaskSpec


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """The Monte Carlo side as the suite runs it (one thread per worker): with several threads
    on a loaded machine torch's contention makes a 1 s fit take 10 s."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


SIN_COV = Task(d=2, covariance=[[2, 1], [1, 2]], response=Response("single-index", link="sin(s)"))


def _no_nan(result):
    text = json.dumps(result.as_json())
    assert "NaN" not in text and "nan" not in text.replace("nan", "", 0).split('"detail"')[0]
    for c in result.checks:
        assert c.z is None or math.isfinite(c.z)


def test_user_sin_task_outside_every_hypothesis_runs_clean():
    """The issue's example: sin(s) with covariance [[2, 1], [1, 2]] as a user task."""
    r = run_spec(TaskSpec("sin-cov", SIN_COV, user=True, samples=6000), seed=0)
    _no_nan(r)
    assert r.status == "pass", [(c.id, c.detail) for c in r.checks]
    sym = r.symbolic
    assert sym["form"] == "general" and sym["route"] == "closed-form-general"
    assert sym["hypotheses"]["relation"] == "outside" and sym["strength"] == "symbolic-n"
    n, s2 = sp.symbols("n s2")
    for row in sym["gamma"]:
        for x in row:
            assert not sp.sympify(x, locals={"n": n, "s2": s2}).has(sp.Float)   # exact entries
    ids = [c.id for c in r.checks]
    assert "gamma-entries" in ids and "gd-form" not in ids      # a user task claims no GD form
    entries = next(c for c in r.checks if c.id == "gamma-entries")
    assert "general Gamma*" in entries.detail


def test_user_rotation_broken_task_passes_with_an_honest_label():
    task = Task(d=2, response=Response("expression", expr="s + x1**2"))
    r = run_spec(TaskSpec("x1sq", task, user=True, samples=6000), seed=0)
    _no_nan(r)
    assert r.status == "pass"
    gamma = next(c for c in r.checks if c.id == "gamma-entries")
    assert "general Gamma*" in gamma.detail and "eta* I" not in gamma.detail


def test_task_without_exact_route_is_undecided_honestly():
    """No exact or enclosed route: the tool cannot decide -- n/a with the reason, never 'fail'
    (a fail would say the distribution refutes something; nothing was claimed)."""
    task = Task(d=2, covariance=[[2, 1], [1, 2]], response=Response("single-index", link="tanh(s)"))
    r = run_spec(TaskSpec("tanh-cov", task, user=True, samples=3000), seed=0)
    _no_nan(r)
    assert r.status == "n/a" and [c.id for c in r.checks] == ["certificate"]
    assert "enclosures are implemented for Sigma = I" in r.checks[0].detail
    assert "not computed" in r.symbolic["reason"]
    assert r.symbolic["gamma"] == [] and r.symbolic["form"] == "unknown"


def test_enclosure_json():
    task = Task(d=2, n=10, noise="1/4", response=Response("single-index", link="tanh(s)"))
    r = run_spec(TaskSpec("thm3-confirms-tanh", task), seed=0, numeric=False)
    sym = r.symbolic
    assert r.status == "pass" and sym["strength"] == "enclosure"
    lo, hi = (sp.Rational(v) for v in sym["eta_enclosure"])
    assert lo <= hi and hi - lo < sp.Rational(1, 10**30)
    digits = len(re.sub(r"[^0-9]", "", sym["eta"]).lstrip("0"))
    assert 30 <= digits <= 45
    # only correct digits: both ends of the enclosure round to the digits shown
    rounded = Context(prec=digits, rounding=ROUND_HALF_EVEN)
    for end in sym["eta_enclosure"]:
        assert rounded.create_decimal(end) == Decimal(sym["eta"])
    assert sym["gamma"][0][0] == sym["eta"] and sym["gamma"][0][1] == "0"
    assert "eta_error" not in sym


def test_misnamed_task_is_caught():
    """Negative control of the naming rule: relu named 'confirms' (Assumption 1 fails)."""
    spec = TaskSpec("thm3-confirms-relu-d2", Task(d=2, response=Response("single-index", link="relu(s)")))
    r = run_spec(spec, seed=0, numeric=False)
    label = next(c for c in r.checks if c.id == "hypothesis-label")
    assert label.status == "fail" and r.status == "fail"


def test_suite_names_match_hypotheses():
    for spec in default_specs():
        if not spec.name.startswith("thm3-") or "tanh" in spec.name or spec.alld:
            continue
        r = run_spec(spec, seed=0, numeric=False)
        assert r.status == "pass", (spec.name, [(c.id, c.detail) for c in r.checks if not c.passed])


def test_heavy_tailed_responses_skip_the_loss_check():
    si = lambda link: Task(d=2, response=Response("single-index", link=link))  # noqa: E731
    assert growth_degree(si("s**3")) == 3 and not light_tailed(si("s**3"))
    assert growth_degree(si("tanh(s)")) == 0 and light_tailed(si("tanh(s)"))
    assert growth_degree(si("relu(s)")) == 1 and light_tailed(si("relu(s)"))


@pytest.mark.slow
def test_extends_relu_task_against_monte_carlo():
    spec = next(s for s in default_specs() if s.name == "thm3-extends-relu-d2")
    r = run_spec(spec, seed=3)
    assert r.status == "pass" and {"gamma-entries", "loss-at-optimum"} <= {c.id for c in r.checks}


def test_monte_carlo_record_carries_the_exact_value_it_was_compared_with():
    """relu at d = 2: eta* = n/(n + 4 s2 + 7) (the arc-cosine closed form), so at the Monte Carlo's
    n = 10, s2 = 1/4 the record holds 10/18 and the terminal prints it beside the estimate."""
    from verify.console import monte_carlo_cell

    task = Task(d=2, response=Response("single-index", link="relu(s)"))
    r = run_spec(TaskSpec("relu", task, user=True, samples=3000), seed=0)
    exact = r.numeric["exact"]
    assert exact["eta"] == pytest.approx(10 / 18, rel=1e-12)
    assert sum(exact["gamma"], []) == pytest.approx([10 / 18, 0, 0, 10 / 18], rel=1e-12)
    assert "(exact 0.5556)" in monte_carlo_cell(r)
