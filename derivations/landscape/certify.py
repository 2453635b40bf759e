"""Certificates for critical points of the loss over (u, M), modulo its symmetries.

A critical point p* of L is never isolated when the gauge or a data symmetry moves it: its
orbit is a manifold of critical points with tangent space T(p*) = span{K_j p*}
(:mod:`.symmetry`). Certification therefore works on a **slice**: k coordinates of p are fixed
at rational values c (k = dim T), chosen so that the symmetry tangents span those k directions
(the k x k block of [K_j p] in the fixed coordinates is nonsingular); the other N - k
coordinates s are free.

**Why a critical point of the slice is a critical point of L.** For every p, grad L(p) is
orthogonal to T(p) (L is constant on orbits: the exact identity grad L . K p = 0). If the free
components of grad L vanish, grad L(p) is also orthogonal to the free coordinate directions S.
When T(p) + S = R^N (the fixed-coordinate block of the tangents is nonsingular at p), grad L(p)
is orthogonal to everything: p is a critical point of L.

**Existence and isolation** (non-rational points): Newton's method on the slice system
F(s) = (grad L)_free at 256 bits, then the Krawczyk test (:func:`derivations.intervals.krawczyk`)
on a small box around the refined point: a unique zero of F in the box. The tangent block is
checked nonsingular on the whole box (interval determinant), so the zero is a critical point
of L. Rational points (the global minimiser, the origin) are checked exactly instead.

**Inertia modulo symmetries.** The Hessian restricted to the free coordinates, H_ff, is
evaluated on the box (or exactly); its inertia is certified by
:func:`derivations.intervals.symmetric_spectrum` (exactly: Descartes' rule of signs on the
characteristic polynomial, exact for real-rooted polynomials). Since H(p*) K p* = 0, the
quadratic form of H(p*) vanishes on T(p*) and H(p*) is, on R^N = T(p*) + S, the form of H_ff; so
inertia(H) = inertia(H_ff) + (0, k, 0). If H_ff is nonsingular the kernel of H(p*) is EXACTLY the
tangent space of the orbit (a nondegenerate, Morse-Bott, critical manifold); a degenerate
critical manifold would show up as a singular H_ff and is never certified here. H_ff positive
definite makes p* a strict minimum on the slice, hence (the orbit map times the slice is a local
diffeomorphism) a local minimum of L, strict modulo the symmetries; a negative eigenvalue makes
it a saddle.

Kinds: "global-min" (the exact minimiser: loss = L* exactly), "local-min" (a certified local
minimum with loss > L*: spurious), "saddle", "degenerate" (not decided at second order).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import sympy as sp
from flint import arb, arb_mat, fmpq_mat

from ..intervals import (
    DEFAULT_PREC,
    arb_text,
    ball,
    krawczyk_search,
    precision,
    symmetric_spectrum,
    to_fmpq,
)
from .polynomial import LossPolynomial

KINDS = ("global-min", "local-min", "saddle", "degenerate")


@dataclass
class CriticalPoint:
    """A critical point (or critical family) of the loss with its certificate.

    point: exact rationals (method "exact") or arb balls (method "krawczyk");
    loss: exact Rational or an arb enclosure; kind: one of :data:`KINDS`; certified: existence,
    loss and inertia all certified; inertia: (negative, zero, positive) of the FULL Hessian;
    symmetry_dim: dimension of the orbit's tangent space (the zero eigenvalues explained by
    symmetries); fixed: {coordinate index: value} of the slice; eigenvalues: enclosures of the
    eigenvalues of the Hessian restricted to the slice's free coordinates; family_dim: > 0 for a
    linear family of critical points beyond the symmetry orbit (then ``family`` describes it).
    """

    task: object
    point: list
    loss: object
    kind: str
    certified: bool
    method: str
    inertia: tuple | None
    symmetry_dim: int
    fixed: dict = field(default_factory=dict)
    eigenvalues: list = field(default_factory=list)
    family_dim: int = 0
    family: str = ""
    reason: str = ""
    box_radius: float = 0.0
    names: list = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.method == "exact"

    def loss_bounds(self) -> tuple[float, float]:
        """(lower, upper) floats enclosing the loss (equal for an exact loss)."""
        if isinstance(self.loss, arb):
            from ..intervals import arb_bounds

            return arb_bounds(self.loss)
        v = float(self.loss)
        return v, v

    def point_float(self) -> np.ndarray:
        return np.array([float(v.mid()) if isinstance(v, arb) else float(v) for v in self.point])

    def as_json(self) -> dict:
        def show(v):
            return arb_text(v, 20) if isinstance(v, arb) else str(v)

        return {"point": {str(n): show(v) for n, v in zip(self.names, self.point, strict=True)},
                "loss": show(self.loss), "kind": self.kind, "certified": self.certified,
                "method": self.method,
                "inertia": None if self.inertia is None else {"negative": self.inertia[0],
                                                              "zero": self.inertia[1],
                                                              "positive": self.inertia[2]},
                "symmetry_dim": self.symmetry_dim, "family_dim": self.family_dim, "family": self.family,
                "slice": {str(self.names[i]): str(v) for i, v in self.fixed.items()},
                "restricted_hessian_eigenvalues": [show(e) for e in self.eigenvalues],
                "reason": self.reason}


# --- shared pieces -------------------------------------------------------------------------------

def tangent_matrix(gens, p) -> np.ndarray:
    """N x m float matrix of the symmetry tangents K_j p at a float point."""
    return np.column_stack([np.array(g.K.tolist(), dtype=float) @ np.asarray(p, float) for g in gens])


def choose_slice(gens, p, tol: float = 1e-7):
    """(k, fixed coordinates, tangent columns) for a float point: k = numerical rank of the
    tangents; the fixed coordinates are the first k pivots of a column-pivoted QR of T^T (the
    coordinates the orbit moves most), the columns the first k pivots of a QR of T."""
    T = tangent_matrix(gens, p)
    scale = max(1.0, float(np.abs(p).max()))
    sv = np.linalg.svd(T, compute_uv=False)
    k = int(np.sum(sv > tol * scale))
    if k == 0:
        return 0, [], []
    _, _, coord_piv = scipy.linalg.qr(T.T, pivoting=True)
    _, _, col_piv = scipy.linalg.qr(T, pivoting=True)
    return k, sorted(int(i) for i in coord_piv[:k]), sorted(int(j) for j in col_piv[:k])


def exact_inertia(H: sp.Matrix) -> tuple[int, int, int]:
    """(negative, zero, positive) eigenvalue counts of a rational symmetric matrix, exactly.

    The characteristic polynomial of a symmetric matrix has only real roots, so Descartes' rule
    of signs counts its positive roots exactly (and those of p(-x) the negative ones).
    """
    size = H.rows
    if size == 0:
        return (0, 0, 0)
    exact = fmpq_mat([[to_fmpq(x) for x in row] for row in H.tolist()])
    coeffs = [sp.Rational(int(c.p), int(c.q)) for c in exact.charpoly().coeffs()]
    # flint: coeffs()[k] multiplies x^k
    zero = next(k for k, c in enumerate(coeffs) if c != 0)
    rest = coeffs[zero:]

    def changes(cs):
        signs = [c > 0 for c in cs if c != 0]
        return sum(1 for a, b in zip(signs, signs[1:], strict=False) if a != b)

    pos = changes(rest)
    neg = changes([c * (-1) ** k for k, c in enumerate(rest)])
    assert pos + neg + zero == size
    return (neg, zero, pos)


def _kind(inertia, loss_is_star: bool):
    neg, zero, pos = inertia
    if neg:
        return "saddle"
    if zero:
        return "degenerate"
    return "global-min" if loss_is_star else "local-min"


# --- exact route -----------------------------------------------------------------------------------

def certify_exact(loss: LossPolynomial, gens, p, L_star=None) -> CriticalPoint:
    """Certificate of a rational point: exact gradient, exact slice, exact inertia."""
    p = [sp.Rational(v) for v in p]
    names = list(loss.variables)
    grad = loss.gradient_exact(p)
    value = loss.value_exact(p)
    if any(g != 0 for g in grad):
        i = next(i for i, g in enumerate(grad) if g != 0)
        return CriticalPoint(loss.task, p, value, "degenerate", False, "exact", None, 0, names=names,
                             reason=f"not a critical point: dL/d{names[i]} = {grad[i]} != 0")
    T = sp.Matrix.hstack(*[g.K * sp.Matrix(p) for g in gens]) if gens else sp.zeros(len(p), 0)
    k = T.rank()
    fixed_idx = list(T.T.rref()[1])[:k] if k else []
    free = [i for i in range(len(p)) if i not in fixed_idx]
    H = loss.hessian_exact(p)
    Hf = H.extract(free, free)
    inertia_f = exact_inertia(Hf)
    is_star = L_star is not None and sp.Rational(value) == sp.Rational(L_star)
    if inertia_f[1] == 0:
        inertia = (inertia_f[0], inertia_f[1] + k, inertia_f[2])
        reason = ""
    else:
        inertia = exact_inertia(H)
        reason = (f"the Hessian restricted to the slice is singular ({inertia_f[1]} zero eigenvalue(s) not "
                  "explained by a symmetry)")
    kind = _kind(inertia_f if inertia_f[1] == 0 else inertia, is_star)
    # enclosures of the restricted Hessian's eigenvalues (the matrix is exact: point balls)
    eig = symmetric_spectrum([[ball(x) for x in row] for row in Hf.tolist()]).eigenvalues if Hf.rows else []
    certified = kind in ("global-min", "local-min") or inertia[0] > 0
    return CriticalPoint(loss.task, p, value, kind, certified, "exact", inertia, k,
                         {i: p[i] for i in fixed_idx}, eig, names=names, reason=reason)


# --- ball-arithmetic route ------------------------------------------------------------------------

def _row_dot(K: sp.Matrix, i: int, box) -> arb:
    """(K p)_i for p in a box of arbs (K rational)."""
    total = arb(0)
    for j in range(K.cols):
        if K[i, j] != 0:
            total += arb(to_fmpq(sp.Rational(K[i, j]))) * box[j]
    return total


def _assemble(free, fixed, s, size):
    out = [None] * size
    for i, v in zip(free, s, strict=True):
        out[i] = v
    for i, v in fixed.items():
        out[i] = v
    return out


def _newton(loss, free, fixed_balls, s0, prec, steps=12):
    """Newton's method on F(s) = (grad L)_free with point arbs; returns float-free exact midpoints."""
    size = loss.size
    s = [ball(v) for v in s0]
    with precision(prec):
        for _ in range(steps):
            p = _assemble(free, fixed_balls, s, size)
            g = loss.gradient_balls(p)
            H = loss.hessian_balls(p)
            F = arb_mat([[g[i]] for i in free])
            J = arb_mat([[H[i][j] for j in free] for i in free])
            try:
                step = J.solve(F)
            except ZeroDivisionError:
                break
            s = [arb((s[i] - step[i, 0]).mid()) for i in range(len(s))]
            if max(abs(float(step[i, 0].mid())) for i in range(len(s))) < 2.0 ** (-prec + 40):
                break
    return s


def certify_numeric(loss: LossPolynomial, gens, p_float, L_star=None, refine: bool = True,
                    prec: int = DEFAULT_PREC, radii=(1e-40, 1e-30, 1e-20, 1e-12, 1e-8)) -> CriticalPoint:
    """Certificate of a critical point near the float point ``p_float`` (see the module docstring).

    ``refine=False`` skips Newton's method (used by the negative controls: a perturbed point must
    then fail the Krawczyk test).
    """
    p_float = np.asarray(p_float, dtype=float)
    names = list(loss.variables)
    size = loss.size
    k, fixed_idx, cols = choose_slice(gens, p_float)
    free = [i for i in range(size) if i not in fixed_idx]
    fixed = {i: to_fmpq(float(p_float[i])) for i in fixed_idx}      # the slice: exact dyadic values
    with precision(prec):
        fixed_balls = {i: arb(v) for i, v in fixed.items()}
        s0 = [float(p_float[i]) for i in free]
        s_mid = _newton(loss, free, fixed_balls, s0, prec) if refine else [ball(v) for v in s0]

        def F(s):
            g = loss.gradient_balls(_assemble(free, fixed_balls, s, size))
            return [g[i] for i in free]

        def J(s):
            H = loss.hessian_balls(_assemble(free, fixed_balls, s, size))
            return [[H[i][j] for j in free] for i in free]

        result = krawczyk_search(F, J, s_mid, radii, prec)
        box = _assemble(free, fixed_balls, result.box, size)
        value = loss.value_balls(box)
        if not result.verified:
            return CriticalPoint(loss.task, box, value, "degenerate", False, "krawczyk", None, k,
                                 dict(fixed), names=names, box_radius=result.radius,
                                 reason=f"Krawczyk test failed: {result.reason}")
        # T(p) + S = R^N on the whole box: the fixed-coordinate block of the tangents is nonsingular
        if k:
            tangents = [[_row_dot(gens[c].K, i, box) for c in cols] for i in fixed_idx]
            det = arb_mat(tangents).det()
            if det.contains(0):
                return CriticalPoint(loss.task, box, value, "degenerate", False, "krawczyk", None, k, dict(fixed),
                                     names=names, box_radius=result.radius,
                                     reason="the slice is not certified transverse to the symmetry orbit")
        H = loss.hessian_balls(box)
        Hf = [[H[i][j] for j in free] for i in free]
        spec = symmetric_spectrum(Hf, prec)
        if not spec.certified:
            return CriticalPoint(loss.task, box, value, "degenerate", False, "krawczyk", None, k, dict(fixed),
                                 spec.eigenvalues, names=names, box_radius=result.radius,
                                 reason=f"inertia not certified: {spec.reason}")
        neg, _, pos = spec.inertia
        inertia = (neg, k, pos)
        above = L_star is not None and value > arb(to_fmpq(sp.Rational(L_star)))
        kind = "saddle" if neg else "local-min"
        reason = "" if (neg or above) else "a local minimum whose loss enclosure does not exclude L*"
        return CriticalPoint(loss.task, box, value, kind, True, "krawczyk", inertia, k,
                             dict(fixed), spec.eigenvalues, names=names, box_radius=result.radius,
                             reason=reason)


__all__ = ["KINDS", "CriticalPoint", "certify_exact", "certify_numeric", "choose_slice", "exact_inertia",
           "tangent_matrix"]
