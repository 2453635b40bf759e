"""Rigorous enclosures: they contain independently known values, are tight enough to refute a
near miss, and render with outward rounding. Independent values: closed forms derived by hand
(relu, sin), mpmath quadrature at 50 digits (slow), scipy in double precision."""

import math

import mpmath
import pytest
import sympy as sp
from flint import arb, ctx
from scipy import integrate

from derivations.nonlinear import parse_link, theorem3_optimum
from derivations.nonlinear.enclosure import (
    ball_interval,
    correct_decimal,
    growth_bounds,
    outward_decimals,
    single_index_enclosure,
)
from derivations.nonlinear.highprec import UnsupportedLink, arb_value
from derivations.task import Response, Task


def _contains(ball, value) -> bool:
    old = ctx.prec
    try:
        ctx.dps = 80
        return ball.overlaps(arb_value(sp.nsimplify(value) if isinstance(value, float) else value))
    finally:
        ctx.prec = old


@pytest.mark.parametrize("text, d, m2, f2x2", [
    ("relu(s)", 2, sp.Rational(1, 2), sp.Integer(4)),                            # d/4, d(d+2)/2
    ("sin(s)", 1, 3 ** -sp.Rational(3, 2), (1 - 5 ** -sp.Rational(3, 2)) / 2),  # d 3^(-d/2-1), ...
])
def test_enclosure_contains_hand_derived_values(text, d, m2, f2x2):
    e = single_index_enclosure(parse_link(text), d, digits=20)
    assert e.correct_digits() >= 20
    assert _contains(e.m2, m2) and _contains(e.f2x2, f2x2)
    # near miss: the value off by one part in 10^18 is outside the ball
    assert not _contains(e.m2, m2 * (1 + sp.Rational(1, 10**18)))


def test_tanh_30_digits_and_scipy():
    e = single_index_enclosure(parse_link("tanh(s)"), 2, digits=30)
    assert e.correct_digits() >= 30
    # scipy nested quadrature (double precision, independent route for E[f^2 |x|^2])
    norm = 1.0

    def inner(rho, k):
        f = [lambda t: t * math.tanh(rho * t), lambda t: math.tanh(rho * t) ** 2,
             lambda t: t * t * math.tanh(rho * t) ** 2][k]
        return integrate.quad(lambda t: f(t) * math.exp(-t * t / 2), -12, 12, epsabs=1e-14,
                              epsrel=1e-12)[0] / math.sqrt(2 * math.pi)
    m2 = integrate.quad(lambda r: norm * r * math.exp(-r * r / 2) * inner(r, 0) ** 2, 0, 14,
                        epsabs=1e-14, epsrel=1e-11)[0]
    f2x2 = integrate.quad(lambda r: norm * r * math.exp(-r * r / 2) * (inner(r, 2) + inner(r, 1)),
                          0, 14, epsabs=1e-14, epsrel=1e-11)[0]
    assert abs(float(e.m2.mid()) - m2) < 1e-9 and abs(float(e.f2x2.mid()) - f2x2) < 1e-9


@pytest.mark.slow
def test_tanh_enclosure_contains_mpmath_50_digits():
    """E|m_f|^2 for tanh at d = 1 (r = |N(0, 1)|): nested mpmath Gauss-Legendre at 52 digits
    (|t|, r <= 17: Gaussian tails below 10^-60)."""
    e = single_index_enclosure(parse_link("tanh(s)"), 1, digits=30)
    with mpmath.workdps(52):
        def A(rho):
            return 2 * mpmath.quad(lambda t: t * mpmath.tanh(rho * t) * mpmath.npdf(t), [0, 4, 8, 17],
                                   method="gauss-legendre")
        ref = mpmath.quad(lambda r: 2 * mpmath.npdf(r) * A(r) ** 2, [0, 1, 4, 9, 17],
                          method="gauss-legendre")
        text = mpmath.nstr(ref, 48)
    assert _contains(e.m2, sp.Rational(text))
    assert not _contains(e.m2, sp.Rational(text) * (1 + sp.Rational(1, 10**28)))


def test_even_link_has_exactly_zero_m2():
    e = single_index_enclosure(parse_link("exp(-s^2)"), 2, digits=15)
    assert e.m2 == 0 and e.f2 > 0


def test_growth_bounds():
    b_large, b_small = growth_bounds(parse_link("tanh(s) + relu(s)"))
    assert [float(x.mid()) for x in b_large] == [1.0, 1.0]     # |g| <= 1 + |s|
    assert [float(x.mid()) for x in b_small] == [0.0, 2.0]     # |g| <= 2 |s|
    assert float(growth_bounds(parse_link("exp(-s^2 + 2*s)"))[0][0].mid()) == pytest.approx(math.e)
    with pytest.raises(UnsupportedLink):
        growth_bounds(parse_link("exp(s^2)"))


def test_kink_away_from_zero_is_enclosed():
    r = theorem3_optimum(Task(d=2, n=10, noise="1/4",
                              response=Response("single-index", link="relu(s - 1/2)")))
    assert r.route == "enclosure" and r.strength == "enclosure"
    assert r.hypotheses.relation == "extends"
    eta = r.eta_ball(10, sp.Rational(1, 4))
    lo, hi = outward_decimals(eta)
    assert sp.Rational(lo) < sp.Rational(hi) and sp.Rational(hi) - sp.Rational(lo) < sp.Rational(1, 10**25)


def test_rendering_rounds_outward_and_shows_correct_digits():
    old = ctx.prec
    try:
        ctx.dps = 50
        x = arb(1) / 3 + arb(0, arb(10) ** -30)
        lo, hi = outward_decimals(x, 35)
        interval = ball_interval(x)
        assert sp.Rational(lo) <= interval.start and interval.end <= sp.Rational(hi)
        assert correct_decimal(x) == "0." + "3" * 29
        assert correct_decimal(arb(1) / 4 + arb(0, arb(10) ** -30)) == "0.25" + "0" * 27
    finally:
        ctx.prec = old


def test_irrational_kinks_against_scipy():
    """relu(s^2 - 2) + s/2 has kinks at +-sqrt(2): the enclosure isolates them in exact dyadic
    intervals; the value is checked against scipy (double precision) with the kinks as points."""
    text = "relu(s^2 - 2) + s/2"
    e = single_index_enclosure(parse_link(text), 2, digits=15)
    assert e.correct_digits() >= 15

    def g(v):
        return max(v * v - 2, 0.0) + v / 2

    def inner(rho, k):
        pts = [-math.sqrt(2) / rho, 0.0, math.sqrt(2) / rho]
        pts = [p for p in pts if abs(p) < 12]
        f = [lambda t: t * g(rho * t), lambda t: g(rho * t) ** 2][k]
        return integrate.quad(lambda t: f(t) * math.exp(-t * t / 2), -12, 12, points=pts,
                              epsabs=1e-14, epsrel=1e-12, limit=400)[0] / math.sqrt(2 * math.pi)
    m2 = integrate.quad(lambda r: r * math.exp(-r * r / 2) * inner(r, 0) ** 2, 0, 14,
                        epsabs=1e-13, epsrel=1e-11, limit=200)[0]
    f2 = integrate.quad(lambda r: r * math.exp(-r * r / 2) * inner(r, 1), 0, 14,
                        epsabs=1e-13, epsrel=1e-11, limit=200)[0]
    assert abs(float(e.m2.mid()) - m2) < 1e-8 * max(1, m2)
    assert abs(float(e.f2.mid()) - f2) < 1e-8 * max(1, f2)
