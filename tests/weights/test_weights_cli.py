"""``python -m verify.weights`` as a subprocess: one line and exit status 2 for every bad input
(nothing written, nothing unpickled), and a working report for good input."""

import json
import os
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
TASK = '[[task]]\nname = "t"\nd = 1\nn = 5\nnoise = "1/4"\n'
GOOD = {"u": [0.0, 1.0], "M": [[0.5], [0.0]]}


class Boom:
    """Unpickling this would run a command: torch.load(weights_only=True) must refuse it."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def _files(tmp: Path, label: str):
    """Write the weights file of a case; returns its path."""
    import torch

    if label == "npz with NaN":
        np.savez(tmp / "w.npz", u=np.array([np.nan, 1.0]), M=np.array([[0.5], [0.0]]))
        return tmp / "w.npz"
    if label == "npz with an object array":
        np.savez(tmp / "w.npz", u=np.array([Boom(tmp / "pwned"), 1.0], dtype=object), M=np.zeros((2, 1)))
        return tmp / "w.npz"
    if label == "pt with a pickled command":
        with open(tmp / "w.pt", "wb") as f:
            pickle.dump({"u": Boom(tmp / "pwned")}, f)
        return tmp / "w.pt"
    if label == "pt that is not a state dict":
        torch.save(torch.zeros(3), tmp / "w.pt")
        return tmp / "w.pt"
    if label == "pt with inf":
        torch.save({"u": torch.tensor([float("inf"), 1.0]), "M": torch.zeros(2, 1)}, tmp / "w.pt")
        return tmp / "w.pt"
    return None


# (label, weights JSON text or None (a file made by _files), extra args, task text, fragment)
CASES = [
    ("json with NaN", '{"u": [NaN, 1], "M": [[0.5], [0]]}', [], TASK, "not a finite number"),
    ("json with Infinity", '{"u": [Infinity, 1], "M": [[0.5], [0]]}', [], TASK, "not a finite number"),
    ("npz with NaN", None, [], TASK, "not a finite number"),
    ("pt with inf", None, [], TASK, "not a finite number"),
    ("npz with an object array", None, [], TASK, "unpickling"),
    ("pt with a pickled command", None, [], TASK, "weights_only"),
    ("pt that is not a state dict", None, [], TASK, "state dict"),
    ("wrong shape", '{"u": [0, 1, 2], "M": [[0.5], [0]]}', [], TASK, "'u': must be 2"),
    ("wrong matrix shape", '{"W_KQ": [[1, 0], [0, 1]], "W_PV": [[1]]}', [], TASK, "'W_PV': must be 2x2"),
    ("unknown key", '{"u": [0, 1], "M": [[0.5], [0]], "bias": [1]}', [], TASK, "unknown key 'bias'"),
    ("unrecognised set", '{"W_K": [[1, 0], [0, 1]], "W_Q": [[1, 0], [0, 1]]}', [], TASK, "cannot recognise"),
    ("two parameterisations", '{"u": [0, 1], "M": [[0.5], [0]], "P": [[1, 0], [0, 1]], "Q": [[1, 0], [0, 1]]}',
     [], TASK, "cannot recognise"),
    ("alias twice", '{"W_KQ": [[1, 0], [0, 1]], "WKQ": [[1, 0], [0, 1]], "W_PV": [[1, 0], [0, 1]]}', [], TASK,
     "two entries"),
    ("not an object", "[1, 2]", [], TASK, "JSON object"),
    ("not JSON", "{u: 1", [], TASK, "not valid JSON"),
    ("boolean entry", '{"u": [true, 1], "M": [[0.5], [0]]}', [], TASK, "expected a number"),
    ("decimal text", '{"u": ["0.5", 1], "M": [[0.5], [0]]}', [], TASK, "not an exact number"),
    ("ragged rows", '{"u": [0, 1], "M": [[0.5, 1], [0]]}', [], TASK, "unequal length"),
    ("sign on paper weights", '{"W_K": [[1, 0], [0, 1]], "W_Q": [[1, 0], [0, 1]], "W_V": [[1, 0], [0, 1]], '
     '"h": [0, 1]}', ["--sign", "1"], TASK, "--sign: applies to"),
    ("sign contradicts the file", '{"P": [[1, 0], [0, 1]], "Q": [[1, 0], [0, 1]], "sign": 1}', ["--sign", "-1"],
     TASK, "contradicts"),
    ("bad sign in the file", '{"P": [[1, 0], [0, 1]], "Q": [[1, 0], [0, 1]], "sign": 2}', [], TASK,
     "'sign' must be 1 or -1"),
    ("sign flag 2", json.dumps(GOOD), ["--sign", "2"], TASK, "--sign"),
    ("residual head without a residual", '{"u": [0, 1], "M": [[0.5], [0]], "r": [1]}', [], TASK, "residual"),
    ("wrong suffix", "txt", [], TASK, "must end in"),
    ("missing weights file", "missing", [], TASK, "no such file"),
    ("two tasks", json.dumps(GOOD), [], TASK + TASK.replace('"t"', '"t2"'), "exactly one"),
    ("symbolic n", json.dumps(GOOD), [], TASK.replace("n = 5\n", ""), "give n and noise"),
    ("nonlinear task", json.dumps(GOOD), [], TASK + 'response = { family = "single-index", link = "tanh(s)" }\n',
     "linear responses only"),
    ("bad task key", json.dumps(GOOD), [], TASK + "sigma = 1\n", "unknown key 'sigma'"),
    # (query among the keys: the general certificate route; a plain d = 12 task is within the limits)
    ("too large", json.dumps(GOOD), [], TASK.replace("d = 1", "d = 12") + "query_in_keys = true\n",
     "exceeds the limit"),
    ("json into a missing directory", json.dumps(GOOD), ["--json", "{tmp}/no/dir/out.json"], TASK, "--json"),
    ("json onto the weights file", json.dumps(GOOD), ["--json", "{tmp}/w.json"], TASK, "is the input file"),
    ("report under a file", json.dumps(GOOD), ["--report", "{tmp}/task.toml/r"], TASK, "--report"),
    ("missing --weights", None, ["--no-weights"], TASK, "required"),
]


def _run(base: Path, index: int):
    label, weights, extra, task, _ = CASES[index]
    tmp = base / f"case{index}"
    tmp.mkdir()
    (tmp / "task.toml").write_text(task)
    if weights == "txt":
        path = tmp / "w.txt"
        path.write_text("{}")
    elif weights == "missing":
        path = tmp / "nope.json"
    elif weights is not None:
        path = tmp / "w.json"
        path.write_text(weights)
    else:
        path = _files(tmp, label)
    args = ["--task", str(tmp / "task.toml")]
    if "--no-weights" not in extra:
        args += ["--weights", str(path)]
    args += [a.replace("{tmp}", str(tmp)) for a in extra if a != "--no-weights"]
    if "--json" not in args:
        args += ["--json", str(tmp / "out.json")]
    before = {p: p.stat().st_mtime_ns for p in tmp.rglob("*")}
    if label in SUBPROCESS:
        proc = subprocess.run([sys.executable, "-m", "verify.weights", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
    else:
        proc = _in_process(args)
    after = {p: p.stat().st_mtime_ns for p in tmp.rglob("*")}
    return proc, before, after, tmp


#: cases also run as a fresh interpreter (the real entry point); the others call main() in-process,
#: which is the same code path without the interpreter start-up
SUBPROCESS = {"json with NaN", "pt with a pickled command", "npz with an object array", "wrong shape",
              "unknown key", "too large", "report under a file", "missing --weights"}


def _in_process(args):
    import contextlib
    import io

    from verify.weights import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as exc:          # argparse's --help / exit paths
            code = exc.code
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    base = tmp_path_factory.mktemp("weights_bad")
    sub = [i for i, c in enumerate(CASES) if c[0] in SUBPROCESS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        ran = dict(zip(sub, pool.map(lambda i: _run(base, i), sub), strict=True))
    return [ran[i] if i in ran else _run(base, i) for i in range(len(CASES))]


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_bad_input(outcomes, index):
    label, *_, fragment = CASES[index]
    proc, before, after, tmp = outcomes[index]
    assert proc.returncode == 2, (label, proc.returncode, proc.stderr[-1500:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, (label, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert fragment.lower() in lines[0].lower(), (label, lines[0])
    assert proc.stdout == ""
    assert after == before
    assert not (tmp / "pwned").exists(), "a pickled command ran"


def test_good_input_writes_the_exact_report(tmp_path):
    (tmp_path / "task.toml").write_text(TASK + "test = { n = 20 }\n")
    (tmp_path / "w.json").write_text(json.dumps({"P": [[0, 0], [0, -1]], "Q": [[0.5, 0], [0, 0]]}))
    proc = subprocess.run([sys.executable, "-m", "verify.weights", "--task", str(tmp_path / "task.toml"),
                           "--weights", str(tmp_path / "w.json"), "--json", str(tmp_path / "out.json"),
                           "--report", str(tmp_path / "rep")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads((tmp_path / "out.json").read_text())
    # Ahn's P with sign -1: u = -(last row of P) = (0, 1), A = 1/2: the GD point eta = 1/2 at d = 1.
    # Its loss by hand (Gaussian, d = 1): eta^2 ((n+1)/n + (1 + s2)/n) - 2 eta + 1 + s2 at n = 5, s2 = 1/4
    assert out["gamma"] == [["1/2"]]
    assert out["loss"] == "49/80"
    assert out["optimal_loss"] == "65/116"              # s2 + d(d+1+s2)/(n+d+1+s2)
    assert out["excess"] == str(Fraction(49, 80) - Fraction(65, 116))
    # test length 20: eta^2 ((21/20) + (5/4)/20) - 2 eta + 5/4
    assert out["test_loss"] == "169/320"
    assert {p.name for p in (tmp_path / "rep").iterdir()} >= {"gamma.pdf", "gamma.png", "summary.tex", "weights.json"}
