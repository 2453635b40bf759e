"""Every certificate step is an exact check that fails when its input is perturbed."""

import pytest
import sympy as sp

from derivations import Task, global_optimum
from derivations.features import Gram, gram
from derivations.lsa import realising_weights, reduction_steps
from derivations.optimum import (
    step_convex_lift,
    step_normal_equations,
    step_optimal_loss,
    step_quadratic,
    step_realisable,
    step_symmetry_split,
    step_unique,
)
from derivations.positivity import certify_positive, certify_positive_definite
from derivations.symbols import n, s2

TASK = Task(d=2, n=5, noise="1/2")


@pytest.fixture(scope="module")
def optimum():
    return global_optimum(TASK)


@pytest.fixture(scope="module")
def G():
    return gram(TASK)


def test_certificate_steps_in_order(optimum):
    keys = [s.key for s in optimum.certificate]
    tail = ["convex-lift", "quadratic", "symmetry-split", "normal-equations", "realisable",
            "optimal-loss", "unique"]
    assert keys[-len(tail):] == tail
    assert all(k.startswith("reduction-") for k in keys[:-len(tail)])
    assert optimum.certificate.holds


def test_convex_lift_fails_with_wrong_coefficients(G):
    def wrong(params, residual):
        theta = G.basis.coefficients(params, residual)
        theta[0] = 2 * theta[0]          # double one GD coefficient
        return theta
    assert step_convex_lift(TASK, G.basis).proved
    assert step_convex_lift(TASK, G.basis, wrong).status == "refuted"


def test_quadratic_fails_with_perturbed_gram(G):
    H = G.H.copy()
    H[3, 5] += sp.Rational(1, 1000)
    H[5, 3] += sp.Rational(1, 1000)
    assert step_quadratic(TASK, Gram(G.basis, H, G.c, G.k)).status == "refuted"
    c = G.c.copy()
    c[0] += 1
    assert step_quadratic(TASK, Gram(G.basis, G.H, c, G.k)).status == "refuted"


def test_symmetry_split_fails_with_odd_target_correlation(G):
    c = G.c.copy()
    c[G.basis.odd[0]] = sp.Rational(1, 7)
    step = step_symmetry_split(Gram(G.basis, G.H, c, G.k))
    assert step.status == "refuted"
    assert "correlates with the target" in step.detail
    H = G.H.copy()
    i, j = G.basis.odd[2], G.basis.gd[1]
    H[i, j] = H[j, i] = sp.Rational(1, 3)
    assert step_symmetry_split(Gram(G.basis, H, G.c, G.k)).status == "refuted"


def test_normal_equations_fail_at_perturbed_gamma(G, optimum):
    assert step_normal_equations(G, optimum.gamma).proved
    bumped = optimum.gamma + sp.Matrix([[sp.Rational(1, 10**9), 0], [0, 0]])
    assert step_normal_equations(G, bumped).status == "refuted"


def test_realisable_fails_with_wrong_weights(G, optimum):
    def transposed_block(kind, gamma):
        w = realising_weights(kind, gamma)
        key = "WQ" if kind == "paper" else "WKQ"
        w[key] = 2 * w[key]                      # predicts 2 x_q^T Gamma g
        return w
    assert step_realisable(TASK, G.basis, optimum.gamma).proved
    assert step_realisable(TASK, G.basis, optimum.gamma, transposed_block).status == "refuted"


def test_optimal_loss_fails_when_perturbed(optimum):
    assert step_optimal_loss(TASK, optimum.gamma, optimum.loss).proved
    assert step_optimal_loss(TASK, optimum.gamma, optimum.loss + sp.Rational(1, 10**6)).status == "refuted"


def test_uniqueness_fails_for_indefinite_gram(G, optimum):
    assert step_unique(TASK, G, optimum.C).proved
    assert step_unique(TASK, G, sp.Matrix([[1, 2], [2, 1]])).status == "refuted"


def test_reduction_detects_a_wrong_model():
    """A model that used W^Q^T W^K instead of W^K^T W^Q would not reduce (negative control)."""
    from derivations import lsa

    original = lsa.to_effective

    steps = reduction_steps(1)
    assert all(s.proved for s in steps)
    d = 2
    W = lsa.paper_weights(d)
    wrong = lsa.EffectiveParameters(W["WV"].T * W["h"], (W["WQ"].T * W["WK"])[:, :d], W["h"][:d, :])
    xs = sp.Matrix(sp.symbols("a1 a2", real=True)).col_join(sp.Matrix([sp.Symbol("ay")]))
    xq = sp.Matrix(sp.symbols("q1 q2", real=True))
    lhs = sp.expand(lsa.predict("paper", W, [xs], xq, 1))
    rhs = sp.expand(lsa.effective_prediction(wrong, [xs], xq, 1))
    assert sp.expand(lhs - rhs) != 0
    right = original("paper", W)
    assert sp.expand(lhs - lsa.effective_prediction(right, [xs], xq, 1)) == 0


# --- positivity certificates ------------------------------------------------------------

def test_certify_positive():
    a = sp.Symbol("a", positive=True)
    assert certify_positive((n + 3 + s2) / n) is True
    assert certify_positive(n - 1 + s2 + 1) is True          # = n + s2 > 0 for n >= 1
    assert certify_positive(n - 2) is None                   # negative at n = 1: never certified
    assert certify_positive(sp.Rational(-1, 2)) is False
    assert certify_positive(a * n + s2) is True
    assert certify_positive(sp.Symbol("free") + 1) is None   # no sign information


def test_certify_positive_definite():
    assert certify_positive_definite(sp.Matrix([[2, 1], [1, 2]]))[0] is True
    assert certify_positive_definite(sp.Matrix([[1, 2], [2, 1]]))[0] is False
    C = (n + 4 + s2) / n * sp.eye(3)
    assert certify_positive_definite(C)[0] is True
