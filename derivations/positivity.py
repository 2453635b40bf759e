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

import math

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
    matrix = as_exact_matrix(matrix, "certify_positive_definite")
    fast = _certify_positive_definite_flint(matrix)
    if fast is not None:
        return fast
    minors = leading_minors(matrix)
    for k, minor in enumerate(minors, start=1):
        verdict = certify_positive(minor)
        if verdict is not True:
            return verdict, f"leading principal minor {k} = {sp.factor(minor)}"
    if len(minors) < matrix.rows:
        return False, f"leading principal minor {len(minors)} is zero"
    return True, f"all {matrix.rows} leading principal minors certified positive"


# --- the same certificate with python-flint polynomials (fast for d x d factors) ----------

def _certify_positive_definite_flint(matrix: sp.Matrix):
    """certify_positive_definite with flint arithmetic, or None when it does not apply.

    It applies when the entries are rational functions in n, s2 and symbols declared
    positive whose common denominator is a positive monomial (a positive rational times
    powers of n and of positive symbols), so scaling by it cannot change a sign. The k-th
    minor of the scaled matrix is then certified exactly as :func:`certify_positive`
    does (coefficients after n = 1 + m), with one difference: the scaled minor is not first
    cancelled against the scale, which can only certify more, never wrongly (the scale is
    positive). Anything else falls back to the SymPy route.
    """
    from .polymatrix import PolyDomain, bareiss

    free = set().union(*(sp.sympify(x).free_symbols for x in matrix))
    if not free:
        return _certify_numeric(matrix)
    if any(s not in (pinned.n, pinned.s2) and not s.is_positive for s in free):
        return None
    dom = PolyDomain(free)
    try:
        fractions = [dom.fraction(x) for x in matrix]
    except ValueError:
        return None
    common = dom.one
    for _, den in fractions:
        common = common * den / common.gcd(den)
    terms = common.to_dict()
    positive_index = {i for i, s in enumerate(dom.symbols) if s.is_positive}
    if len(terms) != 1:
        return None
    (monom, coeff), = terms.items()
    if coeff <= 0 or any(e and i not in positive_index for i, e in enumerate(monom)):
        return None
    k = matrix.rows
    scaled = [[fractions[i * k + j][0] * (common / fractions[i * k + j][1]) for j in range(k)]
              for i in range(k)]
    minors = bareiss(scaled)
    shift = [g + 1 if dom.symbols[i] == pinned.n else g for i, g in enumerate(dom.gens[:len(dom.symbols)])]
    # after n = 1 + m the shifted variable is only nonnegative, like s2
    strictly_positive = {i for i in positive_index if dom.symbols[i] != pinned.n}
    for index, minor in enumerate(minors, start=1):
        if minor.is_constant():
            if minor.is_zero() or minor.leading_coefficient() <= 0:
                return False, f"leading principal minor {index} = {sp.factor(dom.ratio(minor, common ** index))}"
            continue
        shifted = minor.compose(*shift) if shift else minor
        items = shifted.to_dict().items()
        ok = all(c > 0 for _, c in items) and any(
            all(e == 0 or i in strictly_positive for i, e in enumerate(m)) for m, _ in items)
        if not ok:
            return None, f"leading principal minor {index} = {sp.factor(dom.ratio(minor, common ** index))}"
    if len(minors) < k:
        return False, f"leading principal minor {len(minors)} is zero"
    return True, f"all {k} leading principal minors certified positive"


def _certify_numeric(matrix: sp.Matrix):
    """Leading principal minors of a rational matrix with flint's fraction-free LU (in C).

    The matrix is scaled by the (positive) lcm of its denominators to an integer matrix; when
    every leading minor is nonzero, fflu needs no row exchange and the diagonal of U holds the
    leading principal minors of the scaled matrix (same signs as the original's).
    """
    import flint

    k = matrix.rows
    entries = [sp.Rational(x) for x in matrix]
    scale = 1
    for e in entries:
        scale = scale * e.q // math.gcd(scale, e.q)
    integer = flint.fmpz_mat(k, k, [int(e * scale) for e in entries])
    P, _, _, U = integer.fflu()
    identity = all(P[i, j] == (1 if i == j else 0) for i in range(k) for j in range(k))
    minors = [U[i, i] for i in range(k)]
    for index in range(1, k + 1):
        # a row exchange at step index means the index-th leading minor is zero
        exchanged = not identity and any(P[i, j] != (1 if i == j else 0)
                                         for i in range(index) for j in range(k))
        value = 0 if exchanged else minors[index - 1]
        if value <= 0:
            exact = sp.Matrix(matrix[:index, :index]).det(method="bareiss")
            return False, f"leading principal minor {index} = {sp.factor(exact)}"
    return True, f"all {k} leading principal minors certified positive"
