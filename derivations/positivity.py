"""Exact positivity certificates for rational functions of n, s2 and positive symbols.

A rational function is certified positive on n >= 1, s2 >= 0 (and symbols declared
positive) when, after substituting n = 1 + m, its numerator and denominator are
polynomials in (m, s2, symbols) whose coefficients are all positive and which each have
a monomial in the strictly positive symbols alone. That is sufficient, not necessary, so
a failure to certify is reported as undecided, never as "negative".

>>> import sympy as sp
>>> from derivations.symbols import n, s2
>>> certify_positive((n + 2 + s2) / n)
True
>>> certify_positive(n - 2) is None
True
>>> certify_positive(sp.Integer(-3))
False
"""

from __future__ import annotations

import sympy as sp

from . import symbols as pinned

_M = sp.Symbol("m_shift", nonnegative=True)


def _poly_positive(poly_expr, nonneg, positive) -> bool | None:
    gens = sorted(poly_expr.free_symbols, key=str)
    if not gens:
        return bool(poly_expr > 0) if poly_expr != 0 else False
    poly = sp.Poly(poly_expr, *gens)
    coeffs = poly.coeffs()
    if not all(c > 0 for c in coeffs):
        return None
    for monom in poly.monoms():
        if all(e == 0 or g in positive for g, e in zip(gens, monom)):
            return True
    return None


def certify_positive(expr) -> bool | None:
    """True if certified > 0 for all n >= 1, s2 >= 0, positive symbols; False if a number <= 0."""
    expr = sp.sympify(expr)
    if expr.is_number:
        return bool(expr > 0)
    expr = expr.subs(pinned.n, _M + 1)
    num, den = sp.together(expr).as_numer_denom()
    num, den = sp.expand(num), sp.expand(den)
    free = num.free_symbols | den.free_symbols
    nonneg = {s for s in free if s in (_M, pinned.s2)}
    positive = {s for s in free if s.is_positive}
    unknown = free - nonneg - positive
    if unknown:
        return None
    sign_num, sign_den = _poly_positive(num, nonneg, positive), _poly_positive(den, nonneg, positive)
    if sign_num is None or sign_den is None:
        # both negative is also positive
        if _poly_positive(-num, nonneg, positive) and _poly_positive(-den, nonneg, positive):
            return True
        return None
    return sign_num and sign_den


def certify_positive_definite(matrix: sp.Matrix):
    """(status, detail): leading principal minors certified positive.

    status True: positive definite for all admissible n, s2, symbols; None: undecided;
    False: a minor is a non-positive number.
    """
    for k in range(1, matrix.rows + 1):
        minor = sp.factor(sp.cancel(matrix[:k, :k].det(method="berkowitz")))
        verdict = certify_positive(minor)
        if verdict is not True:
            return verdict, f"leading principal minor {k} = {minor}"
    return True, f"all {matrix.rows} leading principal minors certified positive"
