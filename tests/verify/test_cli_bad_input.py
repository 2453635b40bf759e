"""Bad input: one clear line on stderr, exit status 2, no traceback, no stdout, nothing written.

Every case is a separate process: a representative set starts ``python -m verify.all`` as a
fresh interpreter, the rest run ``verify.all.main`` in a process forked from the tests
(``cli_harness``: same exit status and streams, no interpreter start per case). The too-large
cases are refused before any work starts (the run would otherwise take hours or exhaust memory).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

VALID = '[[task]]\nname = "ok"\nd = 1\nn = 4\nnoise = "1/4"\n'
D2 = VALID.replace("d = 1", "d = 2")


def _si(link, head=VALID):
    return head + f'response = {{ family = "single-index", link = "{link}" }}\n'


def _deep(depth):
    return VALID + "x = " + "[" * depth + "]" * depth + "\n"


def _deep_tables(depth):
    return VALID + "x = " + "{ a = " * depth + "1" + " }" * depth + "\n"


# (label, CLI arguments, task-file text or None, expected fragment of the one error line)
CASES = [
    ("negative seed", ["--seed", "-1"], None, "--seed"),
    ("non-integer seed", ["--seed", "abc"], None, "--seed"),
    ("unknown flag", ["--frobnicate"], None, "unrecognized arguments"),
    ("unknown flag with a newline", ["--a\nb"], None, "unrecognized arguments: --a\\nb"),
    ("zero workers", ["--workers", "0"], None, "--workers"),
    ("missing task file", ["--tasks", "{tmp}/nope.toml"], None, "no such file"),
    ("missing task file with a newline", ["--tasks", "{tmp}/no\npe.toml"], None, "no\\npe"),
    ("json into missing directory", ["--json", "{tmp}/no/such/dir/out.json"], VALID, "--json"),
    ("json into /proc", ["--json", "/proc/x.json"], VALID, "--json: cannot write"),
    ("json is a directory", ["--json", "{tmp}"], VALID, "is a directory"),
    ("json is the task file", ["--json", "{tmp}/tasks.toml"], VALID, "is the input file"),
    ("json empty", ["--json", ""], VALID, "--json: the path is empty"),
    ("json is a symlink", ["--json", "{tmp}/link.json"], VALID, "symbolic link"),
    ("json under a file", ["--json", "{tmp}/tasks.toml/x.json"], VALID, "--json"),
    ("report under a file", ["--report", "{tmp}/tasks.toml/sub"], VALID, "is not a directory"),
    ("report in /proc", ["--report", "/proc/x"], VALID, "--report: cannot write"),
    ("report empty", ["--report", ""], VALID, "--report: the path is empty"),
    ("report is a file", ["--report", "{tmp}/tasks.toml"], VALID, "not a directory"),
    ("report dir holds a file named like the task", ["--report", "{tmp}/rep"], VALID, "would hold the report"),
    ("unreadable TOML", [], "[[task]\nname = ", "not valid TOML"),
    ("empty file", [], "# nothing\n", "no [[task]] tables"),
    ("500 nested arrays", [], _deep(600), "nests arrays or tables too deeply"),
    ("500 nested inline tables", [], _deep_tables(600), "nests arrays or tables too deeply"),
    ("non-PD covariance", [], D2 + "covariance = [[1, 2], [2, 1]]\n", "positive definite"),
    ("asymmetric covariance", [], D2 + "covariance = [[2, 1], [0, 2]]\n", "not symmetric"),
    ("wrong shape", [], D2 + "covariance = [[1, 0, 0], [0, 1, 0]]\n", "must be 2x2"),
    ("d = 0", [], VALID.replace("d = 1", "d = 0"), "d: must be an integer >= 1"),
    ("n = -1", [], VALID.replace("n = 4", "n = -1"), "n: must be an integer"),
    ("noise = -1", [], VALID.replace('noise = "1/4"', "noise = -1"), "variance must be >= 0"),
    ("noise 1/0", [], VALID.replace('noise = "1/4"', 'noise = "1/0"'), "divides by zero"),
    ("float noise", [], VALID.replace('noise = "1/4"', "noise = 0.25"), "noise"),
    ("arabic-indic digits", [], VALID.replace('noise = "1/4"', 'noise = "١/٤"'), "non-ASCII digit"),
    ("full-width digit in a covariance", [], VALID + 'covariance = [["２"]]\n', "non-ASCII digit"),
    ("full-width digit in a link", [], _si("２*s"), "non-ASCII digit"),
    ("huge d", [], VALID.replace("d = 1", "d = 1000000"), "too large"),
    ("unknown key", [], VALID + "sigma = 3\n", "unknown key 'sigma'"),
    ("key with a newline", [], VALID + '"a\\nb" = 1\n', "unknown key 'a\\nb'"),
    ("wrong type for d", [], VALID.replace("d = 1", 'd = "two"'), "'d' must be an integer"),
    ("boolean as n", [], VALID.replace("n = 4", "n = true"), "'n' must be an integer"),
    ("unknown prior", [], VALID + 'prior = "uniform"\n', "prior"),
    ("unknown response family", [], VALID + 'response = { family = "quadratic" }\n', "response.family"),
    ("malicious expression", [], VALID + "response = { family = \"expression\", "
                                       "expr = \"__import__('os').system('touch {tmp}/pwned')\" }\n", "response"),
    ("constant link sin(1)*s", [], _si("sin(1)*s"), "function of a constant"),
    ("constant link s*exp(1)", [], _si("s*exp(1)"), "function of a constant"),
    ("constant link tanh(1)*s", [], _si("tanh(1)*s"), "function of a constant"),
    ("disguised zero divisor", [], _si("s/(sin(1)**2+cos(1)**2-1)"), "function of a constant"),
    ("duplicate names", [], VALID + VALID, "duplicate task name"),
    ("task name with a newline", [], VALID.replace('"ok"', '"a\\nb"'), "'a\\nb' contains control"),
    ("task name with ANSI escapes", [], VALID.replace('"ok"', '"\\u001b[31mred"'), "contains control characters"),
    ("task name too long", [], VALID.replace('"ok"', '"' + "x" * 81 + '"'), "longer than 80"),
    ("names sharing a report directory", [], VALID.replace('"ok"', '"a b"')
     + VALID.replace('"ok"', '"a-b-7dbde935"'), "share the report directory"),
    ("unknown top-level key", [], "[settings]\nx = 1\n" + VALID, "unknown top-level key"),
    ("claim with a float eta", [], VALID + "claim = { eta = 0.5 }\n", "claim.eta"),
    ("claim with an unknown key", [], VALID + "claim = { step = 1 }\n", "claim: unknown key 'step'"),
    ("claim with hostile text", [], VALID + "claim = { loss = \"__import__('os')\" }\n", "claim.loss"),
    ("samples too small", [], VALID + "samples = 5\n", "samples"),
    ("samples as a float", [], VALID + "samples = 1e8\n", "'samples' must be an integer"),
    # covariates and test-time shift keys (issue 16)
    ("unknown covariate law", [], D2 + 'covariates = { law = "cauchy" }\n', "covariates.law"),
    ("covariates not a table", [], D2 + 'covariates = "uniform"\n', "'covariates' must be a table"),
    ("covariates without law", [], D2 + "covariates = { half_width = 1 }\n", "'covariates.law' is required"),
    ("unknown covariates key", [], D2 + 'covariates = { law = "uniform", half_width = 1, shift = 2 }\n',
     "unknown key 'covariates.shift'"),
    ("float half_width", [], D2 + 'covariates = { law = "uniform", half_width = 0.5 }\n', "half_width"),
    ("zero half_width", [], D2 + 'covariates = { law = "uniform", half_width = 0 }\n', "must be a positive"),
    ("missing half_width", [], D2 + 'covariates = { law = "uniform" }\n', "half_width: required"),
    ("fourth moment below variance squared", [],
     D2 + 'covariates = { law = "moments", variance = 2, fourth_moment = 3 }\n', "fourth_moment: must be >="),
    ("moments law with query in keys", [],
     D2 + 'query_in_keys = true\ncovariates = { law = "moments", variance = 1, fourth_moment = 2 }\n', "E[x^6]"),
    ("covariance with a uniform law", [],
     D2 + 'covariance = [[2, 0], [0, 2]]\ncovariates = { law = "uniform", half_width = 1 }\n',
     "covariance: not allowed"),
    ("uniform law with a nonlinear response", [],
     _si("tanh(s)") + 'covariates = { law = "uniform", half_width = 1 }\n', "linear responses only"),
    ("test not a table", [], D2 + "test = 3\n", "'test' must be a table"),
    ("empty test", [], D2 + "test = {}\n", "'test' is empty"),
    ("unknown test key", [], D2 + "test = { m = 3 }\n", "unknown key 'test.m'"),
    ("test n = 0", [], D2 + "test = { n = 0 }\n", "test.n: must be an integer"),
    ("test n a float", [], D2 + "test = { n = 2.5 }\n", "'test.n' must be an integer"),
    ("test noise float", [], D2 + "test = { noise = 0.5 }\n", "'test.noise' must be"),
    ("test noise negative", [], D2 + "test = { noise = -1 }\n", "test.noise: the variance must be >= 0"),
    ("test covariance not PD", [], D2 + "test = { covariance = [[1, 2], [2, 1]] }\n", "test.covariance: not positive"),
    ("test covariance text", [], D2 + 'test = { covariance = "I" }\n', "'test.covariance' must be a matrix"),
    ("test prior unknown", [], D2 + 'test = { prior = "flat" }\n', "test.prior"),
    ("test covariance with a uniform law", [],
     D2 + 'covariates = { law = "uniform", half_width = 1 }\ntest = { covariance = [[2, 0], [0, 2]] }\n',
     "test.covariance: not allowed"),
    ("test with a nonlinear response", [], _si("tanh(s)") + "test = { n = 3 }\n", "linear responses only"),
    ("test n = 10^9", [], VALID + "test = { n = 1000000000 }\n", "exceeds the limit"),
    # work too large for the machine: refused up front, naming the estimate and the limit
    ("n = 10^9", [], VALID.replace("n = 4", "n = 1000000000"), "exceeds the limit"),
    ("n = 10^6", [], VALID.replace("n = 4", "n = 1000000"), "exceeds the limit"),
    ("tanh at d = 32", [], _si("tanh(s)", VALID.replace("d = 1", "d = 32")), "exceeds the limit"),
    ("s**12 at d = 16", [], VALID.replace("d = 1", "d = 16").replace("n = 4\n", "").replace('noise = "1/4"\n', "")
     + 'response = { family = "expression", expr = "s**12" }\n', "exceeds the limit"),
    # (the query among the keys has no Kronecker structure: the general route's Gram matrix; the
    # plain linear d = 12 task takes the structured route and is within the limits)
    ("linear d = 12 exact only", ["--no-numeric"],
     VALID.replace("d = 1", "d = 12").replace("n = 4\n", "").replace('noise = "1/4"\n', "")
     + "query_in_keys = true\n", "exceeds the limit"),
]


def _setup(tmp_path, label):
    if label == "json is a symlink":
        (tmp_path / "target.json").write_text("{}")
        os.symlink(tmp_path / "target.json", tmp_path / "link.json")
    if label == "report dir holds a file named like the task":
        (tmp_path / "rep").mkdir()
        (tmp_path / "rep" / "ok").write_text("not a directory")


#: cases that also start a real interpreter (the rest run in a process forked from the tests:
#: same exit status and streams, without paying the interpreter start each time)
SUBPROCESS = {"unknown flag with a newline", "500 nested arrays", "arabic-indic digits", "malicious expression",
              "constant link sin(1)*s", "n = 10^9"}


def _run_case(tmp_path: Path, index: int):
    """Run one case in its own directory; returns (process, files before, files after)."""
    # imported once here (with SymPy, flint and torch), not again in every forked child
    from cli_harness import run_main

    import derivations.nonlinear  # noqa: F401
    import verify.budget  # noqa: F401
    import verify.io  # noqa: F401
    import verify.runner  # noqa: F401
    import verify.suite  # noqa: F401
    import verify.taskfile  # noqa: F401
    from verify.all import main

    label, args, text, _ = CASES[index]
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if text is not None:
        task_file = tmp_path / "tasks.toml"
        task_file.write_text(text.replace("{tmp}", str(tmp_path)), encoding="utf-8")
        args = ["--tasks", str(task_file)] + args
    _setup(tmp_path, label)
    if "--json" not in args:
        args += ["--json", str(tmp_path / "out.json")]
    if "--report" not in args:
        args += ["--report", str(tmp_path / "reports")]
    args += ["--no-progress"]
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    if label in SUBPROCESS:
        proc = subprocess.run([sys.executable, "-m", "verify.all", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
    else:
        proc = run_main(main, args, cwd=ROOT)
    after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    return proc, before, after


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_bad_input(tmp_path, index):
    label, _, _, fragment = CASES[index]
    proc, before, after = _run_case(tmp_path, index)
    assert proc.returncode == 2, (label, proc.returncode, proc.stderr[-2000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, (label, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "\x1b" not in proc.stderr
    assert fragment.lower() in lines[0].lower(), (label, lines[0])
    assert proc.stdout == ""
    assert after == before, "no output files written or modified on bad input"
    assert not (tmp_path / "pwned").exists()


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    task_file = tmp_path / "tasks.toml"
    task_file.write_bytes("\ufeff".encode() + VALID.encode())
    proc = subprocess.run([sys.executable, "-m", "verify.all", "--tasks", str(task_file), "--no-numeric",
                           "--no-report", "--no-progress"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "1 passed" in proc.stdout


def test_output_files_get_ordinary_permissions(tmp_path):
    task_file = tmp_path / "tasks.toml"
    task_file.write_text(VALID)
    out = tmp_path / "out.json"
    proc = subprocess.run(["sh", "-c", f"umask 022 && {sys.executable} -m verify.all --tasks {task_file} "
                           f"--no-numeric --no-report --no-progress --json {out}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert oct(out.stat().st_mode & 0o777) == oct(0o644)
