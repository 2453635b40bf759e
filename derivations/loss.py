"""The exact expected pre-training loss L(u, M, r) = E[(yhat - y_q)^2] of a linear task.

Route (each step exact):
1. Given the shared variables (w, x_q, eps_q), a context example's noise and covariates
   xi = (x, eps) ~ N(0, diag(Sigma, s2)) enter every factor of yhat through linear forms:
   u^T z = (u_x + u_y w, u_y) . xi and z^T M x_q = (A x_q + w b^T x_q, b^T x_q) . xi.
   Their joint moments are taken in closed form by Wick's theorem (engine.wick), so the
   context coordinates are never expanded.
2. The n-fold context average splits by set partitions: E[Y^2] = (1/n) E[phi^2] +
   ((n-1)/n) E[phi_1 phi_2] (engine.context_expectation).
3. The shared variables are integrated coordinate-wise with exact moments; x_q first
   (products of forms linear in x_q are contracted with Sigma directly), then w.
The result is a polynomial in 1/n: L = sum_k Q_k / n^k with Q_k polynomials in the
parameters, s2 and any covariance symbols.
"""

from __future__ import annotations

import sympy as sp

from . import symbols as pinned
from .engine import Space, context_expectation
from .exact import as_exact_matrix
from .lsa import EffectiveParameters
from .moments import GaussianVector
from .task import Task

NU = sp.Symbol("nu", positive=True)  # 1/n while assembling


def prod_(factors):
    out = factors[0]
    for f in factors[1:]:
        out = out * f
    return out


class LossParts:
    """L = sum_k parts[k] / n^k, with parts[k] ring elements of ``space``."""

    def __init__(self, space: Space, parts: dict, task: Task):
        self.space, self.parts, self.task = space, parts, task

    def expr(self) -> sp.Expr:
        """The loss as a SymPy expression (n as in the task: the symbol n or its value)."""
        n = self.task.n
        return sp.Add(*(p.as_expr() / n**k for k, p in sorted(self.parts.items())))

    def nterms(self) -> int:
        return sum(len(p) for p in self.parts.values())


def _weights_in_nu(weights):
    """Context weights n(n-1)..(n-m+1)/n^K as polynomials in nu = 1/n: {m: {k: coeff}}."""
    out = {}
    for m, w in weights.items():
        poly = sp.Poly(sp.expand(w.subs(pinned.n, 1 / NU) if w.has(pinned.n) else w), NU)
        out[m] = {mon[0]: coeff for mon, coeff in poly.terms()}
    return out


def _require_linear(task: Task):
    if not task.is_linear:
        raise NotImplementedError(
            "expected_loss covers linear tasks; nonlinear responses are handled by the "
            "nonlinear (Theorem 3) module")


def loss_parts(task: Task, params: EffectiveParameters | None = None) -> LossParts:
    """The exact loss of a linear task, as polynomials in 1/n (see module docstring)."""
    _require_linear(task)
    d = task.d
    params = params or EffectiveParameters.symbols(d)
    s2 = task.noise
    law = task.covariates          # Gaussian unless the task says otherwise (derivations.laws)
    xq = law.vector("xq", d, task.Sigma, private=True)
    w = GaussianVector("w", d, task.Omega, private=True)
    eq = GaussianVector("eq", 1, sp.Matrix([[s2]]), private=True)
    param_exprs = list(params.all_symbols())
    free = set().union(*(e.free_symbols for e in param_exprs)) | set(s2.free_symbols)
    space = Space([xq, eq, w], sorted(free, key=str))
    P = space
    X, W, E = P.coords("xq"), P.coords("w"), P.coords("eq")[0]
    ux = [P(e) for e in params.ux]
    uy = P(params.uy)
    A = [[P(params.A[i, j]) for j in range(d)] for i in range(d)]
    b = [P(e) for e in params.b]
    r = [P(e) for e in params.r]

    # linear forms in xi = (x, eps) for one context example
    bx = sum((b[c] * X[c] for c in range(d)), P.ring.zero)
    Ax = [sum((A[k][c] * X[c] for c in range(d)), P.ring.zero) for k in range(d)]
    form_u = [ux[k] + uy * W[k] for k in range(d)] + [uy]
    form_v = [Ax[k] + W[k] * bx for k in range(d)] + [bx]
    xi_cov = sp.diag(task.Sigma, sp.Matrix([[s2]]))
    phi = (form_u, form_v)

    def matchings(factors):
        return law.matchings([f for factor in factors for f in factor], xi_cov, P)

    # shared part of the prediction minus the target: D = D0 + (1/n) D1
    yq = sum((W[k] * X[k] for k in range(d)), P.ring.zero) + E
    D0 = -yq
    if task.residual:
        D0 += sum((r[k] * X[k] for k in range(d)), P.ring.zero)
    D1 = P.ring.zero
    if task.query_in_keys:
        uxx = sum((ux[k] * X[k] for k in range(d)), P.ring.zero)
        D1 = uxx * sum((X[k] * Ax[k] for k in range(d)), P.ring.zero)

    parts: dict = {}

    def add(k, poly):
        if poly:
            parts[k] = parts[k] + poly if k in parts else poly

    shared = ("xq", "eq", "w")

    def integrate(*factors):
        return P.expect_factors(list(factors), shared)

    def integrate_matchings(matchings, *extra):
        out = P.ring.zero
        for factors in matchings:
            out += P.expect_factors(list(factors) + list(extra), shared)
        return out

    # E[Y^2] = sum over partitions of the two factors: one block (the same example,
    # E_xi[phi^2]) or two blocks (distinct examples, E_xi[phi]^2), weighted in 1/n.
    weights, _ = context_expectation([0, 0], lambda fs: P.ring.one, pinned.n)
    nu_weights = _weights_in_nu(weights)
    mean = matchings([phi])                 # E_xi[phi] (a single matching)
    mean_phi = sum(prod_(f) for f in mean) if mean else P.ring.zero
    pieces = {1: integrate_matchings(matchings([phi, phi])),
              2: integrate(mean_phi, mean_phi)}
    for m, value in pieces.items():
        for k, c in nu_weights[m].items():
            add(k, value * c)
    # 2 E[Y D] = 2 E[E_xi[phi] (D0 + D1/n)]
    add(0, 2 * integrate(mean_phi, D0))
    if D1:
        add(1, 2 * integrate(mean_phi, D1))
    # E[D^2]
    add(0, integrate(D0, D0))
    if D1:
        add(1, 2 * integrate(D0, D1))
        add(2, integrate(D1, D1))
    return LossParts(P, parts, task)


def expected_loss(task: Task, u=None, M=None, r=None) -> sp.Expr:
    """The exact expected pre-training loss E[(yhat - y_q)^2] as a SymPy expression.

    With u, M (and r, for residual tasks) omitted it is a polynomial in the effective
    parameters of :class:`~derivations.lsa.EffectiveParameters` (``ux1.., uy``, ``A_ij``,
    ``b_j``, ``r_j``) with coefficients rational in n and s2. With explicit SymPy matrices
    u ((d+1) x 1), M ((d+1) x d), r (d x 1) -- numbers or the caller's own symbols -- it is
    the loss at those parameters.

    >>> from derivations import Task
    >>> import sympy as sp
    >>> u = sp.Matrix([0, 1]); M = sp.Matrix([[sp.Rational(1, 2)], [0]])
    >>> sp.factor(expected_loss(Task(d=1), u, M))   # GD point eta = 1/2 at d = 1
    (4*n*s2 + n + s2 + 2)/(4*n)
    """
    d = task.d
    sym = EffectiveParameters.symbols(d)
    names = {"n": pinned.n, "s2": pinned.s2}
    given = EffectiveParameters(
        sym.u if u is None else as_exact_matrix(u, "u", shape=(d + 1, 1), names=names),
        sym.M if M is None else as_exact_matrix(M, "M", shape=(d + 1, d), names=names),
        sym.r if r is None else as_exact_matrix(r, "r", shape=(d, 1), names=names))
    entries = given.all_symbols()
    polynomial = all(e.is_polynomial() and not e.has(pinned.n) for e in entries)
    if polynomial:
        return loss_parts(task, given).expr()
    # rational entries (e.g. depending on n): substitute into the generic polynomial
    generic = loss_parts(task, sym).expr()
    mapping = dict(zip(sym.all_symbols(), entries, strict=True))
    return sp.cancel(sp.together(generic.xreplace(mapping)))
