"""Display-only nodes: what onestep's own proof statements need beyond the matrix language.

The statement language (:mod:`.parse`) writes matrices, vectors and scalars. A few of the
project's claims are about tensors or mix in SymPy objects, so three small nodes complete the
vocabulary. They are never parsed from text and never evaluated (a step's check is separate);
the printers (:mod:`.latex`, :mod:`.text`) have one method for each:

* :class:`OuterNode` -- ``a (x) b (x) ...``, the tensor (Kronecker) product: the lift
  ``u (x) M``, the features ``avg(z_i z_i^T) (x) x_q``, ``E[x_q x_q^T] (x) E[g g^T]``;
* :class:`InnerNode` -- ``<a, b>``, the full contraction of two tensors of one shape;
* :class:`SympyNode` -- a SymPy expression (or matrix expression) standing inside a tree, e.g.
  ``E[t g(rho t)]`` or a block matrix;
* :class:`IntervalNode` -- ``[lo, hi]`` with decimal endpoints, a rigorous enclosure (printed
  as the decimals it was rounded to, never as fractions).

>>> from derivations.statements import expression as e
>>> from derivations.printing import latex, text
>>> lift = InnerNode(OuterNode((e("u"), e("M"))), e("F"))
>>> latex(lift), text(lift)
('\\\\left\\\\langle u \\\\otimes M, F\\\\right\\\\rangle', '<u (x) M, F>')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .tree import MATRIX, SCALAR, VECTOR, Node, NotationError

#: the shape of a product of tensors that is not a matrix (a display-only shape)
TENSOR = "tensor"


def _shape_of(obj) -> str:
    if isinstance(obj, Node):
        return obj.shape
    return MATRIX if isinstance(obj, (sp.MatrixBase, sp.MatrixExpr)) else SCALAR


@dataclass(frozen=True)
class OuterNode(Node):
    """The tensor product of two or more factors (flattened: ``(a (x) b) (x) c`` is one node).

    Two matrices give their Kronecker product (a matrix), two vectors the matrix ``a b^T``;
    anything else is a higher-order tensor.
    """

    args: tuple
    shape: str = field(default=TENSOR, init=False, compare=False, repr=False)

    def __post_init__(self):
        flat = []
        for a in self.args:
            flat.extend(a.args if isinstance(a, OuterNode) else (a,))
        if len(flat) < 2:
            raise NotationError("a tensor product needs two factors")
        object.__setattr__(self, "args", tuple(flat))
        shapes = [_shape_of(a) for a in flat]
        if SCALAR in shapes:
            raise NotationError("a tensor product of a scalar: write a product instead")
        matrix = all(s == MATRIX for s in shapes) or shapes == [VECTOR, VECTOR]
        object.__setattr__(self, "shape", MATRIX if matrix else TENSOR)

    @property
    def children(self):
        return tuple(a for a in self.args if isinstance(a, Node))


@dataclass(frozen=True)
class InnerNode(Node):
    """``<left, right>``: the sum over every index of the entrywise product (a scalar)."""

    left: object
    right: object
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    @property
    def children(self):
        return tuple(a for a in (self.left, self.right) if isinstance(a, Node))


@dataclass(frozen=True)
class SympyNode(Node):
    """A SymPy object inside a statement tree (printed by the SymPy side of the printers)."""

    expr: object
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.expr, sp.Basic):
            raise NotationError(f"SympyNode holds a SymPy object, got {type(self.expr).__name__}")
        object.__setattr__(self, "shape", _shape_of(self.expr))

    @property
    def is_sum(self) -> bool:
        return isinstance(self.expr, (sp.Add, sp.MatAdd))


@dataclass(frozen=True)
class IntervalNode(Node):
    """A closed interval with decimal endpoints (text such as ``"0.1234"``), e.g. an enclosure."""

    lo: str
    hi: str
    shape: str = field(default=SCALAR, init=False, compare=False, repr=False)

    def __post_init__(self):
        for end in (self.lo, self.hi):
            try:
                sp.Rational(end)
            except (TypeError, ValueError, SyntaxError):
                raise NotationError(f"an interval endpoint must be a decimal, got {end!r}") from None


def scaled_identity(name: str) -> Node:
    """``c I`` for a scalar written ``name`` (a SymPy symbol): C = c I, B = b I."""
    from .tree import IdentityNode, MulNode

    return MulNode((SympyNode(sp.Symbol(name)), IdentityNode()))


__all__ = ["OuterNode", "InnerNode", "SympyNode", "IntervalNode", "scaled_identity", "TENSOR"]
