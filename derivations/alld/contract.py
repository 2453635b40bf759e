"""Contract a Gaussian-free index-notation term into canonical chains and traces.

Every matrix factor is an edge between its two indices; a vector factor or a free
index ends a path. So the index graph of a term falls apart into

* open chains  ``end . M1 M2 ... Mk . end`` whose ends are vectors or free indices, and
* cycles       ``tr(M1 ... Mk)``.

Kronecker deltas are identity edges and disappear; a cycle made only of deltas is
tr(I) = d. Along a chain, symmetric atoms drop their transposes and adjacent
X X^{-1} (or X^T X^{-T}) cancel, cyclically inside traces. The canonical key of a
chain is the lexicographically least of its equivalent spellings: a scalar chain
u^T M v equals v^T M^T u, and a trace is invariant under rotation and transposition.

Elements are tuples ``(name, inverse, transposed, symmetric)``; ends are
``("free", position)`` or ``("v", name)``.

>>> from derivations.alld.tensor import Factor, Atom
>>> S = Atom("Sigma", symmetric=True)
>>> fs = (Factor("mat", S, (1, 2)), Factor("mat", S.inv, (2, 1)))    # tr(Sigma Sigma^-1)
>>> canonical_term(fs, free=())                          # tr(I) = d, nothing left
(d, (), ())
"""

from __future__ import annotations


def _element(factor, transposed: bool):
    if factor.kind == "delta":
        return None
    atom = factor.label
    return (atom.name, atom.inverse, transposed and not atom.symmetric, atom.symmetric)


def _cancel(elements: list) -> list:
    """Drop identities and cancel adjacent X X^{-1} pairs (a stack pass)."""
    stack = []
    for e in elements:
        if e is None:
            continue
        if stack and _inverse_pair(stack[-1], e):
            stack.pop()
        else:
            stack.append(e)
    return stack


def _inverse_pair(a, b) -> bool:
    return a[0] == b[0] and a[1] != b[1] and a[2] == b[2]


def _cancel_cyclic(elements: list) -> list:
    seq = _cancel(elements)
    while len(seq) >= 2 and _inverse_pair(seq[-1], seq[0]):
        seq = _cancel(seq[1:-1])
    return seq


def transpose_chain(elements) -> tuple:
    """(M1 ... Mk)^T = Mk^T ... M1^T, with symmetric atoms left untransposed."""
    return tuple((e[0], e[1], (not e[2]) and not e[3], e[3]) for e in reversed(elements))


def canonical_trace(elements) -> tuple:
    """The least rotation of the cycle or of its transpose."""
    seq = tuple(_cancel_cyclic(list(elements)))
    if not seq:
        return ()
    candidates = []
    for s in (seq, transpose_chain(seq)):
        candidates.extend(s[k:] + s[:k] for k in range(len(s)))
    return min(candidates)


def canonical_term(factors, free=()):
    """Return (multiplier, open_chains, closed_factors) for a Gaussian-free term.

    multiplier is d^(number of pure-delta cycles) as a SymPy expression;
    open_chains is a sorted tuple of chains with at least one free end (oriented so
    the free end with the smaller position comes first); closed_factors is a sorted
    tuple of ``("tr", elements)`` and ``("dot", end, elements, end)`` scalars.
    """
    from .tensor import d

    occurrences: dict = {}
    for fi, f in enumerate(factors):
        if f.kind == "gauss":
            raise ValueError("take the expectation before contracting")
        for pos, i in enumerate(f.idx):
            occurrences.setdefault(i, []).append((fi, pos))
    position = {i: k for k, i in enumerate(free)}
    for i, occ in occurrences.items():
        limit = 1 if i in position else 2
        if len(occ) > limit:
            raise ValueError(f"index {i} occurs {len(occ)} times")
    visited = set()

    def other(i, fi, pos):
        rest = [o for o in occurrences.get(i, []) if o != (fi, pos)]
        return rest[0] if rest else None

    def walk(fi, pos):
        """Walk a path entering factor fi at index slot pos; return (elements, end)."""
        elements = []
        while True:
            f = factors[fi]
            visited.add(fi)
            if f.kind == "vec":
                return elements, ("v", f.label)
            elements.append(_element(f, transposed=(pos == 1)))
            nxt = f.idx[1 - pos]
            hop = other(nxt, fi, 1 - pos)
            if hop is None:
                return elements, ("free", position[nxt])
            fi, pos = hop

    open_chains, closed = [], []

    def finish(start, elements, end):
        seq = tuple(_cancel(elements))
        forward, backward = (start, seq, end), (end, transpose_chain(seq), start)
        if start[0] == "free" or end[0] == "free":
            # orient by the free indices: the free end with the smaller position first
            rank = [e[1] if e[0] == "free" else len(free) for e in (start, end)]
            open_chains.append(forward if rank[0] <= rank[1] else backward)
        else:
            closed.append(("dot",) + min(forward, backward))

    for i in free:
        hop = other(i, None, None)
        if hop is None:
            raise ValueError(f"free index {i} does not occur in the term")
        if hop[0] in visited:
            continue
        elements, end = walk(*hop)
        finish(("free", position[i]), elements, end)
    for fi, f in enumerate(factors):
        if f.kind == "vec" and fi not in visited:
            visited.add(fi)
            hop = other(f.idx[0], fi, 0)
            if hop is None:
                finish(("v", f.label), [], ("free", position[f.idx[0]]))
            else:
                elements, end = walk(*hop)
                finish(("v", f.label), elements, end)
    multiplier = 1
    for fi in range(len(factors)):
        if fi in visited:
            continue
        elements, cur = [], (fi, 0)
        while True:
            f = factors[cur[0]]
            visited.add(cur[0])
            elements.append(_element(f, transposed=(cur[1] == 1)))
            nxt = f.idx[1 - cur[1]]
            cur = other(nxt, cur[0], 1 - cur[1])
            if cur == (fi, 0):
                break
        key = canonical_trace(elements)
        if key:
            closed.append(("tr", key))
        else:
            multiplier *= d
    return multiplier, tuple(sorted(open_chains)), tuple(sorted(closed))
