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
