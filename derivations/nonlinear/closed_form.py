"""Closed-form Theorem 3 moments for single-index links (and random two-layer ReLU networks).

For f(x) = g(w^T x) with x ~ N(0, Sigma), w ~ N(0, Omega) and s = w^T x ~ N(0, rho^2),
rho^2 = w^T Sigma w, write x = (Sigma w / rho^2) s + x_perp with x_perp independent of s.
With t = s / rho ~ N(0, 1) and the inner integrals of :mod:`.expoly`

    A(rho) = E[t g(rho t)],  J(rho) = E[g(rho t)^2],  K(rho) = E[t^2 g(rho t)^2],

Stein's identity gives m_f(w) = E_x[x f(x)] = Sigma w A(rho) / rho, and

    E_x[f^2 x x^T] = J Sigma + (K - J) Sigma w w^T Sigma / rho^2.

* Isotropic tasks (Sigma = I, Omega = c I): only |m_f|^2 = A^2 and the traces are needed, and
  they are averages over rho = sqrt(c) r, r ~ chi_d (:func:`isotropic_moments`; d may be a
  symbol when every power of rho is even):
      E|m_f|^2 = E_r[A^2],  E[f^2 |x|^2] = E_r[r^2 J],  E[f^2] = E_r[J].
  (For E[f^2 |x|^2], x and w / sqrt(c) play symmetric roles, so |x|^2 may be traded for |w|^2/c.)
* General Sigma, Omega (:func:`general_moments`): A^2 / rho^2, J and (K - J) / rho^2 are
  sums of (w^T Sigma w)^j exp(q w^T Sigma w) with integer j >= 0; the exponential tilts the
  Gaussian law of w, E_{N(0, Omega)}[h(w) e^{q w^T Sigma w}] = det(I - 2q Omega Sigma)^{-1/2}
  E_{N(0, Omega_q)}[h(w)], Omega_q = (Omega^{-1} - 2q Sigma)^{-1}, and the remaining moments
  are polynomial (the exact Gaussian engine). The results are exact matrices with radicals.

Two-layer networks f = sum_j a_j relu(v_j^T x) with a_j ~ N(0, 1), v_j ~ N(0, Omega) all
independent: E[a_j a_k] = 0 for j != k removes every cross term, so each moment is ``width``
times the relu one (no arc-cosine kernel is needed for centred output weights).

>>> import sympy as sp
>>> from derivations.nonlinear.parse import S, relu
>>> d = sp.Symbol("d", positive=True, integer=True)
>>> m = isotropic_moments(relu(S), d)
>>> m.m2, sp.factor(m.f2x2)
(d/4, d*(d + 2)/2)
>>> g = general_moments(sp.sin(S), sp.Matrix([[2, 1], [1, 2]]), sp.eye(2))
>>> g.f2
1/2 - sqrt(65)/130
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..engine import expectation
from ..exact import canonical
from ..moments import GaussianVector
from .expoly import (
    ExpPoly,
    InfiniteMoment,
    NoClosedForm,
    NotPolynomialInD,
    RadialSeries,
    chi_average,
    split_link,
    square_J,
    stein_A,
)
from .parse import S, relu


@dataclass
class InnerIntegrals:
    """The link's decomposition g = P + sign(s) Q and its inner Gaussian integrals."""

    link: sp.Expr
    P: ExpPoly
    Q: ExpPoly
    A: RadialSeries
    J: RadialSeries

    @classmethod
    def of(cls, link: sp.Expr) -> InnerIntegrals:
        P, Q = split_link(link)
        return cls(link, P, Q, stein_A(P, Q), square_J(P, Q))

    @property
    def K(self) -> RadialSeries:
        return square_J(self.P, self.Q, t_power=2)

    @property
    def even_powers(self) -> bool:
        """Every power of rho in A^2 and J is even (then averages are polynomial in d)."""
        return all(k % 2 == 0 for series in (self.A * self.A, self.J) for k, _ in series.terms)


@dataclass
class IsotropicMoments:
    """E|m_f|^2, E[f^2 |x|^2], E[f^2] (exact) for Sigma = I, Omega = c I; ``d`` int or symbol."""

    m2: sp.Expr
    f2x2: sp.Expr
    f2: sp.Expr
    d: object
    c: sp.Expr
    inner: InnerIntegrals
    width: int = 1

    def scaled(self, width: int) -> IsotropicMoments:
        return IsotropicMoments(width * self.m2, width * self.f2x2, width * self.f2, self.d,
                                self.c, self.inner, width)


def isotropic_moments(link: sp.Expr, d, c=1, inner: InnerIntegrals | None = None) -> IsotropicMoments:
    """Closed forms of the three moments; NoClosedForm / InfiniteMoment / NotPolynomialInD."""
    inner = inner or InnerIntegrals.of(link)
    c = sp.sympify(c)
    m2 = chi_average(inner.A * inner.A, d, c)
    f2x2 = chi_average(inner.J.shift(2), d, c) / c
    f2 = chi_average(inner.J, d, c)
    return IsotropicMoments(_tidy(m2), _tidy(f2x2), _tidy(f2), d, c, inner)


def _tidy(expr):
    expr = sp.expand(expr)
    return sp.factor(expr) if not expr.has(sp.Pow) or expr.is_polynomial() else expr


# --- general covariances ---------------------------------------------------------------------

@dataclass
class GeneralMoments:
    """E[m_f m_f^T], E[f^2 x x^T] and E[f^2] (exact) for any exact Sigma, Omega."""

    mm: sp.Matrix
    f2xx: sp.Matrix
    f2: sp.Expr
    width: int = 1

    def scaled(self, width: int) -> GeneralMoments:
        return GeneralMoments(width * self.mm, width * self.f2xx, width * self.f2, width)


def _in_rho_squared(series: RadialSeries, what: str) -> dict:
    """{q: {j: c}} for series = sum c rho^(2j) exp(q rho^2); NoClosedForm on an odd power."""
    out: dict = {}
    for (k, q), c in series.terms.items():
        if k % 2 or k < 0:
            raise NoClosedForm(f"{what} has the power rho^{k} of rho = |w|_Sigma: for a "
                               "non-isotropic task its average over w has no elementary closed form")
        out.setdefault(q, {})[k // 2] = c
    return out


def _tilted(Sigma, Omega, q):
    """(det(I - 2q Omega Sigma)^(-1/2), Omega_q); InfiniteMoment if Omega^-1 - 2q Sigma is not PD."""
    d = Sigma.rows
    precision = Omega.inv() - 2 * q * Sigma
    for k in range(1, d + 1):
        if not sp.factor(precision[:k, :k].det()).is_positive:
            raise InfiniteMoment(f"E[exp({q} w^T Sigma w)] diverges for w ~ N(0, Omega) "
                                 "(Omega^-1 - 2q Sigma is not positive definite)")
    det = (sp.eye(d) - 2 * q * Omega * Sigma).det()
    return 1 / sp.sqrt(det), precision.inv()


def _w_average(series_by_q: dict, Sigma, Omega, outer: bool):
    """E_w[(w w^T if outer else 1) * sum_j c_j (w^T Sigma w)^j exp(q w^T Sigma w)]."""
    d = Sigma.rows
    total = sp.zeros(d, d) if outer else sp.Integer(0)
    for q, powers in series_by_q.items():
        factor, cov = (sp.Integer(1), Omega) if q == 0 else _tilted(Sigma, Omega, q)
        w = GaussianVector("w", d, cov, private=True)
        wv = sp.Matrix(w.coords)
        rho2 = sp.expand((wv.T * Sigma * wv)[0, 0])
        poly = sp.expand(sum((c * rho2**j for j, c in powers.items()), sp.Integer(0)))
        if outer:
            value = sp.Matrix([[expectation(poly * wv[a] * wv[b], [w]) for b in range(d)]
                               for a in range(d)])
        else:
            value = expectation(poly, [w])
        total += factor * value
    return total


def general_moments(link: sp.Expr, Sigma, Omega, inner: InnerIntegrals | None = None) -> GeneralMoments:
    """E[m m^T] = Sigma E_w[w w^T A^2 / rho^2] Sigma; E[f^2 x x^T] = E_w[J] Sigma +
    Sigma E_w[w w^T (K - J) / rho^2] Sigma; E[f^2] = E_w[J] (rho^2 = w^T Sigma w)."""
    inner = inner or InnerIntegrals.of(link)
    Sigma, Omega = sp.Matrix(Sigma), sp.Matrix(Omega)
    a2 = _in_rho_squared((inner.A * inner.A).shift(-2), "A(rho)^2 / rho^2")
    j_series = _in_rho_squared(inner.J, "J(rho)")
    kj = inner.K + inner.J * -1
    kj_series = _in_rho_squared(kj.shift(-2), "(K(rho) - J(rho)) / rho^2")
    Ej = _w_average(j_series, Sigma, Omega, outer=False)
    mm = Sigma * _w_average(a2, Sigma, Omega, outer=True) * Sigma
    f2xx = Ej * Sigma + Sigma * _w_average(kj_series, Sigma, Omega, outer=True) * Sigma
    return GeneralMoments(mm.applyfunc(_radical), f2xx.applyfunc(_radical), _radical(Ej))


def _radical(expr):
    """Expanded, with radicals in the numerator (a canonical display for exact constants)."""
    return sp.radsimp(sp.expand(expr)) if expr.free_symbols == set() else sp.expand(expr)


# --- the GD block from the moments -----------------------------------------------------------

def gd_block(mm, f2xx, f2, Sigma, n, s2):
    """(C, B, Gamma*, L*) of the GD block x_q^T Gamma g:
    B = E[y_q x_q g^T] = E[m m^T], C = E[g g^T] = ((n-1)/n) E[m m^T] + (E[f^2 x x^T] + s2 Sigma)/n,
    Gamma* = Sigma^-1 B C^-1, L* = E[f^2] + s2 - tr(Sigma^-1 B C^-1 B^T)."""
    Sigma = sp.Matrix(Sigma)
    B = sp.Matrix(mm)
    C = (n - 1) / n * B + (sp.Matrix(f2xx) + s2 * Sigma) / n
    Cinv = C.inv()
    gamma = (Sigma.inv() * B * Cinv).applyfunc(canonical)
    loss = canonical(f2 + s2 - (Sigma.inv() * B * Cinv * B.T).trace())
    return C.applyfunc(canonical), B, gamma, loss


__all__ = ["InnerIntegrals", "IsotropicMoments", "GeneralMoments", "isotropic_moments",
           "general_moments", "gd_block", "NoClosedForm", "InfiniteMoment", "NotPolynomialInD",
           "relu", "S"]
