"""User values are never evaluated and never silently inexact (Python API).

Every public function that takes a user value parses text with the whitelist parser and
refuses floats; the hostile texts below would run a shell command if anything called
``eval``/``sympify`` on them.
"""

import math
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations import GaussianVector, Step, Task, check_claim, context_moment, expectation, expected_loss
from derivations.errors import ExactInputError, InputError, ParseError
from derivations.exact import as_exact, exact_equal
from derivations.positivity import certify_positive, certify_positive_definite
from derivations.symbols import n, s2
from derivations.textparse import Grammar, parse


@pytest.fixture
def sentinel(tmp_path):
    path = tmp_path / "pwned"
    yield f"__import__('os').system('touch {path}')", path
    assert not path.exists(), "user text was evaluated"


def _calls(text):
    x = GaussianVector("x", 1)
    return {
        "check_claim(eta=)": lambda: check_claim(Task(d=1), eta=text),
        "check_claim(gamma=)": lambda: check_claim(Task(d=1), gamma=[[text]]),
        "Step.identity(lhs=)": lambda: Step.identity("k", "t", text, 1, ""),
        "Step.identity(rhs=)": lambda: Step.identity("k", "t", 1, text, ""),
        "expected_loss(u=)": lambda: expected_loss(Task(d=1), u=[text, 1]),
        "expected_loss(M=)": lambda: expected_loss(Task(d=1), u=[0, 1], M=[[text], [0]]),
        "GaussianVector(cov=)": lambda: GaussianVector("z", 1, [[text]]),
        "expectation(expr)": lambda: expectation(text, [x]),
        "context_moment(factors)": lambda: context_moment([text], [x]),
        "certify_positive": lambda: certify_positive(text),
        "certify_positive_definite": lambda: certify_positive_definite([[text]]),
        "as_exact": lambda: as_exact(text, "value", names={"n": n}),
    }


@pytest.mark.parametrize("name", list(_calls("")))
def test_hostile_text_is_refused_not_evaluated(sentinel, name):
    text, _ = sentinel
    with pytest.raises(InputError):
        _calls(text)[name]()


@pytest.mark.parametrize("value", [0.64, 0.1, float("nan"), float("inf"), -0.0])
def test_floats_are_refused_by_exact_functions(value):
    with pytest.raises(ExactInputError):
        check_claim(Task(d=1, n=4, noise=0), eta=value)
    with pytest.raises(ExactInputError):
        Step.identity("k", "t", value, value, "")
    with pytest.raises(ExactInputError):
        expected_loss(Task(d=1), u=[value, 1])


def test_float_messages_are_clear():
    with pytest.raises(ExactInputError, match=r"eta: nan is not a finite number"):
        check_claim(Task(d=1), eta=float("nan"))
    with pytest.raises(ExactInputError, match=r"0.64 is a float.*'16/25'"):
        check_claim(Task(d=1), eta=0.64)


def test_float_inside_sympy_is_refused():
    with pytest.raises(ExactInputError, match="float"):
        check_claim(Task(d=1), eta=sp.Float("0.5") * n)
    with pytest.raises(ExactInputError, match="float"):
        Step.identity("k", "t", sp.Float("0.1"), sp.Rational(1, 10), "")


def test_exact_text_claims_work_both_ways():
    # Theorem 1 at d = 2: eta* = n/(n + 3 + s2) (true), n/(n + 2 + s2) (false, off by one)
    assert check_claim(Task(d=2), eta="n/(n + d + 1 + s2)").holds
    assert not check_claim(Task(d=2), eta="n/(n + d + s2)").holds
    assert check_claim(Task(d=1, n=4, noise="1/4"), eta="16/25").holds      # 4/(4 + 2 + 1/4) = 16/25
    assert not check_claim(Task(d=1, n=4, noise="1/4"), eta="16/26").holds
    assert check_claim(Task(d=1, n=4, noise="1/4"), eta=Fraction(16, 25)).holds


def test_claim_text_means_the_tasks_own_n_and_s2():
    """Near miss guard: with n = 4, s2 = 1/4 fixed, "n/(n + 2 + s2)" is the number 16/25."""
    assert check_claim(Task(d=1, n=4, noise="1/4"), eta="n/(n + 2 + s2)").holds
    assert not check_claim(Task(d=1, n=4, noise="1/4"), eta="n/(n + 1 + s2)").holds


def test_theorem2_claim_in_the_papers_form():
    task = Task(d=2, covariance=[[2, 1], [1, 2]], prior="inverse-covariance")
    v = check_claim(task, eta="n/(n + d + 1 + s2)", form="preconditioned-gd")
    assert v.holds and "Sigma^-1" in v.reason
    # the same scalar read as eta I is false (Sigma is not a multiple of I)
    assert not check_claim(task, eta="n/(n + d + 1 + s2)").holds
    with pytest.raises(ExactInputError, match="form"):
        check_claim(task, eta=1, form="newton")


def test_step_identity_with_exact_values():
    assert Step.identity("k", "t", Fraction(1, 10), "1/10", "").proved
    assert Step.identity("k", "t", 1, "2/3", "").status == "refuted"


def test_decimals_refused_in_exact_text():
    with pytest.raises(ParseError, match="decimal"):
        as_exact("0.64", "eta")


@pytest.mark.parametrize("text,fragment", [
    ("١/٤", "non-ASCII digit"), ("２*n", "non-ASCII digit"), ("1/(n - n)", "division by zero"),
    ("(" * 100 + "1" + ")" * 100, "nesting"), ("n**99", "exponent"), ("n.__class__", "character"),
    ("x" * 3000, "longer than"), ("", "empty"), ("1" * 100, "digits"),
])
def test_parser_refusals(text, fragment):
    with pytest.raises(ParseError, match=fragment):
        as_exact(text, "eta", names={"n": n})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("0123456789ns2+-*/^().  _x") + ["**", "١", "\n", "s2", "n"]),
                max_size=30).map("".join))
def test_parser_promise(text):
    """Any text: an exact SymPy value, or a ParseError -- never another exception."""
    try:
        value = parse(text, "f", Grammar(names={"n": n, "s2": s2}))
    except ParseError as err:
        assert "\n" not in str(err).replace("'\\n'", "")
        return
    assert isinstance(value, sp.Expr) and not value.has(sp.Float)
    assert not value.has(sp.zoo, sp.nan)


def test_exact_equal_rejects_text():
    with pytest.raises(ExactInputError):
        exact_equal("1", 1)
    assert exact_equal(sp.Integer(1), Fraction(2, 2))
    assert not math.isnan(1.0)
