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
    if not task.covariates.is_gaussian:
        return iid_law_optimum(task)
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


def iid_law_second_moment(task: Task):
    """(C, B) = (E[g g^T], E[w g^T]) for x with iid coordinates of variance s, fourth cumulant
    kappa4 = m4 - 3 s^2, and w ~ N(0, Omega):
    C = (1/n)(s^2 (tr(Omega) I + 2 Omega) + kappa4 diag(Omega) + s2 s I) + (1 - 1/n) s^2 Omega,
    B = s Omega. (E[x_a x_b x_c x_e] = s^2 (three pairings) + kappa4 [a = b = c = e].)"""
    law, d, n, s2, O = task.covariates, task.d, task.n, task.noise, task.Omega
    s, kappa4 = law.variance, law.cumulant(4)
    diag = sp.diag(*[O[i, i] for i in range(d)])
    C = (s**2 * (sp.trace(O) * sp.eye(d) + 2 * O) + kappa4 * diag + s2 * s * sp.eye(d)) / n \
        + (1 - 1 / n) * s**2 * O
    return C, s * O


def iid_law_optimum(task: Task):
    """(form, Gamma*, L*) for iid non-Gaussian covariates (the stated finding, checked against the
    derivation): Gamma* = B C^{-1}, L* = tr(Sigma Omega) + s2 - tr(Sigma B C^{-1} B^T). With
    Omega = I: Gamma* = eta* I, eta* = s / ((m4 + (d - 1) s^2 + s2 s)/n + (1 - 1/n) s^2)."""
    C, B = iid_law_second_moment(task)
    S = task.Sigma
    gamma = B * C.inv()
    loss = sp.trace(S * task.Omega) + task.noise - sp.trace(S * B * C.inv() * B.T)
    return classify(gamma, S).kind, gamma, loss


def iid_law_eta(task: Task):
    """eta* = s / ((m4 + (d - 1) s^2 + s2 s)/n + (1 - 1/n) s^2) (Omega = I, iid coordinates)."""
    law, d, n, s2 = task.covariates, task.d, task.n, task.noise
    s, m4 = law.variance, law.moment(4)
    return s / ((m4 + (d - 1) * s**2 + s2 * s) / n + (1 - 1 / n) * s**2)


def gaussian_eta_claim(task: Task):
    """Control: the Gaussian step size for the same covariance s I, n / ((n + d + 1 + s2/s) s) --
    the answer if Isserlis still held (it does not for a non-Gaussian law)."""
    s = task.covariates.variance
    return task.n / ((task.n + task.d + 1 + task.noise / s) * s)
