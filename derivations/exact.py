"""Exact arithmetic helpers: parsing exact numbers and comparing expressions canonically.

Nothing here uses floating point. Two expressions are equal when the numerator of
their difference, over a common denominator, expands to the zero polynomial; this
is a decision procedure for rational functions, unlike ``simplify(a - b) == 0``.

>>> from sympy import symbols
>>> n, s = symbols("n s")
>>> exact_equal(n / (n + s) + s / (n + s), 1)
True
>>> parse_rational("3/4", "noise")
3/4
"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy as sp

_RATIONAL_TEXT = re.compile(r"^\s*([+-]?\d{1,200})\s*(?:/\s*(\d{1,200})\s*)?$")


class ExactInputError(ValueError):
    """A value that should be exact (rational or symbolic) is not."""


def parse_rational(value, field: str) -> sp.Rational:
    """Return ``value`` as a SymPy Rational; accept int, Fraction, Rational or "p/q" text.

    Floats are refused: 0.1 is not 1/10, and onestep never guesses.
    """
    if isinstance(value, bool):
        raise ExactInputError(f"{field}: expected an exact number, got a boolean")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, sp.Rational):
        return value
    if isinstance(value, str):
        match = _RATIONAL_TEXT.match(value)
        if not match:
            raise ExactInputError(f"{field}: {value!r} is not an exact number (write e.g. 3 or '1/4')")
        num, den = int(match.group(1)), int(match.group(2) or 1)
        if den == 0:
            raise ExactInputError(f"{field}: {value!r} divides by zero")
        return sp.Rational(num, den)
    if isinstance(value, float):
        raise ExactInputError(
            f"{field}: {value!r} is a float; give an exact value such as "
            f"'{Fraction(value).limit_denominator(1000)}'"
        )
    raise ExactInputError(f"{field}: expected an exact number, got {type(value).__name__}")


def parse_exact(value, field: str) -> sp.Expr:
    """Like :func:`parse_rational` but also accept SymPy expressions built from symbols."""
    if isinstance(value, sp.Basic) and not isinstance(value, sp.Rational):
        if not isinstance(value, sp.Expr):
            raise ExactInputError(f"{field}: expected a scalar expression, got {type(value).__name__}")
        if value.has(sp.Float):
            raise ExactInputError(f"{field}: {value} contains a float; use exact rationals")
        return value
    return parse_rational(value, field)


def is_zero(expr) -> bool:
    """Decide exactly whether a rational function of symbols is identically zero."""
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    numerator, _ = sp.together(expr).as_numer_denom()
    return sp.expand(numerator) == 0


def exact_equal(a, b) -> bool:
    """Exact equality of scalars or matrices (entrywise) as rational functions."""
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        a, b = sp.Matrix(a), sp.Matrix(b)
        if a.shape != b.shape:
            return False
        return all(is_zero(x - y) for x, y in zip(a, b, strict=True))
    return is_zero(sp.sympify(a) - sp.sympify(b))


def canonical(expr):
    """A canonical form for display and comparison: a cancelled rational function, factored."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(canonical)
    expr = sp.cancel(sp.together(sp.sympify(expr)))
    return sp.factor(expr) if expr.free_symbols else expr
