"""Immutable expression trees for matrix and index-notation statements.

A statement such as ``E[avg(x_i * x_i^T) * Omega * avg(x_i * x_i^T)] = Sigma * Omega * Sigma``
is a :class:`RelationNode` between two expression trees. Nodes are small frozen dataclasses
that hold their children and nothing else; every node knows its *shape*:

========= ===================================================
scalar    a number, n, d, s2, tr(...), x^T A y, ...
vector    a column vector in R^d (x, A x, ...)
covector  a row vector (x^T, x^T A)
matrix    a d x d matrix (Sigma, x x^T, I, ...)
========= ===================================================

Nodes are unevaluated (like SymPy's ``Integral``): ``E[...]``, ``avg(...)`` and ``tr(...)``
stay as written, so a statement prints as its author wrote it. Evaluation is separate
(:mod:`derivations.notation.to_tensor`), and so is printing
(:mod:`derivations.notation.text`, :mod:`derivations.notation.latex`).

Construction checks shapes and raises :class:`ShapeError`; sums and products are
flattened (associativity), so equal statements give equal trees.

>>> Sigma = NameNode("Sigma", MATRIX)
>>> x = NameNode("x_i", VECTOR, "context")
>>> outer = MulNode((x, TransposeNode(x)))
>>> outer.shape
'matrix'
>>> ExpectNode(AvgNode(outer)).shape
'matrix'
>>> MulNode((x, Sigma))
Traceback (most recent call last):
...
derivations.notation.tree.ShapeError: cannot multiply a vector by a matrix
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..task import TaskError

SCALAR, VECTOR, COVECTOR, MATRIX = "scalar", "vector", "covector", "matrix"
SHAPES = (SCALAR, VECTOR, COVECTOR, MATRIX)
#: relations a statement may assert, and what they mean
RELATIONS = {"=": "equal", "succeq": "lhs - rhs is positive semidefinite",
             "succ": "lhs - rhs is positive definite"}
#: the built-in scalars
BUILTINS = ("n", "d", "s2")


class NotationError(TaskError):
    """Malformed or ill-typed statement text; the message names the field and position."""


class ShapeError(NotationError):
    """An operation between objects of incompatible shapes (e.g. a vector times a matrix)."""


def _article(shape: str) -> str:
    return "an" if shape[0] in "aeiou" else "a"


def product_shape(left: str, right: str) -> str:
    """The shape of ``left * right`` (matrix product; scalars scale)."""
    if left == SCALAR:
        return right
    if right == SCALAR:
        return left
    table = {(MATRIX, MATRIX): MATRIX, (MATRIX, VECTOR): VECTOR, (COVECTOR, MATRIX): COVECTOR,
             (COVECTOR, VECTOR): SCALAR, (VECTOR, COVECTOR): MATRIX}
    if (left, right) not in table:
        raise ShapeError(f"cannot multiply {_article(left)} {left} by {_article(right)} {right}")
    return table[(left, right)]


class Node:
    """Base class of every expression node (see the module doc)."""

    shape: str

    @property
    def children(self) -> tuple:
        return ()


def _set_shape(node, shape):
    object.__setattr__(node, "shape", shape)


@dataclass(frozen=True)
class NumberNode(Node):
    """A non-negative integer literal (rationals are written with ``/``)."""

    value: sp.Integer
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.value, sp.Integer) or self.value < 0:
            raise NotationError(f"a number literal must be a non-negative SymPy Integer, got {self.value!r}")


@dataclass(frozen=True)
class ZeroNode(Node):
    """The literal 0 standing for a zero vector or matrix (a side of a relation: X = 0)."""

    shape: str = MATRIX

    def __post_init__(self):
        if self.shape not in SHAPES or self.shape == SCALAR:
            raise NotationError(f"a zero of shape {self.shape!r}: use the number 0 for a scalar")


@dataclass(frozen=True)
class BuiltinNode(Node):
    """n (context length), d (dimension) or s2 (noise variance)."""

    name: str
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    def __post_init__(self):
        if self.name not in BUILTINS:
            raise NotationError(f"unknown built-in {self.name!r}")


@dataclass(frozen=True)
class IdentityNode(Node):
    """The d x d identity I."""

    shape: str = field(default=MATRIX, init=False, compare=False, repr=False)


@dataclass(frozen=True)
class NameNode(Node):
    """A declared or defined name with its shape.

    role: "declared" (a matrix, vector or scalar of [setup]), "context" (a per-example
    variable such as x_i, only inside avg) or "defined" (an abbreviation of [define]).
    """

    name: str
    shape: str = SCALAR
    role: str = "declared"

    def __post_init__(self):
        if self.shape not in SHAPES:
            raise NotationError(f"unknown shape {self.shape!r}")
        if self.role not in ("declared", "context", "defined"):
            raise NotationError(f"unknown role {self.role!r}")


@dataclass(frozen=True)
class AddNode(Node):
    """A sum of two or more terms of one shape (a difference is a sum with a NegNode)."""

    args: tuple
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    def __post_init__(self):
        flat = []
        for a in self.args:
            flat.extend(a.args if isinstance(a, AddNode) else (a,))
        object.__setattr__(self, "args", tuple(flat))
        if len(flat) < 2:
            raise NotationError("a sum needs two terms")
        shapes = {a.shape for a in flat}
        if len(shapes) != 1:
            first = flat[0].shape
            other = next(a.shape for a in flat if a.shape != first)
            raise ShapeError(f"cannot add {_article(first)} {first} and {_article(other)} {other}")
        _set_shape(self, flat[0].shape)

    @property
    def children(self):
        return self.args


@dataclass(frozen=True)
class NegNode(Node):
    arg: Node
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    def __post_init__(self):
        _set_shape(self, self.arg.shape)

    @property
    def children(self):
        return (self.arg,)


@dataclass(frozen=True)
class MulNode(Node):
    """A product of two or more factors: the matrix product, scalars scale."""

    args: tuple
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    def __post_init__(self):
        flat = []
        for a in self.args:
            flat.extend(a.args if isinstance(a, MulNode) else (a,))
        object.__setattr__(self, "args", tuple(flat))
        if len(flat) < 2:
            raise NotationError("a product needs two factors")
        shape = flat[0].shape
        for a in flat[1:]:
            shape = product_shape(shape, a.shape)
        _set_shape(self, shape)

    @property
    def children(self):
        return self.args


@dataclass(frozen=True)
class DivNode(Node):
    """``num / den`` with a scalar denominator."""

    num: Node
    den: Node
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    def __post_init__(self):
        if self.den.shape != SCALAR:
            raise ShapeError(f"cannot divide by {_article(self.den.shape)} {self.den.shape} "
                             "(use inv(...) for a matrix)")
        _set_shape(self, self.num.shape)

    @property
    def children(self):
        return (self.num, self.den)


@dataclass(frozen=True)
class PowNode(Node):
    """``base ^ k`` for a scalar or square-matrix base and an integer k >= 0."""

    base: Node
    exp: int
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.exp, int) or isinstance(self.exp, bool) or self.exp < 0:
            raise NotationError(f"exponent must be an integer >= 0, got {self.exp!r}")
        if self.base.shape not in (SCALAR, MATRIX):
            raise ShapeError(f"cannot raise {_article(self.base.shape)} {self.base.shape} to a power")
        _set_shape(self, self.base.shape)

    @property
    def children(self):
        return (self.base,)


@dataclass(frozen=True)
class TransposeNode(Node):
    arg: Node
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    def __post_init__(self):
        _set_shape(self, {VECTOR: COVECTOR, COVECTOR: VECTOR}.get(self.arg.shape, self.arg.shape))

    @property
    def children(self):
        return (self.arg,)


@dataclass(frozen=True)
class InverseNode(Node):
    """inv(X) of a square matrix or a scalar (assumed invertible wherever it is written)."""

    arg: Node
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    def __post_init__(self):
        if self.arg.shape not in (SCALAR, MATRIX):
            raise ShapeError(f"cannot invert {_article(self.arg.shape)} {self.arg.shape}")
        _set_shape(self, self.arg.shape)

    @property
    def children(self):
        return (self.arg,)


@dataclass(frozen=True)
class TraceNode(Node):
    arg: Node
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    def __post_init__(self):
        if self.arg.shape != MATRIX:
            raise ShapeError(f"tr needs a matrix, got {_article(self.arg.shape)} {self.arg.shape}")

    @property
    def children(self):
        return (self.arg,)


@dataclass(frozen=True)
class ExpectNode(Node):
    """E[...] over every random variable (the declared Gaussians are independent)."""

    arg: Node
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    def __post_init__(self):
        _set_shape(self, self.arg.shape)

    @property
    def children(self):
        return (self.arg,)


@dataclass(frozen=True)
class AvgNode(Node):
    """(1/n) sum_{i=1}^n of its argument, with a summation index of its own."""

    arg: Node
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    def __post_init__(self):
        _set_shape(self, self.arg.shape)

    @property
    def children(self):
        return (self.arg,)


@dataclass(frozen=True)
class RelationNode(Node):
    """``lhs rel rhs`` with rel in :data:`RELATIONS`; both sides of one shape."""

    lhs: Node
    rel: str
    rhs: Node
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    def __post_init__(self):
        if self.rel not in RELATIONS:
            raise NotationError(f"unknown relation {self.rel!r}")
        if self.lhs.shape != self.rhs.shape:
            raise ShapeError(f"the two sides differ in shape: {_article(self.lhs.shape)} "
                             f"{self.lhs.shape} and {_article(self.rhs.shape)} {self.rhs.shape}")
        if self.rel != "=" and self.lhs.shape not in (SCALAR, MATRIX):
            raise ShapeError(f"{self.rel} compares scalars or matrices, not {self.lhs.shape}s")
        _set_shape(self, self.lhs.shape)

    @property
    def children(self):
        return (self.lhs, self.rhs)


def scalar_groups(args) -> list:
    """Split a product's factors into its scalar-valued runs, left to right.

    ``u^T z z^T M x_q`` gives [[u^T, z], [z^T, M, x_q]]: printers parenthesise such runs
    ((u^T z)(z^T M x_q)) so a reader sees the scalars the product multiplies. A factor that is
    a scalar itself is a group of its own; factors after the last complete scalar run form the
    final group.
    """
    groups, current, shape = [], [], None
    for a in args:
        if not current and a.shape == SCALAR:
            groups.append([a])              # a scalar factor is a run of its own: 15 d (d + 2)
            continue
        current.append(a)
        shape = a.shape if shape is None else product_shape(shape, a.shape)
        if shape == SCALAR and len(current) > 1:
            groups.append(current)
            current, shape = [], None
    if current:
        groups.append(current)
    return groups


def walk(node: Node):
    """Every node of a tree, parents before children (iterative: no recursion limit)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def names(node: Node) -> set:
    """The names (NameNode.name) that occur in a tree."""
    return {n.name for n in walk(node) if isinstance(n, NameNode)}


__all__ = ["SCALAR", "VECTOR", "COVECTOR", "MATRIX", "SHAPES", "RELATIONS", "BUILTINS",
           "NotationError", "ShapeError", "Node", "NumberNode", "ZeroNode", "BuiltinNode", "IdentityNode",
           "NameNode", "AddNode", "NegNode", "MulNode", "DivNode", "PowNode", "TransposeNode",
           "InverseNode", "TraceNode", "ExpectNode", "AvgNode", "RelationNode", "walk", "names",
           "product_shape"]
