"""The loss restricted to the one-step-GD family, and its exact minimiser.

On the family u = e_{d+1}, A = eta I, b = 0 (r = 0) the LSA predicts x_q^T (eta I) g, and the
exact loss (from :func:`derivations.loss.expected_loss`) is a polynomial in eta. This module
derives its minimiser from dL/deta = 0 and checks that L is a convex quadratic in eta.

>>> from derivations import Task
>>> r = gd_family_optimum(Task(d=2))
>>> r.eta, r.derivation.holds
(n/(n + s2 + 3), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .exact import canonical
from .loss import expected_loss
from .lsa import EffectiveParameters
from .positivity import certify_positive
from .proof import Derivation, Step
from .symbols import eta as ETA
from .task import Task


@dataclass
class GDFamilyOptimum:
    loss: sp.Expr          # L(eta) on the family
    eta: sp.Expr           # argmin
    minimum: sp.Expr       # L(eta*)
    derivation: Derivation


def gd_family_optimum(task: Task) -> GDFamilyOptimum:
    """Minimise the exact loss over the GD family u = e_{d+1}, A = eta I, b = 0."""
    point = EffectiveParameters.gd_point(ETA * sp.eye(task.d))
    L = sp.expand(expected_loss(task, point.u, point.M, point.r))
    poly = sp.Poly(L, ETA)
    a2, a1 = poly.coeff_monomial(ETA**2), poly.coeff_monomial(ETA)
    proof = Derivation(f"GD family ({task.describe()})")
    proof.add(Step.checked(
        "quadratic-in-eta", "Quadratic in eta",
        "On u = e_{d+1}, A = eta I, b = 0 the exact loss is a polynomial of degree 2 in eta.",
        poly.degree() == 2, "yhat = eta x_q^T g is linear in eta", "degree of the exact polynomial",
        lhs=sp.Symbol("L(\\eta)"), rhs=L))
    positive = certify_positive(a2)
    proof.add(Step.checked(
        "convex-in-eta", "Convex in eta",
        "The coefficient of eta^2 is positive for all n >= 1, s2 >= 0.",
        positive, "E[(x_q^T g)^2] > 0", "positivity certificate (coefficients after n = 1 + m)",
        lhs=a2, relation=">=", rhs=sp.Integer(0)))
    eta_star = canonical(-a1 / (2 * a2))
    minimum = canonical(L.subs(ETA, eta_star))
    proof.add(Step.identity("stationary", "Stationary point", sp.diff(L, ETA).subs(ETA, eta_star), 0,
                            "dL/deta vanishes at eta* = -a_1 / (2 a_2)."))
    proof.conclusion = {"eta": eta_star, "loss": minimum}
    return GDFamilyOptimum(L, eta_star, minimum, proof)
