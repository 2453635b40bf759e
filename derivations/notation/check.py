"""The verdict on one claim: proved, refuted (with a counterexample) or unproved.

The kernel checks (the only ways to *prove*):

* ``=`` without randomness outside E[...]: both sides reduce to the same canonical form of
  the all-d engine (index-level Isserlis, delta contraction, canonical chains and traces,
  exactly cancelling coefficients) -- valid for every d, n, s2 and every matrix of the
  declared kinds (:mod:`derivations.alld.canonical`);
* ``=`` with random variables left (a pointwise identity): the same, with the random values
  as vectors and the context averages split into distinct-index sums
  (:mod:`derivations.alld.pointwise`) -- valid for every value of the random variables;
* ``succeq`` / ``succ``: a positivity certificate of lhs - rhs
  (:func:`derivations.alld.positivity.certify_order`);
* with a fixed d (d <= 3): exact identity of rational functions in the matrix entries
  (symbolic entries, symmetric where declared so), a decision at that d only.

Otherwise a deterministic search (:mod:`derivations.alld.search`) looks for explicit values
where the claim fails: found -> refuted; not found -> unproved. A claim the engine cannot
even state (an E[...] of an opaque variable, the inverse of a random matrix) is unproved
with the reason.

>>> from derivations.notation.scope import Scope
>>> from derivations.notation.parse import parse_claim
>>> s = Scope.build(matrices={"A": "general"}, vectors={"x": "N(0, I)"})
>>> check_claim(parse_claim("E[x^T * A * x] = tr(A)", s), s).status
'proved'
>>> v = check_claim(parse_claim("E[x * x^T * A * x * x^T] = 2 * A + tr(A) * I", s), s)
>>> v.status, v.counterexample.describe()
('refuted', 'd = 2, A = [[1, 1], [0, 1]]: lhs = [[4, 1], [1, 4]], rhs = [[4, 2], [0, 4]]')
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import sympy as sp

from ..alld.canonical import Canonical
from ..alld.pointwise import Pointwise
from ..alld.positivity import certify_order
from ..alld.search import Atoms, find_counterexample, positivity_failure, random_environment
from ..alld.tensor import d as D
from ..exact import exact_equal
from .scope import builtin_symbol
from .to_tensor import Bridge, Undecidable, is_random
from .tree import AvgNode, ExpectNode, InverseNode, walk

PROVED, REFUTED, UNPROVED = "proved", "refuted", "unproved"

METHOD_CANONICAL = ("all-d engine: both sides reduce to the same canonical form (index-level "
                    "Isserlis, delta contraction, canonical chains and traces, exact coefficients)")
METHOD_POINTWISE = ("all-d engine, pointwise: random values kept as vectors, averages split into "
                    "distinct-index sums; the canonical forms are equal")
METHOD_POSITIVE = ("positivity certificate on the canonical form of lhs - rhs (congruences of "
                   "positive-definite atoms with nonnegative coefficients)")
METHOD_SEARCH = ("exact evaluation at explicit values found by a deterministic search (d = 1, 2, "
                 "3; small-integer matrices of the declared kinds, simplest first)")
#: (n, s2) tried when a claim's abbreviations must be evaluated (instead of symbolic n, s2)
CONCRETE_N_S2 = ((1, 0), (2, 1), (3, 0))
#: fixed-d identity tests with symbolic entries are run up to this d
MAX_SYMBOLIC_ENTRIES_D = 3


@dataclass
class Verdict:
    status: str
    detail: str = ""
    method: str = ""
    counterexample: object = None
    engine: dict = field(default_factory=dict)     # side -> the engine's SymPy form of that side
    strength: str = ""


def _fix_d(form, value):
    if value is None:
        return form
    coeffs = {k: sp.cancel(sp.sympify(c).xreplace({D: value})) for k, c in form.coeffs.items()}
    return type(form)(coeffs, form.order)


class _Attempt:
    """Both sides in the engine's canonical form, and what a search needs to know."""

    def __init__(self, node, scope, opaque=()):
        self.scope = scope
        self.bridge = Bridge(scope, opaque)
        lt, rt = self.bridge.tensor(node.lhs), self.bridge.tensor(node.rhs)
        self.pointwise = is_random(lt) or is_random(rt)
        n = builtin_symbol("n", scope)
        if self.pointwise:
            try:
                self.lhs, self.rhs = Pointwise.of(lt, n), Pointwise.of(rt, n)
            except ValueError as err:
                raise Undecidable(str(err)) from None
        else:
            self.lhs, self.rhs = Canonical.of(lt), Canonical.of(rt)
        self.lhs, self.rhs = _fix_d(self.lhs, scope.d), _fix_d(self.rhs, scope.d)

    def atoms(self) -> Atoms:
        s, bridge = self.scope, self.bridge
        names = self.lhs.atoms() | self.rhs.atoms()
        for name in bridge.atoms:
            names |= bridge.definition_canonical(name).atoms()
        matrices = {a[1]: s.matrices[a[1]] for a in names if a[0] == "mat" and a[1] in s.matrices}
        vectors = sorted(a[1] for a in names if a[0] == "vec" and a[1] in s.vectors)
        constants = {sp.Symbol(k, real=True): k for k, law in s.scalars.items() if law.kind == "constant"}
        free = set()
        for form in (self.lhs, self.rhs):
            for c in form.coeffs.values():
                free |= sp.sympify(c).free_symbols
        scalars = {constants[sym]: sym for sym in free if sym in constants}
        random_vars = {}
        if self.pointwise:
            used = self.lhs.random_names() | self.rhs.random_names()
            for table, shape in (("vectors", "vector"), ("scalars", "scalar")):
                for k, law in getattr(s, table).items():
                    if law.kind != "constant" and k in used:
                        random_vars[k] = (shape, "shared")
            for k, law in s.context.items():
                if k in used:
                    random_vars[k] = ("vector" if law.covariance.shape == "matrix" else "scalar",
                                      "example")
        return Atoms(matrices=matrices, inverted=set(bridge.inverted), vectors=vectors,
                     scalars=scalars, definitions={k: bridge.definition_value(k) for k in sorted(bridge.atoms)},
                     random=random_vars)

    def engine_forms(self, node) -> dict:
        """The engine's form of each side that E/avg/inv changed (for display beside the claim)."""
        if self.pointwise:
            return {}
        out = {}
        for side, tree, form in (("lhs", node.lhs, self.lhs), ("rhs", node.rhs, self.rhs)):
            if any(isinstance(x, (ExpectNode, AvgNode, InverseNode)) for x in walk(tree)):
                out[side] = form.to_sympy()
        return out


def check_claim(node, scope, search: bool = True) -> Verdict:
    """Decide one claim (a RelationNode) in its scope (see the module doc)."""
    try:
        attempt = _Attempt(node, scope)
    except Undecidable as err:
        return Verdict(UNPROVED, f"outside the engine: {err}", "", strength=scope.strength)
    verdict = _decide(attempt, node, search=False)
    if verdict.status == PROVED:
        return verdict
    if attempt.bridge.atoms:
        # the defined matrices that occur inverted, kept as atoms on both sides
        try:
            second = _Attempt(node, scope, opaque=attempt.bridge.atoms)
        except Undecidable:
            second = None
        if second is not None:
            again = _decide(second, node, search=False)
            if again.status == PROVED:
                again.detail = (f"{', '.join(sorted(attempt.bridge.atoms))} kept as one matrix "
                                "(its definition is not expanded)")
                return again
    return _decide(attempt, node, search) if search else verdict


def _decide(attempt: _Attempt, node, search: bool) -> Verdict:
    scope = attempt.scope
    strength = scope.strength
    lhs, rhs = attempt.lhs, attempt.rhs
    engine = attempt.engine_forms(node)
    if node.rel == "=":
        if lhs == rhs:
            method = METHOD_POINTWISE if attempt.pointwise else METHOD_CANONICAL
            if scope.d is not None:
                method += f" (d = {scope.d} substituted)"
            return Verdict(PROVED, "", method, engine=engine, strength=strength)
        differ = None
        pd = None
    else:
        pd = certify_order(lhs - rhs, attempt.bridge.positive_definite())
        if pd == "pd" or (pd == "psd" and node.rel == "succeq"):
            return Verdict(PROVED, f"lhs - rhs is certified positive {'definite' if pd == 'pd' else 'semidefinite'}",
                           METHOD_POSITIVE, engine=engine, strength=strength)
        differ = positivity_failure(strict=node.rel == "succ")
    if not search:
        return Verdict(UNPROVED, "", "", engine=engine, strength=strength)
    atoms = attempt.atoms()
    dims = (1, 2, 3) if scope.d is None else (scope.d,)
    # abbreviations with a symbolic n would be inverted as rational functions: use numbers
    grid = CONCRETE_N_S2 if atoms.definitions and (scope.n is None or scope.s2 is None) else None
    try:
        cx = find_counterexample(lhs, rhs, atoms, dims=dims, n_fixed=scope.n, differ=differ,
                                 n_s2_grid=grid)
    except (KeyError, ValueError, ZeroDivisionError, TypeError) as err:
        return Verdict(UNPROVED, f"the search for a counterexample failed: {type(err).__name__}: {err}",
                       "", engine=engine, strength=strength)
    if cx is not None:
        if node.rel != "=":
            kind = "definite" if node.rel == "succ" else "semidefinite"
            cx.reason = f"lhs - rhs is not positive {kind}"
            return Verdict(REFUTED, f"lhs - rhs is not positive {kind} at " + cx.describe(),
                           METHOD_SEARCH, cx, engine, strength)
        return Verdict(REFUTED, "the two sides differ at " + cx.describe(), METHOD_SEARCH, cx, engine, strength)
    if scope.d is not None and node.rel == "=" and not attempt.pointwise:
        fixed = _fixed_d_identity(attempt, atoms, scope.d)
        if fixed is not None:
            return Verdict(fixed[0], fixed[1], fixed[2], fixed[3], engine, strength)
    size = len(lhs - rhs)
    where = "d = 1, 2, 3" if scope.d is None else f"d = {scope.d}"
    what = "the canonical forms differ" if node.rel == "=" else "no positivity certificate"
    return Verdict(UNPROVED, f"{what} ({size} terms of lhs - rhs) and no counterexample was found "
                   f"at {where}", "", engine=engine, strength=strength)


def _symbolic_env(atoms: Atoms, dim: int) -> dict:
    env = {}
    for name, kind in atoms.matrices.items():
        if kind == "general":
            env[name] = sp.Matrix(dim, dim, lambda i, j, k=name: sp.Symbol(f"{k}_{i + 1}{j + 1}"))
        else:
            env[name] = sp.Matrix(dim, dim, lambda i, j, k=name:
                                  sp.Symbol(f"{k}_{min(i, j) + 1}{max(i, j) + 1}"))
    for name in atoms.vectors:
        env[name] = sp.Matrix(dim, 1, lambda i, j, k=name: sp.Symbol(f"{k}_{i + 1}"))
    for name, make in atoms.definitions.items():
        env[name] = make(env, dim, {})
    return env


def _fixed_d_identity(attempt, atoms: Atoms, dim: int):
    """(status, detail, method, counterexample) from symbolic entries at a fixed d, or None."""
    if dim > MAX_SYMBOLIC_ENTRIES_D:
        return None
    env = _symbolic_env(atoms, dim)
    lv, rv = attempt.lhs.evaluate(env, dim), attempt.rhs.evaluate(env, dim)
    method = f"exact identity of rational functions in the matrix entries at d = {dim}"
    if exact_equal(lv, rv):
        return PROVED, "", method, None
    rng = random.Random(dim)
    for _ in range(200):
        values, subs = random_environment(atoms, dim, rng)
        if values is None:
            continue
        cx = find_counterexample(attempt.lhs, attempt.rhs, atoms, dims=(dim,), fixed_env=(values, subs))
        if cx is not None:
            return REFUTED, "the two sides differ at " + cx.describe(), METHOD_SEARCH, cx
    return None


__all__ = ["Verdict", "check_claim", "PROVED", "REFUTED", "UNPROVED"]
