"""The bridge from expression trees to the index-notation engine (:mod:`derivations.alld`).

Each node becomes a :class:`~derivations.alld.tensor.Tensor`:

* declared matrices become atoms (symmetric for ``symmetric`` and ``spd``), ``I`` the delta;
* constant vectors become vector atoms, constant scalars SymPy symbols (real);
* Gaussian vectors/scalars become Gaussian occurrences (shared, or per example inside
  avg(...)), opaque ones too but without a covariance, so E[...] of them cannot be taken;
* ``*`` is the tensor product or the contraction its shapes call for, ``^T`` reverses the
  free indices, ``tr`` identifies them, ``avg`` is :func:`~derivations.alld.tensor.average`
  and ``E`` is :func:`~derivations.alld.wick.expect`;
* ``inv(X)``: X is reduced to its canonical form; a single product of atoms with a scalar
  coefficient is inverted factor by factor (``(c A B^T)^{-1} = c^{-1} B^{-T} A^{-1}``).
  A definition that is a sum (e.g. C = Sigma Omega Sigma + ...) is inverted as an *opaque*
  atom named after it, with its value attached for explicit evaluation; anything else is
  outside the engine (:class:`Undecidable`).

>>> from derivations.notation.scope import Scope
>>> from derivations.notation.parse import parse_expression
>>> from derivations.alld.canonical import Canonical
>>> s = Scope.build(matrices={"A": "general", "B": "general"})
>>> b = Bridge(s)
>>> str(Canonical.of(b.tensor(parse_expression("inv(2 * A * B^T)", s))))
'(1/2)*B.T**(-1)*A**(-1)'
"""

from __future__ import annotations

import sympy as sp

from ..alld.canonical import Canonical
from ..alld.positivity import certify_order
from ..alld.tensor import (
    Tensor,
    average,
    example,
    example_scalar,
    fresh,
    gaussian,
    identity,
    inverse,
    matrix,
    scalar,
    scalar_gaussian,
    trace,
    vector,
)
from ..alld.wick import expect
from .parse import plain_value
from .scope import builtin_symbol
from .tree import (
    COVECTOR,
    MATRIX,
    SCALAR,
    VECTOR,
    AddNode,
    AvgNode,
    BuiltinNode,
    DivNode,
    ExpectNode,
    IdentityNode,
    InverseNode,
    MulNode,
    NameNode,
    NegNode,
    NumberNode,
    PowNode,
    TraceNode,
    TransposeNode,
)


class Undecidable(Exception):
    """The claim needs a rule the engine does not have (the message says which)."""


def is_random(t: Tensor) -> bool:
    """Whether a tensor still holds random variables or unsummed context averages."""
    return any(term.slots for term in t.terms) or t.has_gaussians()


class Bridge:
    """Tensors for the nodes of one scope.

    ``opaque``: defined matrix names to keep as atoms everywhere (not only when inverted).
    After building, ``inverted`` names the atoms that occur inverted and ``atoms`` the
    defined names used as atoms (their values: :meth:`definition_value`).
    """

    def __init__(self, scope, opaque=()):
        self.scope = scope
        self.opaque = set(opaque)
        self.atoms: set = set()
        self.inverted: set = set()
        self._definitions: dict = {}
        self._symmetric: dict = {}
        self._pd: dict = {}

    # --- the scope's constants ----------------------------------------------------------
    @property
    def n(self):
        return builtin_symbol("n", self.scope)

    def covariances(self) -> dict:
        out = {}
        for table in ("vectors", "scalars", "context"):
            for name, law in getattr(self.scope, table).items():
                if law.kind != "gaussian":
                    continue
                if law.covariance.shape == MATRIX:
                    out[name] = self.tensor(law.covariance)
                else:
                    out[name] = plain_value(law.covariance, self.scope)
        return out

    def positive_definite(self) -> set:
        """Atoms known to be positive definite: spd matrices and certified definitions."""
        pd = {k for k, v in self.scope.matrices.items() if v == "spd"}
        return pd | {k for k in self.atoms if self.definition_pd(k)}

    # --- nodes -----------------------------------------------------------------------------
    def tensor(self, node) -> Tensor:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise Undecidable(f"no rule for {type(node).__name__}")
        return method(node)

    def _NumberNode(self, node: NumberNode):
        return scalar(node.value)

    def _BuiltinNode(self, node: BuiltinNode):
        return scalar(builtin_symbol(node.name, self.scope))

    def _IdentityNode(self, node: IdentityNode):
        return identity()

    def _ZeroNode(self, node):
        return Tensor([], tuple(fresh() for _ in range({VECTOR: 1, COVECTOR: 1, MATRIX: 2}[node.shape])))

    def _NameNode(self, node: NameNode):
        s, name = self.scope, node.name
        if name in s.matrices:
            return matrix(name, symmetric=s.matrices[name] != "general")
        if name in s.context:
            return example(name) if node.shape == VECTOR else example_scalar(name)
        if name in s.vectors:
            return vector(name) if s.vectors[name].kind == "constant" else gaussian(name)
        if name in s.scalars:
            if s.scalars[name].kind == "constant":
                return scalar(sp.Symbol(name, real=True))
            return scalar_gaussian(name)
        if name in s.definitions:
            if name in self.opaque:
                return self._atom(name)
            return self.tensor(s.definitions[name])
        raise Undecidable(f"unknown name {name!r}")

    def _AddNode(self, node: AddNode):
        out = self.tensor(node.args[0])
        for a in node.args[1:]:
            out = out + self.tensor(a)
        return out

    def _NegNode(self, node: NegNode):
        return -self.tensor(node.arg)

    def _MulNode(self, node: MulNode):
        out, shape = self.tensor(node.args[0]), node.args[0].shape
        for a in node.args[1:]:
            t = self.tensor(a)
            if shape == SCALAR or a.shape == SCALAR or (shape, a.shape) == (VECTOR, COVECTOR):
                out = out * t                       # scaling, or the outer product x y^T
            else:
                out = out @ t                       # a contraction
            from .tree import product_shape
            shape = product_shape(shape, a.shape)
        return out

    def _DivNode(self, node: DivNode):
        value = plain_value(node.den, self.scope)
        if value is None or sp.cancel(value) == 0:
            raise Undecidable("division by a non-constant or zero scalar")
        return self.tensor(node.num) / value

    def _PowNode(self, node: PowNode):
        base = self.tensor(node.base)
        if node.exp == 0:
            return identity() if node.shape == MATRIX else scalar(1)
        out = base
        for _ in range(node.exp - 1):
            out = out @ base if node.shape == MATRIX else out * base
        return out

    def _TransposeNode(self, node: TransposeNode):
        return self.tensor(node.arg).T

    def _TraceNode(self, node: TraceNode):
        return trace(self.tensor(node.arg))

    def _AvgNode(self, node: AvgNode):
        return average(self.tensor(node.arg), self.n)

    def _ExpectNode(self, node: ExpectNode):
        inner = self.tensor(node.arg)
        try:
            return expect(inner, self.covariances(), self.n)
        except KeyError as err:
            name = err.args[0].split("'")[1] if "'" in str(err.args[0]) else str(err.args[0])
            raise Undecidable(f"E[...] of {name}, whose law is not known to the engine (opaque)") from None

    def _InverseNode(self, node: InverseNode):
        if node.shape == SCALAR:
            value = plain_value(node.arg, self.scope)
            if value is None or sp.cancel(value) == 0:
                raise Undecidable("inv of a non-constant or zero scalar")
            return scalar(1 / value)
        arg = node.arg
        t = self.tensor(arg)
        if is_random(t):
            raise Undecidable("the inverse of a random matrix is outside the engine")
        chain = single_chain(Canonical.of(t))
        if chain is not None:
            coef, elements = chain
            if not elements:
                return identity() / coef
            out = scalar(1 / coef) if coef != 1 else None
            for e in reversed(elements):
                f = self._element(e, invert=True)
                out = f if out is None else (out * f if len(out.free) == 0 else out @ f)
            return out if out is not None else identity()
        if isinstance(arg, NameNode) and arg.role == "defined":
            return self._atom(arg.name, inverted=True)
        raise Undecidable("inv(...) of a sum: the engine inverts products of declared matrices; "
                          "define the sum as a name (C = ...) to invert it as one matrix")

    # --- atoms --------------------------------------------------------------------------
    def _element(self, e, invert=False):
        name, inv, transposed, symmetric = e
        inv = inv != invert
        if inv:
            self.inverted.add(name)
        base = inverse(name, symmetric) if inv else matrix(name, symmetric)
        return base.T if transposed else base

    def _atom(self, name, inverted=False):
        """A defined constant matrix as one opaque atom (symmetric when certified so)."""
        body = self.scope.definitions[name]
        if body.shape != MATRIX:
            raise Undecidable(f"{name} is not a matrix")
        value = self.definition_tensor(name)
        if is_random(value):
            raise Undecidable(f"{name} is random; its inverse is outside the engine")
        self.atoms.add(name)
        sym = self.definition_symmetric(name)
        if inverted:
            self.inverted.add(name)
            return inverse(name, sym)
        return matrix(name, sym)

    def definition_tensor(self, name) -> Tensor:
        if name not in self._definitions:
            sub = Bridge(self.scope)
            self._definitions[name] = sub.tensor(self.scope.definitions[name])
            self.inverted |= sub.inverted
            self.atoms |= sub.atoms
        return self._definitions[name]

    def definition_canonical(self, name) -> Canonical:
        return Canonical.of(self.definition_tensor(name))

    def definition_symmetric(self, name) -> bool:
        if name not in self._symmetric:
            t = self.definition_tensor(name)
            self._symmetric[name] = Canonical.of(t) == Canonical.of(t.T)
        return self._symmetric[name]

    def definition_pd(self, name) -> bool:
        if name not in self._pd:
            pd = {k for k, v in self.scope.matrices.items() if v == "spd"}
            self._pd[name] = (self.definition_symmetric(name)
                              and certify_order(self.definition_canonical(name), pd) == "pd")
        return self._pd[name]

    def definition_value(self, name):
        """f(env, dim, subs) -> the explicit value of a defined atom (for evaluation)."""
        canon = self.definition_canonical(name)

        def value(env, dim, subs):
            return sp.Matrix(canon.evaluate(env, dim, subs))
        return value


def single_chain(c: Canonical):
    """(coefficient, elements) when c is coef * (one product of atoms), else None."""
    if c.order != 2 or len(c.coeffs) != 1:
        return None
    (chains, closed), coef = next(iter(c.coeffs.items()))
    if closed or len(chains) != 1:
        return None
    start, seq, end = chains[0]
    if start != ("free", 0) or end != ("free", 1):
        return None
    return coef, seq


def covariance_problem(cov, scope) -> str:
    """'' when a covariance is certified valid, else the reason (one line)."""
    if cov.shape == SCALAR:
        value = plain_value(cov, scope)
        if value is None or not sp.sympify(value).is_nonnegative:
            return "a variance must be provably >= 0 (numbers, s2, n, d and their products)"
        return ""
    try:
        bridge = Bridge(scope)
        c = Canonical.of(bridge.tensor(cov))
    except Undecidable as err:
        return f"covariance: {err}"
    pd = {k for k, v in scope.matrices.items() if v == "spd"}
    if certify_order(c, pd) is None:
        return ("a covariance must be certified positive semidefinite: I, an spd matrix, inv of "
                "one, R * R^T, positive multiples and sums of these")
    return ""


__all__ = ["Bridge", "Undecidable", "is_random", "single_chain", "covariance_problem"]
