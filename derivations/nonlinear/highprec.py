"""High-precision moments for non-polynomial responses (certified inner integrals in C).

Single-index responses f(x) = g(w^T x) with w ~ N(0, c I) and x ~ N(0, I_d): given w, write
rho = |w| = sqrt(c) r (r ~ chi_d) and t = w^T x / rho ~ N(0, 1); then

    m_f(w) = (w / rho) A(rho),   A(rho) = E[t g(rho t)],   J(rho) = E[g(rho t)^2]

and E|m_f|^2 = E_r[A^2], E[f^2] = E_r[J]. For E[f^2 |x|^2] the roles of x and w / sqrt(c)
are symmetric (both N(0, I), and w^T x depends on them symmetrically), so
E[g(w^T x)^2 |x|^2] = E[g(w^T x)^2 |w|^2] / c = E_r[r^2 J(sqrt(c) r)]: no third inner
integral (t^2 g^2) is needed.

Method.
* Inner integrals: one call of flint's ``acb.integral`` per outer node, on A + i J (both
  real on the real axis, so one complex integral carries both), at decimal precision
  digits + 15 with tolerance 10^-(digits + 8). ``acb.integral`` returns a ball with a
  rigorous error bound. The t-range (-T, T) is cut where the Gaussian tail is negligible
  (T raised until the integrand at T is below the target), split at 0 and at every kink
  of relu / abs / sign whose argument is a polynomial in s (its real roots s_k give kinks
  t = s_k / rho). On each piece such a node is replaced by its analytic branch (z or 0,
  +-z, +-1), chosen by the sign of its argument at the piece's midpoint, so the integrand
  handed to ``acb.integral`` is analytic there. Kinks of other arguments (relu(tanh(s) - 1/2))
  are handled by the rigorous ball test: a ball on which the sign is undecided is reported
  non-analytic and ``acb.integral`` bisects around the kink (slower, still certified).
  For odd or even links only t > 0 is integrated (parity).
* Outer integral over r in (0, R) (R raised until the outer integrand at R is negligible):
  Gauss-Legendre (flint nodes, cached per (n, precision)) on a mesh graded geometrically
  towards r = 0 (A(rho) is C-infinity but not analytic at rho = 0 for tanh, e.g.). Each
  piece is computed with n and 2n nodes and refined until |I_n - I_2n| is below the target.
* Error estimate per moment: sum over pieces of |I_n - I_2n| (the value returned is I_2n,
  so this overestimates its error) + the radius of the ball sum (the certified inner errors
  propagated through the outer rule) + the tail at T and R. Only the outer part is an
  estimate rather than a bound.

>>> from derivations.nonlinear.parse import S, relu
>>> r = single_index_moments(relu(S), d=2, c=1, digits=20)
>>> mpmath.nstr(r.m2, 15), mpmath.nstr(r.f2x2, 15), r.error < 1e-20  # closed forms: d/4, d(d+2)/2
('0.5', '4.0', True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import sympy as sp
from flint import acb, arb, ctx

from .parse import S, relu

# --- compiling a link to an mpmath callable (tree walk; no eval, no lambdify) ------------------

_MP_FUNCS = {sp.tanh: lambda v: mpmath.tanh(v), sp.erf: lambda v: mpmath.erf(v),
             sp.sin: lambda v: mpmath.sin(v), sp.cos: lambda v: mpmath.cos(v),
             sp.exp: lambda v: mpmath.exp(v), sp.Abs: lambda v: abs(v),
             sp.sign: lambda v: mpmath.sign(v), relu: lambda v: v if v > 0 else v * 0}


class UnsupportedLink(ValueError):
    """A link the high-precision route cannot integrate (unknown node or infinite moments)."""


def compile_mp(expr: sp.Expr, var: sp.Symbol = S):
    """A closure evaluating ``expr`` in mpmath (a tree over +, *, integer powers, whitelisted
    functions). Kept for point checks; the integrals use :func:`compile_acb`."""
    if expr == var:
        return lambda v: v
    if expr.is_Rational:
        return lambda v, q=expr: mpmath.mpf(q.p) / q.q
    if expr.is_Add or expr.is_Mul:
        parts = [compile_mp(a, var) for a in expr.args]
        if expr.is_Add:
            return lambda v: mpmath.fsum(p(v) for p in parts)
        return lambda v: mpmath.fprod(p(v) for p in parts)
    if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0:
        base, k = compile_mp(expr.base, var), int(expr.exp)
        return lambda v: base(v) ** k
    if expr.func in _MP_FUNCS and len(expr.args) == 1:
        inner, fn = compile_mp(expr.args[0], var), _MP_FUNCS[expr.func]
        return lambda v: fn(inner(v))
    raise UnsupportedLink(f"cannot evaluate {expr} numerically")


def growth_ok(expr: sp.Expr, var: sp.Symbol = S) -> bool:
    """True when |expr| grows at most polynomially (then every moment used here is finite).

    exp(a) is accepted only when a is bounded above: constant, or a polynomial in ``var`` of
    even degree with negative leading coefficient, or itself bounded (tanh, erf, sin, ...).
    """
    if not expr.has(sp.exp):
        return True
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.exp):
            arg = node.args[0]
            if not arg.has(sp.exp) and arg.is_polynomial(var):
                poly = sp.Poly(arg, var)
                if poly.degree() <= 0 or (poly.degree() % 2 == 0 and poly.LC() < 0):
                    continue
            if not arg.has(var) or all(isinstance(a, (sp.tanh, sp.erf, sp.sin, sp.cos, sp.sign))
                                       for a in sp.Add.make_args(arg)):
                continue
            return False
    return True


# --- compiling a link to an acb callable --------------------------------------------------------

_ACB_FUNCS = {sp.tanh: acb.tanh, sp.erf: acb.erf, sp.sin: acb.sin, sp.cos: acb.cos,
              sp.exp: acb.exp}
_PIECEWISE = (relu, sp.Abs, sp.sign)
_NAN = None


def _nan():
    global _NAN
    if _NAN is None:
        _NAN = acb(arb("nan"))
    return _NAN


def _const(q):
    """An exact real constant as an arb at the current precision."""
    if q.is_Rational:
        return arb(int(q.p)) / int(q.q)
    return arb(str(sp.N(q, ctx.dps + 10)))


def _piece_value(kind, z, sgn):
    """relu / abs / sign on the analytic branch ``sgn`` (+1 or -1) of their argument."""
    if kind is relu:
        return z if sgn > 0 else z * 0
    if kind is sp.Abs:
        return z if sgn > 0 else -z
    return acb(sgn)


def _piece_hull(kind, z):
    """Rigorous enclosure of relu / abs / sign of a real ball straddling 0."""
    a = abs(z)
    if kind is relu:
        return acb((z.real + a) / 2)
    if kind is sp.Abs:
        return acb(a)
    return acb(arb(0, 1))


class _Compiled:
    """A link as an acb callable ``fn(z, analytic, signs)``.

    ``signs`` maps each *resolvable* piecewise node (relu / abs / sign of a polynomial in s,
    whose real roots are the ``kinks``) to the sign of its argument on the current piece.
    Other piecewise nodes decide their branch from the ball itself and report a non-finite
    value (non-analytic) when the sign of the argument is undecided on the ball.
    """

    def __init__(self, expr, var=S):
        self.var = var
        self.resolvable = {}     # node -> compiled argument
        self.kinks = set()       # real roots (SymPy numbers) of resolvable arguments
        self.fn = self._walk(expr)

    def _walk(self, expr):
        var = self.var
        if expr == var:
            return lambda z, an, sg: z
        if expr.is_number:
            if not expr.is_real:
                raise UnsupportedLink(f"non-real constant {expr}")
            val = acb(_const(expr))
            return lambda z, an, sg: val
        if expr.is_Add or expr.is_Mul:
            parts = [self._walk(a) for a in expr.args]
            if expr.is_Add:
                def add(z, an, sg):
                    out = parts[0](z, an, sg)
                    for p in parts[1:]:
                        out = out + p(z, an, sg)
                    return out
                return add

            def mul(z, an, sg):
                out = parts[0](z, an, sg)
                for p in parts[1:]:
                    out = out * p(z, an, sg)
                return out
            return mul
        if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0:
            base, k = self._walk(expr.base), int(expr.exp)
            return lambda z, an, sg: base(z, an, sg) ** k
        if expr.func in _ACB_FUNCS and len(expr.args) == 1:
            inner, fn = self._walk(expr.args[0]), _ACB_FUNCS[expr.func]
            return lambda z, an, sg: fn(inner(z, an, sg))
        if isinstance(expr, _PIECEWISE) and len(expr.args) == 1:
            arg = expr.args[0]
            inner, kind = self._walk(arg), expr.func
            if arg.is_polynomial(var) and arg.has(var):
                self.resolvable[expr] = inner
                for root in sp.Poly(arg, var).real_roots():
                    self.kinks.add(root)

            def piecewise(z, an, sg, inner=inner, kind=kind, node=expr):
                v = inner(z, an, sg)
                sgn = sg.get(node) if sg else None
                if sgn is None:
                    if v.real > 0:
                        sgn = 1
                    elif v.real < 0:
                        sgn = -1
                    elif an or not v.imag.is_zero():
                        return _nan()
                    else:
                        return _piece_hull(kind, v)
                return _piece_value(kind, v, sgn)
            return piecewise
        raise UnsupportedLink(f"cannot evaluate {expr} numerically")

    def signs_at(self, s):
        """Signs of the resolvable arguments at the real point ``s`` (arb); None if undecided."""
        out = {}
        for node, inner in self.resolvable.items():
            v = inner(acb(s), False, None).real
            out[node] = 1 if v > 0 else (-1 if v < 0 else None)
        return out


def compile_acb(expr: sp.Expr, var: sp.Symbol = S) -> _Compiled:
    """Compile ``expr`` (same grammar as :func:`compile_mp`) for ``acb.integral``."""
    return _Compiled(expr, var)


def _parity(expr):
    """+1 (even), -1 (odd) or 0 (neither), decided structurally (sound: only says +-1 when
    g(-s) is literally +-g(s) after SymPy's automatic simplification and expansion)."""
    flipped = sp.expand(expr.xreplace({S: -S}))
    e = sp.expand(expr)
    if flipped == e:
        return 1
    if flipped == -e:
        return -1
    return 0


# --- Gauss-Legendre nodes -----------------------------------------------------------------------

_GL: dict = {}


def _gauss_legendre(n):
    key = (n, ctx.prec)
    if key not in _GL:
        _GL[key] = [arb.legendre_p_root(n, k, weight=True) for k in range(n)]
    return _GL[key]


# --- the moments ----------------------------------------------------------------------------------

@dataclass
class SingleIndexMoments:
    """E|m_f|^2, E[f^2 |x|^2], E[f^2] (mpf) with absolute error estimates, for f = g(w^T x).

    errors: (err_m2, err_f2x2, err_f2); dps: working decimal precision; level: total number
    of outer nodes used (the finest rule on every piece); digits: the requested digits.
    """

    m2: mpmath.mpf
    f2x2: mpmath.mpf
    f2: mpmath.mpf
    errors: tuple
    dps: int
    level: int
    digits: int = 0

    @property
    def error(self) -> float:
        """The largest of the three error estimates."""
        return max(self.errors)

    def decimal(self, name: str, digits: int | None = None) -> str:
        """``name`` ("m2", "f2x2", "f2") as decimal text with the digits its error supports
        (at most ``digits``, default the requested precision)."""
        return decimal_string(getattr(self, name), self.errors[("m2", "f2x2", "f2").index(name)],
                              digits or self.digits or self.dps)


def decimal_string(value, error, max_digits: int = 35) -> str:
    """Significant digits of ``value`` that an absolute error ``error`` leaves correct."""
    with mpmath.workdps(max_digits + 10):
        value = mpmath.mpf(value)
        if value == 0:
            return "0"
        n = max_digits if error <= 0 else \
            int(math.floor(float(mpmath.log10(abs(value)) - mpmath.log10(error))))
        return mpmath.nstr(value, max(1, min(n, max_digits)))


def _to_mpf(x: arb):
    man, exp = x.mid().man_exp()
    return mpmath.mpf((int(man), int(exp)))


def single_index_moments(link: sp.Expr, d: int, c=1, digits: int = 35,
                         max_nodes: int = 256) -> SingleIndexMoments:
    """The three moments of g(w^T x), w ~ N(0, c I), x ~ N(0, I_d), to ``digits`` digits.

    ``max_nodes`` caps the Gauss-Legendre rule per outer piece (the result is returned with
    its error estimate even if the target is not met).
    """
    if not growth_ok(link):
        raise UnsupportedLink(f"link {link} may grow too fast for finite moments "
                              "(exp of an unbounded argument)")
    c = sp.Rational(c)
    if c <= 0:
        raise UnsupportedLink(f"prior scale c = {c} must be positive")
    dps = digits + 15
    old = ctx.prec
    try:
        ctx.dps = dps
        moments = _Moments(compile_acb(link), _parity(link), d, c, digits).run(max_nodes)
    finally:
        ctx.prec = old
    with mpmath.workdps(dps):
        vals = [_to_mpf(v) for v in moments[0]]
    return SingleIndexMoments(vals[0], vals[1], vals[2], tuple(moments[1]), dps, moments[2],
                              digits)


def two_layer_relu_moments(d: int, width: int, c=1, digits: int = 35) -> SingleIndexMoments:
    """f(x) = sum_j a_j relu(v_j^T x), a_j ~ N(0, 1), v_j ~ N(0, c I), all independent: the
    cross terms vanish (E[a_j a_k] = 0), so every moment is ``width`` times the relu one."""
    mom = single_index_moments(relu(S), d, c, digits)
    with mpmath.workdps(mom.dps):
        return SingleIndexMoments(width * mom.m2, width * mom.f2x2, width * mom.f2,
                                  tuple(width * e for e in mom.errors), mom.dps, mom.level,
                                  digits)


def _gap(n):
    """Even step between the two rules of a piece (keeps n odd)."""
    return max(4, (n // 5) & ~1)


class _Moments:
    """One computation: the inner integrals at arbitrary r (cached) and the outer rule."""

    def __init__(self, link: _Compiled, parity: int, d: int, c, digits: int):
        self.link, self.parity, self.d, self.digits = link, parity, d, digits
        self.sqc = (arb(int(c.p)) / int(c.q)).sqrt()
        self.tol = arb(10) ** (-(digits + 8))
        self.tiny = arb(10) ** (-(digits + 12))
        self.gauss = 1 / (2 * arb.pi()).sqrt()
        self.kinks = sorted(arb(str(sp.N(k, ctx.dps + 10))) .mid() for k in link.kinks) \
            if link.kinks else []
        half = arb(d) / 2
        self.norm = 1 / (2 ** (half - 1) * half.gamma())      # chi_d density constant
        self.cache: dict = {}
        self.T = arb(math.sqrt(2 * (digits + 12) * math.log(10)) + 1)
        self.tail = [arb(0), arb(0), arb(0)]

    # -- inner ---------------------------------------------------------------------------------

    def _integrand(self, rho, signs):
        g, gauss = self.link.fn, self.gauss
        i = acb(0, 1)

        def f(t, analytic):
            v = g(rho * t, analytic, signs)
            return (t * v + i * v * v) * (gauss * (-(t * t) / 2).exp())
        return f

    def _pieces(self, rho):
        """t-breakpoints: 0, +-T and the kinks s_k / rho inside."""
        T = self.T
        lo = arb(0) if self.parity else -T
        pts = [lo, T]
        if not self.parity:
            pts.append(arb(0))
        for s in self.kinks:
            t = s / rho
            if lo < t < T:
                pts.append(t.mid())
        uniq = {a.mid().str(ctx.dps + 5, radius=False): a for a in pts}
        pts = sorted(uniq.values(), key=lambda a: float(a.mid()))
        return list(zip(pts, pts[1:], strict=False))

    def inner(self, r: arb, rel_tol=None):
        """(A, J) as arb balls at r (rho = sqrt(c) r), to relative tolerance ``rel_tol``."""
        key = r.mid().str(ctx.dps + 5, radius=False)
        if key in self.cache:
            return self.cache[key]
        rho = self.sqc * r
        total = acb(0)
        for a, b in self._pieces(rho):
            mid = (a + b) / 2
            signs = self.link.signs_at(rho * mid) if self.link.resolvable else None
            if signs and any(v is None for v in signs.values()):
                signs = {k: v for k, v in signs.items() if v is not None}
            total += acb.integral(self._integrand(rho, signs), a, b,
                                  rel_tol=rel_tol or self.tol, abs_tol=self.tiny)
        if self.parity:
            # t g(rho t) is even when g is odd (A doubles) and odd when g is even (A = 0)
            total = acb(total.real * 2 if self.parity < 0 else arb(0), total.imag * 2)
        out = (total.real, total.imag)
        self.cache[key] = out
        return out

    def _inner_tail(self, rho):
        """|integrand| at t = +-T (the Gaussian tail beyond T is below this value)."""
        f = self._integrand(rho, None)
        vals = [f(acb(self.T), False), f(acb(-self.T), False)]
        return max(float(abs(v.real).upper()) + float(abs(v.imag).upper()) for v in vals)

    # -- outer ---------------------------------------------------------------------------------

    def density(self, r):
        return self.norm * r ** (self.d - 1) * (-(r * r) / 2).exp()

    def integrand(self, r):
        w = self.density(r)
        # the node's weight in the moments is about w (1 + r^2): where it is tiny the inner
        # integral needs fewer digits (its certified radius is still propagated)
        weight = w * (1 + r * r)
        rel = self.tol / weight if weight < 1 else self.tol
        A, J = self.inner(r, min(rel, arb(10) ** -8))
        return (A * A * w, r * r * J * w, J * w)

    def rule(self, a, b, n):
        h, m = (b - a) / 2, (b + a) / 2
        out = [arb(0), arb(0), arb(0)]
        for x, wt in _gauss_legendre(n):
            vals = self.integrand(m + h * x)
            for k in range(3):
                out[k] += wt * h * vals[k]
        return out

    def run(self, max_nodes):
        digits = self.digits
        eps = 10.0 ** -(digits + 10)
        # outer cut R: chi_d tail, then raised while the outer integrand at R is not negligible
        R = arb(math.sqrt(2 * (digits + 12) * math.log(10)) + self.d + 2)
        while True:
            tail_r = max(float(abs(v).upper()) for v in self.integrand(R))
            if tail_r < eps or float(R.mid()) > 200:
                break
            R += 2
        # inner cut T, checked at the largest rho (polynomial growth is worst there)
        while self._inner_tail(self.sqc * R) > eps and float(self.T.mid()) < 200:
            self.T += 2
        self.cache.clear()
        tail_t = self._inner_tail(self.sqc * R)
        # mesh graded geometrically towards 0 (every piece [a, 2a] has the same geometry
        # relative to the singular line rho in iR, hence the same convergence rate)
        bps = [arb(0)] + [arb(2) ** -k for k in range(6, 0, -1)] + \
            [arb(x) / 2 for x in (2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 17, 20, 24, 28)]
        while float(bps[-1].mid()) + 2 >= float(R.mid()):
            bps.pop()
        bps.append(R)
        pieces = list(zip(bps, bps[1:], strict=False))
        target_rel = arb(10) ** (-(digits + 2)) / len(pieces)
        # one midpoint node per piece predicts its size, hence the digits it needs
        # (about 1.4 digits per node); odd n reuse the midpoint node
        size = [max(abs(v.mid()) for v in self.integrand((a + b) / 2)) * (b - a)
                for a, b in pieces]
        scale0 = max(size)
        n, coarse, fine = {}, {}, {}
        for p, (a, b) in enumerate(pieces):
            need = float((size[p] / (scale0 * target_rel)).log()) / math.log(10) \
                if size[p] > 0 else 0.0
            n[p] = min(max(int(need / 2) + 3, 5) | 1, max_nodes)
            coarse[p] = self.rule(a, b, max(n[p] - _gap(n[p]), 3))
            fine[p] = self.rule(a, b, n[p])
        while True:
            total = [sum((fine[p][k] for p in fine), arb(0)) for k in range(3)]
            scale = max(abs(total[0].mid()), abs(total[1].mid()), arb(10) ** -(digits + 10))
            target = scale * target_rel
            bad = [p for p in fine
                   if any(abs(fine[p][k].mid() - coarse[p][k].mid()) > target for k in range(3))
                   and n[p] < max_nodes]
            if not bad:
                break
            for p in bad:
                n[p] += _gap(n[p])
                coarse[p] = fine[p]
                fine[p] = self.rule(*pieces[p], n[p])
        errors = []
        for k in range(3):
            est = sum((abs(fine[p][k].mid() - coarse[p][k].mid()) for p in fine), arb(0))
            # tails: the outer integrand at R times a decay length, inner tail times E_r[r^2]
            tails = tail_r + tail_t * (self.d + 2)
            errors.append(float((est + total[k].rad()).upper()) + tails)
        level = len(self.cache)
        return total, errors, level
