"""Claims in task files: a true claim passes, a false one is refuted (exit 1, the violated normal
equation shown), a task without a claim is an exploration. Expected values are hand derivations:
Theorem 2 at d = 2, n = 10, s2 = 1/2 gives Gamma* = (10/13.5) Sigma^{-1} = (20/27) Sigma^{-1};
Theorem 1 at d = 1 gives L* = s2 + (2 + s2)/(n + 2 + s2)."""

from pathlib import Path

import pytest
import sympy as sp

from derivations import Task
from derivations.errors import ExactInputError
from verify.claims import parse_user_claim
from verify.runner import exact_side
from verify.taskfile import load_task_file

ROOT = Path(__file__).resolve().parents[2]
THM2 = 'd = 2\nn = 10\nnoise = "1/2"\ncovariance = [[2, 1], [1, 2]]\nprior = "inverse-covariance"\n'


def _run(tmp_path, body):
    path = tmp_path / "t.toml"
    path.write_text(body)
    return exact_side(load_task_file(str(path))[0])[2]


@pytest.mark.parametrize("claim,ok", [
    ('{ form = "preconditioned-gd", eta = "n/(n + d + 1 + s2)" }', True),     # the paper's Theorem 2
    ('{ form = "preconditioned-gd", eta = "20/27" }', True),
    ('{ form = "preconditioned-gd", eta = "n/(n + d + s2)" }', False),        # off by one
    ('{ eta = "20/27" }', False),                                              # eta I is not the optimum
    ('{ form = "preconditioned-gd" }', True),
    ('{ form = "gd" }', False),
    ('{ gamma = [["40/81", "-20/81"], ["-20/81", "40/81"]] }', True),          # (20/27) Sigma^{-1}
    ('{ gamma = [["40/81", "-20/81"], ["-20/81", "41/81"]] }', False),
])
def test_claim_verdicts(tmp_path, claim, ok):
    checks = _run(tmp_path, f'[[task]]\nname = "c"\n{THM2}claim = {claim}\n')
    claim_checks = [c for c in checks if c.id.startswith("claim-")]
    assert len(claim_checks) == 1 and claim_checks[0].passed is ok, claim_checks[0].detail
    if not ok and "gamma" in claim or "eta" in claim and not ok:
        assert "violated normal equation" in claim_checks[0].detail


@pytest.mark.parametrize("loss,ok", [("s2 + (2 + s2)/(n + 2 + s2)", True), ("s2 + (1 + s2)/(n + 2 + s2)", False)])
def test_loss_claim_symbolic(tmp_path, loss, ok):
    checks = _run(tmp_path, f'[[task]]\nname = "c"\nd = 1\nclaim = {{ loss = "{loss}" }}\n')
    assert [c.passed for c in checks if c.id == "claim-loss"] == [ok]


def test_exploration_has_no_claim_checks(tmp_path):
    checks = _run(tmp_path, '[[task]]\nname = "c"\nd = 2\ncovariance = [[2, 1], [1, 2]]\n')
    assert [c.id for c in checks] == ["certificate"]


@pytest.mark.parametrize("table,fragment", [
    ({"eta": 0.5}, "integer or exact text"), ({"eta": "0.5"}, "decimal"), ({"form": "newton"}, "form"),
    ({"eta": "1", "gamma": [[1]]}, "not both"), ({"gamma": [[1, 0]]}, "must be 1x1"), ({"bogus": 1}, "unknown key"),
    ({"eta": "1", "form": "general"}, "eta needs form"), ({}, "must be a table"),
])
def test_bad_claims(table, fragment):
    with pytest.raises(ExactInputError, match=fragment):
        parse_user_claim(table, Task(d=1), "claim")


def test_claim_values_use_the_tasks_n_and_s2():
    c = parse_user_claim({"eta": "n/(n + 2 + s2)"}, Task(d=1, n=4, noise="1/4"), "claim")
    assert c.eta == sp.Rational(16, 25)


def test_refuted_claim_exits_1(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(f'[[task]]\nname = "c"\n{THM2}claim = {{ form = "preconditioned-gd", eta = "n/(n + d + s2)" }}\n')
    from cli_harness import run_main

    from verify.all import main

    proc = run_main(main, ["--tasks", str(path), "--no-numeric", "--no-report", "--no-progress"], cwd=ROOT)
    assert proc.returncode == 1 and "violated normal equation" in proc.stdout


UNSUPPORTED = ('[[task]]\nname = "c"\nd = 2\nn = 10\nnoise = "1/4"\ncovariance = [[2, 1], [1, 2]]\n'
               'response = { family = "single-index", link = "tanh(s)" }\n')


@pytest.mark.parametrize("claim", ["", 'claim = { form = "gd", eta = "1/2" }\n'])
def test_no_exact_route_is_undecided_never_failed(tmp_path, claim):
    """tanh with a non-isotropic Sigma has neither a closed form nor an enclosure: the tool
    cannot decide, which is n/a with the reason -- not a failed certificate or claim."""
    checks = _run(tmp_path, UNSUPPORTED + claim)
    assert checks and all(c.status == "n/a" for c in checks), [(c.id, c.status) for c in checks]
    assert "enclosures are implemented for Sigma = I" in checks[0].detail
    assert [c.id for c in checks] == (["certificate", "claim"] if claim else ["certificate"])


def test_enclosure_route_still_decides(tmp_path):
    """Negative control of the test above: with Sigma = I the same link is enclosed, and a claim
    outside the enclosure is refuted (not n/a)."""
    body = UNSUPPORTED.replace("covariance = [[2, 1], [1, 2]]\n", "") + 'claim = { form = "gd", eta = "1/2" }\n'
    checks = _run(tmp_path, body)
    assert next(c for c in checks if c.id == "certificate").status == "pass"
    eta = next(c for c in checks if c.id == "claim-eta")
    assert eta.status == "fail" and "outside the certified enclosure" in eta.detail
