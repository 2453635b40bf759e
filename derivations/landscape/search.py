"""The d = 1 exact Groebner solver and the earlier float multistart study (issue 4).

:mod:`derivations.landscape.critical` builds on :func:`stationary_points_d1` for its complete d = 1
lists and certifies every point; :func:`multistart` is the float-only study kept for comparison.

Stationary points of the LSA loss in the effective parameters (u, M).

d = 1: every real stationary point of L(u_x, u_y, a, b), found exactly on a documented grid
of (n, s2) values (a Groebner basis of the gradient; symbolic n, s2 is out of reach for
SymPy's Groebner engine in minutes). L depends on (u, M) only through T = u (x) M, so
stationary points come in gauge orbits (c u, M / c); the orbits with u, M != 0 are cut
once by the balancing equation |u|^2 = |M|^2, and u = 0 or M = 0 is treated separately.
Each point is classified by the eigenvalues of the exact Hessian (one zero eigenvalue
along the gauge orbit is expected): "global minimum" (L = L*), "saddle" (a negative
eigenvalue) or "spurious local minimum" (PSD Hessian, L > L*).

d = 2, 3: a multistart study: L-BFGS-B (scipy) on the exact polynomial loss with its exact
gradient (differentiated entrywise), from seeded random starts; every distinct limit is
reported by its gauge-invariant summary (loss, Gamma, odd-block size).
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from ..loss import expected_loss
from ..lsa import EffectiveParameters
from ..task import Task

#: the (n, s2) grid of the d = 1 study
D1_GRID = tuple((n, s2) for n in (1, 2, 5, 20) for s2 in (sp.Integer(0), sp.Rational(1, 4), sp.Integer(1)))


@dataclass
class StationaryPoint:
    point: dict          # variable -> exact value (algebraic numbers allowed)
    loss: sp.Expr
    hessian_eigenvalues: list   # floats (mpmath, 30 digits, rounded for display)
    kind: str            # "global minimum" | "saddle" | "spurious local minimum" | "degenerate"


def _classify(loss_value, eigs, L_star, tol=1e-12):
    neg = [e for e in eigs if e < -tol]
    at_min = abs(float(loss_value - L_star)) < 1e-20
    if neg:
        return "saddle"
    return "global minimum" if at_min else "spurious local minimum"


def _real_solutions(basis, variables, dps=60):
    """Real points of a zero-dimensional lex Groebner basis, by back-substitution.

    The basis is exact; roots are found at ``dps`` digits (mpmath polyroots via SymPy
    nroots) and a candidate is kept only if every basis polynomial vanishes there to
    1e-(dps/2). A variable left free by every polynomial means a positive-dimensional
    component, which is reported rather than sampled.
    """
    tol = sp.Float(10) ** (-(dps // 2))

    def extend(assigned, index):
        if index < 0:
            yield dict(assigned)
            return
        var = variables[index]
        later = set(variables[:index])
        polys = []
        for g in basis:
            if var in g.free_symbols and not (g.free_symbols & later):
                value = sp.Poly(sp.expand(g.subs(assigned)), var)
                coeffs = [sp.N(c, dps) for c in value.all_coeffs()]
                scale = max((abs(c) for c in sp.Poly(g, *variables).coeffs()), default=1)
                if all(abs(c) < tol * scale for c in coeffs):
                    continue          # vanishes identically on this branch (up to rounding)
                if value.degree() == 0:
                    return            # a nonzero constant: no point on this branch
                polys.append(value)
        if not polys:
            raise ValueError(f"positive-dimensional component: {var} is free")
        polys.sort(key=lambda q: q.degree())
        for root in polys[0].nroots(n=dps, maxsteps=500):
            if abs(sp.im(root)) > tol:
                continue
            root = sp.re(root)
            if all(abs(sp.N(q.as_expr().subs(var, root), dps)) < tol * 1e6 for q in polys[1:]):
                yield from extend({**assigned, var: root}, index - 1)

    points = []
    for sol in extend({}, len(variables) - 1):
        if all(abs(sp.N(g.subs(sol), dps)) < tol * 1e6 for g in basis):
            points.append(sol)
    return points


def stationary_points_d1(n, s2, dps=60, task=None):
    """All real stationary points of the d = 1 effective loss at fixed n, s2.

    The gradient and the balancing equation |u|^2 = |M|^2 are solved through an exact lex
    Groebner basis; roots are located to ``dps`` digits and verified against every basis
    polynomial. u = 0 (or M = 0) forces M = 0 (or u = 0) by the gradient, which is checked
    exactly, so the balanced slice sees every gauge orbit.
    """
    if task is None:
        task = Task(d=1, n=int(n), noise=s2)
    p = EffectiveParameters.symbols(1)
    variables = [p.u[0], p.u[1], p.M[0], p.M[1]]
    if task.is_linear:
        L = sp.expand(expected_loss(task))
    else:                       # a polynomial response: the full lifted loss from exact moments
        from .polynomial import polynomial_response_loss

        L = polynomial_response_loss(task)
    grad = [sp.expand(sp.diff(L, v)) for v in variables]
    hess = sp.hessian(L, variables)
    # u = 0 => grad_u = 0 forces M = 0, and M = 0 forces u = 0 (exact check).
    for zero, other in ((variables[:2], variables[2:]), (variables[2:], variables[:2])):
        eqs = [sp.expand(g.subs({v: 0 for v in zero})) for g in grad]
        ideal = sp.groebner([e for e in eqs if e != 0], *other, order="lex")
        if list(ideal.exprs) != [v for v in other] and set(ideal.exprs) != set(other):
            raise AssertionError(f"unexpected stationary family with {zero} = 0: {ideal.exprs}")
    balance = p.u[0] ** 2 + p.u[1] ** 2 - p.M[0] ** 2 - p.M[1] ** 2
    basis = sp.groebner(grad + [balance], *variables, order="lex").exprs
    points = []
    seen = set()
    for sol in _real_solutions(basis, variables, dps):
        key = tuple(round(float(sol[v]), 10) for v in variables)
        if key in seen:
            continue
        seen.add(key)
        with mpmath.workdps(dps):
            H = mpmath.matrix([[mpmath.mpf(str(sp.N(hess[i, j].subs(sol), dps))) for j in range(4)]
                               for i in range(4)])
            eigs = sorted(float(e) for e in mpmath.eigsy(H)[0])
        ordered = {v: sol[v] for v in variables}
        points.append(StationaryPoint(ordered, sp.N(L.subs(sol), 30), eigs, ""))
    L_star = min(pt.loss for pt in points)
    for pt in points:
        pt.kind = _classify(pt.loss, pt.hessian_eigenvalues, L_star)
    return points


def d1_study(grid=D1_GRID):
    """{(n, s2): [StationaryPoint]} and a summary line per grid point."""
    return {(n, s2): stationary_points_d1(n, s2) for n, s2 in grid}


@dataclass
class Limit:
    """One distinct limit of the multistart study (gauge-invariant summary)."""

    loss: float
    gamma: np.ndarray
    odd_norm: float
    count: int
    grad_norm: float
    hessian_eigenvalues: np.ndarray
    kind: str = ""
    null_dim: int = 0
    symmetry_dim: int = 0


def _symmetry_tangents(x, d, rotations: bool):
    """Tangent vectors of the loss's continuous symmetries at x = (u, vec(M)).

    Gauge: (u, M) -> (c u, M / c), tangent (u, -M). With Sigma = Omega = I, rotations
    x -> Q x act by u_x -> Q u_x, A -> Q A Q^T, b -> Q b; tangents for each generator J.
    """
    u, M = x[: d + 1], x[d + 1:].reshape(d + 1, d)
    tangents = [np.concatenate([u, -M.ravel()])]
    if rotations:
        for k in range(d):
            for l in range(k + 1, d):
                J = np.zeros((d, d))
                J[k, l], J[l, k] = -1.0, 1.0
                du = np.concatenate([J @ u[:d], [0.0]])
                dM = np.vstack([J @ M[:d] - M[:d] @ J, (J @ M[d])[None, :]])
                tangents.append(np.concatenate([du, dM.ravel()]))
    return np.array(tangents)


def _odd_coefficients(u, A, b):
    """Reduced odd-block coefficients: theta_{ab,c} (a <= b) and u_y b_c."""
    d = len(b)
    out = [u[a] * A[bb, c] + (u[bb] * A[a, c] if a != bb else 0.0)
           for a in range(d) for bb in range(a, d) for c in range(d)]
    return np.array(out + list(u[d] * b))


def multistart(task: Task, starts=50, seed=0, scale=1.0, L_star=None):
    """Distinct limits of local optimisation on the exact loss from random starts.

    Each start runs L-BFGS-B and is polished by trust-exact with the exact Hessian. A
    limit is classified from the exact gradient and Hessian: "saddle" (a negative
    eigenvalue), "global minimum" (loss = L*), "spurious local minimum" (loss > L*,
    Hessian PSD with null space inside the symmetry tangent space: a strict minimum
    modulo symmetries, Morse-Bott) or "degenerate" (flat directions not explained by a
    symmetry: undecided at second order).
    """
    from scipy.optimize import minimize

    d = task.d
    p = EffectiveParameters.symbols(d)
    variables = list(p.u) + list(p.M)
    L = sp.expand(expected_loss(task))
    f = sp.lambdify([variables], L, "numpy")
    grad = sp.lambdify([variables], [sp.diff(L, v) for v in variables], "numpy")
    hess = sp.lambdify([variables], sp.hessian(L, variables), "numpy")
    jac = lambda v: np.asarray(grad(v), dtype=float)  # noqa: E731
    hes = lambda v: np.asarray(hess(v), dtype=float)  # noqa: E731
    rotations = task.Sigma == sp.eye(d) and task.Omega == sp.eye(d)
    rng = np.random.default_rng(seed)
    limits: list[Limit] = []
    for _ in range(starts):
        x0 = rng.normal(scale=scale, size=len(variables))
        res = minimize(lambda v: float(f(v)), x0, jac=jac, method="L-BFGS-B",
                       options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-11})
        res = minimize(lambda v: float(f(v)), res.x, jac=jac, hess=hes, method="trust-exact",
                       options={"gtol": 1e-12, "maxiter": 2000})
        v = res.x
        u, M = v[: d + 1], v[d + 1:].reshape(d + 1, d)
        A, b = M[:d], M[d]
        gamma = (u[d] * A + np.outer(u[:d], b)).T
        odd_norm = float(np.linalg.norm(_odd_coefficients(u, A, b)))
        for lim in limits:
            spectrum = np.sort(np.linalg.eigvalsh((gamma + gamma.T) / 2))
            known = np.sort(np.linalg.eigvalsh((lim.gamma + lim.gamma.T) / 2))
            # limits are compared up to the rotation symmetry: loss and spectrum of Gamma
            if abs(lim.loss - res.fun) < 1e-8 and np.allclose(known, spectrum, atol=1e-5):
                lim.count += 1
                break
        else:
            H = hes(v)
            eigs, vecs = np.linalg.eigh(H)
            scale_h = max(1.0, float(np.abs(eigs).max()))
            null = vecs[:, np.abs(eigs) < 1e-7 * scale_h]
            tangents = _symmetry_tangents(v, d, rotations)
            q, _ = np.linalg.qr(tangents.T)
            residual = np.linalg.norm(null - q @ (q.T @ null)) if null.size else 0.0
            lim = Limit(float(res.fun), gamma, odd_norm, 1, float(np.linalg.norm(jac(v))), eigs,
                        null_dim=null.shape[1], symmetry_dim=int(np.linalg.matrix_rank(tangents, tol=1e-8)))
            if eigs.min() < -1e-7 * scale_h:
                lim.kind = "saddle"
            elif L_star is not None and abs(res.fun - L_star) < 1e-8:
                lim.kind = "global minimum"
            elif residual < 1e-5:
                lim.kind = "spurious local minimum" if L_star is not None else "local minimum"
            else:
                lim.kind = "degenerate"
            limits.append(lim)
    return sorted(limits, key=lambda lim: lim.loss)
