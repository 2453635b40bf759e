"""verify.weights: one LSA in every parameterisation and gauge gives the same exact Gamma and loss;
a numerics-trained LSA is classified near the global minimum; decimals show only correct digits.

Independent truths: the gauge and rotation invariances of the model (u = W^V^T h and
W^K^T W^Q are unchanged by W^K -> G W^K, W^Q -> G^{-T} W^Q, W^V -> G' W^V, h -> G'^{-T} h,
(u, M) -> (c u, M / c)); Python's decimal module at 50 digits for the truncated decimals.
"""

import json
from decimal import ROUND_DOWN, Decimal, getcontext
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from derivations import Task, expected_loss
from verify.weights import analyse, decimal, effective_of, exact_weights, recognise, sqrt_decimal
from verify.weights_io import load_weights

D = 2
TASK = Task(d=D, n=5, noise="1/4", name="t")


def dyadic(rng, shape):
    return rng.integers(-8, 9, size=shape) / 8.0          # exact in float64


def paper_weights(seed=0):
    rng = np.random.default_rng(seed)
    return {"W_K": dyadic(rng, (D + 1, D + 1)), "W_Q": dyadic(rng, (D + 1, D + 1)),
            "W_V": dyadic(rng, (D + 1, D + 1)), "h": dyadic(rng, (D + 1,))}


def gamma_and_loss(parameterisation, raw, sign=None):
    kind, canonical = recognise(dict(raw))
    assert kind == parameterisation
    sign_value = canonical.pop("sign", None)
    W = exact_weights(kind, canonical, D)
    s = sign if sign is not None else (int(np.ravel(sign_value)[0]) if sign_value is not None else -1)
    params = effective_of(kind, W, s, TASK.residual)
    return params.gamma(), expected_loss(TASK, params.u, params.M, params.r)


def equivalents(w):
    """The same LSA written in every parameterisation (float64, exactly)."""
    WK, WQ, WV, h = w["W_K"], w["W_Q"], w["W_V"], w["h"]
    u = WV.T @ h
    K = WK.T @ WQ
    rng = np.random.default_rng(7)
    WPV = dyadic(rng, (D + 1, D + 1))
    WPV[D] = u                                   # only the label row matters
    WKQ = K.copy()
    WKQ[:, D] = dyadic(rng, (D + 1,))            # the last column meets the query's 0 label
    return {"paper": w, "merged": {"W_KQ": WKQ, "W_PV": WPV},
            "ahn": {"P": -WPV, "Q": WKQ},        # prediction = -label slot (sign -1, their default)
            "effective": {"u": u, "M": K[:, :D]}}


def test_every_parameterisation_gives_the_same_exact_gamma_and_loss():
    forms = equivalents(paper_weights())
    results = {k: gamma_and_loss(k, v) for k, v in forms.items()}
    gamma0, loss0 = results["paper"]
    for kind, (gamma, loss) in results.items():
        assert gamma == gamma0, kind
        assert loss == loss0, kind
    # near miss: Ahn's P with the wrong sign predicts the negative, a different loss
    gamma, loss = gamma_and_loss("ahn", forms["ahn"], sign=1)
    assert gamma == -gamma0 and loss != loss0


def test_gauges_and_rotations_leave_gamma_and_loss_unchanged():
    w = paper_weights(1)
    gamma0, loss0 = gamma_and_loss("paper", w)
    G = np.array([[1, 0.5, 0], [0, 1, 0], [0.25, 0, 1]])       # dyadic, unimodular: G^{-1} is dyadic
    Ginv_T = np.linalg.inv(G).T
    R = np.array([[0, -1, 0], [1, 0, 0], [0, 0, -1]], float)   # a signed permutation (orthogonal)
    gauges = {
        "scale u by 2, M by 1/2": {**w, "W_V": 2 * w["W_V"], "W_Q": w["W_Q"] / 2},
        "scale by 1/4, 4": {**w, "W_V": w["W_V"] / 4, "W_Q": 4 * w["W_Q"]},
        "W_K -> G W_K, W_Q -> G^-T W_Q": {**w, "W_K": G @ w["W_K"], "W_Q": Ginv_T @ w["W_Q"]},
        "rotation R of keys and queries": {**w, "W_K": R @ w["W_K"], "W_Q": R @ w["W_Q"]},
        "W_V -> G W_V, h -> G^-T h": {**w, "W_V": G @ w["W_V"], "h": Ginv_T @ w["h"]},
    }
    for label, gauge in gauges.items():
        for key in gauge:
            assert np.all(np.isfinite(gauge[key])), label
        gamma, loss = gamma_and_loss("paper", gauge)
        assert gamma == gamma0, label
        assert loss == loss0, label
    # near miss: rotating only the keys changes the model
    gamma, loss = gamma_and_loss("paper", {**w, "W_K": R @ w["W_K"]})
    assert loss != loss0


def test_an_exact_rational_rotation_from_json(tmp_path):
    """JSON text entries are exact: a rotation by (3/5, 4/5) applied to W_K and W_Q."""
    w = paper_weights(2)
    R = sp.Matrix([[sp.Rational(3, 5), -sp.Rational(4, 5), 0], [sp.Rational(4, 5), sp.Rational(3, 5), 0], [0, 0, 1]])

    def text(m):
        return [[str(x) for x in row] for row in m.tolist()]
    WK, WQ = sp.Matrix(w["W_K"].tolist()).applyfunc(sp.Rational), sp.Matrix(w["W_Q"].tolist()).applyfunc(sp.Rational)
    data = {"W_K": text(R * WK), "W_Q": text(R * WQ), "W_V": w["W_V"].tolist(), "h": w["h"].tolist()}
    path = tmp_path / "w.json"
    path.write_text(json.dumps(data))
    assert gamma_and_loss("paper", load_weights(str(path))) == gamma_and_loss("paper", w)


def test_state_dict_prefix_and_aliases():
    w = paper_weights(3)
    prefixed = {f"model.{k.replace('_', '')}" if k != "h" else "model.h": v for k, v in w.items()}
    assert gamma_and_loss("paper", prefixed) == gamma_and_loss("paper", w)


def test_npz_and_pt_round_trip(tmp_path):
    import torch

    w = paper_weights(4)
    np.savez(tmp_path / "w.npz", **w)
    torch.save({k: torch.tensor(v, dtype=torch.float32) for k, v in w.items()}, tmp_path / "w.pt")
    ref = gamma_and_loss("paper", w)
    assert gamma_and_loss("paper", load_weights(str(tmp_path / "w.npz"))) == ref
    assert gamma_and_loss("paper", load_weights(str(tmp_path / "w.pt"))) == ref   # dyadics survive float32


def test_a_trained_lsa_is_near_the_global_minimum(tmp_path):
    """numerics.minimise (SAA + L-BFGS, seeded) trains an LSA; the report finds it near the certified
    global minimum with a small exact excess loss. The same weights plus 0.5 I in Gamma are not."""
    from numerics import NumericTask, minimise

    task = Task(d=1, n=5, noise="1/4", name="d1")
    res = minimise(NumericTask(d=1, n=5, noise=0.25), samples=20_000, seed=0, progress=False)
    report = analyse(task, "effective", exact_weights_for(res.u, res.M, 1), None)
    assert report.nearest is not None and report.nearest.kind == "global minimum"
    assert 0 <= report.excess < report.optimal_loss / 50
    far = analyse(task, "effective", exact_weights_for(res.u, res.M + np.array([[0.5], [0.0]]), 1), None)
    assert far.nearest is None or far.nearest.kind != "global minimum"
    assert far.excess > report.excess


def exact_weights_for(u, M, d):
    return exact_weights("effective", {"u": np.asarray(u, float), "M": np.asarray(M, float)}, d)


def test_zero_weights_are_the_zero_predictor_and_a_saddle_is_recognised():
    from derivations.landscape import stationary_points_d1

    task = Task(d=1, n=5, noise="1/4", name="d1")
    zero = analyse(task, "effective", exact_weights_for(np.zeros(2), np.zeros((2, 1)), 1), None)
    assert zero.nearest.kind.startswith("zero predictor")
    assert zero.loss == sp.Rational(5, 4)                     # E[y_q^2] = d + s2
    saddle = next(p for p in stationary_points_d1(5, sp.Rational(1, 4))
                  if p.kind == "saddle" and any(v != 0 for v in p.point.values()))
    v = {str(k): float(x) for k, x in saddle.point.items()}
    report = analyse(task, "effective", exact_weights_for([v["ux1"], v["uy"]], [[v["A_11"]], [v["b1"]]], 1), None)
    assert report.nearest is not None and "saddle" in report.nearest.kind


@pytest.mark.parametrize("q", [Fraction(2, 3), Fraction(-7, 3), Fraction(1, 7 * 10**9), Fraction(123456789123, 7),
                               Fraction(10**12), Fraction(5, 10**7)])
def test_truncated_decimals_are_correct(q):
    getcontext().prec = 60
    exact = Decimal(q.numerator) / Decimal(q.denominator)
    text = decimal(q, 10)
    shown = Decimal(text)
    # every digit correct: |q| - |shown| in [0, one unit of the last digit)
    unit = Decimal(10) ** (exact.copy_abs().adjusted() - 9)
    assert Decimal(0) <= exact.copy_abs() - shown.copy_abs() < unit
    root = (Decimal(abs(q.numerator)) / Decimal(q.denominator)).sqrt()
    rtext = Decimal(sqrt_decimal(abs(q), 10))
    assert rtext == root.quantize(Decimal(10) ** (root.adjusted() - 9), rounding=ROUND_DOWN)
