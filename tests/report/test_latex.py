"""The LaTeX printer and text helpers of verify.report (no TeX needed)."""

import sympy as sp

from derivations.proof import Derivation, Step
from derivations.symbols import n, s2
from verify.report import latex as L
from verify.report.steps import step_tex, summary_tex


def test_pinned_notation():
    assert L.latex(n / (n + s2 + 2)) == r"\frac{n}{n + \sigma^2 + 2}"
    assert L.latex(s2**2) == r"\sigma^{4}"
    assert L.latex(sp.Symbol("Gamma*")) == r"\Gamma^\star"
    assert L.latex(sp.Symbol("eta*")) == r"\eta^\star"
    d = sp.Symbol("d", integer=True, positive=True)
    Sigma, Omega = sp.MatrixSymbol("Sigma", d, d), sp.MatrixSymbol("Omega", d, d)
    assert L.latex(Sigma * Omega) == r"\Sigma \Omega"
    assert L.latex(sp.Identity(d)) == "I"
    assert L.latex(Sigma.T) == r"\Sigma^\top"
    assert L.latex(Sigma.I) == r"\Sigma^{-1}"


def test_rationals_and_no_float_noise():
    assert L.latex(sp.Rational(3, 7)) == r"\frac{3}{7}"
    assert L.latex(sp.Float(0.25)) == r"\frac{1}{4}"
    assert "0.1000000" not in L.latex(sp.Float(0.1) * n)


def test_placeholders_and_raw_names():
    assert L.latex(sp.Symbol("t0_x2")) == "x_{1,2}"
    assert L.latex(sp.Symbol("t_q1")) == "x_{q,1}"
    assert L.latex(sp.Symbol("A_12")) == "A_{12}"
    raw = L.latex(sp.Symbol(r"\mathbb{E}[(y_i^2 x_q) \otimes target y_q]"))
    assert r"\text{target}" in raw and r"\mathbb{E}" in raw


def test_long_sums_are_broken_into_lines():
    expr = sum(sp.Symbol(f"a{k}") * n**k for k in range(30))
    lines = L.lines(expr)
    assert len(lines) > 2
    assert all(L.width(line) <= L.LINE_WIDTH + 12 for line in lines)
    body = L.relation_lines(sp.Symbol("L*"), "=", expr)
    assert body[0].startswith(r"L^\star &=") and all(b.startswith("&") for b in body[1:])


def test_matrices_pmatrix_or_entrywise():
    small = sp.Matrix([[1, sp.Rational(1, 2)], [0, n]])
    assert L.relation_lines(sp.Symbol("C"), "=", small)[0].count("pmatrix") == 2
    big = sp.Matrix(2, 2, lambda i, j: (n + i + 7 * j + s2) ** 3 / (5 * n**2 + 3 * s2 + 11))
    body = L.relation_lines(sp.Symbol("Gamma*"), "=", big)
    assert len(body) >= 4 and body[0].startswith(r"\Gamma^\star_{11}")


def test_large_expressions_are_summarised():
    xs = sp.symbols("x0:12")
    big = sp.expand(sum(xs) ** 3)
    assert not L.renderable(big)
    step = Step.identity("big", "Big identity", big, big, justification="expand")
    text = summary_tex(step)
    assert "12 variables" in text and "364 terms" in text and "verified exactly" in text


def test_prose_is_escaped_and_typeset():
    out = L.text("x_q^T Gamma* g; 100% & $5 ~ a|b, s2 >= 0, expected_loss, W^V^T h")
    assert r"$x_{q}^{\top}$" in out and r"$\Gamma^{\star}$" in out
    assert r"\%" in out and r"\&" in out and r"\textdollar{}" in out and "$\\ge$" in out
    assert r"expected\_loss" in out and "$$" not in out


def test_refuted_step_stands_out():
    bad = Step.identity(
        "eta", "Step size", lhs=n / (n + 2 + s2), rhs=n / (n + 3 + s2), justification="claimed"
    )
    assert bad.status == "refuted"
    tex = step_tex(bad, 1, "eq:t:eta")
    assert (
        r"\onesteprefuted" in tex and "This step is REFUTED" in tex and r"\label{eq:t:eta}" in tex
    )
    assert not Derivation("toy", [bad]).holds
