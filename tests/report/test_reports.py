"""End to end: TaskResults -> write_reports -> per-task files and one combined onestep.pdf.

One module-scoped run (a Theorem 1 task with Monte Carlo, an all-d proof, a negative control,
a user task named with spaces, the paper's proof with its refuted control) is written and
built once; the tests inspect the output: files, figures, the LaTeX log, the PDF's text.
"""

import shutil
import subprocess
import textwrap

import pytest

from derivations.task import Task
from verify.report import document as D
from verify.report import write_reports
from verify.runner import run_spec
from verify.spec import TaskSpec, report_dir_name
from verify.steps_suite import paper_specs
from verify.taskfile import load_task_file

HAVE_LATEXMK = shutil.which("latexmk") is not None
needs_tex = pytest.mark.skipif(not HAVE_LATEXMK, reason="latexmk is not installed: the PDF build is not tested")
USER = "my task (d=1)"
#: phrases of the old prose-guessing reports that must never come back
PLACEHOLDERS = ("too long to display", "terms per side", "X = X", "REFUTED ... the two")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reports")
    toml = tmp / "tasks.toml"
    toml.write_text(textwrap.dedent(f"""\
        [[task]]
        name = "{USER}"
        d = 1
        n = 6
        noise = "1/2"
        samples = 4000
        """))
    paper = {s.name: s for s in paper_specs()}
    specs = [TaskSpec("thm1-d1", Task(d=1), samples=8000),
             TaskSpec("thm1-all-d", None, alld="theorem1", numeric=False),
             TaskSpec("control-off-by-one-d1", Task(d=1), role="control", control={"kind": "off-by-one"},
                      samples=6000),
             paper["control-paper-off-by-one-step-size"]]
    specs += load_task_file(str(toml))
    results = [run_spec(s, seed=0) for s in specs]
    out = tmp / "reports"
    summary = write_reports(results, out, seed=0, progress=False)
    return out, summary, results


def _pdftext(path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_layout_per_task(built):
    out, summary, results = built
    assert not summary["errors"], summary["errors"]
    for r in results:
        directory = out / report_dir_name(r.spec.name)
        for name in ("steps.tex", "comparison.tex", "task.tex"):
            assert (directory / name).stat().st_size > 100, (r.spec.name, name)
        assert not list(directory.glob(".*.tmp")), "temporary files left behind"
    assert (out / "onestep.tex").exists()
    assert not (out / "README.txt").exists() or not HAVE_LATEXMK


def test_figures_exist_and_are_nonempty(built):
    out, _, _ = built
    for stem in ("gamma", "eta_n", "convergence"):
        f = out / "thm1-d1" / f"{stem}.pdf"
        assert f.exists() and f.stat().st_size > 1000, f
    user = out / report_dir_name(USER)
    assert (user / "gamma.pdf").stat().st_size > 1000
    assert not (out / "thm1-all-d" / "gamma.pdf").exists()


@needs_tex
def test_one_document_builds_with_a_clean_log(built):
    out, summary, _ = built
    build = summary["build"]
    assert build and build["ok"], build
    log = (out / "onestep.log").read_text(encoding="latin-1")
    problems = D.log_problems(log)
    assert problems == [], problems[:5]
    assert (out / "onestep.pdf").stat().st_size > 20_000


@needs_tex
def test_pdf_text(built):
    out, _, _ = built
    text = _pdftext(out / "onestep.pdf")
    for phrase in ("Summary", "thm1-d1", "thm1-all-d", USER, "Normal equations", "Reduction",
                   "negative control", "Verdict: PASS"):
        assert phrase in text, phrase
    for phrase in PLACEHOLDERS:
        assert phrase not in text, phrase
    # eta* = n/(n + sigma^2 + 2) at d = 1: pdftotext writes the denominator as below
    assert "n + σ2 + 2" in text


@needs_tex
def test_refuted_step_shows_its_counterexample(built):
    out, _, results = built
    control = next(r for r in results if r.spec.name == "control-paper-off-by-one-step-size")
    assert control.status == "pass"                  # the control's false step is refuted
    steps = (out / report_dir_name(control.spec.name) / "steps.tex").read_text()
    assert "REFUTED" in steps and "Counterexample" in steps
    assert "agree" not in steps.lower()


def test_without_latexmk_sources_and_readme(built, tmp_path, monkeypatch, capsys):
    _, _, results = built
    monkeypatch.setattr(D, "have_latexmk", lambda: False)
    summary = write_reports([results[1]], tmp_path, progress=True, workers=1)
    assert (tmp_path / "onestep.tex").exists() and not (tmp_path / "onestep.pdf").exists()
    assert "latexmk" in (tmp_path / "README.txt").read_text()
    assert "latexmk not found" in capsys.readouterr().err
    assert summary["build"] is None


def test_result_without_certificate_is_reported(built, tmp_path):
    import copy
    from types import SimpleNamespace

    _, _, results = built
    odd = copy.copy(results[0])
    odd.exact = SimpleNamespace(gamma=None, eta=None, loss=None)
    odd.fit, odd.numeric = None, None
    summary = write_reports([odd], tmp_path, progress=False, workers=1, build=False)
    assert not summary["errors"]
    assert "No exact optimum" in (tmp_path / "thm1-d1" / "task.tex").read_text()
