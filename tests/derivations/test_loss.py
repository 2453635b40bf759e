"""The exact loss E[(yhat - y_q)^2] against independent truths: a naive brute-force
expansion (tests/naive_reference.py), a numpy Monte Carlo, and the closed form of the
Theorem 1 GD family derived by hand."""

import random
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from naive_reference import naive_loss, parameter_symbols
from sympy.polys.domains import QQ
from sympy.polys.fields import field as make_field

from derivations.loss import expected_loss, loss_parts
from derivations.lsa import EffectiveParameters
from derivations.task import Response, Task

n = sp.Symbol("n", integer=True, positive=True)
s2 = sp.Symbol("s2", nonnegative=True)
eta = sp.Symbol("eta", real=True)

SIGMA2 = sp.Matrix([[2, sp.Rational(1, 2)], [sp.Rational(1, 2), 1]])
OMEGA2 = sp.Matrix([[1, sp.Rational(-1, 3)], [sp.Rational(-1, 3), sp.Rational(1, 2)]])
SIGMA3 = sp.Matrix([[2, 1, 0], [1, 3, sp.Rational(-1, 2)],
                    [0, sp.Rational(-1, 2), sp.Rational(3, 4)]])


def equal(a, b) -> bool:
    """Exact equality of rational functions: the numerator of a - b expands to zero.

    Fast paths, both exact: the expanded difference is literally 0 (equal), or it is
    nonzero at a random rational point (unequal). Otherwise decide in the rational
    function field QQ(all symbols), where a + b/c is normalised to one cancelled fraction.
    """
    diff = sp.expand(sp.sympify(a) - sp.sympify(b))
    if diff == 0:
        return True
    rng = random.Random(7)
    point = {s: sp.Rational(rng.randint(1, 97), rng.randint(1, 13)) for s in diff.free_symbols}
    if sp.cancel(diff.xreplace(point)) != 0:
        return False
    K, *_ = make_field(sorted(diff.free_symbols, key=str), QQ)
    return K.from_expr(diff) == 0


def test_naive_symbols_are_the_pinned_ones():
    for d in (1, 2, 3):
        ux, uy, A, b, r = parameter_symbols(d)
        mine = ux + [uy] + [a for row in A for a in row] + b + r
        assert mine == EffectiveParameters.symbols(d).all_symbols()
    task = Task(d=1)
    assert (task.n, task.noise) == (n, s2)


# --- exact loss == naive brute force -----------------------------------------------------

CASES = {
    "thm1-d1": (dict(d=1), dict(d=1)),
    "thm1-d2": (dict(d=2), dict(d=2)),
    "thm2-d1": (dict(d=1, covariance=[[3]], prior="inverse-covariance"),
                dict(d=1, sigma=[[3]], omega=[[sp.Rational(1, 3)]])),
    "thm2-d2": (dict(d=2, covariance=SIGMA2, prior="inverse-covariance"),
                dict(d=2, sigma=SIGMA2, omega=SIGMA2.inv())),
    "ahn-d2": (dict(d=2, covariance=SIGMA2), dict(d=2, sigma=SIGMA2)),
    "general-prior-d2": (dict(d=2, covariance=SIGMA2, prior=OMEGA2),
                         dict(d=2, sigma=SIGMA2, omega=OMEGA2)),
    "fixed-n-noise-d2": (dict(d=2, n=5, noise="1/2", covariance=SIGMA2, prior="inverse-covariance"),
                         dict(d=2, sigma=SIGMA2, omega=SIGMA2.inv(), n=5, s2=sp.Rational(1, 2))),
    "zero-noise-d1": (dict(d=1, noise=0), dict(d=1, s2=0)),
}
for d in (1, 2):
    for qik, res in ((True, False), (False, True), (True, True)):
        tag = "-".join(["qik"] * qik + ["res"] * res)
        CASES[f"{tag}-d{d}"] = (dict(d=d, query_in_keys=qik, residual=res),
                                dict(d=d, query_in_keys=qik, residual=res))
        CASES[f"{tag}-thm2-d{d}"] = (
            dict(d=d, covariance=SIGMA2[:d, :d], prior="inverse-covariance",
                 query_in_keys=qik, residual=res),
            dict(d=d, sigma=SIGMA2[:d, :d], omega=SIGMA2[:d, :d].inv(),
                 query_in_keys=qik, residual=res))


@pytest.mark.parametrize("case", sorted(CASES))
def test_exact_loss_equals_naive_expansion(case):
    task_kwargs, naive_kwargs = CASES[case]
    exact = expected_loss(Task(**task_kwargs))
    assert equal(exact, naive_loss(**naive_kwargs))


def test_exact_loss_equals_naive_d3_theorem1():
    assert equal(expected_loss(Task(d=3)), naive_loss(3))


@pytest.mark.slow
def test_exact_loss_equals_naive_d3_general():
    task = Task(d=3, covariance=SIGMA3, prior="inverse-covariance", query_in_keys=True,
                residual=True)
    assert equal(expected_loss(task), naive_loss(3, SIGMA3, SIGMA3.inv(), query_in_keys=True,
                                                 residual=True))


def test_exact_loss_symbolic_covariance_d1():
    a = sp.Symbol("a", positive=True)
    task = Task(d=1, covariance=[[a]], prior="inverse-covariance")
    assert equal(expected_loss(task), naive_loss(1, [[a]], [[1 / a]]))


def test_naive_comparison_has_power():
    """Negative controls: a wrong prior or a missing variant term is detected."""
    exact = expected_loss(Task(d=2, covariance=SIGMA2, prior="inverse-covariance"))
    assert not equal(exact, naive_loss(2, SIGMA2, sp.eye(2)))
    assert not equal(exact, naive_loss(2, SIGMA2, SIGMA2))
    qik = expected_loss(Task(d=1, query_in_keys=True))
    assert not equal(qik, naive_loss(1))
    res = expected_loss(Task(d=1, residual=True))
    assert not equal(res, naive_loss(1))


def test_loss_parts_structure():
    parts = loss_parts(Task(d=2))
    assert set(parts.parts) <= {0, 1, 2}
    assert parts.nterms() == sum(len(p) for p in parts.parts.values()) > 0
    assert equal(parts.expr(), expected_loss(Task(d=2)))


# --- Monte Carlo at d = 3 (numpy, independent of the exact code) ---------------------------

def random_parameters(seed, d):
    rng = random.Random(seed)
    q = [Fraction(k, 4) for k in range(-4, 5)]
    u = sp.Matrix([sp.Rational(*_frac(rng.choice(q))) for _ in range(d + 1)])
    M = sp.Matrix(d + 1, d, lambda i, j: sp.Rational(*_frac(rng.choice(q))))
    r = sp.Matrix([sp.Rational(*_frac(rng.choice(q))) for _ in range(d)])
    return u, M, r


def _frac(f):
    return f.numerator, f.denominator


def monte_carlo_loss(u, M, r, sigma, omega, n, noise, qik, res, batches=20, batch=10_000, seed=0):
    """Mean of (yhat - y_q)^2 over batches*batch prompts and its standard error (batch means)."""
    rng = np.random.default_rng(seed)
    d = sigma.rows
    u, M, r = (np.array(m.tolist(), dtype=float) for m in (u, M, r))
    ux, uy, A, b, r = u[:d, 0], u[d, 0], M[:d, :], M[d, :], r[:, 0]
    Ls = np.linalg.cholesky(np.array(sigma.tolist(), dtype=float))
    Lo = np.linalg.cholesky(np.array(omega.tolist(), dtype=float))
    sd = float(noise) ** 0.5
    means = []
    for _ in range(batches):
        x = rng.standard_normal((batch, n, d)) @ Ls.T
        xq = rng.standard_normal((batch, d)) @ Ls.T
        w = rng.standard_normal((batch, d)) @ Lo.T
        y = np.einsum("bnd,bd->bn", x, w) + sd * rng.standard_normal((batch, n))
        yq = np.einsum("bd,bd->b", xq, w) + sd * rng.standard_normal(batch)
        left = x @ ux + uy * y                                   # u^T z_i
        right = x @ (A @ xq.T).T[:, :, None]                     # x_i^T A x_q
        right = right[..., 0] + y * (xq @ b)[:, None]            # + y_i b^T x_q
        yhat = (left * right).mean(axis=1)
        if qik:
            yhat += (xq @ ux) * np.einsum("bd,de,be->b", xq, A, xq) / n
        if res:
            yhat += xq @ r
        means.append(np.mean((yhat - yq) ** 2))
    means = np.array(means)
    return means.mean(), means.std(ddof=1) / np.sqrt(batches)


MC_CASES = [  # (covariance, prior, query_in_keys, residual, seed)
    (SIGMA3, "identity", False, False, 1),
    (SIGMA3, "inverse-covariance", True, True, 2),
]


@pytest.mark.parametrize("sigma, prior, qik, res, seed", MC_CASES)
def test_exact_loss_matches_monte_carlo_d3(sigma, prior, qik, res, seed):
    d, n_ctx, noise = 3, 5, sp.Rational(1, 2)
    task = Task(d=d, n=n_ctx, noise="1/2", covariance=sigma, prior=prior,
                query_in_keys=qik, residual=res)
    u, M, r = random_parameters(seed, d)
    exact = float(expected_loss(task, u, M, r if res else None))
    omega = sigma.inv() if prior == "inverse-covariance" else sp.eye(d)
    mean, se = monte_carlo_loss(u, M, r, sigma, omega, n_ctx, noise, qik, res, seed=seed)
    z = (mean - exact) / se
    assert abs(z) < 4, f"exact {exact:.5f}, MC {mean:.5f} +- {se:.5f} (z = {z:.2f})"
    # power: a perturbed parameter's loss is far outside the same band
    u2 = u.copy()
    u2[d] += sp.Rational(1, 2)
    perturbed = float(expected_loss(task, u2, M, r if res else None))
    assert abs(mean - perturbed) / se > 4


# --- the caller's own symbols and rational functions of n -----------------------------------

def generic_substituted(d, u, M, r=None, naive=True, **kwargs):
    """The generic loss polynomial with the caller's values substituted (naive or exact)."""
    ux, uy, A, b, rr = parameter_symbols(d)
    gen_u = ux + [uy]
    gen_M = [A[i][j] for i in range(d) for j in range(d)] + b
    mapping = dict(zip(gen_u, list(u), strict=True))
    mapping.update(zip(gen_M, [M[i, j] for i in range(d + 1) for j in range(d)], strict=True))
    if r is not None:
        mapping.update(zip(rr, list(r), strict=True))
    generic = naive_loss(d, **kwargs)
    return generic.xreplace(mapping)


def test_rational_function_of_n_parameters():
    d = 2
    u = sp.Matrix([0, 0, 1])
    M = (n / (n + 4) * sp.eye(d)).col_join(sp.zeros(1, d))
    got = expected_loss(Task(d=d), u, M)
    assert equal(got, generic_substituted(d, u, M))
    # power: n/(n+3) is a different point
    M3 = (n / (n + 3) * sp.eye(d)).col_join(sp.zeros(1, d))
    assert not equal(got, generic_substituted(d, u, M3))


def test_callers_symbols_polynomial_path():
    d = 2
    a, c, t = sp.symbols("a c t", real=True)
    u = sp.Matrix([t, 0, 1 - t])
    M = sp.Matrix([[a, c], [c, a], [t, 0]])
    got = expected_loss(Task(d=d, covariance=SIGMA2, prior="inverse-covariance"), u, M)
    want = generic_substituted(d, u, M, sigma=SIGMA2, omega=SIGMA2.inv())
    assert equal(got, want)


def test_callers_symbols_mixed_with_n_and_residual():
    d = 1
    k = sp.Symbol("k", positive=True)
    u, M, r = sp.Matrix([k, 1]), sp.Matrix([[k / (n + 1)], [1 / (k + 2)]]), sp.Matrix([k**2])
    got = expected_loss(Task(d=d, residual=True, query_in_keys=True), u, M, r)
    want = generic_substituted(d, u, M, r, residual=True, query_in_keys=True)
    assert equal(got, want)


def test_caller_symbol_named_like_an_internal_coordinate():
    """BUG (loss.loss_parts): the Gaussian coordinates are Symbol('w1', real=True), ...,
    Symbol('xq1', real=True), Symbol('eq', real=True); a caller's parameter with the same
    name and assumptions is silently integrated out as if it were the random task vector.
    The loss must not depend on what the caller calls a constant."""
    d = 1
    u = sp.Matrix([0, 1])
    clash, fresh = sp.Symbol("w1", real=True), sp.Symbol("c", real=True)
    got = expected_loss(Task(d=d), u, sp.Matrix([[clash], [0]]))
    want = expected_loss(Task(d=d), u, sp.Matrix([[fresh], [0]])).xreplace({fresh: clash})
    assert equal(got, want)


def test_explicit_numbers_and_shape_errors():
    d = 1
    got = expected_loss(Task(d=d, n=4, noise="1/4"), sp.Matrix([0, 1]),
                        sp.Matrix([[sp.Rational(1, 2)], [0]]))
    # hand formula for the GD family (below): d + s2 - 2 eta d + eta^2 d (n+d+1+s2)/n
    e, nn, ss = sp.Rational(1, 2), 4, sp.Rational(1, 4)
    assert got == d + ss - 2 * e * d + e**2 * d * (nn + d + 1 + ss) / nn
    with pytest.raises(ValueError, match="must be 3x1"):
        expected_loss(Task(d=2), sp.Matrix([0, 1]))
    with pytest.raises(NotImplementedError):
        expected_loss(Task(d=1, response=Response(family="expression", expr="s")))


# --- Theorem 1: the GD family u = e_{d+1}, A = eta I, b = 0 ---------------------------------

def gd_family_loss(d):
    u = sp.zeros(d + 1, 1)
    u[d] = 1
    M = (eta * sp.eye(d)).col_join(sp.zeros(1, d))
    return expected_loss(Task(d=d), u, M)


@pytest.mark.parametrize("d", range(1, 9))
def test_theorem1_gd_family(d):
    L = gd_family_loss(d)
    assert sp.Poly(sp.expand(L), eta).degree() == 2
    # E[(eta x_q^T g - y_q)^2] with E[g g^T] = (n+1+d+s2)/n I and E[w g^T] = I (by hand)
    assert equal(L, d + s2 - 2 * eta * d + eta**2 * d * (n + d + 1 + s2) / n)
    (star,) = sp.solve(sp.diff(L, eta), eta)
    assert equal(star, n / (n + d + 1 + s2))
    assert not equal(star, n / (n + d + s2))           # the wrong step size is rejected
    assert equal(L.subs(eta, star), s2 + d * (d + 1 + s2) / (n + d + 1 + s2))
    assert sp.diff(L, eta, 2).is_positive               # a minimum, not a maximum


def test_naive_reference_reproduces_the_hand_formula():
    """The reference itself against the hand-derived GD-family loss (d = 1, 2)."""
    for d in (1, 2):
        ux, uy, A, b, _ = parameter_symbols(d)
        point = {s: 0 for s in ux + b}
        point.update({A[i][j]: (eta if i == j else 0) for i in range(d) for j in range(d)})
        point[uy] = 1
        L = naive_loss(d).xreplace(point)
        assert equal(L, d + s2 - 2 * eta * d + eta**2 * d * (n + d + 1 + s2) / n)
