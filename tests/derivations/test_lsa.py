"""The reduction of every LSA parameterisation to the effective parameters (u, M, r),
with negative controls: deliberately wrong reductions must be detected."""

import random

import pytest
import sympy as sp

import derivations.lsa as lsa
from derivations.lsa import (
    EffectiveParameters,
    effective_prediction,
    merged_weights,
    paper_weights,
    predict,
    realising_weights,
    reduction_steps,
    to_effective,
)

n = sp.Symbol("n", integer=True, positive=True)


def tokens(d, count=3):
    z = [sp.Matrix([sp.Symbol(f"t{i}_{k}") for k in range(d + 1)]) for i in range(count)]
    xq = sp.Matrix([sp.Symbol(f"q{k}") for k in range(d)])
    return z, xq


def same(a, b):
    return sp.expand((a - b) * n) == 0


def weights_for(kind, d):
    """Fully symbolic weights at d = 1; at d = 2 random integer weights (symbolic tokens),
    which keeps plain SymPy expansion fast while wrong reductions still differ."""
    W = paper_weights(d) if kind == "paper" else merged_weights(d)
    if d == 1:
        return W
    rng = random.Random(20230706 + d)
    return {k: m.applyfunc(lambda _: sp.Integer(rng.choice([-3, -2, -1, 1, 2, 3])))
            for k, m in W.items()}


def my_paper_yhat(W, z, xq, n, qik, res):
    """The paper's model written here from the paper, independently of lsa.predict."""
    zq = xq.col_join(sp.Matrix([0]))
    keys = list(z) + ([zq] if qik else [])
    total = sp.zeros(len(zq), 1)
    for zi in keys:
        total += W["WV"] * zi * ((W["WK"] * zi).T * (W["WQ"] * zq))[0] / n
    if res:
        total += zq
    return (W["h"].T * total)[0]


def my_effective_yhat(u, M, r, z, xq, n, qik, res):
    """(1/n) sum_i (u^T z_i)(z_i^T M x_q) [+ (1/n)(u_x^T x_q)(x_q^T A x_q)] [+ r^T x_q]."""
    d = xq.rows
    out = sum(((u.T * zi)[0] * (zi.T * M * xq)[0] for zi in z), sp.Integer(0)) / n
    if qik:
        out += (u[:d, :].T * xq)[0] * (xq.T * M[:d, :] * xq)[0] / n
    if res:
        out += (r.T * xq)[0]
    return out


# --- the product's reduction proof ------------------------------------------------------

@pytest.mark.parametrize("d", [1, 2, 3])
def test_reduction_steps_all_proved(d):
    steps = reduction_steps(d)
    keys = {s.key for s in steps}
    assert keys == {f"reduction-{k}-{q}{r}"
                    for k in ("paper", "merged") for q in "01" for r in "01"}
    bad = [str(s) for s in steps if not s.proved]
    assert not bad, bad


def test_reduction_steps_refute_a_dropped_residual(monkeypatch):
    """Negative control of the product's own checker: an effective side that ignores the
    residual must make exactly the paper/residual steps fail."""
    original = lsa._ring_effective

    def no_residual(eff, z, zq, qik, res, ring, d):
        return original(eff, z, zq, qik, False, ring, d)

    monkeypatch.setattr(lsa, "_ring_effective", no_residual)
    refuted = {s.key for s in reduction_steps(2) if s.status == "refuted"}
    assert refuted == {"reduction-paper-01", "reduction-paper-11"}


def test_reduction_steps_refute_transposed_key_query(monkeypatch):
    original = lsa._ring_effective

    def transposed(eff, z, zq, qik, res, ring, d):
        M = eff["M"]
        square = lsa._RingMatrix([row[:d] for row in M.rows[:d]]).T
        wrong = dict(eff, M=lsa._RingMatrix(square.rows + [M.rows[d]]))
        return original(wrong, z, zq, qik, res, ring, d)

    monkeypatch.setattr(lsa, "_ring_effective", transposed)
    assert all(s.status == "refuted" for s in reduction_steps(2))


# --- independent sympy-level check, with negative controls --------------------------------

@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("qik", [False, True])
@pytest.mark.parametrize("res", [False, True])
def test_paper_reduction_sympy(d, qik, res):
    W = weights_for("paper", d)
    z, xq = tokens(d, 2)
    lhs = predict("paper", W, z, xq, n, qik, res)
    assert same(lhs, my_paper_yhat(W, z, xq, n, qik, res))
    # the reduction: u = W^V^T h, M = first d columns of W^K^T W^Q, r = h_x
    u, M, r = W["WV"].T * W["h"], (W["WK"].T * W["WQ"])[:, :d], W["h"][:d, :]
    assert same(lhs, my_effective_yhat(u, M, r, z, xq, n, qik, res))
    eff = to_effective("paper", W)
    assert same(lhs, effective_prediction(eff, z, xq, n, qik, res))
    # negative controls: each wrong reduction is detected
    wrong_M = (W["WQ"].T * W["WK"])[:, :d]
    assert not same(lhs, my_effective_yhat(u, wrong_M, r, z, xq, n, qik, res))
    wrong_u = W["WV"] * W["h"]
    assert not same(lhs, my_effective_yhat(wrong_u, M, r, z, xq, n, qik, res))
    assert not same(lhs, my_effective_yhat(u, M, r, z, xq, n, qik, not res))
    assert not same(lhs, my_effective_yhat(u, M, r, z, xq, n, not qik, res))
    wrong_eff = EffectiveParameters(u, wrong_M, r)
    assert not same(lhs, effective_prediction(wrong_eff, z, xq, n, qik, res))
    assert not same(lhs, effective_prediction(eff, z, xq, n, qik, not res))


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("qik", [False, True])
def test_merged_reduction_sympy(d, qik):
    W = weights_for("merged", d)
    z, xq = tokens(d, 2)
    zq = xq.col_join(sp.Matrix([0]))
    keys = list(z) + ([zq] if qik else [])
    mine = sum(((W["WPV"] * zi * zi.T * W["WKQ"] * zq)[d] for zi in keys), sp.Integer(0)) / n
    for res in (False, True):   # the residual adds the query's label slot, which is 0
        lhs = predict("merged", W, z, xq, n, qik, res)
        assert same(lhs, mine)
        u, M, r = W["WPV"][d, :].T, W["WKQ"][:, :d], sp.zeros(d, 1)
        assert same(lhs, my_effective_yhat(u, M, r, z, xq, n, qik, res))
        assert same(lhs, effective_prediction(to_effective("merged", W), z, xq, n, qik, res))
        wrong_u = W["WPV"][:, d]     # last column instead of last row
        assert not same(lhs, my_effective_yhat(wrong_u, M, r, z, xq, n, qik, res))
        assert not same(lhs, my_effective_yhat(u, W["WKQ"].T[:, :d], r, z, xq, n, qik, res))


def test_unknown_parameterisation():
    z, xq = tokens(1)
    with pytest.raises(ValueError, match="unknown parameterisation"):
        predict("other", {}, z, xq, n)
    with pytest.raises(ValueError, match="unknown parameterisation"):
        to_effective("other", {})


# --- GD block and realising weights -------------------------------------------------------

def test_effective_symbols_names():
    p = EffectiveParameters.symbols(2)
    names = [str(s) for s in p.all_symbols()]
    assert names == ["ux1", "ux2", "uy", "A_11", "A_12", "A_21", "A_22", "b1", "b2", "r1", "r2"]
    assert p.A.shape == (2, 2) and p.b.shape == (2, 1) and p.uy == sp.Symbol("uy", real=True)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_gamma_is_the_label_linear_block(d):
    """d yhat / d y_i at y = 0 is (1/n) x_q^T Gamma x_i, Gamma = (u_y A + u_x b^T)^T."""
    p = EffectiveParameters.symbols(d)
    z, xq = tokens(d, 2)
    yhat = effective_prediction(p, z, xq, n)
    y1 = z[0][d]
    slope = sp.diff(yhat, y1).subs({zi[d]: 0 for zi in z})
    x1 = z[0][:d, :]
    gamma = (p.uy * p.A + p.ux * p.b.T).T
    assert same(slope, (xq.T * gamma * x1)[0] / n)
    assert sp.expand(p.gamma() - gamma) == sp.zeros(d, d)


@pytest.mark.parametrize("kind", ["paper", "merged"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_realising_weights_give_one_step_gd(kind, d):
    gamma = sp.Matrix(d, d, lambda i, j: sp.Rational(i + 2 * j + 1, i + 3))  # not symmetric
    W = realising_weights(kind, gamma)
    z, xq = tokens(d)
    g = sum((zi[d] * zi[:d, :] for zi in z), sp.zeros(d, 1)) / n
    assert same(predict(kind, W, z, xq, n), (xq.T * gamma * g)[0])
    eff = to_effective(kind, W)
    assert sp.expand(eff.gamma() - gamma) == sp.zeros(d, d)
    if d > 1:  # power: the transpose is a different predictor
        assert not same(predict(kind, W, z, xq, n), (xq.T * gamma.T * g)[0])
