"""Randomised exact identity tests (Schwartz-Zippel), for identities too large to expand.

An identity P = 0 between polynomials of total degree <= D over a field is tested by evaluating
P exactly (rational arithmetic, no rounding) at a point drawn uniformly from S^m, with S a set
of |S| integers. If P is not the zero polynomial, the test passes wrongly with probability at
most D / |S| (the Schwartz-Zippel lemma); k independent points give (D / |S|)^k. onestep uses
|S| = 2^63 (integers in [-2^62, 2^62)), so a single point of an identity of degree 8 errs with
probability below 1e-18. The points come from a seeded generator (``random.Random``), so a run
is reproducible; the bound is over the choice of the seed.

Every step that uses this says so in its ``method`` and gives the bound; an exact expansion is
always preferred where it is affordable.

>>> failure_bound(7)            # one point, degree 7
7.589415207398531e-19
>>> bound_text(7).split(";")[1]
' a nonzero polynomial of degree <= 7 passes with probability <= 7.6e-19 (Schwartz-Zippel)'
"""

from __future__ import annotations

import random

import sympy as sp

from .lsa import (
    PARAMETERISATIONS,
    effective_prediction,
    predict,
    reduction_display,
    reduction_words,
    to_effective,
)
from .proof import Step

#: the sample set S = [-2^62, 2^62): |S| = 2^63
BITS = 62
SIZE = 2 ** (BITS + 1)


def rng_for(*keys) -> random.Random:
    """A generator seeded deterministically from ``keys`` (e.g. the step and the task)."""
    return random.Random("|".join(map(str, keys)))


def integer(rng: random.Random, positive: bool = False) -> sp.Integer:
    """One coordinate of the random point: uniform on [-2^62, 2^62) (positive: on [1, 2^63])."""
    if positive:
        return sp.Integer(rng.randrange(1, SIZE + 1))
    return sp.Integer(rng.randrange(-(2 ** BITS), 2 ** BITS))


def matrix(rng: random.Random, rows: int, cols: int) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda i, j: integer(rng))


def failure_bound(degree: int, points: int = 1) -> float:
    """(degree / |S|)^points: the probability that a nonzero polynomial passes."""
    return (degree / SIZE) ** points


def bound_text(degree: int, points: int = 1, positive: bool = False) -> str:
    where = "[1, 2^63]" if positive else "[-2^62, 2^62)"
    return (f"randomised: exact evaluation at {points} pseudo-random point{'s' if points > 1 else ''} "
            f"with integer coordinates in {where}; a nonzero polynomial of degree <= {degree} passes "
            f"with probability <= {failure_bound(degree, points):.1e} (Schwartz-Zippel)")


def _random_weights(kind: str, d: int, rng: random.Random) -> dict:
    if kind == "paper":
        return {"WK": matrix(rng, d + 1, d + 1), "WQ": matrix(rng, d + 1, d + 1),
                "WV": matrix(rng, d + 1, d + 1), "h": matrix(rng, d + 1, 1)}
    return {"WKQ": matrix(rng, d + 1, d + 1), "WPV": matrix(rng, d + 1, d + 1)}


#: yhat is multilinear in (h, W^V, W^K, W^Q) and of degree 2 in a token plus 1 in x_q
REDUCTION_DEGREE = 7


def reduction_steps(d: int, seed: str = "reduction", effective=to_effective) -> list:
    """The reduction identities of :func:`derivations.lsa.reduction_steps`, tested at random points.

    For every parameterisation and variant: yhat computed from the parameterisation's own
    definition (:func:`derivations.lsa.predict`) equals the effective model at the (u, M, r) read
    off its weights (:func:`derivations.lsa.to_effective`), at pseudo-random integer weights and
    two pseudo-random context tokens and query. Same keys and titles as the expanded check.
    ``effective`` (the map from weights to (u, M, r)) is a parameter so a wrong one can be
    shown to be refuted.
    """
    steps = []
    for kind in PARAMETERISATIONS:
        for qik in (False, True):
            for res in (False, True):
                rng = rng_for(seed, d, kind, qik, res)
                weights = _random_weights(kind, d, rng)
                tokens = [matrix(rng, d + 1, 1) for _ in range(2)]
                xq = matrix(rng, d, 1)
                n = len(tokens)
                lhs = predict(kind, weights, tokens, xq, n, qik, res)
                rhs = effective_prediction(effective(kind, weights), tokens, xq, n, qik,
                                           res and kind == "paper")
                difference = sp.sympify(lhs - rhs)
                if not difference.is_Rational:       # numbers in, numbers out
                    raise ArithmeticError(f"reduction check: non-numeric value {difference}")
                same = difference == 0
                variant = ", ".join(v for v, on in (("query in keys", qik), ("residual", res)) if on) or "plain"
                steps.append(Step.checked(
                    f"reduction-{kind}-{int(qik)}{int(res)}",
                    f"Reduction ({kind} parameterisation, {variant})", reduction_words(kind, qik, res), same,
                    ("Associativity of the products; the query token carries 0 in its label slot, so "
                     "only the first d columns of the key-query product meet it."),
                    (bound_text(REDUCTION_DEGREE) + f" over every weight and token coordinate at d = {d} "
                     "(two context tokens)"),
                    detail="" if same else "the two predictions differ at the random point",
                    data={"randomised": True, "failure_bound": failure_bound(REDUCTION_DEGREE)},
                    display=reduction_display(kind, qik, res)))
    return steps
