"""Exact GD-block optimum and odd-block cross moments for polynomial responses.

Everything is an exact moment of the Gaussian engine (d fixed; n, s2 symbolic or given):
context averages (1/n) sum_i phi(x_i, eps_i) are split by set partitions
(:func:`derivations.engine.context_expectation`), then the shared variables (w, x_q, eps_q)
are integrated with exact Gaussian moments (:class:`derivations.engine.Space`).

With g = (1/n) sum_i y_i x_i the GD block predicts x_q^T Gamma g. Its normal equations are
    sum_{c', b'} H[(c, b), (c', b')] Gamma[c', b'] = B[c, b],
    H = E[x_qc x_qc' g_b g_b'],  B = E[y_q x_qc g_b].
H is computed in full and then checked to factor as Q (x) C with Q = E[x_q x_q^T] and
C = E[g g^T] (x_q is independent of the context), so Gamma* = Q^{-1} B C^{-1}. Nothing is
assumed about rotation invariance: Gamma* is whatever the moments give.

>>> from derivations.task import Task
>>> r = exact_gd_block(Task(d=1))
>>> r.gamma
Matrix([[n/(n + s2 + 2)]])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..engine import Space, context_expectation
from ..exact import canonical, exact_equal
from ..moments import GaussianVector
from ..notation.display import SympyNode
from ..notation.tree import AvgNode, BuiltinNode, DivNode, MulNode
from ..task import Task
from .responses import ResponseModel, response_model


class _Moments:
    """Exact E[shared * prod_k (1/n) sum_i phi_k(i)] for one task, with caching."""

    def __init__(self, task: Task, model: ResponseModel):
        d = task.d
        self.n = task.n
        noise = sp.Matrix([[task.noise]])
        self.x = GaussianVector("x", d, task.Sigma)
        self.e = GaussianVector("e", 1, noise)
        self.w = GaussianVector("w", d, task.Omega)
        self.xq = GaussianVector("xq", d, task.Sigma)
        self.eq = GaussianVector("eq", 1, noise)
        vectors = [self.x, self.e, self.w, self.xq, self.eq]
        self.space = Space(vectors, [s for s in task.parameters if s != task.n])
        sp_ = self.space
        X, W, XQ = sp_.coords("x"), sp_.coords("w"), sp_.coords("xq")
        self.X, self.XQ = X, XQ
        # f on ring elements: convert the SymPy polynomial once, at the template coordinates
        f_ctx = sp.expand(model.response_at(self.x.coords, self.w.coords))
        f_q = sp.expand(model.response_at(self.xq.coords, self.w.coords))
        self.y = sp_(f_ctx) + sp_.coords("e")[0]
        self.yq = sp_(f_q) + sp_.coords("eq")[0]
        self.W = W
        self.example, self.shared = ["x", "e"], ["w", "xq", "eq"]
        self._block_cache: dict = {}
        self._phis: list = []

    def phi(self, poly) -> int:
        """Register a per-example factor; returns its key."""
        self._phis.append(poly)
        return len(self._phis) - 1

    def _block(self, keys):
        key = tuple(sorted(keys))
        if key not in self._block_cache:
            product = self.space.ring.one
            for k in key:
                product = product * self._phis[k]
            self._block_cache[key] = self.space.expect_all(product, self.example)
        return self._block_cache[key]

    def context(self, keys, shared=1) -> sp.Expr:
        """E[shared * prod_{k in keys} (1/n) sum_i phi_k(i)]."""
        shared = shared if not isinstance(shared, int) else self.space.ring(shared)
        if not keys:
            return self.space.expect_all(shared, self.shared).as_expr()
        weights, parts = context_expectation(list(keys), self._block, self.n)
        total = sp.Integer(0)
        for m, part in parts.items():
            total += weights[m] * self.space.expect_all(part * shared, self.shared).as_expr()
        return total


@dataclass
class GDBlock:
    """Exact moments and optimum of the GD block x_q^T Gamma g (and the odd block's cross moments).

    C = E[g g^T]; B[c, b] = E[y_q x_qc g_b]; Q = E[x_q x_q^T]; gamma = Q^{-1} B C^{-1}
    (None if C is singular); loss = E[y_q^2] - tr(Q^{-1} B C^{-1} B^T) (the GD block's minimum);
    hessian_factorises: H == Q (x) C exactly; m2 = E|m_f|^2, y2x2 = E[y^2 |x|^2] (the
    ingredients of the Theorem 3 step size); odd: label -> (E[F y_q], [E[F F_gd(c,b)]]).
    """

    C: sp.Matrix
    B: sp.Matrix
    Q: sp.Matrix
    gamma: sp.Matrix | None
    loss: sp.Expr | None
    hessian_factorises: bool
    m2: sp.Expr
    y2x2: sp.Expr
    odd: dict = field(default_factory=dict)
    odd_display: dict = field(default_factory=dict)    # label -> the feature as a statement tree

    def odd_residual(self, label) -> sp.Expr:
        """E[F (y_q - x_q^T Gamma* g)]: nonzero means adding F lowers the GD block's loss."""
        target, cross = self.odd[label]
        d = self.C.rows
        fitted = sum((self.gamma[c, b] * cross[c * d + b] for c in range(d) for b in range(d)),
                     sp.Integer(0))
        return canonical(target - fitted)

    @property
    def odd_nonzero(self) -> dict:
        """Odd features with a nonzero correlation to the target or to a GD feature."""
        out = {}
        for label, (target, cross) in self.odd.items():
            if not exact_equal(target, 0) or any(not exact_equal(v, 0) for v in cross):
                out[label] = (canonical(target), [canonical(v) for v in cross])
        return out


def odd_features(task: Task, mom: _Moments):
    """The odd-in-x features of the convex lift: (label, per-example factor or None, x_q part,
    the feature as a statement tree for display)."""
    from ..statements import expression

    d, X, XQ = task.d, mom.X, mom.XQ
    x, i, q = sp.IndexedBase("x"), sp.Symbol("i"), sp.Symbol("q")
    feats = []
    for a in range(d):
        for b in range(a, d):
            key = mom.phi(X[a] * X[b])
            feats += [(f"(1/n) sum_i x_i{a + 1} x_i{b + 1} * x_q{c + 1}", key, XQ[c],
                       MulNode((AvgNode(SympyNode(x[i, a + 1] * x[i, b + 1])), SympyNode(x[q, c + 1]))))
                      for c in range(d)]
    key = mom.phi(mom.y * mom.y)
    feats += [(f"(1/n) sum_i y_i^2 * x_q{c + 1}", key, XQ[c],
               MulNode((expression("avg(y_i^2)"), SympyNode(x[q, c + 1])))) for c in range(d)]
    if task.residual:
        feats += [(f"x_q{c + 1} (residual)", None, XQ[c], SympyNode(x[q, c + 1])) for c in range(d)]
    if task.query_in_keys:
        feats += [(f"x_q{a + 1} x_q{b + 1} x_q{c + 1} / n (query in keys)", None,
                   XQ[a] * XQ[b] * XQ[c],
                   DivNode(SympyNode(x[q, a + 1] * x[q, b + 1] * x[q, c + 1]), BuiltinNode("n")))
                  for a in range(d) for b in range(a, d) for c in range(d)]
    return feats


def exact_gd_block(task: Task, model: ResponseModel | None = None, odd: bool = True) -> GDBlock:
    """Exact C, B, Q, H-factorisation, Gamma*, L* and (if ``odd``) odd-block cross moments."""
    model = model or response_model(task)
    if not model.polynomial:
        raise ValueError("exact_gd_block needs a polynomial response")
    d = task.d
    mom = _Moments(task, model)
    X, XQ, y, yq = mom.X, mom.XQ, mom.y, mom.yq
    gd = [mom.phi(y * X[b]) for b in range(d)]
    C = sp.Matrix(d, d, lambda b, b2: canonical(mom.context([gd[b], gd[b2]])))
    B = sp.Matrix(d, d, lambda c, b: canonical(mom.context([gd[b]], yq * XQ[c])))
    Q = sp.Matrix(d, d, lambda c, c2: mom.context([], XQ[c] * XQ[c2]))
    # the full Hessian of the GD block, H[(c,b),(c',b')] = E[x_qc x_qc' g_b g_b'], entry by entry
    factorises = all(
        exact_equal(mom.context([gd[b], gd[b2]], XQ[c] * XQ[c2]), Q[c, c2] * C[b, b2])
        for c in range(d) for c2 in range(d) for b in range(d) for b2 in range(d))
    try:
        gamma = canonical(Q.inv() * B * C.inv())
        loss = canonical(mom.context([], yq * yq) - (Q.inv() * B * C.inv() * B.T).trace())
    except (ValueError, ZeroDivisionError):  # singular C: no unique optimum to report
        gamma, loss = None, None
    # Theorem 3's ingredients: m_f(w) = E_x[x f(x; w)], E|m_f|^2 and E[y^2 |x|^2]
    space = mom.space
    m = [space.expect_all(y * X[c], mom.example) for c in range(d)]
    m2 = canonical(sum((space.expect_all(mc * mc, mom.shared).as_expr() for mc in m),
                       sp.Integer(0)))
    norm2 = sum((X[c] * X[c] for c in range(d)), space.ring.zero)
    y2x2 = canonical(space.expect_all(y * y * norm2, mom.example + mom.shared).as_expr())
    block = GDBlock(C, B, Q, gamma, loss, factorises, m2, y2x2)
    if odd:
        for label, key, qpart, shown in odd_features(task, mom):
            block.odd_display[label] = shown
            keys = [] if key is None else [key]
            target = mom.context(keys, qpart * yq)
            cross = [mom.context(keys + [gd[b]], qpart * XQ[c])
                     for c in range(d) for b in range(d)]
            block.odd[label] = (target, cross)
    return block
