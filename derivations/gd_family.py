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
from .proof import Derivation, Relation, Step
from .symbols import eta as ETA
from .task import Task


@dataclass
class GDFamilyOptimum:
    loss: sp.Expr          # L(eta) on the family
    eta: sp.Expr           # argmin
    minimum: sp.Expr       # L(eta*)
    derivation: Derivation


A0, A1, A2 = sp.symbols("a_0 a_1 a_2")
ETASTAR = sp.Symbol("etastar")


def _loss_of(argument):
    """L(argument): the loss on the family as a function of the step size (display)."""
    return sp.Function("L")(argument)


def step_quadratic(L, poly) -> Step:
    a = [poly.coeff_monomial(ETA ** k) for k in range(3)]
    return Step.checked(
        "quadratic-in-eta", "Quadratic in the step size",
        ("On the family ", *words("$u = e$, $A = eta * I$, $b = 0$"), " the exact loss is a polynomial "
         "of degree 2 in the step size, with the coefficients shown."),
        poly.degree() == 2, words("The prediction $eta * x_q^T * g$ is linear in the step size."),
        "degree of the exact polynomial",
        display=(Relation(_loss_of(ETA), "=", A2 * ETA ** 2 + A1 * ETA + A0),),
        computed=tuple(Relation(sym, "=", value) for sym, value in zip((A2, A1, A0), reversed(a), strict=True)))


def step_convex(a2) -> Step:
    positive = certify_positive(a2)
    return Step.checked(
        "convex-in-eta", "Convex in the step size",
        words("The leading coefficient is positive for every $n$ at least 1 and every noise variance."),
        positive, words("It is $E[(x_q^T * g)^2]$, the mean square of a nonzero quadratic form."),
        "positivity certificate (coefficients after n = 1 + m)",
        display=(Relation(A2, ">", sp.Integer(0)),))


def step_stationary(L, a1, a2, eta_star) -> Step:
    step = Step.identity("stationary", "Stationary point", sp.diff(L, ETA).subs(ETA, eta_star), 0,
                         "The minimiser of a convex quadratic is where its derivative vanishes.",
                         statement="The derivative of the loss vanishes at the step size shown.",
                         display=(Relation(sp.Subs(sp.Derivative(_loss_of(ETA), ETA), ETA, ETASTAR), "=",
                                           sp.Integer(0)),
                                  Relation(ETASTAR, "=", -A1 / (2 * A2))),
                         computed=(Relation(ETASTAR, "=", eta_star),))
    return step


def gd_family_optimum(task: Task) -> GDFamilyOptimum:
    """Minimise the exact loss over the GD family u = e_{d+1}, A = eta I, b = 0."""
    point = EffectiveParameters.gd_point(ETA * sp.eye(task.d))
    L = sp.expand(expected_loss(task, point.u, point.M, point.r))
    poly = sp.Poly(L, ETA)
    a2, a1 = poly.coeff_monomial(ETA**2), poly.coeff_monomial(ETA)
    from .statements import task_words

    proof = Derivation(("The one-step GD family (",) + task_words(task) + (")",))
    proof.add(step_quadratic(L, poly))
    proof.add(step_convex(a2))
    eta_star = canonical(-a1 / (2 * a2))
    minimum = canonical(L.subs(ETA, eta_star))
    proof.add(step_stationary(L, a1, a2, eta_star))
    proof.conclusion = {"eta": eta_star, "loss": minimum}
    return GDFamilyOptimum(L, eta_star, minimum, proof)


def words(text):
    from .statements import words as _words
    return _words(text)
