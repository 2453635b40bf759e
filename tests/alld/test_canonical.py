"""Canonical forms: traces, transposes, inverses, tr(I) = d, and deciding identities."""

import sympy as sp

from derivations.alld.canonical import Canonical, decide
from derivations.alld.tensor import d, gaussian, identity, inverse, matrix, trace, vector
from derivations.alld.wick import expect
from derivations.symbols import n

S, Si = matrix("Sigma", True), inverse("Sigma", True)
A, B, C = matrix("A"), matrix("B"), matrix("C")


def canon(t):
    return Canonical.of(t)


def test_trace_is_cyclic_and_transpose_invariant():
    assert canon(trace(A @ B @ C)) == canon(trace(C @ A @ B))
    assert canon(trace(A @ B @ C)) == canon(trace(C.T @ B.T @ A.T))
    assert not canon(trace(A @ B @ C)) == canon(trace(B @ A @ C))


def test_symmetric_atoms_drop_transposes_but_others_do_not():
    assert canon(S.T) == canon(S)
    assert not canon(A.T) == canon(A)
    assert canon((A @ S).T) == canon(S @ A.T)


def test_inverse_cancels_and_identity_trace_is_d():
    assert canon(S @ Si) == canon(identity())
    assert canon(trace(Si @ A @ S @ Si @ S)).coeffs == canon(trace(A)).coeffs
    assert canon(trace(S @ Si)).scalar() == d
    assert canon(trace(identity())).scalar() == d


def test_scalar_chain_orientation():
    u, v = vector("u"), vector("v")
    assert canon(u.T @ A @ v) == canon(v.T @ A.T @ u)
    assert not canon(u.T @ A @ v) == canon(v.T @ A @ u)


def test_to_sympy_renders_matrix_expressions():
    out = canon((n + 1) / n * (S @ A @ S) + trace(A @ S) * S).to_sympy()
    assert isinstance(out, sp.MatrixExpr)
    assert out.has(sp.Trace)


def test_decide_proves_refutes_and_leaves_unproved():
    assert decide(canon(S @ A @ Si), canon(S @ A @ Si))[0] is True
    ok, reason = decide(canon(A @ B), canon(B @ A))
    assert ok is False and "counterexample" in reason
    # an abbreviation the canonical forms cannot see through: K := Sigma A Sigma
    K = matrix("K")
    ok, reason = decide(canon(K), canon(S @ A @ S), extra=[("mat", "A", False)],
                        definitions={"K": lambda env, dim: env["Sigma"] * env["A"] * env["Sigma"]})
    assert ok is None and "not closed" in reason


def test_expectation_of_quadratic_form():
    x = gaussian("x")
    assert canon(expect(x.T @ A @ x, {"x": S})) == canon(trace(A @ S))
    assert canon(expect(x.T @ A @ x, {"x": identity()})) == canon(trace(A))
    # odd moments vanish
    assert not canon(expect(x.T @ A @ x * (vector("u").T @ x), {"x": S})).coeffs
