"""Index-notation tensor expressions with a symbolic dimension d.

A :class:`Tensor` is a sum of :class:`Term` objects sharing an ordered tuple of *free*
indices (0 free: a scalar, 1: a vector, 2: a matrix). A term is an exact SymPy
coefficient times a product of factors, each carrying integer index labels:

* ``mat``   M[i, j] for a matrix atom (:class:`Atom`, possibly an inverse);
* ``vec``   v[i] for a constant vector;
* ``delta`` the Kronecker delta (the identity matrix);
* ``gauss`` one occurrence of a centred Gaussian vector (one index) or scalar (none).

An index that occurs twice in a term is summed over 1..d (Einstein convention). The
dimension never has to be fixed: it only appears when a closed loop of deltas is
contracted (see :mod:`derivations.alld.contract`).

Context averages (1/n) sum_i phi(x_i) are written with *template* Gaussians
(:func:`example`) wrapped by :func:`average`: every average gets its own summation
*slot*, and :mod:`derivations.alld.wick` later splits the multiple sum over slots into
equal-index and distinct-index parts.

Every binary operation renames the right operand's dummy indices and slots apart
(alpha conversion), so ``g @ g.T`` is a double sum, as it must be.

>>> Sigma, A = matrix("Sigma", symmetric=True), matrix("A")
>>> x = gaussian("x")
>>> q = x.T @ A @ x                      # the scalar x^T A x
>>> len(q.terms), q.free
(1, ())
>>> (x * x.T).free.__len__()             # the outer product x x^T is a matrix
2
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import NamedTuple

import sympy as sp

from ..symbols import n as N

#: the symbolic covariate dimension
d = sp.Symbol("d", integer=True, positive=True)

#: the slot of a template Gaussian, replaced by a fresh slot in :func:`average`
TEMPLATE = 0

_fresh = itertools.count(1)


def fresh() -> int:
    """A new index label / slot id, never used before in this process."""
    return next(_fresh)


@dataclass(frozen=True, order=True)
class Atom:
    """A named d x d matrix, or its inverse; ``symmetric`` makes X^T = X."""

    name: str
    inverse: bool = False
    symmetric: bool = False

    @property
    def inv(self) -> Atom:
        return Atom(self.name, not self.inverse, self.symmetric)


class Factor(NamedTuple):
    kind: str       # "mat" | "vec" | "delta" | "gauss"
    label: object   # Atom | vector name | None | (gaussian name, slot)
    idx: tuple      # index labels (2 for mat/delta, 1 for vec, 0 or 1 for gauss)


class Term(NamedTuple):
    coef: sp.Expr
    factors: tuple
    slots: tuple = ()


def _relabel(term: Term, index_map: dict, slot_map: dict) -> Term:
    """Apply index and slot maps (missing keys are left alone)."""
    factors = []
    for f in term.factors:
        label = f.label
        if f.kind == "gauss" and label[1] in slot_map:
            label = (label[0], slot_map[label[1]])
        factors.append(Factor(f.kind, label, tuple(index_map.get(i, i) for i in f.idx)))
    return Term(term.coef, tuple(factors), tuple(slot_map.get(s, s) for s in term.slots))


class Tensor:
    """A sum of index-notation terms with common free indices (see the module doc)."""

    __slots__ = ("terms", "free")

    def __init__(self, terms, free=()):
        self.terms = [t for t in terms if t.coef != 0]
        self.free = tuple(free)

    # --- alpha conversion --------------------------------------------------------
    def renamed(self) -> Tensor:
        """A copy whose indices and slots are all fresh (same meaning)."""
        index_map, slot_map = {}, {}
        for term in self.terms:
            for f in term.factors:
                for i in f.idx:
                    if i not in index_map:
                        index_map[i] = fresh()
            for s in term.slots:
                if s not in slot_map:
                    slot_map[s] = fresh()
        for i in self.free:
            index_map.setdefault(i, fresh())
        return Tensor([_relabel(t, index_map, slot_map) for t in self.terms],
                      tuple(index_map[i] for i in self.free))

    def _with_free(self, new_free) -> Tensor:
        """Rename the free indices (self must already be fresh w.r.t. new_free)."""
        mapping = dict(zip(self.free, new_free, strict=True))
        return Tensor([_relabel(t, mapping, {}) for t in self.terms], tuple(new_free))

    # --- algebra -----------------------------------------------------------------
    def __add__(self, other) -> Tensor:
        other = _as_tensor(other)
        if len(other.free) != len(self.free):
            raise ValueError(f"cannot add tensors of orders {len(self.free)} and {len(other.free)}")
        other = other.renamed()._with_free(self.free)
        return Tensor(self.terms + other.terms, self.free)

    __radd__ = __add__

    def __neg__(self) -> Tensor:
        return self * -1

    def __sub__(self, other) -> Tensor:
        return self + (-_as_tensor(other))

    def __rsub__(self, other) -> Tensor:
        return _as_tensor(other) - self

    def __mul__(self, other) -> Tensor:
        """Scalar multiple, or the tensor (outer) product: free indices concatenate."""
        if not isinstance(other, Tensor):
            c = _exact_scalar(other)
            return Tensor([Term(t.coef * c, t.factors, t.slots) for t in self.terms], self.free)
        other = other.renamed()
        terms = [Term(a.coef * b.coef, a.factors + b.factors, a.slots + b.slots)
                 for a in self.terms for b in other.terms]
        return Tensor(terms, self.free + other.free)

    __rmul__ = __mul__

    def __truediv__(self, other) -> Tensor:
        return self * (1 / _exact_scalar(other))

    def __matmul__(self, other) -> Tensor:
        """Contract the last free index of self with the first free index of other."""
        if not self.free or not other.free:
            raise ValueError("@ needs a free index on both sides; use * for scalars")
        other = other.renamed()
        link = self.free[-1]
        other = other._with_free((link,) + other.free[1:])
        terms = [Term(a.coef * b.coef, a.factors + b.factors, a.slots + b.slots)
                 for a in self.terms for b in other.terms]
        return Tensor(terms, self.free[:-1] + other.free[1:])

    @property
    def T(self) -> Tensor:
        """Transpose: reverse the free indices (a no-op on vectors and scalars)."""
        return Tensor(self.terms, self.free[::-1])

    def substitute(self, name: str, replacement: Tensor) -> Tensor:
        """Replace every occurrence of the matrix atom ``name`` by a 2-index tensor.

        The inverse of ``name`` cannot be substituted this way (it is a different atom).
        """
        if len(replacement.free) != 2:
            raise ValueError("a matrix atom can only be replaced by a matrix")
        out = []
        for term in self.terms:
            partial = [Term(term.coef, (), term.slots)]
            for f in term.factors:
                if f.kind == "mat" and f.label.name == name:
                    if f.label.inverse:
                        raise ValueError(f"cannot substitute into the inverse of {name}")
                    rep = replacement.renamed()._with_free(f.idx)
                    partial = [Term(p.coef * r.coef, p.factors + r.factors, p.slots + r.slots)
                               for p in partial for r in rep.terms]
                else:
                    partial = [Term(p.coef, p.factors + (f,), p.slots) for p in partial]
            out.extend(partial)
        return Tensor(out, self.free)

    def has_gaussians(self) -> bool:
        return any(f.kind == "gauss" for t in self.terms for f in t.factors)

    def __repr__(self):
        return f"Tensor({len(self.terms)} terms, order {len(self.free)})"


def _as_tensor(value) -> Tensor:
    if isinstance(value, Tensor):
        return value
    return scalar(value)


# --- builders ---------------------------------------------------------------------

def _exact_scalar(value):
    """A scalar coefficient: a SymPy expression or an exact number (never text, never a float)."""
    from ..exact import as_exact
    return as_exact(value, "scalar coefficient")


def scalar(value) -> Tensor:
    """A constant scalar (a SymPy expression free of matrices)."""
    return Tensor([Term(_exact_scalar(value), ())], ())


def matrix(name: str, symmetric: bool = False) -> Tensor:
    """The matrix atom ``name`` as a 2-index tensor."""
    return _atom(Atom(name, False, symmetric))


def inverse(name: str, symmetric: bool = False) -> Tensor:
    """The inverse of the matrix atom ``name`` (assumed invertible)."""
    return _atom(Atom(name, True, symmetric))


def _atom(atom: Atom) -> Tensor:
    i, j = fresh(), fresh()
    return Tensor([Term(sp.Integer(1), (Factor("mat", atom, (i, j)),))], (i, j))


def identity() -> Tensor:
    """The d x d identity (a Kronecker delta)."""
    i, j = fresh(), fresh()
    return Tensor([Term(sp.Integer(1), (Factor("delta", None, (i, j)),))], (i, j))


def vector(name: str) -> Tensor:
    """A constant vector in R^d."""
    i = fresh()
    return Tensor([Term(sp.Integer(1), (Factor("vec", name, (i,)),))], (i,))


def gaussian(name: str) -> Tensor:
    """A Gaussian vector shared by the whole prompt (e.g. the query x_q or the task w)."""
    i = fresh()
    return Tensor([Term(sp.Integer(1), (Factor("gauss", (name, None), (i,)),))], (i,))


def scalar_gaussian(name: str) -> Tensor:
    """A shared centred Gaussian scalar (e.g. the query noise eps_q)."""
    return Tensor([Term(sp.Integer(1), (Factor("gauss", (name, None), ()),))], ())


def example(name: str) -> Tensor:
    """The template of a per-example Gaussian vector, to be used inside :func:`average`."""
    i = fresh()
    return Tensor([Term(sp.Integer(1), (Factor("gauss", (name, TEMPLATE), (i,)),))], (i,))


def example_scalar(name: str) -> Tensor:
    """The template of a per-example Gaussian scalar (e.g. the label noise eps_i)."""
    return Tensor([Term(sp.Integer(1), (Factor("gauss", (name, TEMPLATE), ()),))], ())


def average(summand: Tensor, n=N) -> Tensor:
    """(1/n) sum_{i=1}^n summand(example i): template Gaussians get one fresh slot."""
    slot = fresh()
    out = []
    for t in summand.terms:
        t = _relabel(t, {}, {TEMPLATE: slot})
        out.append(Term(t.coef / n, t.factors, t.slots + (slot,)))
    return Tensor(out, summand.free)


def inner(a: Tensor, b: Tensor) -> Tensor:
    """The full contraction sum_{i1..ik} a[i1..ik] b[i1..ik] of two tensors of equal order.

    Used for the convex lift <T, F> with 3-index T = u (x) M and features F.
    """
    if len(a.free) != len(b.free):
        raise ValueError(f"inner product of tensors of orders {len(a.free)} and {len(b.free)}")
    b = b.renamed()._with_free(a.free)
    terms = [Term(s.coef * t.coef, s.factors + t.factors, s.slots + t.slots)
             for s in a.terms for t in b.terms]
    return Tensor(terms, ())


def trace(t: Tensor) -> Tensor:
    """tr of a matrix-valued tensor: identify its two free indices."""
    if len(t.free) != 2:
        raise ValueError("trace needs a matrix")
    t = t.renamed()
    a, b = t.free
    return Tensor([_relabel(term, {b: a}, {}) for term in t.terms], ())
