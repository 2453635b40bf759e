"""High-precision Theorem 3 moments: closed forms to 30 digits, self-consistency across
precisions, and an independent scipy / Monte Carlo check written here (not in derivations)."""

import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, special

from derivations.nonlinear import parse_link, theorem3_optimum
from derivations.nonlinear.highprec import (
    UnsupportedLink,
    decimal_string,
    single_index_moments,
    two_layer_relu_moments,
)
from derivations.task import Response, Task

TOL30 = mpmath.mpf(10) ** -30


def _chi_expect(fn, d, c, dps=40):
    """E_r[fn(rho)], rho = sqrt(c) r, r ~ chi_d, by mpmath quadrature at ``dps`` digits."""
    with mpmath.workdps(dps):
        c = mpmath.mpf(c)
        norm = 1 / (2 ** (mpmath.mpf(d) / 2 - 1) * mpmath.gamma(mpmath.mpf(d) / 2))
        return mpmath.quad(lambda r: norm * r ** (d - 1) * mpmath.exp(-r * r / 2)
                           * fn(mpmath.sqrt(c) * r), [0, 1, 3, 6, mpmath.inf])


def _close(a, b, tol=TOL30):
    return abs(a - b) <= tol * max(1, abs(b))


# --- closed forms at 30 digits ---------------------------------------------------------------

@pytest.mark.parametrize("d,c", [(1, 1), (3, 2)])
def test_relu_closed_forms_30_digits(d, c):
    mom = single_index_moments(parse_link("relu(s)"), d, c, digits=30)
    with mpmath.workdps(40):
        assert _close(mom.m2, mpmath.mpf(c * d) / 4)                  # A = rho / 2
        assert _close(mom.f2x2, mpmath.mpf(c * d * (d + 2)) / 2)      # E[r^2 rho^2 / 2]
        assert _close(mom.f2, mpmath.mpf(c * d) / 2)                  # J = rho^2 / 2
    assert mom.error <= 1e-30


def test_sin_closed_forms_30_digits():
    d, c = 2, 1
    mom = single_index_moments(parse_link("sin(s)"), d, c, digits=30)
    with mpmath.workdps(40):
        # A = rho e^{-rho^2/2}, J = (1 - e^{-2 rho^2}) / 2; rho^2 = c X, X ~ chi^2_d
        m2 = c * d * mpmath.mpf(1 + 2 * c) ** (-mpmath.mpf(d) / 2 - 1)
        f2 = (1 - mpmath.mpf(1 + 4 * c) ** (-mpmath.mpf(d) / 2)) / 2
        f2x2 = d * (1 - mpmath.mpf(1 + 4 * c) ** (-mpmath.mpf(d) / 2 - 1)) / 2
        assert _close(mom.m2, m2) and _close(mom.f2, f2) and _close(mom.f2x2, f2x2)
    assert mom.error <= 1e-30


def _erf_reference(d, c):
    # E[t erf(rho t)] = 2 rho / sqrt(pi (1 + 2 rho^2))
    # E[erf(rho t)^2] = (2/pi) asin(2 rho^2 / (1 + 2 rho^2))
    with mpmath.workdps(40):
        m2 = _chi_expect(lambda p: 4 * p**2 / (mpmath.pi * (1 + 2 * p**2)), d, c)
        f2 = _chi_expect(lambda p: 2 / mpmath.pi * mpmath.asin(2 * p**2 / (1 + 2 * p**2)), d, c)
        f2x2 = _chi_expect(lambda p: p**2 / c * 2 / mpmath.pi
                           * mpmath.asin(2 * p**2 / (1 + 2 * p**2)), d, c)
    return m2, f2x2, f2


def test_erf_closed_form_20_digits():
    mom = single_index_moments(parse_link("erf(s)"), 2, 1, digits=20)
    ref = _erf_reference(2, 1)
    for got, want in zip((mom.m2, mom.f2x2, mom.f2), ref, strict=True):
        assert _close(got, want, mpmath.mpf(10) ** -20)


@pytest.mark.slow
def test_erf_closed_form_30_digits():
    mom = single_index_moments(parse_link("erf(s)"), 1, 1, digits=30)
    ref = _erf_reference(1, 1)
    for got, want in zip((mom.m2, mom.f2x2, mom.f2), ref, strict=True):
        assert _close(got, want)


# --- tanh: no closed form; precision self-consistency --------------------------------------

def test_tanh_30_vs_40_digits():
    link = parse_link("tanh(s)")
    lo = single_index_moments(link, 1, 1, digits=30)
    hi = single_index_moments(link, 1, 1, digits=40)
    assert lo.error <= 1e-30 and hi.error <= 1e-40
    with mpmath.workdps(45):
        for name in ("m2", "f2x2", "f2"):
            assert _close(getattr(lo, name), getattr(hi, name))
    assert lo.decimal("m2").startswith("0.2524099352791570954105598391")


@pytest.mark.slow
@pytest.mark.parametrize("d", [2, 3])
def test_tanh_30_digits_error_estimate(d):
    mom = single_index_moments(parse_link("tanh(s)"), d, 1, digits=30)
    ref = single_index_moments(parse_link("tanh(s)"), d, 1, digits=38)
    assert mom.error <= 1e-30
    with mpmath.workdps(45):
        assert _close(mom.m2, ref.m2) and _close(mom.f2x2, ref.f2x2)


# --- two-layer ReLU (a_j ~ N(0, 1), v_j ~ N(0, c I)) -------------------------------------------

def test_two_layer_relu_thirty_digits():
    d, width, n, s2 = 2, 3, 10, 1
    r = theorem3_optimum(Task(d=d, n=n, noise=s2,
                              response=Response("two-layer-relu", width=width)), digits=30)
    m2, f2x2 = mpmath.mpf(width * d) / 4, mpmath.mpf(width * d * (d + 2)) / 2
    with mpmath.workdps(40):
        eta = n * m2 / (f2x2 + d * s2 + (n - 1) * m2)
        assert r.form == "gd" and _close(r.eta, eta)
    assert r.eta_error < 1e-30
    mom = two_layer_relu_moments(d, width, 1, digits=15)
    assert abs(mom.m2 - m2) < 1e-14 and abs(mom.f2x2 - f2x2) < 1e-13


# --- independent check (scipy nested quad; the K-formula for E[f^2 |x|^2]) -------------------

def _scipy_moments(g, d, c, kink=False):
    """E_r[A^2], E_r[K + (d - 1) J], E_r[J] with scipy (double precision, ~1e-9)."""
    pts = [0.0] if kink else None

    def inner(rho, k):
        f = [lambda t: t * g(rho * t), lambda t: g(rho * t) ** 2,
             lambda t: t * t * g(rho * t) ** 2][k]
        val = integrate.quad(lambda t: f(t) * math.exp(-t * t / 2), -12, 12, points=pts,
                             epsabs=1e-13, epsrel=1e-12, limit=200)[0]
        return val / math.sqrt(2 * math.pi)

    norm = 1 / (2 ** (d / 2 - 1) * math.gamma(d / 2))

    def outer(fn):
        return integrate.quad(lambda r: norm * r ** (d - 1) * math.exp(-r * r / 2)
                              * fn(math.sqrt(c) * r), 0, 13, epsabs=1e-13, epsrel=1e-11,
                              limit=200)[0]
    return (outer(lambda p: inner(p, 0) ** 2),
            outer(lambda p: inner(p, 2) + (d - 1) * inner(p, 1)),
            outer(lambda p: inner(p, 1)))


SCIPY_LINKS = {"tanh(s)": np.tanh, "erf(s)": special.erf, "sin(s)": np.sin,
               "relu(s)": lambda v: max(v, 0.0), "relu(s - 1/2) + abs(s)/3":
               lambda v: max(v - 0.5, 0.0) + abs(v) / 3}


@pytest.mark.parametrize("text", list(SCIPY_LINKS))
def test_against_scipy(text):
    d, c = 2, 1
    mom = single_index_moments(parse_link(text), d, c, digits=12)
    ref = _scipy_moments(SCIPY_LINKS[text], d, c, kink="relu" in text or "abs" in text)
    for got, want in zip((mom.m2, mom.f2x2, mom.f2), ref, strict=True):
        assert abs(float(got) - want) <= 1e-8 * max(1.0, abs(want))
    assert mom.error <= 1e-11


@pytest.mark.slow
@pytest.mark.parametrize("text", ["tanh(s)", "erf(s)", "relu(s)", "sin(s)"])
def test_against_monte_carlo(text):
    funcs = {"tanh(s)": np.tanh, "erf(s)": special.erf, "sin(s)": np.sin,
             "relu(s)": lambda v: np.maximum(v, 0)}
    link, d, samples = funcs[text], 2, 400_000
    rng = np.random.default_rng(1)
    w = rng.standard_normal((samples, d))
    x, x2 = rng.standard_normal((samples, d)), rng.standard_normal((samples, d))
    a = np.einsum("ij,ij->i", x, x2) * link((w * x).sum(1)) * link((w * x2).sum(1))
    b = link((w * x).sum(1)) ** 2 * (x**2).sum(1)
    mom = single_index_moments(parse_link(text), d, 1, digits=10)
    for got, mc in ((mom.m2, a), (mom.f2x2, b)):
        assert abs(float(got) - mc.mean()) < 4 * mc.std() / math.sqrt(samples)


# --- API details ---------------------------------------------------------------------------------

def test_even_link_has_no_linear_part_and_helpers():
    mom = single_index_moments(parse_link("cos(s)"), 1, 1, digits=15)
    assert mom.m2 == 0
    with mpmath.workdps(30):   # E[cos(rho t)^2] = (1 + e^{-2 rho^2}) / 2, rho ~ |N(0,1)|
        assert abs(mom.f2 - (1 + 1 / mpmath.sqrt(5)) / 2) < 1e-15
    assert decimal_string(mpmath.mpf(1) / 3, 1e-10, 30) == "0.333333333"


def test_unsupported_growth():
    with pytest.raises(UnsupportedLink):
        single_index_moments(parse_link("exp(s^2)"), 1, 1, digits=10)


def test_theorem3_eta_keeps_thirty_digits_end_to_end():
    """eta from theorem3_optimum (what the verifier reports) has >= 30 correct digits.

    Regression: the moments were once rescaled outside mpmath.workdps and silently rounded to
    15 digits; relu's exactly representable moments could not show it, tanh does.
    """
    import sympy as sp

    from derivations.nonlinear.parse import S

    task = Task(d=2, n=10, noise="1/4", response=Response("single-index", link="tanh(s)"))
    opt = theorem3_optimum(task)
    ref = single_index_moments(sp.tanh(S), 2, 1, digits=45)
    with mpmath.workdps(60):
        expected = 10 * ref.m2 / (ref.f2x2 + 2 * mpmath.mpf(1) / 4 + 9 * ref.m2)
        assert abs(mpmath.mpf(opt.eta_digits) - expected) < mpmath.mpf(10) ** -31
    symbolic = theorem3_optimum(Task(d=2, response=Response("single-index", link="tanh(s)")))
    coefficient = [f for f in symbolic.eta.atoms(sp.Float)]
    with mpmath.workdps(60):
        assert min(abs(mpmath.mpf(str(f)) - ref.m2) for f in coefficient) < mpmath.mpf(10) ** -31
