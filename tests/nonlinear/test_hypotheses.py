"""Theorem 3's hypotheses decided exactly: the paper's Assumption 1, onestep's reflection
variant, rotation invariance; what the conclusion rests on; the invariance lemmas."""

import pytest
import sympy as sp
from sympy import LeviCivita

from derivations.nonlinear.hypotheses import (
    _generators,
    classify,
    invariant_dimension,
    odd_invariants_step,
    scalar_matrix_step,
)
from derivations.task import Response, Task


def si(link):
    return Response("single-index", link=link)


def ex(expr):
    return Response("expression", expr=expr)


# (task, rotation, sign, reflection, assumption-1, rests_on, relation)
TABLE = [
    (Task(d=2, response=si("s^3")), True, True, True, True, "assumption-1", "confirms"),
    (Task(d=2, response=si("tanh(s)")), True, True, True, True, "assumption-1", "confirms"),
    (Task(d=2, response=si("relu(s)")), True, False, True, False, "rotation", "extends"),
    (Task(d=1, response=si("relu(s)")), True, False, True, False, "rotation+reflection", "extends"),
    (Task(d=2, response=ex("s + s**2")), True, False, True, False, "rotation", "extends"),
    (Task(d=2, response=ex("s + x1**2 + x2**2")), True, False, True, False, "rotation", "extends"),
    (Task(d=2, response=ex("s + x1**2")), False, False, True, False, "", "outside"),
    (Task(d=2, response=Response("two-layer-relu", width=2)), True, True, True, True,
     "assumption-1", "confirms"),
    (Task(d=2, response=si("cos(s)")), True, False, True, False, "rotation", "extends"),
    (Task(d=1, response=ex("x1**3")), True, False, False, False, "", "outside"),
    (Task(d=1, response=ex("w1*x1**2")), True, True, False, True, "assumption-1", "confirms"),
    (Task(d=2, covariance=[[2, 1], [1, 2]], response=si("sin(s)")), False, True, True, False, "",
     "outside"),
    (Task(d=2, response=ex("x1*w2 - x2*w1")), True, True, True, True, "assumption-1", "confirms"),
]


def _row_id(row):
    resp = row[0].response
    return f"{resp.link or resp.expr or resp.family}-d{row[0].d}"


@pytest.mark.parametrize("row", TABLE, ids=_row_id)
def test_classification(row):
    task, rot, sign, refl, a1, rests, relation = row
    h = classify(task)
    assert (h.holds("rotation"), h.holds("sign"), h.holds("reflection"), h.holds("assumption-1")) \
        == (rot, sign, refl, a1)
    assert h.rests_on == rests and h.relation == relation


def test_sign_symmetry_refuted_by_a_rigorous_moment():
    h = classify(Task(d=2, response=si("relu(s)")))
    assert "E[g(s)^1]" in h.items["sign"].how      # E[relu(s)] = 1/sqrt(2 pi) > 0
    h = classify(Task(d=2, response=si("s^2 - 1")))   # E[g] = 0 but E[g^3] = 8
    assert h.holds("sign") is False and "E[g(s)^3]" in h.items["sign"].how


def test_rotation_refuted_by_the_lie_derivative():
    h = classify(Task(d=2, response=ex("s + x1**2")))
    assert "-2*x1*x2" in h.items["rotation"].how
    h = classify(Task(d=3, response=ex("s + x1*x2*x3")))
    assert h.holds("rotation") is False


@pytest.mark.parametrize("d", range(2, 9))
def test_so_d_lemmas_d_at_least_2(d):
    assert invariant_dimension(d, 1) == 0        # no invariant vector
    assert invariant_dimension(d, 3) == 0        # no invariant symmetric 3-tensor
    assert invariant_dimension(d, 2) == 1        # symmetric invariant matrices: c I
    assert odd_invariants_step(d).proved and scalar_matrix_step(d).proved


def test_d1_rotation_says_nothing():
    assert invariant_dimension(1, 1) == 1 and invariant_dimension(1, 3) == 1
    assert not odd_invariants_step(1).proved


def test_levi_civita_is_invariant_but_antisymmetric():
    """At d = 3 the full (not symmetric) 3-tensors do have a rotation invariant, eps_abc:
    so the symmetry of the odd features in a pair of indices is what the lemma needs."""
    for perm, signs in _generators(3):
        Q = sp.zeros(3, 3)
        for b in range(3):
            Q[perm[b], b] = signs[b]
        assert Q.det() == 1
        for a in range(3):
            for b in range(3):
                for c in range(3):
                    moved = sum(Q[a, i] * Q[b, j] * Q[c, k] * LeviCivita(i, j, k)
                                for i in range(3) for j in range(3) for k in range(3))
                    assert moved == LeviCivita(a, b, c)
    # its symmetrisation vanishes
    sym = sum(LeviCivita(*p) for p in [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)])
    assert sym == 0


def test_invariant_dimension_sees_fourth_order_invariants():
    """Negative control for the orbit count: symmetric 4-tensors do have invariants (e.g.
    (sum x_i^2)^2), so the count is not trivially 0."""
    assert invariant_dimension(3, 4) >= 1 and invariant_dimension(2, 2) == 1
