"""The certified global optimum of the LSA pre-training loss for linear tasks.

:func:`global_optimum` derives Gamma* from the exact Gram matrix of the lifted features
(no published formula is assumed) and returns it with a certificate: the ordered proof
steps (a)-(f) listed in the README, each an exact check that can fail.

>>> from derivations import Task
>>> opt = global_optimum(Task(d=1))
>>> opt.form, opt.eta
('gd', n/(n + s2 + 2))
>>> opt.certificate.holds
True
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

import sympy as sp

from . import budget, spotcheck, structured, structured_steps
from . import certificate_statements as says
from . import symbols as pinned
from .exact import canonical, exact_equal, is_zero
from .features import FeatureBasis, Gram, gram
from .forms import FORMS, GammaForm  # noqa: F401 (FORMS re-exported)
from .forms import classify as classify_form
from .loss import expected_loss
from .lsa import EffectiveParameters, effective_prediction, predict, realising_weights, reduction_steps
from .positivity import certify_positive_definite
from .proof import Derivation, Relation, Step
from .statements import expression
from .task import Task


@dataclass
class Optimum:
    """The exact optimum of a task: Gamma*, its form, eta*, L* and the certificate."""

    task: Task
    gamma: sp.Matrix
    loss: sp.Expr
    form: str
    eta: sp.Expr | None
    certificate: Derivation
    C: sp.Matrix | None = None         # E[g g^T]
    B: sp.Matrix | None = None         # E[w g^T]
    assumptions: dict = field(default_factory=dict)
    form_detail: GammaForm | None = None   # also eta' Sigma^{-1} when Sigma is a multiple of I

    @property
    def holds(self) -> bool:
        return self.certificate.holds


@dataclass
class ClaimVerdict:
    """Outcome of :func:`check_claim`: holds, or refuted with the violated normal equation."""

    holds: bool
    reason: str
    residual: sp.Matrix            # Gamma C - B (zero iff the normal equations hold)
    step: Step


def _tokens(d, count=2):
    # Dummy symbols: never equal to a symbol of the caller's (e.g. in a symbolic covariance)
    xs = [sp.Matrix([sp.Dummy(f"t{i}_x{k + 1}", real=True) for k in range(d)]) for i in range(count)]
    ys = [sp.Dummy(f"t{i}_y", real=True) for i in range(count)]
    xq = sp.Matrix([sp.Dummy(f"t_q{k + 1}", real=True) for k in range(d)])
    tokens = [x.col_join(sp.Matrix([y])) for x, y in zip(xs, ys, strict=True)]
    return xs, ys, xq, tokens


def _gd_theta(gamma: sp.Matrix) -> sp.Matrix:
    """The GD-block coefficients vec(Gamma^T), ordered (b, c) with b major (FeatureBasis.gd)."""
    d = gamma.rows
    return sp.Matrix([gamma[c, b] for b in range(d) for c in range(d)])


def classify(gamma: sp.Matrix, sigma: sp.Matrix):
    """(form, eta) by the one rule of :mod:`derivations.forms` (a multiple of I is 'gd')."""
    found = classify_form(gamma, sigma)
    return found.kind, found.eta


@lru_cache(maxsize=8)
def _reduction(d):
    return tuple(reduction_steps(d))


def _kronecker_factor(block: sp.Matrix, sigma: sp.Matrix, d: int):
    """If block[(b,c),(b',c')] == C[b,b'] * Sigma[c,c'] exactly, return C; else None."""
    m = block.rows // d
    j = next(k for k in range(d) if sigma[0, k] != 0)
    C = sp.Matrix(m, m, lambda b, bb: sp.cancel(block[b * d, bb * d + j] / sigma[0, j]))
    expected = sp.kronecker_product(C, sigma)
    return C if exact_equal(block, expected) else None


def _solve_gd_block(G: Gram, task: Task):
    """Solve the GD-block normal equations H_gd theta = c_gd, using H_gd = C (x) Sigma."""
    d, sigma = task.d, task.Sigma
    H_gd = G.block(G.basis.gd, G.basis.gd)
    c_gd = G.c.extract(list(G.basis.gd), [0])
    C = _kronecker_factor(H_gd, sigma, d)
    if C is not None:
        cmat = sp.Matrix(d, d, lambda b, c: c_gd[b * d + c])        # = (Sigma B)^T = B^T Sigma
        theta_mat = (C.inv() * cmat * sigma.inv()).applyfunc(canonical)
        B = (sigma.inv() * cmat.T).applyfunc(canonical)
    else:   # no product structure: solve the d^2 x d^2 system directly
        theta = H_gd.LUsolve(c_gd).applyfunc(canonical)
        theta_mat = sp.Matrix(d, d, lambda b, c: theta[b * d + c])
        B = None
    return theta_mat.T, C, B, H_gd, c_gd


def _odd_block_pd(G: Gram, task: Task):
    """Certify H_odd positive definite: via H_odd = D (x) Sigma when it factors."""
    H_odd = G.block(G.basis.odd, G.basis.odd)
    D = _kronecker_factor(H_odd, task.Sigma, task.d)
    if D is not None:
        verdict, detail = certify_positive_definite(D)
        return verdict, "its Kronecker factor D: " + detail
    if not task.n_symbolic and not task.noise_symbolic and not task.parameters:
        verdict, detail = certify_positive_definite(H_odd)
        return verdict, detail
    # evaluate at rational points (n >= 1, s2 >= 0): evidence, not a proof for all n
    return None, "H_odd has no product structure (query in keys) and symbolic entries"


# --- the proof steps, one function each (explicit inputs, so each can be perturbed) -------

def step_convex_lift(task: Task, basis: FeatureBasis, coefficients=None) -> Step:
    """(a) yhat(u, M, r) == <theta(u, M, r), F> as a polynomial identity."""
    from sympy.polys.rings import ring as make_ring

    d, n = task.d, pinned.n
    params = EffectiveParameters.symbols(d)
    theta = (coefficients or basis.coefficients)(params, task.residual)
    xs, ys, xq, tokens = _tokens(d)
    # both sides in one sparse ring over every parameter and token coordinate, with nu = 1/n a
    # generator: converting the unexpanded expressions there is the expansion (much faster
    # than sp.expand on thousands of terms)
    nu = sp.Dummy("nu")
    gens = params.all_symbols() + [s for x in xs for s in x] + list(ys) + list(xq) + [n, nu]
    R, *_ = make_ring(gens, sp.QQ)

    def in_ring(expr):
        return R.from_expr(expr.xreplace({1 / n: nu}))

    lhs = in_ring(effective_prediction(params, tokens, xq, n, task.query_in_keys, task.residual))
    features = basis.features(xs, ys, xq, n, task.query_in_keys)
    rhs = R.zero
    for coefficient, feature in zip(theta, features, strict=True):
        if coefficient != 0:
            rhs += in_ring(coefficient) * in_ring(feature)
    same = lhs == rhs
    small = max(len(lhs), len(rhs)) <= 200
    return Step.checked(
        "convex-lift", "Convex lift", says.convex_lift_words(), same,
        says.CONVEX_LIFT_JUSTIFICATION,
        ("exact: both sides expanded in one sparse polynomial ring over every parameter, token "
         "coordinate and 1/n, and compared"),
        lhs=(lhs.as_expr().xreplace({nu: 1 / n}) if small else None),
        rhs=(rhs.as_expr().xreplace({nu: 1 / n}) if small else None),
        detail="" if same else "the two polynomials differ",
        data={"terms": max(len(lhs), len(rhs))}, display=says.convex_lift_display())


def step_quadratic(task: Task, G: Gram) -> Step:
    """(b) theta^T H theta - 2 c^T theta + k == the model's exact loss, as polynomials."""
    params = EffectiveParameters.symbols(task.d)
    theta = G.basis.coefficients(params, task.residual)
    direct = expected_loss(task)
    # Multiply through by n^2 (n > 0) and compare in one sparse ring over every parameter.
    scale = pinned.n ** 2 if task.n_symbolic else sp.Integer(1)
    H = [sp.cancel(x * scale) for x in G.H]
    c = [sp.cancel(x * scale) for x in G.c]
    gens = params.all_symbols() + sorted(
        (set().union(*(sp.sympify(e).free_symbols for e in H + c + [G.k, direct]))
         - set(params.all_symbols())), key=str)
    _, polys = sp.polys.rings.sring(H + c + [sp.cancel(G.k * scale), sp.cancel(sp.expand(direct) * scale)]
                                     + list(theta) + [sp.Integer(0)], *gens)
    p = len(theta)
    Hr, cr = polys[:p * p], polys[p * p:p * p + p]
    kr, direct_r = polys[p * p + p], polys[p * p + p + 1]
    th = polys[p * p + p + 2:p * p + p + 2 + p]
    zero = polys[-1]
    lifted = kr
    for i in range(p):
        if not th[i]:
            continue
        row = zero
        for j in range(p):
            if th[j] and Hr[i * p + j]:
                row += Hr[i * p + j] * th[j]
        lifted += th[i] * (row - 2 * cr[i])
    ok = lifted == direct_r
    step = Step.checked(
        "quadratic", "Loss as a convex quadratic", says.quadratic_words(), ok,
        ("The Gram matrix, the correlations with the target and the target's energy, computed from "
         "the features by the Gaussian engine, agree, as polynomials in all effective parameters, "
         "with the loss computed directly from the model."),
        (f"exact: both sides, multiplied by the square of n, expanded in one sparse polynomial ring "
         f"over {len(gens)} generators and compared"),
        detail="" if ok else "the two polynomials differ", display=says.quadratic_display())
    step.data["H"] = G.H
    return step


def step_symmetry_split(G: Gram) -> Step:
    """(c) E[F_odd F_gd^T] = 0 and E[F_odd y_q] = 0 exactly."""
    basis = G.basis
    cross = G.block(basis.odd, basis.gd)
    c_odd = G.c.extract(list(basis.odd), [0])
    bad_c = next(((basis.names[basis.odd[i]], v) for i, v in enumerate(c_odd) if not is_zero(v)), None)
    bad_h = next(((basis.names[basis.odd[i]], basis.names[basis.gd[j]], cross[i, j])
                  for i in range(cross.rows) for j in range(cross.cols) if not is_zero(cross[i, j])), None)
    if bad_c:
        detail = f"the odd feature {bad_c[0]} correlates with the target: E[F y_q] = {bad_c[1]}"
    elif bad_h:
        detail = f"E[{bad_h[0]} * {bad_h[1]}] = {bad_h[2]} != 0"
    else:
        detail = ""
    return Step.checked(
        "symmetry-split", "Symmetry split", says.symmetry_split_words(), not bad_c and not bad_h,
        says.symmetry_split_justification(),
        f"exact: all {cross.rows * cross.cols} cross moments and {len(c_odd)} target moments expand to 0",
        detail=detail, display=says.symmetry_split_display())


def step_normal_equations(G: Gram, gamma: sp.Matrix) -> Step:
    """(d) H_gd theta* = c_gd exactly at theta* = vec(Gamma^T)."""
    theta = _gd_theta(gamma)
    H_gd = G.block(G.basis.gd, G.basis.gd)
    c_gd = G.c.extract(list(G.basis.gd), [0])
    return Step.identity(
        "normal-equations", "Normal equations", (H_gd * theta).applyfunc(sp.expand),
        c_gd.applyfunc(sp.expand), statement=says.normal_equations_words(),
        justification=("The stationarity condition of the convex quadratic, checked entrywise over a "
                       "common denominator."),
        method=f"exact: the {len(theta)} equations, each numerator over a common denominator expanded to 0",
        display=says.normal_equations_display(), computed=says.gamma_computed(gamma))


def step_realisable(task: Task, basis: FeatureBasis, gamma: sp.Matrix, weights_for=realising_weights) -> Step:
    """(e) explicit weights in every parameterisation predict x_q^T Gamma g, and theta = theta*."""
    d, n = task.d, pinned.n
    xs, ys, xq, tokens = _tokens(d)
    g_vec = sum((y * x for x, y in zip(xs, ys, strict=True)), sp.zeros(d, 1)) / n
    gd_pred = sp.expand(n * (xq.T * gamma * g_vec)[0])
    ok, details = True, []
    for kind in ("paper", "merged"):
        weights = weights_for(kind, gamma)
        pred = sp.expand(n * predict(kind, weights, tokens, xq, n, task.query_in_keys, task.residual))
        same = is_zero(pred - gd_pred)
        ok &= same
        details.append(f"{kind}: {'predicts x_q^T Gamma* g' if same else 'prediction differs'}")
    realised = EffectiveParameters.gd_point(gamma)
    ok &= exact_equal(basis.coefficients(realised, task.residual),
                      _gd_theta(gamma).col_join(sp.zeros(len(basis.odd), 1)))
    return Step.checked(
        "realisable", "Realisability", says.realisable_words(), ok, says.realisable_justification(),
        "exact polynomial identity per parameterisation; lifted coefficients compared entrywise",
        detail="; ".join(details), display=says.realisable_display())


def step_optimal_loss(task: Task, gamma: sp.Matrix, loss_star) -> Step:
    """L* (Gram route) equals the model's exact loss at the realising parameters (direct route)."""
    d = task.d
    # the loss on the GD family as a polynomial in placeholder entries g_ij, then Gamma* put in
    # (much faster than pushing rational functions of n through the engine)
    g = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"gamma_{i + 1}{j + 1}", real=True))
    point = EffectiveParameters.gd_point(g)
    family = expected_loss(task, point.u, point.M, point.r)
    direct = family.xreplace(dict(zip(g, gamma, strict=True)))
    return Step.identity(
        "optimal-loss", "Optimal loss", canonical(direct), loss_star, statement=says.optimal_loss_words(),
        justification="Two routes: the Gram-matrix value and the direct expectation of the model's loss.",
        method="exact: the model's loss at the realising parameters minus the Gram-matrix value, over a "
               "common denominator, expands to 0",
        display=says.optimal_loss_display(), computed=says.loss_computed(loss_star))


def step_unique(task: Task, G: Gram, C) -> Step:
    """(f) H_gd = C (x) Sigma positive definite; odd null directions leave the prediction unchanged."""
    pd_gd, detail_gd = (certify_positive_definite(C) if C is not None else (None, "no product structure"))
    pd_sigma, _ = certify_positive_definite(task.Sigma)
    pd_odd, detail_odd = _odd_block_pd(G, task)
    ok = pd_gd is True and pd_sigma is True
    verdict = True if ok else (False if False in (pd_gd, pd_sigma) else None)
    return Step.checked(
        "unique", "Uniqueness", says.unique_words(), verdict, says.UNIQUE_JUSTIFICATION,
        f"C: {detail_gd}; odd block: {detail_odd}",
        display=says.unique_display(factored=C is not None),
        data={"odd_block_positive_definite": pd_odd})


ROUTES = ("auto", "structured", "general")
#: up to this d the reductions are expanded symbolically on the structured route too (cached)
REDUCTION_EXACT_MAX_D = 4


class _Progress:
    """Calls ``callback(done, total, title)`` before each stage and once at the end."""

    def __init__(self, callback, titles):
        self.callback, self.titles, self.done = callback, list(titles), 0

    def __call__(self, title):
        if self.callback is not None:
            self.callback(self.done, len(self.titles), title)
        self.done += 1

    def finish(self):
        if self.callback is not None:
            self.callback(len(self.titles), len(self.titles), "done")


def _certificate(task: Task, G: Gram, gamma, C, loss_star, progress=None) -> Derivation:
    progress = progress or (lambda title: None)
    from .statements import task_words

    cert = Derivation(("Global optimality certificate (",) + task_words(task) + (")",))
    progress("reductions")
    cert.extend(_reduction(task.d))
    progress("convex lift")
    cert.add(step_convex_lift(task, G.basis))
    progress("quadratic form")
    cert.add(step_quadratic(task, G))
    progress("symmetry split")
    cert.add(step_symmetry_split(G))
    progress("normal equations")
    cert.add(step_normal_equations(G, gamma))
    progress("realisability")
    cert.add(step_realisable(task, G.basis, gamma))
    progress("optimal loss")
    cert.add(step_optimal_loss(task, gamma, loss_star))
    progress("uniqueness")
    cert.add(step_unique(task, G, C))
    return cert


def _strength(task: Task) -> str:
    return "symbolic-n" if task.n_symbolic and task.noise_symbolic else "instance"


def _general_optimum(task: Task, progress, why: str) -> Optimum:
    """Today's route: the full lifted Gram matrix, its GD block solved, every step on it."""
    stages = _Progress(progress, ["Gram matrix", "solve", "reductions", "convex lift", "quadratic form",
                                  "symmetry split", "normal equations", "realisability", "optimal loss",
                                  "uniqueness"])
    stages("Gram matrix")
    G = gram(task)
    stages("solve")
    gamma, C, B, H_gd, c_gd = _solve_gd_block(G, task)
    loss_star = canonical(G.k - (c_gd.T * _gd_theta(gamma))[0])
    found = classify_form(gamma, task.Sigma)
    cert = _certificate(task, G, gamma, C, loss_star, stages)
    p = len(G.basis.names)
    cert.setup = f"Route: general (the full {p} x {p} lifted Gram matrix), because {why}."
    cert.conclusion = {"gamma": gamma, "eta": found.eta, "loss": loss_star, "form": found.kind,
                       "preconditioned_eta": found.preconditioned_eta, "strength": _strength(task),
                       "route": "general", "route_reason": why}
    stages.finish()
    return Optimum(task, gamma, loss_star, found.kind, found.eta, cert, C=C, B=B, form_detail=found)


#: up to this d realisability is expanded with a symbolic Gamma; above, the predictions are
#: compared at a random point (the lift is always checked with a symbolic Gamma)
REALISABLE_EXACT_MAX_D = 4
#: n * yhat of the realising weights is linear in Gamma and n, of degree 2 in a token, 1 in x_q
REALISABLE_DEGREE = 5


def step_realisable_generic(task: Task, basis: FeatureBasis, weights_for=realising_weights,
                            exact: bool | None = None) -> Step:
    """(e) for every Gamma: the realising weights predict x_q^T Gamma g and lift to (vec Gamma^T, 0);
    hence for Gamma*. Exact (a symbolic Gamma) for d <= 4; for larger d the predictions are
    compared at a random (Gamma, n, tokens) point and the lift with a symbolic Gamma."""
    d = task.d
    generic = sp.Matrix(d, d, lambda i, j: sp.Dummy(f"G_{i + 1}{j + 1}", real=True))
    exact = d <= REALISABLE_EXACT_MAX_D if exact is None else exact
    if exact:
        step = step_realisable(task, basis, generic, weights_for)
        return replace(step, method=("exact polynomial identity in the d x d entries of a generic Gamma "
                                     "(so it holds at Gamma*) per parameterisation; lifted coefficients "
                                     "compared entrywise"))
    rng = spotcheck.rng_for("realisable", task.describe())
    G = spotcheck.matrix(rng, d, d)
    n = spotcheck.integer(rng, positive=True)
    tokens = [spotcheck.matrix(rng, d + 1, 1) for _ in range(2)]
    xq = spotcheck.matrix(rng, d, 1)
    g_vec = sum((t[d, 0] * t[:d, 0] for t in tokens), sp.zeros(d, 1)) / n
    gd_pred = (xq.T * G * g_vec)[0]
    ok, details = True, []
    for kind in ("paper", "merged"):
        pred = predict(kind, weights_for(kind, G), tokens, xq, n, task.query_in_keys, task.residual)
        same = sp.sympify(pred - gd_pred) == 0
        ok &= same
        details.append(f"{kind}: {'predicts x_q^T Gamma g' if same else 'prediction differs'}")
    lift = exact_equal(basis.coefficients(EffectiveParameters.gd_point(generic), task.residual),
                       _gd_theta(generic).col_join(sp.zeros(len(basis.odd), 1)))
    ok &= lift
    if not lift:
        details.append("the lifted coefficients differ from (vec Gamma^T, 0)")
    return Step.checked(
        "realisable", "Realisability",
        says.realisable_words(), ok, says.realisable_justification(),
        (spotcheck.bound_text(REALISABLE_DEGREE) + " over (Gamma, n, two tokens, x_q) for the "
         "predictions of both parameterisations; lifted coefficients: exact identity in a generic Gamma"),
        detail="; ".join(details),
        display=says.realisable_display(),
        data={"randomised": True, "failure_bound": spotcheck.failure_bound(REALISABLE_DEGREE)})


def _structured_optimum(task: Task, progress) -> Optimum:
    """The route through the Kronecker factors: no p x p matrix is formed (see structured.py)."""
    stages = _Progress(progress, ["moments", "solve", "reductions", "convex lift", "quadratic form",
                                  "symmetry split", "normal equations", "realisability", "optimal loss",
                                  "uniqueness"])
    stages("moments")
    m = structured.moments(task)
    stages("solve")
    solution = structured.solve_optimum(m)
    gamma = solution.gamma_sympy()
    loss_star = solution.loss_sympy()
    C, B = m.matrix("C").applyfunc(sp.cancel), m.matrix("B").applyfunc(sp.cancel)
    # the form rule on SymPy expressions is slow for large rational functions; decide "general"
    # exactly with flint first (same decision: neither eta I nor eta Sigma^{-1})
    found = classify_form(gamma, task.Sigma) if structured.possible_form(solution) else GammaForm("general", None)
    basis = FeatureBasis.of(task)
    from .statements import task_words

    cert = Derivation(("Global optimality certificate (",) + task_words(task) + (")",))
    stages("reductions")
    if task.d <= REDUCTION_EXACT_MAX_D:
        cert.extend(_reduction(task.d))
    else:
        cert.extend(spotcheck.reduction_steps(task.d))
    stages("convex lift")
    cert.add(step_convex_lift(task, basis))
    stages("quadratic form")
    cert.add(structured_steps.step_quadratic(task, m, basis))
    stages("symmetry split")
    cert.add(structured_steps.step_symmetry_split(task, m))
    stages("normal equations")
    cert.add(structured_steps.step_normal_equations(task, solution.C, solution.B, solution.gamma))
    stages("realisability")
    cert.add(step_realisable_generic(task, basis))
    stages("optimal loss")
    cert.add(structured_steps.step_optimal_loss(task, solution.gamma, (solution.loss_num, solution.loss_den)))
    stages("uniqueness")
    cert.add(structured_steps.step_unique(task, C, m))
    cert.setup = ("Route: structured (the lifted Gram matrix through its Kronecker factors C (x) Sigma "
                  "and D (x) Sigma; no p x p matrix is formed).")
    randomised = [s for s in cert if s.data.get("randomised")]
    cert.conclusion = {"gamma": gamma, "eta": found.eta, "loss": loss_star, "form": found.kind,
                       "preconditioned_eta": found.preconditioned_eta, "strength": _strength(task),
                       "route": "structured", "route_reason": "",
                       # steps checked at a random point (Schwartz-Zippel) and, by the union
                       # bound, the probability that any of them passed a false identity
                       "randomised": [s.key for s in randomised],
                       "failure_bound": sum(s.data.get("failure_bound", 0.0) for s in randomised)}
    stages.finish()
    return Optimum(task, gamma, loss_star, found.kind, found.eta, cert, C=C, B=B, form_detail=found)


def global_optimum(task: Task, progress=None, route: str = "auto") -> Optimum:
    """The exact global minimiser over all LSA parameters, with its certificate (linear tasks).

    route: "auto" (the structured route whenever the features have the Kronecker form -- the
    plain model -- else the general route), "structured" or "general" (the full lifted Gram
    matrix; the reference route). The certificate's ``setup`` and ``conclusion["route"]`` say
    which route ran and why. progress: None (silent) or a callable
    ``progress(done, total, step_title)`` called before each stage and once at the end.

    Nonlinear responses are delegated to :mod:`derivations.nonlinear`. Work estimated to exceed
    the machine's limits (for the route that will run) is refused before it starts
    (:mod:`derivations.budget`, :class:`~derivations.errors.TooLargeError`).
    """
    if route not in ROUTES:
        from .errors import InputError
        raise InputError(f"route: must be one of {', '.join(ROUTES)}, got {route!r}")
    reason = structured.structure_reason(task)
    if route == "structured" and reason:
        from .errors import InputError
        raise InputError(f"route: the structured route does not apply to this task: {reason}")
    budget.check(task, route=route)
    if not task.is_linear:
        from .nonlinear import theorem3_optimum  # noqa: PLC0415 (optional module)
        return theorem3_optimum(task)
    if route == "general" or reason:
        return _general_optimum(task, progress, reason or "the general route was requested")
    return _structured_optimum(task, progress)


CLAIM_FORMS = ("gd", "preconditioned-gd")


def _claimed_gamma(task: Task, gamma, eta, form):
    """The claimed d x d Gamma from exactly one of gamma / (eta, form), and its description."""
    from .errors import ExactInputError
    from .exact import as_exact, as_exact_matrix
    from .textparse import names_of

    d = task.d
    if (gamma is None) == (eta is None):
        raise ExactInputError("claim: give exactly one of gamma (a d x d matrix) or eta (a scalar)")
    # n and s2 in a claim mean the task's own values (symbols when the task leaves them symbolic)
    names = names_of(task.parameters) | {"n": task.n, "s2": task.noise, "d": sp.Integer(d)}
    if gamma is not None:
        if form != "gd":
            raise ExactInputError("claim: form applies to eta; a gamma matrix is compared as given")
        claim = as_exact_matrix(gamma, "gamma", shape=(d, d), names=names)
        return claim, f"Gamma = {claim.tolist()}"
    if form not in CLAIM_FORMS:
        raise ExactInputError(f"form: must be one of {', '.join(CLAIM_FORMS)}, got {form!r}")
    value = as_exact(eta, "eta", names=names)
    if form == "gd":
        return value * sp.eye(d), f"Gamma = eta I with eta = {value}"
    return value * task.Sigma.inv(), f"Gamma = eta Sigma^-1 with eta = {value}"


def _claim_moments(task: Task):
    """(C, B) from the Kronecker factors when the structure applies, else (None, None) after the
    general route's budget check (the caller then builds the Gram matrix)."""
    reason = structured.structure_reason(task)
    if reason is None:
        m = structured.moments(task)
        return m.matrix("C").applyfunc(sp.cancel), m.matrix("B").applyfunc(sp.cancel)
    budget.check(task, route="general")
    return None, None


def check_claim(task: Task, gamma=None, eta=None, form: str = "gd") -> ClaimVerdict:
    """Does a claimed optimum satisfy the exact normal equations Gamma C = B?

    State the claim as ``gamma`` (a d x d matrix), or as ``eta`` with ``form``: "gd" means
    Gamma = eta I, "preconditioned-gd" means Gamma = eta Sigma^{-1} (Theorem 2's statement).
    Values must be exact: SymPy objects, ints, Fractions, or text parsed by the whitelist
    parser (names n, s2, d and the task's own symbols; e.g. ``eta="n/(n + d + 1 + s2)"``).
    Floats and anything else raise :class:`~derivations.errors.ExactInputError`.
    Returns a verdict whose ``reason`` says what was compared and names the first violated
    normal equation.

    >>> from derivations import Task
    >>> from derivations.symbols import n, s2
    >>> check_claim(Task(d=2), eta=n / (n + 3 + s2)).holds
    True
    >>> v = check_claim(Task(d=2), eta=n / (n + 2 + s2))
    >>> v.holds, v.reason.split(':')[0]
    (False, 'violated normal equation (Gamma C - B)[1,1]')
    """
    d = task.d
    claim, described = _claimed_gamma(task, gamma, eta, form)
    C, B = _claim_moments(task)
    if C is None:
        G = gram(task)
        gamma_star, C, B, H_gd, c_gd = _solve_gd_block(G, task)
        if C is None or B is None:
            C = B = None
    if C is not None:
        residual = (claim * C - B).applyfunc(canonical)
    else:
        r = (H_gd * _gd_theta(claim) - c_gd).applyfunc(canonical)
        residual = sp.Matrix(d, d, lambda c, b: r[b * d + c])
    bad = [(i, j) for i in range(d) for j in range(d) if not is_zero(residual[i, j])]
    if bad:
        i, j = bad[0]
        reason = (f"violated normal equation (Gamma C - B)[{i + 1},{j + 1}]: {residual[i, j]} != 0 "
                  f"(C = E[g g^T], B = E[w g^T]; {len(bad)} of {d * d} entries violated; "
                  f"claim: {described})")
    else:
        reason = (f"the normal equations Gamma C = B hold exactly for the claim {described}; "
                  "by the certificate this is the global optimum")
    step = Step.checked(
        "claim", "Claimed optimum", says.claim_words(),
        not bad, "Stationarity of the convex quadratic of the GD block (normal equations).",
        "exact entrywise check of the residual of the normal equations",
        detail=reason if bad else "", display=says.claim_display(),
        computed=(Relation(expression("Gamma"), "=", claim),), data={"claim": described})
    return ClaimVerdict(not bad, reason, residual, step)
