"""The landscape suite: classification of trained runs, a critical task end to end, the --suite flag."""

import math
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from derivations import Task
from derivations.landscape import loss_polynomial
from numerics import NumericTask
from numerics.training import TrainingConfig, train
from verify.landscape_suite import classify_run, cubic_mc_check
from verify.runner import run_spec
from verify.spec import TaskSpec

ROOT = Path(__file__).resolve().parents[2]
LEVELS = [{"kind": "global-min", "loss": (1.0, 1.0), "certified": True},
          {"kind": "local-min", "loss": (1.5, 1.5000001), "certified": True},
          {"kind": "saddle", "loss": (1.7, 1.7), "certified": False}]


def test_classification_by_levels_and_tolerance():
    t = 4.506                                   # t quantile, alpha = 1e-4 two-sided, 29 df
    assert classify_run(LEVELS, 1.0, 1.004, 1.004, 0.001)["class"] == "global-min"
    assert classify_run(LEVELS, 1.0, 1.5 + 0.9 * t * 0.01, 1.5, 0.01)["class"] == "local-min"
    near_miss = classify_run(LEVELS, 1.0, 1.5 + 1.1 * t * 0.01, 1.5, 0.01)
    assert near_miss["class"] == "still moving"
    # an uncertified level is never a destination
    assert classify_run(LEVELS, 1.0, 1.7, 1.7, 0.001)["class"] == "still moving"
    assert classify_run(LEVELS, 1.0, math.inf, math.inf, math.inf)["class"] == "still moving"


def test_a_trained_run_is_classified_consistently_with_its_final_loss(landscape_of):
    task = Task(d=1, n=5, noise=sp.Rational(1, 4))
    land = landscape_of(task)
    levels = [{"kind": p.kind, "loss": p.loss_bounds(), "certified": p.certified} for p in land.points]
    run = train(NumericTask(d=1, n=5, noise=0.25), TrainingConfig(steps=300, batch=128, eval_samples=6000), 0)
    exact = loss_polynomial(task).value_float([*run.u, *run.M.ravel()])
    verdict = classify_run(levels, float(land.L_star), exact, run.final_loss, run.final_loss_se)
    assert abs(verdict["z"]) < 4.5                      # the MC loss agrees with the exact loss at its weights
    assert verdict["class"] == "global-min"
    assert abs(run.final_loss - float(land.L_star)) <= 2 * verdict["tolerance"]


def test_critical_task_end_to_end():
    spec = TaskSpec("landscape-thm1-d1-n2", Task(d=1, n=2, noise="1/4"), numeric=False, landscape="critical")
    result = run_spec(spec)
    assert result.status == "pass", [c.detail for c in result.checks]
    assert {c.id for c in result.checks} == {"symmetries", "lowest-equals-L-star", "all-certified",
                                             "d1-groebner-agrees"}
    doc = result.as_json()["symbolic"]
    L_star = sp.Rational(1, 4) + sp.Rational(9, 4) / sp.Rational(17, 4)      # s2 + d(d+1+s2)/(n+d+1+s2)
    assert doc["lowest_certified_loss"] == doc["L_star"] == str(L_star)
    kinds = [p["kind"] for p in doc["landscape"]]
    assert kinds.count("global-min") == 2 and all(p["certified"] for p in doc["landscape"])


def test_cubic_monte_carlo_check_and_its_negative_control():
    from derivations.task import Response

    task = Task(d=1, n=5, noise="1/4", response=Response("single-index", link="s^3"))
    assert cubic_mc_check(task, 0, samples=60_000).status == "pass"
    wrong = loss_polynomial(Task(d=1, n=5, noise="1/4"))       # the LINEAR response's loss
    assert cubic_mc_check(task, 0, samples=60_000, loss=wrong).status == "fail"


def test_suite_flag_bad_input_cli():
    proc = subprocess.run([sys.executable, "-m", "verify.all", "--suite", "bogus", "--no-report", "--no-progress"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--suite: must be one of default, landscape, full, got 'bogus'" in lines[0]


@pytest.mark.parametrize("args,fragment", [
    (["--suite", "landscape", "--quick"], "--quick"),
    (["--suite", "full", "--tasks", "x.toml"], "--suite: cannot be combined with --tasks"),
    (["--suite", ""], "--suite: must be one of"),
])
def test_suite_flag_bad_input(args, fragment, capsys):
    from verify.all import main

    assert main([*args, "--no-report", "--no-progress"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and len(out.err.strip().splitlines()) == 1 and fragment in out.err


def test_suite_selection():
    from verify.all import parse_args, suite_specs

    names = [s.name for s in suite_specs(parse_args(["--suite", "landscape"]))]
    assert "landscape-thm1-d2" in names and "training-thm1-d2" in names and "thm1-d2" not in names
    full = [s.name for s in suite_specs(parse_args(["--suite", "full"]))]
    assert set(names) < set(full) and "thm1-d2" in full
    assert [s.name for s in suite_specs(parse_args([]))] == [s.name for s in suite_specs(parse_args(["--suite",
                                                                                                      "default"]))]


@pytest.mark.slow
def test_landscape_suite_cli(tmp_path):
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, "-m", "verify.all", "--suite", "landscape", "--json", str(out),
                           "--report", str(tmp_path / "rep"), "--no-progress"], cwd=ROOT, capture_output=True,
                          text=True, timeout=3000)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (tmp_path / "rep" / "landscape" / "training-thm1-d2_loss_curves.png").exists()


def test_no_numeric_skips_training_and_monte_carlo():
    from derivations.task import Response
    from verify.landscape_suite import training_specs

    result = run_spec(training_specs()[0], numeric=False)
    assert result.status == "n/a" and [c.id for c in result.checks] == ["training"]
    spec = TaskSpec("landscape-cubic-d1", Task(d=1, n=5, noise="1/4", response=Response("single-index", link="s^3")),
                    numeric=False, landscape="critical")
    result = run_spec(spec, numeric=False)
    mc = [c for c in result.checks if c.id == "loss-polynomial-vs-monte-carlo"]
    assert result.status == "pass" and mc[0].status == "n/a"
