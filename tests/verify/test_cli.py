"""Drive ``python -m verify.all`` as a new user would (subprocess)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

ROOT = Path(__file__).resolve().parents[2]


def run(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "verify.all", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def check_shape(doc):
    """The documented JSON shape (README, issue 7)."""
    assert set(doc) == {"tasks", "summary"}
    summary = doc["summary"]
    assert isinstance(summary["passed"], int) and isinstance(summary["failed"], int)
    assert isinstance(summary["seconds"], float)
    for t in doc["tasks"]:
        assert {"name", "spec", "symbolic", "numeric", "checks", "status"} <= set(t)
        assert t["status"] in ("pass", "fail")
        sym = t["symbolic"]
        assert isinstance(sym["gamma"], list) and all(isinstance(x, str) for row in sym["gamma"] for x in row)
        assert sym["eta"] is None or isinstance(sym["eta"], str)
        assert isinstance(sym["loss"], str)
        assert sym["form"] in ("gd", "preconditioned-gd", "general", "unknown")
        assert isinstance(sym["assumptions"], dict)
        assert sym["strength"] in ("instance", "symbolic-n", "symbolic-d", "symbolic-sigma", "enclosure")
        if t["numeric"] is not None:
            num = t["numeric"]
            for key in ("gamma", "gamma_se"):
                assert all(isinstance(x, float) for row in num[key] for x in row)
            assert isinstance(num["loss"], float) and isinstance(num["loss_se"], float)
            assert isinstance(num["samples"], int) and isinstance(num["seconds"], float)
        for c in t["checks"]:
            assert set(c) == {"id", "status", "z", "detail"}
            assert c["status"] in ("pass", "fail")
            assert c["z"] is None or isinstance(c["z"], float)
        # exact values are SymPy-parsable (all-d results name the matrix symbols Sigma, Omega)
        d = sp.Symbol("d", integer=True, positive=True)
        names = {"Sigma": sp.MatrixSymbol("Sigma", d, d), "Omega": sp.MatrixSymbol("Omega", d, d), "d": d}
        sp.parse_expr(sym["loss"], local_dict=names) if sym["loss"] else None
        if sym["eta"] is not None:
            sp.parse_expr(sym["eta"], local_dict=names)


def test_help_describes_everything():
    proc = run("--help")
    assert proc.returncode == 0
    for flag in ("--quick", "--seed", "--json", "--report", "--no-numeric", "--tasks"):
        assert flag in proc.stdout


def test_quick_suite_passes_and_json_is_deterministic(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    first = run("--quick", "--json", str(a), "--no-report", "--seed", "3")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    second = run("--quick", "--json", str(b), "--no-report", "--seed", "3")
    assert second.returncode == 0

    def strip(doc):
        doc["summary"].pop("seconds")
        doc["summary"].pop("stage_seconds", None)
        for t in doc["tasks"]:
            t.pop("timings", None)
            if t["numeric"]:
                t["numeric"].pop("seconds")
        return doc
    da, db = json.loads(a.read_text()), json.loads(b.read_text())
    check_shape(da)
    assert strip(da) == strip(db)
    names = [t["name"] for t in da["tasks"]]
    assert any(x.startswith("control-") for x in names) and any(x.startswith("thm1-") for x in names)


@pytest.mark.slow
def test_default_suite_passes(tmp_path):
    out = tmp_path / "all.json"
    proc = run("--json", str(out), "--no-report", timeout=1200)
    assert proc.returncode == 0, proc.stdout[-4000:]
    doc = json.loads(out.read_text())
    check_shape(doc)
    assert doc["summary"]["failed"] == 0
    prefixes = {t["name"].split("-")[0] for t in doc["tasks"]}
    assert {"thm1", "thm2", "ext", "control"} <= prefixes


def test_task_file_theorem2_and_omega_identity(tmp_path):
    (tmp_path / "t.toml").write_text(
        '[[task]]\nname = "my-thm2"\nd = 2\ncovariance = [[2, 1], [1, "3/2"]]\nprior = "inverse-covariance"\n'
        '[[task]]\nname = "my-omega-i"\nd = 2\nn = 12\nnoise = "1/2"\ncovariance = [[2, 1], [1, "3/2"]]\n')
    out = tmp_path / "r.json"
    proc = run("--tasks", str(tmp_path / "t.toml"), "--json", str(out), "--no-report", "--no-numeric")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(out.read_text())
    check_shape(doc)
    t2, t3 = doc["tasks"]
    n, s2 = sp.symbols("n s2")
    sigma = sp.Matrix([[2, 1], [1, sp.Rational(3, 2)]])
    gamma2 = sp.Matrix([[sp.sympify(x, locals={"n": n, "s2": s2}) for x in row] for row in t2["symbolic"]["gamma"]])
    assert t2["symbolic"]["form"] == "preconditioned-gd"
    assert sp.simplify(gamma2 - n / (n + 3 + s2) * sigma.inv()) == sp.zeros(2, 2)
    assert t3["symbolic"]["form"] == "general"
    gamma3 = sp.Matrix([[sp.Rational(x) for x in row] for row in t3["symbolic"]["gamma"]])
    expected = (sp.Rational(13, 12) * sigma + (sp.trace(sigma) + sp.Rational(1, 2)) / 12 * sp.eye(2)).inv()
    assert gamma3 == expected


def test_control_fails_when_it_should(tmp_path):
    """A true claim run as a control would not be refuted: the verifier must then fail."""
    code = (
        "import sys; from verify.spec import TaskSpec; from verify.runner import run_spec;"
        "from derivations import Task;"
        "r = run_spec(TaskSpec('control-not-false', Task(d=1), role='control', "
        "control={'kind': 'perturbed-optimum', 'delta': '0'}), numeric=True);"
        "print(r.status, [c.status for c in r.checks])"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("fail")
