"""The whitelist parser: every construct, shapes, round trips, hostile input."""

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations.notation import tree as T
from derivations.notation.parse import (
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_LENGTH,
    parse_claim,
    parse_expression,
)
from derivations.notation.text import text
from derivations.notation.tree import NotationError, ShapeError

from .scopes import general_scope

S = general_scope()


def expr(s):
    return parse_expression(s, S)


# --- each construct: the tree it gives, and the text printer's output parses back ---------

CONSTRUCTS = {
    "2": T.NumberNode(sp.Integer(2)),
    "n": T.BuiltinNode("n"),
    "d": T.BuiltinNode("d"),
    "s2": T.BuiltinNode("s2"),
    "I": T.IdentityNode(),
    "Sigma": T.NameNode("Sigma", T.MATRIX),
    "x^T": T.TransposeNode(T.NameNode("x", T.VECTOR)),
    "A^2": T.PowNode(T.NameNode("A", T.MATRIX), 2),
    "inv(Sigma)": T.InverseNode(T.NameNode("Sigma", T.MATRIX)),
    "tr(A)": T.TraceNode(T.NameNode("A", T.MATRIX)),
    "E[x]": T.ExpectNode(T.NameNode("x", T.VECTOR)),
    "avg(x_i)": T.AvgNode(T.NameNode("x_i", T.VECTOR, "context")),
    "g": T.NameNode("g", T.VECTOR, "defined"),
    "-c": T.NegNode(T.NameNode("c", T.SCALAR)),
    "A + B": T.AddNode((T.NameNode("A", T.MATRIX), T.NameNode("B", T.MATRIX))),
    "A - B": T.AddNode((T.NameNode("A", T.MATRIX), T.NegNode(T.NameNode("B", T.MATRIX)))),
    "c * A": T.MulNode((T.NameNode("c", T.SCALAR), T.NameNode("A", T.MATRIX))),
    "A / n": T.DivNode(T.NameNode("A", T.MATRIX), T.BuiltinNode("n")),
}


@pytest.mark.parametrize("source", list(CONSTRUCTS))
def test_each_construct_parses_to_its_node_and_prints_back(source):
    node = expr(source)
    assert node == CONSTRUCTS[source]
    assert text(node) == source
    assert expr(text(node)) == node


def test_shapes():
    assert expr("x^T * A * x").shape == T.SCALAR
    assert expr("x * x^T").shape == T.MATRIX
    assert expr("x^T * A").shape == T.COVECTOR
    assert expr("A * x").shape == T.VECTOR
    assert expr("E[avg(x_i * x_i^T) * A * avg(x_i * x_i^T)]").shape == T.MATRIX
    assert expr("tr(A) * x").shape == T.VECTOR


ROUND_TRIPS = [
    "E[avg(x_i * x_i^T) * Omega * avg(x_i * x_i^T)] = ((n + 1)/n) * Sigma * Omega * Sigma + (tr(Omega * Sigma)/n) * Sigma",  # noqa: E501
    "a - (b + c) = -c",
    "A^T^2 = (A^2)^T",
    "-(A * B) + -A * B = 0 * I",
    "c / (n * d) / 2 = c * (1 / n)",
    "A * (c / n) * B = A / n * c * B",
    "(-c)^2 = c^2",
    "inv(inv(A)) * inv(A * B)^T = I",
    "E[(x^T * A * x)^2] - tr(A * Sigma)^2 succeq 0",
    "x * x^T succeq 0 * I",
    "E[g * g^T] succ 0",
    "avg(x_i * avg(x_i^T)) = avg(x_i) * avg(x_i)^T",
    "1 = 1",
]


@pytest.mark.parametrize("source", ROUND_TRIPS)
def test_claims_round_trip_through_the_text_printer(source):
    scope = general_scope()
    scope.scalars.update({k: scope.scalars["c"] for k in ("a", "b")})
    node = parse_claim(source, scope)
    again = parse_claim(text(node), scope)
    assert again == node
    assert text(again) == text(node)


def test_unary_minus_binds_tighter_than_product_but_not_power():
    assert expr("-c * c") == T.MulNode((T.NegNode(T.NameNode("c")), T.NameNode("c")))
    assert expr("-c^2") == T.NegNode(T.PowNode(T.NameNode("c"), 2))


def test_sums_and_products_flatten():
    assert expr("(A + B) + A") == expr("A + (B + A)") == expr("A + B + A")
    assert len(expr("A * (B * A)").args) == 3


def test_zero_on_one_side_of_a_relation_takes_the_other_shape():
    node = parse_claim("E[x] = 0", S)
    assert node.rhs == T.ZeroNode(T.VECTOR)
    assert text(node) == "E[x] = 0"


# --- errors: one line, with the position -------------------------------------------------

@pytest.mark.parametrize("source, message", [
    ("x * A = x", "cannot multiply a vector by a matrix at position 2"),
    ("A + x = A", "cannot add a matrix and a vector at position 2"),
    ("x = A", "the two sides differ in shape: a vector and a matrix"),
    ("tr(x) = 1", "tr needs a matrix, got a vector"),
    ("inv(x) = x", "cannot invert a vector"),
    ("A / x = A", "cannot divide by a vector"),
    ("A / tr(A) = A", "can only divide by a constant scalar"),
    ("A / (n - n) = A", "division by zero"),
    ("x^2 = x", "cannot raise a vector to a power"),
    ("Sgima = Sigma", "unknown name 'Sgima' at position 0 (declared:"),
    ("x_i = x", "x_i is a per-example quantity: use it inside avg(...)"),
    ("y_i = 1", "y_i is a per-example quantity"),
    ("x succeq x", "succeq compares scalars or matrices, not vectors"),
    ("A = ", "the right-hand side is missing"),
    ("A", "expected a relation (=, succeq, succ) but found end of text"),
    ("A = B = A", "unexpected '='"),
    ("E(x) = 0", "E must be followed by [ ... ]"),
    ("tr A = 1", "tr must be followed by ( ... )"),
    ("A^-1 = A", "negative exponents are not supported; write inv(X)"),
    (f"A^{MAX_EXPONENT + 1} = A", f"exponent must be an integer in 0..{MAX_EXPONENT}"),
    ("A^99999999999999999999 = A", "exponent must be an integer"),
    ("2 A = A", "expected a relation (=, succeq, succ) but found 'A' at position 2"),
    ("0.5 * A = A", "unexpected character '.'"),
    ("T = 1", "'T' is reserved"),
    ("", "empty claim"),
])
def test_bad_claims_name_the_problem(source, message):
    with pytest.raises(NotationError) as err:
        parse_claim(source, S, "step 'x': claim")
    assert message in str(err.value)
    assert str(err.value).startswith("step 'x': claim: ")
    assert "\n" not in str(err.value)


def test_shape_errors_are_notation_errors():
    with pytest.raises(ShapeError):
        T.MulNode((T.NameNode("x", T.VECTOR), T.NameNode("A", T.MATRIX)))
    assert issubclass(ShapeError, NotationError) and issubclass(NotationError, ValueError)


# --- hostile input: refused before anything is evaluated --------------------------------

HOSTILE = [
    ("x.__class__ = x", "unexpected character '.' at position 1"),
    ("__import__('os') = 1", "unexpected character '_' at position 0"),
    ("A.T = A", "unexpected character '.'"),
    ("eval(A) = A", "unknown name 'eval'"),
    ("A = B; import os", "unexpected character ';'"),
    ("A = `ls`", "unexpected character '`'"),
    ("A = B\x1b[31m", "unexpected character '\\x1b'"),
    ("c = \u0661/\u0664", "non-ASCII digit '\\u0661' (U+0661, ARABIC-INDIC DIGIT ONE)"),
    ("c = \uff12", "non-ASCII digit '\\uff12' (U+FF12"),
    ("c = 1\u00a0", "non-ASCII character"),
    ("A^" + "9" * 5000 + " = A", f"longer than {MAX_LENGTH} characters"),
    ("c = " + "(" * 10_000 + "c" + ")" * 10_000, f"longer than {MAX_LENGTH}"),
    ("c = " + "(" * (MAX_DEPTH + 1) + "c" + ")" * (MAX_DEPTH + 1), f"nesting deeper than {MAX_DEPTH}"),
    ("c = " + "-" * (MAX_DEPTH + 1) + "c", f"nesting deeper than {MAX_DEPTH}"),
    ("c = " + "1" * 40, "more than 30 digits"),
    ("x" * (1 << 20) + " = 1", f"longer than {MAX_LENGTH}"),
    ("E[(x^T * x)^7] = 1", "has 14 factors of the random x (at most 12)"),
    ("E[(x^T * x)^5 * (w^T * w)^4] = 1", "multiplies 18 random factors (at most 16)"),
    ("avg(x_i)^T * avg(x_i) * avg(x_i)^T * avg(x_i) * avg(x_i)^T * avg(x_i) = 1",
     "a term multiplies 6 context averages"),
    ("(A + B + Sigma + Omega + R)^8 * (A + B)^8 = A", "expands to more than"),
]


@pytest.mark.parametrize("source, message", HOSTILE)
def test_hostile_claims_are_refused_with_one_line(source, message, monkeypatch):
    import derivations.notation.to_tensor as bridge

    def fail(*args, **kwargs):                       # nothing may be evaluated
        raise AssertionError("evaluated")
    monkeypatch.setattr(bridge.Bridge, "tensor", fail)
    with pytest.raises(NotationError) as err:
        parse_claim(source, S)
    assert message in str(err.value)
    assert "\n" not in str(err.value) and len(str(err.value)) < 400


def test_non_text_is_refused():
    with pytest.raises(NotationError, match="must be text, got int"):
        parse_claim(3, S)


# --- property tests of the parser's promise ------------------------------------------------

ATOMS = ["n", "d", "s2", "2", "c", "tr(A)", "x^T * A * x", "E[x^T * x]", "tr(inv(Sigma))",
         "avg(y_i)", "w^T * u", "tr(S)"]


@st.composite
def scalar_expressions(draw, depth=0):
    if depth > 3 or draw(st.booleans()):
        return draw(st.sampled_from(ATOMS))
    op = draw(st.sampled_from(["+", "-", "*", "neg", "paren", "pow", "div"]))
    a = draw(scalar_expressions(depth=depth + 1))
    if op == "neg":
        return f"-{a}"
    if op == "paren":
        return f"({a})"
    if op == "pow":
        return f"({a})^{draw(st.integers(0, 2))}"
    if op == "div":
        return f"({a}) / {draw(st.sampled_from(['n', '2', '(n + d)', 's2 + 1']))}"
    b = draw(scalar_expressions(depth=depth + 1))
    return f"{a} {op} {b}"


@settings(max_examples=150, deadline=None)
@given(scalar_expressions(), scalar_expressions())
def test_valid_claims_parse_and_round_trip(lhs, rhs):
    node = parse_claim(f"{lhs} = {rhs}", S)
    assert node.shape == T.SCALAR
    assert parse_claim(text(node), S) == node


ALPHABET = list("()[]+-*/^=,. _'\"0123456789") + ["x", "A", "Sigma", "tr", "inv", "avg", "E", "T",
                                                  "succeq", "n", "d", "s2", "x_i", " ", "\u0661", "\n"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ALPHABET), max_size=25))
def test_any_text_parses_or_raises_the_projects_error(pieces):
    source = "".join(pieces)
    try:
        node = parse_claim(source, S)
    except NotationError as err:
        assert "\n" not in str(err)
    else:
        assert isinstance(node, T.RelationNode)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_unicode_parses_or_raises_the_projects_error(source):
    try:
        parse_claim(source, S)
    except NotationError as err:
        assert "\n" not in str(err)
