"""Rigorous enclosures (arb balls) of the Theorem 3 moments of a single-index link.

For f(x) = g(w^T x), x ~ N(0, I_d), w ~ N(0, c I) (notation of :mod:`.closed_form`):

    E|m_f|^2 = E_r[A(rho)^2],  E[f^2 |x|^2] = E_r[r^2 J(rho)],  E[f^2] = E_r[J(rho)],

rho = sqrt(c) r, r ~ chi_d, with the inner integrals written in the variable u = rho t:

    A(rho) = rho^-2 int u g(u) phi(u / rho) du,   J(rho) = rho^-1 int g(u)^2 phi(u / rho) du.

In this form g is only ever evaluated at real u (its kinks sit at fixed u), and the right-hand
sides are analytic in rho on the sector |arg rho| < pi/4 (where Re(1/rho^2) > 0): that is what
makes the outer integral rigorous.

Every number below is a ball that provably contains the true value:

* inner integrals: flint's ``acb.integral`` (rigorous) on |u| <= U, split at 0 and around the
  kinks (each real kink isolated in an exact dyadic interval of width 2^-200, on which the
  integrand is enclosed directly); the tail |u| > U is bounded with polynomial growth bounds
  |g(u)| <= G(|u|) derived from the expression (tanh, erf, sin, cos, sign bounded by 1 or by
  their argument, relu and abs by their argument, exp by the exponential of an upper bound of
  its argument) and upper incomplete gamma functions (arb);
* outer integral over r: [0, a] by the growth bounds (every integrand is >= 0); [a, R] cut
  into pieces [a, 2a], [2a, 4a], ...; on each piece Gauss-Legendre with N nodes and the error
  bound 8 M rho_e^(1 - 2N) / (rho_e - 1) (times the half-length) for an integrand analytic in
  the Bernstein ellipse E_rho_e with |F| <= M there (Chebyshev coefficients |a_k| <= 2 M
  rho_e^-k, Gauss exact to degree 2N - 1, weights positive). M is bounded on balls covering the
  ellipse's boundary (maximum modulus) from the same growth bounds, the ellipse kept inside
  |arg r| < 41 degrees (N is minimised over a few ellipses); [R, oo) by the growth bounds.

So the three moments, and eta* computed from them in ball arithmetic, are enclosures, not
estimates. python-flint's ``ctx`` precision is set for the computation and restored.

>>> from derivations.nonlinear.parse import S, relu
>>> import sympy as sp
>>> e = single_index_enclosure(sp.tanh(S), d=1, digits=20)
>>> e.m2.str(20, radius=False)      # E|m_f|^2 for tanh, d = 1 (no closed form)
'0.25240993527915709541'
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp
from flint import acb, arb, ctx

from .highprec import UnsupportedLink, _parity, compile_acb, dyadic
from .parse import S, relu

# --- polynomial growth bounds of the link on the real line ------------------------------------

def growth_bounds(expr, var=S) -> list:
    """Two lists of coefficients b_j >= 0 (arb), each with |g(v)| <= sum_j b_j |v|^j for every
    real v: the first uses |tanh|, |erf|, |sin| <= 1 (good for large |v|), the second
    |tanh h| <= |h|, |sin h| <= |h|, |erf h| <= 2|h|/sqrt(pi) (good near 0).

    UnsupportedLink when no bound is derived (exp of an argument not bounded above).
    """
    return [_bound(expr, var, small=False), _bound(expr, var, small=True)]


def _bound(expr, var, small):
    if expr == var:
        return [arb(0), arb(1)]
    if expr.is_number:
        return [abs(_arb_const(expr))]
    if expr.is_Add:
        out = [arb(0)]
        for a in expr.args:
            out = _poly_add(out, _bound(a, var, small))
        return out
    if expr.is_Mul:
        out = [arb(1)]
        for a in expr.args:
            out = _poly_mul(out, _bound(a, var, small))
        return out
    if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0:
        base, out = _bound(expr.base, var, small), [arb(1)]
        for _ in range(int(expr.exp)):
            out = _poly_mul(out, base)
        return out
    if isinstance(expr, (sp.tanh, sp.sin)):
        return _bound(expr.args[0], var, small) if small else [arb(1)]
    if isinstance(expr, sp.erf):
        return [2 / arb.pi().sqrt() * b for b in _bound(expr.args[0], var, small)] if small \
            else [arb(1)]
    if isinstance(expr, (sp.cos, sp.sign)):
        return [arb(1)]
    if isinstance(expr, (relu, sp.Abs)):
        return _bound(expr.args[0], var, small)
    if isinstance(expr, sp.exp):
        return [_sup(expr.args[0], var).exp()]
    raise UnsupportedLink(f"no growth bound for {expr}")


def _sup(expr, var) -> arb:
    """An upper bound of a real expression over the real line, or UnsupportedLink."""
    if expr.is_polynomial(var):
        poly = sp.Poly(expr, var)
        if poly.degree() <= 0:
            return _arb_const(poly.as_expr())
        if poly.degree() % 2 == 0 and poly.LC() < 0:
            # the maximum is attained at a real critical point
            best = None
            for x in sp.Poly(poly.diff(var), var).real_roots():
                v = _arb_const(sp.sympify(poly.as_expr().subs(var, x)))
                best = v if best is None or v.upper() > best.upper() else best
            return arb(best.upper())
    else:
        bound = _bound(expr, var, small=False)
        if len(bound) == 1:
            return bound[0]
    raise UnsupportedLink(f"exp({expr}): the argument is not bounded above, moments may diverge")


def _arb_const(q) -> arb:
    """An exact real constant as a ball (rationals exactly, others from 20 extra digits)."""
    q = sp.sympify(q)
    if q.is_Rational:
        return arb(int(q.p)) / int(q.q)
    return arb(str(sp.N(q, ctx.dps + 20))) + arb(0, arb(10) ** -(ctx.dps + 15))


def _poly_add(a, b):
    n = max(len(a), len(b))
    return [(a[i] if i < len(a) else arb(0)) + (b[i] if i < len(b) else arb(0)) for i in range(n)]


def _poly_mul(a, b):
    out = [arb(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return out


def _half_line(m: int, kappa: arb) -> arb:
    """int_0^oo u^m exp(-kappa u^2) du = Gamma((m+1)/2) / (2 kappa^((m+1)/2))."""
    s = arb(m + 1) / 2
    return s.gamma() / (2 * kappa ** s)


def _tail(m: int, kappa: arb, U: arb) -> arb:
    """int_U^oo u^m exp(-kappa u^2) du = Gamma((m+1)/2, kappa U^2) / (2 kappa^((m+1)/2))."""
    s = arb(m + 1) / 2
    return (kappa * U * U).gamma_upper(s) / (2 * kappa ** s)


def _poly_moment(coeffs, extra: int, kappa: arb, U: arb | None = None) -> arb:
    """sum_j b_j int_{U or 0}^oo u^(j + extra) exp(-kappa u^2) du."""
    total = arb(0)
    for j, b in enumerate(coeffs):
        if b != 0:
            total += b * (_half_line(j + extra, kappa) if U is None else _tail(j + extra, kappa, U))
    return total


def _inverse_square(z: acb) -> acb:
    """1 / z^2 = (x^2 - y^2 - 2ixy) / (x^2 + y^2)^2 with real intervals (complex ball division
    would let a wide ball's real part straddle 0)."""
    if z.imag == 0:
        return acb(1 / (z.real * z.real))
    x, y = z.real, z.imag
    den = x * x + y * y
    den = den * den
    return acb((x * x - y * y) / den, -2 * x * y / den)


def _kappa(z: acb) -> arb:
    """A lower bound of Re(1/(2 z^2)) = (x^2 - y^2) / (2 (x^2 + y^2)^2) over the ball z = x + iy
    (0 when the ball leaves the sector |arg z| < pi/4)."""
    x, y = abs(z.real), abs(z.imag)
    xl, xu, yu = arb(x.lower()), arb(x.upper()), arb(y.upper())
    num = xl * xl - yu * yu
    if not num > 0:
        return arb(0)
    den = xu * xu + yu * yu
    return arb((num / (2 * den * den)).lower())


def _abs_lower(z: acb) -> arb:
    return arb(abs(z).lower())


def _abs_upper(z) -> arb:
    return arb(abs(z).upper())


# --- the inner integrals --------------------------------------------------------------------

class _Inner:
    """A(rho), J(rho): balls at real rho (rigorous integrals), bounds on complex balls."""

    def __init__(self, link):
        self.link = compile_acb(link)
        self.parity = _parity(link)
        self.bounds = growth_bounds(link)
        self.bounds2 = [_poly_mul(b, b) for b in self.bounds]
        self.calls = 0

    def at(self, rho: arb, digits: int):
        """(A(rho), J(rho)) as balls at a real rho > 0 (current precision), about ``digits``
        correct digits: one acb.integral of (u g(u) / rho + i g(u)^2) phi(u / rho) per piece."""
        self.calls += 1
        kappa = 1 / (2 * rho * rho)
        # |u| <= U carries all but a 10^-(digits + 12) fraction of the Gaussian kernel; kinks
        # beyond U do not matter (the tail bound covers |u| > U whatever g does there)
        U = float(rho.mid()) * math.sqrt(2 * (digits + 12) * math.log(10))
        g = self.link.fn
        gauss = 1 / (2 * arb.pi()).sqrt()
        inv_rho = 1 / rho
        ione = acb(0, 1)
        total = acb(0)
        # exact dyadic ends (the float U only fixes where the tail bound starts)
        Uq = Fraction(U)
        for a, b, signs in self.link.pieces(Fraction(0) if self.parity else -Uq, Uq,
                                            split_at_zero=True):
            def f(u, an, sg=signs):
                v = g(u, an, sg)
                return (u * v * inv_rho + ione * v * v) * (-(u * u) * kappa).exp()
            total += acb.integral(f, dyadic(a), dyadic(b), rel_tol=arb(10) ** -(digits + 4),
                                  abs_tol=arb(10) ** -(digits + 40))
        if self.parity:
            total *= 2
        A = arb(0) if self.parity > 0 else total.real * gauss * inv_rho
        J = total.imag * gauss * inv_rho
        Ua = dyadic(Uq)
        tA = min((_poly_moment(b, 1, kappa, Ua) for b in self.bounds), key=lambda v: v.upper())
        tJ = min((_poly_moment(b, 0, kappa, Ua) for b in self.bounds2), key=lambda v: v.upper())
        tA, tJ = 2 * gauss * tA * inv_rho * inv_rho, 2 * gauss * tJ * inv_rho
        if self.parity <= 0:
            A += arb(0, tA.upper())
        return A, J + arb(0, tJ.upper())

    def bound(self, rho: acb):
        """Upper bounds of |A|, |J| over a complex ball rho (or None outside |arg| < pi/4):
        |A| <= |rho|^-2 int |u g(u)| e^{-kappa u^2} du / sqrt(2 pi), kappa <= Re(1/(2 rho^2)),
        and the same for J with g^2 and |rho|^-1, integrals from the growth bounds."""
        kappa = _kappa(rho)
        if not kappa > 0:
            return None
        low = _abs_lower(rho)
        if not low > 0:
            return None
        c = 2 / (2 * arb.pi()).sqrt()
        A = arb(0) if self.parity > 0 else \
            min((_poly_moment(b, 1, kappa) for b in self.bounds), key=lambda v: v.upper()) * c / (low * low)
        J = min((_poly_moment(b, 0, kappa) for b in self.bounds2), key=lambda v: v.upper()) * c / low
        return _abs_upper(A), _abs_upper(J)

    def crude(self, rho_hi: arb):
        """Bounds of |A(rho)| and J(rho) for every real rho in [0, rho_hi] from the growth
        bounds: |A| <= sum_j b_j rho^j E|t|^(j+1), J <= sum_j b2_j rho^j E|t|^j."""
        def abs_moment(m):
            return arb(2) ** (arb(m) / 2) * (arb(m + 1) / 2).gamma() / arb.pi().sqrt()
        A = min((sum((b * rho_hi ** j * abs_moment(j + 1) for j, b in enumerate(bs)), arb(0))
                 for bs in self.bounds), key=lambda v: v.upper())
        J = min((sum((b * rho_hi ** j * abs_moment(j) for j, b in enumerate(bs)), arb(0))
                 for bs in self.bounds2), key=lambda v: v.upper())
        return (arb(0) if self.parity > 0 else A), J


# --- the outer integral ----------------------------------------------------------------------

@dataclass
class EnclosedMoments:
    """E|m_f|^2, E[f^2 |x|^2], E[f^2] as arb balls (each provably contains the value)."""

    m2: arb
    f2x2: arb
    f2: arb
    digits: int
    nodes: int
    pieces: int
    seconds: float

    def __getstate__(self):
        # arb balls do not pickle (results cross process boundaries in verify.all): keep them as
        # exact rational endpoints and rebuild the same balls on load
        state = dict(self.__dict__)
        for key in ("m2", "f2x2", "f2"):
            state[key] = _endpoints(state[key])
        return state

    def __setstate__(self, state):
        for key in ("m2", "f2x2", "f2"):
            state[key] = _ball_from_endpoints(*state[key])
        self.__dict__.update(state)

    def correct_digits(self) -> int:
        """The fewest correct significant digits among the nonzero moments (from the radius)."""
        out = 10**6
        for v in (self.m2, self.f2x2, self.f2):
            if v == 0:
                continue
            rel = v.rad() / abs(v.mid())
            out = min(out, int(math.floor(-float(rel.log().mid()) / math.log(10))) if rel > 0 else out)
        return out


_GL_CACHE: dict = {}


def _gl(n):
    key = (n, ctx.prec)
    if key not in _GL_CACHE:
        _GL_CACHE[key] = [arb.legendre_p_root(n, k, weight=True) for k in range(n)]
    return _GL_CACHE[key]


def _ellipse_rho(a: float, b: float, degrees: float) -> float:
    """The largest Bernstein parameter whose ellipse around [a, b] stays in |arg| < degrees."""
    m, h = (a + b) / 2, (b - a) / 2
    tan2 = math.tan(math.radians(degrees)) ** 2
    lo, hi = 1.0, 64.0
    for _ in range(60):
        r = (lo + hi) / 2
        A, B = h * (r + 1 / r) / 2, h * (r - 1 / r) / 2
        ok = m > A and B * B <= tan2 * (m * m - A * A)
        lo, hi = (r, hi) if ok else (lo, r)
    return lo


class _Outer:
    def __init__(self, inner: _Inner, d: int, c):
        self.inner, self.d = inner, d
        self.sqc = (arb(int(c.p)) / int(c.q)).sqrt()
        half = arb(d) / 2
        self.norm = 1 / (2 ** (half - 1) * half.gamma())
        self.nodes = 0

    def node(self, r: arb, digits: int):
        """(chi A^2, chi r^2 J, chi J) at a real r."""
        A, J = self.inner.at(self.sqc * r, digits)
        w = self.norm * r ** (self.d - 1) * (-(r * r) / 2).exp()
        self.nodes += 1
        return (w * A * A, w * r * r * J, w * J)

    def ball_bound(self, r: acb):
        """Upper bounds of |chi A^2|, |chi r^2 J|, |chi J| on a complex ball r, or None."""
        res = self.inner.bound(self.sqc * r)
        if res is None:
            return None
        A, J = res
        x, y = r.real, r.imag
        re_r2 = arb(x.lower()) ** 2 - arb(abs(y).upper()) ** 2
        w = self.norm * _abs_upper(r) ** (self.d - 1) * (-re_r2 / 2).exp()
        r2 = _abs_upper(r) ** 2
        return (_abs_upper(w * A * A), _abs_upper(w * r2 * J), _abs_upper(w * J))

    def ellipse_bound(self, a, b, rho_e, arcs=32):
        """M_k >= sup |F_k| on the Bernstein ellipse of [a, b]: balls covering its boundary
        (maximum modulus principle; F is analytic inside when every ball is in the sector)."""
        m, h = (arb(a) + b) / 2, (arb(b) - a) / 2
        A, B = h * (rho_e + 1 / arb(rho_e)) / 2, h * (rho_e - 1 / arb(rho_e)) / 2
        radius = arb((max(A, B) * arb.pi() / arcs).upper()) * arb("1.001")
        M = [arb(0), arb(0), arb(0)]
        for k in range(arcs):
            phi = 2 * arb.pi() * (arb(k) + arb(1) / 2) / arcs
            ball = acb(arb((m + A * phi.cos()).mid(), radius.upper()),
                       arb((B * phi.sin()).mid(), radius.upper()))
            vals = self.ball_bound(ball)
            if vals is None or not all(v.is_finite() for v in vals):
                return None
            M = [M[i] if M[i] >= vals[i] else vals[i] for i in range(3)]
        return M

    def plan(self, a, b, tol):
        """(nodes, rho_e, M) minimising the node count over a few ellipses in the sector."""
        h = (b - a) / 2
        best = None
        for degrees in (12, 18, 24, 30, 36, 41):
            rho_e = _ellipse_rho(a, b, degrees)
            if rho_e < 1.01:
                continue
            M = self.ellipse_bound(a, b, rho_e)
            if M is None:
                continue
            n = 1
            for i in range(3):
                if M[i] == 0 or tol[i] == 0:
                    continue
                ratio = float((8 * M[i] * h * rho_e / (tol[i] * (rho_e - 1))).mid())
                n = max(n, math.ceil(math.log(max(ratio, 1.0)) / (2 * math.log(rho_e)) + 0.5))
            if best is None or n < best[0]:
                best = (n, rho_e, M)
        if best is None:
            raise UnsupportedLink(f"no analytic ellipse around [{a}, {b}]")
        return best

    def piece(self, a, b, tol, digits):
        """Enclosures of the three integrals over [a, b] within +-tol (rigorous)."""
        n, rho_e, M = self.plan(a, b, tol)
        h = (b - a) / 2
        # the digits this piece needs relative to its own size
        size = max(float((M[i] * 2 * h / tol[i]).mid()) for i in range(3) if tol[i] > 0)
        local = max(10, min(digits + 10, int(math.log10(max(size, 10.0))) + 8))
        old = ctx.prec
        try:
            ctx.dps = local + 12
            mid, half = (arb(a) + b) / 2, (arb(b) - a) / 2
            sums = [arb(0), arb(0), arb(0)]
            for x, wt in _gl(n):
                vals = self.node(mid + half * x, local)
                for i in range(3):
                    sums[i] += wt * half * vals[i]
        finally:
            ctx.prec = old
        rho_a = arb(rho_e)
        out = []
        for i in range(3):
            err = 8 * M[i] * arb(h) * rho_a ** (1 - 2 * n) / (rho_a - 1)
            out.append(sums[i] + arb(0, err.upper()))
        return out

    def near_zero(self, a):
        """[0, a]: the integrands are >= 0 and bounded by the growth bounds."""
        A, J = self.inner.crude(self.sqc * a)
        ra = arb(a)
        w = self.norm * ra ** (self.d - 1)          # chi density <= norm r^(d-1)
        return [arb(0).union(ra * w * A * A), arb(0).union(ra * w * ra * ra * J),
                arb(0).union(ra * w * J)]

    def tail(self, R):
        """[R, oo): growth bounds and int_R^oo r^m e^{-r^2/2} dr = 2^((m-1)/2) Gamma((m+1)/2, R^2/2)."""
        def abs_moment(m):
            return arb(2) ** (arb(m) / 2) * (arb(m + 1) / 2).gamma() / arb.pi().sqrt()
        bA = [b * self.sqc ** j * abs_moment(j + 1) for j, b in enumerate(self.inner.bounds[0])]
        bJ = [b * self.sqc ** j * abs_moment(j) for j, b in enumerate(self.inner.bounds2[0])]

        def upper(coeffs, extra):
            total = arb(0)
            for j, b in enumerate(coeffs):
                m = j + extra + self.d - 1
                total += b * arb(2) ** (arb(m - 1) / 2) * \
                    (arb(R) ** 2 / 2).gamma_upper((arb(m) + 1) / 2)
            return self.norm * total
        tA = arb(0) if self.inner.parity > 0 else upper(_poly_mul(bA, bA), 0)
        return [arb(0).union(tA), arb(0).union(upper(bJ, 2)), arb(0).union(upper(bJ, 0))]


def single_index_enclosure(link: sp.Expr, d: int, c=1, digits: int = 30) -> EnclosedMoments:
    """Balls for E|m_f|^2, E[f^2 |x|^2], E[f^2] with at least ``digits`` correct digits
    (relative), for g(w^T x), x ~ N(0, I_d), w ~ N(0, c I).

    UnsupportedLink when no growth bound is available for the link.
    """
    start = time.perf_counter()
    c = sp.Rational(c)
    if c <= 0:
        raise UnsupportedLink(f"prior scale c = {c} must be positive")
    old = ctx.prec
    try:
        ctx.dps = digits + 20
        inner = _Inner(link)
        outer = _Outer(inner, d, c)
        # the size of each integral, from one node in the bulk of the chi density, sets the
        # absolute tolerance (the result's radius is what certifies the digits)
        probe = outer.node(arb(math.sqrt(d)), 15)
        scale = [arb(abs(v.mid())) for v in probe]
        target = [s * arb(10) ** -(digits + 3) for s in scale]
        a = 0.5
        while True:
            low = outer.near_zero(a)
            if all(low[i].rad() <= target[i] / 8 for i in range(3)):
                break
            a /= 2
        R = 6.0
        while True:
            high = outer.tail(R)
            if all(high[i].rad() <= target[i] / 8 for i in range(3)):
                break
            R += 1.0
        breaks = [a]
        while breaks[-1] * 2 < R:
            breaks.append(breaks[-1] * 2)
        breaks.append(R)
        pieces = list(zip(breaks[:-1], breaks[1:], strict=True))
        tol = [t / (2 * len(pieces)) for t in target]
        totals = [low[i] + high[i] for i in range(3)]
        for p, q in pieces:
            vals = outer.piece(p, q, tol, digits)
            totals = [totals[i] + vals[i] for i in range(3)]
    finally:
        ctx.prec = old
    if inner.parity > 0:
        totals[0] = arb(0)            # even link: A = 0 identically, m_f = 0
    return EnclosedMoments(totals[0], totals[1], totals[2], digits, outer.nodes,
                           len(pieces) + 2, time.perf_counter() - start)




# --- rendering balls: exact endpoints, outward-rounded decimals, correct digits ----------------

class _exact_precision:
    """Rendering works on exact endpoints: a precision high enough that taking the lower or
    upper end of a ball (and copying it) never rounds."""

    def __enter__(self):
        self.old = ctx.prec
        ctx.prec = max(ctx.prec, 4096)

    def __exit__(self, *exc):
        ctx.prec = self.old


def _endpoints(x: arb):
    """(lo, hi) of the ball as exact SymPy Rationals."""
    with _exact_precision():
        return _exact(arb(x.lower())), _exact(arb(x.upper()))


def _ball_from_endpoints(lo: sp.Rational, hi: sp.Rational) -> arb:
    """The ball [lo, hi] (dyadic endpoints, as produced by :func:`_endpoints`), exactly."""
    with _exact_precision():
        mid = (arb(int(lo.p)) / int(lo.q) + arb(int(hi.p)) / int(hi.q)) / 2
        rad = (arb(int(hi.p)) / int(hi.q) - arb(int(lo.p)) / int(lo.q)) / 2
        return mid + arb(0, rad)


def _exact(x: arb) -> sp.Rational:
    """An exact arb (radius 0, e.g. an endpoint) as a SymPy Rational."""
    man, exp = x.mid().man_exp()
    man, exp = int(man), int(exp)
    return sp.Rational(man * 2**exp) if exp >= 0 else sp.Rational(man, 2**-exp)


def ball_interval(x: arb) -> sp.Interval:
    """The ball [m - r, m + r] as a SymPy Interval with exact rational endpoints."""
    return sp.Interval(*_endpoints(x))


def _short_decimals(x: arb) -> list:
    digits = len(correct_decimal(x).replace("-", "").replace(".", "").lstrip("0")) + 2
    return outward_decimals(x, max(digits, 3))


def decimal_interval(x: arb) -> sp.Interval:
    """An Interval with exact decimal endpoints containing the ball (outward rounded to two
    digits past the ball's correct ones): short to print, still a rigorous enclosure."""
    lo, hi = _short_decimals(x)
    return sp.Interval(sp.Rational(lo), sp.Rational(hi))


def decimal_interval_node(x: arb):
    """The same enclosure as :func:`decimal_interval`, for display: the decimals themselves."""
    from ..notation.display import IntervalNode

    return IntervalNode(*_short_decimals(x))


def _round(q: sp.Rational, digits: int, mode: str) -> str:
    """q rounded to ``digits`` significant decimal digits: "down", "up" or "nearest"."""
    from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal
    if q == 0:
        return "0"
    rounding = {"down": ROUND_FLOOR, "up": ROUND_CEILING, "nearest": ROUND_HALF_EVEN}[mode]
    ctx_ = Context(prec=digits, rounding=rounding)
    # exact division in a context with enough precision, then one rounding step
    exact = Context(prec=digits + 60).divide(Decimal(int(q.p)), Decimal(int(q.q)))
    if exact * q.q != q.p:                # not exactly representable: nudge by the remainder
        exact = Context(prec=digits + 60, rounding=rounding).divide(Decimal(int(q.p)),
                                                                     Decimal(int(q.q)))
    return format(ctx_.plus(exact), "f") if abs(exact) >= Decimal("1e-6") else \
        format(ctx_.plus(exact), "e")


def outward_decimals(x: arb, digits: int = 40) -> list:
    """[lo, hi] as decimal strings, rounded outward: lo <= every point of the ball <= hi."""
    lo, hi = _endpoints(x)
    return [_round(lo, digits, "down"), _round(hi, digits, "up")]


def correct_decimal(x: arb, max_digits: int = 60) -> str:
    """The ball's value to the most significant digits that are correct: the largest N such that
    every point of the ball rounds to the same N-digit decimal (so the true value does too)."""
    lo, hi = _endpoints(x)
    if lo == hi:
        return _round(lo, max_digits, "nearest")
    best = None
    for n in range(1, max_digits + 1):
        # not monotone in n near a rounding boundary (0.25 +- 1e-30 disagrees at 1 digit and
        # agrees at 2..29): keep the largest n that agrees
        a, b = _round(lo, n, "nearest"), _round(hi, n, "nearest")
        if a == b:
            best = a
    if best is None:
        return x.str(3)          # not even one digit: show the ball itself
    return best


__all__ = ["single_index_enclosure", "EnclosedMoments", "growth_bounds", "UnsupportedLink",
           "ball_interval", "decimal_interval", "decimal_interval_node", "outward_decimals", "correct_decimal"]
