"""A syntactic certificate that a canonical matrix expression is positive definite.

Used for the convexity step: if C = E[g g^T] is positive definite and Sigma is, then
tr(M C M^T Sigma) = |Sigma^(1/2) M C^(1/2)|_F^2 > 0 for M != 0, so the quadratic loss
has exactly one minimiser. The certificate is deliberately simple and sound:

* a term is positive semidefinite when its coefficient is provably >= 0 (SymPy
  assumptions: n, d positive integers, s2 >= 0), each trace factor is tr(P) or tr(P Q)
  with P, Q positive definite (positive), and its matrix is a palindrome
  X1 ... Xk P Xk ... X1 of symmetric invertible atoms around a positive-definite centre
  (a congruence of P, hence positive definite) or the identity;
* the sum is positive definite when every term is PSD and one has a coefficient > 0.

Anything else is "cannot certify" (None), never a false "yes".

>>> from derivations.alld.tensor import matrix, identity
>>> from derivations.alld.canonical import Canonical
>>> S = matrix("Sigma", symmetric=True)
>>> certify_positive_definite(Canonical.of(S @ S @ S + identity()), {"Sigma"})
True
>>> certify_positive_definite(Canonical.of(S - identity()), {"Sigma"}) is None
True
"""

from __future__ import annotations


def _pd_element(e, pd: set) -> bool:
    # the inverse of a positive-definite matrix is positive definite
    return e[0] in pd and e[3]


def _positive_trace(item, pd: set) -> bool:
    if item[0] != "tr":
        return False
    seq = item[1]
    return 1 <= len(seq) <= 2 and all(_pd_element(e, pd) for e in seq)


def _pd_chain(seq, pd: set) -> bool:
    if not seq:
        return True  # the identity
    if len(seq) % 2 == 0 or tuple(seq) != tuple(reversed(seq)):
        return False
    middle = seq[len(seq) // 2]
    # outer factors only need to be symmetric and invertible; PD atoms are both
    return _pd_element(middle, pd) and all(_pd_element(e, pd) for e in seq)


def certify_positive_definite(c, pd: set):
    """True if ``c`` (a 2-index Canonical) is certified positive definite, else None.

    ``pd`` names the symmetric atoms known to be positive definite.
    """
    if c.order != 2 or not c.coeffs:
        return None
    strict = False
    for (chains, closed), coef in c.coeffs.items():
        if len(chains) != 1:
            return None
        start, seq, end = chains[0]
        if start[0] != "free" or end[0] != "free" or not _pd_chain(seq, pd):
            return None
        if not all(_positive_trace(item, pd) for item in closed):
            return None
        if coef.is_positive:
            strict = True
        elif not coef.is_nonnegative:
            return None
    return True if strict else None


# --- positive semidefinite (and definite) certificates for relations ---------------------

def _congruence(seq, pd: set) -> bool:
    """seq = L P L^T with P a positive-definite atom or absent: a PSD matrix for every L."""
    from .contract import transpose_chain

    seq = tuple(seq)
    half = len(seq) // 2
    left = seq[:half]
    if len(seq) % 2:
        middle, right = seq[half], seq[half + 1:]
        if not _pd_element(middle, pd):
            return False
    else:
        right = seq[half:]
    return right == transpose_chain(left)


def _nonnegative_trace(seq, pd: set) -> bool:
    """tr(seq) >= 0: some rotation is a congruence L P L^T, or a congruence times a
    positive-definite atom (tr(X Q) >= 0 for X PSD and Q PD)."""
    from .contract import transpose_chain

    seq = tuple(seq)
    for s in (seq, transpose_chain(seq)):
        for k in range(len(s)):
            r = s[k:] + s[:k]
            if _congruence(r, pd) or (_pd_element(r[-1], pd) and _congruence(r[:-1], pd)):
                return True
    return False


def _nonnegative_scalar(item, pd: set) -> bool:
    """A trace or scalar chain that is >= 0 for every value of the atoms."""
    if item[0] == "tr":
        return _positive_trace(item, pd) or _nonnegative_trace(item[1], pd)
    _, a, seq, b = item
    return a == b and _congruence(seq, pd)


def _term_psd(chains, closed, scalars, order, pd):
    """(psd, pd) for one term: is it a PSD matrix (or >= 0 scalar), and strictly PD?"""
    from collections import Counter

    if any(power % 2 for _, power in scalars):
        return False, False
    counts = Counter(closed)
    for item, times in counts.items():
        if times % 2 and not _nonnegative_scalar(item, pd):
            return False, False
    strict_scalars = not scalars and all(_positive_trace(item, pd) for item in closed)
    if order == 0:
        return True, strict_scalars
    if len(chains) == 1:
        start, seq, end = chains[0]
        if start[0] == "free" and end[0] == "free" and _congruence(seq, pd):
            return True, strict_scalars and _pd_chain(seq, pd)
        return False, False
    if len(chains) == 2:
        (s0, q0, e0), (s1, q1, e1) = chains
        if s0 == ("free", 0) and s1 == ("free", 1) and e0 == e1 and e0[0] == "v" and q0 == q1:
            return True, False                    # u u^T with u = X v: rank one
    return False, False


def certify_order(c, pd: set):
    """"pd", "psd" or None for a Canonical or Pointwise of order 0 or 2.

    "psd": every term is a nonnegative multiple of a PSD matrix (a congruence L P L^T, an
    outer product u u^T, times nonnegative scalars: even powers, traces of PD products,
    traces of a congruence (times a PD atom), quadratic forms v^T L P L^T v); "pd" in
    addition: one term is strictly positive definite (a palindrome of PD atoms or the
    identity, a positive coefficient, positive traces). The coefficient signs come from
    SymPy's assumptions (n, d >= 1, s2 >= 0). None means "cannot certify", never "false".
    """
    if c.order not in (0, 2):
        return None
    if not c.coeffs:
        return "psd"
    strict = False
    for key, coef in c.coeffs.items():
        chains, closed = key[0], key[1]
        scalars = key[2] if len(key) > 2 else ()
        psd, pd_term = _term_psd(chains, closed, scalars, c.order, pd)
        if not psd:
            return None
        if coef.is_positive:
            strict = strict or pd_term
        elif not coef.is_nonnegative:
            return None
    return "pd" if strict else "psd"
