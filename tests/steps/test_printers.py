"""The one LaTeX printer and the one text printer over the tree (and SymPy leaves)."""

import pytest

from derivations.alld.canonical import Canonical
from derivations.notation.latex import LINE_WIDTH, display_lines, latex, name_tex, visible_width
from derivations.notation.parse import parse_claim, parse_expression
from derivations.notation.text import text
from derivations.notation.to_tensor import Bridge

from .scopes import general_scope

S = general_scope()

LATEX = {
    "Sigma * Omega^T": r"\Sigma \Omega^\top",
    "inv(Sigma)": r"\Sigma^{-1}",
    "inv(A * B)": r"\left(A B\right)^{-1}",
    "(A + B)^T": r"\left(A + B\right)^\top",
    "x^T * A * x": r"x^\top A x",
    "tr(A * Sigma)": r"\operatorname{tr}\left(A \Sigma\right)",
    "E[x * x^T]": r"\mathbb{E}\left[x x^\top\right]",
    "avg(x_i * x_i^T)": r"\frac{1}{n}\sum_{i=1}^{n} x_{i} x_{i}^\top",
    "(n + 1) / n * A": r"\frac{n + 1}{n} A",
    "s2 * I": r"\sigma^2 I",
    "s2^2": r"\sigma^{4}",
    "A^3": r"A^{3}",
    "2 * 3": r"2 \cdot 3",
    "A - B": r"A - B",
    "-(A + B)": r"-\left(A + B\right)",
    "eps_q * w": r"\varepsilon_{q} w",
    "x^T^T": r"{x^\top}^\top",
}


@pytest.mark.parametrize("source", list(LATEX))
def test_latex_of_each_construct(source):
    assert latex(parse_expression(source, S)) == LATEX[source]


def test_relations_are_typeset_as_mathematics():
    assert latex(parse_claim("E[g * g^T] succeq 0", S)).endswith(r"\succeq 0")
    assert latex(parse_claim("E[g * g^T] succ 0", S)).endswith(r"\succ 0")


def test_nested_averages_use_their_own_index():
    out = latex(parse_expression("avg(x_i * avg(x_i^T))", S))
    assert out == r"\frac{1}{n}\sum_{i=1}^{n} x_{i} \frac{1}{n}\sum_{j=1}^{n} x_{j}^\top"


@pytest.mark.parametrize("name, tex", [
    ("Sigma", r"\Sigma"), ("eps_i", r"\varepsilon_{i}"), ("what_D", r"\hat{w}_{D}"),
    ("eta_onestep", r"\eta_{\mathrm{onestep}}"), ("Lstar", r"L^{\star}"), ("Xty", r"\mathrm{Xty}"),
    ("x2", "x_{2}"), ("x_q", "x_{q}"), ("s2", r"\sigma^2"),
])
def test_names(name, tex):
    assert name_tex(name) == tex


def test_definitions_print_as_their_name_not_their_body():
    assert text(parse_expression("g * g^T", S)) == "g * g^T"
    assert latex(parse_expression("g * g^T", S)) == r"g g^\top"


ENGINE = ["E[S * A * S]", "E[x * x^T * A * x * x^T]", "E[g * g^T]", "E[(x^T * A * x) * u * u^T]",
          "inv(2 * A * R^T)", "E[(u^T * x)^2] * A"]


@pytest.mark.parametrize("source", ENGINE)
def test_the_engines_results_print_in_the_input_syntax(source):
    """text(engine form) parses back, and denotes the same matrix (canonical forms equal)."""
    node = parse_expression(source, S)
    form = Canonical.of(Bridge(S).tensor(node))
    printed = text(form.to_sympy())
    again = Canonical.of(Bridge(S).tensor(parse_expression(printed, S)))
    assert again == form, printed
    assert "Sum(" not in printed and "**" not in printed
    assert latex(form.to_sympy())


def test_long_claims_are_broken_between_terms():
    node = parse_claim("E[S * A * S] = Sigma * A * Sigma + Sigma * A^T * Sigma / n + tr(A * Sigma) "
                       "* Sigma / n + Sigma * Omega * Sigma + Omega * Sigma * Omega + A * B * A + tr(A * B * Sigma) * "
                       "Omega * inv(Sigma) + tr(Omega * Sigma * B) * Sigma * Omega * Sigma * Omega + R * R^T * R", S)
    lines = display_lines(node.lhs, node.rel, node.rhs)
    assert len(lines) > 1
    assert all(line.count("&") == 1 for line in lines)
    assert all(visible_width(line) <= LINE_WIDTH + 20 for line in lines)
    assert lines[0].startswith(r"\mathbb{E}") and "&=" in lines[0]


def test_a_second_superscript_gets_braces():
    """x' and L^star already carry a superscript: ^T, ^k, ^{-1} must not double it."""
    from derivations.notation.scope import Scope

    s = Scope.build(vectors={"xprime_q": "N(0, I)"}, matrices={"Lstar": "general"})
    assert latex(parse_expression("xprime_q^T * Lstar^T * Lstar^2 * inv(Lstar)", s)) == \
        r"{x'_{q}}^\top {L^{\star}}^\top {L^{\star}}^{2} \left(L^{\star}\right)^{-1}"
