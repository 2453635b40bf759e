"""Strength labels never overstate: randomised certificate steps weaken the label and are named.

At d <= 4 every certificate step is an expanded exact identity; from d = 5 the structured route
checks the reductions (and realisability) by exact evaluation at pseudo-random points
(Schwartz-Zippel), and the JSON and the label must say so.
"""

import io

import sympy as sp

from derivations.task import Task
from verify.console import StageProgress
from verify.runner import exact_side
from verify.spec import TaskSpec


def _symbolic(task, name="t"):
    return exact_side(TaskSpec(name, task))[1:]


def test_small_d_is_fully_expanded():
    symbolic, checks = _symbolic(Task(d=2, n=6, noise=sp.Rational(1, 2)))
    assert symbolic["strength"] == "instance"
    assert "randomised_steps" not in symbolic
    assert "randomised" not in next(c for c in checks if c.id == "certificate").detail


def test_randomised_steps_weaken_the_label_and_are_named():
    symbolic, checks = _symbolic(Task(d=5, n=6, noise=sp.Rational(1, 2)))
    assert symbolic["route"] == "structured"
    assert symbolic["strength"] == "instance+randomised"
    assert any(key.startswith("reduction") for key in symbolic["randomised_steps"])
    # a union of Schwartz-Zippel bounds, each degree / 2^63
    assert 0 < symbolic["failure_bound"] < 1e-16
    detail = next(c for c in checks if c.id == "certificate").detail
    assert f"{len(symbolic['randomised_steps'])} of them randomised" in detail


def test_symbolic_n_label_keeps_its_rung_and_the_suffix():
    symbolic, _ = _symbolic(Task(d=5))
    assert symbolic["strength"] == "symbolic-n+randomised"


def test_stage_progress_is_silent_for_quick_certificates():
    quiet, loud = io.StringIO(), io.StringIO()
    for stream, after in ((quiet, 1e9), (loud, 0.0)):
        report = StageProgress("big", after=after, stream=stream)
        report(0, 3, "moments")
        report(3, 3, "done")
    assert quiet.getvalue() == ""
    lines = loud.getvalue().splitlines()
    assert len(lines) == 2
    assert "big: certificate, 0 of 3 stages done, now: moments" in lines[0]
    assert lines[1].endswith("3 of 3 stages done, done")
