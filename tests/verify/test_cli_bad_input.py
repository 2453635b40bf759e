"""Bad input: one clear line on stderr, exit status 2, no traceback, nothing written."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

VALID = '[[task]]\nname = "ok"\nd = 1\nn = 4\nnoise = "1/4"\n'

# (label, CLI arguments after the task file option, task-file text or None, expected fragment)
CASES = [
    ("negative seed", ["--seed", "-1"], None, "--seed"),
    ("non-integer seed", ["--seed", "abc"], None, "--seed"),
    ("unknown flag", ["--frobnicate"], None, "unrecognized arguments"),
    ("zero workers", ["--workers", "0"], None, "--workers"),
    ("missing task file", ["--tasks", "{tmp}/nope.toml"], None, "no such file"),
    ("json into missing directory", ["--json", "{tmp}/no/such/dir/out.json"], VALID, "--json"),
    ("unreadable TOML", [], "[[task]\nname = ", "not valid TOML"),
    ("empty file", [], "# nothing\n", "no [[task]] tables"),
    ("non-PD covariance", [], VALID.replace("d = 1", "d = 2") + "covariance = [[1, 2], [2, 1]]\n", "positive definite"),
    ("asymmetric covariance", [], VALID.replace("d = 1", "d = 2") + "covariance = [[2, 1], [0, 2]]\n",
     "not symmetric"),
    ("wrong shape", [], VALID.replace("d = 1", "d = 2") + "covariance = [[1, 0, 0], [0, 1, 0]]\n", "must be 2x2"),
    ("d = 0", [], VALID.replace("d = 1", "d = 0"), "d: must be an integer >= 1"),
    ("n = -1", [], VALID.replace("n = 4", "n = -1"), "n: must be an integer"),
    ("noise = -1", [], VALID.replace('noise = "1/4"', "noise = -1"), "variance must be >= 0"),
    ("noise 1/0", [], VALID.replace('noise = "1/4"', 'noise = "1/0"'), "divides by zero"),
    ("float noise", [], VALID.replace('noise = "1/4"', "noise = 0.25"), "noise"),
    ("huge d", [], VALID.replace("d = 1", "d = 1000000"), "too large"),
    ("unknown key", [], VALID + "sigma = 3\n", "unknown key 'sigma'"),
    ("wrong type for d", [], VALID.replace("d = 1", 'd = "two"'), "'d' must be an integer"),
    ("boolean as n", [], VALID.replace("n = 4", "n = true"), "'n' must be an integer"),
    ("unknown prior", [], VALID + 'prior = "uniform"\n', "prior"),
    ("unknown response family", [], VALID + 'response = { family = "quadratic" }\n', "response.family"),
    ("malicious expression", [], VALID + "response = { family = \"expression\", "
                                       "expr = \"__import__('os').system('touch {tmp}/pwned')\" }\n", "response"),
    ("duplicate names", [], VALID + VALID, "duplicate task name"),
    ("unknown top-level key", [], "[settings]\nx = 1\n" + VALID, "unknown top-level key"),
    ("samples too small", [], VALID + "samples = 5\n", "samples"),
]


@pytest.mark.parametrize("label,args,text,fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input(tmp_path, label, args, text, fragment):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if text is not None:
        task_file = tmp_path / "tasks.toml"
        task_file.write_text(text.replace("{tmp}", str(tmp_path)))
        args = ["--tasks", str(task_file)] + args
    json_path = tmp_path / "out.json"
    report_dir = tmp_path / "reports"
    if "--json" not in args:
        args += ["--json", str(json_path)]
    args += ["--report", str(report_dir), "--no-progress"]
    before = set(tmp_path.rglob("*"))
    proc = subprocess.run([sys.executable, "-m", "verify.all", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, (label, proc.returncode, proc.stderr[-2000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, (label, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert fragment.lower() in lines[0].lower(), (label, lines[0])
    assert proc.stdout == ""
    assert set(tmp_path.rglob("*")) == before, "no output files on bad input"
    assert not (tmp_path / "pwned").exists()
