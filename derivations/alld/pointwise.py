"""Identities between *random* index-notation expressions, for every value of the randomness.

:mod:`.canonical` decides identities after the expectation has removed every Gaussian. A
statement such as "the LSA prediction equals x_q^T Gamma g" holds pointwise instead: for
every context, query and task vector. Here every Gaussian occurrence is treated as a
vector (or scalar) *value*, and every context average as a sum over examples:

* a product of K averages is a sum over K-tuples of example indices, which splits by the
  set partition of the tuple into sums over *distinct* indices (one per partition; the
  same split as in :mod:`.wick`, but without expectation weights);
* a block of the partition that no variable refers to contributes a count: with m blocks
  in use, each unused block multiplies by (n - m), (n - m - 1), ...;
* a sum over distinct indices is unchanged by renaming its blocks, so the canonical key of
  a term is the least key over all permutations of its blocks.

Equal keys with exactly cancelling coefficients are therefore a proof that the two sides
agree for every n, every d, every matrix and every value of the random variables. Unequal
keys decide nothing; :meth:`Pointwise.evaluate` gives the exact value at explicit n, data
and matrices, so a search can look for a counterexample.

>>> from derivations.alld.tensor import average, example, gaussian, matrix
>>> x, A = example("x"), matrix("A")
>>> q = gaussian("q")
>>> lhs = q.T @ A @ average(x * (x.T @ q))            # x_q^T A (1/n) sum_i x_i x_i^T x_q
>>> rhs = average((q.T @ A @ x) * (x.T @ q))
>>> Pointwise.of(lhs) == Pointwise.of(rhs)
True
"""

from __future__ import annotations

import itertools
from collections import Counter

import sympy as sp

from ..engine import set_partitions
from ..exact import is_zero
from ..symbols import n as N
from .canonical import key_value, value_shape
from .contract import canonical_term
from .tensor import TEMPLATE, Factor, Tensor, d

#: the most distinct example blocks a single term may use (block permutations are tried)
MAX_BLOCKS = 6


#: random values are named "~name" (shared) or "~name[k]" (example block k); constant
#: vectors keep their plain names, which never start with "~"
RANDOM = "~"


def block_label(name: str, block) -> str:
    """The value name of a Gaussian: ``~name`` when shared, ``~name[k]`` in block k."""
    return RANDOM + (name if block is None else f"{name}[{block}]")


def parse_label(label: str):
    """(name, block) from :func:`block_label`; None for a constant vector's name."""
    if not label.startswith(RANDOM):
        return None
    label = label[len(RANDOM):]
    if label.endswith("]") and "[" in label:
        name, _, rest = label.rpartition("[")
        return name, int(rest[:-1])
    return label, None


def _falling(n, start, count):
    out = sp.Integer(1)
    for k in range(count):
        out *= n - start - k
    return out


class Pointwise:
    """A random tensor in canonical form: key -> exact coefficient (see the module doc).

    Keys are ``(open chains, closed factors, scalar variables)``; the scalar part is a
    sorted tuple of (label, power) for scalar Gaussians such as the noise eps_i.
    """

    __slots__ = ("coeffs", "order")

    def __init__(self, coeffs: dict, order: int):
        self.coeffs = {k: c for k, c in coeffs.items() if not is_zero(c)}
        self.order = order

    @classmethod
    def of(cls, t: Tensor, n=N) -> Pointwise:
        acc: dict = {}
        for term in t.terms:
            slots = list(dict.fromkeys(term.slots))
            for partition in set_partitions(slots):
                block = {s: k for k, b in enumerate(partition) for s in b}
                key, coef = _term_key(term, block, len(partition), t.free, n)
                acc.setdefault(key, []).append(coef)
        return cls({k: sp.cancel(sp.together(sp.Add(*cs))) for k, cs in acc.items()}, len(t.free))

    def __sub__(self, other: Pointwise) -> Pointwise:
        coeffs = dict(self.coeffs)
        for k, c in other.coeffs.items():
            coeffs[k] = sp.cancel(sp.together(coeffs.get(k, 0) - c))
        return Pointwise(coeffs, self.order)

    def __eq__(self, other) -> bool:
        return isinstance(other, Pointwise) and not (self - other).coeffs

    __hash__ = None

    def __len__(self):
        return len(self.coeffs)

    def atoms(self) -> set:
        """("mat", name, symmetric) and ("vec", name) of the constants that occur."""
        names = set()
        for chains, closed, _ in self.coeffs:
            for item in chains + closed:
                for part in item:
                    if isinstance(part, tuple) and part and part[0] == "v":
                        if not parse_label(part[1]):
                            names.add(("vec", part[1]))
                    elif isinstance(part, tuple):
                        names.update(("mat", e[0], e[3]) for e in part
                                     if isinstance(e, tuple) and len(e) == 4)
        return names

    def random_names(self) -> set:
        """Names of the random variables that occur."""
        return {name for key in self.coeffs for name, _ in _labels(*key)}

    def evaluate(self, env: dict, dim: int, data: dict, n_value: int, subs: dict | None = None):
        """The exact value for explicit matrices, n and random values.

        ``env`` holds the constant matrices and vectors; ``data`` maps a shared random
        variable to its value and a per-example variable to the list of its n values
        (vectors as d x 1 matrices, scalars as numbers).
        """
        values = {d: dim, N: n_value, **(subs or {})}
        total = sp.zeros(*value_shape(self.order, dim))
        cache: dict = {}
        for (chains, closed, scalars), coef in self.coeffs.items():
            labels = _labels(chains, closed, scalars)
            blocks = sorted({b for _, b in labels if b is not None})
            c = sp.sympify(coef).xreplace(values)
            for assignment in itertools.permutations(range(n_value), len(blocks)):
                where = dict(zip(blocks, assignment, strict=True))
                local = dict(env)
                for name, b in labels:
                    value = data[name] if b is None else data[name][where[b]]
                    local[block_label(name, b)] = value
                term = c
                for label, power in scalars:
                    term *= sp.sympify(local[label]) ** power
                local_cache = cache if not blocks else {}
                total += term * key_value(chains, closed, self.order, local, dim, local_cache)
        total = total.applyfunc(lambda v: sp.cancel(sp.together(v)))
        return total[0, 0] if self.order == 0 else total


def _labels(chains, closed, scalars) -> set:
    """(name, block) of every random value in a key (vector ends and scalar factors)."""
    out = set()
    for item in chains + closed:
        for part in item:
            if isinstance(part, tuple) and part and part[0] == "v" and parse_label(part[1]):
                out.add(parse_label(part[1]))
    for label, _ in scalars:
        out.add(parse_label(label))
    return out


def _term_key(term, block: dict, blocks: int, free, n):
    """The canonical key and coefficient of one term under one partition of its slots."""
    used = sorted({block[f.label[1]] for f in term.factors
                   if f.kind == "gauss" and f.label[1] in block})
    if len(used) > MAX_BLOCKS:
        raise ValueError(f"a term uses {len(used)} distinct examples (at most {MAX_BLOCKS})")
    if any(f.kind == "gauss" and f.label[1] == TEMPLATE for f in term.factors):
        raise ValueError("a per-example variable occurs outside every context average")
    coef = term.coef * _falling(n, len(used), blocks - len(used))
    best = None
    for perm in itertools.permutations(range(len(used))):
        rank = {b: perm[k] for k, b in enumerate(used)}
        factors, scalars = [], Counter()
        for f in term.factors:
            if f.kind != "gauss":
                factors.append(f)
                continue
            name, slot = f.label
            label = block_label(name, rank[block[slot]] if slot in block else None)
            if f.idx:
                factors.append(Factor("vec", label, f.idx))
            else:
                scalars[label] += 1
        mult, chains, closed = canonical_term(tuple(factors), free)
        key = (chains, closed, tuple(sorted(scalars.items())))
        if best is None or repr(key) < repr(best[0]):
            best = (key, mult)
    return best[0], coef * best[1]


__all__ = ["Pointwise", "block_label", "parse_label", "MAX_BLOCKS", "RANDOM"]
