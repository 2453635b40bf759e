"""Exact Gaussian integrals of exp-polynomial links: the machinery behind the closed forms.

An *exp-polynomial* in s is a finite sum  sum c_{a,k} s^k exp(a s)  with exact coefficients
c (rationals, radicals, pi, exp and trig of rationals, I) and exponents a that are rational
or purely imaginary rational (so a^2 is rational: sin and cos give a = +-i, exp(s/4) gives
a = 1/4). A link g is *exp-piecewise* when, on each open half-line s > 0 and s < 0, it is an
exp-polynomial; relu, abs and sign are allowed when their argument is a polynomial whose sign
is constant on each half-line (so every kink sits at s = 0). Then

    g(s) = P(s) + sign(s) Q(s)  for s != 0,   P = (g_+ + g_-)/2,  Q = (g_+ - g_-)/2.

With t ~ N(0, 1) and rho > 0, every moment that Theorem 3 needs is a 1-D Gaussian integral of
t^m exp(a rho t), possibly weighted by sign(t):

* whole line (completed square):  E[t^m e^{b t}] = e^{b^2/2} E[(t + b)^m];
* signed: E[sign(t) h(t)] only sees the odd part of h; it is elementary exactly when that odd
  part has no exponential factor (then E[sign(t) t^m] = E|t|^m, m odd). Otherwise the
  half-line integrals give erf / Dawson terms whose chi-average has no elementary closed form,
  and :class:`NoClosedForm` says so (the enclosure route takes over).

The result of an inner integral is a :class:`RadialSeries`  sum c_{k,q} rho^k exp(q rho^2),
q = a^2 / 2 rational. Averages over rho = sqrt(c) r with r ~ chi_d are closed forms:

    E[r^k exp(p r^2)] = 2^{k/2} Gamma((d + k)/2) / Gamma(d/2) (1 - 2p)^{-(d + k)/2},

a polynomial in d times a power of (1 - 2p) when k is even (so d may stay symbolic).

>>> import sympy as sp
>>> from derivations.nonlinear.parse import S, relu
>>> P, Q = split_link(relu(S))
>>> P, Q
(ExpPoly(s/2), ExpPoly(s/2))
>>> A = stein_A(P, Q)          # E[t relu(rho t)] = rho / 2
>>> A
RadialSeries(rho/2)
>>> chi_average(A * A, d=3, c=1)   # E|m_f|^2 = c d / 4 for relu
3/4
"""

from __future__ import annotations

from math import comb

import sympy as sp

from .parse import S, relu

#: the radius symbol rho = |w| sqrt(c) used when displaying radial series
RHO = sp.Symbol("rho", positive=True)


class NoClosedForm(ValueError):
    """The link is outside the exp-piecewise class (the message says which node and why)."""


class InfiniteMoment(ValueError):
    """A moment of the task diverges (e.g. exp(a s) with a^2 c too large)."""


def _canon(c):
    """Exact coefficient in a canonical expanded form (I^2 = -1, exp(x) exp(y) = exp(x + y))."""
    return sp.expand(sp.powsimp(sp.expand(c)))


def _is_zero(c) -> bool:
    """Exact zero test. Coefficients are polynomials in rationals, I, sqrt(2), 1/sqrt(pi), pi
    and atoms exp(b) / exp(I b) for rational b; SymPy merges exp(x) exp(y) = exp(x + y), so
    after expansion distinct atoms are distinct powers of one transcendental number and the
    canonical expansion is zero exactly when the coefficient is."""
    return _canon(c) == 0


def _check_exponent(a):
    """Exponents must be real or purely imaginary rationals (then a^2 / 2 is rational)."""
    a = sp.nsimplify(a) if not a.is_number else a
    re, im = sp.re(a), sp.im(a)
    if not (re.is_Rational and im.is_Rational):
        raise NoClosedForm(f"exponent {a} is not a rational (or i times a rational)")
    if re != 0 and im != 0:
        raise NoClosedForm(f"exponent {a} mixes a real and an imaginary part (a product such as "
                           "exp(s) sin(s)): the chi-average has no real elementary form here")
    return a


class _SparseTerms:
    """A finite sum of basis functions as a dict key -> exact coefficient (zeros dropped).

    Subclasses say how two keys multiply (:meth:`_product_key`); the arithmetic is shared.
    """

    __slots__ = ("terms",)

    def __init__(self, terms=None):
        out = {}
        for key, c in (terms or {}).items():
            c = _canon(c)
            if c != 0:
                out[key] = c
        self.terms = out

    @staticmethod
    def _product_key(key1, key2):
        raise NotImplementedError

    def __add__(self, other):
        out = dict(self.terms)
        for key, c in other.terms.items():
            out[key] = out.get(key, 0) + c
        return type(self)(out)

    def __neg__(self):
        return type(self)({k: -c for k, c in self.terms.items()})

    def __sub__(self, other):
        return self + (-other)

    def __mul__(self, other):
        cls = type(self)
        if not isinstance(other, cls):
            return cls({k: c * other for k, c in self.terms.items()})
        out: dict = {}
        for k1, c1 in self.terms.items():
            for k2, c2 in other.terms.items():
                key = self._product_key(k1, k2)
                out[key] = out.get(key, 0) + c1 * c2
        return cls(out)


class ExpPoly(_SparseTerms):
    """sum c s^k exp(a s) as a dict (a, k) -> c, with exact coefficients."""

    __slots__ = ()

    @staticmethod
    def _product_key(key1, key2):
        (a1, k1), (a2, k2) = key1, key2
        return sp.expand(a1 + a2), k1 + k2

    @classmethod
    def const(cls, c):
        return cls({(sp.Integer(0), 0): c})

    @classmethod
    def var(cls):
        return cls({(sp.Integer(0), 1): sp.Integer(1)})

    def __pow__(self, k: int):
        out = ExpPoly.const(1)
        for _ in range(k):
            out = out * self
        return out

    @property
    def is_polynomial(self) -> bool:
        return all(a == 0 for a, _ in self.terms)

    def is_zero(self) -> bool:
        return all(_is_zero(c) for c in self.terms.values())

    def as_expr(self, var=S):
        return sp.Add(*[c * var**k * sp.exp(a * var) for (a, k), c in self.terms.items()])

    def as_real_expr(self, var=S):
        """The same function with exp(+-i b s) pairs shown as cos(b s), sin(b s) (for display;
        c+ e^{ibs} + c- e^{-ibs} = (c+ + c-) cos(bs) + i (c+ - c-) sin(bs))."""
        out, seen = [], set()
        for (a, k), c in self.terms.items():
            if (a, k) in seen:
                continue
            if sp.re(a) == 0 and a != 0:
                b = sp.im(a)
                mirror = self.terms.get((sp.expand(-a), k), 0)
                seen |= {(a, k), (sp.expand(-a), k)}
                cos_c, sin_c = (sp.expand(v.rewrite(sp.cos)) for v in (c + mirror, sp.I * (c - mirror)))
                out.append(var**k * (cos_c * sp.cos(b * var) + sin_c * sp.sin(b * var)))
            else:
                seen.add((a, k))
                out.append(c * var**k * sp.exp(a * var))
        return sp.Add(*out)

    def polynomial(self, var=S) -> sp.Poly:
        return sp.Poly(sp.Add(*[c * var**k for (_, k), c in self.terms.items()]), var)

    def __repr__(self):
        return f"ExpPoly({self.as_expr()})"


# --- a link as g = P + sign(s) Q ---------------------------------------------------------------

class _NeedsSplit(Exception):
    """A kink was met while converting on the whole line: redo the conversion per half-line."""


def _linear(e: ExpPoly, what: str):
    """(a, b) when e = a s + b (a rational, b an exact real constant)."""
    if not e.is_polynomial:
        raise NoClosedForm(f"{what} of a non-polynomial argument")
    poly = e.polynomial()
    if poly.degree() > 1:
        raise NoClosedForm(f"{what} of a polynomial of degree {poly.degree()} (only a s + b gives "
                           "an exponential of a linear argument)")
    a, b = poly.all_coeffs() if poly.degree() == 1 else (sp.Integer(0), poly.as_expr())
    if not sp.sympify(a).is_Rational:
        raise NoClosedForm(f"{what}: the slope {a} is not rational")
    return sp.Rational(a), sp.sympify(b)


def _sign_on_side(poly_e: ExpPoly, side: int, what: str) -> int:
    """The constant sign of a polynomial argument on the open half-line ``side`` (+1 or -1)."""
    if not poly_e.is_polynomial:
        raise NoClosedForm(f"{what} of a non-polynomial argument")
    expr = poly_e.polynomial().as_expr()
    if expr == 0:
        return 0
    poly = sp.Poly(expr, S)
    if poly.degree() == 0:
        return 1 if expr > 0 else -1
    if not all(c.is_Rational for c in poly.all_coeffs()):
        raise NoClosedForm(f"{what} of a polynomial with irrational coefficients")
    at_zero = 1 if poly.eval(0) == 0 else 0
    inside = (poly.count_roots(0, None) if side > 0 else poly.count_roots(None, 0)) - at_zero
    if inside:
        raise NoClosedForm(f"{what}({expr}) has a kink at s != 0 (a real root of its argument): "
                           "the half-line Gaussian integrals give erf terms whose average over |w| "
                           "has no elementary closed form")
    value = poly.eval(side)
    return 1 if value > 0 else -1


def _convert(expr, side):
    """ExpPoly of ``expr`` on the whole line (side None) or on the half-line s * side > 0."""
    if expr == S:
        return ExpPoly.var()
    if expr.is_number:
        if not expr.is_real:
            raise NoClosedForm(f"non-real constant {expr}")
        return ExpPoly.const(expr)
    if expr.is_Add:
        out = ExpPoly()
        for arg in expr.args:
            out = out + _convert(arg, side)
        return out
    if expr.is_Mul:
        out = ExpPoly.const(1)
        for arg in expr.args:
            out = out * _convert(arg, side)
        return out
    if expr.is_Pow:
        if not (expr.exp.is_Integer and expr.exp >= 0):
            raise NoClosedForm(f"power {expr} with a non-integer or negative exponent")
        return _convert(expr.base, side) ** int(expr.exp)
    if isinstance(expr, (sp.sin, sp.cos)):
        a, b = _linear(_convert(expr.args[0], side), expr.func.__name__)
        e_plus = {(sp.I * a, 0): sp.exp(sp.I * b)}
        e_minus = {(-sp.I * a, 0): sp.exp(-sp.I * b)}
        plus, minus = ExpPoly(e_plus), ExpPoly(e_minus)
        if isinstance(expr, sp.sin):
            return (plus - minus) * (1 / (2 * sp.I))
        return (plus + minus) * sp.Rational(1, 2)
    if isinstance(expr, sp.exp):
        a, b = _linear(_convert(expr.args[0], side), "exp")
        return ExpPoly({(a, 0): sp.exp(b)})
    if isinstance(expr, (relu, sp.Abs, sp.sign)):
        if side is None:
            raise _NeedsSplit
        arg = _convert(expr.args[0], side)
        sgn = _sign_on_side(arg, side, type(expr).__name__.lower())
        if isinstance(expr, sp.sign):
            return ExpPoly.const(sgn)
        if isinstance(expr, sp.Abs):
            return arg * sgn
        return arg if sgn > 0 else ExpPoly()
    if isinstance(expr, (sp.tanh, sp.erf)):
        raise NoClosedForm(f"{expr.func.__name__} is not an exp-polynomial (its Gaussian integrals "
                           "have no elementary closed form)")
    raise NoClosedForm(f"unsupported node {expr}")


def split_link(link: sp.Expr):
    """(P, Q) with g = P + sign(s) Q for s != 0 (Q = 0 when g has no kink); NoClosedForm if
    g is not exp-piecewise."""
    try:
        return _convert(link, None), ExpPoly()
    except _NeedsSplit:
        pass
    plus, minus = _convert(link, 1), _convert(link, -1)
    half = sp.Rational(1, 2)
    return (plus + minus) * half, (plus - minus) * half


def _resolve_side(expr, side: int):
    """The link on the half-line s * side > 0 with relu/abs/sign replaced by their branch."""
    def resolve(e):
        if isinstance(e, (relu, sp.Abs, sp.sign)):
            arg = resolve(e.args[0])
            sgn = _sign_on_side(_convert(arg, side), side, type(e).__name__.lower())
            return {relu: arg if sgn > 0 else sp.Integer(0), sp.Abs: sgn * arg,
                    sp.sign: sp.Integer(sgn)}[e.func]
        if e.args:
            return e.func(*[resolve(a) for a in e.args])
        return e
    return resolve(expr)


def reproduces(link: sp.Expr, P: ExpPoly, Q: ExpPoly) -> bool:
    """Exact check, by a second route, that P + Q (s > 0) and P - Q (s < 0) are the link:
    each relu/abs/sign is replaced by its branch (argument sign constant on the half-line,
    decided by Sturm root counting), SymPy's own rewrite turns sin/cos into exponentials, and
    the difference is expanded to 0."""
    for side, part in ((1, P + Q), (-1, P - Q)):
        g = _resolve_side(link, side).rewrite(sp.exp)
        if _canon(part.as_expr() - g) != 0:
            return False
    return True


# --- radial series and the 1-D Gaussian integrals ----------------------------------------------

class RadialSeries(_SparseTerms):
    """sum c rho^k exp(q rho^2) as a dict (k, q) -> c (q rational)."""

    __slots__ = ()

    @staticmethod
    def _product_key(key1, key2):
        (k1, q1), (k2, q2) = key1, key2
        return k1 + k2, q1 + q2

    def shift(self, j: int) -> RadialSeries:
        """rho^j times the series."""
        return RadialSeries({(k + j, q): c for (k, q), c in self.terms.items()})

    def real(self) -> RadialSeries:
        """The series with every coefficient shown real: the imaginary part (c - conj c)/2 is
        checked to vanish exactly, exp(I b) pairs are rewritten as cos b, sin b."""
        out = {}
        for key, c in self.terms.items():
            conj = sp.conjugate(c)
            if not _is_zero(c - conj):
                raise NoClosedForm(f"internal: imaginary part of {c} did not cancel")
            out[key] = sp.expand(((c + conj) / 2).rewrite(sp.cos))
        return RadialSeries(out)

    def as_expr(self, var=RHO):
        return sp.Add(*[c * var**k * sp.exp(q * var**2) for (k, q), c in self.terms.items()])

    def __repr__(self):
        return f"RadialSeries({self.as_expr()})"


def _gauss_even_moment(j: int) -> int:
    """E[t^j] for t ~ N(0, 1): (j - 1)!! for even j, 0 for odd j."""
    if j % 2:
        return 0
    out = 1
    for i in range(1, j, 2):
        out *= i
    return out


def _abs_odd_moment(m: int) -> sp.Expr:
    """E|t|^m for odd m: sqrt(2/pi) 2^((m-1)/2) ((m-1)/2)!."""
    j = (m - 1) // 2
    return sp.sqrt(2) / sp.sqrt(sp.pi) * 2**j * sp.factorial(j)


def _t_terms(e: ExpPoly, t_power: int) -> dict:
    """t^t_power * e(rho t) as a dict (a, m, k) -> c meaning c rho^k t^m exp(a rho t)."""
    return {(a, k + t_power, k): c for (a, k), c in e.terms.items()}


def gauss(e: ExpPoly, t_power: int = 0) -> RadialSeries:
    """E[t^t_power e(rho t)] for t ~ N(0, 1), by completing the square:
    E[t^m e^{b t}] = e^{b^2/2} sum_j C(m, j) b^(m - j) E[t^j], with b = a rho."""
    out: dict = {}
    for (a, m, k), c in _t_terms(e, t_power).items():
        a = _check_exponent(a)
        q = sp.Rational(sp.expand(a * a)) / 2
        for j in range(0, m + 1, 2):
            key = (k + m - j, q)
            out[key] = out.get(key, 0) + c * comb(m, j) * a ** (m - j) * _gauss_even_moment(j)
    return RadialSeries(out).real()


def gauss_signed(e: ExpPoly, t_power: int = 0) -> RadialSeries:
    """E[sign(t) t^t_power e(rho t)]: only the odd part of the integrand contributes, and it
    must be free of exponentials (else NoClosedForm)."""
    terms = _t_terms(e, t_power)
    for (a, m, k), c in terms.items():
        if a == 0:
            continue
        mirror = terms.get((sp.expand(-a), m, k), 0)
        odd = (c - (-1) ** m * mirror) / 2
        if not _is_zero(odd):
            raise NoClosedForm("a kink at s = 0 multiplies an exponential/trigonometric factor "
                               f"(odd part {odd} t^{m} exp({a} rho t)): the half-line Gaussian "
                               "integrals give erf/Dawson terms with no elementary chi-average")
    out: dict = {}
    for (a, m, k), c in terms.items():
        if a == 0 and m % 2:
            key = (k, sp.Integer(0))
            out[key] = out.get(key, 0) + c * _abs_odd_moment(m)
    return RadialSeries(out).real()


def stein_A(P: ExpPoly, Q: ExpPoly) -> RadialSeries:
    """A(rho) = E[t g(rho t)] (so m_f(w) = (w / rho) A(rho) by Stein's identity)."""
    return gauss(P, 1) + gauss_signed(Q, 1)


def square_J(P: ExpPoly, Q: ExpPoly, t_power: int = 0) -> RadialSeries:
    """E[t^t_power g(rho t)^2] with g^2 = P^2 + Q^2 + 2 sign(s) P Q (sign^2 = 1 off s = 0)."""
    return gauss(P * P + Q * Q, t_power) + gauss_signed(P * Q * 2, t_power)


# --- averages over the radius ------------------------------------------------------------------

class NotPolynomialInD(ValueError):
    """An odd power of the radius: Gamma((d + k)/2) / Gamma(d/2) is not polynomial in d."""


def chi_moment(k: int, p, d):
    """E[r^k exp(p r^2)] for r ~ chi_d (d an integer or a symbol); InfiniteMoment if 1 - 2p <= 0."""
    base = 1 - 2 * sp.sympify(p)
    if base.is_number and base <= 0:
        raise InfiniteMoment(f"E[r^{k} exp({p} r^2)] diverges for r ~ chi_d (1 - 2p = {base} <= 0)")
    if isinstance(d, int) or (hasattr(d, "is_Integer") and d.is_Integer):
        d = int(d)
        ratio = sp.gamma(sp.Rational(d + k, 2)) / sp.gamma(sp.Rational(d, 2))
    else:
        if k % 2:
            raise NotPolynomialInD(f"r^{k}: Gamma((d + {k})/2) / Gamma(d/2) is not polynomial in d")
        ratio = sp.Integer(1)
        for j in range(k // 2):
            ratio *= d / 2 + j
    scale = sp.Integer(2) ** sp.Rational(k, 2) * ratio
    if p == 0:
        return sp.expand(scale)
    return scale * base ** (-(sp.sympify(d) + k) / 2)


def chi_average(series: RadialSeries, d, c=1):
    """E[series(sqrt(c) r)] for r ~ chi_d: rho^k exp(q rho^2) -> c^(k/2) E[r^k exp(q c r^2)]."""
    c = sp.sympify(c)
    total = sp.Integer(0)
    for (k, q), coeff in series.terms.items():
        total += coeff * c ** sp.Rational(k, 2) * chi_moment(k, q * c, d)
    return sp.expand(total) if not total.has(sp.Pow) else total


__all__ = ["ExpPoly", "RadialSeries", "NoClosedForm", "InfiniteMoment", "NotPolynomialInD",
           "split_link", "reproduces", "gauss", "gauss_signed", "stein_A", "square_J",
           "chi_moment", "chi_average", "RHO"]
