"""A derivation: setup, definitions and steps, checked step by step.

The input is plain data (a dict, e.g. read from TOML by ``python -m verify.steps``)::

    {"title": "...",                       # optional
     "setup": {"d": "symbolic", "n": "symbolic", "s2": "symbolic",
               "matrices": {"Sigma": "spd"}, "vectors": {"w": "N(0, I)"},
               "scalars": {"eps_q": "N(0, s2)"}, "context": {"x_i": "N(0, Sigma)"}},
     "define": {"g": "avg(x_i * x_i^T)"},  # optional, in order
     "step": [{"name": "...", "claim": "lhs = rhs", "justification": "...",
               "assume": False}, ...]}

Every key and every expression is validated by :func:`load_document` before anything is
checked (:class:`~derivations.notation.tree.NotationError`, one line naming the step and
the position). Each step is then decided on its own (:func:`check_document`):

* proved / refuted / unproved as in :mod:`derivations.notation.check`;
* ``assume = true`` (with a justification) marks a step that rests on a rule the engine
  lacks (a conditional expectation, the Bayes estimator): it is reported **assumed** and
  counted separately, never as proved. The engine still tries it: an assumed step that is
  refuted is reported refuted, one that the engine proves is reported proved.

Steps are independent claims; the document does not check that they chain into a proof.

>>> doc = load_document({"setup": {"matrices": {"A": "general"}, "vectors": {"x": "N(0, I)"}},
...                      "step": [{"name": "quadratic", "claim": "E[x^T * A * x] = tr(A)"}]})
>>> check_document(doc).summary()["proved"]
1
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import sympy as sp

from .check import PROVED, REFUTED, UNPROVED, check_claim
from .parse import parse_claim, show
from .scope import Scope
from .tree import NotationError

ASSUMED = "assumed"
STATUSES = (PROVED, REFUTED, UNPROVED, ASSUMED)
TOP_KEYS = ("title", "setup", "define", "step")
SETUP_KEYS = ("d", "n", "s2", "matrices", "vectors", "scalars", "context")
STEP_KEYS = ("name", "claim", "justification", "assume")
MAX_STEPS = 200
MAX_TITLE = 200
MAX_JUSTIFICATION = 2000
STEP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")


@dataclass(frozen=True)
class StepSpec:
    name: str
    text: str
    node: object
    justification: str = ""
    assume: bool = False


@dataclass
class Document:
    title: str
    scope: Scope
    steps: list
    source: str = ""


def _unknown(table: dict, allowed, where: str):
    extra = sorted(set(table) - set(allowed), key=str)
    if extra:
        raise NotationError(f"{where}: unknown key {show(extra[0])} (allowed: {', '.join(allowed)})")


def _plain_text(value, where, limit):
    if not isinstance(value, str):
        raise NotationError(f"{where}: must be text, got {type(value).__name__}")
    if len(value) > limit:
        raise NotationError(f"{where}: longer than {limit} characters")
    if any(ord(ch) < 32 and ch not in "\t\n" or ord(ch) == 127 for ch in value):
        bad = next(ch for ch in value if ord(ch) < 32 and ch not in "\t\n" or ord(ch) == 127)
        raise NotationError(f"{where}: control character {show(bad)} is not allowed")
    return value


def load_document(data, source: str = "", overrides: dict | None = None) -> Document:
    """Validate plain data and parse every expression (NotationError on bad input).

    ``overrides`` replaces definitions by name (used to build negative controls).
    """
    if not isinstance(data, dict):
        raise NotationError("a derivation must be a table")
    _unknown(data, TOP_KEYS, "top level")
    title = _plain_text(data.get("title", ""), "title", MAX_TITLE)
    setup = data.get("setup")
    if not isinstance(setup, dict):
        raise NotationError("setup: a [setup] table is required")
    _unknown(setup, SETUP_KEYS, "setup")
    define = data.get("define", {})
    if not isinstance(define, dict):
        raise NotationError("define: must be a table of name = \"expression\"")
    define = dict(define)
    for name, text in (overrides or {}).items():
        if name not in define:
            raise NotationError(f"override: {show(name)} is not defined")
        define[name] = text
    for name, text in define.items():
        if not isinstance(text, str):
            raise NotationError(f"define.{show(name)}: must be text, got {type(text).__name__}")
    scope = Scope.build(d=setup.get("d"), n=setup.get("n"), s2=setup.get("s2"),
                        matrices=setup.get("matrices"), vectors=setup.get("vectors"),
                        scalars=setup.get("scalars"), context=setup.get("context"),
                        definitions=define)
    raw_steps = data.get("step")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise NotationError("step: at least one [[step]] table is required")
    if len(raw_steps) > MAX_STEPS:
        raise NotationError(f"step: more than {MAX_STEPS} steps ({len(raw_steps)})")
    steps, seen = [], set()
    for k, raw in enumerate(raw_steps, start=1):
        if not isinstance(raw, dict):
            raise NotationError(f"step {k}: must be a table")
        name = raw.get("name")
        if not isinstance(name, str) or not STEP_NAME.match(name):
            raise NotationError(f"step {k}: 'name' is required: letters, digits, '_', '.', '-' "
                                f"(at most 60), got {show(name)}")
        where = f"step {name!r}"
        _unknown(raw, STEP_KEYS, where)
        if name in seen:
            raise NotationError(f"{where}: the name is used twice")
        seen.add(name)
        if "claim" not in raw:
            raise NotationError(f"{where}: 'claim' is required")
        text = raw["claim"]
        if not isinstance(text, str):
            raise NotationError(f"{where}: claim: must be text, got {type(text).__name__}")
        justification = _plain_text(raw.get("justification", ""), f"{where}: justification",
                                    MAX_JUSTIFICATION)
        assume = raw.get("assume", False)
        if not isinstance(assume, bool):
            raise NotationError(f"{where}: assume: must be true or false, got {show(assume)}")
        if assume and not justification.strip():
            raise NotationError(f"{where}: an assumed step needs a justification (what it rests on)")
        node = parse_claim(text, scope, f"{where}: claim")
        steps.append(StepSpec(name, text, node, justification, assume))
    return Document(title, scope, steps, source)


@dataclass
class StepResult:
    spec: StepSpec
    status: str
    detail: str = ""
    method: str = ""
    counterexample: object = None
    engine: dict = field(default_factory=dict)
    strength: str = ""
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.spec.name

    def as_json(self) -> dict:
        out = {"name": self.spec.name, "claim": self.spec.text, "status": self.status,
               "relation": self.spec.node.rel, "detail": self.detail, "method": self.method,
               "justification": self.spec.justification, "assume": self.spec.assume,
               "strength": self.strength, "seconds": round(self.seconds, 3)}
        if self.counterexample is not None:
            out["counterexample"] = counterexample_json(self.counterexample)
        if self.engine:
            from .text import text
            out["engine"] = {side: text(value) for side, value in self.engine.items()}
        return out


def _value_json(v):
    if isinstance(v, (list, tuple)):
        return [_value_json(x) for x in v]
    if isinstance(v, sp.MatrixBase):
        return [[str(x) for x in row] for row in v.tolist()]
    return str(v)


def counterexample_json(cx) -> dict:
    out = {"d": cx.d, "n": cx.n, "s2": None if cx.s2 is None else str(cx.s2),
           "matrices": {k: _value_json(v) for k, v in cx.matrices.items()},
           "vectors": {k: _value_json(v) for k, v in cx.vectors.items()},
           "scalars": {k: str(v) for k, v in cx.scalars.items()},
           "random": {k: _value_json(v) for k, v in cx.data.items()},
           "defined": {k: _value_json(v) for k, v in cx.defined.items()},
           "lhs": _value_json(cx.lhs), "rhs": _value_json(cx.rhs), "text": cx.describe()}
    if cx.lhs_general is not None:
        out["lhs_symbolic"] = _value_json(cx.lhs_general)
        out["rhs_symbolic"] = _value_json(cx.rhs_general)
    return out


@dataclass
class DocumentResult:
    document: Document
    steps: list
    seconds: float = 0.0

    def counts(self) -> dict:
        return {s: sum(r.status == s for r in self.steps) for s in STATUSES}

    @property
    def holds(self) -> bool:
        """No step refuted or unproved (assumed steps allowed)."""
        c = self.counts()
        return c[REFUTED] == 0 and c[UNPROVED] == 0

    @property
    def fully_proved(self) -> bool:
        return all(r.status == PROVED for r in self.steps)

    def summary(self) -> dict:
        c = self.counts()
        return {**c, "total": len(self.steps), "strength": self.document.scope.strength,
                "holds": self.holds, "fully_proved": self.fully_proved,
                "seconds": round(self.seconds, 3)}

    def as_json(self) -> dict:
        return {"title": self.document.title, "source": self.document.source,
                "steps": [r.as_json() for r in self.steps], "summary": self.summary()}

    def to_derivation(self):
        """A :class:`derivations.proof.Derivation` (assumed steps keep the status "assumed").

        Each step displays its claim (the statement tree as written); ``computed`` holds what
        the check found: the engine's value of a side when it is short, or the counterexample
        (every value it sets, then the two sides' values there).
        """
        from ..proof import Derivation, Step

        steps = []
        for r in self.steps:
            status = r.status
            detail = r.detail if r.status != ASSUMED else f"assumed, not checked: {r.spec.justification}"
            cx = r.counterexample if status == REFUTED else None
            computed = counterexample_relations(cx, r.spec.node) if cx is not None else \
                engine_relations(r)
            steps.append(Step(r.spec.name, r.spec.name, "", None, "=", None,
                              r.spec.justification, r.method or ("assumed" if r.status == ASSUMED else ""),
                              status, detail, {"tree": r.spec.node, "status": r.status, "text": r.spec.text,
                                               "counterexample": cx is not None},
                              display=(r.spec.node,), computed=computed))
        return Derivation(self.document.title or self.document.source, steps,
                          conclusion={"strength": self.document.scope.strength, **self.counts()})


#: the engine's value of a side is shown beside a proved claim when it fits in this many lines
MAX_ENGINE_LINES = 3


def engine_relations(result) -> tuple:
    """side = the engine's value, for the short sides of a proved step."""
    from ..proof import Relation
    from .latex import display_lines, latex

    if not result.engine or result.status != PROVED:
        return ()
    node = result.spec.node
    shown = {latex(node.lhs), latex(node.rhs)}
    out = []
    for side, value in result.engine.items():
        tree = node.lhs if side == "lhs" else node.rhs
        # a value that is a side as written, or one already shown, says nothing new
        if latex(value) in shown or len(display_lines(tree, "=", value)) > MAX_ENGINE_LINES:
            continue
        shown.add(latex(value))
        out.append(Relation(tree, "=", value))
    return tuple(out)


def _value(v):
    if isinstance(v, sp.MatrixBase):
        return sp.Matrix(v)
    return sp.sympify(v, strict=True)   # never parses text


def counterexample_relations(cx, node) -> tuple:
    """The counterexample as relations: d, every value it sets, then both sides' values."""
    from ..proof import Relation

    out = [Relation(sp.Symbol("d"), "=", sp.Integer(cx.d))]
    for table in (cx.matrices, cx.vectors, cx.scalars):
        out += [Relation(sp.Symbol(k), "=", _value(v)) for k, v in table.items()]
    # the values at the n and s2 of the counterexample (the JSON also has them as functions of
    # n and s2: long rational functions, not worth a display)
    if cx.n is not None:
        out.append(Relation(sp.Symbol("n"), "=", sp.Integer(cx.n)))
    if cx.s2 is not None:
        out.append(Relation(sp.Symbol("s2"), "=", _value(cx.s2)))
    for k, v in cx.data.items():
        if isinstance(v, (list, tuple)):
            base = k[:-2] if k.endswith("_i") else k
            out += [Relation(sp.Symbol(f"{base}_{j + 1}"), "=", _value(x)) for j, x in enumerate(v)]
        else:
            out.append(Relation(sp.Symbol(k), "=", _value(v)))
    return tuple(out) + (Relation(node.lhs, "=", _value(cx.lhs)), Relation(node.rhs, "=", _value(cx.rhs)))


def check_step(spec: StepSpec, scope) -> StepResult:
    start = time.perf_counter()
    try:
        verdict = check_claim(spec.node, scope)
    except Exception as err:  # noqa: BLE001 - an engine failure is "not decided", never a crash
        from .check import Verdict
        verdict = Verdict(UNPROVED, f"the engine failed: {type(err).__name__}: {err}"[:300], "",
                          strength=scope.strength)
    status, detail = verdict.status, verdict.detail
    if spec.assume:
        if status == UNPROVED:
            status = ASSUMED
            detail = f"assumed: {spec.justification}" + (f" (engine: {verdict.detail})" if verdict.detail else "")
        elif status == PROVED:
            detail = "declared assumed, but the engine proved it"
        else:
            detail = "declared assumed, but it is FALSE: " + detail
    return StepResult(spec, status, detail, verdict.method, verdict.counterexample, verdict.engine,
                      verdict.strength, time.perf_counter() - start)


def check_document(doc: Document, progress=None) -> DocumentResult:
    """Check every step in order; ``progress(k, total, name, result_or_None)`` is called
    before (result None) and after each step."""
    start = time.perf_counter()
    results = []
    for k, spec in enumerate(doc.steps, start=1):
        if progress:
            progress(k, len(doc.steps), spec.name, None)
        result = check_step(spec, doc.scope)
        results.append(result)
        if progress:
            progress(k, len(doc.steps), spec.name, result)
    return DocumentResult(doc, results, time.perf_counter() - start)


__all__ = ["Document", "DocumentResult", "StepResult", "StepSpec", "load_document",
           "check_document", "check_step", "counterexample_json", "ASSUMED", "STATUSES"]
