"""``python -m verify.steps``: exit codes, output lines, JSON, reports, bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from verify.steps import main

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
title = "Wishart and a quadratic form"
[setup]
d = "symbolic"
n = "symbolic"
matrices = { Sigma = "spd", Omega = "spd", A = "general" }
vectors = { x = "N(0, Sigma)" }
context = { x_i = "N(0, Sigma)" }
[define]
S = "avg(x_i * x_i^T)"
[[step]]
name = "wishart"
claim = "E[S * Omega * S] = ((n + 1)/n) * Sigma * Omega * Sigma + (tr(Omega * Sigma)/n) * Sigma"
justification = "split the double sum into i = j and i != j; Isserlis"
[[step]]
name = "quadratic"
claim = "E[x^T * A * x] = tr(A * Sigma)"
"""

BAD_STEP = """
[[step]]
name = "wishart-general"
claim = "E[S * A * S] = ((n + 1)/n) * Sigma * A * Sigma + (tr(A * Sigma)/n) * Sigma"
"""

ASSUMED_STEP = """
[[step]]
name = "assumed-one"
claim = "E[x * x^T] succeq 0"
assume = true
justification = "a covariance is positive semidefinite"
[[step]]
name = "assumed-two"
claim = "E[tr(S)] = tr(Sigma) * tr(Omega)"
assume = true
justification = "wrong, and found so"
"""


def write(tmp_path, text, name="d.toml", mode="w"):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_true_derivation_exits_0(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    out_json = tmp_path / "out.json"
    code, out, err = run([path, "--json", out_json], capsys)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "proved    wishart" and lines[1] == "proved    quadratic"
    assert lines[-1].startswith("2 steps: 2 proved, 0 assumed, 0 refuted, 0 unproved (symbolic d")
    doc = json.loads(out_json.read_text())
    assert [s["status"] for s in doc["steps"]] == ["proved", "proved"]
    assert set(doc["steps"][0]) >= {"name", "claim", "status", "detail"}
    assert doc["summary"]["proved"] == 2 and doc["summary"]["strength"] == "symbolic-d"


def test_a_refuted_step_exits_1_with_its_counterexample_on_one_line(tmp_path, capsys):
    path = write(tmp_path, GOOD + BAD_STEP)
    code, out, err = run([path], capsys)
    assert code == 1
    line = next(x for x in out.splitlines() if x.startswith("refuted"))
    assert line.startswith("refuted   wishart-general: d = 2, ")
    assert "A = [[1, 1], [0, 1]]" in line and "lhs = " in line and "rhs = " in line
    assert "1 refuted" in out.splitlines()[-1] and "does NOT hold" in out.splitlines()[-1]


def test_assumed_steps_exit_0_unless_strict(tmp_path, capsys):
    text = GOOD + ASSUMED_STEP.split("[[step]]\nname = \"assumed-two\"")[0]
    path = write(tmp_path, text.replace("claim = \"E[x * x^T] succeq 0\"", "claim = \"E[x * x^T] = Sigma + 0 * I\""))
    code, out, _ = run([path], capsys)
    assert code == 0 and "1 proved" not in out       # the "assumed" one is proved by the engine
    opaque = GOOD.replace('vectors = { x = "N(0, Sigma)" }', 'vectors = { x = "N(0, Sigma)", v = "opaque" }') + """
[[step]]
name = "rests-on-a-rule"
claim = "E[v] = 0"
assume = true
justification = "v is centred"
"""
    path = write(tmp_path, opaque, "o.toml")
    code, out, _ = run([path], capsys)
    assert code == 0 and "assumed   rests-on-a-rule (rests on: v is centred)" in out
    assert "1 assumed" in out.splitlines()[-1] and "with its assumptions" in out.splitlines()[-1]
    code, out, _ = run([path, "--strict"], capsys)
    assert code == 1 and "does NOT hold" in out


def test_a_false_assumption_is_refuted(tmp_path, capsys):
    path = write(tmp_path, GOOD + ASSUMED_STEP)
    code, out, _ = run([path], capsys)
    assert code == 1
    assert "refuted   assumed-two: d = 1" in out


def test_a_byte_order_mark_is_accepted(tmp_path, capsys):
    path = write(tmp_path, b"\xef\xbb\xbf" + GOOD.encode(), mode="wb")
    code, _, err = run([path], capsys)
    assert code == 0, err


def test_report_tex_shows_statuses_and_the_counterexample(tmp_path, capsys):
    path = write(tmp_path, GOOD + BAD_STEP, "my derivation.toml")
    code, _, err = run([path, "--report", tmp_path / "rep", "--no-pdf"], capsys)
    assert code == 1
    tex = (tmp_path / "rep" / "my_derivation.tex").read_text()
    assert r"\onestepfail{REFUTED}" in tex and r"\emph{Counterexample:}" in tex
    assert r"\label{eq:my_derivation:wishart-general}" in tex
    assert r"\begin{pmatrix}1 & 1\\0 & 1\end{pmatrix}" in tex
    assert "agree" not in tex.lower()
    assert r"\mathbb{E}\left[S \Omega S\right]" in tex
    assert (tmp_path / "rep" / "report.tex").read_text().count(r"\input{my_derivation}") == 1


def _files(tmp_path):
    return sorted(p.name for p in tmp_path.rglob("*"))


def _bad_cases(tmp_path):
    good = write(tmp_path, GOOD, "good.toml")
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    os.symlink(tmp_path / "afile", tmp_path / "link.json")

    def f(name, text):
        return write(tmp_path, text, name)

    return [
        ([tmp_path / "missing.toml"], "no such file"),
        ([tmp_path / "adir"], "not a file"),
        ([""], "FILE: empty path"),
        ([f("latin1.toml", "")], None),      # placeholder, replaced below
        ([f("bad.toml", "[setup\n")], "not valid TOML"),
        ([f("deep.toml", "a = " + "[" * 600 + "]" * 600)], "TOML nested too deeply"),
        ([f("hostile.toml", GOOD + '[[step]]\nname = "h"\nclaim = "x.__class__ = 1"\n')],
         "step 'h': claim: unexpected character '.' at position 1"),
        ([f("dunder.toml", GOOD + '[[step]]\nname = "h"\nclaim = "__import__(os) = 1"\n')],
         "unexpected character '_' at position 0"),
        ([f("unknown.toml", GOOD + '[[step]]\nname = "h"\nclaim = "Sgima = Sigma"\n')],
         "step 'h': claim: unknown name 'Sgima' at position 0"),
        ([f("shape.toml", GOOD + '[[step]]\nname = "h"\nclaim = "x * Sigma = x"\n')],
         "step 'h': claim: cannot multiply a vector by a matrix at position 2"),
        ([f("pow.toml", GOOD + '[[step]]\nname = "h"\nclaim = "Sigma^1000000 = Sigma"\n')],
         "exponent must be an integer in 0..8"),
        ([f("nest.toml", GOOD + '[[step]]\nname = "h"\nclaim = "' + "(" * 10000 + "n" + ")" * 10000 + ' = n"\n')],
         "longer than 4000 characters"),
        ([f("mb.toml", GOOD + '[[step]]\nname = "h"\nclaim = "' + "n+" * 500_000 + 'n = n"\n')],
         "longer than 4000 characters"),
        ([f("digits.toml", GOOD.replace('n = "symbolic"', 'n = "\u0662"'))], "non-ASCII digit '\\u0662'"),
        ([f("ansi.toml", GOOD + '[[step]]\nname = "a\\u001b[31mb"\nclaim = "n = n"\n')], "'a\\x1b[31mb'"),
        ([f("newline.toml", GOOD.replace("A = \"general\"", "\"A\\nB\" = \"general\""))], "'A\\nB' is not a valid name"),  # noqa: E501
        ([good, "--json", ""], "--json: the path is empty"),
        ([good, "--report", ""], "--report: the path is empty"),
        ([good, "--json", tmp_path / "adir"], "is a directory"),
        ([good, "--json", tmp_path / "nodir" / "x.json"], "directory does not exist"),
        ([good, "--json", good], "is the input file"),
        ([good, "--json", "/proc/x.json"], "--json: cannot write"),
        ([good, "--json", tmp_path / "link.json"], "is a symbolic link"),
        ([good, "--report", tmp_path / "afile"], "exists and is not a directory"),
        ([good, "--report", tmp_path / "afile" / "deeper"], "is not a directory"),
        ([good, "--bogus"], "unrecognized arguments: --bogus"),
    ]


def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys):
    cases = _bad_cases(tmp_path)
    latin = tmp_path / "latin1.toml"
    latin.write_bytes(b"title = \"caf\xe9\"\n")
    cases[3] = ([latin], "not UTF-8 text")
    before = _files(tmp_path)
    for args, message in cases:
        code, out, err = run(args, capsys)
        assert code == 2, (args, err)
        assert out == "", args
        assert err.startswith("error: ") and err.count("\n") == 1, (args, err)
        assert message in err, (message, err)
        assert "Traceback" not in err
    assert _files(tmp_path) == before


@pytest.mark.parametrize("extra, code", [([], 0), (["--strict"], 0)])
def test_subprocess_exit_codes_and_json(tmp_path, extra, code):
    path = write(tmp_path, GOOD)
    out_json = tmp_path / "o.json"
    proc = subprocess.run([sys.executable, "-m", "verify.steps", str(path), "--json", str(out_json), *extra],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == code, proc.stderr
    assert json.loads(out_json.read_text())["summary"]["total"] == 2


def test_subprocess_bad_input_has_no_traceback(tmp_path):
    path = write(tmp_path, GOOD + '[[step]]\nname = "h"\nclaim = "x.__class__.__mro__ = 1"\n')
    proc = subprocess.run([sys.executable, "-m", "verify.steps", str(path), "--json", str(tmp_path / "o.json")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "o.json").exists()


def test_subprocess_refuted_exits_1(tmp_path):
    path = write(tmp_path, GOOD + BAD_STEP)
    proc = subprocess.run([sys.executable, "-m", "verify.steps", str(path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 1 and "refuted   wishart-general" in proc.stdout


@pytest.mark.slow
def test_report_pdf_builds_without_warnings(tmp_path):
    from verify.report.document import log_problems

    path = write(tmp_path, GOOD + BAD_STEP)
    rep = tmp_path / "rep"
    proc = subprocess.run([sys.executable, "-m", "verify.steps", str(path), "--report", str(rep)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 1
    if "latexmk not found" in proc.stderr:
        pytest.skip("latexmk is not installed")
    assert (rep / "report.pdf").exists(), proc.stderr
    assert "warnings" not in proc.stderr
    subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "report.tex"], cwd=rep,
                   capture_output=True, timeout=300)
    assert log_problems((rep / "report.log").read_text(encoding="latin-1")) == []


def test_slow_steps_show_progress_on_stderr(tmp_path, capsys, monkeypatch):
    import verify.steps as cli

    monkeypatch.setattr(cli, "SLOW_STEP_SECONDS", 0.0)
    path = write(tmp_path, GOOD)
    code, out, err = run([path], capsys)
    assert code == 0
    assert "checking wishart" in err and "checking" not in out


def test_an_engine_failure_is_unproved_not_a_crash(tmp_path, capsys, monkeypatch):
    import derivations.notation.document as document

    def boom(*args, **kwargs):
        raise RuntimeError("simulated")
    monkeypatch.setattr(document, "check_claim", boom)
    path = write(tmp_path, GOOD)
    code, out, _ = run([path], capsys)
    assert code == 1
    assert "unproved  wishart: the engine failed: RuntimeError: simulated" in out
