"""The Kronecker structure of the lifted Gram matrix, computed and checked without forming it.

For the plain model (no query in keys, no residual) every lifted feature of
:class:`~derivations.features.FeatureBasis` is a context statistic times a query coordinate,
F = psi (x) x_q (psi index major), with, for one context token z = (x, y),

    psi = (1/n) sum_i ( y_i x_ib  [b = 1..d],  x_ia x_ib  [a <= b],  y_i^2 ),

the first d entries being g = (1/n) sum_i y_i x_i (the GD block) and the rest phi (the odd
block). Since x_q is independent of the context, the task vector and the query noise,

    H = E[F F^T] = E[psi psi^T] (x) Sigma,        c = E[F y_q] = vec(E[psi w^T] Sigma),

so the p x p Gram matrix (p ~ d^3 / 2) is determined by d x d and (d^2/2) x (d^2/2) factors:
C = E[g g^T], D = E[phi phi^T], B = E[w g^T], the cross moments E[phi g^T], E[phi w^T], and
k = E[y_q^2]. :class:`Moments` computes them entry by entry with the Gaussian engine
(Wick's theorem for one context example, the two-block partition for the n-fold average,
moments of w), with n kept as nu = 1/n.

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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import flint
import sympy as sp
from sympy.polys.rings import ring as make_ring

from . import spotcheck
from . import symbols as pinned
from .engine import Space, bilinear, wick_matchings
from .features import FeatureBasis
from .loss import loss_parts
from .lsa import EffectiveParameters
from .moments import GaussianVector
from .polymatrix import FractionMatrix, PolyDomain, solve
from .positivity import certify_positive_definite
from .proof import Step
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
    """One context example xi = (x, eps) ~ N(0, diag(Sigma, s2)) and the task vector w ~ N(0, Omega)."""

    def __init__(self, task: Task, space: Space | None = None):
        d = task.d
        self.task, self.d = task, d
        if space is None:
            xq = GaussianVector("xq", d, task.Sigma, private=True)   # registers Sigma's symbols
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
        """E_xi[(f0.xi)(f1.xi)(h0.xi)(h1.xi)] by Wick (a polynomial in w)."""
        out = self.zero
        for factors in wick_matchings([f[0], f[1], h[0], h[1]], self.K, self.space):
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
    the law of the context and w, fixes phi and flips g and w); :func:`step_symmetry_split`
    checks the claim against the engine, so it is never assumed.
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
    """Sigma's entries as domain elements when all are numbers (else None: use the forms)."""
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


# --- the proof steps of the structured route (one function each, explicit inputs) -----------

#: below this d the model's loss is also expanded in every parameter (deterministic check);
#: above it, it is compared at a random parameter point (Schwartz-Zippel)
EXACT_DIRECT_MAX_D = 3
#: the loss is a polynomial of degree <= 4 in the effective parameters (quadratic in theta,
#: theta bilinear in (u, M))
LOSS_DEGREE = 4


def statistic_names(d: int) -> list:
    names = []
    for i, k in statistic_pairs(d):
        if i == d and k == d:
            names.append("y^2")
        elif i == d:
            names.append(f"y x{k + 1}")
        else:
            names.append(f"x{i + 1} x{k + 1}")
    return names


def _factor_symbols(task: Task):
    d = task.d
    q = len(block_slices(d)["odd"])
    return {"C": sp.MatrixSymbol("C", d, d), "D": sp.MatrixSymbol("D", q, q),
            "Sigma": sp.MatrixSymbol("Sigma", d, d), "B": sp.MatrixSymbol("B", d, d)}


def _params_point(task: Task, rng) -> EffectiveParameters:
    d = task.d
    return EffectiveParameters(spotcheck.matrix(rng, d + 1, 1), spotcheck.matrix(rng, d + 1, d),
                               sp.zeros(d, 1))


def direct_identity(task: Task, m: Moments, basis: FeatureBasis, exact: bool, seed="quadratic"):
    """(holds, method text): the model's loss (direct engine route) == the structured form.

    exact: compare as polynomials in every effective parameter (expanded); otherwise at one
    pseudo-random integer parameter point, exactly in n, s2 and the task's symbols.
    """
    d = task.d
    if exact:
        params = EffectiveParameters.symbols(d)
        others = [g for g in m.space.gens if g not in m.space.coords("xq") and g not in m.space.coords("w")
                  and g not in (GEN_A, GEN_B)]
        R, *_ = make_ring(params.all_symbols()[: (d + 1) + (d + 1) * d] + others, m.space.domain)

        def convert(value):
            return R.from_expr(value.as_expr())
        method = ("exact: both sides expanded in one sparse polynomial ring over every effective "
                  "parameter, 1/n, s2 and the task's symbols, and compared")
    else:
        params = _params_point(task, spotcheck.rng_for(seed, task.describe()))
        R = m.space.ring

        def convert(value):
            return value
        method = (spotcheck.bound_text(LOSS_DEGREE) + " over the effective parameters (u, M); "
                  "exact in n, s2 and the task's symbols")
    theta = list(basis.coefficients(params, False))
    structured = structured_loss(m, theta, convert, R)
    nu = R(NU) if exact else m.space.gen(NU)
    parts = loss_parts(task, params).parts
    direct = R.zero
    for k, part in parts.items():
        direct += R.from_expr(part.as_expr()) * nu ** k
    return structured == direct, method


def step_quadratic(task: Task, m: Moments, basis: FeatureBasis | None = None, exact: bool | None = None,
                   statistic_fn=statistics) -> Step:
    """(b) the loss is the Kronecker-structured quadratic form in theta (checked three ways).

    1. F = psi (x) x_q for the features of ``basis`` (exact identity, two generic tokens);
    2. E[g g^T] = C, E[g w^T] = B^T, E[phi phi^T] = D (exact identities in two generic symbols);
    3. the model's loss from the direct route equals the form (exact for d <= 3, else at a
       random parameter point).
    """
    basis = basis or FeatureBasis.of(task)
    exact = task.d <= EXACT_DIRECT_MAX_D if exact is None else exact
    problems = []
    ok, detail = structure_identity(task, basis, statistic_fn)
    if not ok:
        problems.append(f"feature structure: {detail}")
    for rows, cols, name, claimed in (("gd", "gd", "C = E[g g^T]", m.C), ("gd", "w", "B^T = E[g w^T]", m.Bt),
                                      ("odd", "odd", "D = E[phi phi^T]", m.D)):
        ok, detail = block_identity(m, rows, cols, claimed)
        if not ok:
            problems.append(f"{name}: {detail}")
    same, direct_method = direct_identity(task, m, basis, exact)
    if not same:
        problems.append("the model's loss (direct route) differs from the structured quadratic form")
    sym = _factor_symbols(task)
    return Step.checked(
        "quadratic", "Loss as a convex quadratic",
        ("L(u, M) = theta^T H theta - 2 c^T theta + k with the Gram matrix of the lifted features in "
         "Kronecker form: the features are F = psi (x) x_q (psi = g = (1/n) sum_i y_i x_i, then "
         "phi = (1/n) sum_i (x_ia x_ib, y_i^2)) and x_q is independent of the context and of w, so "
         "H = E[psi psi^T] (x) Sigma with GD block C (x) Sigma, C = E[g g^T], odd block D (x) Sigma, "
         "D = E[phi phi^T]; c = vec(E[psi w^T] Sigma) with GD part vec(B^T Sigma), B = E[w g^T]; "
         "k = E[y_q^2]. H is a Gram matrix, so L is convex in theta and its minimum over all theta "
         "lower-bounds every LSA."),
        not problems,
        ("F = psi (x) x_q is an identity in the token coordinates; the expectation of a product of a "
         "function of (context, w) and one of x_q factors by independence. C, B and D are computed "
         "by the Gaussian engine entry by entry and checked against one engine computation of "
         "E[(v(a) . psi)(v(b) . psi)] with v(a) = (1, a, a^2, ...) (Kronecker substitution: the "
         "identity in a, b holds iff every entry agrees). The model's loss is computed independently "
         "(Wick per context example, no features) and compared with the structured form."),
        ("exact: features vs psi (x) x_q in a sparse ring over two generic tokens; C, B, D as "
         "polynomial identities in two generic symbols; the model's loss vs the form: " + direct_method),
        lhs=sp.MatrixSymbol("H_gd", task.d ** 2, task.d ** 2), relation="=",
        rhs=sp.KroneckerProduct(sym["C"], sym["Sigma"]),
        detail="; ".join(problems),
        data={"route": "structured", "direct_check": "exact" if exact else "randomised",
              "failure_bound": 0.0 if exact else spotcheck.failure_bound(LOSS_DEGREE),
              "factor_sizes": {"C": task.d, "D": len(m.D)}})


def step_symmetry_split(task: Task, m: Moments) -> Step:
    """(c) E[phi g^T] = 0 and E[phi w^T] = 0 (so the odd block is orthogonal to the GD block and
    to the target): the claimed moments X, Y are checked against the engine and found zero."""
    problems = []
    for cols, name, claimed in (("gd", "E[phi g^T]", m.X), ("w", "E[phi w^T]", m.Y)):
        ok, detail = block_identity(m, "odd", cols, claimed)
        if not ok:
            problems.append(f"{name}: {detail}")
    names = statistic_names(task.d)[task.d:]
    odd_target = next(((names[j], m.expr(v)) for j, row in enumerate(m.Y) for v in row if v), None)
    odd_gd = next(((names[j], b, m.expr(v)) for j, row in enumerate(m.X) for b, v in enumerate(row) if v), None)
    if odd_target:
        problems.append(f"the odd statistic {odd_target[0]} correlates with the target: "
                        f"E[phi w^T] has the entry {odd_target[1]}")
    if odd_gd:
        problems.append(f"E[({odd_gd[0]}) * g_{odd_gd[1] + 1}] = {odd_gd[2]} != 0")
    q = len(m.X)
    return Step.checked(
        "symmetry-split", "Symmetry split",
        ("X = E[phi g^T] = 0 and Y = E[phi w^T] = 0, so E[F_odd F_gd^T] = X (x) Sigma = 0 and "
         "E[F_odd y_q] = vec(Y Sigma) = 0: the odd-in-x features are orthogonal to the GD block and "
         "to the target, so L = L_gd(theta_gd) + theta_odd^T (D (x) Sigma) theta_odd."),
        not problems,
        ("(x_i, x_q, w) -> (-x_i, -x_q, -w) preserves the law and every y, flips odd features and "
         "fixes GD features and y_q; the cross moments are computed by the engine, checked, and "
         "found to be exactly zero."),
        (f"exact: E[phi g^T] ({q} x {task.d}) and E[phi w^T] ({q} x {task.d}) as polynomial "
         "identities in two generic symbols, and every entry zero"),
        lhs=sp.MatrixSymbol("X", q, task.d), relation="=", rhs=sp.ZeroMatrix(q, task.d),
        detail="; ".join(problems), data={"route": "structured"})


def _fraction(dom: PolyDomain, value) -> FractionMatrix:
    return value if isinstance(value, FractionMatrix) else FractionMatrix.from_sympy(dom, value)


def step_normal_equations(task: Task, C, B, gamma) -> Step:
    """(d) Gamma* C = B exactly (equivalently H_gd theta* = c_gd, since H_gd = C (x) Sigma,
    c_gd = vec(B^T Sigma) and Sigma is invertible). C, B, gamma: SymPy or FractionMatrix."""
    dom = domain_of(task)
    C, B, G = (_fraction(dom, x) for x in (C, B, gamma))
    GC = G @ C
    where = GC.first_difference(B)
    detail = ""
    if where is not None:
        i, j = where
        if i < 0:
            detail = "shapes differ"
        else:
            residual = dom.ratio(GC.rows[i][j] * B.den - B.rows[i][j] * GC.den, GC.den * B.den)
            detail = f"(Gamma C - B)[{i + 1},{j + 1}] = {sp.factor(residual)} != 0"
    d = task.d
    sym = _factor_symbols(task)
    return Step.checked(
        "normal-equations", "Normal equations",
        ("Gamma* C = B holds exactly; with H_gd = C (x) Sigma and c_gd = vec(B^T Sigma) this is "
         "H_gd theta* = c_gd at theta* = vec(Gamma*^T), with theta*_odd = 0."),
        where is None,
        "The stationarity condition of the convex quadratic, in d x d form (Sigma is invertible).",
        "exact: Gamma* C and B over common denominators, polynomial entries compared (python-flint)",
        lhs=sp.MatMul(sp.MatrixSymbol("Gamma", d, d), sym["C"]), relation="=", rhs=sym["B"],
        detail=detail, data={"route": "structured"})


def step_unique(task: Task, C, m: Moments | None = None) -> Step:
    """(f) C and Sigma positive definite (so H_gd = C (x) Sigma is); D reported when affordable."""
    pd_gd, detail_gd = certify_positive_definite(C)
    pd_sigma, detail_sigma = certify_positive_definite(task.Sigma)
    pd_odd, detail_odd = _odd_factor_pd(task, m) if m is not None else (None, "not computed")
    ok = pd_gd is True and pd_sigma is True
    verdict = True if ok else (False if False in (pd_gd, pd_sigma) else None)
    return Step.checked(
        "unique", "Uniqueness",
        ("The optimal predictor is unique: C = E[g g^T] and Sigma are positive definite, so "
         "H_gd = C (x) Sigma is and theta*_gd is the unique GD-block minimiser; any theta_odd with "
         "theta_odd^T (D (x) Sigma) theta_odd = 0 has E[(theta_odd . F_odd)^2] = 0, so it does not "
         "change the prediction."),
        verdict,
        ("A Kronecker product of positive definite matrices is positive definite (its eigenvalues "
         "are the products of theirs). Positive definiteness certified by leading principal minors "
         "with positive coefficients after n = 1 + m (n >= 1, s2 >= 0)."),
        f"C: {detail_gd}; Sigma: {detail_sigma}; odd factor D: {detail_odd}",
        lhs=sp.KroneckerProduct(_factor_symbols(task)["C"], _factor_symbols(task)["Sigma"]),
        relation="succ", rhs=sp.Integer(0),
        data={"odd_block_positive_definite": pd_odd, "route": "structured"})


#: the odd factor D is (d(d+1)/2 + 1)-square; its symbolic minors grow fast, so with symbolic
#: entries it is certified only up to this size (it is not needed for the verdict)
ODD_PD_SYMBOLIC_MAX = 15


def _odd_factor_pd(task: Task, m: Moments):
    q = len(m.D)
    if task.parameters and q > ODD_PD_SYMBOLIC_MAX:
        return None, (f"not certified ({q} x {q} with symbolic entries; not needed: the verdict "
                      "rests on C and Sigma)")
    verdict, detail = certify_positive_definite(m.matrix("D"))
    return verdict, f"H_odd = D (x) Sigma and D: {detail}"


# --- optimal loss: the model's own loss at the realising parameters ---------------------------

#: with symbolic n / s2 the model's loss on the GD family is expanded as a polynomial in the d^2
#: entries of Gamma up to this d (deterministic); above it, it is evaluated at a random (n, s2)
GD_FAMILY_EXACT_MAX_D = 6
#: degree bounds of the model's loss in 1/n and in s2 (every variant): the prediction is a
#: 1/n-average of terms of degree <= 2 in the labels, and the loss is its square
LOSS_NU_DEGREE, LOSS_S2_DEGREE = 2, 2


def _as_fraction_matrix(dom, gamma):
    return gamma if isinstance(gamma, FractionMatrix) else FractionMatrix.from_sympy(dom, gamma)


def _as_fraction(dom, loss):
    return loss if isinstance(loss, tuple) else dom.fraction(loss)


def _gd_family_value(task: Task, dom: PolyDomain, G: FractionMatrix):
    """(num, den): the model's loss at u = e_{d+1}, A = Gamma^T, b = 0 for Gamma = G, exactly.

    The loss on the GD family is expanded by the engine as a polynomial in d^2 placeholder
    entries gamma_ij (coefficients in 1/n, s2, symbols); G = N / delta is substituted with
    flint polynomials (delta^2 L is a polynomial). None when the engine's coefficient domain is a
    fraction field (symbolic covariances with a non-polynomial prior): not handled here.
    """
    d = task.d
    g = sp.Matrix(d, d, lambda i, j: sp.Dummy(f"gamma_{i + 1}{j + 1}"))
    lp = loss_parts(task, EffectiveParameters.gd_point(g))
    space = lp.space
    if space.domain != sp.QQ:
        return None
    position = {space.index[g[i, j]]: (i, j) for i in range(d) for j in range(d)}
    symbol_of = {space.index[s]: s for s in dom.symbols if s in space.index}
    delta = G.den
    total, top = dom.zero, max(lp.parts)
    n_symbolic = task.n_symbolic
    for k, part in lp.parts.items():
        value = dom.zero
        for monom, coeff in part.terms():
            term = dom.constant(space.domain.to_sympy(coeff))
            degree = 0
            for index, e in enumerate(monom):
                if not e:
                    continue
                if index in position:
                    i, j = position[index]
                    term = term * G.rows[i][j] ** e
                    degree += e
                elif index in symbol_of:
                    term = term * dom.gen(symbol_of[index]) ** e
                else:
                    raise ValueError("unexpected generator in the loss")
            value = value + term * delta ** (2 - degree)
        if n_symbolic:
            value = value * dom.gen(pinned.n) ** (top - k)
        else:
            value = value * dom.constant(sp.Rational(1, task.n) ** k)
        total = total + value
    den = delta ** 2 * (dom.gen(pinned.n) ** top if n_symbolic else dom.one)
    return total, den


def _random_point_check(task: Task, dom: PolyDomain, G: FractionMatrix, num, den, seed="optimal-loss"):
    """(holds, method): the model's loss at Gamma*(p) == L*(p) at one random point p of the
    task's symbolic parameters (n, s2), with the Schwartz-Zippel degree bound in the method."""
    from .task import Task as _Task

    rng = spotcheck.rng_for(seed, task.describe())
    values = {}
    for s in dom.symbols:
        values[s] = spotcheck.integer(rng, positive=True)
    while True:
        try:
            gamma_p = G.evaluate(values)
            break
        except ZeroDivisionError:              # a pole: never for n >= 1, s2 >= 0, but be safe
            values = {s: spotcheck.integer(rng, positive=True) for s in dom.symbols}
    from .polymatrix import evaluate
    den_p = evaluate(dom, den, values)
    if den_p == 0:
        return None, "the optimal loss has a pole at the random point"
    star_p = evaluate(dom, num, values) / den_p
    n_value = values.get(pinned.n, task.n)
    noise = values.get(pinned.s2, task.noise)
    task_p = _Task(d=task.d, noise=noise, covariance=task.Sigma, prior=task.Omega)
    parts = loss_parts(task_p, EffectiveParameters.gd_point(gamma_p)).parts
    direct = sum((sp.Rational(p.as_expr()) / sp.Integer(n_value) ** k for k, p in parts.items()), sp.Integer(0))
    e = max([int(G.den.total_degree())] + [int(x.total_degree()) for r in G.rows for x in r])
    degree = max(int(den.total_degree()) + LOSS_NU_DEGREE + LOSS_S2_DEGREE + 2 * e,
                 int(num.total_degree()) + LOSS_NU_DEGREE + 2 * e)
    method = (spotcheck.bound_text(degree, positive=True)
              + f" over ({', '.join(map(str, dom.symbols))}): the degree bound is that of "
              "n^2 delta^2 den(L*) (L(Gamma*) - L*), Gamma* = N / delta")
    return direct == star_p, method


def step_optimal_loss(task: Task, gamma, loss_star, exact: bool | None = None) -> Step:
    """L* (normal-equation route, k - c_gd . theta*) equals the model's exact loss at the
    realising parameters u = e_{d+1}, A = Gamma*^T, b = 0 (direct route).

    gamma: SymPy matrix or FractionMatrix; loss_star: SymPy expression or (num, den) flint pair.
    Fixed n and s2: one exact evaluation. Symbolic: the GD-family loss expanded in Gamma's
    entries with Gamma* substituted (d <= 6, or symbolic covariances), else one random point.
    """
    dom = domain_of(task)
    G = _as_fraction_matrix(dom, gamma)
    num, den = _as_fraction(dom, loss_star)
    if exact is None:
        exact = task.d <= GD_FAMILY_EXACT_MAX_D
    if set(dom.symbols) - {pinned.n, pinned.s2}:
        exact = True        # symbolic covariances: the random-point degree bound covers n, s2 only
    if not dom.symbols:
        value = sp.Rational(loss_parts(task, EffectiveParameters.gd_point(G.sympy())).expr())
        star = dom.ratio(num, den)
        ok = value == star
        shown = value
        method = "exact: the model's loss at the realising parameters evaluated exactly (rational arithmetic)"
    elif exact:
        family = _gd_family_value(task, dom, G)
        if family is None:
            from .exact import exact_equal
            g = sp.Matrix(task.d, task.d, lambda i, j: sp.Dummy(f"gamma_{i + 1}{j + 1}"))
            point = EffectiveParameters.gd_point(g)
            from .loss import expected_loss
            direct = expected_loss(task, point.u, point.M, point.r).xreplace(
                dict(zip(g, G.sympy(), strict=True)))
            ok = exact_equal(direct, dom.ratio(num, den))
            shown = direct if ok and _small(num, den) else None
        else:
            value, value_den = family
            ok = value * den == num * value_den
            shown = dom.ratio(value, value_den) if _small(num, den) else None
        method = ("exact: the loss on the GD family expanded as a polynomial in the entries of Gamma "
                  "(engine), Gamma* = N / delta substituted over a common denominator (python-flint)")
    else:
        ok, method = _random_point_check(task, dom, G, num, den)
        shown = None
    star_shown = dom.ratio(num, den) if _small(num, den) else None
    return Step.checked(
        "optimal-loss", "Optimal loss",
        "L* = k - c_gd^T theta* equals the model's exact loss at the realising parameters.",
        ok,
        "Two routes: the normal-equation value and the direct expectation of the model's loss.",
        method,
        lhs=star_shown if shown is not None else None, relation="=", rhs=shown,
        detail="" if ok else "the two values differ",
        data={"route": "structured"})


def _small(num, den, limit=60) -> bool:
    return len(num.to_dict()) + len(den.to_dict()) <= limit
