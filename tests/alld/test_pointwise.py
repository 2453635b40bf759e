"""Pointwise identities of random expressions: canonical forms and explicit values."""

import random

import sympy as sp

from derivations.alld.pointwise import Pointwise
from derivations.alld.tensor import average, example, example_scalar, gaussian, matrix, scalar, vector
from derivations.symbols import n

A = matrix("A")


def test_partition_split_of_a_product_of_averages():
    x = example("x")
    # avg(x)^T avg(x) = (1/n^2) [sum_i |x_i|^2 + sum_{i != j} x_i^T x_j]
    P = Pointwise.of(average(x).T @ average(x))
    assert sorted(P.coeffs.values(), key=str) == [n**-2, n**-2]


def test_unused_blocks_are_counted():
    x = example("x")
    assert Pointwise.of(average(x) * average(scalar(1))) == Pointwise.of(average(x))
    assert Pointwise.of(average(scalar(1)) * average(scalar(1))) == Pointwise.of(scalar(1))
    assert not Pointwise.of(average(x) * average(scalar(1))) == Pointwise.of(average(x) * 2)


def test_blocks_are_renamed_freely():
    x, y = example("x"), example("x")
    lhs = average(x.T @ A) @ average(y)
    x2, y2 = example("x"), example("x")
    rhs = average(y2.T @ A.T) @ average(x2)          # a_i^T A b_j summed = b_j^T A^T a_i summed
    assert Pointwise.of(lhs) == Pointwise.of(rhs)


def test_values_match_a_direct_sum():
    rng = random.Random(3)
    dim, n_value = 2, 3
    x, e = example("x"), example_scalar("e")
    q = gaussian("q")
    expr = average(x * (x.T @ A @ q) * e) + average(x) * average(e * e)
    data = {"x": [sp.Matrix(dim, 1, lambda i, j: rng.randint(-2, 2)) for _ in range(n_value)],
            "e": [sp.Integer(rng.randint(-2, 2)) for _ in range(n_value)],
            "q": sp.Matrix(dim, 1, lambda i, j: rng.randint(-2, 2))}
    Am = sp.Matrix([[1, 2], [0, 3]])
    value = Pointwise.of(expr).evaluate({"A": Am}, dim, data, n_value)
    xs, es, qv = data["x"], data["e"], data["q"]
    direct = (sum((xs[i] * (xs[i].T * Am * qv)[0, 0] * es[i] for i in range(n_value)), sp.zeros(dim, 1)) / n_value
              + sum(xs, sp.zeros(dim, 1)) / n_value * sum(v * v for v in es) / n_value)
    assert value == direct


def test_constant_vectors_are_not_random():
    u = vector("u")
    P = Pointwise.of(u.T @ A @ u + (gaussian("w").T @ u))
    assert ("vec", "u") in P.atoms() and P.random_names() == {"w"}
