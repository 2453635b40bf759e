"""Task validation: every invalid field raises TaskError naming the field; valid tasks are exact."""

from fractions import Fraction

import pytest
import sympy as sp

from derivations.task import MAX_D, Response, Task, TaskError

a_free = sp.Symbol("a")                  # no positivity assumption
a_pos = sp.Symbol("a", positive=True)


def _raises(field, **kwargs):
    with pytest.raises(TaskError) as info:
        Task(**kwargs)
    message = str(info.value)
    assert message.startswith(field), f"{message!r} does not start with {field!r}"
    assert "\n" not in message, "one clear error line"
    return message


@pytest.mark.parametrize("d", [0, -1, True, False, 2.5, "2", None, MAX_D + 1])
def test_bad_d(d):
    _raises("d:", d=d)


def test_d_too_large_says_so():
    assert "too large" in _raises("d:", d=MAX_D + 1)
    Task(d=MAX_D)  # the bound itself is allowed


@pytest.mark.parametrize("n", [0, -1, 1.5, True, "5", 10**10])
def test_bad_n(n):
    _raises("n:", d=2, n=n)


@pytest.mark.parametrize("noise, words", [
    (-1, ">= 0"), ("-1/4", ">= 0"), (0.25, "float"), ("1/0", "zero"), ("abc", "not an exact"),
    (True, "boolean"), (sp.Symbol("s"), "exact number"), ([1], "exact number"),
])
def test_bad_noise(noise, words):
    assert words in _raises("noise:", d=2, noise=noise)


def test_float_noise_suggests_a_fraction():
    assert "'1/4'" in _raises("noise:", d=1, noise=0.25)


@pytest.mark.parametrize("cov, words", [
    ([[1, 2], [3, 1]], "not symmetric"),
    ([[1, 2], [2, 1]], "not positive definite"),
    ([[0, 0], [0, 1]], "not positive definite"),
    ([[-1, 0], [0, -1]], "not positive definite"),
    ([[1, 0, 0], [0, 1, 0], [0, 0, 1]], "must be 2x2"),
    ([[1, 0], [0]], "must be 2x2"),
    ([[1, 0]], "must be 2x2"),
    ([1, 0], "list of rows"),
    ("eye", "list of rows"),
    ([["abc", 0], [0, 1]], "not an exact number"),
    ([[0.5, 0], [0, 1]], "float"),
    ([[sp.Float(0.5), 0], [0, 1]], "float"),
    ([[a_free, 0], [0, 1]], "cannot establish positive definiteness"),
    ([[1, a_pos], [a_pos, 1]], "cannot establish positive definiteness"),
])
def test_bad_covariance(cov, words):
    message = _raises("covariance", d=2, covariance=cov)
    assert words in message


def test_bad_entry_is_located():
    assert "covariance[0][1]" in _raises("covariance", d=2, covariance=[[1, "x/y"], ["x/y", 1]])


@pytest.mark.parametrize("prior, words", [
    ("inverse", "prior: must be"),
    ("Identity", "prior: must be"),
    ([[1, 2], [2, 1]], "prior: not positive definite"),
    ([[1, 0], [1, 1]], "prior: not symmetric"),
    ([[1]], "prior: must be 2x2"),
])
def test_bad_prior(prior, words):
    assert words in _raises("prior", d=2, prior=prior)


@pytest.mark.parametrize("flag", ["query_in_keys", "residual"])
@pytest.mark.parametrize("value", ["yes", 1, 0, None])
def test_bad_flags(flag, value):
    _raises(f"{flag}:", d=2, **{flag: value})


def test_bad_response():
    with pytest.raises(TaskError, match=r"^response\.family:"):
        Response(family="quadratic")
    with pytest.raises(TaskError, match=r"^response\.link:"):
        Response(family="single-index")
    with pytest.raises(TaskError, match=r"^response\.width:"):
        Response(family="two-layer-relu", width=0)
    with pytest.raises(TaskError, match=r"^response\.expr:"):
        Response(family="linear", expr="x1")
    _raises("response:", d=2, response="linear")


def test_name_must_be_text():
    _raises("name:", d=2, name=3)


# --- valid tasks: exact values, the pinned symbols, the derived prior ---------------------

def test_defaults_are_theorem_1_with_symbolic_n_and_noise():
    t = Task(d=3)
    assert t.Sigma == sp.eye(3) and t.Omega == sp.eye(3)
    assert t.n == sp.Symbol("n", integer=True, positive=True)
    assert t.noise == sp.Symbol("s2", nonnegative=True)
    assert t.n_symbolic and t.noise_symbolic


@pytest.mark.parametrize("noise, value", [
    ("1/4", sp.Rational(1, 4)), (" 3 / 6 ", sp.Rational(1, 2)), (Fraction(2, 3), sp.Rational(2, 3)),
    (0, 0), (sp.Rational(5, 7), sp.Rational(5, 7)),
])
def test_exact_noise(noise, value):
    t = Task(d=1, n=7, noise=noise)
    assert t.noise == value and isinstance(t.noise, sp.Rational)
    assert t.n == 7 and isinstance(t.n, sp.Integer)


def test_inverse_covariance_prior_is_the_exact_inverse():
    sigma = [[2, 1, 0], [1, 3, 1], [0, 1, "5/2"]]
    t = Task(d=3, covariance=sigma, prior="inverse-covariance")
    assert t.Sigma * t.Omega == sp.eye(3)
    assert all(isinstance(e, sp.Rational) for e in t.Omega)


def test_symbolic_positive_covariance_is_accepted():
    t = Task(d=2, covariance=[[a_pos, 0], [0, 1]], prior="inverse-covariance")
    assert t.Omega[0, 0] == 1 / a_pos
    assert a_pos in t.parameters
