"""Theorem 3 end to end: ``theorem3_optimum(task)`` -> :class:`NonlinearOptimum`.

Polynomial responses go through the exact engine (:mod:`.exact_optimum`): Gamma* is solved
from exact moments, and the claimed GD point Gamma = eta I (eta from the Theorem 3 formula)
is checked against the normal equations. Non-polynomial single-index links and two-layer
ReLU networks go through :mod:`.highprec` (moments as mpmath numbers with error estimates);
there Gamma* = eta I rests on the symmetry checks of :mod:`.symmetry`.

>>> from derivations.task import Task, Response
>>> r = theorem3_optimum(Task(d=2, response=Response("expression", expr="s + x1^3")))
>>> r.form, r.assumptions["reflection"]["holds"]
('general', False)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import sympy as sp

from .. import budget
from .. import symbols as pinned
from ..exact import canonical, exact_equal
from ..proof import Derivation, Step
from ..task import Task
from .exact_optimum import exact_gd_block
from .highprec import UnsupportedLink, single_index_moments
from .parse import S, relu
from .responses import response_model
from .symmetry import check_reflection, check_rotation, isotropic_scale


@dataclass
class NonlinearOptimum:
    """The optimal one-layer LSA for a (possibly nonlinear) task, restricted to what is proved.

    gamma: exact Gamma* of the GD block (None on the high-precision route); eta: scalar step
    (SymPy, or mpf when n and s2 are numbers on the high-precision route) or None when
    Gamma* is not a multiple of I; eta_digits / eta_error: decimal text and error estimate
    (high-precision route); loss: the GD block's minimum; form: "gd" or "general";
    assumptions: name -> {"holds", "how"}; certificate: the checked steps; reason: why the
    GD form fails (empty when it holds); odd_residuals: odd features that would lower the loss.
    """

    gamma: sp.Matrix | None
    eta: object
    eta_digits: str
    eta_error: float | None
    loss: object
    form: str
    assumptions: dict
    certificate: Derivation
    reason: str = ""
    odd_residuals: dict = field(default_factory=dict)


def eta_formula(m2, y2x2, n):
    """Theorem 3's step: n E|m_f|^2 / (E[y^2 |x|^2] + (n - 1) E|m_f|^2)."""
    return n * m2 / (y2x2 + (n - 1) * m2)


def theorem3_optimum(task: Task, digits: int = 35) -> NonlinearOptimum:
    """Optimum of the lifted loss for ``task`` with the Theorem 3 symmetry checks.

    Work estimated to exceed the machine's limits is refused first (:mod:`derivations.budget`).
    """
    budget.check(task)
    model = response_model(task)
    assumptions = {"reflection": check_reflection(task, model),
                   "rotation": check_rotation(task, model)}
    proof = Derivation(f"Theorem 3 for {task.describe()}")
    for name, res in assumptions.items():
        proof.add(Step.checked(f"symmetry-{name}", f"{name} invariance", res["how"], res["holds"],
                               "assumption of Theorem 3", res["how"].split(":")[0]))
    if model.polynomial:
        return _exact_route(task, model, assumptions, proof)
    return _highprec_route(task, model, assumptions, proof, digits)


def _exact_route(task, model, assumptions, proof):
    d, n = task.d, task.n
    block = exact_gd_block(task, model)
    odd = block.odd_nonzero
    proof.add(Step.checked(
        "odd-block-orthogonal", "odd block orthogonal",
        "every odd-in-x feature F has E[F F_gd] = 0 and E[F y_q] = 0 (exact moments)",
        not odd, "reflection symmetry (if it holds) makes these moments vanish",
        "exact Gaussian moments of every feature pair",
        detail="" if not odd else "nonzero: " + "; ".join(
            f"{k}: E[F y_q] = {v[0]}" for k, v in list(odd.items())[:3])))
    proof.add(Step.checked("hessian-factorises", "x_q independent",
                           "E[x_qc x_qc' g_b g_b'] = E[x_qc x_qc'] E[g_b g_b'] entrywise",
                           block.hessian_factorises, "x_q is independent of the context",
                           "exact moments, all d^4 entries"))
    eta = canonical(eta_formula(block.m2, block.y2x2, n))
    claimed = eta * sp.eye(d)
    residual = canonical(block.Q * claimed * block.C - block.B)
    proof.add(Step.identity("normal-equations-at-gd", "normal equations at Gamma = eta I",
                            block.Q * claimed * block.C, block.B,
                            "Gamma E[x_q x_q^T] ... : Q Gamma C = B with eta = n E|m|^2 / "
                            "(E[y^2|x|^2] + (n-1) E|m|^2)",
                            statement="the GD point with the Theorem 3 step solves Q Gamma C = B"))
    if block.gamma is not None:
        proof.add(Step.identity("gamma-star", "Gamma* = eta I", block.gamma, claimed,
                                "Gamma* = Q^{-1} B C^{-1} from the exact moments"))
    gd = proof.holds
    odd_res = {k: block.odd_residual(k) for k in odd} if block.gamma is not None else {}
    reason = "" if gd else _reason(assumptions, residual, odd, proof)
    return NonlinearOptimum(block.gamma, eta if gd else None, str(eta) if gd else "", None,
                            block.loss, "gd" if gd else "general", assumptions, proof, reason,
                            odd_res)


def _reason(assumptions, residual, odd, proof):
    failed = [k for k, v in assumptions.items() if v["holds"] is False]
    parts = [f"{k} invariance fails ({assumptions[k]['how']})" for k in failed]
    if not all(exact_equal(v, 0) for v in residual):
        parts.append(f"normal equation violated at Gamma = eta I: Q Gamma C - B = "
                     f"{residual.tolist()}")
    if odd:
        label, (target, _) = next(iter(odd.items()))
        parts.append(f"odd feature {label} correlates: E[F y_q] = {target}")
    if not parts:
        step = proof.first_failure
        parts.append(f"step {step.key} not proved" if step else "")
    return "; ".join(parts)


def _highprec_route(task, model, assumptions, proof, digits):
    d = task.d
    c = isotropic_scale(task.Omega)
    ok = all(v["holds"] for v in assumptions.values()) and c is not None
    if not ok or (model.link is None and model.family != "two-layer-relu"):
        why = "symmetry assumptions fail or are undecided" if not ok else \
            "non-polynomial expression that is not a function of s"
        proof.add(Step.checked("high-precision", "high-precision route", why, None, "", ""))
        return NonlinearOptimum(None, None, "", None, None, "general", assumptions, proof,
                                f"not computed: {why}")
    link = relu(S) if model.family == "two-layer-relu" else model.link
    try:
        mom = single_index_moments(link, d, c, digits=digits)
    except UnsupportedLink as err:
        proof.add(Step.checked("high-precision", "high-precision route", str(err), None, "", ""))
        return NonlinearOptimum(None, None, "", None, None, "general", assumptions, proof, str(err))
    width = model.width or 1   # a_j ~ N(0,1) independent: cross terms vanish, units add up
    # all arithmetic on the moments at their own precision (mpmath's global default is 15 digits)
    with mpmath.workdps(mom.dps):
        m2, f2x2, f2 = (width * v for v in (mom.m2, mom.f2x2, mom.f2))
    err = width * max(mom.errors)
    proof.add(Step.checked("odd-block-orthogonal", "odd block orthogonal",
                           "reflection symmetry makes odd features orthogonal", True,
                           "step symmetry-reflection", "structural"))
    proof.add(Step.checked("gamma-star", "Gamma* = eta I",
                           "rotation invariance makes E[g g^T] and E[m g^T] multiples of I", True,
                           "step symmetry-rotation", "structural"))
    n, s2 = task.n, task.noise
    with mpmath.workdps(mom.dps):
        if n.is_number and s2.is_number:
            y2x2 = f2x2 + d * mpmath.mpf(s2.p) / s2.q
            eta = eta_formula(m2, y2x2, mpmath.mpf(int(n)))
            # first-order propagation of the moment errors (d eta / d moment <= n / denominator)
            eta_err = float(err * 2 * int(n) / (y2x2 + (int(n) - 1) * m2)) if m2 else float(err)
            loss = f2 + mpmath.mpf(s2.p) / s2.q - eta * m2
            text = mpmath.nstr(eta, digits + 5)
        else:
            fl = [sp.Float(mpmath.nstr(v, mom.dps), mom.dps) for v in (m2, f2x2, f2)]
            eta = eta_formula(fl[0], fl[1] + d * s2, n)
            eta_err, loss = None, fl[2] + s2 - eta * fl[0]
            text = str(eta)
    proof.conclusion = {"E|m_f|^2": m2, "E[f^2|x|^2]": f2x2, "E[f^2]": f2, "error": err,
                        "level": mom.level}
    return NonlinearOptimum(None, eta, text, eta_err, loss, "gd", assumptions, proof)


__all__ = ["NonlinearOptimum", "theorem3_optimum", "eta_formula", "pinned"]
