"""The published statements under test, written once, here.

These formulas are *claims*: ``derivations`` never sees them (its optimum comes from the
Gram matrix of the lifted features); ``verify`` checks them against the derivation and
against Monte Carlo. Negative controls are deliberately wrong claims.
"""

from __future__ import annotations

import sympy as sp

from derivations.forms import classify
from derivations.task import Task


def published_optimum(task: Task):
    """(form, Gamma*, L*) as published for a linear task; the form by :func:`derivations.forms.classify`.

    Theorem 1 (Sigma = Omega = I) and Theorem 2 (Omega = Sigma^{-1}): Gamma* = eta Sigma^{-1},
    eta = n/(n + d + 1 + s2), L* = s2 + d(d + 1 + s2)/(n + d + 1 + s2). Any other prior:
    Gamma* = Omega Sigma C^{-1} with C = ((n+1)/n) Sigma Omega Sigma + ((tr(Omega Sigma)+s2)/n) Sigma,
    L* = tr(Sigma Omega) + s2 - tr(Sigma B C^{-1} B^T), B = Omega Sigma (Ahn et al.; Wu et al.).
    """
    d, n, s2, S, O = task.d, task.n, task.noise, task.Sigma, task.Omega
    if O == S.inv():
        gamma = n / (n + d + 1 + s2) * S.inv()
        loss = s2 + d * (d + 1 + s2) / (n + d + 1 + s2)
    else:
        C = (n + 1) / n * S * O * S + (sp.trace(O * S) + s2) / n * S
        B = O * S
        gamma = B * C.inv()
        loss = sp.trace(S * O) + s2 - sp.trace(S * B * C.inv() * B.T)
    return classify(gamma, S).kind, gamma, loss


def off_by_one_eta(task: Task):
    """Control: the step size with d + 1 replaced by d, n/(n + d + s2)."""
    return task.n / (task.n + task.d + task.noise)


def preconditioned_claim(task: Task):
    """Control: eta Sigma^{-1} (the Theorem-2 form) claimed for a task whose prior is not Sigma^{-1}."""
    return task.n / (task.n + task.d + 1 + task.noise) * task.Sigma.inv()
