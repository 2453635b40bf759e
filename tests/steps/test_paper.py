"""The paper's own proof, shipped as derivation files, and its suite tasks."""

import tomllib

import pytest
import sympy as sp

from derivations.alld.tensor import d
from derivations.exact import exact_equal
from derivations.notation import check_document, load_document
from derivations.symbols import n, s2
from verify.steps_suite import defined_constants, paper_specs, proof_text, run_steps_spec

FILES = ("paper_theorem1.toml", "paper_theorem2.toml")


def checked(filename, overrides=None):
    return check_document(load_document(tomllib.loads(proof_text(filename)), filename, overrides))


def test_theorem1_route_holds_with_its_assumptions_counted():
    result = checked("paper_theorem1.toml")
    status = {r.name: r.status for r in result.steps}
    assert result.holds and not result.fully_proved
    assumed = sorted(k for k, v in status.items() if v == "assumed")
    assert assumed == ["lemma1-bayes-split", "lemma2-paper-form", "tower-property"]
    for key in ("lemma1-loss-as-estimation-error", "lemma3-second-moment", "lemma4-cross-moment",
                "lemma2-reduction", "step-size-paper", "step-size-conventions", "same-predictor",
                "realisability", "optimal-loss", "even-odd-split", "odd-part-orthogonal-to-task"):
        assert status[key] == "proved", key
    s = result.summary()
    assert (s["proved"], s["assumed"], s["refuted"], s["unproved"]) == (14, 3, 0, 0)
    assert s["strength"] == "symbolic-d"


def test_the_two_conventions_are_stated_and_agree():
    """eta_paper (sum over the context) = 1/(n+d+1+s2); eta_onestep (average) = n eta_paper."""
    result = checked("paper_theorem1.toml")
    values = defined_constants(result)
    assert exact_equal(values["eta"], n / (n + d + 1 + s2))
    assert exact_equal(values["loss"], s2 + d * (d + 1 + s2) / (n + d + 1 + s2))
    text = proof_text("paper_theorem1.toml")
    assert 'Xty = "n * avg(y_i * x_i)"' in text and 'g = "avg(y_i * x_i)"' in text


def test_theorem2_change_of_variables_is_fully_proved():
    result = checked("paper_theorem2.toml")
    assert result.fully_proved, [(r.name, r.status, r.detail) for r in result.steps]
    assert {r.name for r in result.steps} >= {"covariates", "task-vector", "labels-unchanged",
                                              "loss-transfer", "preconditioner"}


@pytest.mark.parametrize("overrides, broken", [
    ({"eta": "1 / (n + d + s2)"}, {"step-size-paper", "lemma2-reduction", "optimal-loss"}),
    ({"c1": "n * (n + d + s2)"}, {"lemma3-second-moment"}),
    ({"w_odd": "A^T * avg(x_i * (u_x^T * x_i))"}, {"even-odd-split"}),
    ({"Lstar": "s2 + d * (d + s2) / (n + d + 1 + s2)"}, {"optimal-loss"}),
])
def test_perturbed_definitions_break_exactly_their_steps(overrides, broken):
    result = checked("paper_theorem1.toml", overrides)
    refuted = {r.name for r in result.steps if r.status == "refuted"}
    assert broken <= refuted, refuted
    for r in result.steps:
        if r.status == "refuted":
            assert r.counterexample is not None and r.counterexample.d in (1, 2, 3)


def test_theorem2_with_the_wrong_preconditioner_is_refuted():
    result = checked("paper_theorem2.toml", {"Sigma": "R^T * R"})
    assert {"task-vector", "covariates"} <= {r.name for r in result.steps if r.status == "refuted"}


def test_suite_tasks_pass_and_the_control_is_refuted():
    results = {s.name: run_steps_spec(s) for s in paper_specs()}
    assert all(r.status == "pass" for r in results.values())
    t1 = results["paper-theorem1"]
    assert t1.symbolic["strength"] == "symbolic-d+assumed"
    assert t1.symbolic["assumptions"]["assumed-steps"] == ["lemma1-bayes-split", "tower-property",
                                                           "lemma2-paper-form"]
    assert "3 assumed" in t1.checks[0].detail and "14 proved" in t1.checks[0].detail
    assert sp.sympify(t1.symbolic["eta"], locals={"d": d, "n": n, "s2": s2}) == n / (n + d + 1 + s2)
    assert results["paper-theorem2-change-of-variables"].symbolic["strength"] == "symbolic-d"
    control = results["control-paper-off-by-one-step-size"]
    assert control.spec.role == "control" and "refuted as expected" in control.checks[0].detail
    assert control.as_json()["status"] == "pass"


@pytest.mark.parametrize("filename", FILES)
def test_every_shipped_claim_round_trips_through_the_text_printer(filename):
    from derivations.notation.parse import parse_claim
    from derivations.notation.text import text

    doc = load_document(tomllib.loads(proof_text(filename)))
    for step in doc.steps:
        assert parse_claim(text(step.node), doc.scope) == step.node


@pytest.mark.slow
@pytest.mark.parametrize("filename", FILES + ("example_wishart.toml",))
def test_shipped_reports_build_without_warnings(filename, tmp_path):
    """Every page of the shipped derivations compiles with no error, warning or bad box."""
    import shutil
    import subprocess

    from verify.report.document import log_problems
    from verify.steps_report import write_report

    if not shutil.which("latexmk"):
        pytest.skip("latexmk is not installed")
    result = checked(filename)
    stem = filename.removesuffix(".toml")
    write_report(result, tmp_path, stem, build=False)
    subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
                   cwd=tmp_path, capture_output=True, timeout=300)
    assert (tmp_path / "report.pdf").exists()
    assert log_problems((tmp_path / "report.log").read_text(encoding="latin-1")) == []
