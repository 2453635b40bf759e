"""The critical points of the loss over (u, M) for one task, each certified.

:func:`landscape` (n, s2 fixed; d = 1, 2, 3) returns a :class:`Landscape`:

1. the exact loss polynomial (:mod:`.polynomial`) and its symmetries, each checked exactly
   (:mod:`.symmetry`);
2. **exact points**: the global minimiser u = e_{d+1}, A = Gamma*^T, b = 0 (Gamma* from
   :func:`derivations.global_optimum`; its loss is checked to equal L* exactly), at d = 1 also the
   second global family u_x b = eta* (u = e_1, M = (0, Gamma*)), and the origin with the linear
   family of critical points {u = 0, M in K} through it (:func:`origin_family`);
3. **searched points**: at d = 1 every real solution of an exact Groebner basis of the gradient
   plus the balancing equation |u|^2 = |M|^2 (:func:`.search.stationary_points_d1`), at d >= 2
   seeded multistart: a second-order minimiser on L from ``starts`` random starts (finds minima)
   and least squares on (grad L, |u|^2 - |M|^2) from as many starts (finds saddles too);
4. each new critical value is certified by :func:`.certify.certify_numeric` (Krawczyk + interval
   inertia) and listed once; points of equal loss and index are treated as one orbit (they are
   images of each other under the discrete symmetries in every case examined; not proved).

``completeness`` says exactly what was proved and what was only searched.
:func:`nearest_critical_point` classifies any (u, M), e.g. a trained model's weights.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..errors import TaskError
from ..task import Task
from .certify import CriticalPoint, certify_exact, certify_numeric, exact_inertia
from .polynomial import LossPolynomial, loss_polynomial
from .symmetry import check_invariance, generators

MAX_D = 3


@dataclass
class Landscape:
    """Certified critical points of one task (see the module docstring)."""

    task: Task
    L_star: sp.Rational
    points: list
    symmetries: list
    completeness: str
    search: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def certified(self) -> list:
        return [p for p in self.points if p.certified]

    @property
    def lowest_certified_loss(self):
        exact = [p.loss for p in self.certified if p.exact]
        return min(exact) if exact else None

    @property
    def spurious_minima(self) -> list:
        """Certified local minima whose loss enclosure lies entirely above L*."""
        return [p for p in self.certified if p.kind == "local-min" and p.loss_bounds()[0] > float(self.L_star)]

    def as_json(self) -> dict:
        return {"L_star": str(self.L_star),
                "lowest_certified_loss": None if self.lowest_certified_loss is None
                else str(self.lowest_certified_loss),
                "landscape": [p.as_json() for p in self.points],
                "symmetries": self.symmetries, "completeness": self.completeness,
                "search": self.search, "seconds": round(self.seconds, 3)}


def _check_task(task: Task):
    if not isinstance(task, Task):
        raise TaskError(f"landscape: expected a derivations.Task, got {type(task).__name__}")
    if task.d > MAX_D:
        raise TaskError(f"landscape: d must be at most {MAX_D} (the multistart search and the interval "
                        f"certificates grow like d^6), got d = {task.d}")


def global_point(task: Task, gamma: sp.Matrix) -> list:
    """u = e_{d+1}, A = Gamma^T, b = 0 as a flat parameter vector."""
    d = task.d
    return [0] * d + [1] + list(gamma.T) + [0] * d


def second_global_point_d1(gamma: sp.Matrix) -> list:
    """d = 1: u = e_1, a = 0, b = Gamma (u_x b = Gamma): the other global-minimum family."""
    return [1, 0, 0, gamma[0, 0]]


def origin_family(loss: LossPolynomial, L_star) -> CriticalPoint:
    """The critical points with u = 0, checked exactly.

    At u = 0 the gradient in M vanishes identically (theta is bilinear in (u, M)), and the
    gradient in u is linear in M: its kernel K is a linear space of critical points, all with
    loss L(0). Each is a strict saddle when the u-M block C of the Hessian (constant in M on the
    family) is nonzero and the M-M block vanishes: x^T P x + 2 x^T C y < 0 for x = -t C y, t small.
    """
    d, V = loss.d, loss.variables
    u_vars, m_vars = V[: d + 1], V[d + 1:]
    at = {v: 0 for v in u_vars}
    grad = [sp.expand(g.as_expr().xreplace(at)) for g in loss.gradient_polys]
    assert all(g == 0 for g in grad[d + 1:]), "grad_M L must vanish identically at u = 0"
    A, _ = sp.linear_eq_to_matrix(grad[: d + 1], m_vars)
    K = A.nullspace()
    H = [[sp.expand(h.as_expr().xreplace(at)) for h in row] for row in loss.hessian_polys]
    mm_zero = all(H[i][j] == 0 for i in range(d + 1, loss.size) for j in range(d + 1, loss.size))
    C = sp.Matrix([[H[i][j] for j in range(d + 1, loss.size)] for i in range(d + 1)])
    C_constant = not (C.free_symbols & set(m_vars))
    cp = certify_exact(loss, [], [0] * loss.size, L_star)
    cp.family_dim = len(K)
    strict = mm_zero and C_constant and C != sp.zeros(*C.shape)
    cp.family = (f"u = 0, M in a {len(K)}-dimensional linear space K (the kernel of M -> grad_u L(0, M)); "
                 "grad L vanishes on it identically, loss L(0) = E[y_q^2]"
                 + ("; every point is a strict saddle: the u-M Hessian block is constant and nonzero, "
                    "the M-M block vanishes" if strict else ""))
    if len(K):
        cp.kind = "saddle" if strict else cp.kind
        cp.certified = strict
    return cp


def zero_M_forces_zero_u(loss: LossPolynomial) -> bool:
    """Exact: at M = 0 the gradient in u vanishes identically and the gradient in M is linear in u
    with trivial kernel, so no critical point has M = 0 and u != 0."""
    d, V = loss.d, loss.variables
    u_vars, m_vars = V[: d + 1], V[d + 1:]
    at = {v: 0 for v in m_vars}
    grad = [sp.expand(g.as_expr().xreplace(at)) for g in loss.gradient_polys]
    if any(g != 0 for g in grad[: d + 1]):
        return False
    A, rest = sp.linear_eq_to_matrix(grad[d + 1:], u_vars)
    return rest == sp.zeros(*rest.shape) and not A.nullspace()


def _orbit_key(cp: CriticalPoint):
    lo, hi = cp.loss_bounds()
    return ((lo + hi) / 2, cp.inertia[0] if cp.inertia else None)


def _match(points, value, tol=1e-7):
    for i, p in enumerate(points):
        lo, hi = p.loss_bounds()
        if abs((lo + hi) / 2 - value) <= tol * max(1.0, abs(value)):
            return i
    return None


def _float_candidates(loss: LossPolynomial, starts: int, seed: int):
    """(minimiser limits, root-finder limits): float points from seeded random starts."""
    from scipy.optimize import least_squares, minimize

    rng = np.random.default_rng(seed)
    d = loss.d
    # search on L / L(0) (same critical points; keeps tolerances meaningful for large losses)
    scale = 1.0 / loss.value_float(np.zeros(loss.size))

    def f(x):
        return scale * loss.value_float(x)

    def g(x):
        return scale * loss.gradient_float(x)

    def h(x):
        return scale * loss.hessian_float(x)

    minima, roots = [], []
    for _ in range(starts):
        x0 = rng.normal(size=loss.size)
        r = minimize(f, x0, jac=g, method="BFGS", options={"gtol": 1e-10, "maxiter": 5000})
        r = minimize(f, r.x, jac=g, hess=h, method="trust-exact", options={"gtol": 1e-13, "maxiter": 1000})
        minima.append(r.x)
    for _ in range(starts):
        x0 = rng.normal(size=loss.size)

        def eqs(x):
            u, m = x[: d + 1], x[d + 1:]
            return np.r_[g(x), u @ u - m @ m]

        def jac(x):
            u, m = x[: d + 1], x[d + 1:]
            return np.vstack([h(x), np.r_[2 * u, -2 * m]])

        r = least_squares(eqs, x0, jac=jac, xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=2000)
        roots.append(r.x)
    return minima, roots


def landscape(task: Task, starts: int = 30, seed: int = 0) -> Landscape:
    """Every critical point found for ``task``, each certified (see the module docstring)."""
    from ..optimum import global_optimum

    start = time.perf_counter()
    _check_task(task)
    loss = loss_polynomial(task)
    gens = generators(task)
    symmetries = []
    for g in gens:
        ok = check_invariance(loss, g)
        symmetries.append({"generator": g.name, "invariance_checked_exactly": bool(ok)})
        if not ok:
            raise AssertionError(f"landscape: {g.name} does not leave the loss invariant")
    opt = global_optimum(task)
    L_star = sp.Rational(opt.loss)
    gamma = sp.Matrix(opt.gamma)
    points = [certify_exact(loss, gens, global_point(task, gamma), L_star)]
    if task.d == 1:
        points.append(certify_exact(loss, gens, second_global_point_d1(gamma), L_star))
    points.append(origin_family(loss, L_star))
    m_zero = zero_M_forces_zero_u(loss)
    dim = points[-1].family_dim
    proved = ("proved exactly: " + (f"every critical point with u = 0 lies in the listed {dim}-dimensional linear "
                                     "family through the origin" if dim else "u = 0 forces M = 0 (only the origin)")
              + ("; M = 0 forces u = 0" if m_zero else "; (M = 0 with u != 0 NOT excluded)"))
    counts = {"minimiser": {}, "root-finder": {}}
    unresolved = {"minimiser": 0, "root-finder": 0}
    if task.d == 1:
        from .search import stationary_points_d1

        candidates = {"root-finder": [np.array([float(v) for v in pt.point.values()])
                                      for pt in stationary_points_d1(int(task.n), task.noise, task=task)]}
        method = (f"{proved}. Complete at these n, s2: every real solution of an exact lex Groebner basis of "
                  "grad L = 0 and |u|^2 = |M|^2 (u = 0 and M = 0 handled exactly); the roots of the triangular "
                  "basis are located numerically at 60 digits and checked against every basis polynomial (a "
                  "residual check, not a root-isolation proof); each critical value is certified")
    else:
        minima, roots = _float_candidates(loss, starts, seed)
        candidates = {"minimiser": minima, "root-finder": roots}
        method = (f"{proved}. Critical points with u != 0 and M != 0: searched, not proved complete: {starts} "
                  f"seeded starts (seed {seed}) of BFGS + trust-region Newton on L and {starts} of least squares on "
                  "(grad L, |u|^2 - |M|^2); every distinct critical value found is certified")
    scale = 1.0 / loss.value_float(np.zeros(loss.size))
    for source, xs in candidates.items():
        for x in xs:
            g = scale * np.linalg.norm(loss.gradient_float(x))
            if not np.isfinite(g) or g > 1e-8 or np.abs(x).max() > 1e3:
                unresolved[source] += 1
                continue
            value = loss.value_float(x)
            i = _match(points, value)
            if i is None:
                points.append(certify_numeric(loss, gens, x, L_star))
                i = len(points) - 1
            counts[source][i] = counts[source].get(i, 0) + 1
    search = {"method": method, "starts": starts if task.d > 1 else None, "seed": seed if task.d > 1 else None,
              "ended_at": {src: {str(i): c for i, c in sorted(cs.items())} for src, cs in counts.items()},
              "not_converged": unresolved}
    points_sorted = sorted(range(len(points)), key=lambda i: points[i].loss_bounds()[0])
    remap = {old: new for new, old in enumerate(points_sorted)}
    search["ended_at"] = {src: {str(remap[int(i)]): c for i, c in cs.items()} for src, cs in search["ended_at"].items()}
    points = [points[i] for i in points_sorted]
    return Landscape(task, L_star, points, symmetries, method, search, time.perf_counter() - start)


def nearest_critical_point(task_or_landscape, u, M):
    """The certified critical point whose loss is nearest to L(u, M), and that distance.

    ``u`` ((d+1,)) and ``M`` ((d+1) x d) may be floats (a trained model's weights: each float is
    taken as the exact dyadic rational it is). Returns (CriticalPoint, loss enclosure at (u, M) as
    an arb, |L(u, M) - L(point)| upper bound as a float). A Landscape can be passed to avoid
    recomputing it.
    """
    from flint import arb

    from ..intervals import ball

    land = task_or_landscape if isinstance(task_or_landscape, Landscape) else landscape(task_or_landscape)
    loss = loss_polynomial(land.task)
    flat = [ball(float(v)) for v in np.asarray(u, float).ravel()] + \
           [ball(float(v)) for v in np.asarray(M, float).ravel()]
    if len(flat) != loss.size:
        raise TaskError(f"nearest_critical_point: expected u of size {land.task.d + 1} and M of size "
                        f"{(land.task.d + 1) * land.task.d}, got {len(flat)} numbers in all")
    value = loss.value_balls(flat)
    best, gap = None, None
    for cp in land.certified:
        lo, hi = cp.loss_bounds()
        dist = max(abs(float(value.upper()) - lo), abs(hi - float(value.lower())))
        if gap is None or dist < gap:
            best, gap = cp, dist
    return best, arb(value), gap


__all__ = ["Landscape", "MAX_D", "exact_inertia", "global_point", "landscape", "nearest_critical_point",
           "origin_family"]
