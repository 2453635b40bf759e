"""The published statements under test, written once, here.

These formulas are *claims*: ``derivations`` never sees them (its optimum comes from the
Gram matrix of the lifted features); ``verify`` checks them against the derivation and
against Monte Carlo. Negative controls are deliberately wrong claims.
"""

from __future__ import annotations

from dataclasses import dataclass

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


# --- a user's own claim, stated in a task file ------------------------------------------------

CLAIM_KEYS = ("form", "eta", "gamma", "loss")
CLAIM_FORMS = ("gd", "preconditioned-gd", "general")


@dataclass(frozen=True)
class UserClaim:
    """What a task file claims about the optimum: its form, eta (Gamma = eta I for gd, eta
    Sigma^{-1} for preconditioned-gd), a full Gamma, and/or L*. Values are exact SymPy objects
    (parsed by the whitelist parser; names n, s2, d)."""

    form: str | None = None
    eta: sp.Expr | None = None
    gamma: sp.Matrix | None = None
    loss: sp.Expr | None = None

    def describe(self) -> str:
        parts = []
        if self.gamma is not None:
            parts.append(f"Gamma* = {self.gamma.tolist()}")
        elif self.eta is not None:
            base = "I" if (self.form or "gd") == "gd" else "Sigma^-1"
            parts.append(f"Gamma* = eta {base} with eta = {self.eta}")
        elif self.form is not None:
            parts.append(f"Gamma* is of form {self.form}")
        if self.loss is not None:
            parts.append(f"L* = {self.loss}")
        return "; ".join(parts)

    def as_json(self) -> dict:
        out = {"form": self.form, "eta": None if self.eta is None else str(self.eta),
               "gamma": None if self.gamma is None else [[str(x) for x in r] for r in self.gamma.tolist()],
               "loss": None if self.loss is None else str(self.loss)}
        return {k: v for k, v in out.items() if v is not None}


def parse_user_claim(table, task: Task, where: str) -> UserClaim:
    """A ``claim = {...}`` table of a task file, validated (ExactInputError / ValueError text)."""
    from derivations.errors import ExactInputError
    from derivations.exact import as_exact, as_exact_matrix

    if not isinstance(table, dict) or not table:
        raise ExactInputError(f"{where}: must be a table with some of {', '.join(CLAIM_KEYS)}")
    unknown = sorted(set(table) - set(CLAIM_KEYS))
    if unknown:
        raise ExactInputError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(CLAIM_KEYS)})")
    # n and s2 mean the task's own values (the symbols when the task leaves them symbolic)
    names = {"n": task.n, "s2": task.noise, "d": sp.Integer(task.d)}
    form = table.get("form")
    if form is not None and form not in CLAIM_FORMS:
        raise ExactInputError(f"{where}.form: must be one of {', '.join(CLAIM_FORMS)}, got {form!r}")
    if "eta" in table and "gamma" in table:
        raise ExactInputError(f"{where}: give eta (with form) or gamma, not both")
    if "eta" in table and form == "general":
        raise ExactInputError(f"{where}: eta needs form gd or preconditioned-gd")
    for key in ("eta", "loss"):
        if key in table and (isinstance(table[key], bool) or not isinstance(table[key], (int, str))):
            raise ExactInputError(f"{where}.{key}: must be an integer or exact text such as \"n/(n + 3 + s2)\"")
    eta = as_exact(table["eta"], f"{where}.eta", names) if "eta" in table else None
    loss = as_exact(table["loss"], f"{where}.loss", names) if "loss" in table else None
    gamma = None
    if "gamma" in table:
        value = table["gamma"]
        if not isinstance(value, list) or not all(isinstance(r, list) for r in value) or any(
                isinstance(x, (bool, float)) or not isinstance(x, (int, str)) for r in value for x in r):
            raise ExactInputError(f"{where}.gamma: must be a matrix of integers or exact texts")
        gamma = as_exact_matrix(value, f"{where}.gamma", shape=(task.d, task.d), names=names)
    if "eta" in table and form is None:
        form = "gd"
    return UserClaim(form, eta, gamma, loss)


def user_claim_checks(task: Task, gamma_star, loss_star, claim: UserClaim, check_normal_equations=None) -> list:
    """Exact checks of a user's claim against the derived optimum (pass: proved; fail: refuted).

    ``check_normal_equations(gamma=..., eta=..., form=...)`` (linear tasks: derivations.check_claim)
    names the violated normal equation when a claimed Gamma is wrong; otherwise Gamma is
    compared entrywise with the derived Gamma*.
    """
    from derivations.exact import exact_equal

    from . import checks as C

    out = []
    if claim.gamma is not None or claim.eta is not None:
        if check_normal_equations is not None:
            verdict = (check_normal_equations(gamma=claim.gamma) if claim.gamma is not None
                       else check_normal_equations(eta=claim.eta, form=claim.form))
            ok, reason = verdict.holds, verdict.reason
        else:
            claimed = claim.gamma if claim.gamma is not None else claim.eta * (
                sp.eye(task.d) if claim.form == "gd" else task.Sigma.inv())
            ok = gamma_star is not None and exact_equal(sp.Matrix(claimed), sp.Matrix(gamma_star))
            reason = "equals the derived Gamma* exactly" if ok else "differs from the derived Gamma* exactly"
        out.append(C.exact_check("claim-gamma", ok, f"claimed {claim.describe().split(';')[0]}: "
                                 + ("HOLDS: " if ok else "REFUTED: ") + reason))
    elif claim.form is not None:
        found = classify(sp.Matrix(gamma_star), task.Sigma) if gamma_star is not None else None
        kinds = set() if found is None else {found.kind}
        if found is not None and found.also_preconditioned:
            kinds.add("preconditioned-gd")
        ok = claim.form in kinds
        what = found.describe() if found is not None else "no exact Gamma* available"
        out.append(C.exact_check("claim-form", ok, f"claimed form {claim.form}: "
                                 + ("HOLDS" if ok else "REFUTED") + f" (derived: {what})"))
    if claim.loss is not None:
        ok = isinstance(loss_star, sp.Basic) and exact_equal(claim.loss, loss_star)
        out.append(C.exact_check("claim-loss", ok, f"claimed L* = {claim.loss}: "
                                 + (f"HOLDS (derived L* = {loss_star})" if ok else
                                    f"REFUTED (derived L* = {loss_star})")))
    return out


def enclosure_claim_checks(task: Task, optimum, claim: UserClaim) -> list:
    """A claim against an optimum known only as rigorous enclosures (balls): refuted when the
    claimed value lies outside the certified enclosure; otherwise not decidable exactly ('n/a'),
    never 'pass'. Only Gamma = eta I claims (and L*) can be compared; n and s2 must be fixed."""
    from derivations.nonlinear.highprec import arb_value

    from . import checks as C

    if task.n_symbolic or task.noise_symbolic:
        return [C.not_applicable("claim", "a claim against enclosed moments needs fixed n and s2",
                                 kind="symbolic")]
    n, s2 = int(task.n), task.noise
    out = []
    if claim.gamma is not None or (claim.eta is not None and claim.form != "gd"):
        out.append(C.not_applicable("claim-gamma", "the optimum is enclosed as eta* I; only a claim "
                                    "Gamma* = eta I can be compared with the enclosure", kind="symbolic"))
    elif claim.eta is not None or claim.form is not None:
        ball = optimum.eta_ball(n, s2)
        if claim.form is not None and claim.eta is None:
            ok = claim.form == optimum.form
            out.append(C.exact_check("claim-form", ok, f"claimed form {claim.form}: "
                                     + ("HOLDS" if ok else "REFUTED") + f" (derived: {optimum.form})"))
        else:
            out.append(_ball_check("claim-eta", f"eta* = {claim.eta}", arb_value(claim.eta), ball))
    if claim.loss is not None:
        out.append(_ball_check("claim-loss", f"L* = {claim.loss}", arb_value(claim.loss),
                               optimum.loss_ball(n, s2)))
    return out


def _ball_check(check_id, what, value, ball):
    from derivations.nonlinear.enclosure import outward_decimals

    from . import checks as C

    lo, hi = outward_decimals(ball, 25)
    if not ball.overlaps(value):
        return C.exact_check(check_id, False, f"claimed {what}: REFUTED: outside the certified "
                             f"enclosure [{lo}, {hi}]")
    return C.not_applicable(check_id, f"claimed {what} lies inside the certified enclosure [{lo}, {hi}]; "
                            "an enclosure cannot prove an exact value", kind="symbolic")


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
