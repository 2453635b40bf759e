"""Exact linear algebra over QQ[x_1..x_k] with python-flint: solves and leading minors.

The certified optimum needs a handful of small exact computations whose entries are
polynomials in n, s2 and a task's own symbols: solving the d x d normal equations
Gamma C = B, the leading principal minors of C (positivity), and the optimal loss. SymPy's
expression trees make these slow at d >= 8 (rational functions of degree d in two
variables); python-flint's sparse multivariate polynomials (``fmpq_mpoly``) do the same
arithmetic in C.

Everything here is exact and fraction free:

* :class:`PolyDomain` converts SymPy polynomials / rational functions to flint polynomials
  over a fixed tuple of symbols and back (a quotient is cancelled by its gcd and shown
  factored, as :func:`derivations.exact.canonical` would);
* :func:`bareiss` eliminates without fractions: every division it performs is exact (flint
  raises if one is not, so a wrong pivot can never pass silently); its pivots are the
  leading principal minors;
* :func:`solve` returns X = N / delta for A X = R with delta = det A and N polynomial
  (Cramer's rule: delta X has polynomial entries).

>>> import sympy as sp
>>> n = sp.Symbol("n")
>>> dom = PolyDomain([n])
>>> A = [[dom.poly(n + 1), dom.poly(1)], [dom.poly(1), dom.poly(n + 1)]]
>>> [dom.to_expr(m) for m in bareiss(A)]
[n + 1, n**2 + 2*n]
>>> N, delta = solve(A, [[dom.poly(1)], [dom.poly(0)]])
>>> dom.ratio(N[0][0], delta)
(n + 1)/(n*(n + 2))
"""

from __future__ import annotations

import flint
import sympy as sp

#: quotients with at most this many terms are shown exactly as sympy.factor shows them
SMALL_TERMS = 40


class PolyDomain:
    """Polynomials with rational coefficients in a fixed tuple of SymPy symbols (flint)."""

    def __init__(self, symbols=()):
        self.symbols = tuple(sorted(set(symbols), key=str))
        # flint needs at least one variable; an unused one is harmless
        names = tuple(f"v{i}" for i in range(max(1, len(self.symbols))))
        self.ctx = flint.fmpq_mpoly_ctx.get(names, "lex")
        self.gens = self.ctx.gens()
        self.nvars = len(names)
        self.zero = self.ctx.from_dict({})
        self.one = self.constant(1)
        self._factored_cache: dict = {}

    def constant(self, value) -> flint.fmpq_mpoly:
        value = sp.Rational(value)
        if value == 0:
            return self.ctx.from_dict({})
        return self.ctx.from_dict({(0,) * self.nvars: flint.fmpq(int(value.p), int(value.q))})

    def gen(self, symbol) -> flint.fmpq_mpoly:
        return self.gens[self.symbols.index(symbol)]

    def poly(self, expr) -> flint.fmpq_mpoly:
        """A SymPy polynomial in ``symbols`` (ValueError if it is not one)."""
        expr = sp.sympify(expr, strict=True)   # never parses text
        if expr.is_Rational:
            return self.constant(expr)
        stray = expr.free_symbols - set(self.symbols)
        if stray:
            raise ValueError(f"unexpected symbols {sorted(map(str, stray))} (domain: {self.symbols})")
        if not self.symbols:
            raise ValueError(f"{expr} is not a rational number")
        poly = sp.Poly(expr, *self.symbols, domain="QQ")
        return self.ctx.from_dict({monom: flint.fmpq(int(c.p), int(c.q)) for monom, c in poly.terms()})

    def fraction(self, expr):
        """(numerator, denominator) flint polynomials of a SymPy rational function."""
        num, den = sp.together(sp.sympify(expr, strict=True)).as_numer_denom()
        return self.poly(sp.expand(num)), self.poly(sp.expand(den))

    def to_expr(self, p) -> sp.Expr:
        """The expanded SymPy polynomial of a flint polynomial."""
        items = p.to_dict().items()
        if not self.symbols:
            return sum((sp.Rational(int(c.p), int(c.q)) for _, c in items), sp.Integer(0))
        terms = {monom: sp.QQ(int(c.p), int(c.q)) for monom, c in items}
        return sp.Poly.from_dict(terms, *self.symbols, domain=sp.QQ).as_expr()

    def _factors(self, p):
        """(rational content, SymPy product of the irreducible factors) of a nonzero polynomial."""
        if p.is_constant():
            return self.to_expr(p), sp.Integer(1)
        content, factors = p.factor()
        return (sp.Rational(int(content.p), int(content.q)),
                sp.Mul(*[self.to_expr(f) ** e for f, e in factors]))

    def factored(self, p) -> sp.Expr:
        """A flint polynomial as a product of its irreducible factors (a SymPy expression)."""
        if p.is_zero():
            return sp.Integer(0)
        content, product = self._factors(p)
        return content * product

    def ratio(self, num, den) -> sp.Expr:
        """num/den cancelled by their gcd and shown factored (ZeroDivisionError if den = 0).

        The rational contents of numerator and denominator are combined into one constant, as
        :func:`sympy.factor` does.
        """
        if den.is_zero():
            raise ZeroDivisionError("zero denominator")
        if num.is_zero():
            return sp.Integer(0)
        g = num.gcd(den)
        num, den = num / g, den / g
        if len(num.to_dict()) + len(den.to_dict()) <= SMALL_TERMS:
            # small: exactly the form derivations.exact.canonical gives (sympy.factor)
            return sp.factor(self.to_expr(num) / self.to_expr(den))
        # the entries of a solved matrix share one denominator: factor and convert it once
        key = repr(den)
        den_parts = self._factored_cache.get(key)
        if den_parts is None:
            den_parts = self._factored_cache[key] = self._factors(den)
        num_content, num_product = self._factors(num)
        return (num_content / den_parts[0]) * num_product / den_parts[1]


def bareiss(rows) -> list:
    """Leading principal minors of a square matrix of flint polynomials (fraction free).

    Stops at the first zero minor (it is included in the list). The k-th pivot of Bareiss'
    elimination is the k-th leading principal minor; each update is divided exactly by
    the previous pivot.
    """
    M = [list(r) for r in rows]
    k = len(M)
    minors, previous = [], None
    for step in range(k):
        pivot = M[step][step]
        minors.append(pivot)
        if pivot.is_zero():
            break
        _eliminate(M, step, previous, range(step + 1, k))
        previous = pivot
    return minors


def _eliminate(M, step, previous, columns):
    pivot = M[step][step]
    for i in range(step + 1, len(M)):
        factor = M[i][step]
        row, top = M[i], M[step]
        for j in columns:
            value = pivot * row[j] - factor * top[j]
            row[j] = value if previous is None else value / previous   # exact (Sylvester's identity)
        row[step] = row[step] * 0


def solve(A, R):
    """X = N / delta with A X = R (A square, nonsingular): delta = det A, N = adj(A) R.

    Forward elimination is Bareiss' on [A | R]; back substitution divides exactly. Raises
    ZeroDivisionError if A is singular.
    """
    k = len(A)
    m = len(R[0])
    M = [list(A[i]) + list(R[i]) for i in range(k)]
    previous = None
    for step in range(k):
        if M[step][step].is_zero():
            swap = next((i for i in range(step + 1, k) if not M[i][step].is_zero()), None)
            if swap is None:
                raise ZeroDivisionError("singular matrix")
            # a row swap changes the sign of the minors; fraction-free elimination stays exact
            M[step], M[swap] = M[swap], M[step]
            M[step] = [-x for x in M[step]]
        _eliminate(M, step, previous, range(step + 1, k + m))
        previous = M[step][step]
    delta = M[k - 1][k - 1]
    # back substitution for Y = delta X: U Y = delta R'
    Y = [[None] * m for _ in range(k)]
    for i in range(k - 1, -1, -1):
        for c in range(m):
            acc = delta * M[i][k + c]
            for j in range(i + 1, k):
                if not M[i][j].is_zero():
                    acc = acc - M[i][j] * Y[j][c]
            Y[i][c] = acc / M[i][i]          # exact: delta X is a polynomial (Cramer)
    return Y, delta


def matmul(A, B, zero):
    """Product of two matrices (lists of rows) of flint polynomials."""
    cols = list(zip(*B, strict=True))
    out = []
    for row in A:
        out_row = []
        for col in cols:
            acc = zero
            for a, b in zip(row, col, strict=True):
                if not a.is_zero() and not b.is_zero():
                    acc = acc + a * b
            out_row.append(acc)
        out.append(out_row)
    return out


def lcm(a, b):
    """A least common multiple of two nonzero flint polynomials."""
    return a * (b / a.gcd(b))


class FractionMatrix:
    """A matrix of rational functions over a :class:`PolyDomain`, as rows / den (den scalar).

    >>> import sympy as sp
    >>> n = sp.Symbol("n")
    >>> dom = PolyDomain([n])
    >>> M = FractionMatrix.from_sympy(dom, sp.Matrix([[1 / n, 1], [0, (n + 1) / n]]))
    >>> (M @ M).sympy()
    Matrix([
    [n**(-2),       (n + 2)/n],
    [      0, (n + 1)**2/n**2]])
    """

    def __init__(self, domain: PolyDomain, rows, den):
        self.domain, self.rows, self.den = domain, [list(r) for r in rows], den

    @classmethod
    def from_sympy(cls, domain: PolyDomain, matrix) -> FractionMatrix:
        matrix = sp.Matrix(matrix)
        fractions = [[domain.fraction(matrix[i, j]) for j in range(matrix.cols)] for i in range(matrix.rows)]
        den = domain.one
        for row in fractions:
            for _, q in row:
                den = lcm(den, q)
        rows = [[p * (den / q) for p, q in row] for row in fractions]
        return cls(domain, rows, den)

    @property
    def shape(self):
        return len(self.rows), len(self.rows[0]) if self.rows else 0

    def transpose(self) -> FractionMatrix:
        return FractionMatrix(self.domain, [list(c) for c in zip(*self.rows, strict=True)], self.den)

    @property
    def T(self) -> FractionMatrix:
        return self.transpose()

    def __matmul__(self, other: FractionMatrix) -> FractionMatrix:
        return FractionMatrix(self.domain, matmul(self.rows, other.rows, self.domain.zero),
                              self.den * other.den)

    def scaled(self, num, den) -> FractionMatrix:
        """(num / den) * self."""
        return FractionMatrix(self.domain, [[x * num for x in r] for r in self.rows], self.den * den)

    def first_difference(self, other: FractionMatrix):
        """None if the matrices are equal entrywise, else the (i, j) of the first difference."""
        if self.shape != other.shape:
            return (-1, -1)
        for i, (r1, r2) in enumerate(zip(self.rows, other.rows, strict=True)):
            for j, (x, y) in enumerate(zip(r1, r2, strict=True)):
                if x * other.den != y * self.den:
                    return i, j
        return None

    def entry(self, i, j) -> sp.Expr:
        return self.domain.ratio(self.rows[i][j], self.den)

    def sympy(self) -> sp.Matrix:
        rows, cols = self.shape
        return sp.Matrix(rows, cols, lambda i, j: self.entry(i, j))

    def evaluate(self, values) -> sp.Matrix:
        """The matrix at numeric values of the domain's symbols (dict symbol -> Rational)."""
        point = _point(self.domain, values)
        den = self.den(*point)
        if den == 0:
            raise ZeroDivisionError("the denominator vanishes at this point")
        rows, cols = self.shape
        return sp.Matrix(rows, cols, lambda i, j: _rational(self.rows[i][j](*point) / den))


def _point(domain: PolyDomain, values):
    out = []
    for s in domain.symbols:
        v = sp.Rational(values[s])
        out.append(flint.fmpq(int(v.p), int(v.q)))
    while len(out) < domain.nvars:
        out.append(flint.fmpq(0))
    return out


def evaluate(domain: PolyDomain, p, values) -> sp.Rational:
    """A flint polynomial at numeric values of the domain's symbols."""
    return _rational(p(*_point(domain, values)))


def _rational(q) -> sp.Rational:
    return sp.Rational(int(q.p), int(q.q))
