"""The Kronecker structure of the lifted Gram matrix, computed and checked without forming it.

For the plain model (no query in keys, no residual) every lifted feature of
:class:`~derivations.features.FeatureBasis` is a context statistic times a query coordinate,
F = psi (x) x_q (psi index major), with, for one context token z = (x, y),

    psi = (1/n) sum_i ( y_i x_ib  [b = 1..d],  x_ia x_ib  [a <= b],  y_i^2 ),

the first d entries being g = (1/n) sum_i y_i x_i (the GD block) and the rest phi (the odd
block). Since x_q is independent of the context, the task vector and the query noise,

    H = E[F F^T] = E[psi psi^T] (x) Sigma,        c = E[F y_q] = vec(E[psi w^T] Sigma),

so the p x p Gram matrix (p ~ d^3 / 2) is determined by d x d and (d^2/2) x (d^2/2) factors:
C = E[g g^T], D = E[phi phi^T], B = E[w g^T], the cross moments X = E[phi g^T], Y = E[phi w^T],
and k = E[y_q^2]. :func:`moments` computes C, D, B and k entry by entry with the Gaussian engine
(Wick's theorem for one context example, the two-block partition for the n-fold average,
moments of w), with n kept as nu = 1/n; X and Y are claimed zero (the reflection
(x, w) -> (-x, -w) fixes phi and flips g and w) and the claim is checked like the rest.

Every structural claim is then checked exactly, by identities that do not reuse the
entry-by-entry computation:

* :func:`structure_identity`: the features of ``FeatureBasis`` equal psi (x) x_q as
  polynomials in two generic tokens (so the structure is that of the features the convex
  lift uses, not an assumption about them);
* :func:`block_identity`: for two blocks I, J of psi and a claimed matrix M,
  E[(v(a) . psi_I)(v(b) . psi_J)] == v(a)^T M v(b) as polynomials in two generic symbols a, b,
  where v(a) = (1, a, a^2, ...) (Kronecker substitution: distinct entries of M get distinct
  monomials a^i b^j, so the identity holds iff every entry of M is right). The left side is
  one engine computation with the statistics combined into generic linear forms; the same
  for E[(v(a) . psi_I)(v(b) . w)].

:func:`solve_optimum` then solves Gamma C = B (d x d, fraction free, python-flint) and
:func:`structured_loss` evaluates the structured quadratic form. The proof steps built on these
are in :mod:`derivations.structured_steps`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import flint
import sympy as sp
from sympy.polys.rings import ring as make_ring

from . import symbols as pinned
from .engine import Space, bilinear
from .features import FeatureBasis
from .moments import GaussianVector
from .polymatrix import FractionMatrix, PolyDomain, solve
from .task import Task

#: the generic symbols of the Kronecker substitution and nu = 1/n (private: never a user's)
NU = sp.Dummy("nu")
GEN_A = sp.Dummy("a")
GEN_B = sp.Dummy("b")


def structure_reason(task: Task) -> str | None:
    """None when the structured route applies; otherwise why the features have no product form."""
    if not task.is_linear:
        return "the response is not linear (handled by the Theorem 3 module)"
    if task.query_in_keys:
        return ("the query is among the keys: the feature (1/n) x_qa x_qb x_qc is not a context "
                "statistic times x_q")
    if task.residual:
        return ("the residual variant adds the features x_qc, which the structured route does not "
                "cover")
    return None


def statistic_pairs(d: int) -> list:
    """psi_j = z[i] z[k] for one token z = (x_1..x_d, y): the index pairs (i, k), label = d."""
    pairs = [(d, b) for b in range(d)]                          # g_b = y x_b
    pairs += [(a, b) for a in range(d) for b in range(a, d)]    # S_ab = x_a x_b
    pairs.append((d, d))                                        # v = y^2
    return pairs


def block_slices(d: int) -> dict:
    """Index ranges of the blocks of psi: 'gd' (g) and 'odd' (phi)."""
    p = len(statistic_pairs(d))
    return {"gd": range(0, d), "odd": range(d, p)}


def statistics(tokens_x, tokens_y, n) -> list:
    """psi = (1/n) sum_i psi_1(z_i) for explicit tokens, as SymPy expressions."""
    d = len(tokens_x[0])
    out = []
    for i, k in statistic_pairs(d):
        total = sp.Integer(0)
        for x, y in zip(tokens_x, tokens_y, strict=True):
            z = list(x) + [y]
            total += z[i] * z[k]
        out.append(total / n)
    return out


def structure_identity(task: Task, basis: FeatureBasis | None = None, statistic_fn=statistics):
    """(holds, detail): FeatureBasis features == psi (x) x_q for two generic tokens."""
    d = task.d
    basis = basis or FeatureBasis.of(task)
    xs = [[sp.Dummy(f"s{i}_x{k + 1}") for k in range(d)] for i in range(2)]
    ys = [sp.Dummy(f"s{i}_y") for i in range(2)]
    xq = [sp.Dummy(f"s_q{k + 1}") for k in range(d)]
    n = pinned.n
    features = basis.features([sp.Matrix(x) for x in xs], ys, sp.Matrix(xq), n, task.query_in_keys)
    psi = statistic_fn(xs, ys, n)
    if len(features) != len(psi) * d:
        return False, f"{len(features)} features but {len(psi)} statistics x {d} query coordinates"
    gens = [s for x in xs for s in x] + ys + xq + [n, NU]
    R, *_ = make_ring(gens, sp.QQ)

    def in_ring(expr):
        return R.from_expr(sp.sympify(expr).xreplace({1 / n: NU}))

    for j, statistic in enumerate(psi):
        sj = in_ring(statistic)
        for c in range(d):
            if in_ring(features[j * d + c]) != sj * in_ring(xq[c]):
                return False, f"feature {basis.names[j * d + c]} is not statistic {j + 1} times x_q{c + 1}"
    return True, ""


@dataclass
class Moments:
    """Exact factors of the lifted Gram matrix of a plain linear task (see the module docstring).

    Matrices are lists of rows of ring elements of ``space`` (polynomials in nu = 1/n, s2 and
    the task's symbols): C (d x d) = E[g g^T], D (q x q) = E[phi phi^T], Bt (d x d) = E[g w^T]
    (so B = Bt^T = E[w g^T]), X (q x d) = E[phi g^T], Y (q x d) = E[phi w^T], and k = E[y_q^2].
    """

    task: Task
    space: Space
    C: list
    D: list
    Bt: list
    X: list
    Y: list
    k: object
    _cache: dict = field(default_factory=dict, repr=False)

    # --- conversions -------------------------------------------------------------------
    @property
    def nu_value(self):
        return 1 / self.task.n

    def expr(self, value) -> sp.Expr:
        """A ring element as a SymPy expression in n (nu = 1/n put back)."""
        return value.as_expr().xreplace({NU: self.nu_value})

    def matrix(self, name) -> sp.Matrix:
        """A factor as a SymPy matrix ('C', 'B', 'D', 'X', 'Y'); B = E[w g^T]."""
        rows = self.Bt if name == "B" else getattr(self, name)
        m = sp.Matrix([[self.expr(v) for v in row] for row in rows])
        return m.T if name == "B" else m

    def replace(self, name, i, j, value) -> Moments:
        """A copy with one entry of factor ``name`` ('C', 'Bt', 'D', 'X', 'Y') set to a SymPy value
        (for negative controls)."""
        rows = [list(r) for r in getattr(self, name)]
        rows[i][j] = self.space(sp.sympify(value).xreplace({pinned.n: 1 / NU}))
        fields = {f: getattr(self, f) for f in ("C", "D", "Bt", "X", "Y", "k")}
        fields[name] = rows
        return Moments(self.task, self.space, **fields, _cache=self._cache)


class _Engine:
    """One context example xi = (x, eps) (x from the task's covariate law with covariance Sigma,
    eps ~ N(0, s2)) and the task vector w ~ N(0, Omega), in one polynomial ring."""

    def __init__(self, task: Task, space: Space | None = None):
        d = task.d
        self.task, self.d = task, d
        # the covariate law (Gaussian, or iid coordinates: derivations.laws); x_q stays
        # independent of the context, so the Kronecker structure holds for every law
        self.law = task.covariates
        if space is None:
            xq = self.law.vector("xq", d, task.Sigma, private=True)   # registers Sigma's symbols
            w = GaussianVector("w", d, task.Omega, private=True)
            others = sorted((task.parameters - {pinned.n}), key=str)
            space = Space([xq, w], [NU, GEN_A, GEN_B] + others)
        self.space = S = space
        self.W = S.coords("w")
        self.nu = S.gen(NU)
        self.K = sp.diag(task.Sigma, sp.Matrix([[task.noise]]))
        zero, one = S.ring.zero, S.ring.one
        self.zero, self.one = zero, one
        # a token coordinate z_i as a linear form in xi: x_k, or y = w . x + eps
        self.token_form = [[one if j == i else zero for j in range(d + 1)] for i in range(d)]
        self.token_form.append(list(self.W) + [one])
        self.pairs = statistic_pairs(d)

    def combine(self, coefficients):
        """sum_i coefficients[i] * (token coordinate i) as a linear form in xi."""
        out = [self.zero] * (self.d + 1)
        for i, c in enumerate(coefficients):
            if c:
                out = [o + c * f for o, f in zip(out, self.token_form[i], strict=True)]
        return out

    def pair_forms(self, j):
        i, k = self.pairs[j]
        return self.token_form[i], self.token_form[k]

    def mean(self, forms):
        """E_xi of a product of two linear forms (a polynomial in w)."""
        return bilinear(forms[0], forms[1], self.K, self.space)

    def second(self, f, h):
        """E_xi[(f0.xi)(f1.xi)(h0.xi)(h1.xi)] (Wick's theorem, plus the fourth cumulant for an
        iid law) as a polynomial in w."""
        out = self.zero
        for factors in self.law.matchings([f[0], f[1], h[0], h[1]], self.K, self.space):
            term = factors[0]
            for x in factors[1:]:
                term = term * x
            out += term
        return out

    def expect_w(self, p):
        return self.space.expect(p, "w")


def moments(task: Task) -> Moments:
    """C, D, B and k of a plain linear task, entry by entry (exact); the cross moments X, Y zero.

    X = E[phi g^T] and Y = E[phi w^T] are *claimed* zero (the reflection (x, w) -> (-x, -w) fixes
    the law of the context and w, fixes phi and flips g and w);
    :func:`derivations.structured_steps.step_symmetry_split` checks the claim against the engine,
    so it is never assumed.
    """
    reason = structure_reason(task)
    if reason:
        raise ValueError(f"no Kronecker structure: {reason}")
    E = _Engine(task)
    d, nu = task.d, E.nu
    pairs = E.pairs
    p = len(pairs)
    forms = [E.pair_forms(j) for j in range(p)]
    means = [E.mean(f) for f in forms]
    coordinates = _coordinate_table(E)

    def avg2(j, l):
        # E[psibar_j psibar_l] = nu E[psi_j psi_l] + (1 - nu) E[E_xi psi_j E_xi psi_l]
        if coordinates is not None and max(pairs[j] + pairs[l]) < d:
            return _coordinate_moment(E, coordinates, pairs[j] + pairs[l])
        return E.expect_w(nu * E.second(forms[j], forms[l]) + (1 - nu) * means[j] * means[l])

    def with_w(j, k):
        return E.expect_w(E.W[k] * means[j])

    gd, odd = block_slices(d)["gd"], block_slices(d)["odd"]
    C = [[None] * d for _ in range(d)]
    for i in gd:
        for j in gd:
            C[i][j] = C[j][i] if j < i else avg2(i, j)
    q = len(odd)
    D = [[None] * q for _ in range(q)]
    for a, i in enumerate(odd):
        for b, j in enumerate(odd):
            D[a][b] = D[b][a] if b < a else avg2(i, j)
    Bt = [[with_w(b, k) for k in range(d)] for b in gd]
    X = [[E.zero] * d for _ in odd]
    Y = [[E.zero] * d for _ in odd]
    y_q = E.token_form[d]        # y_q = w . x_q + eps_q has the law of a context label
    k = E.expect_w(E.mean((y_q, y_q)))
    out = Moments(task, E.space, C, D, Bt, X, Y, k)
    out._cache["engine"] = E
    return out


def _coordinate_table(E: _Engine):
    """Sigma's entries as domain elements when the law is Gaussian and all are numbers (else
    None: use the forms and the law's matchings)."""
    if not E.law.is_gaussian:
        return None
    d = E.d
    table = [[E.space.constant_value(E.K[i, j]) for j in range(d)] for i in range(d)]
    return None if any(v is None for row in table for v in row) else table


def _coordinate_moment(E: _Engine, K, index):
    """E[S_ab S_ce] with S = (1/n) sum_i x_i x_i^T, by Wick's theorem for four coordinates:
    nu (K_ab K_ce + K_ac K_be + K_ae K_bc) + (1 - nu) K_ab K_ce (a ring element in nu)."""
    a, b, c, e = index
    mean = K[a][b] * K[c][e]
    second = mean + K[a][c] * K[b][e] + K[a][e] * K[b][c]
    ring = E.space.ring
    nu_index = E.space.index[NU]
    one = tuple(1 if i == nu_index else 0 for i in range(ring.ngens))
    terms = {}
    if mean:
        terms[(0,) * ring.ngens] = mean
    if second - mean:
        terms[one] = second - mean
    return ring.from_dict(terms)


# --- generic-symbol identities ----------------------------------------------------------

class _Sum:
    """A sum of many ring elements accumulated in place (adding PolyElements copies them)."""

    def __init__(self, ring):
        self.ring, self.terms = ring, {}

    def add(self, poly):
        terms = self.terms
        for monom, coeff in poly.items():
            old = terms.get(monom)
            terms[monom] = coeff if old is None else old + coeff

    def value(self):
        return self.ring.from_dict({m: c for m, c in self.terms.items() if c})


def _grouped(E: _Engine, indices, gen):
    """v(gen) . psi_I as a sum of products of two linear forms: [(left, right)], grouped by
    the left token coordinate (the coefficient of psi_j is gen^position)."""
    groups: dict = {}
    power = E.one
    for j in indices:
        i, k = E.pairs[j]
        groups.setdefault(i, [E.zero] * (E.d + 1))
        groups[i][k] = groups[i][k] + power
        power = power * gen
    return [(E.token_form[i], E.combine(coeffs)) for i, coeffs in groups.items()]


def _powers(E: _Engine, gen, count):
    out, power = [], E.one
    for _ in range(count):
        out.append(power)
        power = power * gen
    return out


def block_identity(m: Moments, rows: str, cols: str, claimed: list):
    """(holds, detail) of E[(v(a) . psi_rows)(v(b) . psi_cols)] == v(a)^T claimed v(b).

    ``rows``/``cols`` name blocks of psi ('gd', 'odd') or, for ``cols``, the task vector 'w'.
    ``claimed`` is a matrix (rows of ring elements of ``m.space``) of the right shape.
    """
    E = _engine_of(m)
    a, b = E.space.gen(GEN_A), E.space.gen(GEN_B)
    slices = block_slices(m.task.d)
    left = _grouped(E, slices[rows], a)
    if cols == "w":
        pb = _powers(E, b, m.task.d)
        target = E.zero
        for k in range(m.task.d):
            target += pb[k] * E.W[k]
        mean_left = sum((E.mean(f) for f in left), E.zero)
        engine = E.expect_w(mean_left * target)
    else:
        right = _grouped(E, slices[cols], b)
        total = _Sum(E.space.ring)
        for f in left:
            for h in right:
                total.add(E.second(f, h))
        second = total.value()
        mean_left = sum((E.mean(f) for f in left), E.zero)
        mean_right = sum((E.mean(h) for h in right), E.zero)
        engine = E.expect_w(E.nu * second + (1 - E.nu) * mean_left * mean_right)
    n_rows = len(slices[rows])
    n_cols = m.task.d if cols == "w" else len(slices[cols])
    if len(claimed) != n_rows or any(len(r) != n_cols for r in claimed):
        return False, f"claimed matrix has the wrong shape (expected {n_rows} x {n_cols})"
    pa, pb = _powers(E, a, n_rows), _powers(E, b, n_cols)
    total = _Sum(E.space.ring)
    for i in range(n_rows):
        for j in range(n_cols):
            if claimed[i][j]:
                total.add(claimed[i][j] * (pa[i] * pb[j]))
    expected = total.value()
    if engine == expected:
        return True, ""
    diff = engine - expected
    # name the first wrong entry: the coefficient of a^i b^j
    ia, ib = E.space.index[GEN_A], E.space.index[GEN_B]
    monom = next(iter(diff.itermonoms()))
    i, j = monom[ia], monom[ib]
    return False, f"entry ({i + 1},{j + 1}) differs from the engine's moment"


def _engine_of(m: Moments) -> _Engine:
    """The engine helper of ``m`` (built once; it shares m.space)."""
    E = m._cache.get("engine")
    if E is None:
        E = m._cache["engine"] = _Engine(m.task, m.space)
    return E


# --- the d x d solve, the optimal loss ---------------------------------------------------

def domain_of(task: Task) -> PolyDomain:
    """The polynomial domain of a task's exact results: n (if symbolic), s2 (if symbolic), symbols."""
    return PolyDomain(task.parameters)


@dataclass
class Solution:
    """Gamma* (a FractionMatrix), L* = num / den, and the factors as FractionMatrices."""

    task: Task
    domain: PolyDomain
    gamma: FractionMatrix
    loss_num: object
    loss_den: object
    C: FractionMatrix
    B: FractionMatrix

    def gamma_sympy(self) -> sp.Matrix:
        return self.gamma.sympy()

    def loss_sympy(self) -> sp.Expr:
        return self.domain.ratio(self.loss_num, self.loss_den)


def solve_optimum(m: Moments) -> Solution:
    """Gamma* from Gamma C = B (fraction-free, C^T Gamma^T = B^T) and L* = k - <B^T Sigma, Gamma*^T>."""
    task = m.task
    dom = domain_of(task)
    C = FractionMatrix.from_sympy(dom, m.matrix("C"))
    B = FractionMatrix.from_sympy(dom, m.matrix("B"))
    A, R = C.T, B.T
    N, delta = solve(A.rows, R.rows)          # A.rows X' = R.rows, X = (A.den / R.den) X'
    X = FractionMatrix(dom, N, delta).scaled(A.den, R.den)
    gamma = X.T
    # L* = k - c_gd . theta* with c_gd[(b, c)] = (B^T Sigma)[b, c] and theta*[(b, c)] = X[b, c]
    P = B.T @ FractionMatrix.from_sympy(dom, task.Sigma)
    k_num, k_den = dom.fraction(m.expr(m.k))
    total = dom.zero
    for row_p, row_x in zip(P.rows, X.rows, strict=True):
        for p, x in zip(row_p, row_x, strict=True):
            total = total + p * x
    den = P.den * X.den
    loss_num = k_num * den - total * k_den
    loss_den = k_den * den
    return Solution(task, dom, gamma, loss_num, loss_den, C, B)


def is_multiple_of(G: FractionMatrix, base: FractionMatrix | None = None) -> bool:
    """Exactly: is G (or G @ base) a scalar multiple of the identity? (G = eta Sigma^{-1} iff
    G Sigma = eta I.)"""
    M = G if base is None else G @ base
    rows = M.rows
    first = rows[0][0]
    for i, row in enumerate(rows):
        for j, x in enumerate(row):
            if i != j and not x.is_zero():
                return False
            if i == j and x != first:
                return False
    return True


def possible_form(solution: Solution) -> bool:
    """False when Gamma* is certainly neither eta I nor eta Sigma^{-1} (decided exactly with
    flint, so the SymPy form rule need not process large rational functions); True otherwise."""
    sigma = FractionMatrix.from_sympy(solution.domain, solution.task.Sigma)
    return is_multiple_of(solution.gamma) or is_multiple_of(solution.gamma, sigma)


# --- the structured quadratic form against the model's direct loss --------------------------

def _theta_blocks(task: Task, theta) -> tuple:
    """(Theta_gd, Theta_odd): the lifted coefficients as d x d and q x d matrices (psi major)."""
    d = task.d
    q = len(block_slices(d)["odd"])
    gd = [[theta[b * d + c] for c in range(d)] for b in range(d)]
    odd = [[theta[d * d + j * d + c] for c in range(d)] for j in range(q)]
    return gd, odd


def _sandwich(T1, sigma, T2) -> list:
    """W = T1 Sigma T2^T, so that sum_ij M_ij W_ij = sum_{(i,c),(j,c')} T1[i][c] M_ij Sigma[c,c'] T2[j][c']
    (the Kronecker form (M (x) Sigma) contracted with two coefficient matrices)."""
    if all(x.is_Rational for row in T1 for x in row) and all(x.is_Rational for row in T2 for x in row) \
            and all(x.is_Rational for x in sigma):
        def fm(rows):
            flat = [flint.fmpq(int(x.p), int(x.q)) for r in rows for x in r]
            return flint.fmpq_mat(len(rows), len(rows[0]), flat)
        W = fm(T1) * fm(sigma.tolist()) * fm(T2).transpose()
        return [[sp.Rational(int(W[i, j].p), int(W[i, j].q)) for j in range(W.ncols())]
                for i in range(W.nrows())]
    W = sp.Matrix(T1) * sigma * sp.Matrix(T2).T
    return W.tolist()


def structured_loss(m: Moments, theta, convert, ring) -> object:
    """theta^T (E[psi psi^T] (x) Sigma) theta - 2 theta^T vec(E[psi w^T] Sigma) + k in ``ring``.

    ``convert`` maps a ring element of m.space (a moment) into ``ring``; theta's entries are
    SymPy values (numbers, or polynomials in ``ring``'s generators).
    """
    task, sigma = m.task, m.task.Sigma
    gd, odd = _theta_blocks(task, theta)

    def pair_sum(M, T1, T2, factor):
        W = _sandwich(T1, sigma, T2)
        out = ring.zero
        for i, row in enumerate(M):
            for j, value in enumerate(row):
                w = sp.sympify(W[i][j])
                if not value or w == 0:
                    continue
                v = convert(value)
                if w.is_Rational:
                    out += v.mul_ground(ring.domain.convert(w))
                else:
                    out += v * ring.from_expr(w)
        return out * factor

    ones = [[sp.Integer(1) if i == j else sp.Integer(0) for j in range(task.d)] for i in range(task.d)]
    total = convert(m.k)
    total += pair_sum(m.C, gd, gd, 1)
    total += pair_sum(m.D, odd, odd, 1)
    total += pair_sum(m.X, odd, gd, 2)
    # linear terms: sum_{j,c} T[j][c] (E[psi_j w^T] Sigma)[c] = sum_jk M_jk (T Sigma^T)_jk
    total += pair_sum(m.Bt, gd, ones, -2)
    total += pair_sum(m.Y, odd, ones, -2)
    return total
