"""Exact values: converting user input to exact SymPy objects, and comparing canonically.

Nothing here uses floating point, and no text is ever evaluated. User values become exact
through :func:`as_exact` / :func:`as_exact_matrix`:

* ints, ``fractions.Fraction``, SymPy rationals and SymPy expressions free of floats are exact;
* text goes through the whitelist parser (:mod:`derivations.textparse`): integers, fractions,
  ``+ - * / ^``, parentheses and the names the caller allows (e.g. ``n``, ``s2``) -- never
  ``eval`` or ``sympify``;
* Python floats (and NaN / infinity) are refused: 0.1 is not 1/10, and onestep never guesses.
  Write ``"1/10"``, ``Fraction(1, 10)`` or ``sympy.Rational(1, 10)``.

Two expressions are equal when the numerator of their difference, over a common denominator,
expands to the zero polynomial; this is a decision procedure for rational functions, unlike
``simplify(a - b) == 0``.

>>> from sympy import symbols
>>> n, s = symbols("n s")
>>> exact_equal(n / (n + s) + s / (n + s), 1)
True
>>> parse_rational("3/4", "noise")
3/4
>>> as_exact("n/(n + 3)", "eta", names={"n": n})
n/(n + 3)
>>> as_exact(0.64, "eta")                                  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
derivations.errors.ExactInputError: eta: 0.64 is a float, not an exact value; write it as ... '16/25' ...
"""

from __future__ import annotations

import math
import numbers
import re
from fractions import Fraction

import sympy as sp

from .errors import ExactInputError
from .textparse import Grammar, parse

_RATIONAL_TEXT = re.compile(r"^\s*([+-]?[0-9]{1,200})\s*(?:/\s*([0-9]{1,200})\s*)?$", re.ASCII)


def _float_message(field: str, value) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{field}: {value!r} is not a finite number"
    text = repr(float(value))
    try:
        hint = str(Fraction(text).limit_denominator(10**6))
    except (ValueError, OverflowError):
        hint = "p/q"
    return (f"{field}: {text} is a float, not an exact value; write it as text such as "
            f"'{hint}' or as fractions.Fraction / sympy.Rational")


def parse_rational(value, field: str) -> sp.Rational:
    """Return ``value`` as a SymPy Rational; accept int, Fraction, Rational or "p/q" text.

    Floats are refused: 0.1 is not 1/10, and onestep never guesses. Text must use the ASCII
    digits 0-9.
    """
    if isinstance(value, bool):
        raise ExactInputError(f"{field}: expected an exact number, got a boolean")
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, sp.Rational):
        return value
    if isinstance(value, str):
        match = _RATIONAL_TEXT.match(value)
        if not match:
            if any(ch.isdigit() and not ch.isascii() for ch in value):
                raise ExactInputError(f"{field}: {value!r} contains a non-ASCII digit; "
                                      "write numbers with the ASCII digits 0-9")
            raise ExactInputError(f"{field}: {value!r} is not an exact number (write e.g. 3 or '1/4')")
        num, den = int(match.group(1)), int(match.group(2) or 1)
        if den == 0:
            raise ExactInputError(f"{field}: {value!r} divides by zero")
        return sp.Rational(num, den)
    if isinstance(value, numbers.Real):
        raise ExactInputError(_float_message(field, value))
    raise ExactInputError(f"{field}: expected an exact number, got {type(value).__name__}")


def _check_sympy(value: sp.Basic, field: str) -> sp.Expr:
    if isinstance(value, sp.MatrixBase):
        raise ExactInputError(f"{field}: expected a scalar, got a {value.rows}x{value.cols} matrix")
    if not isinstance(value, sp.Expr):
        raise ExactInputError(f"{field}: expected a scalar expression, got {type(value).__name__}")
    if value.has(sp.Float):
        raise ExactInputError(f"{field}: {value} contains a float; use exact rationals")
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise ExactInputError(f"{field}: {value} is not a finite value")
    return value


def as_exact(value, field: str, names: dict | None = None) -> sp.Expr:
    """An exact SymPy scalar from a user value (see the module docstring).

    ``names`` lists the symbols a text value may use (by name); without it text may hold
    numbers only.
    """
    if isinstance(value, sp.Basic):
        return _check_sympy(value, field)
    if isinstance(value, str):
        return parse(value, field, Grammar(names=dict(names or {})))
    return parse_rational(value, field)


def parse_exact(value, field: str) -> sp.Expr:
    """Like :func:`parse_rational` but also accept SymPy expressions built from symbols."""
    if isinstance(value, sp.Basic) and not isinstance(value, sp.Rational):
        return _check_sympy(value, field)
    return parse_rational(value, field)


def as_exact_matrix(value, field: str, shape: tuple | None = None, names: dict | None = None) -> sp.Matrix:
    """An exact SymPy matrix from a SymPy matrix or a list of rows (a flat list is a column).

    Every entry goes through :func:`as_exact`; ``shape`` (rows, cols) is enforced.
    """
    if isinstance(value, sp.MatrixBase):
        rows = value.tolist()
    elif hasattr(value, "tolist") and not isinstance(value, (str, sp.Basic)):
        rows = value.tolist()          # numpy arrays: entries are checked one by one below
    else:
        rows = value
    if not isinstance(rows, (list, tuple)) or len(rows) == 0:
        raise ExactInputError(f"{field}: expected a matrix (a list of rows) or a SymPy Matrix, "
                              f"got {type(value).__name__}")
    if all(not isinstance(r, (list, tuple)) for r in rows):
        rows = [[x] for x in rows]       # a flat list is a column vector
    if not all(isinstance(r, (list, tuple)) for r in rows):
        raise ExactInputError(f"{field}: mixes rows and scalars")
    width = len(rows[0])
    if width == 0 or any(len(r) != width for r in rows):
        raise ExactInputError(f"{field}: rows of unequal or zero length")
    entries = [[as_exact(x, f"{field}[{i + 1},{j + 1}]", names) for j, x in enumerate(r)]
               for i, r in enumerate(rows)]
    matrix = sp.Matrix(entries)
    if shape is not None and matrix.shape != tuple(shape):
        raise ExactInputError(f"{field}: must be {shape[0]}x{shape[1]}, got {matrix.rows}x{matrix.cols}")
    return matrix


def _internal(value):
    """A SymPy object for comparison helpers: SymPy objects and exact numbers only.

    Text and floats are refused here too, so these helpers can never evaluate a string.
    """
    if isinstance(value, sp.Basic):
        if value.has(sp.Float):
            raise ExactInputError(f"{value} contains a float; exact comparison needs exact values")
        return value
    if isinstance(value, (bool, str)) or not isinstance(value, (numbers.Integral, Fraction)):
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            raise ExactInputError(_float_message("value", value))
        raise ExactInputError(f"expected a SymPy object or an exact number, got {type(value).__name__}")
    return parse_rational(value, "value")


def is_zero(expr) -> bool:
    """Decide exactly whether a rational function of symbols is identically zero."""
    expr = _internal(expr)
    if expr == 0:
        return True
    numerator, _ = sp.together(expr).as_numer_denom()
    return sp.expand(numerator) == 0


def exact_equal(a, b) -> bool:
    """Exact equality of scalars or matrices (entrywise) as rational functions."""
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        if not (isinstance(a, sp.MatrixBase) and isinstance(b, sp.MatrixBase)):
            return False
        if a.shape != b.shape:
            return False
        return all(is_zero(x - y) for x, y in zip(a, b, strict=True))
    return is_zero(_internal(a) - _internal(b))


def canonical(expr):
    """A canonical form for display and comparison: a cancelled rational function, factored."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(canonical)
    expr = sp.cancel(sp.together(_internal(expr)))
    return sp.factor(expr) if expr.free_symbols else expr
