"""Canonical matrix expressions: collected coefficients over canonical chain keys.

A :class:`Canonical` is a dict ``key -> coefficient`` where the key (from
:func:`derivations.alld.contract.canonical_term`) names a product of traces, scalar
chains and the open chains carrying the free indices, and the coefficient is an exact
rational function of d, n, s2. Two canonical forms are equal when every coefficient of
their difference cancels exactly (numerator expansion, as in ``derivations.exact``).

Equal keys are a *sound* certificate of equality for all d and all matrices; unequal
keys might still denote equal matrices (e.g. an identity that needs C = Sigma Omega
Sigma + ... expanded), so :func:`decide` settles a non-cancelling difference by exact
evaluation at random rational matrices: a nonzero value refutes, zeros leave it unproved.

>>> from derivations.alld.tensor import gaussian, matrix
>>> from derivations.alld.wick import expect
>>> S, A = matrix("Sigma", symmetric=True), matrix("A")
>>> x = gaussian("x")
>>> lhs = Canonical.of(expect(x * (x.T @ A @ x) * x.T, {"x": S}))
>>> rhs = Canonical.of(S @ (A + A.T) @ S + trace(A @ S) * S)
>>> decide(lhs, rhs)[0]
True
"""

from __future__ import annotations

import random

import sympy as sp

from ..exact import canonical as canonical_scalar
from ..exact import is_zero
from .contract import canonical_term
from .tensor import Tensor, d, trace  # noqa: F401  (trace re-exported for the doctest)


class Canonical:
    """A Gaussian-free tensor in canonical form (see the module doc)."""

    __slots__ = ("coeffs", "order")

    def __init__(self, coeffs: dict, order: int):
        self.coeffs = {k: c for k, c in coeffs.items() if not is_zero(c)}
        self.order = order

    @classmethod
    def of(cls, t: Tensor) -> Canonical:
        """Contract every term of a Gaussian-free tensor and collect like terms."""
        acc: dict = {}
        for term in t.terms:
            mult, chains, closed = canonical_term(term.factors, t.free)
            acc.setdefault((chains, closed), []).append(term.coef * mult)
        # one n-ary Add per key: repeated binary + re-flattens the sum every time
        return cls({k: sp.cancel(sp.together(sp.Add(*cs))) for k, cs in acc.items()},
                   len(t.free))

    def __sub__(self, other: Canonical) -> Canonical:
        coeffs = dict(self.coeffs)
        for k, c in other.coeffs.items():
            coeffs[k] = sp.cancel(sp.together(coeffs.get(k, 0) - c))
        return Canonical(coeffs, self.order)

    def __eq__(self, other) -> bool:
        return isinstance(other, Canonical) and not (self - other).coeffs

    __hash__ = None

    def __len__(self):
        return len(self.coeffs)

    def atoms(self) -> set:
        """Names of the matrix atoms and vectors that occur."""
        names = set()
        for chains, closed in self.coeffs:
            for item in chains + closed:
                for part in item:
                    if isinstance(part, tuple) and part and part[0] == "v":
                        names.add(("vec", part[1]))
                    elif isinstance(part, tuple):
                        names.update(("mat", e[0], e[3]) for e in part
                                     if isinstance(e, tuple) and len(e) == 4)
        return names

    def scalar(self):
        """The value as a SymPy scalar when no matrix, vector or trace is left, else None."""
        if self.order != 0:
            return None
        total = sp.Integer(0)
        for (chains, closed), c in self.coeffs.items():
            if chains or closed:
                return None
            total += c
        return canonical_scalar(total)

    # --- rendering ---------------------------------------------------------------
    def to_sympy(self):
        """A SymPy expression (MatrixSymbol products, Trace, Inverse, Identity(d))."""
        total = None
        for (chains, closed), c in sorted(self.coeffs.items(), key=lambda kv: str(kv[0])):
            scalar = canonical_scalar(c)
            for item in closed:
                scalar *= _closed_sympy(item)
            value = _open_sympy(chains, self.order)
            term = scalar * value if value is not None else scalar
            total = term if total is None else total + term
        if total is None:
            return sp.ZeroMatrix(d, d) if self.order == 2 else (
                sp.ZeroMatrix(d, 1) if self.order == 1 else sp.Integer(0))
        return total

    def __str__(self):
        return str(self.to_sympy())

    # --- exact evaluation at explicit matrices ------------------------------------
    def evaluate(self, env: dict, dim: int, subs: dict | None = None):
        """The value at dimension ``dim`` with atoms/vectors replaced by explicit matrices.

        ``env`` maps names to exact SymPy matrices (d x d, or d x 1 for vectors);
        ``subs`` maps further symbols of the coefficients (n, s2, scalar constants) to
        values. Returns a scalar or an explicit Matrix (orders 0, 1, 2 only).
        """
        if self.order > 2:
            raise ValueError("explicit evaluation supports scalars, vectors and matrices")
        values = {d: dim, **(subs or {})}
        total = sp.zeros(*value_shape(self.order, dim))
        cache: dict = {}
        for (chains, closed), c in self.coeffs.items():
            total += sp.sympify(c).xreplace(values) * key_value(chains, closed, self.order, env,
                                                                 dim, cache)
        total = total.applyfunc(lambda v: sp.cancel(sp.together(v)))
        return total[0, 0] if self.order == 0 else total


def value_shape(order: int, dim: int) -> tuple:
    """The explicit shape of an order-0/1/2 value: 1 x 1, dim x 1 or dim x dim."""
    return {0: (1, 1), 1: (dim, 1), 2: (dim, dim)}[order]


def key_value(chains, closed, order: int, env: dict, dim: int, cache: dict | None = None):
    """The explicit value (a Matrix of :func:`value_shape`) of one canonical key.

    Chains, traces and scalar chains are multiplied out with the matrices and vectors
    of ``env``; ``cache`` memoises the (inverted, transposed) atoms between calls.
    """
    cache = {} if cache is None else cache

    def elem(e):
        if e not in cache:
            m = sp.Matrix(env[e[0]])
            if e[1]:
                m = m.inv()
            cache[e] = m.T if e[2] else m
        return cache[e]

    def chain(seq):
        m = sp.eye(dim)
        for e in seq:
            m = m * elem(e)
        return m

    def end_vec(end):
        return sp.Matrix(env[end[1]])

    value = sp.Integer(1)
    for item in closed:
        if item[0] == "tr":
            value *= chain(item[1]).trace()
        else:
            _, a, seq, b = item
            value *= (end_vec(a).T * chain(seq) * end_vec(b))[0, 0]
    return value * _open_explicit(chains, order, chain, end_vec, dim)


def _open_explicit(chains, order, chain, end_vec, dim):
    if order == 0:
        return sp.Matrix([[1]])
    columns = {}
    for start, seq, end in chains:
        m = chain(seq)
        if start[0] == "free" and end[0] == "free":
            return m
        columns[start[1]] = m * end_vec(end)
    if order == 1:
        return columns[0]
    return columns[0] * columns[1].T


def _matsym(e):
    m = sp.MatrixSymbol(e[0], d, d)
    if e[1]:
        m = sp.Inverse(m)
    return m.T if e[2] else m


def _product(seq):
    if not seq:
        return sp.Identity(d)
    mats = [_matsym(e) for e in seq]
    return mats[0] if len(mats) == 1 else sp.MatMul(*mats)


def _closed_sympy(item):
    if item[0] == "tr":
        return sp.Trace(_product(item[1]))
    _, a, seq, b = item
    u, v = sp.MatrixSymbol(a[1], d, 1), sp.MatrixSymbol(b[1], d, 1)
    # the scalar u^T M v as the trace of a 1 x 1 product (indexing it would expand a Sum)
    return sp.Trace(sp.MatMul(u.T, *([_matsym(e) for e in seq]), v))


def _open_sympy(chains, order):
    if order == 0:
        return None
    columns = {}
    for start, seq, end in chains:
        if start[0] == "free" and end[0] == "free":
            return _product(seq)
        v = sp.MatrixSymbol(end[1], d, 1)
        columns[start[1]] = sp.MatMul(*([_matsym(e) for e in seq] + [v])) if seq else v
    if order == 1:
        return columns[0]
    return sp.MatMul(columns[0], columns[1].T)


# --- deciding identities ---------------------------------------------------------------

def random_spd(dim: int, rng: random.Random):
    """An exact symmetric positive-definite matrix M M^T + I with small integer M."""
    m = sp.Matrix(dim, dim, lambda i, j: rng.randint(-3, 3))
    return m * m.T + sp.eye(dim)


def random_env(names, dim: int, seed: int = 0, definitions: dict | None = None) -> dict:
    """Random exact values for the atoms of a canonical form (SPD when symmetric).

    ``definitions`` maps a name to a function(env, dim) -> Matrix, for atoms that are
    abbreviations (e.g. C := E[g g^T]) and must be consistent with the others.
    """
    rng = random.Random(seed * 7919 + dim)
    env = {}
    for kind, name, *rest in sorted(names, key=str):
        if kind == "vec":
            env[name] = sp.Matrix(dim, 1, lambda i, j: rng.randint(-3, 3))
        elif rest and rest[0]:
            env[name] = random_spd(dim, rng)
        else:
            env[name] = sp.Matrix(dim, dim, lambda i, j: rng.randint(-3, 3)) + 4 * sp.eye(dim)
    for name, make in (definitions or {}).items():
        env[name] = make(env, dim)
    return env


def decide(lhs: Canonical, rhs: Canonical, dims=(2, 3), definitions=None, seeds=(0, 1),
           extra=()):
    """Decide lhs = rhs for all d: (True, "") | (False, reason) | (None, reason).

    True: the canonical forms coincide (a proof for every d and every matrix).
    False: some exact instance differs (a counterexample, named in the reason): first the
    deterministic search of :mod:`.search` (d = 1, 2, 3, simplest small-integer matrices;
    symmetric atoms positive definite), then random exact matrices at ``dims``.
    None: the forms differ but every sampled instance agrees (the engine cannot close it).
    ``definitions`` (see :func:`random_env`) fixes abbreviations; ``extra`` adds atoms
    they need, as ("mat", name, symmetric) tuples.
    """
    if lhs.order != rhs.order:
        return False, f"orders differ ({lhs.order} vs {rhs.order})"
    diff = lhs - rhs
    if not diff.coeffs:
        return True, ""
    if diff.order > 2:
        return None, (f"canonical forms differ in {len(diff)} terms; "
                      f"no evaluator for order {diff.order}")
    names = diff.atoms() | set(extra)
    if definitions:
        names = {a for a in names if a[1] not in definitions}
    simple = _simple_counterexample(lhs, rhs, names, definitions)
    if simple is not None:
        return False, f"counterexample at {simple.describe()}"
    for dim in dims:
        for seed in seeds:
            env = random_env(names, dim, seed, definitions)
            value = diff.evaluate(env, dim)
            values = [value] if diff.order == 0 else list(value)
            if any(not is_zero(v) for v in values):
                return False, (f"counterexample at d = {dim} (random exact matrices, seed {seed}): "
                               f"lhs - rhs = {_short(value)}")
    return None, (f"canonical forms differ in {len(diff)} terms but agree at sampled d = "
                  f"{', '.join(map(str, dims))}: not closed symbolically")


def _simple_counterexample(lhs, rhs, names, definitions):
    """The deterministic small-integer search (symmetric atoms taken positive definite)."""
    from .search import Atoms, find_counterexample

    atoms = Atoms(matrices={a[1]: ("spd" if a[2] else "general") for a in names if a[0] == "mat"},
                  vectors=[a[1] for a in names if a[0] == "vec"],
                  definitions={k: (lambda env, dim, subs, f=f: f(env, dim))
                               for k, f in (definitions or {}).items()})
    atoms.inverted = set(atoms.matrices) | set(atoms.definitions)
    try:
        return find_counterexample(lhs, rhs, atoms, limit=12)
    except (KeyError, ValueError, ZeroDivisionError):
        return None


def _short(value, limit=200):
    text = str(value)
    return text if len(text) <= limit else text[:limit] + " ..."
