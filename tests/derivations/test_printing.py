"""The one pair of printers (derivations.printing): SymPy objects, statement trees, relations and
rich words to LaTeX and text. Expected strings are written out by hand."""

import sympy as sp

from derivations.printing import escape, latex, latex_words, text, text_words, value_lines
from derivations.proof import Relation, Step
from derivations.statements import expression, statement
from derivations.symbols import n, s2


def test_pinned_notation():
    assert latex(n / (n + s2 + 2)) == r"\frac{n}{n + \sigma^2 + 2}"
    assert latex(s2**2) == r"\sigma^{4}"
    d = sp.Symbol("d", integer=True, positive=True)
    Sigma, Omega = sp.MatrixSymbol("Sigma", d, d), sp.MatrixSymbol("Omega", d, d)
    assert latex(Sigma * Omega) == r"\Sigma \Omega"
    assert latex(sp.Identity(d)) == "I"
    assert latex(Sigma.T) == r"\Sigma^\top"
    assert latex(Sigma.I) == r"\Sigma^{-1}"


def test_parameter_names():
    for name, tex in (("ux1", "u_{x,1}"), ("uy", "u_{y}"), ("A_12", "A_{12}"), ("t0_x2", "x_{1,2}"),
                      ("t_q1", "x_{q,1}"), ("gamma_21", r"\Gamma_{21}")):
        assert latex(sp.Symbol(name)) == tex


def test_floats_are_never_turned_into_fractions():
    assert "frac" not in latex(sp.Float("0.25"))


def test_relations_and_statement_trees():
    rel = Relation(sp.Symbol("eta"), "=", n / (n + 3 + s2))
    assert latex(rel) == r"\eta = \frac{n}{n + \sigma^2 + 3}"
    assert text(rel) == "eta = n/(n + s2 + 3)"
    reduction = statement("h^T * W_V * z * (W_K * z)^T * W_Q * z_q = (u^T * z) * (z^T * M * x_q)")
    assert latex(reduction) == (r"\left(h^\top W^{V} z\right)\left(\left(W^{K} z\right)^\top W^{Q} z_{q}\right)"
                                r" = \left(u^\top z\right)\left(z^\top M x_{q}\right)")
    assert latex(statement("u = W_V^T * h")) == r"u = W^{V\top} h"
    assert latex(statement("C succ 0")) == r"C \succ 0"


def test_rich_words():
    words = ("the step size ", expression("etastar"), " of 100% & more_x")
    assert latex_words(words) == r"the step size $\eta^{\star}$ of 100\% \& more\_x"
    assert text_words(words) == "the step size etastar of 100% & more_x"
    assert escape("a^b~c") == r"a\textasciicircum{}b\textasciitilde{}c"


def test_value_lines_matrix_and_long_fraction():
    g = sp.Matrix([[sp.Rational(1, 2), 0], [0, n / (n + 3)]])
    assert value_lines(r"\Gamma^\star", g) == [
        r"\Gamma^\star &= \begin{pmatrix}\frac{1}{2} & 0\\0 & \frac{n}{n + 3}\end{pmatrix}"]
    big = sum(sp.Symbol(f"a{k}") * n**k for k in range(25)) / (n + s2 + 1)
    lines = value_lines("L^\\star", big)
    assert lines[0].startswith(r"L^\star &= \frac{N}{D}") and any(line.startswith("N &=") for line in lines)
    assert all(line.count("&") == 1 for line in lines)


def test_step_str_uses_the_text_printer():
    step = Step.checked("k", "Normal equations", ("the claimed ", expression("Gammastar"), " solves"), True,
                        "why", "how", display=(statement("Gammastar * C = B"),))
    assert "Gammastar * C = B" in str(step) and "[ok] Normal equations: the claimed Gammastar solves" in str(step)
