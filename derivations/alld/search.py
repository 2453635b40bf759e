"""Counterexamples that convince: the smallest d and the simplest matrices that refute a claim.

A claim the canonical forms cannot prove is evaluated exactly at explicit values, in a
fixed, deterministic order: d = 1, 2, 3; at each d, every declared matrix runs through a
list of small-integer matrices of its kind (positive definite, symmetric or general,
simplest first: the identity, then diagonal, then small off-diagonal entries), and the
tuples are tried in order of total "complexity" (the sum of the list positions). Random
values of a pointwise claim (the context, the query, the task vector) are small integers
from a seeded generator, with n = 1, 2, 3 examples.

A counterexample is a *value*, not a verdict on the method: the two sides are evaluated
exactly (rationals; n and s2 stay symbolic when the claim leaves them symbolic, and are
then fixed to the smallest values where the sides differ).

>>> from derivations.alld.tensor import matrix
>>> from derivations.alld.canonical import Canonical
>>> A, B = matrix("A"), matrix("B")
>>> cx = find_counterexample(Canonical.of(A @ B), Canonical.of(B @ A),
...                          Atoms(matrices={"A": "general", "B": "general"}))
>>> cx.describe()
'd = 2, A = [[1, 1], [0, 1]], B = [[1, 0], [1, 1]]: lhs = [[2, 1], [1, 1]], rhs = [[1, 1], [1, 2]]'
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import product

import sympy as sp

from ..exact import exact_equal
from ..symbols import n as N
from ..symbols import s2 as S2
from .pointwise import Pointwise

KINDS = ("general", "symmetric", "spd")
DIMS = (1, 2, 3)
#: candidate tuples tried per dimension (matrices, constant vectors, constant scalars)
TRIES = {1: 40, 2: 60, 3: 30}
#: (n, s2) pairs tried, in order, to show a concrete difference
N_S2 = [(n, s) for n in range(1, 7) for s in (0, 1, 2)]


def _m(rows):
    return sp.Matrix(rows)


def matrix_candidates(kind: str, dim: int) -> list:
    """Small-integer matrices of a kind, simplest first (deterministic)."""
    if kind not in KINDS:
        raise ValueError(f"unknown matrix kind {kind!r}")
    if dim == 1:
        values = {"spd": [1, 2, 3], "symmetric": [1, -1, 2, 0], "general": [1, 2, -1, 0]}[kind]
        return [_m([[v]]) for v in values]
    if dim == 2:
        spd = [sp.eye(2), sp.diag(1, 2), _m([[2, 1], [1, 1]]), _m([[1, 1], [1, 2]]),
               _m([[2, 1], [1, 2]]), sp.diag(2, 1), _m([[2, -1], [-1, 1]]), _m([[3, 1], [1, 1]])]
        sym = [sp.eye(2), sp.diag(1, 2), _m([[0, 1], [1, 0]]), _m([[1, 1], [1, 0]]),
               _m([[2, 1], [1, 1]]), sp.diag(1, -1), _m([[1, 2], [2, 1]]), sp.zeros(2, 2)]
        gen = [sp.eye(2), _m([[1, 1], [0, 1]]), _m([[1, 0], [1, 1]]), sp.diag(1, 2),
               _m([[0, 1], [1, 0]]), _m([[1, 2], [3, 4]]), _m([[0, 1], [0, 0]]),
               _m([[2, 1], [1, 1]]), sp.zeros(2, 2)]
    else:
        spd = [sp.eye(dim), sp.diag(*range(1, dim + 1)),
               sp.Matrix(dim, dim, lambda i, j: 2 if i == j else (1 if abs(i - j) == 1 else 0)),
               sp.Matrix(dim, dim, lambda i, j: 2 if i == j else 1)]
        sym = [sp.eye(dim), sp.diag(*range(1, dim + 1)),
               sp.Matrix(dim, dim, lambda i, j: 1 if abs(i - j) == 1 else (1 if i == j == dim - 1 else 0)),
               spd[2], sp.diag(*[(-1) ** k for k in range(dim)])]
        gen = [sp.eye(dim), sp.Matrix(dim, dim, lambda i, j: 1 if j in (i, i + 1) else 0),
               sp.Matrix(dim, dim, lambda i, j: 1 if i in (j, j + 1) else 0),
               sp.diag(*range(1, dim + 1)),
               sp.Matrix(dim, dim, lambda i, j: 1 if j == (i + 1) % dim else 0),
               sp.Matrix(dim, dim, lambda i, j: 1 + i * dim + j)]
    return {"spd": spd, "symmetric": sym, "general": gen}[kind]


def vector_candidates(dim: int) -> list:
    out = [sp.Matrix([1] + [0] * (dim - 1)), sp.ones(dim, 1), sp.Matrix(list(range(1, dim + 1)))]
    if dim > 1:
        out += [sp.Matrix([0] * (dim - 1) + [1]), sp.Matrix([(-1) ** k for k in range(dim)])]
    else:
        out += [sp.Matrix([-1])]
    return out


SCALARS = [sp.Integer(1), sp.Integer(2), sp.Integer(-1), sp.Integer(3), sp.Rational(1, 2)]


@dataclass
class Atoms:
    """What a claim's values depend on.

    matrices: name -> kind; inverted: names that occur inverted (must be invertible);
    vectors: constant vector names; scalars: constant scalar name -> SymPy symbol;
    definitions: name -> f(env, dim) -> Matrix for abbreviated atoms (consistent values);
    random: name -> ("vector" | "scalar", "shared" | "example") for pointwise claims.
    """

    matrices: dict = field(default_factory=dict)
    inverted: set = field(default_factory=set)
    vectors: list = field(default_factory=list)
    scalars: dict = field(default_factory=dict)
    definitions: dict = field(default_factory=dict)
    random: dict = field(default_factory=dict)


@dataclass
class Counterexample:
    """Explicit values at which the two sides of a claim differ (all exact)."""

    d: int
    matrices: dict
    vectors: dict
    scalars: dict
    n: object                 # the n used (an int), or None when the claim has no n
    s2: object
    lhs: object
    rhs: object
    lhs_general: object = None     # the values with n, s2 symbolic (when the claim leaves them so)
    rhs_general: object = None
    data: dict = field(default_factory=dict)
    defined: dict = field(default_factory=dict)
    reason: str = ""

    def describe(self) -> str:
        """One line: d, every matrix, n and s2, the random values, the two values."""
        parts = [f"d = {self.d}"]
        parts += [f"{k} = {show_value(v)}" for k, v in self.matrices.items()]
        parts += [f"{k} = {show_value(v, True)}" for k, v in self.vectors.items()]
        parts += [f"{k} = {v}" for k, v in self.scalars.items()]
        if self.n is not None:
            parts.append(f"n = {self.n}")
        if self.s2 is not None:
            parts.append(f"s2 = {self.s2}")
        for k, v in self.data.items():
            parts.append(f"{k} = {show_value(v, True)}")
        return ", ".join(parts) + f": lhs = {show_value(self.lhs)}, rhs = {show_value(self.rhs)}"


def show_value(v, vector: bool = False) -> str:
    """Exact text for a scalar, an explicit matrix or a list of per-example values."""
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(show_value(x, vector) for x in v) + ")"
    if isinstance(v, sp.MatrixBase):
        if v.cols == 1 and v.rows > 1:
            return "(" + ", ".join(str(x) for x in v) + ")^T"
        if v.shape == (1, 1) and vector:
            return f"({v[0, 0]})"
        return "[" + ", ".join("[" + ", ".join(str(x) for x in row) + "]" for row in v.tolist()) + "]"
    return str(v)


def _tuples(sizes, limit):
    """Index tuples in order of increasing sum (then lexicographic), at most ``limit``."""
    count = 0
    for total in range(sum(s - 1 for s in sizes) + 1):
        for combo in _compositions(total, sizes):
            yield combo
            count += 1
            if count >= limit:
                return


def _compositions(total, sizes):
    if not sizes:
        if total == 0:
            yield ()
        return
    for first in range(min(total, sizes[0] - 1) + 1):
        for rest in _compositions(total - first, sizes[1:]):
            yield (first,) + rest


def environments(atoms: Atoms, dim: int, limit: int | None = None, pair=None):
    """(env, scalar substitutions) for explicit values, simplest first; singular skipped.

    ``pair``: (n, s2) at which abbreviations are evaluated (None: symbolic)."""
    names = sorted(atoms.matrices)
    lists = [matrix_candidates(atoms.matrices[k], dim) for k in names]
    lists = [[m for m in lst if k not in atoms.inverted or m.det() != 0] for k, lst in zip(names, lists, strict=True)]
    vecs = sorted(atoms.vectors)
    lists += [vector_candidates(dim) for _ in vecs]
    scal = sorted(atoms.scalars)
    lists += [SCALARS for _ in scal]
    for combo in _tuples([len(x) for x in lists], limit or TRIES.get(dim, 20)):
        values = [lst[i] for lst, i in zip(lists, combo, strict=True)]
        env = dict(zip(names + vecs, values[: len(names) + len(vecs)], strict=True))
        subs = {atoms.scalars[k]: v for k, v in zip(scal, values[len(names) + len(vecs):], strict=True)}
        at = {**subs, **({N: pair[0], S2: pair[1]} if pair is not None else {})}
        try:
            for name, make in atoms.definitions.items():
                env[name] = make(env, dim, at)
                if name in atoms.inverted and _singular(env[name]):
                    raise ZeroDivisionError
        except (ZeroDivisionError, ValueError):
            continue
        yield env, subs


def random_environment(atoms: Atoms, dim: int, rng: random.Random):
    """One random small-integer (env, subs) of the declared kinds, or (None, None) if singular."""
    env = {}
    for name in sorted(atoms.matrices):
        kind = atoms.matrices[name]
        m = sp.Matrix(dim, dim, lambda i, j: rng.randint(-3, 3))
        if kind == "symmetric":
            m = m + m.T
        elif kind == "spd":
            m = m * m.T + sp.eye(dim)
        if name in atoms.inverted and m.det() == 0:
            return None, None
        env[name] = m
    for name in sorted(atoms.vectors):
        env[name] = sp.Matrix(dim, 1, lambda i, j: rng.randint(-3, 3))
    subs = {sym: rng.choice(SCALARS) for _, sym in sorted(atoms.scalars.items())}
    try:
        for name, make in atoms.definitions.items():
            env[name] = make(env, dim, subs)
            if name in atoms.inverted and _singular(env[name]):
                return None, None
    except (ZeroDivisionError, ValueError):
        return None, None
    return env, subs


def _singular(m) -> bool:
    return exact_equal(sp.Matrix(m).det(), 0)


def random_data(atoms: Atoms, dim: int, n_value: int, seed: int) -> dict:
    """Small-integer values of the random variables (deterministic for a seed)."""
    rng = random.Random(1000 * seed + 10 * dim + n_value)
    data = {}
    for name in sorted(atoms.random):
        shape, scope = atoms.random[name]

        def one(shape=shape):
            if shape == "scalar":
                return sp.Integer(rng.randint(-2, 2))
            return sp.Matrix(dim, 1, lambda i, j: rng.randint(-2, 2))
        data[name] = one() if scope == "shared" else [one() for _ in range(n_value)]
    return data


def _value(side, env, dim, subs, data=None, n_value=None):
    if isinstance(side, Pointwise):
        return side.evaluate(env, dim, data, n_value, subs)
    return side.evaluate(env, dim, subs)


def _substitute(value, n_value, s2_value):
    rep = {}
    if n_value is not None:
        rep[N] = n_value
    if s2_value is not None:
        rep[S2] = s2_value
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(lambda v: sp.cancel(sp.sympify(v).xreplace(rep)))
    return sp.cancel(sp.sympify(value).xreplace(rep))


def _finite(value) -> bool:
    items = list(value) if isinstance(value, sp.MatrixBase) else [value]
    return not any(sp.sympify(v).has(sp.zoo, sp.nan, sp.oo, -sp.oo) for v in items)


def _concrete(lv, rv, differ):
    """The first (n, s2) of N_S2 at which ``differ`` holds for the substituted values."""
    free = set()
    for v in (lv, rv):
        free |= sp.sympify(v).free_symbols if not isinstance(v, sp.MatrixBase) else set().union(
            *[sp.sympify(x).free_symbols for x in v])
    has_n, has_s2 = N in free, S2 in free
    if not (has_n or has_s2):
        return (None, None, lv, rv) if differ(lv, rv) else None
    seen = set()
    for n_value, s2_value in N_S2:
        key = (n_value if has_n else None, s2_value if has_s2 else None)
        if key in seen:
            continue
        seen.add(key)
        a, b = _substitute(lv, *key), _substitute(rv, *key)
        if _finite(a) and _finite(b) and differ(a, b):
            return key[0], key[1], a, b
    return None


def find_counterexample(lhs, rhs, atoms: Atoms, dims=DIMS, n_fixed=None, seeds=(0, 1, 2),
                        differ=None, limit=None, fixed_env=None, n_s2_grid=None):
    """The first explicit values (in the order of the module doc) where the claim fails.

    ``lhs``/``rhs``: Canonical or Pointwise forms. ``differ(a, b)`` decides failure for
    explicit values (default: exact inequality; relations pass a positivity test).
    ``fixed_env``: one (env, subs) to try instead of the search order (one dimension).
    ``n_s2_grid``: evaluate at these (n, s2) pairs instead of with n, s2 symbolic (faster when
    abbreviations depending on n must be inverted).
    Returns a :class:`Counterexample` or None.
    """
    differ = differ or (lambda a, b: not exact_equal(a, b))
    pointwise = isinstance(lhs, Pointwise) or isinstance(rhs, Pointwise)
    n_values = None
    if pointwise:
        n_values = [n_fixed] if n_fixed is not None else [1, 2, 3]
        if any(v > 6 for v in n_values):
            return None                     # too many examples to sum over explicitly
    grid = [None] if n_s2_grid is None else list(n_s2_grid)
    for dim in dims:
        envs = [fixed_env] if fixed_env is not None else environments(atoms, dim, limit, grid[0])
        for env, subs in envs:
            for pair in grid:
                cx = _try(lhs, rhs, atoms, dim, env, subs, pair, pointwise, n_values, seeds, differ)
                if cx is not None:
                    return cx
    return None


def _try(lhs, rhs, atoms, dim, env, subs, pair, pointwise, n_values, seeds, differ):
    """The counterexample at one environment (and one (n, s2) pair), or None."""
    if pair is not None:
        fixed = {N: pair[0], S2: pair[1]}
        subs = {**subs, **fixed}
        try:
            env = dict(env)
            for name, make in atoms.definitions.items():
                env[name] = make(env, dim, subs)
                if name in atoms.inverted and _singular(env[name]):
                    return None
        except (ZeroDivisionError, ValueError):
            return None
    runs = ([(None, None)] if not pointwise else
            [(nv, random_data(atoms, dim, nv, seed)) for nv in n_values for seed in seeds])
    for n_value, data in runs:
        try:
            lv = _value(lhs, env, dim, subs, data, n_value)
            rv = _value(rhs, env, dim, subs, data, n_value)
        except (ZeroDivisionError, ValueError):
            continue
        if not _finite(lv) or not _finite(rv):
            continue
        concrete = _concrete(lv, rv, differ)
        if concrete is None:
            continue
        n_c, s2_c, a, b = concrete
        if pair is not None:
            n_c, s2_c = pair
        if n_c is None and n_value is not None:
            n_c = n_value
        mats = {k: env[k] for k in sorted(atoms.matrices)}
        vecs = {k: env[k] for k in sorted(atoms.vectors)}
        scal = {k: subs[sym] for k, sym in sorted(atoms.scalars.items())}
        defined = {k: _substitute(env[k], n_c, s2_c) for k in atoms.definitions}
        general = (lv, rv) if (pair is None and (lv, rv) != (a, b)) else (None, None)
        return Counterexample(dim, mats, vecs, scal, n_c, s2_c, a, b, general[0], general[1],
                              data or {}, defined)
    return None


def is_psd(m, strict: bool = False) -> bool:
    """Exact test of a symmetric explicit matrix (or scalar): all principal minors >= 0
    (positive semidefinite) or all leading principal minors > 0 (Sylvester, definite)."""
    if not isinstance(m, sp.MatrixBase):
        v = sp.sympify(m)
        return bool(v > 0) if strict else bool(v >= 0)
    if not exact_equal(m, m.T):
        return False
    k = m.rows
    if strict:
        return all(m[:j, :j].det() > 0 for j in range(1, k + 1))
    for size in range(1, k + 1):
        for rows in _subsets(k, size):
            if m.extract(rows, rows).det() < 0:
                return False
    return True


def _subsets(k, size):
    from itertools import combinations
    return [list(c) for c in combinations(range(k), size)]


def positivity_failure(strict: bool):
    """A ``differ`` for :func:`find_counterexample`: lhs - rhs is not PSD (or not PD)."""
    def differ(a, b):
        diff = (a - b) if not isinstance(a, sp.MatrixBase) else (sp.Matrix(a) - sp.Matrix(b))
        if isinstance(diff, sp.MatrixBase):
            diff = diff.applyfunc(sp.cancel)
        return not is_psd(diff, strict)
    return differ


__all__ = ["Atoms", "Counterexample", "find_counterexample", "random_environment", "matrix_candidates",
           "vector_candidates", "environments", "is_psd", "positivity_failure", "show_value",
           "KINDS", "DIMS", "product"]
