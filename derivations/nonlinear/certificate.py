"""Theorem 3 end to end: ``theorem3_optimum(task)`` -> :class:`NonlinearOptimum`.

The optimum is always derived in its true form, Gamma* = Sigma^-1 B C^-1 for the GD block
x_q^T Gamma g (C = E[g g^T], B = E[y_q x_q g^T]) together with the odd block's cross moments;
the GD form Gamma* = eta* I is a conclusion, checked, never assumed. Routes:

* ``polynomial``: f polynomial in (x, w): every moment by the exact Gaussian engine
  (:mod:`.exact_optimum`), any Sigma, Omega, odd block included;
* ``closed-form``: single-index link (or random two-layer ReLU network) that is exp-piecewise
  (:mod:`.expoly`), Sigma = I, Omega = c I: E|m_f|^2, E[f^2 |x|^2], E[f^2] in closed form, C and
  B scalar by rotation invariance, eta* exact with n, s2 symbolic;
* ``closed-form-general``: the same links with any Sigma, Omega: E[m m^T], E[f^2 x x^T]
  in closed form (radicals), the general Gamma*;
* ``enclosure``: single-index link without closed form, Sigma = I, Omega = c I: the three
  moments as rigorous balls (:mod:`.enclosure`), eta* in [lo, hi];
* ``unsupported``: everything else (reason given; nothing is claimed).

Which hypothesis holds, and what the conclusion rests on, is decided by :mod:`.hypotheses`.

>>> from derivations.task import Task, Response
>>> r = theorem3_optimum(Task(d=2, response=Response("single-index", link="relu(s)")))
>>> r.route, r.form, r.eta, r.hypotheses.relation
('closed-form', 'gd', n/(n + 4*s2 + 7), 'extends')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from flint import arb, ctx

from .. import budget
from .. import symbols as pinned
from ..engine import context_expectation
from ..exact import canonical, exact_equal
from ..notation.display import IntervalNode, OuterNode, SympyNode, scaled_identity
from ..notation.tree import ExpectNode, MulNode
from ..proof import Derivation, Relation, Step
from ..task import Task
from ..vocabulary import e, math, words  # noqa: F401 (late-bound statement vocabulary)
from .closed_form import (
    GeneralMoments,
    InfiniteMoment,
    InnerIntegrals,
    IsotropicMoments,
    NoClosedForm,
    general_moments,
    isotropic_moments,
)
from .enclosure import EnclosedMoments, decimal_interval_node, single_index_enclosure
from .exact_optimum import exact_gd_block
from .expoly import RHO, chi_moment, reproduces
from .highprec import UnsupportedLink, arb_value
from .hypotheses import Hypotheses, classify, isotropic_scale, odd_invariants_step, scalar_matrix_step
from .parse import S, relu
from .responses import response_model

#: names of the three moments in steps and JSON
M2, F2X2, F2 = sp.symbols("m2 f2x2 f2", nonnegative=True)
MOMENT_NAMES = {"m2": "E|m_f|^2", "f2x2": "E[f^2 |x|^2]", "f2": "E[f^2]"}


@dataclass
class NonlinearOptimum:
    """The optimal one-layer LSA for a nonlinear task, in its true form.

    gamma / eta / loss: exact SymPy (None on the enclosure route, where ``enclosure`` holds the
    moments as balls and :meth:`eta_ball` / :meth:`loss_ball` give eta* and L*); form: "gd",
    "general" or "unknown"; C, B: exact GD-block moments when available; moments: name -> exact
    value; odd_orthogonal: every odd feature orthogonal to the target and the GD block;
    odd_block: label -> exact cross moments of the odd features that are not (polynomial
    route); hypotheses: :class:`~.hypotheses.Hypotheses`; certificate: the derivation of this
    optimum; reason: why the form is not GD (or why nothing was computed); strength: "instance",
    "symbolic-n" or "enclosure".
    """

    task: Task
    route: str
    form: str
    gamma: sp.Matrix | None
    eta: sp.Expr | None
    loss: sp.Expr | None
    hypotheses: Hypotheses
    certificate: Derivation
    strength: str
    reason: str = ""
    C: sp.Matrix | None = None
    B: sp.Matrix | None = None
    moments: dict = field(default_factory=dict)
    enclosure: EnclosedMoments | None = None
    odd_orthogonal: bool | None = None
    odd_block: dict = field(default_factory=dict)
    width: int = 1

    @property
    def assumptions(self) -> dict:
        """Hypothesis name -> holds (True / False / None)."""
        return {k: v.holds for k, v in self.hypotheses.items.items()}

    @property
    def odd_residuals(self) -> dict:
        return {k: v["residual"] for k, v in self.odd_block.items() if "residual" in v}

    def _moment_balls(self):
        e = self.enclosure
        return e.m2, e.f2x2, e.f2

    def eta_ball(self, n, s2) -> arb | None:
        """eta* = n m2 / (f2x2 + d s2 + (n - 1) m2) in ball arithmetic (enclosure route)."""
        if self.enclosure is None:
            return None
        old = ctx.prec
        try:
            ctx.dps = self.enclosure.digits + 20
            m2, f2x2, _ = self._moment_balls()
            n, s2 = arb_value(sp.Integer(n)), arb_value(sp.Rational(s2))
            return n * m2 / (f2x2 + self.task.d * s2 + (n - 1) * m2)
        finally:
            ctx.prec = old

    def loss_ball(self, n, s2) -> arb | None:
        """L* = E[f^2] + s2 - eta* E|m_f|^2 (enclosure route)."""
        if self.enclosure is None:
            return None
        eta = self.eta_ball(n, s2)
        old = ctx.prec
        try:
            ctx.dps = self.enclosure.digits + 20
            m2, _, f2 = self._moment_balls()
            return f2 + arb_value(sp.Rational(s2)) - eta * m2
        finally:
            ctx.prec = old


def _title(task) -> tuple:
    from ..statements import task_words
    return ("Theorem 3 for ",) + task_words(task)


def eta_tree(noise_in_energy: bool = False):
    """Theorem 3's step size, eta* = n E|m_f|^2 / (E[y^2 |x|^2] + (n - 1) E|m_f|^2), as a tree."""
    from ..alld.proofs import theorem3_eta_tree
    return theorem3_eta_tree(noise_in_energy)


#: the three moments of the response, as statement trees
MOMENT_TREES = (("m2", "E[m_f^T * m_f]"), ("f2x2", "E[f^2 * x^T * x]"), ("f2", "E[f^2]"))


def eta_formula(m2, y2x2, n):
    """Theorem 3's step: n E|m_f|^2 / (E[y^2 |x|^2] + (n - 1) E|m_f|^2)."""
    return n * m2 / (y2x2 + (n - 1) * m2)


def theorem3_optimum(task: Task, digits: int = 30) -> NonlinearOptimum:
    """The optimum of ``task`` (a nonlinear response) with its certificate and hypotheses.

    Work estimated to exceed the machine's limits is refused first (:mod:`derivations.budget`).
    """
    budget.check(task)
    model = response_model(task)
    hyps = classify(task, model)
    if model.polynomial:
        return _polynomial_route(task, model, hyps)
    if model.link is None and model.family != "two-layer-relu":
        return _unsupported(task, hyps, "a non-polynomial expression that is not a function of "
                                        "s = w^T x alone has no exact or enclosed route")
    link = relu(S) if model.family == "two-layer-relu" else model.link
    width = model.width or 1
    c = isotropic_scale(task.Omega)
    isotropic = task.Sigma == sp.eye(task.d) and c is not None
    try:
        inner = InnerIntegrals.of(link)
        if isotropic:
            return _closed_form_route(task, hyps, link, width, c, inner)
        return _general_route(task, hyps, link, width, inner)
    except InfiniteMoment as err:
        return _unsupported(task, hyps, f"moments are infinite: {err}")
    except NoClosedForm as why:
        if not isotropic:
            return _unsupported(task, hyps, f"no closed form ({why}); rigorous enclosures are "
                                            "implemented for Sigma = I, Omega = c I only")
        try:
            return _enclosure_route(task, hyps, link, width, c, digits, str(why))
        except UnsupportedLink as err:
            return _unsupported(task, hyps, f"no closed form ({why}) and no enclosure ({err})")


def _strength(task: Task) -> str:
    return "symbolic-n" if task.n_symbolic and task.noise_symbolic else "instance"


def _lemma_steps(hyps: Hypotheses) -> list:
    """The invariance lemmas a GD-form conclusion rests on (none when outside)."""
    if hyps.relation == "outside":
        return []
    steps = [scalar_matrix_step(hyps.d)]
    if hyps.rests_on == "rotation":
        steps.append(odd_invariants_step(hyps.d))
    return steps


def _unsupported(task, hyps, reason) -> NonlinearOptimum:
    proof = Derivation(_title(task))
    proof.add(Step.checked("not-computed", "No exact or enclosed optimum",
                           "No exact or enclosed route applies to this response.", None,
                           "", "none", detail=reason))
    return NonlinearOptimum(task, "unsupported", "unknown", None, None, None, hyps, proof,
                            "instance", f"not computed: {reason}")


# --- polynomial responses: the exact Gaussian engine ----------------------------------------------

def _polynomial_route(task, model, hyps) -> NonlinearOptimum:
    d, n = task.d, task.n
    block = exact_gd_block(task, model)
    odd = block.odd_nonzero
    proof = Derivation(_title(task))
    proof.add(step_odd_block_exact(odd, block.odd_display))
    proof.add(step_hessian_factorises(block.hessian_factorises, d))
    if block.gamma is None:
        proof.add(Step.checked("gamma-star", "Optimal preconditioner",
                               words("The second moment $C = E[g * g^T]$ is singular, so there is no "
                                     "unique optimum."), False, "", "", display=(math("C succ 0"),)))
        return NonlinearOptimum(task, "polynomial", "unknown", None, None, None, hyps, proof,
                                _strength(task), "C is singular: no unique optimum", block.C,
                                block.B, odd_orthogonal=not odd)
    proof.add(Step.identity("gamma-star", "Normal equations", block.Q * block.gamma * block.C,
                            block.B, words("The optimum is $Gammastar = inv(Q) * B * inv(C)$ with "
                                           "$Q = E[x_q * x_q^T]$, $C = E[g * g^T]$ and "
                                           "$B = E[y_q * x_q * g^T]$, from the exact moments."),
                            statement="The optimal preconditioner solves the normal equations of the "
                                      "GD block.",
                            display=(math("E[x_q * x_q^T] * Gammastar * E[g * g^T] = E[y_q * x_q * g^T]"),),
                            computed=(Relation(e("Gammastar"), "=", block.gamma),)))
    eta = canonical(eta_formula(block.m2, block.y2x2, n))
    gd = not odd and exact_equal(block.gamma, eta * sp.eye(d))
    if gd:
        proof.add(Step.identity("theorem3-eta", "Theorem 3 step size", block.gamma, eta * sp.eye(d),
                                "Theorem 3's formula evaluated at the exact moments.",
                                statement="The optimum is a multiple of the identity, with Theorem 3's "
                                          "step size.",
                                display=(math("Gammastar = etastar * I"), eta_tree()),
                                computed=(Relation(e("E[m_f^T * m_f]"), "=", block.m2),
                                          Relation(e("E[y^2 * x^T * x]"), "=", block.y2x2),
                                          Relation(e("etastar"), "=", eta))))
        proof.extend(_lemma_steps(hyps))
    odd_block = {}
    for label, (target, cross) in odd.items():
        odd_block[label] = {"target": target, "cross": cross, "residual": block.odd_residual(label)}
    reason = "" if gd else _reason(hyps, block, eta, odd)
    proof.conclusion = {"gamma": block.gamma, "eta": eta if gd else None, "loss": block.loss,
                        "form": "gd" if gd else "general", "strength": _strength(task)}
    return NonlinearOptimum(task, "polynomial", "gd" if gd else "general", block.gamma,
                            eta if gd else None, block.loss, hyps, proof, _strength(task), reason,
                            block.C, block.B, {"m2": block.m2, "y2x2": block.y2x2},
                            odd_orthogonal=not odd, odd_block=odd_block)


ODD_ORTHOGONAL = ("E[F_odd * F_gd^T] = 0", "E[F_odd * y_q] = 0")


def step_odd_block_exact(odd: dict, displays: dict | None = None) -> Step:
    """The odd features' cross moments, computed exactly (a fact either way)."""
    if not odd:
        return Step.checked("odd-block", "Odd block orthogonal",
                            "Every odd feature of the lift is orthogonal to the GD block and to the "
                            "target.", True, "Computed, not assumed.",
                            "exact Gaussian moments of every pair",
                            display=tuple(math(t) for t in ODD_ORTHOGONAL))
    label, (target, cross) = next(iter(odd.items()))
    feature = (displays or {}).get(label, e("F"))
    if not exact_equal(target, 0):
        shown = Relation(ExpectNode(MulNode((e("y_q"), feature))), "=", target)
    else:
        shown = Relation(ExpectNode(MulNode((e("F_gd"), feature))), "=", sp.Matrix(cross))
    count = f"{len(odd)} odd feature" + ("s correlate" if len(odd) > 1 else " correlates")
    return Step.checked("odd-block", "Odd block correlated",
                        f"{count} with the target or the GD block; the first is shown.",
                        True, "Computed, not assumed: the GD block alone is not the optimum of "
                        "the lift.", "exact Gaussian moments of every pair",
                        display=(shown,), data={"orthogonal": False})


def step_hessian_factorises(factorises: bool, d: int) -> Step:
    return Step.checked(
        "hessian-factorises", "Query independent of the context",
        "The query is independent of the context, so the Hessian of the GD block factorises.",
        factorises, "Independence of the query and the context.",
        f"exact moments, entry by entry ({d ** 4} entr{'y' if d == 1 else 'ies'})",
        display=(Relation(ExpectNode(OuterNode((e("x_q * x_q^T"), e("g * g^T")))), "=",
                          OuterNode((e("E[x_q * x_q^T]"), e("E[g * g^T]")))),))


def _reason(hyps, block, eta, odd) -> str:
    parts = [f"{k} fails ({v.how})" for k, v in hyps.items.items()
             if v.holds is False and k != "assumption-1"]
    residual = canonical(block.Q * eta * sp.eye(block.C.rows) * block.C - block.B)
    if not all(exact_equal(v, 0) for v in residual):
        parts.append(f"normal equation violated at Gamma = eta I: Q Gamma C - B = "
                     f"{residual.tolist()}")
    if odd:
        label, (target, _) = next(iter(odd.items()))
        parts.append(f"odd feature {label} correlates: E[F y_q] = {target}")
    return "; ".join(parts) or "Gamma* is not a multiple of I"


# --- shared steps for single-index links ----------------------------------------------------------

def step_decomposition(link, inner: InnerIntegrals) -> Step:
    ok = reproduces(link, inner.P, inner.Q)
    g, P, Q = (sp.Function(name)(S) for name in ("g", "P", "Q"))
    return Step.checked(
        "link-decomposition", "Link as exp-polynomial pieces",
        ("The link ", Relation(g, "=", link), " is an exponential polynomial plus the sign of its "
         "argument times another one, so its only kink is at zero."), ok,
        "relu, abs and sign are resolved on each half-line, where the sign of their argument is "
        "constant (Sturm count); sin and cos are written as exponentials.",
        "exact: on each half-line the rewritten link minus its two pieces expands to 0",
        display=(Relation(g, "=", P + sp.sign(S) * Q),),
        computed=(Relation(P, "=", inner.P.as_real_expr()), Relation(Q, "=", inner.Q.as_real_expr())))


#: the inner integrals' definitions, with t ~ N(0, 1)
_T, _G = sp.Symbol("t"), sp.Function("g")
INNER_DEFINITIONS = {"A": _T * _G(RHO * _T), "J": _G(RHO * _T) ** 2, "K": _T ** 2 * _G(RHO * _T) ** 2}


def step_inner(inner: InnerIntegrals, with_K: bool = False) -> Step:
    """A(rho), J(rho) (and K(rho)) in closed form, cross-checked by interval integration."""
    from .enclosure import _Inner
    series = [("A", inner.A), ("J", inner.J)] + ([("K", inner.K)] if with_K else [])
    ok, worst = True, ""
    old = ctx.prec
    try:
        ctx.dps = 30
        check = _Inner(inner.link)
        for rho in (sp.Rational(1, 2), sp.Integer(1), sp.Integer(2)):
            A, J = check.at(arb_value(rho), 20)
            for name, ball in (("A", A), ("J", J)):
                exact = arb_value(dict(series)[name].as_expr(RHO).xreplace({RHO: rho}))
                if not ball.overlaps(exact):
                    ok, worst = False, f"{name}({rho}) = {exact.str(15)} outside {ball.str(15)}"
    except UnsupportedLink as err:
        ok, worst = None, f"interval cross-check not available: {err}"
    finally:
        ctx.prec = old
    fn = sp.Function
    defined = []
    for name, _ in series:
        defined += [", " if defined else "", Relation(fn(name)(RHO), "=",
                                                      ExpectNode(SympyNode(INNER_DEFINITIONS[name])))]
    stein = Relation(e("m_f"), "=", MulNode((SympyNode(fn("A")(RHO) / RHO), e("Sigma * w"))))
    return Step.checked(
        "inner-integrals", "Inner Gaussian integrals",
        ("With a standard normal ", SympyNode(_T), ", the integrals ", *defined,
         " have the closed forms shown; by Stein's identity ", stein, "."), ok,
        "Completing the square turns each term into a Gaussian moment; the sign function turns "
        "odd moments into absolute ones.",
        "exact one-dimensional Gaussian integrals; the closed forms lie in rigorous interval "
        "enclosures of the integrals (acb.integral) at three values of the radius",
        display=tuple(Relation(fn(name)(RHO), "=", sr.as_expr(RHO)) for name, sr in series),
        detail=worst)


def chi_display():
    """E[r^k exp(p r^2)] for r ~ chi_d, in closed form."""
    from ..alld import d as D

    r, k, p = sp.symbols("r k p")
    return Relation(ExpectNode(SympyNode(r ** k * sp.exp(p * r ** 2))), "=",
                    2 ** (k / 2) * sp.gamma((D + k) / 2) / sp.gamma(D / 2) * (1 - 2 * p) ** (-(D + k) / 2))


def step_chi_moments(inner: InnerIntegrals, d, c) -> Step:
    """Every chi moment E[r^k exp(p r^2)] used, checked by a second route."""
    ok, detail = True, ""
    used = set()
    for series in (inner.A * inner.A, inner.J.shift(2), inner.J):
        used |= {(k, q * c) for k, q in series.terms}
    p = sp.Symbol("p")
    for k, q in sorted(used, key=str):
        value = chi_moment(k, q, d)
        if k % 2 == 0:
            # second route: E[|w|^k e^{p |w|^2}] = d^(k/2)/dp^(k/2) (1 - 2p)^(-d/2), the base by
            # factorising over the d independent coordinates
            other = sp.diff((1 - 2 * p) ** (-sp.sympify(d) / 2), p, k // 2).xreplace({p: q})
            good = sp.expand(sp.powsimp(sp.expand(value - other))) == 0 or \
                exact_equal(sp.powsimp(value / other), 1)
        else:
            good = _interval_chi(k, q, int(d), value)
        if not good:
            ok, detail = False, f"E[r^{k} exp({q} r^2)] = {value} not confirmed"
    return Step.checked(
        "chi-moments", "Averages over the radius",
        words("The radius of the task vector has a chi distribution with $d$ degrees of freedom; "
              "its moments against the exponentials of the inner integrals have the closed form "
              "shown, for every power and exponent used."), ok,
        words("Even powers: derivatives in the exponent of the moment generating function of the "
              "squared radius, a product over the $d$ independent coordinates; odd powers: rigorous "
              "interval integration."),
        f"exact differentiation (even powers), interval arithmetic (odd powers); {len(used)} "
        "power and exponent pairs", detail=detail, display=(chi_display(),))


def _interval_chi(k, q, d, value) -> bool:
    from flint import acb
    old = ctx.prec
    try:
        ctx.dps = 30
        half = arb(d) / 2
        norm = 1 / (2 ** (half - 1) * half.gamma())
        p = arb_value(q)

        def f(r, an):
            return norm * r ** (k + d - 1) * (-(r * r) * (1 - 2 * p) / 2).exp()
        R = 40
        ball = acb.integral(f, 0, R).real
        tail = (arb(R) ** 2 * (1 - 2 * p) / 2).gamma_upper((arb(k + d)) / 2) * norm * \
            arb(2) ** ((arb(k + d) - 2) / 2) / (1 - 2 * p) ** ((arb(k + d)) / 2)
        ball += arb(0, tail.upper())
        return ball.overlaps(arb_value(value))
    finally:
        ctx.prec = old


def step_odd_block_structural(family: str) -> Step:
    who = "the network" if family == "two-layer-relu" else "the link of the projection"
    return Step.checked(
        "odd-block", "Odd block orthogonal",
        "Every odd feature of the lift is orthogonal to the GD block and to the target.", True,
        words(f"Replacing $x_i$, $x_q$ and $w$ by their negatives leaves {who} and the centred "
              "Gaussian laws unchanged and flips the sign of every product of odd degree."),
        "structural: the response depends on the covariates only through inner products with its "
        "parameters", display=tuple(math(t) for t in ODD_ORTHOGONAL))


def step_context_split(n) -> Step:
    """E[(1/n) sum_i u_i (1/n) sum_j v_j] = ((n-1)/n) E[u] E[v] + (1/n) E[u v] given w, by the
    exact engine's context average (set partitions of the index pair)."""
    Eu, Ev, Euv = sp.symbols("Eu Ev Euv")

    def block(keys):
        return {(0,): Eu, (1,): Ev, (0, 1): Euv}[tuple(sorted(keys))]
    weights, parts = context_expectation([0, 1], block, n)
    total = sum((weights[m] * part for m, part in parts.items()), sp.Integer(0))
    claim = (n - 1) / n * Eu * Ev + Euv / n
    return Step.identity("context-split", "Second moment of g",
                         total, claim,
                         words("The $n$ diagonal pairs and the $n * (n - 1)$ off-diagonal ones, independent "
                               "given $w$; hence $C = (n - 1) / n * E[m_f * m_f^T] + E[y^2 * x * x^T] / n$ "
                               "and $B = E[m_f * m_f^T]$."),
                         statement=words("For per-example quantities that are independent and "
                                         "identically distributed given $w$, a product of two "
                                         "averages splits by the set partitions of the index pair "
                                         "(expectations given $w$)."),
                         display=(math("E[avg(alpha_i) * avg(beta_i)] = "
                                       "(n - 1) / n * E[alpha] * E[beta] + E[alpha * beta] / n"),),
                         method="exact: the engine's context average over the set partitions of two "
                                "indices, against the closed form")


def _scalar_gd_steps(d, n, s2, m2, f2x2, f2, exact: bool) -> tuple:
    """C = c I, B = b I from the moments; Gamma* = eta I; L* (identities in the moments)."""
    c = ((n - 1) * m2 + f2x2 + d * s2) / (n * d)
    b = m2 / d
    eta = canonical(eta_formula(m2, f2x2 + d * s2, n)) if exact else eta_formula(m2, f2x2 + d * s2, n)
    normal = Step.identity("normal-equations", "Normal equations", eta * c, b,
                           ("The traces give ", Relation(e("C"), "=", scaled_identity("c")), " and ",
                            Relation(e("B"), "=", scaled_identity("b")), ", where ",
                            Relation(SympyNode(sp.Symbol("d") * sp.Symbol("c")), "=",
                                     e("((n - 1) * E[m_f^T * m_f] + E[f^2 * x^T * x] + d * s2) / n")),
                            " and ", Relation(SympyNode(sp.Symbol("d") * sp.Symbol("b")), "=",
                                              e("E[m_f^T * m_f]")),
                            "; the optimum is ", SympyNode(sp.Symbol("b") / sp.Symbol("c")),
                            " times the identity."),
                           statement=words("With the second moment and the cross moment multiples of "
                                           "the identity, $Gammastar = etastar * I$ solves the "
                                           "normal equations."),
                           display=(math("Gammastar * C = B"), eta_tree(noise_in_energy=True)),
                           computed=(Relation(e("etastar"), "=", eta),) if exact else ())
    loss = f2 + s2 - eta * m2
    optimal = Step.identity("optimal-loss", "Optimal loss", f2 + s2 - d * b * b / c, loss,
                            words("The constant of the completed square, with "
                                  "$E[y_q^2] = E[f^2] + s2$."),
                            statement=words("The optimal loss $Lstar$ is the constant of the completed "
                                            "square."),
                            display=(math("E[y_q^2] - tr(B * inv(C) * B^T) = "
                                          "E[f^2] + s2 - etastar * E[m_f^T * m_f]"),),
                            computed=(Relation(e("Lstar"), "=", canonical(loss)),) if exact else ())
    return eta, (canonical(loss) if exact else loss), [normal, optimal]


def moment_display(values) -> tuple:
    """E|m_f|^2 = ..., E[f^2 |x|^2] = ..., E[f^2] = ... (``values``: name -> value or node)."""
    return tuple(Relation(e(tree), "in" if isinstance(values[k], IntervalNode) else "=", values[k])
                 for k, tree in MOMENT_TREES)


# --- closed forms, Sigma = I, Omega = c I --------------------------------------------------------

def _closed_form_route(task, hyps, link, width, c, inner) -> NonlinearOptimum:
    d, n, s2 = task.d, task.n, task.noise
    mom: IsotropicMoments = isotropic_moments(link, d, c, inner).scaled(width)
    proof = Derivation(_title(task))
    proof.add(step_decomposition(link, inner))
    proof.add(step_inner(inner))
    proof.add(step_chi_moments(inner, d, c))
    proof.add(Step.checked(
        "moments", "Theorem 3 moments",
        "The three moments of the response are averages of the inner integrals over the radius of "
        "the task vector" + (f", times {width} for {width} independent units with standard normal "
                             "output weights." if width > 1 else "."),
        True, "The covariates and the rescaled task vector are exchangeable, so the squared norm of "
        "the covariates may be replaced by that of the task vector over its variance.",
        "term-by-term chi averages (previous step)",
        display=moment_display({"m2": mom.m2, "f2x2": mom.f2x2, "f2": mom.f2})))
    proof.add(step_odd_block_structural(task.response.family))
    proof.add(step_context_split(n))
    proof.extend(_lemma_steps(hyps))
    eta, loss, steps = _scalar_gd_steps(d, n, s2, mom.m2, mom.f2x2, mom.f2, exact=True)
    proof.extend(steps)
    gamma = eta * sp.eye(d)
    C = ((n - 1) * mom.m2 + mom.f2x2 + d * s2) / (n * d) * sp.eye(d)
    B = mom.m2 / d * sp.eye(d)
    proof.conclusion = {"gamma": gamma, "eta": eta, "loss": loss, "form": "gd",
                        "strength": _strength(task)}
    return NonlinearOptimum(task, "closed-form", "gd", gamma, eta, loss, hyps, proof,
                            _strength(task), "", C.applyfunc(canonical), B,
                            {"m2": mom.m2, "f2x2": mom.f2x2, "f2": mom.f2}, None, True, {}, width)


# --- closed forms, general Sigma, Omega -----------------------------------------------------------

def _general_route(task, hyps, link, width, inner) -> NonlinearOptimum:
    d, n, s2 = task.d, task.n, task.noise
    Sigma = sp.Matrix(task.Sigma)
    mom: GeneralMoments = general_moments(link, Sigma, task.Omega, inner).scaled(width)
    proof = Derivation(_title(task))
    proof.add(step_decomposition(link, inner))
    proof.add(step_inner(inner, with_K=True))
    rho2 = e("w^T * Sigma * w")
    proof.add(Step.checked(
        "moments-general", "GD-block moments",
        ("The moments of the GD block are averages over the task vector of the inner integrals at "
         "the radius ", Relation(SympyNode(RHO ** 2), "=", rho2), "."), True,
        words("Split $x$ along $Sigma * w$ and its complement; an exponential of the squared radius "
              "tilts the Gaussian law of $w$ to another centred Gaussian, times a determinant."),
        "exact Gaussian engine (polynomial moments under the tilted covariance)",
        display=(Relation(e("E[m_f * m_f^T]"), "=", mom.mm), Relation(e("E[f^2 * x * x^T]"), "=", mom.f2xx),
                 Relation(e("E[f^2]"), "=", mom.f2))))
    proof.add(step_odd_block_structural(task.response.family))
    proof.add(step_context_split(n))
    proof.add(step_general_normal_equations(d))
    gamma, loss, C, B = general_gamma(mom, Sigma, n, s2)
    form, why = _decide_form(gamma, task)
    proof.conclusion = {"gamma": gamma, "eta": None, "loss": loss, "form": form,
                        "strength": _strength(task)}
    reason = "" if form == "gd" else "; ".join(
        [f"{k} fails ({v.how})" for k, v in hyps.items.items()
         if v.holds is False and k != "assumption-1"] + [why])
    eta = canonical(gamma[0, 0]) if form == "gd" else None
    return NonlinearOptimum(task, "closed-form-general", form, gamma, eta, loss, hyps, proof,
                            _strength(task), reason, C, B, {"f2": mom.f2}, None, True, {}, width)


def step_general_normal_equations(d) -> Step:
    """Sigma Gamma* C = B for Gamma* = Sigma^-1 B C^-1, as an identity in generic symmetric
    Sigma, B and C (so it holds for the radicals computed above)."""
    def sym(name):
        return sp.Matrix(d, d, lambda i, j: sp.Symbol(f"{name}{min(i, j) + 1}{max(i, j) + 1}"))
    Sg, Bg, Cg = sym("S"), sym("B"), sym("C")
    gamma = Sg.inv() * Bg * Cg.inv()
    return Step.identity("normal-equations", "Normal equations", Sg * gamma * Cg, Bg,
                         words("The optimum minimises the convex quadratic "
                               "$tr(Gamma * C * Gamma^T * Sigma) - 2 * tr(Gamma^T * Sigma * B) + E[y_q^2]$."),
                         statement=words("The preconditioner $Gammastar = inv(Sigma) * B * inv(C)$ "
                                         "solves the normal equations, as an identity in generic "
                                         "symmetric matrices."),
                         display=(math("Sigma * (inv(Sigma) * B * inv(C)) * C = B"),),
                         method=f"exact: entrywise over a common denominator at d = {d}, with "
                                "symbolic symmetric matrices")


def general_gamma(mom: GeneralMoments, Sigma, n, s2):
    """Gamma* = n Sigma^-1 B adj(M) / det(M), M = (n-1) B + E[f^2 x x^T] + s2 Sigma (= n C), with
    coefficients of the polynomials in (n, s2) kept compact (radicals in numerators), and L*."""
    B = sp.Matrix(mom.mm)
    M = (n - 1) * B + sp.Matrix(mom.f2xx) + s2 * Sigma
    gens = [g for g in (n, s2) if isinstance(g, sp.Symbol)]
    det = sp.expand(M.det())
    adj = M.adjugate()
    num = (n * Sigma.inv() * B * adj).applyfunc(sp.expand)
    lc = sp.Poly(det, *gens).LC() if gens else det

    def tidy(p):
        if not gens:
            return sp.radsimp(sp.expand(p / lc))
        poly = sp.Poly(p, *gens)
        return sum((sp.expand(sp.radsimp(cf / lc)) * sp.prod([g**e for g, e in zip(gens, mono, strict=True)])
                    for mono, cf in poly.terms()), sp.Integer(0))
    den = tidy(det)
    gamma = num.applyfunc(lambda e: tidy(e) / den)
    trace = sp.expand((Sigma.inv() * B * adj * B.T).trace())
    loss = mom.f2 + s2 - n * tidy(trace) / den
    C = M / n
    return gamma, loss, C, B


def _decide_form(gamma, task):
    """("gd", "") when Gamma* = eta I exactly, else ("general", why) with a witness: an entry
    of Gamma* - Gamma*_11 I shown nonzero by interval arithmetic at n = 10, s2 = 1/4."""
    d = gamma.rows
    at = {pinned.n: sp.Integer(10), pinned.s2: sp.Rational(1, 4)}
    old = ctx.prec
    try:
        ctx.dps = 30
        for i in range(d):
            for j in range(d):
                diff = gamma[i, j] - (gamma[0, 0] if i == j else 0)
                if diff == 0:
                    continue
                ball = arb_value(sp.sympify(diff).xreplace(at))
                if not ball.contains(0):
                    return "general", (f"Gamma*[{i + 1},{j + 1}] - "
                                       f"{'Gamma*[1,1]' if i == j else '0'} = {ball.str(6)} != 0 at "
                                       "n = 10, s2 = 1/4 (interval arithmetic)")
    finally:
        ctx.prec = old
    off = all(exact_equal(gamma[i, j], 0) for i in range(d) for j in range(d) if i != j)
    diag = all(exact_equal(gamma[i, i], gamma[0, 0]) for i in range(d))
    return ("gd", "") if off and diag else ("general", "Gamma* is not shown to be a multiple of I")


# --- rigorous enclosures, Sigma = I, Omega = c I ------------------------------------------------

def _enclosure_route(task, hyps, link, width, c, digits, why) -> NonlinearOptimum:
    d, n, s2 = task.d, task.n, task.noise
    enc = single_index_enclosure(link, d, c, digits)
    if width > 1:
        enc = EnclosedMoments(enc.m2 * width, enc.f2x2 * width, enc.f2 * width, enc.digits,
                              enc.nodes, enc.pieces, enc.seconds)
    proof = Derivation(_title(task))
    proof.add(Step.checked("outside-exp-piecewise", "Outside the exp-piecewise class",
                           "The exact route does not apply, so the moments are enclosed instead.",
                           True, ("The exact decomposition is a decision procedure for the "
                                  "exp-piecewise class; here it reports: ", why, "."),
                           "exact decomposition attempt"))
    proof.add(Step.checked(
        "moments-enclosed", "Theorem 3 moments enclosed",
        "The three moments of the response lie in the intervals shown.", True,
        "Inner integrals by acb.integral, outer ones by Gauss-Legendre quadrature with "
        "Bernstein-ellipse error bounds, tails by growth bounds: every term is a ball.",
        f"interval arithmetic (python-flint arb), {enc.nodes} outer nodes, {enc.pieces} pieces",
        display=moment_display({"m2": decimal_interval_node(enc.m2),
                                "f2x2": decimal_interval_node(enc.f2x2),
                                "f2": decimal_interval_node(enc.f2)})))
    proof.add(step_odd_block_structural(task.response.family))
    proof.add(step_context_split(n))
    proof.extend(_lemma_steps(hyps))
    eta_sym, loss_sym, steps = _scalar_gd_steps(d, n, s2, M2, F2X2, F2, exact=False)
    proof.extend(steps)
    result = NonlinearOptimum(task, "enclosure", "gd", None, None, None, hyps, proof, "enclosure",
                              "", moments={"eta-formula": eta_sym, "loss-formula": loss_sym},
                              enclosure=enc, odd_orthogonal=True, width=width)
    if not (task.n_symbolic or task.noise_symbolic):
        ball = result.eta_ball(int(n), s2)
        proof.add(Step.checked("eta-enclosed", "Step size enclosed",
                               words("The step size $etastar$ lies in the interval shown."),
                               True, "Ball arithmetic on the formula above.",
                               "interval arithmetic",
                               display=(Relation(e("etastar"), "in", decimal_interval_node(ball)),)))
    proof.conclusion = {"form": "gd", "strength": "enclosure", "eta-formula": eta_sym}
    return result


__all__ = ["NonlinearOptimum", "theorem3_optimum", "eta_formula", "general_gamma", "M2", "F2X2",
           "F2", "MOMENT_NAMES"]
