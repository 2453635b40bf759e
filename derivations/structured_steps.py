"""The proof steps of the structured certificate route (one function each, explicit inputs).

Each step checks a claim about the Kronecker factors of :mod:`derivations.structured` with the
project's exact kernels (the Gaussian engine, polynomial identities in sparse rings and in
python-flint) and can fail: the tests perturb every input and see it refuted. Where a full
expansion is unaffordable a step compares the two sides at a pseudo-random point instead
(:mod:`derivations.spotcheck`) and says so in its ``method``, with the Schwartz-Zippel bound:

* ``quadratic``: the model's loss (direct route) against the structured form, expanded for
  d <= 3 and at a random parameter point above (always exact in n, s2 and the task's symbols);
* ``optimal-loss``: expanded on the GD family for d <= 6 (or with symbolic covariances), at a
  random (n, s2) above; exact evaluation when n and s2 are fixed.
"""

from __future__ import annotations

import sympy as sp
from sympy.polys.rings import ring as make_ring

from . import certificate_statements as says
from . import spotcheck
from . import symbols as pinned
from .exact import exact_equal
from .features import FeatureBasis
from .loss import expected_loss, loss_parts
from .lsa import EffectiveParameters
from .polymatrix import FractionMatrix, PolyDomain, evaluate
from .positivity import certify_positive_definite
from .proof import Relation, Step
from .statements import expression, statement
from .structured import (
    GEN_A,
    GEN_B,
    NU,
    Moments,
    block_identity,
    block_slices,
    domain_of,
    statistic_pairs,
    statistics,
    structure_identity,
    structured_loss,
)
from .task import Task

#: below this d the model's loss is also expanded in every parameter (deterministic check);
#: above it, it is compared at a random parameter point (Schwartz-Zippel)
EXACT_DIRECT_MAX_D = 3
#: the loss is a polynomial of degree <= 4 in the effective parameters (quadratic in theta,
#: theta bilinear in (u, M))
LOSS_DEGREE = 4


def statistic_names(d: int) -> list:
    names = []
    for i, k in statistic_pairs(d):
        if i == d and k == d:
            names.append("y^2")
        elif i == d:
            names.append(f"y x{k + 1}")
        else:
            names.append(f"x{i + 1} x{k + 1}")
    return names


def _factor_symbols(task: Task):
    d = task.d
    q = len(block_slices(d)["odd"])
    return {"C": sp.MatrixSymbol("C", d, d), "D": sp.MatrixSymbol("D", q, q),
            "Sigma": sp.MatrixSymbol("Sigma", d, d), "B": sp.MatrixSymbol("B", d, d)}


def _params_point(task: Task, rng) -> EffectiveParameters:
    d = task.d
    return EffectiveParameters(spotcheck.matrix(rng, d + 1, 1), spotcheck.matrix(rng, d + 1, d),
                               sp.zeros(d, 1))


def direct_identity(task: Task, m: Moments, basis: FeatureBasis, exact: bool, seed="quadratic"):
    """(holds, method text): the model's loss (direct engine route) == the structured form.

    exact: compare as polynomials in every effective parameter (expanded); otherwise at one
    pseudo-random integer parameter point, exactly in n, s2 and the task's symbols.
    """
    d = task.d
    if exact:
        params = EffectiveParameters.symbols(d)
        others = [g for g in m.space.gens if g not in m.space.coords("xq") and g not in m.space.coords("w")
                  and g not in (GEN_A, GEN_B)]
        R, *_ = make_ring(params.all_symbols()[: (d + 1) + (d + 1) * d] + others, m.space.domain)

        def convert(value):
            return R.from_expr(value.as_expr())
        method = ("exact: both sides expanded in one sparse polynomial ring over every effective "
                  "parameter, 1/n, s2 and the task's symbols, and compared")
    else:
        params = _params_point(task, spotcheck.rng_for(seed, task.describe()))
        R = m.space.ring

        def convert(value):
            return value
        method = (spotcheck.bound_text(LOSS_DEGREE) + " over the effective parameters (u, M); "
                  "exact in n, s2 and the task's symbols")
    theta = list(basis.coefficients(params, False))
    structured = structured_loss(m, theta, convert, R)
    nu = R(NU) if exact else m.space.gen(NU)
    parts = loss_parts(task, params).parts
    direct = R.zero
    for k, part in parts.items():
        direct += R.from_expr(part.as_expr()) * nu ** k
    return structured == direct, method


def step_quadratic(task: Task, m: Moments, basis: FeatureBasis | None = None, exact: bool | None = None,
                   statistic_fn=statistics) -> Step:
    """(b) the loss is the Kronecker-structured quadratic form in theta (checked three ways).

    1. F = psi (x) x_q for the features of ``basis`` (exact identity, two generic tokens);
    2. E[g g^T] = C, E[g w^T] = B^T, E[phi phi^T] = D (exact identities in two generic symbols);
    3. the model's loss from the direct route equals the form (exact for d <= 3, else at a
       random parameter point).
    """
    basis = basis or FeatureBasis.of(task)
    exact = task.d <= EXACT_DIRECT_MAX_D if exact is None else exact
    problems = []
    ok, detail = structure_identity(task, basis, statistic_fn)
    if not ok:
        problems.append(f"feature structure: {detail}")
    for rows, cols, name, claimed in (("gd", "gd", "C = E[g g^T]", m.C), ("gd", "w", "B^T = E[g w^T]", m.Bt),
                                      ("odd", "odd", "D = E[phi phi^T]", m.D)):
        ok, detail = block_identity(m, rows, cols, claimed)
        if not ok:
            problems.append(f"{name}: {detail}")
    same, direct_method = direct_identity(task, m, basis, exact)
    if not same:
        problems.append("the model's loss (direct route) differs from the structured quadratic form")
    sym = _factor_symbols(task)
    q = len(m.D)
    return Step.checked(
        "quadratic", "Loss as a convex quadratic",
        says.quadratic_words() + says.words(
            " Its Gram matrix has Kronecker form: each feature is a statistic of the context times "
            "a coordinate of the query, which is independent of the context and of the task vector, "
            "so the GD block is $C$ times $Sigma$ and the odd block $D$ times $Sigma$ (Kronecker "
            "products)."),
        not problems,
        says.words(
            "The factorisation of the features is an identity in the token coordinates; the "
            "expectation of a product of a function of the context and the task vector and a "
            "function of the query factors by independence. The factors $C$, $B$ and $D$ are "
            "computed by the moment engine entry by entry and checked against one engine "
            "computation of a generic bilinear form in two symbols (Kronecker substitution: the "
            "identity in the two symbols holds exactly when every entry agrees). The model's loss is "
            "computed independently (from the moments of each context example's linear forms, "
            "without features) and compared with the structured form."),
        ("exact: features vs psi (x) x_q in a sparse ring over two generic tokens; C, B, D as "
         "polynomial identities in two generic symbols; the model's loss vs the form: " + direct_method),
        detail="; ".join(problems),
        display=(statement("E[(yhat - y_q)^2] = theta^T * H * theta - 2 * c^T * theta + k"),
                 Relation(sp.MatrixSymbol("H_gd", task.d ** 2, task.d ** 2), "=",
                          sp.KroneckerProduct(sym["C"], sym["Sigma"])),
                 statement("E[g * g^T] = C"), statement("E[w * g^T] = B"),
                 Relation(sp.MatrixSymbol("H_odd", q * task.d, q * task.d), "=",
                          sp.KroneckerProduct(sym["D"], sym["Sigma"]))),
        data={"route": "structured", "factor_sizes": {"C": task.d, "D": q},
              **({} if exact else {"randomised": True, "failure_bound": spotcheck.failure_bound(LOSS_DEGREE)})})


def step_symmetry_split(task: Task, m: Moments) -> Step:
    """(c) E[phi g^T] = 0 and E[phi w^T] = 0 (so the odd block is orthogonal to the GD block and
    to the target): the claimed moments X, Y are checked against the engine and found zero."""
    problems = []
    for cols, name, claimed in (("gd", "E[phi g^T]", m.X), ("w", "E[phi w^T]", m.Y)):
        ok, detail = block_identity(m, "odd", cols, claimed)
        if not ok:
            problems.append(f"{name}: {detail}")
    names = statistic_names(task.d)[task.d:]
    odd_target = next(((names[j], m.expr(v)) for j, row in enumerate(m.Y) for v in row if v), None)
    odd_gd = next(((names[j], b, m.expr(v)) for j, row in enumerate(m.X) for b, v in enumerate(row) if v), None)
    if odd_target:
        problems.append(f"the odd statistic {odd_target[0]} correlates with the target: "
                        f"E[phi w^T] has the entry {odd_target[1]}")
    if odd_gd:
        problems.append(f"E[({odd_gd[0]}) * g_{odd_gd[1] + 1}] = {odd_gd[2]} != 0")
    q = len(m.X)
    return Step.checked(
        "symmetry-split", "Symmetry split",
        says.symmetry_split_words() + says.words(
            " The cross moments of the odd context statistics with $g$ and with $w$ are the Kronecker "
            "factors of these blocks."),
        not problems,
        says.symmetry_split_justification(),
        (f"exact: E[phi g^T] ({q} x {task.d}) and E[phi w^T] ({q} x {task.d}) as polynomial "
         "identities in two generic symbols, and every entry zero"),
        detail="; ".join(problems),
        display=says.symmetry_split_display(),
        data={"route": "structured"})


def _fraction(dom: PolyDomain, value) -> FractionMatrix:
    return value if isinstance(value, FractionMatrix) else FractionMatrix.from_sympy(dom, value)


def step_normal_equations(task: Task, C, B, gamma) -> Step:
    """(d) Gamma* C = B exactly (equivalently H_gd theta* = c_gd, since H_gd = C (x) Sigma,
    c_gd = vec(B^T Sigma) and Sigma is invertible). C, B, gamma: SymPy or FractionMatrix."""
    dom = domain_of(task)
    C, B, G = (_fraction(dom, x) for x in (C, B, gamma))
    GC = G @ C
    where = GC.first_difference(B)
    detail = ""
    if where is not None:
        i, j = where
        if i < 0:
            detail = "shapes differ"
        else:
            residual = dom.ratio(GC.rows[i][j] * B.den - B.rows[i][j] * GC.den, GC.den * B.den)
            detail = f"(Gamma C - B)[{i + 1},{j + 1}] = {sp.factor(residual)} != 0"
    return Step.checked(
        "normal-equations", "Normal equations",
        says.normal_equations_words(),
        where is None,
        says.words("The stationarity condition of the convex quadratic in $d$ by $d$ form: the GD block "
                   "is $C$ times $Sigma$ (a Kronecker product) and $Sigma$ is invertible, so it reads "
                   "$Gammastar * C = B$."),
        "exact: Gamma* C and B over common denominators, polynomial entries compared (python-flint)",
        detail=detail, display=(statement("Gammastar * C = B"),), data={"route": "structured"})


def step_unique(task: Task, C, m: Moments | None = None) -> Step:
    """(f) C and Sigma positive definite (so H_gd = C (x) Sigma is); D reported when affordable."""
    pd_gd, detail_gd = certify_positive_definite(C)
    pd_sigma, detail_sigma = certify_positive_definite(task.Sigma)
    pd_odd, detail_odd = _odd_factor_pd(task, m) if m is not None else (None, "not computed")
    ok = pd_gd is True and pd_sigma is True
    verdict = True if ok else (False if False in (pd_gd, pd_sigma) else None)
    return Step.checked(
        "unique", "Uniqueness",
        says.unique_words(),
        verdict,
        says.UNIQUE_JUSTIFICATION,
        f"C: {detail_gd}; Sigma: {detail_sigma}; odd factor D: {detail_odd}",
        display=says.unique_display(),
        data={"odd_block_positive_definite": pd_odd, "route": "structured"})


#: the odd factor D is (d(d+1)/2 + 1)-square; its symbolic minors grow fast, so with symbolic
#: entries it is certified only up to this size (it is not needed for the verdict)
ODD_PD_SYMBOLIC_MAX = 15


def _odd_factor_pd(task: Task, m: Moments):
    q = len(m.D)
    if task.parameters and q > ODD_PD_SYMBOLIC_MAX:
        return None, (f"not certified ({q} x {q} with symbolic entries; not needed: the verdict "
                      "rests on C and Sigma)")
    verdict, detail = certify_positive_definite(m.matrix("D"))
    return verdict, f"the odd block is D times Sigma (Kronecker), and D: {detail}"


# --- optimal loss: the model's own loss at the realising parameters ---------------------------

#: with symbolic n / s2 the model's loss on the GD family is expanded as a polynomial in the d^2
#: entries of Gamma up to this d (deterministic); above it, it is evaluated at a random (n, s2)
GD_FAMILY_EXACT_MAX_D = 6
#: degree bounds of the model's loss in 1/n and in s2 (every variant): the prediction is a
#: 1/n-average of terms of degree <= 2 in the labels, and the loss is its square
LOSS_NU_DEGREE, LOSS_S2_DEGREE = 2, 2


def _as_fraction_matrix(dom, gamma):
    return gamma if isinstance(gamma, FractionMatrix) else FractionMatrix.from_sympy(dom, gamma)


def _as_fraction(dom, loss):
    return loss if isinstance(loss, tuple) else dom.fraction(loss)


def _gd_family_value(task: Task, dom: PolyDomain, G: FractionMatrix):
    """(num, den): the model's loss at u = e_{d+1}, A = Gamma^T, b = 0 for Gamma = G, exactly.

    The loss on the GD family is expanded by the engine as a polynomial in d^2 placeholder
    entries gamma_ij (coefficients in 1/n, s2, symbols); G = N / delta is substituted with
    flint polynomials (delta^2 L is a polynomial). None when the engine's coefficient domain is a
    fraction field (symbolic covariances with a non-polynomial prior): not handled here.
    """
    d = task.d
    g = sp.Matrix(d, d, lambda i, j: sp.Dummy(f"gamma_{i + 1}{j + 1}"))
    lp = loss_parts(task, EffectiveParameters.gd_point(g))
    space = lp.space
    if space.domain != sp.QQ:
        return None
    position = {space.index[g[i, j]]: (i, j) for i in range(d) for j in range(d)}
    symbol_of = {space.index[s]: s for s in dom.symbols if s in space.index}
    delta = G.den
    total, top = dom.zero, max(lp.parts)
    n_symbolic = task.n_symbolic
    for k, part in lp.parts.items():
        value = dom.zero
        for monom, coeff in part.terms():
            term = dom.constant(space.domain.to_sympy(coeff))
            degree = 0
            for index, e in enumerate(monom):
                if not e:
                    continue
                if index in position:
                    i, j = position[index]
                    term = term * G.rows[i][j] ** e
                    degree += e
                elif index in symbol_of:
                    term = term * dom.gen(symbol_of[index]) ** e
                else:
                    raise ValueError("unexpected generator in the loss")
            value = value + term * delta ** (2 - degree)
        if n_symbolic:
            value = value * dom.gen(pinned.n) ** (top - k)
        else:
            value = value * dom.constant(sp.Rational(1, task.n) ** k)
        total = total + value
    den = delta ** 2 * (dom.gen(pinned.n) ** top if n_symbolic else dom.one)
    return total, den


def _random_point_check(task: Task, dom: PolyDomain, G: FractionMatrix, num, den, seed="optimal-loss"):
    """(holds, method, failure bound): the model's loss at Gamma*(p) == L*(p) at one random point
    p of the task's symbolic n, s2, with the Schwartz-Zippel degree bound in the method."""
    rng = spotcheck.rng_for(seed, task.describe())
    for _attempt in range(8):
        values = {s: spotcheck.integer(rng, positive=True) for s in dom.symbols}
        try:
            gamma_p = G.evaluate(values)         # a pole: never for n >= 1, s2 >= 0, but be safe
        except ZeroDivisionError:
            continue
        den_p = evaluate(dom, den, values)
        if den_p != 0:
            break
    else:
        return None, "no random point without a pole was found", 1.0
    star_p = evaluate(dom, num, values) / den_p
    n_value = values.get(pinned.n, task.n)
    noise = values.get(pinned.s2, task.noise)
    law = task.covariates
    task_p = Task(d=task.d, noise=noise, covariance=task.Sigma if law.is_gaussian else None,
                  prior=task.Omega, covariates=law)
    parts = loss_parts(task_p, EffectiveParameters.gd_point(gamma_p)).parts
    direct = sum((sp.Rational(p.as_expr()) / sp.Integer(n_value) ** k for k, p in parts.items()), sp.Integer(0))
    e = max([int(G.den.total_degree())] + [int(x.total_degree()) for r in G.rows for x in r])
    degree = max(int(den.total_degree()) + LOSS_NU_DEGREE + LOSS_S2_DEGREE + 2 * e,
                 int(num.total_degree()) + LOSS_NU_DEGREE + 2 * e)
    method = (spotcheck.bound_text(degree, positive=True)
              + f" over ({', '.join(map(str, dom.symbols))}): the degree bound is that of "
              "n^2 delta^2 den(L*) (L(Gamma*) - L*), Gamma* = N / delta")
    return direct == star_p, method, spotcheck.failure_bound(degree)


def step_optimal_loss(task: Task, gamma, loss_star, exact: bool | None = None) -> Step:
    """L* (normal-equation route, k - c_gd . theta*) equals the model's exact loss at the
    realising parameters u = e_{d+1}, A = Gamma*^T, b = 0 (direct route).

    gamma: SymPy matrix or FractionMatrix; loss_star: SymPy expression or (num, den) flint pair.
    Fixed n and s2: one exact evaluation. Symbolic: the GD-family loss expanded in Gamma's
    entries with Gamma* substituted (d <= 6, or symbolic covariances), else one random point.
    """
    dom = domain_of(task)
    G = _as_fraction_matrix(dom, gamma)
    num, den = _as_fraction(dom, loss_star)
    if exact is None:
        exact = task.d <= GD_FAMILY_EXACT_MAX_D
    if set(dom.symbols) - {pinned.n, pinned.s2}:
        exact = True        # symbolic covariances: the random-point degree bound covers n, s2 only
    bound = 0.0
    if not dom.symbols:
        value = sp.Rational(loss_parts(task, EffectiveParameters.gd_point(G.sympy())).expr())
        star = dom.ratio(num, den)
        ok = value == star
        shown = value
        method = "exact: the model's loss at the realising parameters evaluated exactly (rational arithmetic)"
    elif exact:
        family = _gd_family_value(task, dom, G)
        if family is None:
            g = sp.Matrix(task.d, task.d, lambda i, j: sp.Dummy(f"gamma_{i + 1}{j + 1}"))
            point = EffectiveParameters.gd_point(g)
            direct = expected_loss(task, point.u, point.M, point.r).xreplace(
                dict(zip(g, G.sympy(), strict=True)))
            ok = exact_equal(direct, dom.ratio(num, den))
            shown = direct if ok and _small(num, den) else None
        else:
            value, value_den = family
            ok = value * den == num * value_den
            shown = dom.ratio(value, value_den) if _small(num, den) else None
        method = ("exact: the loss on the GD family expanded as a polynomial in the entries of Gamma "
                  "(engine), Gamma* = N / delta substituted over a common denominator (python-flint)")
    else:
        ok, method, bound = _random_point_check(task, dom, G, num, den)
        shown = None
    star_shown = dom.ratio(num, den) if _small(num, den) else None
    if shown is not None and star_shown is None:
        shown = None
    return Step.checked(
        "optimal-loss", "Optimal loss",
        says.optimal_loss_words(),
        ok,
        "Two routes: the normal-equation value and the direct expectation of the model's loss.",
        method,
        detail="" if ok else "the two values differ",
        display=says.optimal_loss_display(),
        computed=((Relation(expression("Lstar"), "=", star_shown),) if shown is not None else ()),
        data={"route": "structured", **({"randomised": True, "failure_bound": bound} if bound else {})})


def _small(num, den, limit=60) -> bool:
    return len(num.to_dict()) + len(den.to_dict()) <= limit
