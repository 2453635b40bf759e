"""Proof steps state mathematics: displayed relations and words, never ASCII math in prose.

For the Theorem 1 certificate at d = 2 and the all-d proof of Theorem 1, every step carries its
claim as mathematical objects (a display, or rich words holding statement trees / SymPy), its
words are plain, no display is a tautology, and the key displays print to the exact LaTeX a
reader would write by hand.
"""

import pytest
import sympy as sp

from derivations import Task, global_optimum
from derivations.alld.proofs import prove
from derivations.alld.tensor import d
from derivations.exact import exact_equal
from derivations.notation.display import InnerNode, IntervalNode, OuterNode, SympyNode
from derivations.notation.tree import NotationError
from derivations.printing import latex, latex_words, text, text_words
from derivations.proof import Relation
from derivations.statements import expression, statement, task_words, words
from derivations.symbols import n, s2

#: ASCII mathematics that must never appear in a step's words
ASCII_MATH = ("^T", "(x)", "_{", "sum_i", "Gamma*", "x_q", "s2")


@pytest.fixture(scope="module")
def certificate():
    return global_optimum(Task(d=2)).certificate


@pytest.fixture(scope="module")
def certificate_general():
    """The general route (the query among the keys has no Kronecker structure)."""
    return global_optimum(Task(d=1, query_in_keys=True)).certificate


@pytest.fixture(scope="module")
def certificate_randomised():
    """The structured route at d = 5: reductions and realisability checked at random points."""
    return global_optimum(Task(d=5, n=6, noise=1)).certificate


@pytest.fixture(scope="module")
def alld():
    return prove("theorem1")


@pytest.fixture(scope="module")
def theorem3():
    from derivations.nonlinear import theorem3_optimum
    from derivations.task import Response

    return theorem3_optimum(Task(d=2, response=Response("single-index", link="relu(s)"))).certificate


@pytest.fixture(scope="module")
def theorem3_alld():
    from derivations.nonlinear.alld_single_index import prove_single_index

    return prove_single_index("relu(s)")


@pytest.fixture(scope="module")
def gd_family():
    from derivations.gd_family import gd_family_optimum

    return gd_family_optimum(Task(d=2)).derivation


DERIVATIONS = ["certificate", "certificate_general", "certificate_randomised", "alld", "theorem3",
               "theorem3_alld", "gd_family"]


def _word_strings(words_):
    if words_ is None:
        return []
    if isinstance(words_, str):
        return [words_]
    return [w for w in words_ if isinstance(w, str)]


def _math_objects(words_):
    return [] if isinstance(words_, str) else [w for w in words_ if not isinstance(w, str)]


@pytest.mark.parametrize("which", DERIVATIONS)
def test_every_step_states_mathematics(which, request):
    derivation = request.getfixturevalue(which)
    for step in derivation:
        assert step.display or _math_objects(step.statement), step.key
        for rel in step.display + step.computed:
            assert latex(rel) and text(rel), step.key


@pytest.mark.parametrize("which", DERIVATIONS)
def test_words_carry_no_ascii_math(which, request):
    derivation = request.getfixturevalue(which)
    for step in derivation:
        for part in _word_strings(step.statement) + _word_strings(step.justification):
            for bad in ASCII_MATH:
                assert bad not in part, (step.key, bad, part)
        assert "\\" not in latex_words(step.title)          # titles are plain words


@pytest.mark.parametrize("which", DERIVATIONS)
def test_no_tautological_display(which, request):
    derivation = request.getfixturevalue(which)
    for step in derivation:
        for rel in step.display:
            assert rel.rhs is None or latex(rel.lhs) != latex(rel.rhs), (step.key, latex(rel))


# --- the key displays, written out by hand -------------------------------------------------------

REDUCTION = (r"\left(h^\top W^{V} z\right)\left(\left(W^{K} z\right)^\top W^{Q} z_{q}\right) = "
             r"\left(u^\top z\right)\left(z^\top M x_{q}\right)")
REDUCTION_ALLD = (r"\frac{1}{n}\sum_{i=1}^{n} \left(h^\top W^{V} z_{i}\right)\left(\left(W^{K} z_{i}\right)^\top "
                  r"W^{Q} z_{q}\right) = \frac{1}{n}\sum_{i=1}^{n} \left(u_{x}^\top x_{i} + u_{y} y_{i}\right) "
                  r"\left(x_{i}^\top A x_{q} + y_{i} b^\top x_{q}\right)")
OPTIMAL_LOSS = r"\mathbb{E}\left[\left(x_{q}^\top \Gamma^{\star} g - y_{q}\right)^{2}\right] = L^{\star}"


def test_reduction_displays(certificate, alld):
    assert latex(certificate["reduction-paper-00"].display[0]) == REDUCTION
    assert latex(alld["reduction:paper"].display[0]) == REDUCTION_ALLD
    assert text(alld["reduction:paper"].display[0]) == (
        "avg((h^T * W_V * z_i) * ((W_K * z_i)^T * W_Q * z_q)) = "
        "avg((u_x^T * x_i + u_y * y_i) * (x_i^T * A * x_q + y_i * b^T * x_q))")


def test_normal_equations_display_and_value(alld):
    step = alld["normal-equations"]
    assert [latex(r) for r in step.display] == [r"\Gamma^{\star} C = B"]
    (gamma,) = step.computed
    assert latex(gamma.lhs) == r"\Gamma^{\star}"
    # Theorem 1: Gamma* = n / (n + d + 1 + s2) I
    assert exact_equal(gamma.rhs.args[0], n / (n + d + 1 + s2))
    assert latex(gamma) == r"\Gamma^{\star} = \frac{n}{d + n + \sigma^2 + 1} I"


def test_optimal_loss_display_and_value(alld):
    step = alld["optimal-loss"]
    assert [latex(r) for r in step.display] == [OPTIMAL_LOSS]
    (loss,) = step.computed
    # Theorem 1: L* = s2 + d (d + 1 + s2) / (n + d + 1 + s2)
    assert exact_equal(loss.rhs, s2 + d * (d + 1 + s2) / (n + d + 1 + s2))


def test_loss_quadratic_states_the_claim_and_shows_the_engine(alld):
    step = alld["loss-quadratic"]
    assert latex(step.display[0]) == (
        r"\mathbb{E}\left[\left(x_{q}^\top \Gamma g - y_{q}\right)^{2}\right] = "
        r"\operatorname{tr}\left(\Gamma C \Gamma^\top\right) - 2 \operatorname{tr}\left(\Gamma^\top B\right) "
        r"+ \mathbb{E}\left[y_{q}^{2}\right]")
    assert latex(step.display[1]) == r"\mathbb{E}\left[y_{q}^{2}\right] = d + \sigma^2"
    assert step.computed[0].rhs.has(sp.MatrixSymbol("Gamma", d, d))


def test_refuted_step_shows_what_the_engine_found():
    from derivations.alld.proofs import claims, identity, moment_steps, setting

    s = setting("theorem1")
    c = claims(s)
    step = moment_steps(s, c["C"] + identity() / n, c["B"])[0]
    assert step.status == "refuted"
    claimed, = step.display
    found, = step.computed
    assert latex(claimed.lhs) == latex(found.lhs) == r"\mathbb{E}\left[g g^\top\right]"
    assert latex(claimed.rhs) != latex(found.rhs)


# --- the printers of the display-only nodes ------------------------------------------------------

def test_tensor_and_inner_products():
    lift = InnerNode(OuterNode((expression("u"), expression("M"))), expression("F"))
    assert latex(lift) == r"\left\langle u \otimes M, F\right\rangle"
    assert text(lift) == "<u (x) M, F>"
    feature = OuterNode((expression("avg(x_i * x_i^T)"), expression("x_q")))
    assert latex(feature) == r"\left(\frac{1}{n}\sum_{i=1}^{n} x_{i} x_{i}^\top\right) \otimes x_{q}"
    assert feature.shape == "tensor"
    assert OuterNode((expression("C"), expression("Sigma"))).shape == "matrix"     # Kronecker
    with pytest.raises(NotationError):
        OuterNode((expression("n"), expression("x_q")))


def test_intervals_print_their_decimals():
    node = IntervalNode("0.1234", "0.1236")
    assert latex(node) == r"\left[0.1234,\ 0.1236\right]" and text(node) == "[0.1234, 0.1236]"
    with pytest.raises(NotationError):
        IntervalNode("1/3", "x")


def test_scalar_factors_are_not_grouped_and_averages_end_visibly():
    assert latex(expression("15 * d * (d + 2)")) == r"15 d \left(d + 2\right)"
    assert text(expression("(u^T * z) * (z^T * M * x_q)")) == "(u^T * z) * (z^T * M * x_q)"
    two = statement("E[avg(alpha_i) * avg(beta_i)] = E[alpha] * E[beta]")
    assert latex(two.lhs) == (r"\mathbb{E}\left[\left(\frac{1}{n}\sum_{i=1}^{n} \alpha_{i}\right) "
                              r"\frac{1}{n}\sum_{i=1}^{n} \beta_{i}\right]")


def test_words_parse_their_mathematics():
    w = words("The optimum $Gammastar = etastar * I$ at every $d$.")
    assert [type(p).__name__ for p in w] == ["str", "RelationNode", "str", "BuiltinNode", "str"]
    assert text_words(w) == "The optimum Gammastar = etastar * I at every d."
    assert latex_words(w) == r"The optimum $\Gamma^{\star} = \eta^{\star} I$ at every $d$."
    with pytest.raises(ValueError):
        words("unbalanced $x_q")
    with pytest.raises(NotationError):
        words("an $unknown$ name")


def test_task_words():
    w = task_words(Task(d=2, n=8, noise="1/2", covariance=[[2, 1], [1, 3]]))
    assert latex_words(w) == (r"$d = 2$, $n = 8$, $\sigma^2 = \frac{1}{2}$, "
                              r"$\Sigma = \begin{pmatrix}2 & 1\\1 & 3\end{pmatrix}$, $\Omega = I$")


def test_sympy_inside_a_tree():
    t = sp.Symbol("t")
    node = Relation(expression("m_f"), "=", SympyNode(t ** 2 + 1))
    assert latex(node) == r"m_{f} = t^{2} + 1"
