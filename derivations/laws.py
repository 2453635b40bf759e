"""Laws of the covariates: what the moment engine needs to know about x.

A task's covariate vectors (every context x_i and the query x_q) follow one :class:`Law`:

* :class:`Gaussian` (the default): x ~ N(0, Sigma) with the task's covariance. Isserlis'
  theorem applies; the engine's Gaussian fast paths are used unchanged.
* :class:`IID` laws: the d coordinates of x are independent copies of one symmetric
  scalar law with variance ``s`` and even moments m4 (and m6 when needed). Three ready
  made: ``uniform`` on [-a, a] (s = a^2/3, m4 = a^4/5, m6 = a^6/7), ``rademacher``
  (+-1, s = m4 = m6 = 1), and ``moments`` (given s and m4 only, m4 >= s^2).
  The covariance is then s I; a task with a non-Gaussian law has no ``covariance`` key.

Isserlis no longer holds for an IID law, so expectations of products of linear forms are
sums over set partitions into *even* blocks (odd cumulants of a symmetric law vanish):
a pair contributes a^T Sigma b, a block of size k >= 4 contributes
kappa_k * sum_j prod_{i in block} a_ij, kappa_k the k-th cumulant of the scalar law
(kappa_4 = m4 - 3 s^2, kappa_6 = m6 - 15 m4 s + 30 s^3). Moments of the query's
coordinates are products of scalar moments.

>>> law = Uniform(1)
>>> law.variance, law.moment(4), law.cumulant(4)
(1/3, 1/5, -2/15)
>>> law_from_spec({"law": "rademacher"}).cumulant(4)
-2
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import sympy as sp

from .errors import ExactInputError, TaskError

LAWS = ("gaussian", "uniform", "rademacher", "moments")
LAW_KEYS = {"gaussian": (), "uniform": ("half_width",), "rademacher": (),
            "moments": ("variance", "fourth_moment")}


class Law:
    """Base class: a law of the covariate vector."""

    name = "law"

    @property
    def is_gaussian(self) -> bool:
        return False

    def describe(self) -> str:
        raise NotImplementedError

    def spec(self) -> dict:
        """Plain data (JSON): {"law": name, parameters as exact strings}."""
        raise NotImplementedError


@dataclass(frozen=True)
class Gaussian(Law):
    """x ~ N(0, Sigma): the covariance is the task's ``covariance``."""

    name = "gaussian"

    @property
    def is_gaussian(self) -> bool:
        return True

    def describe(self) -> str:
        return "Gaussian"

    def spec(self) -> dict:
        return {"law": "gaussian"}

    def vector(self, name, dim, cov, private=True):
        from .moments import GaussianVector
        return GaussianVector(name, dim, cov, private=private)

    def matchings(self, forms, cov, space):
        from .engine import wick_matchings
        return wick_matchings(forms, cov, space)


GAUSSIAN = Gaussian()


class IID(Law):
    """Independent coordinates, each from a symmetric scalar law given by its even moments.

    Subclasses set ``_moments`` = {2: s, 4: m4, 6: m6 (or None)}.
    """

    _moments: dict

    @property
    def variance(self) -> sp.Expr:
        return self._moments[2]

    def moment(self, k: int) -> sp.Expr:
        """E[x^k] for one coordinate (0 for odd k: the law is symmetric)."""
        if k % 2:
            return sp.Integer(0)
        if k == 0:
            return sp.Integer(1)
        value = self._moments.get(k)
        if value is None:
            given = ", ".join(f"E[x^{j}]" for j, v in sorted(self._moments.items()) if v is not None)
            raise TaskError(f"covariates: the {self.name} law does not give E[x^{k}] (only {given})")
        return value

    def cumulant(self, k: int) -> sp.Expr:
        """kappa_k of one coordinate (even k; odd cumulants of a symmetric law are 0).

        From the moment-cumulant relation restricted to even blocks:
        kappa_2 = m2, kappa_4 = m4 - 3 m2^2, kappa_6 = m6 - 15 m4 m2 + 30 m2^3.
        """
        if k % 2:
            return sp.Integer(0)
        m2 = self.moment(2)
        if k == 2:
            return m2
        if k == 4:
            return self.moment(4) - 3 * m2**2
        if k == 6:
            return self.moment(6) - 15 * self.moment(4) * m2 + 30 * m2**3
        raise TaskError(f"covariates: cumulants of order {k} are not implemented")

    def covariance(self, d: int) -> sp.ImmutableMatrix:
        return sp.ImmutableMatrix(self.variance * sp.eye(d))

    def vector(self, name, dim, cov=None, private=True):
        return IIDVector(name, dim, self, private=private)

    def matchings(self, forms, cov, space):
        """E[prod_k forms[k] . xi] for xi = (x, rest), x iid from this law (its first
        ``law_dim`` coordinates) and the rest Gaussian with covariance ``cov``: a list of
        terms, each a list of factors whose product is the term (see the module docstring)."""
        return iid_matchings(forms, cov, space, self)


def _exact_positive(value, field):
    from .exact import parse_exact
    try:
        v = parse_exact(value, field)
    except ExactInputError as err:
        raise TaskError(str(err)) from None
    if not (v.is_number and v.is_positive):
        raise TaskError(f"{field}: must be a positive exact number, got {v}")
    return v


@dataclass(frozen=True, eq=False)
class Uniform(IID):
    """Uniform on [-a, a]: E[x^2] = a^2/3, E[x^4] = a^4/5, E[x^6] = a^6/7."""

    half_width: object = 1
    name = "uniform"

    def __post_init__(self):
        a = _exact_positive(self.half_width, "covariates.half_width")
        object.__setattr__(self, "half_width", a)
        object.__setattr__(self, "_moments", {2: a**2 / 3, 4: a**4 / 5, 6: a**6 / 7})

    def describe(self) -> str:
        return f"iid uniform on [-{self.half_width}, {self.half_width}]"

    def spec(self) -> dict:
        return {"law": "uniform", "half_width": str(self.half_width)}


@dataclass(frozen=True, eq=False)
class Rademacher(IID):
    """+-1 with probability 1/2 each: every even moment is 1."""

    name = "rademacher"

    def __post_init__(self):
        object.__setattr__(self, "_moments", {2: sp.Integer(1), 4: sp.Integer(1), 6: sp.Integer(1)})

    def describe(self) -> str:
        return "iid Rademacher (+-1)"

    def spec(self) -> dict:
        return {"law": "rademacher"}


@dataclass(frozen=True, eq=False)
class Moments(IID):
    """A symmetric law known by its variance s and fourth moment m4 only (m4 >= s^2, the
    condition for such a law to exist). No sixth moment: the query-in-keys variant, whose loss
    needs E[x^6], is refused for it."""

    variance_: object = 1
    fourth_moment: object = 3
    name = "moments"

    def __post_init__(self):
        s = _exact_positive(self.variance_, "covariates.variance")
        m4 = _exact_positive(self.fourth_moment, "covariates.fourth_moment")
        if m4 < s**2:
            raise TaskError(f"covariates.fourth_moment: must be >= variance^2 = {s**2} (no law has "
                            f"E[x^4] < E[x^2]^2), got {m4}")
        object.__setattr__(self, "variance_", s)
        object.__setattr__(self, "fourth_moment", m4)
        object.__setattr__(self, "_moments", {2: s, 4: m4, 6: None})

    def describe(self) -> str:
        return f"iid symmetric law with E[x^2] = {self.variance_}, E[x^4] = {self.fourth_moment}"

    def spec(self) -> dict:
        return {"law": "moments", "variance": str(self.variance_), "fourth_moment": str(self.fourth_moment)}


def law_from_spec(value) -> Law:
    """A :class:`Law` from None (Gaussian), a Law, or a table {"law": name, parameters}."""
    if value is None:
        return GAUSSIAN
    if isinstance(value, Law):
        return value
    if not isinstance(value, dict):
        raise TaskError(f"covariates: must be a table with 'law', got {type(value).__name__}")
    name = value.get("law")
    if name not in LAWS:
        raise TaskError(f"covariates.law: must be one of {', '.join(LAWS)}; got {name!r}")
    allowed = set(LAW_KEYS[name]) | {"law"}
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise TaskError(f"covariates: unknown key {unknown[0]!r} for law {name!r} "
                        f"(allowed: {', '.join(sorted(allowed))})")
    missing = [k for k in LAW_KEYS[name] if k not in value]
    if missing:
        raise TaskError(f"covariates.{missing[0]}: required for law {name!r}")
    if name == "gaussian":
        return GAUSSIAN
    if name == "uniform":
        return Uniform(value["half_width"])
    if name == "rademacher":
        return Rademacher()
    return Moments(value["variance"], value["fourth_moment"])


class IIDVector:
    """A random vector with iid coordinates from an :class:`IID` law, with the interface of
    :class:`~derivations.moments.GaussianVector` that :class:`~derivations.engine.Space` uses
    (name, dim, cov, coords, moment)."""

    def __init__(self, name: str, dim: int, law: IID, private=True):
        self.name, self.dim, self.law = name, dim, law
        self.cov = law.covariance(dim)
        make = (lambda s: sp.Dummy(s, real=True)) if private else (lambda s: sp.Symbol(s, real=True))
        self.coords = tuple(make(f"{name}{k + 1}") for k in range(dim))

    def __repr__(self):
        return f"IIDVector({self.name!r}, {self.dim}, {self.law.describe()})"

    def moment(self, alpha: tuple) -> sp.Expr:
        """E[prod_k x_k^alpha_k] = prod_k E[x^alpha_k] (independent coordinates)."""
        return prod((self.law.moment(a) for a in alpha), start=sp.Integer(1))


def _even_partitions(indices):
    """Set partitions of ``indices`` into blocks of even size (the only ones a symmetric
    law's cumulants do not kill)."""
    if not indices:
        yield []
        return
    first, rest = indices[0], indices[1:]
    n = len(rest)
    # the block holding ``first`` takes an odd number of the others
    from itertools import combinations
    for size in range(1, n + 1, 2):
        for others in combinations(range(n), size):
            block = (first,) + tuple(rest[k] for k in others)
            remaining = tuple(rest[k] for k in range(n) if k not in others)
            for tail in _even_partitions(remaining):
                yield [block] + tail


def iid_matchings(forms, cov, space, law: IID):
    """E[prod_k (forms[k] . xi)] with xi = (x_1..x_L, e...), x iid from ``law`` (L = dim of
    the law's part: every coordinate whose covariance entry is the law's variance and that
    precedes the last coordinate) and the remaining coordinates Gaussian.

    The caller's xi is (x, eps) with eps Gaussian: the law's coordinates are the first
    len(form) - 1. Returns a list of terms, each a list of ring factors (the product is the
    term); pairs are a^T cov b (the same factor as Wick's), larger blocks are
    kappa_k * sum_j prod_i a_ij over the law's coordinates only.
    """
    from .engine import bilinear

    K = len(forms)
    if K % 2:
        return []
    L = len(forms[0]) - 1
    pair_cache, block_cache = {}, {}

    def block_value(block):
        if len(block) == 2:
            if block not in pair_cache:
                pair_cache[block] = bilinear(forms[block[0]], forms[block[1]], cov, space)
            return pair_cache[block]
        if block not in block_cache:
            kappa = law.cumulant(len(block))
            total = space.ring.zero
            if kappa != 0:
                for j in range(L):
                    term = prod((forms[i][j] for i in block), start=space.ring.one)
                    if term:
                        total += term
                total = total * space(kappa)
            block_cache[block] = total
        return block_cache[block]

    out = []
    for partition in _even_partitions(tuple(range(K))):
        factors = []
        for block in partition:
            value = block_value(block)
            if not value:
                break
            factors.append(value)
        else:
            out.append(factors)
    return out


__all__ = ["Law", "Gaussian", "GAUSSIAN", "IID", "Uniform", "Rademacher", "Moments", "IIDVector",
           "law_from_spec", "iid_matchings", "LAWS"]
