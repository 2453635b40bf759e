"""Gaussian expectations at the index level: slot partitions, then Isserlis pairings.

For a term with context-average slots s_1..s_K (each carrying 1/n already), the
multiple sum over example indices splits by which indices coincide: a set partition
of the slots with m blocks occurs n(n-1)...(n-m+1) times, and distinct blocks are
independent examples. Within one partition, each Gaussian (name, block) is centred,
so by Isserlis' theorem its occurrences are paired in all perfect matchings; a pair
(i, j) becomes the covariance factor K[i, j]. Different Gaussians never pair (they
are independent) and an odd number of occurrences gives 0.

>>> import sympy as sp
>>> from derivations.alld.tensor import gaussian, matrix, identity
>>> x, A = gaussian("x"), matrix("A")
>>> out = expect(x.T @ A @ x, {"x": identity()})     # E[x^T A x] = tr(A) for x ~ N(0, I)
>>> [t.coef for t in out.terms], [f.kind for f in out.terms[0].factors]
([1], ['mat', 'delta'])
"""

from __future__ import annotations

from functools import cache
from itertools import product

import sympy as sp

from ..engine import set_partitions  # one implementation for both engines
from ..symbols import n as N
from .tensor import Factor, Tensor, Term, _relabel


@cache
def perfect_matchings(size: int) -> tuple:
    """All perfect matchings of range(size), each a tuple of pairs ((2k-1)!! of them)."""
    if size % 2:
        return ()
    if size == 0:
        return ((),)
    out = []
    for k in range(1, size):
        rest = [j for j in range(1, size) if j != k]
        for tail in perfect_matchings(size - 2):
            out.append(((0, k),) + tuple((rest[a], rest[b]) for a, b in tail))
    return tuple(out)


def falling_factorial(n, m: int):
    """n (n-1) ... (n-m+1): the number of injective assignments of m blocks to n examples."""
    out = sp.Integer(1)
    for k in range(m):
        out *= n - k
    return out


def _covariance_terms(spec, i, j):
    """The terms of K[i, j] for a covariance spec (a 2-index Tensor)."""
    rep = spec.renamed()
    return _relabel_all(rep, (i, j))


def _relabel_all(t: Tensor, new_free):
    mapping = dict(zip(t.free, new_free, strict=True))
    return [_relabel(term, mapping, {}) for term in t.terms]


def expect(t: Tensor, covariances: dict, n=N) -> Tensor:
    """E[t] for independent centred Gaussians; returns a Gaussian-free tensor.

    ``covariances`` maps each Gaussian name to its covariance: a 2-index
    :class:`~derivations.alld.tensor.Tensor` for vectors (e.g. ``matrix("Sigma",
    symmetric=True)``, ``identity()``, ``inverse("Sigma", True)``) or a SymPy scalar
    (the variance) for scalar Gaussians. Per-example Gaussians are iid across examples.
    """
    # every random name needs a law before any moment is taken (an odd count of an
    # unknown variable must not be read as a vanishing centred-Gaussian moment)
    missing = {f.label[0] for term in t.terms for f in term.factors
               if f.kind == "gauss" and f.label[0] not in covariances}
    if missing:
        raise KeyError(f"no covariance given for Gaussian {sorted(missing)[0]!r}")
    out = []
    for term in t.terms:
        slots = list(dict.fromkeys(term.slots))
        for partition in set_partitions(slots):
            block = {s: b[0] for b in partition for s in b}
            weight = falling_factorial(n, len(partition))
            out.extend(_wick_term(term, block, weight, covariances))
    return Tensor(out, t.free)


def _wick_term(term: Term, block: dict, weight, covariances: dict):
    plain, groups = [], {}
    for f in term.factors:
        if f.kind != "gauss":
            plain.append(f)
            continue
        name, slot = f.label
        key = (name, block.get(slot, slot))
        groups.setdefault(key, []).append(f)
    if any(len(g) % 2 for g in groups.values()):
        return []
    # per Gaussian: a list of (coefficient, factors) alternatives, one per matching (and
    # per term of the covariance when it is a sum)
    choices = []
    for (name, _), occ in groups.items():
        if name not in covariances:
            raise KeyError(f"no covariance given for Gaussian {name!r}")
        spec = covariances[name]
        alternatives = []
        for matching in perfect_matchings(len(occ)):
            partial = [(sp.Integer(1), ())]
            for a, b in matching:
                if isinstance(spec, Tensor):
                    cov = _covariance_terms(spec, occ[a].idx[0], occ[b].idx[0])
                    partial = [(c * k.coef, fs + k.factors) for c, fs in partial for k in cov]
                else:
                    partial = [(c * spec, fs) for c, fs in partial]
            alternatives.extend(partial)
        choices.append(alternatives)
    out = []
    for combo in product(*choices):
        coef = term.coef * weight
        factors = tuple(plain)
        for c, fs in combo:
            coef *= c
            factors += fs
        out.append(Term(coef, factors, ()))
    return out


__all__ = ["expect", "set_partitions", "perfect_matchings", "falling_factorial", "Factor"]
