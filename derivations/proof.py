"""Proof steps: checked mathematical statements that render to text and LaTeX.

A :class:`Step` is one line of a derivation: a statement, an optional displayed
relation ``lhs <relation> rhs`` (SymPy objects), the justification in words, how it was
checked, and the result of that check. Constructors *perform* the check, so a step
cannot claim more than was verified. A :class:`Derivation` is an ordered list of steps
and holds only when every step is proved.

Users build their own derivations the same way:

>>> import sympy as sp
>>> from derivations.proof import Step, Derivation
>>> n, d = sp.symbols("n d", positive=True)
>>> step = Step.identity("eta", "Step size", lhs=n / (n + d + 1) * (n + d + 1) / n, rhs=1,
...                      justification="cancel the common factor")
>>> step.status
'proved'
>>> Derivation("toy", [step]).holds
True
>>> Step.identity("bad", "Wrong", lhs=n / (n + d), rhs=n / (n + d + 1), justification="").status
'refuted'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sympy as sp

from .exact import as_exact, as_exact_matrix, exact_equal

PROVED, REFUTED, UNPROVED, ASSUMED = "proved", "refuted", "unproved", "assumed"
#: assumed: a step resting on a rule the engine lacks (e.g. a conditional expectation); it is
#: shown with what it rests on, counted separately, and never reported as proved
STATUSES = (PROVED, REFUTED, UNPROVED, ASSUMED)

#: relation names and their LaTeX
RELATIONS = {"=": "=", "<": "<", ">": ">", "<=": r"\le", ">=": r"\ge", "succ": r"\succ", "succeq": r"\succeq",
             "perp": r"\perp", "in": r"\in", "implies": r"\Longrightarrow"}


@dataclass(frozen=True)
class Relation:
    """A displayed mathematical statement ``lhs rel rhs``.

    The sides are mathematical objects, never prose: SymPy expressions, matrices, matrix
    expressions, or statement trees of :mod:`derivations.notation`. :mod:`derivations.printing`
    renders them to LaTeX and to text. ``rhs`` None displays ``lhs`` alone (a value).
    """

    lhs: object
    rel: str = "="
    rhs: object = None

    def __post_init__(self):
        if self.rel not in RELATIONS:
            raise ValueError(f"unknown relation {self.rel!r}; use one of {list(RELATIONS)}")


@dataclass(frozen=True)
class Step:
    """One checked proof step.

    key: short stable identifier ("convex-lift"); title: a few words; statement: the claim in
    plain words -- a string, or a tuple mixing strings and mathematical objects (rendered
    inline); lhs/relation/rhs: the displayed relation (may be None); justification: why it
    holds; method: how onestep checked it; status: "proved", "refuted" (the check ran and
    failed), "unproved" (could not be decided) or "assumed"; detail: the reason on failure
    (e.g. the violated equation) or extra facts; display: every displayed relation of the claim
    (by default the one given by lhs/relation/rhs); computed: values the check found, shown
    beside the claim and never in place of it (e.g. Gamma* as a matrix).
    """

    key: str
    title: str
    statement: str
    lhs: object = None
    relation: str = "="
    rhs: object = None
    justification: str = ""
    method: str = ""
    status: str = UNPROVED
    detail: str = ""
    data: dict = field(default_factory=dict, compare=False, repr=False)
    display: tuple = ()
    computed: tuple = ()

    def __post_init__(self):
        if not self.display and (self.lhs is not None or self.rhs is not None):
            object.__setattr__(self, "display", (Relation(self.lhs, self.relation, self.rhs),))
        for rel in tuple(self.display) + tuple(self.computed):
            # a Relation, or a statement tree's RelationNode (same lhs / rel / rhs)
            if not all(hasattr(rel, a) for a in ("lhs", "rel", "rhs")):
                raise ValueError(f"display and computed hold relations, got {type(rel).__name__}")
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        if self.relation not in RELATIONS:
            raise ValueError(f"unknown relation {self.relation!r}; use one of {list(RELATIONS)}")

    @property
    def proved(self) -> bool:
        return self.status == PROVED

    # --- constructors that check -------------------------------------------------
    @classmethod
    def identity(cls, key, title, lhs, rhs, justification, statement=None,
                 method="exact: numerator of (lhs - rhs) over a common denominator expands to 0",
                 detail_on_failure: Callable | None = None, **extra) -> Step:
        """A step asserting lhs = rhs exactly (scalars or matrices, entrywise).

        lhs and rhs must be exact: SymPy expressions or matrices without floats, or exact numbers
        (int, Fraction). Text and floats raise :class:`~derivations.errors.ExactInputError`: text
        would have to be evaluated, and 0.1 == 1/10 between floats says nothing exact.
        """
        lhs, rhs = _exact_side(lhs, "lhs"), _exact_side(rhs, "rhs")
        ok = exact_equal(lhs, rhs)
        detail = ""
        if not ok:
            detail = detail_on_failure() if detail_on_failure else _difference_text(lhs, rhs)
        return cls(key, title, statement or f"{title}: the two sides agree exactly.", lhs, "=", rhs,
                   justification, method, PROVED if ok else REFUTED, detail, **extra)

    @classmethod
    def checked(cls, key, title, statement, ok: bool | None, justification, method,
                lhs=None, relation="=", rhs=None, detail="", data=None, display=(), computed=()) -> Step:
        """A step whose check was carried out by the caller; ``ok`` None means undecided."""
        status = UNPROVED if ok is None else (PROVED if ok else REFUTED)
        return cls(key, title, statement, lhs, relation, rhs, justification, method, status,
                   detail, data or {}, tuple(display), tuple(computed))

    @classmethod
    def assumed(cls, key, title, statement, rests_on: str, lhs=None, relation="=", rhs=None, data=None) -> Step:
        """A step taken as given: ``rests_on`` names the rule or result it rests on."""
        if not rests_on:
            raise ValueError("an assumed step must say what it rests on")
        return cls(key, title, statement, lhs, relation, rhs, rests_on, "assumed, not checked", ASSUMED,
                   f"assumed: {rests_on}", data or {})

    def with_status(self, status: str, detail: str = "") -> Step:
        return Step(self.key, self.title, self.statement, self.lhs, self.relation, self.rhs,
                    self.justification, self.method, status, detail or self.detail, self.data,
                    self.display, self.computed)

    def __str__(self):
        from .printing import text, text_words

        mark = {PROVED: "ok", REFUTED: "FAIL", UNPROVED: "??", ASSUMED: "assumed"}[self.status]
        line = f"[{mark}] {self.title}: {text_words(self.statement)}"
        shown = "; ".join(text(r) for r in self.display)
        if shown and len(shown) < 200:
            line += f"  [{shown}]"
        if self.detail and self.status != PROVED:
            line += f"\n       reason: {self.detail}"
        return line


def _exact_side(value, field):
    """lhs / rhs of an identity step: exact SymPy scalars or matrices only."""
    if isinstance(value, sp.MatrixBase):
        return as_exact_matrix(value, field)
    return as_exact(value, field)


def _difference_text(lhs, rhs, limit=300) -> str:
    from .exact import canonical
    if isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
        diff = sp.Matrix(lhs) - sp.Matrix(rhs)
        for (i, j), value in zip(((i, j) for i in range(diff.rows) for j in range(diff.cols)), diff, strict=True):
            if not exact_equal(value, 0):
                text = f"entry ({i + 1},{j + 1}) differs by {canonical(value)}"
                return text[:limit]
        return "shapes differ"
    return f"lhs - rhs = {canonical(lhs - rhs)}"[:limit]


@dataclass
class Derivation:
    """An ordered list of checked steps with a conclusion.

    ``holds`` is True when no step is refuted or unproved (assumed steps allowed: the argument
    holds *given* them, and :attr:`assumed` lists them); ``fully_proved`` when every step is
    proved; ``first_failure`` names the step that breaks the argument.
    """

    title: object          # plain words, or rich words (a tuple of words and mathematics)
    steps: list = field(default_factory=list)
    setup: str = ""
    conclusion: dict = field(default_factory=dict)

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        return step

    def extend(self, steps: Iterable[Step]):
        self.steps.extend(steps)

    @property
    def holds(self) -> bool:
        return bool(self.steps) and all(s.status in (PROVED, ASSUMED) for s in self.steps)

    @property
    def fully_proved(self) -> bool:
        return bool(self.steps) and all(s.proved for s in self.steps)

    @property
    def assumed(self) -> list:
        return [s for s in self.steps if s.status == ASSUMED]

    @property
    def first_failure(self) -> Step | None:
        return next((s for s in self.steps if s.status in (REFUTED, UNPROVED)), None)

    def __getitem__(self, key):
        if isinstance(key, int):
            return self.steps[key]
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)

    def __iter__(self):
        return iter(self.steps)

    def __len__(self):
        return len(self.steps)

    def __str__(self):
        verdict = "does NOT hold" if not self.holds else (
            f"holds, assuming {len(self.assumed)} step(s)" if self.assumed else "holds")
        from .printing import text_words

        head = f"{text_words(self.title)}: {verdict}"
        return "\n".join([head] + [f"  {i + 1}. {s}" for i, s in enumerate(self.steps)])
