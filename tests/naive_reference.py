"""A deliberately naive, independent reference for the exact LSA pre-training loss.

Nothing here imports ``derivations``. The prediction is written with one explicit SymPy
symbol per coordinate of every random quantity, the square is expanded coordinate by
coordinate, and each Gaussian vector is integrated out monomial by monomial with
Isserlis' theorem as a brute-force sum over ALL perfect matchings of the multiset of
coordinate indices. It is slow on purpose; it is the baseline the engine must beat and
the truth the engine is tested against.

Model (the README conventions, effective parameters u = (u_x, u_y), M = [A ; b^T], r):

    yhat = (1/n) sum_i (u_x^T x_i + u_y y_i)(x_i^T A x_q + y_i b^T x_q)
           + [query_in_keys] (1/n)(u_x^T x_q)(x_q^T A x_q) + [residual] r^T x_q,
    y_i = w^T x_i + eps_i,  y_q = w^T x_q + eps_q,
    x_i, x_q ~ N(0, Sigma),  w ~ N(0, Omega),  eps ~ N(0, s2),  all independent.

Keeping n symbolic. Write yhat - y_q = Y + D with Y = (1/n) sum_{i=1}^n phi_i, phi_i =
phi(x_i, eps_i; w, x_q), and D the part that does not depend on the context. Given the
shared variables (w, x_q, eps_q) the phi_i are iid, so expanding the double sum
(n diagonal pairs i = j, n(n-1) off-diagonal pairs i != j) gives the elementary split

    E[(Y + D)^2] = (1/n) E[phi_1^2] + ((n-1)/n) E[phi_1 phi_2] + 2 E[phi_1 D] + E[D^2].

Each expectation on the right involves at most two context examples, so two explicit
context examples (x_1, eps_1), (x_2, eps_2) suffice and n stays a symbol.
"""

from __future__ import annotations

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import ring as make_ring

N = sp.Symbol("n", integer=True, positive=True)
S2 = sp.Symbol("s2", nonnegative=True)


def parameter_symbols(d: int):
    """(ux, uy, A, b, r) with the names and assumptions pinned by the README conventions / lsa.py."""
    real = {"real": True}
    ux = [sp.Symbol(f"ux{k + 1}", **real) for k in range(d)]
    uy = sp.Symbol("uy", **real)
    A = [[sp.Symbol(f"A_{i + 1}{j + 1}", **real) for j in range(d)] for i in range(d)]
    b = [sp.Symbol(f"b{k + 1}", **real) for k in range(d)]
    r = [sp.Symbol(f"r{k + 1}", **real) for k in range(d)]
    return ux, uy, A, b, r


def perfect_matchings(items):
    """Every perfect matching of a list (as a list of pairs); none for odd length."""
    items = list(items)
    if not items:
        yield []
        return
    if len(items) % 2:
        return
    first, rest = items[0], items[1:]
    for k in range(len(rest)):
        for tail in perfect_matchings(rest[:k] + rest[k + 1:]):
            yield [(first, rest[k])] + tail


def isserlis(cov, indices) -> sp.Expr:
    """E[prod_k x_{indices[k]}] for x ~ N(0, cov): sum over all perfect matchings."""
    total = sp.Integer(0)
    for matching in perfect_matchings(indices):
        term = sp.Integer(1)
        for i, j in matching:
            term *= cov[i][j]
        total += term
    return total


class _Vector:
    """A Gaussian vector: its coordinate symbols and its covariance (a list of lists)."""

    def __init__(self, name, dim, cov):
        self.coords = [sp.Symbol(f"__{name}{k}", real=True) for k in range(dim)]
        self.cov = [[sp.sympify(cov[i][j]) for j in range(dim)] for i in range(dim)]


class _Expander:
    """Fully expanded polynomials in every coordinate and parameter (SymPy sparse ring).

    The ring is only a container for expanded polynomials: each monomial is then
    integrated coordinate-wise by brute-force Isserlis (:func:`isserlis`).
    """

    def __init__(self, vectors, parameters):
        self.vectors = vectors
        coords = [c for v in vectors for c in v.coords]
        cov_symbols = sorted({s for v in vectors for row in v.cov for e in row
                              for s in e.free_symbols}, key=str)
        polynomial = all(e.is_polynomial(*cov_symbols) for v in vectors for row in v.cov
                         for e in row)
        if polynomial:
            gens, domain = coords + list(parameters) + cov_symbols, QQ
        else:
            gens, domain = coords + list(parameters), QQ.frac_field(*cov_symbols)
        self.ring, *_ = make_ring(gens, domain)
        self.ncoords = len(coords)
        self.slices, pos = [], 0
        for v in vectors:
            self.slices.append((v, pos, pos + len(v.coords)))
            pos += len(v.coords)
        self._moments = {}

    def __call__(self, expr):
        return self.ring.from_expr(sp.sympify(expr))

    def moment(self, v, exponents):
        key = (id(v), exponents)
        if key not in self._moments:
            indices = [k for k, e in enumerate(exponents) for _ in range(e)]
            self._moments[key] = self(isserlis(v.cov, indices))
        return self._moments[key]

    def expectation(self, p):
        """E over every Gaussian vector of an expanded polynomial, monomial by monomial."""
        out = {}
        zeros = (0,) * self.ncoords
        for monom, coeff in p.items():
            value = self.ring.one
            for v, start, end in self.slices:
                sub = monom[start:end]
                if any(sub):
                    value = value * self.moment(v, sub)
                    if not value:
                        break
            if not value:
                continue
            rest = zeros + monom[self.ncoords:]
            for m2, c2 in value.items():
                key = tuple(a + b for a, b in zip(rest, m2, strict=True))
                out[key] = out.get(key, 0) + coeff * c2
        return self.ring.from_dict({k: c for k, c in out.items() if c}).as_expr()


def _as_rows(matrix, d):
    if matrix is None:
        return [[sp.Integer(int(i == j)) for j in range(d)] for i in range(d)]
    m = sp.Matrix(matrix)
    return [[m[i, j] for j in range(d)] for i in range(d)]


def naive_loss(d, sigma=None, omega=None, s2=S2, n=N, query_in_keys=False, residual=False):
    """The exact loss E[(yhat - y_q)^2] by brute force (see the module docstring)."""
    n, s2 = sp.sympify(n), sp.sympify(s2)
    ux, uy, A, b, r = parameter_symbols(d)
    sig, om = _as_rows(sigma, d), _as_rows(omega, d)
    x1, x2, xq = (_Vector(name, d, sig) for name in ("x1_", "x2_", "xq_"))
    w = _Vector("w", d, om)
    e1, e2, eq = (_Vector(name, 1, [[s2]]) for name in ("e1_", "e2_", "eq_"))
    params = ux + [uy] + [a for row in A for a in row] + b + r
    R = _Expander([x1, e1, x2, e2, xq, eq, w], params)

    def dot(a, c):
        return sum((ai * ci for ai, ci in zip(a, c, strict=True)), R.ring.zero)

    def quad(a, mat, c):
        return sum((a[i] * mat[i][j] * c[j] for i in range(d) for j in range(d)), R.ring.zero)

    coords = {v: [R(c) for c in v.coords] for v in (x1, x2, xq, w, e1, e2, eq)}
    UX, UY = [R(s) for s in ux], R(uy)
    AA = [[R(a) for a in row] for row in A]
    B, RR = [R(s) for s in b], [R(s) for s in r]
    Q, W = coords[xq], coords[w]

    def phi(x, e):
        y = dot(W, coords[x]) + coords[e][0]
        return (dot(UX, coords[x]) + UY * y) * (quad(coords[x], AA, Q) + y * dot(B, Q))

    phi1, phi2 = phi(x1, e1), phi(x2, e2)
    yq = dot(W, Q) + coords[eq][0]
    D0 = -yq + (dot(RR, Q) if residual else R.ring.zero)   # context-free part, order 1
    D1 = dot(UX, Q) * quad(Q, AA, Q)                        # query-in-keys part, times 1/n

    E = R.expectation
    loss = (E(phi1 * phi1) / n + (n - 1) / n * E(phi1 * phi2)
            + 2 * E(phi1 * D0) + E(D0 * D0))
    if query_in_keys:
        loss += 2 * E(phi1 * D1) / n + 2 * E(D0 * D1) / n + E(D1 * D1) / n**2
    return loss
