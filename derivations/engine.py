"""The exact Gaussian expectation engine (fixed d; n, s2 and covariance entries may be symbols).

Polynomials live in a sparse SymPy ``PolyRing`` over QQ (exponent vectors, not
expression trees). Three exact primitives:

* :meth:`Space.expect` integrates out the coordinates of a Gaussian vector from a
  polynomial, term by term, with memoised moments (Isserlis).
* :func:`wick` takes E[prod_k (a_k . xi)] for linear forms in a Gaussian vector xi in
  closed form: the sum over perfect matchings of products of bilinear forms a_i^T K a_j.
  This is the "closed-form inner expectation" that avoids expanding xi's coordinates.
* :func:`context_expectation` handles averages over n iid context examples,
  E[shared * prod_k (1/n) sum_i phi_k(example_i)], by splitting the index tuple into
  set partitions: a partition with m blocks occurs n(n-1)...(n-m+1) times and, given
  the shared variables, its blocks are independent.

>>> import sympy as sp
>>> from derivations.moments import GaussianVector
>>> x = GaussianVector("x", 2)
>>> a = sp.Symbol("a")
>>> expectation(x.coords[0] ** 4 + a * x.coords[0] * x.coords[1], [x])
3
"""

from __future__ import annotations

from math import prod

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import ring as make_ring

from .moments import GaussianVector


class Space:
    """A polynomial ring whose generators are grouped in named blocks.

    Gaussian vectors get contiguous blocks so their exponent sub-vectors are slices.
    Symbols in covariances (and any other free symbols) are ordinary generators.
    """

    def __init__(self, vectors: list[GaussianVector], symbols=(), field_symbols=()):
        gens, self.slices = [], {}
        for v in vectors:
            self.slices[v.name] = (len(gens), len(gens) + v.dim)
            gens.extend(v.coords)
        self.vectors = {v.name: v for v in vectors}
        cov_symbols = sorted({s for v in vectors for s in v.cov.free_symbols}, key=str)
        polynomial_covs = all(e.is_polynomial(*cov_symbols)
                              for v in vectors for e in v.cov)
        # Symbols that must be invertible (e.g. Omega = Sigma^{-1} with Sigma symbolic, or
        # a caller's coefficient 1/a) form the coefficient field QQ(symbols); all other
        # symbols are generators of the sparse ring, which is faster.
        field = set(field_symbols) | (set() if polynomial_covs else set(cov_symbols))
        field = sorted(field, key=str)
        domain = QQ.frac_field(*field) if field else QQ
        extra = []
        for s in list(symbols) + cov_symbols:
            if s not in gens and s not in extra and s not in field:
                extra.append(s)
        gens.extend(extra)
        self.gens = tuple(gens)
        self.domain = domain
        self.ring, *self.gen_polys = make_ring(self.gens, domain)
        self.index = {g: i for i, g in enumerate(self.gens)}
        self._moment_cache: dict = {}
        self._constant_cache: dict = {}

    def __call__(self, expr):
        """Convert a SymPy expression (polynomial in the generators) to a ring element."""
        return self.ring.from_expr(expr) if not isinstance(expr, int) else self.ring(expr)

    def constant_value(self, value):
        """A number as an element of the coefficient domain, or None if ``value`` is not one."""
        element = self(value)
        return element.LC if element.is_ground else None

    def covariance_table(self, cov):
        """Rows of (j, is_ground, K_ij) for the nonzero entries of an exact matrix K, memoised:
        K_ij is a domain element when it is a number (cheap scaling), else a ring element."""
        key = id(cov)
        cached = self._constant_cache.get(key)
        if cached is None or cached[0] is not cov:
            rows = []
            for i in range(cov.rows):
                row = []
                for j in range(cov.cols):
                    value = cov[i, j]
                    if value != 0:
                        element = self(value)
                        if element.is_ground:
                            row.append((j, True, element.LC))
                        else:
                            row.append((j, False, element))
                rows.append(row)
            cached = self._constant_cache[key] = (cov, rows)
        return cached[1]

    def gen(self, symbol):
        return self.gen_polys[self.index[symbol]]

    def coords(self, name):
        start, end = self.slices[name]
        return self.gen_polys[start:end]

    def moment(self, name, alpha):
        key = (name, alpha)
        value = self._moment_cache.get(key)
        if value is None:
            value = self(self.vectors[name].moment(alpha))
            self._moment_cache[key] = value
        return value

    def expect(self, p, name):
        """E over Gaussian vector ``name`` of ring element ``p`` (other generators fixed)."""
        start, end = self.slices[name]
        zeros = (0,) * (end - start)
        groups: dict = {}
        for exp, coeff in p.items():
            alpha = exp[start:end]
            if sum(alpha) % 2:
                continue
            groups.setdefault(alpha, {})[exp[:start] + zeros + exp[end:]] = coeff
        out = self.ring.zero
        for alpha, rest in groups.items():
            m = self.moment(name, alpha)
            if not m:
                continue
            rest_poly = self.ring.from_dict(rest)
            if m.is_ground:
                out += rest_poly * m.LC
            else:
                out += rest_poly * m
        return out

    def expect_all(self, p, names):
        for name in names:
            p = self.expect(p, name)
        return p

    def linear_coefficients(self, p, name):
        """If p is homogeneous linear in vector ``name``, its coefficient polynomials; else None."""
        start, end = self.slices[name]
        coeffs = [dict() for _ in range(end - start)]
        zeros = (0,) * (end - start)
        for exp, c in p.items():
            alpha = exp[start:end]
            if sum(alpha) != 1:
                return None
            k = alpha.index(1)
            coeffs[k][exp[:start] + zeros + exp[end:]] = c
        return [self.ring.from_dict(c) for c in coeffs]

    def expect_product_linear(self, f, g, name):
        """E over ``name`` of f*g when both are homogeneous linear in it: grad f^T Sigma grad g.

        Falls back to expanding the product when they are not.
        """
        cf, cg = self.linear_coefficients(f, name), self.linear_coefficients(g, name)
        if cf is None or cg is None:
            return self.expect(f * g, name)
        return bilinear(cf, cg, self.vectors[name].cov, self)

    def depends_on(self, p, name) -> bool:
        start, end = self.slices[name]
        return any(any(exp[start:end]) for exp in p.itermonoms())

    def expect_factors(self, factors, names):
        """E over the vectors ``names`` (in order) of a product of factors, kept factored.

        Factors free of a vector are pulled out of its expectation; a pair of factors
        homogeneous-linear in it is contracted with its covariance (never expanded).
        """
        factors = [f for f in factors]
        for name in names:
            dependent = [f for f in factors if self.depends_on(f, name)]
            if not dependent:
                continue
            factors = [f for f in factors if not self.depends_on(f, name)]
            if len(dependent) == 2:
                factors.append(self.expect_product_linear(dependent[0], dependent[1], name))
            else:
                factors.append(self.expect(prod(dependent[1:], start=dependent[0]), name))
        if not factors:
            return self.ring.one
        return prod(factors[1:], start=factors[0])

    def to_expr(self, p) -> sp.Expr:
        return p.as_expr()


def bilinear(a, b, cov, space: Space):
    """a^T K b for vectors of ring elements and an exact SymPy matrix K.

    Computed as a^T (K b): the inner sums only scale and add polynomials, so there are
    len(a) polynomial products instead of len(a) * len(b) (the products dominate when
    K is dense and the entries are polynomials with many terms). K's nonzero entries are
    converted to the ring once per covariance (:meth:`Space.covariance_table`).
    """
    out = space.ring.zero
    nonzero_b = {j: bj for j, bj in enumerate(b) if bj}
    if not nonzero_b:
        return out
    table = space.covariance_table(cov)
    for i, ai in enumerate(a):
        if not ai:
            continue
        kb = None
        for j, ground, kij in table[i]:
            bj = nonzero_b.get(j)
            if bj is None:
                continue
            term = bj.mul_ground(kij) if ground else bj * kij
            kb = term if kb is None else kb + term
        if kb:
            out += ai * kb
    return out


def wick_matchings(forms, cov, space: Space):
    """E[prod_k (forms[k] . xi)] for xi ~ N(0, cov), as an unexpanded sum of products.

    Returns a list of matchings, each a list of pairwise bilinear forms a_i^T K a_j whose
    product is that matching's contribution (zero matchings omitted). Keeping the factors
    apart lets later expectations contract them without expanding the product.
    """
    if len(forms) % 2:
        return []
    cache = {}

    def pair(i, j):
        if (i, j) not in cache:
            cache[(i, j)] = bilinear(forms[i], forms[j], cov, space)
        return cache[(i, j)]

    def matchings(indices):
        if not indices:
            yield []
            return
        first, rest = indices[0], indices[1:]
        for k, other in enumerate(rest):
            p = pair(first, other)
            if p:
                for tail in matchings(rest[:k] + rest[k + 1:]):
                    yield [p] + tail

    return list(matchings(tuple(range(len(forms)))))


def wick(forms, cov, space: Space):
    """E[prod_k (forms[k] . xi)] for xi ~ N(0, cov): the hafnian of pairwise bilinear forms."""
    total = space.ring.zero
    for factors in wick_matchings(forms, cov, space):
        total += prod(factors[1:], start=factors[0])
    return total


def set_partitions(items):
    """All set partitions of a list (Bell-number many), as lists of blocks."""
    items = list(items)
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in set_partitions(rest):
        yield [[first]] + partition
        for k in range(len(partition)):
            yield partition[:k] + [[first] + partition[k]] + partition[k + 1:]


def falling_factorial(n, m):
    return prod((n - k for k in range(m)), start=sp.Integer(1))


def context_expectation(factors, block_expectation, n):
    """Group E[prod_k (1/n) sum_i phi_k(i)] by the number m of distinct indices.

    ``block_expectation(list_of_factors)`` returns E over ONE example (given the shared
    variables) of the product of the listed factors. Returns (weights, polys) where the
    expectation is sum_m weights[m] * polys[m], weights[m] = n(n-1)..(n-m+1) / n^K.
    """
    K = len(factors)
    polys: dict = {}
    for partition in set_partitions(range(K)):
        term = None
        for block in partition:
            value = block_expectation([factors[k] for k in block])
            term = value if term is None else term * value
            if not term:
                break
        if term:
            m = len(partition)
            polys[m] = polys[m] + term if m in polys else term
    weights = {m: falling_factorial(n, m) / n**K for m in polys}
    return weights, polys


# --- public SymPy-level API ----------------------------------------------------------

def _integrand(value, field):
    """A SymPy integrand built by the caller from the vectors' coordinates; text is refused
    (it would have to be evaluated) and so are floats (they are not exact)."""
    from .errors import ExactInputError
    from .exact import as_exact

    if isinstance(value, str):
        raise ExactInputError(f"{field}: text is not accepted here; build the integrand from the "
                              "vectors' coordinates (GaussianVector.coords) as a SymPy expression")
    return as_exact(value, field)


def expectation(expr, vectors, symbols=()):
    """Exact E[expr] over independent Gaussian vectors (expr polynomial in their coordinates).

    Other symbols in ``expr`` are constants; they may appear rationally (e.g. 1/a).
    Returns a SymPy expression.
    """
    expr = sp.expand(_integrand(expr, "expectation"))
    coords = [c for v in vectors for c in v.coords]
    free = sorted(expr.free_symbols - set(coords), key=str)
    if not expr.is_polynomial(*coords):
        raise ValueError("expectation: the integrand must be a polynomial in the Gaussian coordinates")
    rational = [s for s in free if not expr.is_polynomial(s)]
    space = Space(list(vectors), [s for s in free if s not in rational] + list(symbols), rational)
    p = space.expect_all(space(expr), [v.name for v in vectors])
    return p.as_expr()


def context_moment(factors, example, shared=(), n=None, shared_factor=1):
    """E[shared_factor * prod_k (1/n) sum_{i=1}^n phi_k(example_i)] exactly.

    ``example`` lists the Gaussian vectors of ONE context example (a template; copies are
    iid); ``factors`` are SymPy polynomials in the template coordinates and the shared
    vectors' coordinates; ``shared`` vectors are common to all examples. ``n`` defaults
    to the symbol n. Example: the Wishart moment E[S_11^2] for S = (1/n) sum x_i x_i^T,

    >>> x = GaussianVector("x", 2)
    >>> import sympy as sp
    >>> sp.factor(context_moment([x.coords[0]**2, x.coords[0]**2], [x]))
    (n + 2)/n
    """
    from . import symbols as pinned

    n = pinned.n if n is None else n
    example, shared = list(example), list(shared)
    template = {c for v in example for c in v.coords} | {c for v in shared for c in v.coords}
    exprs = [sp.expand(_integrand(f, f"context_moment: factor {k + 1}")) for k, f in enumerate(factors)]
    exprs.append(sp.expand(_integrand(shared_factor, "context_moment: shared_factor")))
    free = sorted(set().union(*(e.free_symbols for e in exprs)) - template, key=str)
    space = Space(example + shared, free)
    polys = [space(f) for f in exprs[:-1]]
    shared_poly = space(exprs[-1])
    example_names = [v.name for v in example]

    def block(fs):
        return space.expect_all(prod(fs[1:], start=fs[0]), example_names)

    weights, parts = context_expectation(polys, block, n)
    total = sp.Integer(0)
    for m, part in parts.items():
        value = space.expect_all(part * shared_poly, [v.name for v in shared])
        total += weights[m] * value.as_expr()
    return total
