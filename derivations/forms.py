"""The form of an optimal preconditioner Gamma*: one rule, used everywhere.

* ``gd``: Gamma = eta I (one step of plain gradient descent with step eta);
* ``preconditioned-gd``: Gamma = eta Sigma^{-1} and Gamma is not a multiple of I;
* ``general``: neither.

When Sigma is itself a multiple of I (Sigma = c I), both descriptions are true at once:
Gamma = eta I = (c eta) Sigma^{-1}. The primary form is then ``gd`` and the result also
records the preconditioned step ``c eta`` (``also_preconditioned``), so a published
statement in Theorem 2's shape (eta' Sigma^{-1}) and a derived one in Theorem 1's shape
(eta I) are recognised as the same matrix, never as a disagreement.

>>> import sympy as sp
>>> n = sp.Symbol("n", positive=True)
>>> f = classify(n / (n + 4) * sp.eye(2), 2 * sp.eye(2))
>>> f.kind, f.eta, f.preconditioned_eta
('gd', n/(n + 4), 2*n/(n + 4))
>>> classify(sp.Matrix([[1, 0], [0, 2]]), sp.eye(2)).kind
'general'
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .exact import canonical, exact_equal

FORMS = ("gd", "preconditioned-gd", "general")


@dataclass(frozen=True)
class GammaForm:
    """kind: primary form; eta: its scalar (Gamma = eta I or eta Sigma^{-1}), None if general;
    preconditioned_eta: eta' with Gamma = eta' Sigma^{-1}, whenever that holds (also for gd)."""

    kind: str
    eta: sp.Expr | None
    preconditioned_eta: sp.Expr | None = None

    @property
    def also_preconditioned(self) -> bool:
        """True when a ``gd`` Gamma is also eta' Sigma^{-1} (Sigma a multiple of I)."""
        return self.kind == "gd" and self.preconditioned_eta is not None

    def describe(self) -> str:
        """Plain words, e.g. 'gd: Gamma = eta I (also eta' Sigma^{-1}, eta' = ...)'."""
        if self.kind == "general":
            return "general (not a multiple of I or of Sigma^{-1})"
        if self.kind == "preconditioned-gd":
            return f"preconditioned-gd: Gamma = eta Sigma^{{-1}} with eta = {self.eta}"
        text = f"gd: Gamma = eta I with eta = {self.eta}"
        if self.also_preconditioned:
            text += f" (equally eta' Sigma^{{-1}} with eta' = {self.preconditioned_eta}, Sigma a multiple of I)"
        return text


def scalar_multiple(matrix: sp.Matrix, base: sp.Matrix) -> sp.Expr | None:
    """c with matrix == c * base exactly (base with a nonzero entry), else None."""
    i, j = next(((i, j) for i in range(base.rows) for j in range(base.cols) if base[i, j] != 0), (None, None))
    if i is None:
        return None
    c = canonical(matrix[i, j] / base[i, j])
    return c if exact_equal(matrix, c * base) else None


def classify(gamma: sp.Matrix, sigma: sp.Matrix) -> GammaForm:
    """The form of ``gamma`` for covariance ``sigma`` (see the module docstring)."""
    gamma, sigma = sp.Matrix(gamma), sp.Matrix(sigma)
    d = gamma.rows
    eta_pre = scalar_multiple(gamma, sigma.inv())
    eta = scalar_multiple(gamma, sp.eye(d))
    if eta is not None:
        return GammaForm("gd", eta, eta_pre)
    if eta_pre is not None:
        return GammaForm("preconditioned-gd", eta_pre, eta_pre)
    return GammaForm("general", None, None)
