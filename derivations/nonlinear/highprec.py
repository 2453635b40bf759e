"""Links as rigorous ball functions: a SymPy link compiled to an acb callable (no eval).

``compile_acb(expr)`` walks the expression tree (numbers, the variable, +, *, integer powers,
tanh, erf, sin, cos, exp, relu, abs, sign) and returns a callable ``fn(z, analytic, signs)``
for flint's ``acb.integral``: relu / abs / sign of a polynomial argument are *resolvable*
(their real roots are the ``kinks``; on an interval between kinks the caller passes the branch
signs, so the function handed to ``acb.integral`` is analytic there); other piecewise nodes
decide their branch from the ball itself and report a non-finite value when the sign of the
argument is undecided and analyticity is required, so ``acb.integral`` bisects around the kink.
Constants are enclosed rigorously (:func:`arb_value`). Used by :mod:`.enclosure` and
:mod:`.hypotheses`.

>>> from flint import acb
>>> from derivations.nonlinear.parse import S, relu
>>> g = compile_acb(relu(S - sp.Rational(1, 2)))
>>> g.kinks, g.fn(acb(2), False, None)
({1/2}, 1.50000000000000)
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy as sp
from flint import acb, arb

from .parse import S, relu


class UnsupportedLink(ValueError):
    """A link the ball routines cannot evaluate or bound (unknown node, unbounded growth)."""


# --- compiling a link to an acb callable ----------------------------------------------------

_ACB_FUNCS = {sp.tanh: acb.tanh, sp.erf: acb.erf, sp.sin: acb.sin, sp.cos: acb.cos,
              sp.exp: acb.exp}
_PIECEWISE = (relu, sp.Abs, sp.sign)
_NAN = None


def _nan():
    global _NAN
    if _NAN is None:
        _NAN = acb(arb("nan"))
    return _NAN


def _const(q):
    """An exact real constant as an arb ball at the current precision (rigorous)."""
    return arb_value(q)


_ARB_FUNCS = {sp.tanh: arb.tanh, sp.erf: arb.erf, sp.sin: arb.sin, sp.cos: arb.cos,
              sp.exp: arb.exp}


def arb_value(expr) -> arb:
    """A rigorous ball for a closed real SymPy number built from rationals, pi, E, integer and
    half-integer powers, exp, sin, cos, tanh, erf, abs, sign, relu, Max; UnsupportedLink else.

    >>> arb_value(sp.sin(sp.Rational(1, 2)) ** 2 + sp.cos(sp.Rational(1, 2)) ** 2).contains(1)
    True
    """
    expr = sp.sympify(expr)
    if expr.is_Rational:
        return arb(int(expr.p)) / int(expr.q)
    if expr is sp.pi:
        return arb.pi()
    if expr is sp.E:
        return arb(1).exp()
    if expr.is_Add or expr.is_Mul:
        vals = [arb_value(a) for a in expr.args]
        out = vals[0]
        for v in vals[1:]:
            out = out + v if expr.is_Add else out * v
        return out
    if expr.is_Pow:
        base = arb_value(expr.base)
        if expr.exp.is_Integer:
            return base ** int(expr.exp)
        if expr.exp.is_Rational and base > 0:
            return base ** (arb(int(expr.exp.p)) / int(expr.exp.q))
        raise UnsupportedLink(f"cannot enclose {expr}")
    if expr.func in _ARB_FUNCS and len(expr.args) == 1:
        return _ARB_FUNCS[expr.func](arb_value(expr.args[0]))
    if isinstance(expr, (relu, sp.Abs, sp.sign)) or isinstance(expr, sp.Max):
        args = [arb_value(a) for a in expr.args]
        if isinstance(expr, sp.Abs):
            return abs(args[0])
        if isinstance(expr, sp.Max):
            out = args[0]
            for v in args[1:]:
                out = out.max(v)
            return out
        v = args[0]
        if v > 0:
            return v if isinstance(expr, relu) else arb(1)
        if v < 0:
            return arb(0) if isinstance(expr, relu) else arb(-1)
        if isinstance(expr, relu):
            return (v + abs(v)) / 2
        return arb(0, 1)
    raise UnsupportedLink(f"cannot enclose {expr}")


def _piece_value(kind, z, sgn):
    """relu / abs / sign on the analytic branch ``sgn`` (+1 or -1) of their argument."""
    if kind is relu:
        return z if sgn > 0 else z * 0
    if kind is sp.Abs:
        return z if sgn > 0 else -z
    return acb(sgn)


def _piece_hull(kind, z):
    """Rigorous enclosure of relu / abs / sign of a real ball straddling 0."""
    a = abs(z)
    if kind is relu:
        return acb((z.real + a) / 2)
    if kind is sp.Abs:
        return acb(a)
    return acb(arb(0, 1))


class _Compiled:
    """A link as an acb callable ``fn(z, analytic, signs)``.

    ``signs`` maps each *resolvable* piecewise node (relu / abs / sign of a polynomial in s,
    whose real roots are the ``kinks``) to the sign of its argument on the current piece.
    Other piecewise nodes decide their branch from the ball itself and report a non-finite
    value (non-analytic) when the sign of the argument is undecided on the ball.
    """

    def __init__(self, expr, var=S):
        self.var = var
        self.resolvable = {}     # node -> compiled argument
        self.kinks = set()       # real roots (SymPy numbers) of resolvable arguments
        self._kink_cache: dict = {}
        self.fn = self._walk(expr)

    def _walk(self, expr):
        var = self.var
        if expr == var:
            return lambda z, an, sg: z
        if expr.is_number:
            if not expr.is_real:
                raise UnsupportedLink(f"non-real constant {expr}")
            val = acb(_const(expr))
            return lambda z, an, sg: val
        if expr.is_Add or expr.is_Mul:
            parts = [self._walk(a) for a in expr.args]
            if expr.is_Add:
                def add(z, an, sg):
                    out = parts[0](z, an, sg)
                    for p in parts[1:]:
                        out = out + p(z, an, sg)
                    return out
                return add

            def mul(z, an, sg):
                out = parts[0](z, an, sg)
                for p in parts[1:]:
                    out = out * p(z, an, sg)
                return out
            return mul
        if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0:
            base, k = self._walk(expr.base), int(expr.exp)
            return lambda z, an, sg: base(z, an, sg) ** k
        if expr.func in _ACB_FUNCS and len(expr.args) == 1:
            inner, fn = self._walk(expr.args[0]), _ACB_FUNCS[expr.func]
            return lambda z, an, sg: fn(inner(z, an, sg))
        if isinstance(expr, _PIECEWISE) and len(expr.args) == 1:
            arg = expr.args[0]
            inner, kind = self._walk(arg), expr.func
            if arg.is_polynomial(var) and arg.has(var):
                self.resolvable[expr] = inner
                for root in sp.Poly(arg, var).real_roots():
                    self.kinks.add(root)

            def piecewise(z, an, sg, inner=inner, kind=kind, node=expr):
                v = inner(z, an, sg)
                sgn = sg.get(node) if sg else None
                if sgn is None:
                    if v.real > 0:
                        sgn = 1
                    elif v.real < 0:
                        sgn = -1
                    elif an or not v.imag.is_zero():
                        return _nan()
                    else:
                        return _piece_hull(kind, v)
                return _piece_value(kind, v, sgn)
            return piecewise
        raise UnsupportedLink(f"cannot evaluate {expr} numerically")

    def kink_intervals(self, bits: int = 200) -> list:
        """Disjoint dyadic intervals (Fractions lo <= hi), each containing one real kink:
        exact isolating intervals of the arguments' roots (Sturm), widened outward to
        multiples of 2^-bits (so they are exact arb endpoints). A rational kink is a single
        point (lo == hi). Computed once per compiled link."""
        cached = self._kink_cache.get(bits)
        if cached is not None:
            return cached
        out = []
        for node in self.resolvable:
            poly = sp.Poly(node.args[0], self.var)
            if not all(c.is_Rational for c in poly.all_coeffs()):
                raise UnsupportedLink(f"kinks of {node} with irrational coefficients")
            for (lo, hi), _ in poly.intervals(eps=sp.Rational(1, 2**bits)):
                lo, hi = Fraction(int(lo.p), int(lo.q)), Fraction(int(hi.p), int(hi.q))
                scale = 2**bits
                lo_d = Fraction(math.floor(lo * scale), scale) if lo != hi else lo
                hi_d = Fraction(math.ceil(hi * scale), scale) if lo != hi else hi
                out.append((lo_d, hi_d))
        self._kink_cache[bits] = sorted(set(out))
        return self._kink_cache[bits]

    def pieces(self, lo: Fraction, hi: Fraction, split_at_zero: bool = False) -> list:
        """[(a, b, signs)] covering [lo, hi]: between kinks the branch signs are fixed (decided
        at the piece's midpoint); a kink's own tiny interval gets signs None, so the integrand
        decides from the ball (non-analytic there: acb.integral falls back to a rigorous
        enclosure on that sliver)."""
        kinks = [(a, b) for a, b in self.kink_intervals() if b > lo and a < hi]
        points = {lo, hi} | ({Fraction(0)} if split_at_zero and lo < 0 < hi else set())
        for a, b in kinks:
            points |= {max(a, lo), min(b, hi)}
        points = sorted(points)
        out = []
        for a, b in zip(points[:-1], points[1:], strict=True):
            if a == b:
                continue
            if any(ka <= a and b <= kb for ka, kb in kinks if ka < kb):
                out.append((a, b, None))
                continue
            mid = (a + b) / 2
            signs = self.signs_at(arb(mid.numerator) / mid.denominator) if self.resolvable else None
            if signs and any(v is None for v in signs.values()):
                signs = {k: v for k, v in signs.items() if v is not None}
            out.append((a, b, signs))
        return out

    def signs_at(self, s):
        """Signs of the resolvable arguments at the real point ``s`` (arb); None if undecided."""
        out = {}
        for node, inner in self.resolvable.items():
            v = inner(acb(s), False, None).real
            out[node] = 1 if v > 0 else (-1 if v < 0 else None)
        return out


def compile_acb(expr: sp.Expr, var: sp.Symbol = S) -> _Compiled:
    """Compile ``expr`` (a link in ``var``, or a closed number) for ``acb.integral``."""
    return _Compiled(expr, var)


def _parity(expr):
    """+1 (even), -1 (odd) or 0 (neither), decided structurally (sound: only says +-1 when
    g(-s) is literally +-g(s) after SymPy's automatic simplification and expansion)."""
    flipped = sp.expand(expr.xreplace({S: -S}))
    e = sp.expand(expr)
    if flipped == e:
        return 1
    if flipped == -e:
        return -1
    return 0


def dyadic(q: Fraction) -> arb:
    """A dyadic Fraction as an exact arb (raises if the denominator is not a power of 2)."""
    den = q.denominator
    if den & (den - 1):
        raise ValueError(f"{q} is not dyadic")
    return arb(q.numerator) * arb(2) ** -(den.bit_length() - 1) if den > 1 else arb(q.numerator)


__all__ = ["UnsupportedLink", "compile_acb", "arb_value", "dyadic"]
