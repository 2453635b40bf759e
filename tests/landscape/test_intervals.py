"""derivations.intervals: the Krawczyk test and certified inertia, against independent values."""

import numpy as np
import pytest
from flint import arb

from derivations.intervals import ball, krawczyk, krawczyk_search, precision, symmetric_spectrum


def test_krawczyk_encloses_sqrt2_and_refuses_a_box_without_a_root():
    F = lambda x: [x[0] * x[0] - 2]          # noqa: E731
    J = lambda x: [[2 * x[0]]]               # noqa: E731
    res = krawczyk(F, J, [1.41421356237], 1e-9)
    with precision(300):
        root = arb(2).sqrt()                 # at least as precise as the box
    assert res.verified and res.box[0].contains(root)
    # near miss: a box of the same size that does not contain sqrt(2)
    assert not krawczyk(F, J, [1.4143], 1e-9).verified


def test_krawczyk_two_dimensional_circle_and_diagonal():
    # x^2 + y^2 = 1, x = y: the root (1/sqrt2, 1/sqrt2)
    F = lambda v: [v[0] * v[0] + v[1] * v[1] - 1, v[0] - v[1]]      # noqa: E731
    J = lambda v: [[2 * v[0], 2 * v[1]], [arb(1), arb(-1)]]          # noqa: E731
    res = krawczyk_search(F, J, [0.70710678118, 0.70710678118])
    with precision(300):
        root = 1 / arb(2).sqrt()
    assert res.verified and all(b.contains(root) for b in res.box)
    assert res.radius <= 1e-8


@pytest.mark.parametrize("seed", range(5))
def test_inertia_and_eigenvalues_match_numpy(seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(6, 6))
    A = A + A.T
    spec = symmetric_spectrum([[ball(float(x)) for x in row] for row in A])
    eig = np.linalg.eigvalsh(A)             # independent: LAPACK
    assert spec.inertia == (int((eig < 0).sum()), 0, int((eig > 0).sum()))
    for e, enc in zip(eig, spec.eigenvalues, strict=True):
        assert enc.contains(arb(float(e))) or abs(float(enc.mid()) - e) < 1e-12


def test_inertia_refused_when_the_interval_holds_a_singular_matrix():
    # diag(1, [-0.1, 0.1]) contains singular matrices: no inertia may be claimed
    H = [[arb(1), arb(0)], [arb(0), arb(0, 0.1)]]
    assert symmetric_spectrum(H).inertia is None
    # near miss: diag(1, [0.05, 0.15]) is certified positive definite
    H = [[arb(1), arb(0)], [arb(0), arb(0.1, 0.05)]]
    assert symmetric_spectrum(H).inertia == (0, 0, 2)
