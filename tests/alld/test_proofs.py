"""The theorem proofs hold, and every step breaks when its input is perturbed."""

import pytest
import sympy as sp

from derivations.alld.proofs import (
    ETA,
    KINDS,
    LOSS,
    claims,
    convexity_step,
    loss_quadratic_step,
    moment_steps,
    orthogonality_steps,
    prove,
    setting,
)
from derivations.alld.tensor import average, d, example, gaussian, identity, inverse, matrix, trace
from derivations.exact import exact_equal
from derivations.symbols import n, s2


@pytest.mark.parametrize("kind", KINDS)
def test_theorem_holds(kind):
    D = prove(kind)
    assert D.holds, str(D)
    identity_cov = kind in ("theorem1", "theorem3-cubic")
    assert D.conclusion["strength"] == ("symbolic-d" if identity_cov else "symbolic-sigma")
    for key in ("gamma", "eta", "loss"):
        assert isinstance(D.conclusion[key], sp.Basic)


def test_theorem_values():
    assert exact_equal(prove("theorem1").conclusion["eta"], n / (n + d + 1 + s2))
    loss = prove("theorem2").conclusion["loss"]
    assert exact_equal(loss, s2 + d * (d + 1 + s2) / (n + d + 1 + s2))
    g2 = prove("theorem2").conclusion["gamma"]
    assert g2.has(sp.MatrixSymbol("Sigma", d, d))


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind"):
        prove("theorem9")


#: the cubic instance is perturbed in test_theorem3.py (its proof is ~10x slower)
LINEAR_KINDS = ("theorem1", "theorem2", "general-prior")


def _status(D, key):
    return D[key].status


@pytest.mark.parametrize("kind", ["theorem1", "theorem2"])
def test_wrong_step_size_is_refuted(kind):
    """n + d instead of n + d + 1 in E[g g^T]: the moment step is refuted."""
    s = setting(kind)
    wrong_C = (n + d + s2) / n * s.Sigma
    D = prove(kind, {"C": wrong_C})
    assert not D.holds
    assert _status(D, "moment-C") == "refuted"
    assert _status(D, "loss-quadratic") == "refuted"
    # and Gamma* = n/(n+d+s2) Sigma^{-1} (the design's rejected claim) breaks the optimum steps
    Sinv = identity() if kind == "theorem1" else inverse("Sigma", True)
    D = prove(kind, {"gamma": n / (n + d + s2) * Sinv})
    for key in ("normal-equations", "completed-square", "optimal-loss"):
        assert _status(D, key) == "refuted", key


@pytest.mark.parametrize("kind", LINEAR_KINDS)
def test_each_claim_perturbation_breaks_its_steps(kind):
    s = setting(kind)
    c = claims(s)
    perturbations = {
        "B": (c["B"] + identity() / 3, ["moment-B", "loss-quadratic"]),
        "gamma": (c["gamma"] + identity() / 5, ["normal-equations", "completed-square"]),
        "loss": (c["loss"] + s2 / 7, ["completed-square"]),
    }
    for name, (value, broken) in perturbations.items():
        D = prove(kind, {name: value})
        assert not D.holds
        for key in broken:
            assert _status(D, key) == "refuted", (name, key)
    if kind != "general-prior":
        D = prove(kind, {"loss": c["loss"] + s2 / 7})
        assert _status(D, "optimal-loss") == "refuted"


def test_general_prior_rejects_inverse_covariance_preconditioner():
    """With Omega = I the claim Gamma* = eta Sigma^{-1} is false (a negative control)."""
    D = prove("general-prior", {"gamma": ETA * inverse("Sigma", True)})
    assert D["normal-equations"].status == "refuted"


def test_wrong_C_in_general_prior_is_refuted():
    s = setting("general-prior")
    S, O = s.Sigma, s.Omega
    wrong = S @ O @ S + (trace(O @ S) + s2) / n * S          # (n+1)/n replaced by 1
    steps = moment_steps(s, wrong, claims(s)["B"])
    assert steps[0].status == "refuted" and "counterexample" in steps[0].detail


def test_orthogonality_fails_for_an_even_feature():
    s = setting("theorem2")
    x = example("x")
    even = [("x_i (x) x_q", average((gaussian("w").T @ x) * x) * gaussian("xq"))]
    steps = orthogonality_steps(s, even)
    assert any(step.status in ("refuted", "unproved") for step in steps)
    assert all(step.proved for step in orthogonality_steps(s))


def test_convexity_needs_a_positive_definite_C():
    s = setting("general-prior")
    S = s.Sigma
    assert convexity_step(s, claims(s)["C"]).proved
    assert convexity_step(s, -1 * S).status == "unproved"
    assert convexity_step(s, S - S @ S).status == "unproved"
    assert convexity_step(s, s2 / n * S).status == "unproved"     # only PSD when s2 = 0


def test_loss_step_with_wrong_moment_is_refuted():
    s = setting("theorem1")
    c = claims(s)
    assert loss_quadratic_step(s, c["C"], c["B"]).proved
    assert loss_quadratic_step(s, c["C"] + identity() / n, c["B"]).status == "refuted"


def test_steps_render_to_latex():
    from derivations.printing import latex, latex_words

    for step in prove("general-prior"):
        assert step.display and all(latex(rel) for rel in step.display + step.computed)
        assert latex_words(step.statement) and step.justification and step.method


def test_loss_constant_matches_eta():
    """L* = s2 + d (1 - eta*): the two published forms agree."""
    assert exact_equal(LOSS, s2 + d * (1 - ETA))


def test_symbolic_gamma_matrix_is_untouched():
    # sanity: the loss step is a statement about a symbolic Gamma, not a number
    step = loss_quadratic_step(setting("theorem2"), *[claims(setting("theorem2"))[k] for k in "CB"])
    engine_value = step.computed[0].rhs
    assert engine_value.has(sp.MatrixSymbol("Gamma", d, d))
    assert matrix("Gamma").free
