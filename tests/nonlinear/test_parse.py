import pytest
import sympy as sp

from derivations.nonlinear.parse import ParseError, S, parse_expression, parse_link, relu
from derivations.task import TaskError


def test_decimals_are_exact():
    assert parse_link("0.5*s + s^3/3") == S / 2 + S**3 / 3
    assert parse_link("relu(s)").func is relu


@pytest.mark.parametrize("text, fragment", [
    ("s.__class__", "unexpected character '.'"),
    ("__class__", "unknown name '__class__'"),
    ("__import__('os')", "unexpected character"),
    ("import os", "unknown name 'import'"),
    ("lambda: 1", "unexpected character ':'"),
    ("s" + "+s" * 1500, "longer than"),
    ("(" * 60 + "s" + ")" * 60, "nesting deeper"),
    ("s**99999", "exponent must be an integer"),
    ("((s^12)^12)^12", "degree above"),
    ("foo(s)", "unknown name 'foo'"),
    ("(s+1", "expected ')'"),
    ("s)", "unexpected ')'"),
    ("", "empty expression"),
    ("1/0", "division by zero"),
    ("1/s", "division by a non-constant"),
])
def test_hostile_input_rejected_with_one_line(text, fragment):
    with pytest.raises(ParseError) as info:
        parse_link(text)
    message = str(info.value)
    assert message.startswith("response.link: ") and fragment in message and "\n" not in message
    assert isinstance(info.value, TaskError)


def test_expression_names():
    x1, w1 = sp.Symbol("x1", real=True), sp.Symbol("w1", real=True)
    assert parse_expression("w1*x1 + s", 1) == w1 * x1 + S
    with pytest.raises(ParseError, match="response.expr: unknown name 'x3'"):
        parse_expression("x3", 2)
