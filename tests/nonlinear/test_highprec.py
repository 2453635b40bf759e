import math

import mpmath
import numpy as np
import pytest
from scipy import special

from derivations.nonlinear import parse_link, theorem3_optimum
from derivations.nonlinear.highprec import single_index_moments
from derivations.task import Response, Task


@pytest.mark.slow
def test_two_layer_relu_closed_form():
    d, width, n, s2 = 2, 3, 10, 1
    r = theorem3_optimum(Task(d=d, n=n, noise=s2,
                              response=Response("two-layer-relu", width=width)), digits=8)
    m2, f2x2 = width * d / 4, width * d * (d + 2) / 2
    assert r.form == "gd"
    assert abs(float(r.eta) - n * m2 / (f2x2 + d * s2 + (n - 1) * m2)) < 1e-8
    assert r.eta_error < 1e-8


def _mc_moments(link, d, samples=400_000, seed=1):
    """Independent Monte Carlo of E|m_f|^2 (two independent x draws) and E[f^2 |x|^2]."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((samples, d))
    x, x2 = rng.standard_normal((samples, d)), rng.standard_normal((samples, d))
    a = np.einsum("ij,ij->i", x, x2) * link((w * x).sum(1)) * link((w * x2).sum(1))
    b = link((w * x).sum(1)) ** 2 * (x**2).sum(1)
    return (a.mean(), a.std() / math.sqrt(samples)), (b.mean(), b.std() / math.sqrt(samples))


LINKS = {"tanh(s)": np.tanh, "erf(s)": special.erf, "relu(s)": lambda v: np.maximum(v, 0),
         "sin(s)": np.sin}


@pytest.mark.slow
@pytest.mark.parametrize("text", ["relu(s)"])
def test_relu_link_against_monte_carlo(text):
    mom = single_index_moments(parse_link(text), 2, 1, digits=8)
    (m2, se1), (v, se2) = _mc_moments(LINKS[text], 2)
    assert abs(float(mom.m2) - m2) < 4 * se1 and abs(float(mom.f2x2) - v) < 4 * se2


@pytest.mark.slow
@pytest.mark.parametrize("text", list(LINKS))
def test_nonpolynomial_links_against_monte_carlo(text):
    mom = single_index_moments(parse_link(text), 2, 1, digits=10)
    (m2, se1), (v, se2) = _mc_moments(LINKS[text], 2)
    assert abs(float(mom.m2) - m2) < 4 * se1 and abs(float(mom.f2x2) - v) < 4 * se2


@pytest.mark.slow
def test_relu_thirty_digits():
    mom = single_index_moments(parse_link("relu(s)"), 2, 1, digits=30)
    assert abs(mom.m2 - mpmath.mpf(1) / 2) < mpmath.mpf(10) ** -30
