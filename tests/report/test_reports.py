"""End to end: TaskResults from verify.runner -> write_reports -> LaTeX that compiles.

One module-scoped run (a Theorem 1 task with Monte Carlo, an all-d proof, a negative control,
a user task file) is written and built once; the tests inspect the output.
"""

import shutil
import subprocess
import textwrap

import pytest

from derivations.task import Task
from verify.report import document as D
from verify.report import write_reports
from verify.runner import run_spec
from verify.spec import TaskSpec
from verify.taskfile import load_task_file

HAVE_LATEXMK = shutil.which("latexmk") is not None
needs_tex = pytest.mark.skipif(
    not HAVE_LATEXMK, reason="latexmk is not installed: the PDF build is not tested"
)
FIGURES = ("gamma", "eta_n", "convergence")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reports")
    toml = tmp / "tasks.toml"
    toml.write_text(
        textwrap.dedent("""\
        [[task]]
        name = "my task (d=1)"
        d = 1
        n = 6
        noise = "1/2"
        samples = 4000
        """)
    )
    specs = [
        TaskSpec("thm1-d1", Task(d=1), samples=8000),
        TaskSpec("thm1-all-d", None, alld="theorem1", numeric=False),
        TaskSpec(
            "control-off-by-one-d1",
            Task(d=1),
            role="control",
            control={"kind": "off-by-one"},
            samples=6000,
        ),
    ]
    specs += load_task_file(str(toml))
    results = [run_spec(s, seed=0) for s in specs]
    out = tmp / "reports"
    summary = write_reports(results, out, seed=0, progress=False, clean=False)
    return out, summary, results


def _pdftext(path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed")
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_layout_per_task(built):
    out, summary, results = built
    names = [e["name"] for e in summary["tasks"]]
    assert names == [r.spec.name for r in results]
    for entry in summary["tasks"]:
        directory = out / D.dir_name(entry["name"])
        for name in ("steps.tex", "comparison.tex", "report.tex"):
            assert (directory / name).stat().st_size > 200, (entry["name"], name)
        assert not entry["errors"], entry
        assert not list(directory.glob(".*.tmp")), "temporary files left behind"
    assert (out / "index.tex").exists()
    assert (out / D.dir_name("my task (d=1)") / "steps.tex").exists()


def test_figures_exist_and_are_nonempty(built):
    out, summary, _ = built
    entry = next(e for e in summary["tasks"] if e["name"] == "thm1-d1")
    assert not entry["figure_errors"]
    for stem in FIGURES:
        for ext in ("pdf", "png"):
            f = out / "thm1-d1" / f"{stem}.{ext}"
            assert f.exists() and f.stat().st_size > 1000, f
    # the user task has a Monte Carlo fit: Gamma heatmap and convergence
    # (n is fixed: no eta(n) curve)
    user = out / D.dir_name("my task (d=1)")
    assert (user / "gamma.pdf").stat().st_size > 1000 and (
        user / "convergence.png"
    ).stat().st_size > 1000
    assert not (out / "thm1-all-d" / "gamma.pdf").exists()


@needs_tex
def test_every_report_compiles_without_undefined_references(built):
    out, summary, _ = built
    for entry in summary["tasks"]:
        build = entry["build"]
        assert build and build["ok"], (entry["name"], build)
        directory = out / D.dir_name(entry["name"])
        log = (directory / "report.log").read_text(encoding="latin-1")
        assert "undefined" not in log.lower(), entry["name"]
        assert "\n! " not in log, entry["name"]
        assert (directory / "report.pdf").stat().st_size > 10_000
    assert summary["index"]["ok"] and (out / "index.pdf").exists()
    assert "undefined" not in (out / "index.log").read_text(encoding="latin-1").lower()


@needs_tex
def test_theorem1_pdf_has_steps_and_closed_form(built):
    out, _, _ = built
    text = _pdftext(out / "thm1-d1" / "report.pdf")
    for title in (
        "Normal equations",
        "Convex lift",
        "Symmetry split",
        "Realisability",
        "Uniqueness",
        "Reduction (paper, plain)",
        "Exact versus Monte Carlo",
        "The optimum",
    ):
        assert title in text, title
    # eta* = n/(n + sigma^2 + 2): the denominator as pdftotext writes it,
    # and 40/49 at n = 10, s2 = 1/4
    assert "n + σ2 + 2" in text
    assert "0.816327" in text
    assert "PASS" in text and "REFUTED" not in text


@needs_tex
def test_all_d_and_control_reports(built):
    out, _, _ = built
    alld = _pdftext(out / "thm1-all-d" / "report.pdf")
    for title in (
        "Second moment of g",
        "Normal equations",
        "Completed square",
        "No Monte Carlo comparison",
    ):
        assert title in alld, title
    assert "d + n + σ2 + 1" in alld
    control = _pdftext(out / "control-off-by-one-d1" / "report.pdf")
    assert "negative control" in control and "refuted-exactly" in control
    index = _pdftext(out / "index.pdf")
    for name in ("thm1-d1", "thm1-all-d", "control-off-by-one-d1", "my task (d=1)"):
        assert name in index


def test_without_latexmk_sources_and_readme(built, tmp_path, monkeypatch, capsys):
    _, _, results = built
    monkeypatch.setattr(D, "have_latexmk", lambda: False)
    summary = write_reports([results[1]], tmp_path, progress=False, workers=1)
    directory = tmp_path / "thm1-all-d"
    assert (directory / "report.tex").exists() and not (directory / "report.pdf").exists()
    assert "latexmk" in (directory / "README.txt").read_text()
    assert "latexmk not found" in capsys.readouterr().err
    assert summary["tasks"][0]["build"] is None


def test_unknown_exact_object_is_handled(built, tmp_path):
    _, _, results = built
    import copy
    from types import SimpleNamespace

    odd = copy.copy(results[0])
    odd.exact = SimpleNamespace(gamma=None, eta=None, certificate=None)
    odd.fit = None
    odd.numeric = None
    summary = write_reports([odd], tmp_path, progress=False, workers=1, build=False)
    assert not summary["tasks"][0]["errors"]
    steps = (tmp_path / "thm1-d1" / "steps.tex").read_text()
    assert "No proof steps are available" in steps
