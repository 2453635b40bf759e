"""The convex lift: the LSA prediction is linear in T = u (x) M, yhat = <theta, F>.

F_{ab,c} = (1/n) sum_i z_ia z_ib x_qc depends on (a, b) only as an unordered pair, so the
reduced coefficients are theta_{ab,c} = T_abc + T_bac (a != b), T_aac (a = b). They split:

* GD block ("g[b,c]"): pairs {b, d+1}, feature (1/n) sum_i y_i x_ib x_qc, coefficient
  (u_y A + u_x b^T)_{bc} = Gamma_{cb} (yhat_GD = x_q^T Gamma g);
* odd block: "xx[a,b;c]" (a <= b <= d), feature (1/n)[sum_i x_ia x_ib + qik x_qa x_qb] x_qc;
  "yy[;c]", feature (1/n) sum_i y_i^2 x_qc, coefficient u_y b_c; and, with the residual
  variant, "r[c]", feature x_qc, coefficient r_c.

:func:`gram` computes exactly H = E[F F^T], c = E[F y_q] and k = E[y_q^2] with the Gaussian
engine (Wick per context example, partitions for the n-fold average, moments for the
shared variables), so the loss of any T is the quadratic T^T H T - 2 c^T T + k.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .engine import Space
from .lsa import EffectiveParameters
from .moments import GaussianVector
from .task import Task


@dataclass(frozen=True)
class FeatureBasis:
    """Names and blocks of the reduced features of a task, in a fixed order."""

    d: int
    names: tuple
    gd: tuple          # indices of the GD block, ordered (b, c) with b major
    odd: tuple         # indices of the odd block

    @classmethod
    def of(cls, task: Task) -> FeatureBasis:
        d = task.d
        names = [f"g[{b + 1},{c + 1}]" for b in range(d) for c in range(d)]
        names += [f"xx[{a + 1},{b + 1};{c + 1}]" for a in range(d) for b in range(a, d) for c in range(d)]
        names += [f"yy[;{c + 1}]" for c in range(d)]
        if task.residual:
            names += [f"r[{c + 1}]" for c in range(d)]
        return cls(d, tuple(names), tuple(range(d * d)), tuple(range(d * d, len(names))))

    def coefficients(self, params: EffectiveParameters, residual: bool) -> sp.Matrix:
        """theta(u, M, r): the reduced lifted coefficients of effective parameters."""
        d, u, A, b = self.d, params.u, params.A, params.b
        theta = [params.uy * A[bb, c] + u[bb] * b[c] for bb in range(d) for c in range(d)]
        for a in range(d):
            for bb in range(a, d):
                for c in range(d):
                    theta.append(u[a] * A[bb, c] + (u[bb] * A[a, c] if a != bb else 0))
        theta += [params.uy * b[c] for c in range(d)]
        if residual:
            theta += list(params.r)
        return sp.Matrix(theta)

    def features(self, x, y, xq, n, query_in_keys=False):
        """The feature vector for explicit context tokens (x[i] vectors, y[i] labels)."""
        d, m = self.d, len(x)
        yx = [sum((y[i] * x[i][b] for i in range(m)), sp.Integer(0)) / n for b in range(d)]
        xx = [[sum((x[i][a] * x[i][b] for i in range(m)), sp.Integer(0)) / n for b in range(d)] for a in range(d)]
        yy = sum((y[i] ** 2 for i in range(m)), sp.Integer(0)) / n
        out = [yx[b] * xq[c] for b in range(d) for c in range(d)]
        for a in range(d):
            for b in range(a, d):
                for c in range(d):
                    extra = xq[a] * xq[b] / n if query_in_keys else 0
                    out.append((xx[a][b] + extra) * xq[c])
        out += [yy * xq[c] for c in range(d)]
        if len(self.names) > len(out):
            out += [xq[c] for c in range(d)]
        return sp.Matrix(out)


@dataclass
class Gram:
    """Exact second moments of the lifted features: loss(theta) = theta^T H theta - 2 c^T theta + k."""

    basis: FeatureBasis
    H: sp.Matrix
    c: sp.Matrix
    k: sp.Expr

    def block(self, rows, cols):
        return self.H.extract(list(rows), list(cols))

    def loss(self, theta: sp.Matrix) -> sp.Expr:
        return (theta.T * self.H * theta)[0] - 2 * (self.c.T * theta)[0] + self.k


def gram(task: Task) -> Gram:
    """H = E[F F^T], c = E[F y_q], k = E[y_q^2] exactly (linear tasks)."""
    if not task.is_linear:
        raise NotImplementedError("gram() covers linear tasks; see derivations.nonlinear")
    d, s2, n = task.d, task.noise, task.n
    basis = FeatureBasis.of(task)
    law = task.covariates          # Gaussian unless the task says otherwise (derivations.laws)
    xq = law.vector("xq", d, task.Sigma, private=True)
    w = GaussianVector("w", d, task.Omega, private=True)
    eq = GaussianVector("eq", 1, sp.Matrix([[s2]]), private=True)
    P = Space([xq, eq, w], sorted(sp.sympify(s2).free_symbols, key=str))
    X, W, E = P.coords("xq"), P.coords("w"), P.coords("eq")[0]
    zero, one = P.ring.zero, P.ring.one
    xi_cov = sp.diag(task.Sigma, sp.Matrix([[s2]]))

    def unit(k):
        return [one if j == k else zero for j in range(d + 1)]

    y_form = list(W) + [one]            # y = w^T x + eps as a form in xi = (x, eps)
    feats = []                          # (forms, shared multiplier, extra term / n)
    for bb in range(d):
        for c in range(d):
            feats.append(((y_form, unit(bb)), X[c], None))
    for a in range(d):
        for bb in range(a, d):
            for c in range(d):
                extra = X[a] * X[bb] * X[c] if task.query_in_keys else None
                feats.append(((unit(a), unit(bb)), X[c], extra))
    for c in range(d):
        feats.append(((y_form, y_form), X[c], None))
    if task.residual:
        for c in range(d):
            feats.append((None, X[c], None))   # a shared feature x_qc, no 1/n

    shared = ("xq", "eq", "w")

    def E_shared(*factors):
        return P.expect_factors(list(factors), shared)

    mean = []
    for forms, _, _ in feats:
        if forms is None:
            mean.append(None)
            continue
        ms = law.matchings(list(forms), xi_cov, P)
        mean.append(sum((m[0] for m in ms), zero))

    def as_expr(parts):
        return sp.Add(*(p.as_expr() / n**k for k, p in parts.items() if p))

    p = len(feats)
    H = sp.zeros(p, p)
    yq = sum((W[k] * X[k] for k in range(d)), zero) + E
    c_vec = sp.zeros(p, 1)
    for i, (fi, si, qi) in enumerate(feats):
        # c_i = E[F_i y_q]
        parts = {}
        if fi is None:
            parts[0] = E_shared(si, yq)
        else:
            parts[0] = E_shared(mean[i], si, yq)
            if qi is not None:
                parts[1] = E_shared(qi, yq)
        c_vec[i] = as_expr(parts)
        for j in range(i, p):
            fj, sj, qj = feats[j]
            parts = {0: zero, 1: zero, 2: zero}
            if fi is None and fj is None:
                parts[0] += E_shared(si, sj)
            elif fi is None or fj is None:
                avg, s_avg, q_avg = (j, sj, qj) if fi is None else (i, si, qi)
                s_sh = si if fi is None else sj
                parts[0] += E_shared(mean[avg], s_avg, s_sh)
                if q_avg is not None:
                    parts[1] += E_shared(q_avg, s_sh)
            else:
                same = law.matchings(list(fi) + list(fj), xi_cov, P)
                one_block = sum((E_shared(*m, si * sj) for m in same), zero)
                two_blocks = E_shared(mean[i] * si, mean[j] * sj)
                # (1/n) E[Phi_i Phi_j] + ((n-1)/n) E[E Phi_i E Phi_j]
                parts[0] += two_blocks
                parts[1] += one_block - two_blocks
                if qj is not None:
                    parts[1] += E_shared(mean[i] * si, qj)
                if qi is not None:
                    parts[1] += E_shared(qi, mean[j] * sj)
                if qi is not None and qj is not None:
                    parts[2] += E_shared(qi, qj)
            H[i, j] = H[j, i] = as_expr(parts)
    k = P.expect_factors([yq, yq], shared).as_expr()
    return Gram(basis, H, c_vec, k)
