"""Theorem 3's hypotheses, named as the paper names them, each decided exactly (or undecided).

Four statements about the task (Sigma, Omega, the response f(x; w), w ~ N(0, Omega)):

* ``rotation``: Sigma = I, Omega = c I and f(Qx; Qw) = f(x; w) for every proper rotation Q in
  SO(d). Then the law of the random function f is SO(d)-invariant. (O(d) = SO(d) plus one
  reflection; they differ only through ``reflection`` below and at d = 1, where SO(1) = {1}.)
* ``sign``: the law of f equals the law of -f (the paper's p(f) = p(-f)).
* ``reflection``: f(-x; -w) = f(x; w) for all x, w (onestep's variant; with centred x and w it
  makes the law of f invariant under x -> -x).
* ``assumption-1``: the paper's Assumption 1, rotation invariance and p(f) = p(-f).

What each buys. The odd features of the convex lift (F_abc = (1/n) sum_i x_ia x_ib x_qc,
F_c = (1/n) sum_i y_i^2 x_qc, the variant features) meet the target and the GD block only
through E_f[m_f], E_f[E_x(f^2) m_f], E_f[E_x(f^3 x)] (vectors) and E_f[T_f],
T_f = E_x[x (x) x (x) x f(x)] (a fully symmetric 3-tensor), times deltas. Hence:

* sign symmetry kills them all (each is odd in (f, eps)), at every d;
* reflection kills them all (each is odd in x), at every d;
* SO(d) invariance alone kills them for d >= 2 (:func:`odd_invariants_step`): no nonzero
  vector and no nonzero *symmetric* 3-tensor is SO(d)-invariant (the Levi-Civita symbol is
  invariant at d = 3 but antisymmetric); at d = 1, SO(1) is trivial and e.g. y = x1^3 keeps an
  odd feature correlated with the target (tested);
* SO(d) invariance makes C = E[g g^T] and B = E[y_q x_q g^T], both symmetric, multiples of I
  (:func:`scalar_matrix_step`), so Gamma* = eta I.

The lemmas are checked exactly with the even signed permutation matrices (det = +1), a finite
subgroup of SO(d): invariance under SO(d) implies invariance under them, and already they
leave no nonzero invariant. The check is an exact orbit computation at the task's d for
d <= 8; beyond, the case argument (its group elements act on at most 4 coordinates, so the
computation is the same as in R^4 or R^5) is checked at d = 4 and 5.

>>> from derivations.task import Task, Response
>>> h = classify(Task(d=2, response=Response("single-index", link="relu(s)")))
>>> h.holds("rotation"), h.holds("sign"), h.holds("reflection"), h.holds("assumption-1")
(True, False, True, False)
>>> h.relation, h.rests_on
('extends', 'rotation')
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import combinations_with_replacement

import sympy as sp
from flint import arb, ctx

from ..engine import expectation
from ..moments import GaussianVector
from ..proof import Relation, Step
from ..task import Task
from .parse import S, relu
from .responses import ResponseModel, response_model

STATEMENTS = {
    "rotation": "Sigma = I, Omega = c I and f(Qx; Qw) = f(x; w) for every Q in SO(d): the law "
                "of f is rotation invariant",
    "sign": "the law of f equals the law of -f (p(f) = p(-f))",
    "reflection": "f(-x; -w) = f(x; w) for all x, w (onestep's reflection variant)",
    "assumption-1": "the paper's Assumption 1: the law of f is rotation invariant and "
                    "p(f) = p(-f)",
}


@dataclass(frozen=True)
class Hypothesis:
    """One named hypothesis: holds True (proved), False (refuted) or None (undecided)."""

    key: str
    holds: bool | None
    how: str

    @property
    def statement(self) -> str:
        return STATEMENTS[self.key]

    def as_json(self) -> dict:
        return {"holds": self.holds, "statement": self.statement, "how": self.how}


@dataclass
class Hypotheses:
    """The four hypotheses of a task, what the GD-form conclusion rests on, and the verdict word.

    relation: "confirms" (the paper's Assumption 1 holds), "extends" (GD form follows from
    onestep's weaker hypotheses: rotation at d >= 2, rotation and reflection at d = 1),
    "outside" (no hypothesis that implies GD form holds); rests_on: "assumption-1",
    "rotation", "rotation+reflection" or "" (outside).
    """

    d: int
    items: dict = field(default_factory=dict)

    def holds(self, key) -> bool | None:
        return self.items[key].holds

    @property
    def rests_on(self) -> str:
        if self.holds("assumption-1"):
            return "assumption-1"
        if self.holds("rotation") and self.d >= 2:
            return "rotation"
        if self.holds("rotation") and self.holds("reflection"):
            return "rotation+reflection"
        return ""

    @property
    def relation(self) -> str:
        return {"assumption-1": "confirms", "": "outside"}.get(self.rests_on, "extends")

    def as_json(self) -> dict:
        out = {k: v.as_json() for k, v in self.items.items()}
        out["rests_on"] = self.rests_on
        out["relation"] = self.relation
        return out


def _and(a, b):
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def classify(task: Task, model: ResponseModel | None = None) -> Hypotheses:
    """Decide the four hypotheses for ``task``."""
    model = model or response_model(task)
    rot = check_rotation(task, model)
    sgn = check_sign(task, model)
    ref = check_reflection(task, model)
    a1 = Hypothesis("assumption-1", _and(rot.holds, sgn.holds),
                    f"rotation: {_word(rot.holds)}; sign symmetry: {_word(sgn.holds)}")
    return Hypotheses(task.d, {"assumption-1": a1, "rotation": rot, "sign": sgn,
                               "reflection": ref})


def _word(value) -> str:
    return {True: "holds", False: "fails", None: "undecided"}[value]


# --- rotation ----------------------------------------------------------------------------------

def isotropic_scale(matrix) -> sp.Expr | None:
    """c when matrix == c I, else None."""
    c = matrix[0, 0]
    return c if sp.Matrix(matrix) == c * sp.eye(matrix.rows) else None


def lie_derivatives(model: ResponseModel):
    """L_ij f = sum over both vectors of (v_i d/dv_j - v_j d/dv_i) f, for i < j: f is
    SO(d)-invariant (SO(d) is connected) exactly when every L_ij f vanishes identically."""
    xs, ws = model.xs, model.ws
    f = model.f.replace(lambda e: isinstance(e, relu), lambda e: sp.Max(0, e.args[0])) \
        if model.f.has(relu) else model.f
    out = []
    for i in range(model.d):
        for j in range(i + 1, model.d):
            L = sum((v[i] * sp.diff(f, v[j]) - v[j] * sp.diff(f, v[i]) for v in (xs, ws)),
                    sp.Integer(0))
            out.append(((i + 1, j + 1), sp.expand(L)))
    return out


def check_rotation(task: Task, model: ResponseModel) -> Hypothesis:
    if task.Sigma != sp.eye(task.d):
        return Hypothesis("rotation", False, "covariates are not isotropic: Sigma is not I")
    c = isotropic_scale(task.Omega)
    if c is None:
        return Hypothesis("rotation", False, f"prior Omega = {task.Omega.tolist()} is not a "
                                             "multiple of I")
    if task.d == 1:
        return Hypothesis("rotation", True, "SO(1) = {1}: trivially invariant (says nothing)")
    if model.family == "two-layer-relu" or model.link is not None:
        return Hypothesis("rotation", True, "structural: f depends on (x, w) only through inner "
                          "products v^T x, and (Qv)^T (Qx) = v^T x; Sigma = I, Omega = c I")
    nonzero = [(ij, L) for ij, L in lie_derivatives(model) if L != 0]
    if not nonzero:
        return Hypothesis("rotation", True, "exact: every infinitesimal rotation generator "
                          "annihilates f (L_ij f expands to 0), and SO(d) is connected")
    (i, j), L = nonzero[0]
    if L.is_polynomial(*model.xs, *model.ws):
        return Hypothesis("rotation", False, f"exact: the rotation generator in the ({i},{j}) "
                          f"plane gives L f = {L} != 0")
    point = _witness_nonzero(L, model)
    if point:
        return Hypothesis("rotation", False, f"interval arithmetic: L_{i}{j} f != 0 at {point}")
    return Hypothesis("rotation", None, "undecided: non-polynomial expression")


# --- reflection ------------------------------------------------------------------------------

def check_reflection(task: Task, model: ResponseModel) -> Hypothesis:
    if model.family == "two-layer-relu":
        return Hypothesis("reflection", True, "structural: relu(v_j^T x) is unchanged by "
                                              "(x, v) -> (-x, -v)")
    if model.link is not None:
        return Hypothesis("reflection", True, "structural: f depends on (x, w) only through "
                                              "s = w^T x, unchanged by (x, w) -> (-x, -w)")
    flipped = model.response_at([-v for v in model.xs], [-v for v in model.ws])
    diff = sp.expand(flipped - model.f)
    if diff == 0:
        return Hypothesis("reflection", True, "exact: f(-x; -w) - f(x; w) expands to 0")
    if model.polynomial:
        return Hypothesis("reflection", False, f"exact: f(-x; -w) - f(x; w) = {diff}")
    point = _witness_nonzero(diff, model)
    if point:
        return Hypothesis("reflection", False, f"interval arithmetic: f(-x; -w) != f(x; w) at "
                                               f"{point}")
    return Hypothesis("reflection", None, "undecided: non-polynomial expression")


# --- sign symmetry -------------------------------------------------------------------------------

def _parity(expr, var=S) -> int:
    flipped, e = sp.expand(expr.xreplace({var: -var})), sp.expand(expr)
    if flipped == -e:
        return -1
    return 1 if flipped == e else 0


def check_sign(task: Task, model: ResponseModel) -> Hypothesis:
    """p(f) = p(-f). Proved structurally (odd link, or f(x; -w) = -f(x; w) exactly, since w is
    a centred Gaussian); refuted by an odd moment of f(x) at a fixed x that is nonzero (exact
    polynomial moments, or a ball excluding 0): if f =_d -f every odd moment of f(x) vanishes."""
    if model.family == "two-layer-relu":
        return Hypothesis("sign", True, "structural: the output weights a_j ~ N(0, 1) are "
                                        "symmetric, and a -> -a maps f to -f")
    if model.link is not None:
        if _parity(model.link) == -1:
            return Hypothesis("sign", True, "structural: the link is odd (g(-s) = -g(s) exactly) "
                                            "and w -> -w maps f to -f (w centred Gaussian)")
        variance = task.Omega[0, 0]             # s = w^T e_1 ~ N(0, Omega_11) at x = e_1
        for k in (1, 3):
            value = _link_moment(model.link, k, variance)
            if value is not None and not value.contains(0):
                return Hypothesis("sign", False, f"E[g(s)^{k}] = {value.str(8)} != 0 for "
                                  f"s = w^T e_1 ~ N(0, {variance}) (rigorous ball): f(e_1) is "
                                  "not symmetric")
        return Hypothesis("sign", None, "undecided: the link is not odd and its first and third "
                                        "moments are not shown nonzero")
    flipped = model.response_at(list(model.xs), [-v for v in model.ws])
    if sp.expand(flipped + model.f) == 0:
        return Hypothesis("sign", True, "exact: f(x; -w) = -f(x; w) and w is a centred Gaussian")
    if model.polynomial:
        w = GaussianVector("w", task.d, task.Omega)
        ws = dict(zip(model.ws, w.coords, strict=True))
        for k in (1, 3):
            moment = sp.expand(expectation(sp.expand(model.f.xreplace(ws) ** k), [w]))
            if moment != 0:
                return Hypothesis("sign", False, f"exact: E_w[f(x; w)^{k}] = {moment} is not the "
                                                 "zero polynomial in x")
    return Hypothesis("sign", None, "undecided: f(x; -w) != -f(x; w) and no odd moment shown "
                                    "nonzero")


def _link_moment(link, k, variance):
    """E[g(s)^k], s ~ N(0, variance), as a rigorous ball (acb.integral on |t| <= 12, the tail
    by the growth bound of g^k), or None when the link cannot be evaluated."""
    from fractions import Fraction

    from flint import acb

    from .enclosure import _poly_moment, growth_bounds
    from .highprec import UnsupportedLink, arb_value, compile_acb, dyadic
    old = ctx.prec
    try:
        ctx.dps = 30
        comp = compile_acb(link ** k)
        sd = arb_value(sp.sqrt(sp.Rational(variance)))
        gauss = 1 / (2 * arb.pi()).sqrt()
        # in u = sd t the kinks are fixed: integrate g(u)^k phi(u / sd) / sd over |u| <= 12 sd
        U = Fraction(int(12 * float(sd.mid())) + 1)
        total = acb(0)
        for a, b, signs in comp.pieces(-U, U, split_at_zero=True):
            def f(u, an, sg=signs):
                return comp.fn(u, an, sg) * gauss * (-(u * u) / (2 * sd * sd)).exp() / sd
            total += acb.integral(f, dyadic(a), dyadic(b), rel_tol=arb(10) ** -20)
        bound = growth_bounds(link ** k)[0]
        # |u| > U: sum_j b_j int_U^oo u^j e^{-u^2/(2 sd^2)} du / (sd sqrt(2 pi)), both sides
        tail = 2 * gauss / sd * _poly_moment(bound, 0, 1 / (2 * sd * sd), dyadic(U))
        return total.real + arb(0, tail.upper())
    except UnsupportedLink:
        return None
    finally:
        ctx.prec = old


# --- witnesses of nonzero values (interval arithmetic) ---------------------------------------------

def _witness_nonzero(expr, model: ResponseModel, tries: int = 5, seed: int = 0):
    """A rational point where ``expr`` is provably nonzero (arb ball excludes 0), or None."""
    from .highprec import UnsupportedLink, arb_value
    rng = random.Random(seed)
    symbols = list(model.xs) + list(model.ws)
    for _ in range(tries):
        point = {v: sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for v in symbols}
        old = ctx.prec
        try:
            ctx.dps = 30
            ball = arb_value(expr.xreplace(point))
        except UnsupportedLink:
            continue
        finally:
            ctx.prec = old
        if ball.is_finite() and not ball.contains(0):
            return {str(k): str(v) for k, v in point.items()}
    return None


# --- the invariance lemmas -----------------------------------------------------------------------

def _generators(d: int):
    """Generators of the even signed permutation group (det +1), as signed permutations
    (perm, signs) meaning e_b -> signs[b] e_perm[b]: pair flips (e_i -> -e_i, e_j -> -e_j) and
    signed swaps (e_i -> e_j, e_j -> -e_i)."""
    out = []
    for i in range(d):
        for j in range(i + 1, d):
            perm, signs = list(range(d)), [1] * d
            signs[i] = signs[j] = -1
            out.append((tuple(perm), tuple(signs)))
            perm, signs = list(range(d)), [1] * d
            perm[i], perm[j] = j, i
            signs[j] = -1
            out.append((tuple(perm), tuple(signs)))
    return out


def invariant_dimension(d: int, order: int) -> int:
    """Dimension of the symmetric order-``order`` tensors on R^d fixed by every even signed
    permutation (so an upper bound for the SO(d)-invariant ones), exactly.

    A symmetric tensor is a homogeneous polynomial; a signed permutation maps each monomial to
    +- another monomial, so the invariants are spanned by orbit sums, one per orbit on which no
    group element maps a monomial to minus itself (found by following the generators).

    >>> [invariant_dimension(3, k) for k in (1, 2, 3)]     # vectors, matrices, 3-tensors
    [0, 1, 0]
    """
    gens = _generators(d)
    seen: dict = {}
    count = 0
    for start in combinations_with_replacement(range(d), order):
        if start in seen:
            continue
        seen[start] = 1
        stack, consistent = [start], True
        while stack:
            mono = stack.pop()
            sign = seen[mono]
            for perm, signs in gens:
                image = tuple(sorted(perm[i] for i in mono))
                s = sign
                for i in mono:
                    s *= signs[i]
                if image not in seen:
                    seen[image] = s
                    stack.append(image)
                elif seen[image] != s:
                    consistent = False
        count += consistent
    return count


def _lemma_dims(d: int):
    """(vectors, symmetric 3-tensors, symmetric matrices) invariant dimensions, exact at d <= 8;
    beyond, the case argument's elements touch at most 4 coordinates: d = 4 and 5 stand in."""
    if d <= 8:
        return invariant_dimension(d, 1), invariant_dimension(d, 3), invariant_dimension(d, 2)
    small = [invariant_dimension(k, 1) + invariant_dimension(k, 3) for k in (4, 5)]
    return (0 if not any(small) else None), (0 if not any(small) else None), \
        (1 if invariant_dimension(4, 2) == 1 and invariant_dimension(5, 2) == 1 else None)


def _lemma_words(text):
    from ..statements import words
    return words(text)


def _implies(before: str, after: str) -> Relation:
    from ..statements import statement
    return Relation(statement(before), "implies", statement(after))


def odd_invariants_step(d: int) -> Step:
    """Lemma: for d >= 2 no nonzero vector or symmetric 3-tensor is SO(d)-invariant."""
    vec, sym3, _ = _lemma_dims(d)
    ok = vec == 0 and sym3 == 0
    where = f"d = {d}" if d <= 8 else "d = 4 and 5"
    return Step.checked(
        "lemma-odd-invariants", "Odd moments under rotations",
        _lemma_words("For every rotation $Q$, an invariant vector is zero, and so is every invariant "
                     "fully symmetric tensor of order three; hence every odd feature is orthogonal "
                     "to the target and to the GD block."),
        ok if d >= 2 else False,
        _lemma_words("The even signed permutations (determinant 1) are rotations. A flip of two "
                     "coordinates negates an entry of a vector and the entries of a 3-tensor with a "
                     "repeated index; for three distinct indices a flip with a fourth coordinate "
                     "(at least four dimensions), or the signed swap of two coordinates (three "
                     "dimensions, by symmetry), negates the entry; in two dimensions $-I$ is a "
                     "rotation. In one dimension the only rotation is the identity and nothing "
                     "follows."),
        f"exact orbit computation of the generators' action at {where}: invariant dimensions "
        f"{vec} (vectors) and {sym3} (symmetric 3-tensors)",
        display=(_implies("Q * v = v", "v = 0"),),
        detail="" if ok else f"invariant dimensions (vectors, symmetric 3-tensors) = {(vec, sym3)}",
        data={"dimensions": {"vectors": vec, "symmetric-3-tensors": sym3}})


def scalar_matrix_step(d: int) -> Step:
    """Lemma: a symmetric SO(d)-invariant matrix is a multiple of I (every d >= 1)."""
    _, _, sym2 = _lemma_dims(d) if d >= 2 else (None, None, 1)
    ok = sym2 == 1
    where = f"d = {d}" if d <= 8 else "d = 4 and 5"
    return Step.checked(
        "lemma-scalar-matrix", "Symmetric invariant matrices",
        _lemma_words("For every rotation $Q$, a symmetric invariant matrix is a multiple of the "
                     "identity; $C = E[g * g^T]$ and $B = E[y_q * x_q * g^T]$ are symmetric and "
                     "rotation invariant, so both are multiples of the identity."),
        ok, "Flips of two coordinates kill the off-diagonal entries (at least three dimensions); "
        "the signed swap of two coordinates maps an off-diagonal entry to minus itself (two "
        "dimensions) and exchanges the diagonal entries.",
        f"exact orbit computation on symmetric matrices at {where}: invariant dimension "
        f"{sym2 if sym2 is not None else 'unknown'}",
        display=(_implies("Q * H * Q^T = H", "H = k * I"),),
        detail="" if ok else f"invariant dimension {sym2}")


__all__ = ["Hypothesis", "Hypotheses", "classify", "check_rotation", "check_sign",
           "check_reflection", "odd_invariants_step", "scalar_matrix_step", "invariant_dimension",
           "isotropic_scale", "STATEMENTS"]
