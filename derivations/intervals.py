"""Ball arithmetic for certified numerics (python-flint ``arb``): existence and inertia tests.

Everything here returns *enclosures*: an ``arb`` is a midpoint and a radius that provably
contain the true value, and every operation on arbs rounds outward. Two tests are provided:

* :func:`krawczyk` -- the Krawczyk operator for a square system F(x) = 0 on a box X:
  K(X) = m - Y F(m) + (I - Y J(X)) (X - m), with m the box centre, Y any (approximate) inverse
  of J(m), J(X) an interval enclosure of the Jacobian over X. If K(X) lies in the interior of X,
  then X contains exactly one zero of F (Krawczyk 1969, Moore 1977), and it lies in K(X) n X.
* :func:`symmetric_spectrum` -- inertia and eigenvalue enclosures valid for every symmetric
  matrix inside an interval matrix H. With V the (floating-point) eigenvectors of mid(H),
  B = V^T H V is evaluated in ball arithmetic; if the Gershgorin discs of B avoid 0, every
  symmetric matrix in H has inertia (#negative discs, 0, #positive discs): B is congruent to
  it (Sylvester's law of inertia) once V is shown nonsingular (Gershgorin on V^T V), and a
  union of k discs disjoint from the others holds exactly k eigenvalues. Eigenvalues of H
  itself follow by Ostrowski's theorem, lambda_k(V^T H V) = theta_k lambda_k(H) with theta_k
  between the extreme eigenvalues of V^T V.

The working precision is a context (:func:`precision`); callers pass exact inputs (ints,
``Fraction``, SymPy rationals, ``fmpq``) or floats, which are dyadic rationals and are converted
exactly (a float given here is a *point of a box*, never a claimed exact value).

>>> from flint import arb
>>> # x^2 - 2 = 0 near 1.41421356: a unique root in a box of radius 1e-6
>>> res = krawczyk(lambda x: [x[0] * x[0] - 2], lambda x: [[2 * x[0]]], [1.41421356], 1e-6)
>>> res.verified, res.box[0].contains(arb(2).sqrt())
(True, True)
>>> spec = symmetric_spectrum([[arb(2), arb(1)], [arb(1), arb(-3)]])
>>> spec.inertia
(1, 0, 1)
"""

from __future__ import annotations

import numbers
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction

import flint
import numpy as np
from flint import arb, arb_mat, fmpq, fmpz

#: default working precision in bits (about 75 decimal digits)
DEFAULT_PREC = 256


@contextmanager
def precision(bits: int):
    """Run a block at ``bits`` of working precision (restored afterwards, also on error)."""
    old = flint.ctx.prec
    flint.ctx.prec = int(bits)
    try:
        yield
    finally:
        flint.ctx.prec = old


def to_fmpq(value) -> fmpq:
    """An exact ``fmpq`` from an int, Fraction, SymPy Rational, fmpq or float (exact dyadic)."""
    if isinstance(value, fmpq):
        return value
    if isinstance(value, (fmpz, numbers.Integral)) and not isinstance(value, bool):
        return fmpq(int(value))
    if isinstance(value, Fraction):
        return fmpq(value.numerator, value.denominator)
    if hasattr(value, "p") and hasattr(value, "q"):          # SymPy Rational / Integer
        return fmpq(int(value.p), int(value.q))
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        f = Fraction(float(value))                          # exact: a float is a dyadic rational
        return fmpq(f.numerator, f.denominator)
    raise TypeError(f"cannot convert {type(value).__name__} to an exact rational")


def ball(value, radius=0) -> arb:
    """An arb containing ``value`` (exact conversion) inflated by ``radius`` (>= 0)."""
    if isinstance(value, arb):
        centre = value
    else:
        centre = arb(to_fmpq(value))
    if radius:
        return centre + arb(0, _radius(radius))
    return centre


def _radius(r):
    """A radius as an arb-acceptable float or exact number (rounded up by arb)."""
    return float(r) if isinstance(r, (float, int)) else r


def interval(lo: arb, hi: arb) -> arb:
    """The smallest ball (up to outward rounding) containing both ``lo`` and ``hi``."""
    return lo.union(hi)


def as_arb_matrix(rows) -> arb_mat:
    """An ``arb_mat`` from nested lists of arbs or exact/float numbers."""
    return arb_mat([[x if isinstance(x, arb) else ball(x) for x in row] for row in rows])


def midpoint_array(rows) -> np.ndarray:
    """Float midpoints of a nested list / arb_mat of arbs (for preconditioners only)."""
    if isinstance(rows, arb_mat):
        rows = rows.tolist()
    return np.array([[float(x.mid()) for x in row] for row in rows], dtype=float)


def _exact_arb_mat(array: np.ndarray) -> arb_mat:
    """Float matrix -> arb_mat with the SAME (exact dyadic) entries: a point matrix."""
    return arb_mat([[arb(to_fmpq(float(x))) for x in row] for row in np.atleast_2d(array)])


def strictly_inside(inner: arb, outer: arb) -> bool:
    """inner lies in the interior of outer (both balls)."""
    return bool(outer.contains_interior(inner))


# --- Krawczyk ------------------------------------------------------------------------------

@dataclass
class KrawczykResult:
    """Outcome of :func:`krawczyk`.

    verified: K(X) lies in the interior of X, so X holds exactly one zero of F;
    box: K(X) n X (an enclosure of that zero) when verified, else X;
    contraction: max_i rad(K_i)/rad(X_i) (< 1 is necessary for success);
    reason: why it failed ("" when verified).
    """

    verified: bool
    box: list
    contraction: float
    radius: float
    reason: str = ""


def krawczyk(F, J, centre, radius, prec: int = DEFAULT_PREC) -> KrawczykResult:
    """The Krawczyk test for F(x) = 0 on the box of half-width ``radius`` around ``centre``.

    F: list of arbs -> list of arbs (an interval extension of the system);
    J: list of arbs -> nested list of arbs (an interval extension of its Jacobian);
    centre: exact numbers or floats (converted exactly). See the module docstring.
    """
    with precision(prec):
        m = [ball(c) for c in centre]
        size = len(m)
        X = [mi + arb(0, _radius(radius)) for mi in m]
        Fm = as_arb_matrix([[v] for v in F(m)])
        Jm = midpoint_array(J(m))
        try:
            Y = _exact_arb_mat(np.linalg.inv(Jm))
        except np.linalg.LinAlgError:
            return KrawczykResult(False, X, float("inf"), float(radius),
                                  "the Jacobian at the centre is singular")
        JX = as_arb_matrix(J(X))
        eye = arb_mat([[1 if i == j else 0 for j in range(size)] for i in range(size)])
        dX = arb_mat([[arb(0, _radius(radius))] for _ in range(size)])
        K = arb_mat([[mi] for mi in m]) - Y * Fm + (eye - Y * JX) * dX
        K = [K[i, 0] for i in range(size)]
        contraction = max(float(k.rad()) / float(radius) for k in K)
        inside = all(strictly_inside(k, x) for k, x in zip(K, X, strict=True))
        if not inside:
            return KrawczykResult(False, X, contraction, float(radius),
                                  f"K(X) is not inside X (contraction {contraction:.3g})")
        box = [k.intersection(x) for k, x in zip(K, X, strict=True)]
        return KrawczykResult(True, box, contraction, float(radius))


def krawczyk_search(F, J, centre, radii=(1e-40, 1e-30, 1e-20, 1e-12, 1e-8), prec: int = DEFAULT_PREC):
    """Try :func:`krawczyk` on growing boxes; the first verified result (or the last failure)."""
    result = None
    for r in radii:
        result = krawczyk(F, J, centre, r, prec)
        if result.verified:
            return result
    return result


# --- symmetric spectra -----------------------------------------------------------------------

@dataclass
class SpectrumEnclosure:
    """Inertia and eigenvalue enclosures valid for every symmetric matrix in an interval matrix.

    inertia: (negative, zero, positive) counts, or None when a Gershgorin disc touches 0 (then
    nothing is claimed); eigenvalues: arb enclosures of the sorted eigenvalues (a cluster of
    overlapping discs gives the same enclosure to each of its eigenvalues); reason: why the
    inertia could not be certified.
    """

    inertia: tuple | None
    eigenvalues: list = field(default_factory=list)
    reason: str = ""

    @property
    def certified(self) -> bool:
        return self.inertia is not None


def _gershgorin(B: arb_mat):
    """Per-row discs [B_ii - r_i, B_ii + r_i] of an interval matrix, as arbs."""
    size = B.nrows()
    discs = []
    for i in range(size):
        r = arb(0)
        for j in range(size):
            if j != i:
                r += abs(B[i, j])
        upper = r.upper()
        discs.append(B[i, i] + arb(0, upper) if upper > 0 else B[i, i])
    return discs


def _components(discs):
    """Connected components of a list of real intervals, as (indices, union) sorted by position."""
    order = sorted(range(len(discs)), key=lambda i: float(discs[i].mid()))
    comps = []
    for i in order:
        if comps and comps[-1][1].overlaps(discs[i]):
            idx, hull = comps[-1]
            comps[-1] = (idx + [i], hull.union(discs[i]))
        else:
            comps.append(([i], discs[i]))
    # a later disc may reach back over an earlier component: merge until stable
    merged = True
    while merged:
        merged = False
        for k in range(len(comps) - 1):
            if comps[k][1].overlaps(comps[k + 1][1]):
                comps[k] = (comps[k][0] + comps[k + 1][0], comps[k][1].union(comps[k + 1][1]))
                del comps[k + 1]
                merged = True
                break
    return comps


def symmetric_spectrum(H, prec: int = DEFAULT_PREC) -> SpectrumEnclosure:
    """Inertia and eigenvalue enclosures of every symmetric matrix in the interval matrix ``H``.

    ``H``: nested lists of arbs (or an arb_mat). See the module docstring for the argument.
    """
    with precision(prec):
        Hb = H if isinstance(H, arb_mat) else as_arb_matrix(H)
        size = Hb.nrows()
        mid = midpoint_array(Hb)
        mid = (mid + mid.T) / 2
        _, vecs = np.linalg.eigh(mid)
        V = _exact_arb_mat(vecs)
        B = V.transpose() * Hb * V
        G = V.transpose() * V
        g_discs = _gershgorin(G)
        sigma_lo = min((d.lower() for d in g_discs), key=float)
        sigma_hi = max((d.upper() for d in g_discs), key=float)
        if not sigma_lo > 0:
            return SpectrumEnclosure(None, [], "the eigenvector basis is not certified nonsingular")
        theta = interval(arb(sigma_lo), arb(sigma_hi))
        discs = _gershgorin(B)
        eigen = [None] * size
        position = 0
        for idx, hull in _components(discs):
            # the component's eigenvalues of B, mapped to eigenvalues of H (Ostrowski)
            # lambda(H) = lambda(B) / theta_k with theta_k in [sigma_lo, sigma_hi] (> 0)
            value = hull / theta if (hull > 0 or hull < 0) else hull / arb(sigma_lo)
            for _ in idx:
                eigen[position] = value
                position += 1
        if any(d.contains(0) for d in discs):
            touching = sum(1 for d in discs if d.contains(0))
            return SpectrumEnclosure(None, eigen, f"{touching} Gershgorin disc(s) contain 0")
        neg = sum(1 for d in discs if d < 0)
        pos = sum(1 for d in discs if d > 0)
        return SpectrumEnclosure((neg, 0, pos), eigen)


def arb_text(x: arb, digits: int = 15) -> str:
    """An arb as an enclosure string ``[mid +/- rad]`` (or the exact value when it is exact)."""
    return x.str(digits, radius=True)


def arb_bounds(x: arb) -> tuple[float, float]:
    """(lower, upper) rounded outward to floats: a valid enclosure in float64."""
    lo, hi = x.lower(), x.upper()
    return (float(np.nextafter(float(lo), -np.inf)), float(np.nextafter(float(hi), np.inf)))


__all__ = ["DEFAULT_PREC", "KrawczykResult", "SpectrumEnclosure", "arb_bounds", "arb_text", "as_arb_matrix",
           "ball", "interval", "krawczyk", "krawczyk_search", "midpoint_array", "precision",
           "strictly_inside", "symmetric_spectrum", "to_fmpq"]
