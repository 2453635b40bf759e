"""Counterexample search: smallest d, simplest matrices, deterministic; exact PSD tests."""

import sympy as sp

from derivations.alld.canonical import Canonical
from derivations.alld.search import (
    Atoms,
    find_counterexample,
    is_psd,
    matrix_candidates,
    positivity_failure,
)
from derivations.alld.tensor import matrix, trace


def test_candidates_have_their_kind():
    for dim in (1, 2, 3):
        for m in matrix_candidates("spd", dim):
            assert m == m.T and is_psd(m, strict=True)
        for m in matrix_candidates("symmetric", dim):
            assert m == m.T
        assert any(m != m.T for m in matrix_candidates("general", dim)) or dim == 1
        assert matrix_candidates("general", dim)[0] == sp.eye(dim)


def test_search_is_deterministic_and_smallest_d_first():
    A, B = matrix("A"), matrix("B")
    atoms = Atoms(matrices={"A": "general", "B": "general"})
    first = find_counterexample(Canonical.of(A @ B), Canonical.of(B @ A), atoms)
    again = find_counterexample(Canonical.of(A @ B), Canonical.of(B @ A), atoms)
    assert first.describe() == again.describe()
    assert first.d == 2                      # 1 x 1 matrices commute
    lhs = first.matrices["A"] * first.matrices["B"]
    assert first.lhs == lhs and first.rhs == first.matrices["B"] * first.matrices["A"] != lhs


def test_a_true_identity_has_no_counterexample():
    A = matrix("A")
    atoms = Atoms(matrices={"A": "general"})
    assert find_counterexample(Canonical.of(trace(A @ A.T)), Canonical.of(trace(A.T @ A)), atoms) is None


def test_symmetric_kind_is_respected():
    B = matrix("B", symmetric=True)
    atoms = Atoms(matrices={"B": "symmetric"})
    assert find_counterexample(Canonical.of(B), Canonical.of(B.T), atoms) is None


def test_exact_psd_tests():
    assert is_psd(sp.Matrix([[1, 1], [1, 1]])) and not is_psd(sp.Matrix([[1, 1], [1, 1]]), strict=True)
    assert not is_psd(sp.Matrix([[1, 2], [2, 1]]))
    assert not is_psd(sp.Matrix([[0, 0], [0, -1]]))          # a leading-minor test would miss it
    assert not is_psd(sp.Matrix([[1, 1], [0, 1]]))           # not symmetric
    differ = positivity_failure(strict=False)
    assert differ(sp.Matrix([[1, 0], [0, 1]]), sp.Matrix([[0, 0], [0, 2]]))
