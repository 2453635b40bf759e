"""Exact moments E[x^alpha] of a centred Gaussian vector with an exact covariance.

Isserlis' theorem as a recursion on the exponent vector, memoised per covariance:
E[x_i * x^beta] = sum_j Sigma_ij * beta_j * E[x^(beta - e_j)]. Identity and diagonal
covariances have product closed forms, E[x_k^(2m)] = sigma_kk^m (2m-1)!!.

>>> import sympy as sp
>>> x = GaussianVector("x", 2, sp.Matrix([[2, 1], [1, 3]]))
>>> x.moment((2, 2))              # E[x1^2 x2^2] = s11 s22 + 2 s12^2
8
>>> x.moment((1, 0))
0
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp


def double_factorial_odd(m: int) -> int:
    """(2m - 1)!! = 1 * 3 * ... * (2m - 1), with (-1)!! = 1."""
    out = 1
    for k in range(1, 2 * m, 2):
        out *= k
    return out


class GaussianVector:
    """A centred Gaussian vector N(0, cov) whose coordinates are SymPy symbols.

    ``cov`` may be None (identity), or an exact SymPy matrix (rationals or symbols).
    Coordinates are named ``{name}{k}`` (k = 1..dim) unless ``names`` is given; with
    ``private=True`` they are Dummy symbols (used by onestep's own derivations).
    """

    def __init__(self, name: str, dim: int, cov=None, names=None, private=False):
        self.name = name
        self.dim = dim
        from .exact import as_exact_matrix

        self.cov = sp.ImmutableMatrix(sp.eye(dim) if cov is None else
                                      as_exact_matrix(cov, f"{name}: covariance", shape=(dim, dim)))
        if self.cov.shape != (dim, dim):
            raise ValueError(f"{name}: covariance must be {dim}x{dim}")
        names = names or [f"{name}{k + 1}" for k in range(dim)]
        # private coordinates are Dummy symbols: no caller's symbol can ever equal them,
        # so a parameter named like a coordinate is never mistaken for a random variable
        make = (lambda s: sp.Dummy(s, real=True)) if private else (lambda s: sp.Symbol(s, real=True))
        self.coords = tuple(make(s) for s in names)
        self._kind = self._classify()
        self._general_moment = lru_cache(maxsize=None)(self._general_moment_uncached)

    def _classify(self) -> str:
        if self.cov == sp.eye(self.dim):
            return "identity"
        if all(self.cov[i, j] == 0 for i in range(self.dim) for j in range(self.dim) if i != j):
            return "diagonal"
        return "general"

    def __repr__(self):
        return f"GaussianVector({self.name!r}, {self.dim}, {self._kind})"

    def moment(self, alpha: tuple) -> sp.Expr:
        """E[prod_k x_k^alpha_k] exactly (a SymPy number or expression)."""
        if sum(alpha) % 2:
            return sp.Integer(0)
        if self._kind != "general":
            value = sp.Integer(1)
            for k, a in enumerate(alpha):
                if a % 2:
                    return sp.Integer(0)
                value *= double_factorial_odd(a // 2)
                if self._kind == "diagonal" and a:
                    value *= self.cov[k, k] ** (a // 2)
            return value
        return self._general_moment(tuple(alpha))

    def _general_moment_uncached(self, alpha: tuple) -> sp.Expr:
        if not any(alpha):
            return sp.Integer(1)
        if sum(alpha) % 2:
            return sp.Integer(0)
        i = next(k for k, a in enumerate(alpha) if a)
        beta = list(alpha)
        beta[i] -= 1
        total = sp.Integer(0)
        for j, bj in enumerate(beta):
            if bj and self.cov[i, j] != 0:
                reduced = list(beta)
                reduced[j] -= 1
                total += self.cov[i, j] * bj * self._general_moment(tuple(reduced))
        return sp.expand(total)
