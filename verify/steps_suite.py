"""The paper's own proof in the default suite: ``paper-*`` tasks checked step by step.

The derivation files ship in :mod:`verify.proofs` (package data):

* ``paper_theorem1.toml``: Theorem 1 by the paper's route (loss as estimation error, the
  Bayes split, the moment identities of Lemmas 3-4, the reduction of Lemma 2, the step
  size in both conventions), with the conditional-expectation steps marked assumed;
* ``paper_theorem2.toml``: Theorem 2 by the change of variables x = R x', w = R^{-T} w'
  (R any invertible matrix with R R^T = Sigma).

A ``paper-*`` task passes when no step is refuted or unproved; its assumed steps are named
in the check and counted in the JSON (``symbolic.assumptions``). The control task replaces
the step size by the off-by-one n/(n + d + s2) and passes only when a step is refuted.

The runner dispatches ``spec.steps`` tasks to :func:`steps_exact_side`; ``verify.suite``
adds :func:`paper_specs` to the default suite.

>>> [s.name for s in paper_specs()]
['paper-theorem1', 'paper-theorem2-change-of-variables', 'control-paper-off-by-one-step-size']
"""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass
from importlib import resources

from derivations.notation import check_document, load_document

from . import checks as C
from .spec import TaskSpec

PROOFS = "verify.proofs"


#: the form of Gamma* each shipped proof concludes (its eta multiplies I or Sigma^-1)
FORMS = {"paper_theorem1.toml": "gd", "paper_theorem2.toml": "preconditioned-gd"}


def proof_text(filename: str) -> str:
    """The text of a shipped derivation file."""
    return resources.files(PROOFS).joinpath(filename).read_text(encoding="utf-8")


def paper_specs() -> list:
    """The paper-* tasks and their negative control (add them to the default suite)."""
    return [
        TaskSpec("paper-theorem1", None, numeric=False, steps="paper_theorem1.toml",
                 description="Theorem 1 by the paper's own route (Lemmas 1-4), step by step at symbolic d"),
        TaskSpec("paper-theorem2-change-of-variables", None, numeric=False, steps="paper_theorem2.toml",
                 description="Theorem 2 by the change of variables x = R x', w = R^{-T} w' (R R^T = Sigma)"),
        TaskSpec("control-paper-off-by-one-step-size", None, role="control", numeric=False,
                 steps="paper_theorem1.toml",
                 control={"define": {"eta": "1 / (n + d + s2)",
                                     "eta_onestep": "n / (n + d + s2)"}},
                 description="the paper's chain with eta = 1/(n + d + s2): a step must be refuted"),
    ]


@dataclass
class StepsExact:
    """The exact side of a steps task: the checked derivation, for reports and JSON."""

    result: object          # derivations.notation.DocumentResult
    file: str
    show_values: bool = True   # False for a control: its definitions are the false claim

    @property
    def certificate(self):
        return self.result.to_derivation()

    @property
    def conclusion(self) -> dict:
        """strength, and eta / loss when the file defines eta_onestep / Lstar (constants)."""
        out = {"strength": strength_label(self.result)}
        if self.show_values:
            out.update({k: v for k, v in defined_constants(self.result).items() if v is not None})
        return out


def defined_constants(result) -> dict:
    """{"eta": eta_onestep, "loss": Lstar} as SymPy values when the derivation defines them."""
    from derivations.notation.parse import plain_value

    scope = result.document.scope
    out = {}
    for key, name in (("eta", "eta_onestep"), ("loss", "Lstar")):
        node = scope.definitions.get(name)
        out[key] = plain_value(node, scope) if node is not None else None
    return out


def strength_label(result) -> str:
    """symbolic-d / instance, with "+assumed" when some steps are assumed (not checked)."""
    base = result.document.scope.strength
    return base + ("+assumed" if result.counts()["assumed"] else "")


def load(spec: TaskSpec):
    data = tomllib.loads(proof_text(spec.steps))
    overrides = spec.control.get("define") if spec.control else None
    return load_document(data, source=spec.steps, overrides=overrides)


def steps_exact_side(spec: TaskSpec):
    """(exact, symbolic JSON, checks) of a steps task (the runner's ``exact_side``)."""
    result = check_document(load(spec))
    c = result.counts()
    assumed = [r.name for r in result.steps if r.status == "assumed"]
    bad = [f"{r.name} ({r.status})" for r in result.steps if r.status in ("refuted", "unproved")]
    counts = (f"{len(result.steps)} steps: {c['proved']} proved, {c['assumed']} assumed, "
              f"{c['refuted']} refuted, {c['unproved']} unproved")
    if spec.role == "claim":
        detail = counts + (f"; assumed (not checked): {', '.join(assumed)}" if assumed else "")
        detail += f"; NOT proved: {', '.join(bad)}" if bad else ""
        checks = [C.exact_check("steps", result.holds, detail)]
    else:
        refuted = [r for r in result.steps if r.status == "refuted"]
        detail = (counts + "; refuted as expected: "
                  + "; ".join(f"{r.name} at {r.counterexample.describe()}" if r.counterexample else r.name
                              for r in refuted[:2])) if refuted else counts + "; NOTHING refuted"
        checks = [C.exact_check("refuted-exactly", bool(refuted), detail)]
    values = defined_constants(result)
    if spec.role == "control":          # a control's definitions are the false claim: no answer
        values = {"eta": None, "loss": None}
    eta_value, loss_value = values["eta"], values["loss"]
    form = FORMS.get(spec.steps, "gd") if eta_value is not None else "unknown"
    symbolic = {"gamma": None, "eta": None if eta_value is None else str(eta_value),
                "loss": "" if loss_value is None else str(loss_value),
                "form": form,
                "assumptions": {"assumed-steps": assumed},
                "strength": strength_label(result)}
    return StepsExact(result, spec.steps, show_values=spec.role != "control"), symbolic, checks


def run_steps_spec(spec: TaskSpec):
    """A TaskResult for a steps task (what ``verify.runner.run_spec`` returns once wired)."""
    from .runner import TaskResult

    start = time.perf_counter()
    exact, symbolic, checks = steps_exact_side(spec)
    return TaskResult(spec, symbolic, None, checks, {"symbolic": time.perf_counter() - start}, exact)


__all__ = ["paper_specs", "steps_exact_side", "run_steps_spec", "proof_text", "StepsExact",
           "strength_label"]
