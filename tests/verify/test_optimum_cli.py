"""``python -m verify.optimum`` and the summary table show the answer itself.

Expected values by hand: Theorem 1 at d = 2 has eta* = n/(n + 3 + s2); for the dense covariance
below (Omega = I, n = 10, s2 = 1/2) Gamma* = (((n+1)/n) Sigma + ((tr Sigma + s2)/n) I)^{-1}.
"""

import json
import subprocess
import sys
from pathlib import Path

import sympy as sp

from derivations import Task
from verify.console import measured, table
from verify.runner import run_spec
from verify.spec import TaskSpec

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args, fresh=False):
    """The CLI in its own process: forked from the tests, or (fresh) a new interpreter."""
    if fresh:
        return subprocess.run([sys.executable, "-m", "verify.optimum", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
    from cli_harness import run_main

    from verify.optimum import main

    return run_main(main, list(args), cwd=ROOT)


def test_theorem1_answer_in_the_terminal():
    proc = _cli("--d", "2", fresh=True)
    assert proc.returncode == 0, proc.stderr
    assert "Gamma* = eta* I" in proc.stdout and "eta*   = n/(n + s2 + 3)" in proc.stdout


def test_latex_output():
    proc = _cli("--d", "2", "--latex")
    assert proc.returncode == 0
    assert r"\eta^\star = \frac{n}{n + \sigma^2 + 3}" in proc.stdout


def test_dense_covariance_gamma_entries(tmp_path):
    sigma = sp.Matrix([[2, 1, 0], [1, 2, 0], [0, 0, 1]])
    n, s2 = 10, sp.Rational(1, 2)
    gamma = (sp.Rational(n + 1, n) * sigma + (sigma.trace() + s2) / n * sp.eye(3)).inv()
    out = tmp_path / "o.json"
    proc = _cli("--d", "3", "--covariance", "[[2,1,0],[1,2,0],[0,0,1]]", "--prior", "identity",
                "--noise", "1/2", "--n", "10", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    for entry in set(gamma):
        assert str(entry) in proc.stdout
    record = json.loads(out.read_text())
    assert record["symbolic"]["gamma"] == [[str(x) for x in row] for row in gamma.tolist()]


def test_bad_input_one_line():
    proc = _cli("--d", "2", "--covariance", "[[1,2],[2,1]]")
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "positive definite" in proc.stderr
    proc = _cli("--d", "2", "--covariance", "__import__('os')")
    assert proc.returncode == 2 and "--covariance" in proc.stderr


def test_summary_table_shows_eta_and_monte_carlo():
    result = run_spec(TaskSpec("thm1-d2", Task(d=2), samples=6000), seed=0, numeric=True)
    text = table([result])
    assert "eta I, eta = n/(n + s2 + 3)" in text
    assert "+-" in text and "(exact 0.7547)" in text        # 10/(10 + 3 + 1/4) = 40/53 = 0.75471...


def test_measured_digits():
    assert measured(0.76012, 0.00531) == "0.7601 +- 0.0053"
    assert measured(12.3456, 0.21) == "12.35 +- 0.21"
