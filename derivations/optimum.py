"""The certified global optimum of the LSA pre-training loss for linear tasks.

:func:`global_optimum` derives Gamma* from the exact Gram matrix of the lifted features
(nothing from DESIGN.md is assumed) and returns it with a certificate: the ordered proof
steps (a)-(f) of DESIGN.md section 2, each an exact check that can fail.

>>> from derivations import Task
>>> opt = global_optimum(Task(d=1))
>>> opt.form, opt.eta
('gd', n/(n + s2 + 2))
>>> opt.certificate.holds
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp

from . import symbols as pinned
from .exact import canonical, exact_equal, is_zero
from .features import FeatureBasis, Gram, gram
from .loss import expected_loss
from .lsa import EffectiveParameters, effective_prediction, predict, realising_weights, reduction_steps
from .positivity import certify_positive_definite
from .proof import Derivation, Step
from .task import Task

FORMS = ("gd", "preconditioned-gd", "general")


@dataclass
class Optimum:
    """The exact optimum of a task: Gamma*, its form, eta*, L* and the certificate."""

    task: Task
    gamma: sp.Matrix
    loss: sp.Expr
    form: str
    eta: sp.Expr | None
    certificate: Derivation
    C: sp.Matrix | None = None         # E[g g^T]
    B: sp.Matrix | None = None         # E[w g^T]
    assumptions: dict = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        return self.certificate.holds


@dataclass
class ClaimVerdict:
    """Outcome of :func:`check_claim`: holds, or refuted with the violated normal equation."""

    holds: bool
    reason: str
    residual: sp.Matrix            # Gamma C - B (zero iff the normal equations hold)
    step: Step


def _tokens(d, count=2):
    xs = [sp.Matrix([sp.Symbol(f"t{i}_x{k + 1}", real=True) for k in range(d)]) for i in range(count)]
    ys = [sp.Symbol(f"t{i}_y", real=True) for i in range(count)]
    xq = sp.Matrix([sp.Symbol(f"t_q{k + 1}", real=True) for k in range(d)])
    return xs, ys, xq


def classify(gamma: sp.Matrix, sigma: sp.Matrix):
    """('gd', eta) if Gamma = eta I; ('preconditioned-gd', eta) if Gamma = eta Sigma^{-1}."""
    d = gamma.rows
    for form, base in (("gd", sp.eye(d)), ("preconditioned-gd", sigma.inv())):
        eta = canonical(gamma[0, 0] / base[0, 0])
        if exact_equal(gamma, eta * base):
            return form, eta
    return "general", None


@lru_cache(maxsize=8)
def _reduction(d):
    return tuple(reduction_steps(d))


def _kronecker_factor(block: sp.Matrix, sigma: sp.Matrix, d: int):
    """If block[(b,c),(b',c')] == C[b,b'] * Sigma[c,c'] exactly, return C; else None."""
    m = block.rows // d
    j = next(k for k in range(d) if sigma[0, k] != 0)
    C = sp.Matrix(m, m, lambda b, bb: canonical(block[b * d, bb * d + j] / sigma[0, j]))
    expected = sp.kronecker_product(C, sigma)
    return C if exact_equal(block, expected) else None


def _solve_gd_block(G: Gram, task: Task):
    """Solve the GD-block normal equations H_gd theta = c_gd, using H_gd = C (x) Sigma."""
    d, sigma = task.d, task.Sigma
    H_gd = G.block(G.basis.gd, G.basis.gd)
    c_gd = G.c.extract(list(G.basis.gd), [0])
    C = _kronecker_factor(H_gd, sigma, d)
    if C is not None:
        cmat = sp.Matrix(d, d, lambda b, c: c_gd[b * d + c])        # = (Sigma B)^T = B^T Sigma
        theta_mat = (C.inv() * cmat * sigma.inv()).applyfunc(canonical)
        B = (sigma.inv() * cmat.T).applyfunc(canonical)
    else:   # no product structure: solve the d^2 x d^2 system directly
        theta = H_gd.LUsolve(c_gd).applyfunc(canonical)
        theta_mat = sp.Matrix(d, d, lambda b, c: theta[b * d + c])
        B = None
    return theta_mat.T, C, B, H_gd, c_gd


def _odd_block_pd(G: Gram, task: Task):
    """Certify H_odd positive definite: via H_odd = D (x) Sigma when it factors."""
    H_odd = G.block(G.basis.odd, G.basis.odd)
    D = _kronecker_factor(H_odd, task.Sigma, task.d)
    if D is not None:
        verdict, detail = certify_positive_definite(D)
        return verdict, "H_odd = D (x) Sigma and D: " + detail
    if not task.n_symbolic and not task.noise_symbolic and not task.parameters:
        verdict, detail = certify_positive_definite(H_odd)
        return verdict, detail
    # evaluate at rational points (n >= 1, s2 >= 0): evidence, not a proof for all n
    return None, "H_odd has no product structure (query in keys) and symbolic entries"


def _certificate(task: Task, G: Gram, gamma, C, B, loss_star) -> Derivation:
    d = task.d
    basis: FeatureBasis = G.basis
    params = EffectiveParameters.symbols(d)
    theta_sym = basis.coefficients(params, task.residual)
    n = pinned.n
    cert = Derivation(f"Global optimality certificate ({task.describe()})")

    # (a) convex lift: every parameterisation -> (u, M, r) -> <theta, F>
    for step in _reduction(d):
        cert.add(step)
    xs, ys, xq = _tokens(d)
    tokens = [x.col_join(sp.Matrix([y])) for x, y in zip(xs, ys)]
    lhs = sp.expand(n * effective_prediction(params, tokens, xq, n, task.query_in_keys, task.residual))
    feats = basis.features(xs, ys, xq, n, task.query_in_keys)
    rhs = sp.expand(n * (theta_sym.T * feats)[0])
    cert.add(Step.identity(
        "convex-lift", "Convex lift", lhs, rhs,
        statement=("yhat = <theta, F> with theta = theta(u (x) M, r) and features "
                   "F_{ab,c} = (1/n) sum_i z_ia z_ib x_qc (unordered a, b) plus variant features; "
                   "theta is linear in T = u (x) M, so the loss is a quadratic in T."),
        justification="Expand both sides in every parameter and token coordinate (two generic context tokens)."))

    # (b) the loss is the quadratic theta^T H theta - 2 c^T theta + k with H = E[F F^T]
    lifted = sp.expand(G.loss(theta_sym))
    direct = expected_loss(task)
    cert.add(Step.identity(
        "quadratic", "Loss as a convex quadratic", lifted, direct,
        statement=("L(u, M, r) = theta^T H theta - 2 c^T theta + k with H = E[F F^T] (a Gram matrix, "
                   "so positive semidefinite), c = E[F y_q], k = E[y_q^2]; hence L is convex in theta "
                   "and min over all theta lower-bounds every LSA."),
        justification=("H, c, k computed from the features by the Gaussian engine agree, as polynomials "
                       "in all effective parameters, with the loss computed directly from the model.")))
    cert["quadratic"].data["H"] = G.H

    # (c) symmetry split: odd features orthogonal to the GD block and the target
    cross = G.block(basis.odd, basis.gd)
    c_odd = G.c.extract(list(basis.odd), [0])
    zero_cross = all(is_zero(v) for v in cross) and all(is_zero(v) for v in c_odd)
    bad = next(((basis.names[basis.odd[i]], v) for i, v in enumerate(c_odd) if not is_zero(v)), None)
    cert.add(Step.checked(
        "symmetry-split", "Symmetry split",
        "E[F_odd F_gd^T] = 0 and E[F_odd y_q] = 0: the odd-in-x features are orthogonal to the GD "
        "block and to the target, so L = L_gd(theta_gd) + theta_odd^T H_odd theta_odd.",
        zero_cross,
        "(x_i, x_q, w) -> (-x_i, -x_q, -w) preserves the law and every y, flips odd features and fixes "
        "GD features and y_q; the cross moments are computed and found to be exactly zero.",
        f"exact: all {len(cross)} cross moments and {len(c_odd)} target moments expand to 0",
        lhs=sp.Symbol(r"\mathbb{E}[F_{\mathrm{odd}} F_{\mathrm{gd}}^\top]"), relation="=", rhs=sp.Integer(0),
        detail="" if zero_cross else f"nonzero target correlation of {bad[0]}: {bad[1]}" if bad else "nonzero cross moment"))

    # (d) normal equations at the derived optimum
    theta_star = sp.Matrix([gamma[c, b] for b in range(d) for c in range(d)])
    H_gd = G.block(basis.gd, basis.gd)
    c_gd = G.c.extract(list(basis.gd), [0])
    cert.add(Step.identity(
        "normal-equations", "Normal equations", (H_gd * theta_star).applyfunc(sp.expand),
        c_gd.applyfunc(sp.expand),
        statement="H_gd theta* = c_gd holds exactly at theta* = vec(Gamma*^T), with theta*_odd = 0.",
        justification="The stationarity condition of the convex quadratic, checked entrywise over a common denominator."))

    # (e) realisability in every parameterisation
    g_vec = sum((y * x for x, y in zip(xs, ys)), sp.zeros(d, 1)) / n
    gd_pred = sp.expand(n * (xq.T * gamma * g_vec)[0])
    ok, details = True, []
    for kind in ("paper", "merged"):
        weights = realising_weights(kind, gamma)
        pred = sp.expand(n * predict(kind, weights, tokens, xq, n, task.query_in_keys, task.residual))
        same = is_zero(pred - gd_pred)
        ok &= same
        details.append(f"{kind}: {'ok' if same else 'differs'}")
    realised = EffectiveParameters(
        sp.Matrix([0] * d + [1]), gamma.T.col_join(sp.zeros(1, d)), sp.zeros(d, 1))
    theta_real = basis.coefficients(realised, task.residual)
    theta_full = sp.Matrix(list(theta_star) + [0] * len(basis.odd))
    ok &= exact_equal(theta_real, theta_full)
    cert.add(Step.checked(
        "realisable", "Realisability",
        "theta* is attained by an LSA: u = e_{d+1}, A = Gamma*^T, b = 0, r = 0 (paper: W^K = I, "
        "W^Q = [[Gamma*^T, 0], [0, 0]], W^V = I, h = e_{d+1}; merged: W^KQ = W^Q, W^PV = I), "
        "whose prediction is x_q^T Gamma* g.", ok,
        "Rank-one T* = e_{d+1} (x) [Gamma*^T; 0]; the predictions are expanded and compared.",
        "exact polynomial identity per parameterisation; lifted coefficients compared entrywise",
        detail="; ".join(details)))

    # loss at the optimum by the independent direct route
    direct_star = expected_loss(task, realised.u, realised.M, realised.r)
    cert.add(Step.identity(
        "optimal-loss", "Optimal loss", canonical(direct_star), loss_star,
        statement="L* = k - c_gd^T theta* equals the model's exact loss at the realising parameters.",
        justification="Two routes: the Gram-matrix value and the direct expectation of the model's loss."))

    # (f) uniqueness of the optimal predictor
    pd_gd, detail_gd = (certify_positive_definite(C) if C is not None else (None, "no product structure"))
    pd_sigma, _ = certify_positive_definite(task.Sigma)
    pd_odd, detail_odd = _odd_block_pd(G, task)
    ok = pd_gd is True and pd_sigma is True
    cert.add(Step.checked(
        "unique", "Uniqueness",
        "The optimal predictor is unique: H_gd = E[g g^T] (x) Sigma is positive definite, so theta*_gd "
        "is the unique GD-block minimiser; any theta_odd with H_odd theta_odd = 0 has "
        "E[(theta_odd . F_odd)^2] = 0, so it does not change the prediction (directions T_abc - T_bac "
        "multiply identical features).",
        ok if ok else (None if pd_gd is None or pd_sigma is None else False),
        "Positive definiteness certified by leading principal minors with positive coefficients "
        "after n = 1 + m (n >= 1, s2 >= 0).",
        f"E[g g^T]: {detail_gd}; odd block: {detail_odd}",
        lhs=sp.Symbol(r"H_{\mathrm{gd}}"), relation="succ", rhs=sp.Integer(0),
        data={"odd_block_positive_definite": pd_odd}))
    return cert


def global_optimum(task: Task) -> Optimum:
    """The exact global minimiser over all LSA parameters, with its certificate (linear tasks).

    Nonlinear responses are delegated to :mod:`derivations.nonlinear`.
    """
    if not task.is_linear:
        from .nonlinear import theorem3_optimum  # noqa: PLC0415 (optional module)
        return theorem3_optimum(task)
    G = gram(task)
    gamma, C, B, H_gd, c_gd = _solve_gd_block(G, task)
    theta_star = sp.Matrix([gamma[c, b] for b in range(task.d) for c in range(task.d)])
    loss_star = canonical(G.k - (c_gd.T * theta_star)[0])
    form, eta = classify(gamma, task.Sigma)
    cert = _certificate(task, G, gamma, C, B, loss_star)
    cert.conclusion = {"gamma": gamma, "eta": eta, "loss": loss_star, "form": form,
                       "strength": "symbolic-n" if task.n_symbolic and task.noise_symbolic else "instance"}
    return Optimum(task, gamma, loss_star, form, eta, cert, C=C, B=B)


def check_claim(task: Task, gamma=None, eta=None) -> ClaimVerdict:
    """Does a claimed optimum Gamma (or Gamma = eta I) satisfy the exact normal equations?

    Returns a verdict whose ``reason`` names the first violated normal equation.

    >>> from derivations import Task
    >>> from derivations.symbols import n, s2
    >>> check_claim(Task(d=2), eta=n / (n + 3 + s2)).holds
    True
    >>> v = check_claim(Task(d=2), eta=n / (n + 2 + s2))
    >>> v.holds, v.reason.split(':')[0]
    (False, 'violated normal equation (Gamma C - B)[1,1]')
    """
    d = task.d
    if (gamma is None) == (eta is None):
        raise ValueError("give exactly one of gamma (a d x d matrix) or eta (a scalar)")
    claim = sp.Matrix(gamma) if gamma is not None else sp.sympify(eta) * sp.eye(d)
    if claim.shape != (d, d):
        raise ValueError(f"gamma must be {d}x{d}")
    G = gram(task)
    gamma_star, C, B, H_gd, c_gd = _solve_gd_block(G, task)
    if C is None or B is None:
        C = B = None
    if C is not None:
        residual = (claim * C - B).applyfunc(canonical)
    else:
        theta = sp.Matrix([claim[c, b] for b in range(d) for c in range(d)])
        r = (H_gd * theta - c_gd).applyfunc(canonical)
        residual = sp.Matrix(d, d, lambda c, b: r[b * d + c])
    bad = [(i, j) for i in range(d) for j in range(d) if not is_zero(residual[i, j])]
    if bad:
        i, j = bad[0]
        reason = (f"violated normal equation (Gamma C - B)[{i + 1},{j + 1}]: {residual[i, j]} != 0 "
                  f"(C = E[g g^T], B = E[w g^T]; {len(bad)} of {d * d} entries violated)")
    else:
        reason = "the normal equations Gamma C = B hold exactly; by the certificate this is the global optimum"
    step = Step.checked(
        "claim", "Claimed optimum", f"The claimed Gamma = {claim.tolist()} satisfies Gamma C = B.",
        not bad, "Stationarity of the convex GD-block quadratic (normal equations).",
        "exact entrywise check of Gamma C - B", lhs=claim * sp.Symbol("C"), rhs=sp.Symbol("B"),
        detail=reason if bad else "")
    return ClaimVerdict(not bad, reason, residual, step)
