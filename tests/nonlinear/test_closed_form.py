"""Closed-form Theorem 3 moments against independent references.

References written here, not in derivations: published hand derivations (relu, leaky relu,
sin), scipy nested quadrature in double precision (E[f^2 |x|^2] through the K-formula
E_r[K + (d - 1) J], a different route from the product's |w|^2 exchange), mpmath at 30 digits
(slow), numpy Monte Carlo, and, for general covariances, Monte Carlo of E[m m^T] from pairs
of covariates sharing w. Each family has a near-miss: the closed form perturbed by one part
in 10^6 must be refuted by the same comparison.
"""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import integrate

from derivations.exact import exact_equal
from derivations.nonlinear import parse_link, theorem3_optimum
from derivations.nonlinear.closed_form import general_moments, isotropic_moments
from derivations.nonlinear.expoly import NoClosedForm, split_link
from derivations.symbols import n, s2
from derivations.task import Response, Task

D = sp.Symbol("d", positive=True, integer=True)


# --- published facts (the paper and its closed forms), symbolic d ----------------------------------------

def test_relu_eta_every_d():
    m = isotropic_moments(parse_link("relu(s)"), D)
    eta = n * m.m2 / (m.f2x2 + D * s2 + (n - 1) * m.m2)
    assert exact_equal(eta, n / (n + 2 * D + 3 + 4 * s2))
    assert not exact_equal(eta, n / (n + 2 * D + 4 + 4 * s2))       # near miss refuted


@pytest.mark.parametrize("a", [sp.Rational(1, 2), sp.Rational(-1, 3), sp.Rational(1, 10)])
def test_leaky_relu_every_d(a):
    m = isotropic_moments(parse_link(f"relu(s) - ({a})*relu(-s)"), D)
    assert exact_equal(m.m2, D * (1 + a) ** 2 / 4)
    assert exact_equal(m.f2x2, (1 + a**2) * D * (D + 2) / 2)
    assert not exact_equal(m.m2, D * (1 + a) ** 2 / 2)


def test_sin_every_d():
    m = isotropic_moments(parse_link("sin(s)"), D)
    for k in range(1, 7):      # powers 3^(d/2), 5^(d/2): compare exactly at each d
        assert exact_equal(m.m2.subs(D, k), k * sp.Integer(3) ** (-sp.Rational(k, 2) - 1))
        assert exact_equal(m.f2x2.subs(D, k),
                           sp.Rational(k, 2) * (1 - sp.Integer(5) ** (-sp.Rational(k, 2) - 1)))
        assert not exact_equal(m.m2.subs(D, k), k * sp.Integer(3) ** (-sp.Rational(k, 2)))


@pytest.mark.parametrize("link", ["cos(s)", "abs(s)", "s^2", "relu(s) + relu(-s)", "exp(-s/3) + exp(s/3)"])
def test_even_links_give_eta_zero(link):
    r = theorem3_optimum(Task(d=2, response=Response("single-index", link=link)))
    assert r.form == "gd" and r.eta == 0


def test_two_layer_relu_is_width_times_relu():
    r = theorem3_optimum(Task(d=2, response=Response("two-layer-relu", width=3)))
    # E|m|^2 = 3 d / 4, E[f^2 |x|^2] = 3 d (d + 2) / 2 at d = 2
    assert exact_equal(r.eta, n * sp.Rational(3, 2) / (12 + 2 * s2 + (n - 1) * sp.Rational(3, 2)))
    assert r.hypotheses.relation == "confirms"       # a_j -> -a_j: p(f) = p(-f)


def test_outside_the_class_is_refused_with_a_reason():
    for text, words in (("tanh(s)", "tanh"), ("relu(s - 1/2)", "kink at s != 0"),
                        ("relu(s)*sin(s)", "kink at s = 0"), ("exp(s)*sin(s)", "mixes")):
        with pytest.raises(NoClosedForm, match=words):
            P, Q = split_link(parse_link(text))
            isotropic_moments(parse_link(text), 2)


def test_no_float_in_closed_forms():
    for text in ("sin(s)", "relu(s) + s^2", "exp(s/4)", "sin(2*s + 1)", "s*cos(s)"):
        m = isotropic_moments(parse_link(text), 3)
        for v in (m.m2, m.f2x2, m.f2):
            assert not v.has(sp.Float)


# --- scipy nested quadrature (double precision) --------------------------------------------------

def _scipy_moments(g, d, c=1.0, kinks=()):
    """E_r[A^2], E_r[K + (d - 1) J], E_r[J] by nested scipy quad."""
    norm = 1 / (2 ** (d / 2 - 1) * math.gamma(d / 2))

    def inner(rho, k):
        f = [lambda t: t * g(rho * t), lambda t: g(rho * t) ** 2,
             lambda t: t * t * g(rho * t) ** 2][k]
        pts = sorted({0.0} | {kk / rho for kk in kinks if abs(kk / rho) < 12})
        val = integrate.quad(lambda t: f(t) * math.exp(-t * t / 2), -12, 12, points=pts,
                             epsabs=1e-14, epsrel=1e-12, limit=400)[0]
        return val / math.sqrt(2 * math.pi)

    def outer(fn):
        return integrate.quad(lambda r: norm * r ** (d - 1) * math.exp(-r * r / 2)
                              * fn(math.sqrt(c) * r), 0, 14, epsabs=1e-14, epsrel=1e-11,
                              limit=400)[0]
    return (outer(lambda p: inner(p, 0) ** 2),
            outer(lambda p: inner(p, 2) + (d - 1) * inner(p, 1)),
            outer(lambda p: inner(p, 1)))


SCIPY = {
    "relu(s)": lambda v: max(v, 0.0),
    "relu(s) - relu(-s)/3": lambda v: v if v > 0 else v / 3,
    "abs(s) + s": lambda v: abs(v) + v,
    "relu(s)^2 - s": lambda v: max(v, 0.0) ** 2 - v,
    "sign(s) + s/2": lambda v: float(np.sign(v)) + v / 2,
    "sin(s)": math.sin,
    "s*cos(s)": lambda v: v * math.cos(v),
    "sin(2*s + 1)": lambda v: math.sin(2 * v + 1),
    "exp(s/5)": lambda v: math.exp(v / 5),
    "relu(s) + s^2": lambda v: max(v, 0.0) + v * v,
}


@pytest.mark.parametrize("text", list(SCIPY))
@pytest.mark.parametrize("d", [1, 3])
def test_closed_forms_against_scipy(text, d):
    m = isotropic_moments(parse_link(text), d)
    ref = _scipy_moments(SCIPY[text], d)
    for exact, want in zip((m.m2, m.f2x2, m.f2), ref, strict=True):
        value = float(exact)
        tol = 1e-8 * max(1.0, abs(want))
        assert abs(value - want) <= tol
        # near miss: one part in 10^6 off must be refuted by the same comparison
        if abs(want) > 1e-3:
            assert abs(value * (1 + 1e-6) - want) > tol


def test_closed_form_prior_scale_against_scipy():
    m = isotropic_moments(parse_link("sin(s)"), 2, sp.Rational(3, 2))
    ref = _scipy_moments(math.sin, 2, 1.5)
    for exact, want in zip((m.m2, m.f2x2, m.f2), ref, strict=True):
        assert abs(float(exact) - want) <= 1e-8 * max(1.0, abs(want))


def _mpmath_moments(g, d, dps, odd):
    """E_r[A^2] and E_r[r^2 J] by nested mpmath Gauss-Legendre quadrature at ``dps`` digits
    (|t|, r <= 13: the Gaussian tails beyond are below 10^-36)."""
    with mpmath.workdps(dps):
        norm = 1 / (2 ** (mpmath.mpf(d) / 2 - 1) * mpmath.gamma(mpmath.mpf(d) / 2))
        pts = [0, 4, 8, 13] if odd else [-13, -8, -4, 0, 4, 8, 13]
        scale = 2 if odd else 1

        def inner(rho, f):
            return scale * mpmath.quad(lambda t: f(t, rho) * mpmath.npdf(t), pts, method="gauss-legendre")

        def outer(h):
            return mpmath.quad(lambda r: norm * r ** (d - 1) * mpmath.exp(-r * r / 2) * h(r),
                               [0, 2, 4, 7, 13], method="gauss-legendre")
        m2 = outer(lambda r: inner(r, lambda t, rho: t * g(rho * t)) ** 2)
        f2x2 = outer(lambda r: r * r * inner(r, lambda t, rho: g(rho * t) ** 2))
        return m2, f2x2


@pytest.mark.slow
@pytest.mark.parametrize("text", ["s*cos(s)", "relu(s) - relu(-s)/3"])
def test_closed_forms_against_mpmath_30_digits(text):
    d = 3
    g = {"relu(s) - relu(-s)/3": lambda v: v if v > 0 else v / 3,
         "s*cos(s)": lambda v: v * mpmath.cos(v)}[text]
    m = isotropic_moments(parse_link(text), d)
    m2, f2x2 = _mpmath_moments(g, d, 34, odd=text == "s*cos(s)")
    with mpmath.workdps(40):
        for ref, exact in ((m2, m.m2), (f2x2, m.f2x2)):
            value = mpmath.mpf(str(sp.N(exact, 40)))
            assert abs(ref - value) < mpmath.mpf(10) ** -30 * max(1, abs(value))
            assert abs(ref - value * (1 + mpmath.mpf(10) ** -25)) > mpmath.mpf(10) ** -30 * abs(value)


@pytest.mark.slow
@pytest.mark.parametrize("text", ["relu(s)", "sin(s)", "relu(s) - relu(-s)/3"])
def test_closed_forms_against_monte_carlo(text):
    funcs = {"sin(s)": np.sin, "relu(s)": lambda v: np.maximum(v, 0),
             "relu(s) - relu(-s)/3": lambda v: np.where(v > 0, v, v / 3)}
    link, d, samples = funcs[text], 2, 400_000
    rng = np.random.default_rng(1)
    w = rng.standard_normal((samples, d))
    x, x2 = rng.standard_normal((samples, d)), rng.standard_normal((samples, d))
    a = np.einsum("ij,ij->i", x, x2) * link((w * x).sum(1)) * link((w * x2).sum(1))
    b = link((w * x).sum(1)) ** 2 * (x**2).sum(1)
    m = isotropic_moments(parse_link(text), d)
    for exact, mc in ((m.m2, a), (m.f2x2, b)):
        assert abs(float(exact) - mc.mean()) < 4.5 * mc.std() / math.sqrt(samples)


# --- general covariances -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["relu(s)", "sin(s)", "relu(s) - relu(-s)/2"])
def test_general_route_equals_isotropic_route(text):
    """At Sigma = I, Omega = c I the general (tilted Gaussian engine) route must agree with the
    chi route: E[m m^T] = (E|m|^2 / d) I, tr E[f^2 x x^T] = E[f^2 |x|^2]."""
    c = sp.Rational(2)
    g = general_moments(parse_link(text), sp.eye(2), c * sp.eye(2))
    m = isotropic_moments(parse_link(text), 2, c)
    assert exact_equal(g.mm, m.m2 / 2 * sp.eye(2))
    assert exact_equal(g.f2xx.trace(), m.f2x2) and exact_equal(g.f2, m.f2)


def _mc_general(text, N=400_000, seed=3):
    """Monte Carlo of E[m_a m_b] (two covariates sharing w) and E[f^2 x_a x_b]."""
    Sigma = np.array([[2.0, 1.0], [1.0, 2.0]])
    Omega = np.array([[1.0, 0.0], [0.0, 3.0]])
    link = {"sin(s)": np.sin, "relu(s)": lambda v: np.maximum(v, 0)}[text]
    rng = np.random.default_rng(seed)
    L, Lw = np.linalg.cholesky(Sigma), np.linalg.cholesky(Omega)
    w = rng.standard_normal((N, 2)) @ Lw.T
    x1, x2 = rng.standard_normal((N, 2)) @ L.T, rng.standard_normal((N, 2)) @ L.T
    f1, f2 = link((w * x1).sum(1)), link((w * x2).sum(1))
    mm = {(a, b): x1[:, a] * f1 * x2[:, b] * f2 for a in range(2) for b in range(2)}
    ff = {(a, b): f1**2 * x1[:, a] * x1[:, b] for a in range(2) for b in range(2)}
    return mm, ff


def _max_z(exact_mm, exact_ff, mm, ff):
    zs = []
    for key in mm:
        for exact, est in ((exact_mm[key], mm[key]), (exact_ff[key], ff[key])):
            zs.append(abs(float(exact) - est.mean()) / (est.std() / math.sqrt(len(est))))
    return max(zs)


SIGMA_G, OMEGA_G = sp.Matrix([[2, 1], [1, 2]]), sp.Matrix([[1, 0], [0, 3]])


@pytest.mark.parametrize("text", ["sin(s)", "relu(s)"])
def test_general_moments_against_monte_carlo(text, monkeypatch):
    import derivations.nonlinear.closed_form as cf

    g = general_moments(parse_link(text), SIGMA_G, OMEGA_G)
    mm, ff = _mc_general(text)
    assert _max_z(g.mm, g.f2xx, mm, ff) < 4.5       # 8 entries; |z| < 4.5 each
    # near misses, each a plausible slip: sin drops the tilt's det(I - 2q Omega Sigma)^(-1/2),
    # relu drops the (K - J) Sigma w w^T Sigma / rho^2 term of E[f^2 x x^T]
    if text == "sin(s)":
        monkeypatch.setattr(cf, "_tilted", lambda S, O, q: (sp.Integer(1), (O.inv() - 2 * q * S).inv()))
        wrong = general_moments(parse_link(text), SIGMA_G, OMEGA_G)
        assert _max_z(wrong.mm, wrong.f2xx, mm, ff) > 4.5
    else:
        wrong_ff = g.f2 * SIGMA_G
        assert _max_z(g.mm, wrong_ff, mm, ff) > 4.5


def test_general_optimum_sin_covariance_structure():
    task = Task(d=2, covariance=[[2, 1], [1, 2]], response=Response("single-index", link="sin(s)"))
    r = theorem3_optimum(task)
    assert r.route == "closed-form-general" and r.form == "general" and r.certificate.holds
    assert r.gamma is not None and not any(x.has(sp.Float) for x in r.gamma)
    assert r.hypotheses.relation == "outside" and "Sigma is not I" in r.reason
    # Gamma* commutes with Sigma here (Sigma, B and E[f^2 x x^T] are circulant): a real check
    # that the exact matrix has the structure the symmetry predicts
    value = r.gamma.subs({n: 10, s2: sp.Rational(1, 4)})
    assert exact_equal(value[0, 0], value[1, 1]) and exact_equal(value[0, 1], value[1, 0])
