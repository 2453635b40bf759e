"""Reduction, convex lift and realisability at symbolic d; each breaks when perturbed."""

import pytest

from derivations.alld.proofs import (
    Tokens,
    _pointwise_step,
    _zero_vector,
    effective_prediction,
    lift_steps,
    merged_blocks,
    merged_effective,
    merged_prediction,
    paper_blocks,
    paper_effective,
    paper_prediction,
    prove,
    realisability_steps,
    reduction_steps,
)
from derivations.alld.tensor import average, identity, inverse, matrix, scalar, vector


def test_reductions_lift_and_realisability_hold_for_every_d():
    steps = reduction_steps() + lift_steps() + realisability_steps(matrix("G"))
    assert all(s.proved for s in steps), [(s.key, s.detail) for s in steps if not s.proved]
    assert {s.key for s in steps} >= {"reduction:paper", "reduction:merged:variants", "convex-lift",
                                      "gd-block", "realisability:paper", "realisability:merged"}


@pytest.mark.parametrize("kind", ["theorem1", "theorem2", "general-prior"])
def test_the_theorems_include_the_structural_steps(kind):
    keys = {s.key for s in prove(kind)}
    assert {"reduction:paper", "reduction:merged", "convex-lift", "gd-block",
            "realisability:effective"} <= keys


def check(lhs, rhs):
    return _pointwise_step("k", "t", "s", lhs, rhs, "j")


def test_wrong_effective_parameters_are_refuted():
    B = paper_blocks()
    u_x, u_y, A, b, r = paper_effective(B)
    # M without the rank-one term k_yx q_yx^T of W^K^T W^Q
    step = check(paper_prediction(B), effective_prediction(u_x, u_y, B["K"].T @ B["Q"], b))
    assert step.status == "refuted" and "d = 1" in step.detail
    # the residual dropped
    step = check(paper_prediction(B, residual=True), effective_prediction(u_x, u_y, A, b))
    assert step.status == "refuted"


def test_merged_query_in_keys_term_is_needed():
    B = merged_blocks()
    u_x, u_y, A, b, _ = merged_effective(B)
    assert check(merged_prediction(B, qik=True), effective_prediction(u_x, u_y, A, b, qik=True)).proved
    assert check(merged_prediction(B, qik=True), effective_prediction(u_x, u_y, A, b)).status == "refuted"


def test_realisability_needs_the_transpose():
    G = matrix("G")
    t = Tokens()
    x, y = t.x(), t.y()
    wrong = check(effective_prediction(_zero_vector(), scalar(1), G, _zero_vector()),
                  t.xq().T @ G @ average(y * x))
    assert wrong.status == "refuted" and "d = 2" in wrong.detail     # a 1 x 1 G is symmetric
    assert all(s.proved for s in realisability_steps(2 * inverse("Sigma", True)))


def test_the_lift_misses_a_block_is_refuted():
    u_x, b = vector("u_x"), vector("b")
    from derivations.alld.tensor import inner
    t = Tokens()
    x, y = t.x(), t.y()
    full = effective_prediction(u_x, scalar(0), identity() * 0, b)
    partial = inner(u_x * b, average(x * y) * t.xq())
    assert check(full, partial).proved
    assert check(effective_prediction(u_x, scalar(0), matrix("A"), b), partial).status == "refuted"
