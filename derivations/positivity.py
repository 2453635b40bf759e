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
from .exact import as_exact, as_exact_matrix

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
        if all(e == 0 or g in positive for g, e in zip(gens, monom, strict=True)):
            return True
    return None


def certify_positive(expr) -> bool | None:
    """True if certified > 0 for all n >= 1, s2 >= 0, positive symbols; False if a number <= 0."""
    expr = as_exact(expr, "certify_positive")
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


def leading_minors(matrix: sp.Matrix) -> list:
    """All leading principal minors, by fraction-free (Bareiss) elimination in a sparse ring.

    Entries are first brought over a common denominator D (the k-th minor of D*M is
    D^k times that of M, so signs are unchanged for D > 0); the elimination then uses only
    exact divisions of polynomials.
    """
    k = matrix.rows
    entries = [sp.together(as_exact(x, "leading_minors")) for x in matrix]
    denominators = [sp.denom(e) for e in entries]
    common = sp.lcm_list(denominators) if denominators else sp.Integer(1)
    scaled = [sp.cancel(e * common) for e in entries]
    gens = sorted(set().union(*(e.free_symbols for e in scaled)), key=str)
    if not gens:
        M = [[sp.Rational(scaled[i * k + j]) for j in range(k)] for i in range(k)]
        one = sp.Integer(1)
    else:
        _, polys = sp.polys.rings.sring(scaled + [sp.Integer(1)], *gens)
        one = polys[-1]
        M = [[polys[i * k + j] for j in range(k)] for i in range(k)]
    minors, previous = [], one
    for step in range(k):
        pivot = M[step][step]
        minors.append(pivot)
        if not pivot:
            # a zero leading minor: the remaining ones are not needed (not positive definite)
            break
        for i in range(step + 1, k):
            for j in range(step + 1, k):
                value = pivot * M[i][j] - M[i][step] * M[step][j]
                M[i][j] = value if previous == one else _exact_div(value, previous)
        previous = pivot
    out = []
    for m, minor in enumerate(minors):
        expr = minor.as_expr() if hasattr(minor, "as_expr") else minor
        out.append(sp.cancel(expr / common ** (m + 1)))
    return out


def _exact_div(a, b):
    if isinstance(a, sp.Basic):          # plain rationals (no symbols left)
        return a / b
    q, r = a.div(b)
    if r:
        raise ArithmeticError("Bareiss division was not exact")
    return q


def certify_positive_definite(matrix: sp.Matrix):
    """(status, detail): leading principal minors certified positive.

    status True: positive definite for all admissible n, s2, symbols; None: undecided;
    False: a minor is a non-positive number.
    """
    minors = leading_minors(as_exact_matrix(matrix, "certify_positive_definite"))
    for k, minor in enumerate(minors, start=1):
        verdict = certify_positive(minor)
        if verdict is not True:
            return verdict, f"leading principal minor {k} = {sp.factor(minor)}"
    if len(minors) < matrix.rows:
        return False, f"leading principal minor {len(minors)} is zero"
    return True, f"all {matrix.rows} leading principal minors certified positive"
