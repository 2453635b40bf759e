"""Theorem 3 at symbolic d for a single-index link: eta*(n, d, s2) exactly, every step checked.

For f(x) = g(w^T x) with x ~ N(0, I_d), w ~ N(0, c I_d) and an exp-piecewise link g whose
inner integrals have only even powers of rho (:mod:`.expoly`), the derivation is:

 1. ``link-decomposition``, ``inner-integrals``: g = P + sign(s) Q; A(rho), J(rho) in closed
    form (1-D Gaussian integrals; nothing depends on d);
 2. ``chi-moments``: E[r^k e^{p r^2}] for r ~ chi_d at symbolic d, as the k/2-th derivative of
    (1 - 2p)^(-d/2) (independent coordinates), and polynomial ones also by the all-d engine
    (E[(w^T w)^j] by index-level Isserlis);
 3. ``moments``: E|m_f|^2, E[f^2 |x|^2], E[f^2] as functions of d (and re-derived at d = 1..4 by
    the fixed-d route, as a cross-check);
 4. ``odd-block``: the odd features are odd under (x_i, x_q, w) -> -(x_i, x_q, w), f is even;
 5. ``lemma-scalar-matrix``: C, B symmetric and SO(d)-invariant, hence c I and b I;
 6. ``context-split``: C = ((n-1)/n) E[m m^T] + (1/n) E[y^2 x x^T], B = E[m m^T] (traces give c, b);
 7. ``normal-equations``, ``completed-square`` (all-d engine, Gamma a matrix symbol),
    ``convexity`` (c > 0), ``theorem3-eta`` (eta* = b / c equals the paper's formula).

Each step records in ``data["scope"]`` whether it is proved for every d ("every d") or checked at
fixed d; the derivation's strength is "symbolic-d" only when every step is "every d".

>>> D = prove_single_index("relu(s)")
>>> D.holds, D.conclusion["strength"], D.conclusion["eta"]
(True, 'symbolic-d', n/(2*d + n + 4*s2 + 3))
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from ..alld import Canonical, decide, expect, gaussian, identity, matrix, scalar, trace
from ..alld import d as D
from ..exact import canonical, exact_equal
from ..notation.display import SympyNode, scaled_identity
from ..notation.tree import AddNode, DivNode, IdentityNode, MulNode, NegNode
from ..proof import Derivation, Relation, Step
from ..symbols import n, s2
from ..vocabulary import e, math, words  # noqa: F401 (late-bound statement vocabulary)
from .certificate import (
    chi_display,
    eta_formula,
    eta_tree,
    moment_display,
    step_context_split,
    step_decomposition,
    step_inner,
    step_odd_block_structural,
)
from .closed_form import InnerIntegrals, isotropic_moments
from .expoly import NotPolynomialInD, chi_moment
from .hypotheses import scalar_matrix_step
from .parse import parse_link

EVERY_D, FIXED_D = "every d", "fixed d"
ENGINE = "all-d engine: index-level Isserlis, canonical chains/traces"


def normalise_d_powers(expr):
    """Replace every q^(a d + b) (q rational, a in Z/2) by prod_p u_p^(2 m a) p^(m b) with
    u_p = p^(d/2) a fresh symbol per prime p: the result is rational in (u_p, d, n, s2), so
    exact_equal on normalised forms is a sound equality test (an identity in independent
    symbols holds for every value of them, in particular u_p = p^(d/2))."""
    expr = sp.sympify(expr)
    cache: dict = {}

    def u(p):
        if p not in cache:
            cache[p] = sp.Symbol(f"u{p}", positive=True)
        return cache[p]

    def rewrite(e):
        if e.is_Pow and e.base.is_Rational and e.exp.has(D):
            a = e.exp.coeff(D)
            b = sp.expand(e.exp - a * D)
            if (2 * a).is_Integer and not b.has(D):
                out = sp.Integer(1)
                for p, m in sp.factorint(e.base.p).items():
                    out *= u(p) ** (2 * a * m) * sp.Integer(p) ** (m * b)
                for p, m in sp.factorint(e.base.q).items():
                    out *= u(p) ** (-2 * a * m) * sp.Integer(p) ** (-m * b)
                return out
        return e
    return sp.sympify(expr).replace(lambda e: e.is_Pow and e.base.is_Rational and e.exp.has(D),
                                    rewrite)


def equal_d(a, b) -> bool:
    """Exact equality of expressions with powers q^(a d + b) (see :func:`normalise_d_powers`)."""
    return exact_equal(normalise_d_powers(sp.expand(a)), normalise_d_powers(sp.expand(b)))


def _scoped(step: Step, scope: str) -> Step:
    step.data["scope"] = scope
    return step


def step_chi_symbolic(inner: InnerIntegrals, c) -> Step:
    """Every chi moment used, at symbolic d, by two routes."""
    p = sp.Symbol("p")
    used = set()
    for series in (inner.A * inner.A, inner.J.shift(2), inner.J):
        used |= {(k, q * c) for k, q in series.terms}
    ok, detail = True, ""
    for k, q in sorted(used, key=str):
        try:
            value = chi_moment(k, q, D)
        except NotPolynomialInD as err:
            return _scoped(Step.checked("chi-moments", "Averages over the radius",
                                        "An average over the radius is not a polynomial in d.",
                                        None, "", "", detail=str(err), display=(chi_display(),)),
                           FIXED_D)
        other = sp.diff((1 - 2 * p) ** (-D / 2), p, k // 2).xreplace({p: q})
        good = equal_d(value, other)
        if q == 0 and k // 2 <= 3:
            w = gaussian("w")
            norm2 = w.T @ w
            power = scalar(1)
            for _ in range(k // 2):
                power = power * norm2
            engine = Canonical.of(expect(power, {"w": identity()})).scalar()
            good = good and engine is not None and exact_equal(engine, value)
        if not good:
            ok, detail = False, f"E[r^{k} exp({q} r^2)] = {value} not confirmed"
    return _scoped(Step.checked(
        "chi-moments", "Averages over the radius",
        words("The radius of the task vector has a chi distribution with $d$ degrees of freedom; its "
              "moments used here have the closed form shown (every power even: polynomial in $d$)."), ok,
        words("The moment generating function of the squared radius is a product over the $d$ "
              "independent coordinates; derivatives in its exponent bring down even powers of the "
              "radius."),
        f"exact differentiation at symbolic d ({len(used)} power and exponent pairs); the pure "
        "powers also by the all-d engine (moments of the squared norm up to the third)",
        detail=detail, display=(chi_display(),)), EVERY_D)


def step_moments(link, inner, c, m2, f2x2, f2) -> Step:
    """The symbolic-d moments, re-derived at d = 1..4 by the fixed-d route."""
    ok, detail = True, ""
    for k in range(1, 5):
        fixed = isotropic_moments(link, k, c, inner)
        for name, sym, val in (("E|m|^2", m2, fixed.m2), ("E[f^2|x|^2]", f2x2, fixed.f2x2),
                               ("E[f^2]", f2, fixed.f2)):
            if not exact_equal(sym.xreplace({D: k}), val):
                ok, detail = False, f"{name} at d = {k}: {sym.xreplace({D: k})} != {val}"
    return _scoped(Step.checked(
        "moments", "Theorem 3 moments",
        "The three moments of the response as functions of d, averages of the inner integrals over "
        "the radius.", ok,
        "Averages of the radial series term by term (previous step).",
        "exact; cross-checked at d = 1, 2, 3, 4 by the fixed-d route",
        display=moment_display({"m2": m2, "f2x2": f2x2, "f2": f2}), detail=detail),
        EVERY_D)


CSYM, BSYM, ESYM = sp.symbols("c b E", positive=True)


def _scalar_forms():
    """C = c I, B = b I, Gamma* = (b/c) I as relations (c, b the scalar symbols)."""
    return (Relation(e("C"), "=", scaled_identity("c")), Relation(e("B"), "=", scaled_identity("b")),
            Relation(e("Gammastar"), "=", MulNode((SympyNode(BSYM / CSYM), IdentityNode()))))


def step_normal_equations_alld() -> Step:
    """Gamma* = (b/c) I solves Gamma C = B for C = c I, B = b I (c, b symbols, every d)."""
    G = scalar(BSYM / CSYM) * identity()
    lhs, rhs = Canonical.of(G @ (scalar(CSYM) * identity())), Canonical.of(scalar(BSYM) * identity())
    ok, reason = decide(lhs, rhs)
    C, B, G_ = _scalar_forms()
    return _scoped(Step.checked("normal-equations", "Normal equations",
                                ("With ", C, " and ", B, ", the multiple ", G_,
                                 " of the identity solves the normal equations."), ok,
                                "(b/c) c = b.", ENGINE, display=(math("Gammastar * C = B"),),
                                detail=reason), EVERY_D)


def step_completed_square_alld() -> Step:
    """For every Gamma: tr(Gamma C Gamma^T) - 2 tr(Gamma^T B) + E = tr((Gamma - (b/c) I) C
    (Gamma - (b/c) I)^T) + E - d b^2 / c, with C = c I, B = b I (c, b, E symbols, every d)."""
    G = matrix("Gamma")
    C, B = scalar(CSYM) * identity(), scalar(BSYM) * identity()
    quadratic = trace(G @ C @ G.T) - 2 * trace(G.T @ B) + scalar(ESYM)
    M = G - scalar(BSYM / CSYM) * identity()
    square = trace(M @ C @ M.T) + scalar(ESYM - D * BSYM**2 / CSYM)
    lhs, rhs = Canonical.of(quadratic), Canonical.of(square)
    ok, reason = decide(lhs, rhs)
    Cr, Br, Gr = _scalar_forms()
    loss = Relation(e("Lstar"), "=", AddNode((e("E[y_q^2]"), NegNode(DivNode(
        MulNode((e("d"), SympyNode(BSYM**2))), SympyNode(CSYM))))))
    return _scoped(Step.checked(
        "completed-square", "Completed square",
        ("For every matrix ", e("Gamma"), ", with ", Cr, ", ", Br, ", ", Gr, " and ", loss,
         ", the loss is a completed square."),
        ok, "Expand; the second moment is a multiple of the identity.", ENGINE,
        display=(math("tr(Gamma * C * Gamma^T) - 2 * tr(Gamma^T * B) + E[y_q^2] = "
                      "tr((Gamma - Gammastar) * C * (Gamma - Gammastar)^T) + Lstar"),),
        detail=reason), EVERY_D)


def step_values(eta, loss, c_value, b_value, energy) -> Step:
    """The concrete eta*, L* equal b/c and E[y_q^2] - d b^2/c (exact, d symbolic)."""
    ok = equal_d(eta * c_value, b_value) and equal_d(loss, energy - D * b_value**2 / c_value)
    return _scoped(Step.checked(
        "theorem3-eta", "Theorem 3 step size",
        (*words("The step size $etastar$ is "), SympyNode(BSYM / CSYM),
         *words(", which is Theorem 3's formula, and the optimal loss is "),
         AddNode((e("E[y_q^2]"), NegNode(DivNode(MulNode((e("d"), SympyNode(BSYM**2))), SympyNode(CSYM))))),
         "."), ok,
        ("The traces give ", Relation(SympyNode(D * BSYM), "=", e("E[m_f^T * m_f]")), " and ",
         Relation(SympyNode(D * CSYM), "=", e("((n - 1) * E[m_f^T * m_f] + E[f^2 * x^T * x] + d * s2) / n")),
         "."),
        "exact, powers q^(d/2) as independent symbols",
        display=(eta_tree(noise_in_energy=True),),
        computed=(Relation(e("etastar"), "=", eta), Relation(e("Lstar"), "=", loss))), EVERY_D)


def step_convexity(link, c_value) -> Step:
    nonzero = sp.expand(link) != 0
    return _scoped(Step.checked(
        "convexity", "Unique minimiser",
        words("The second moment $C$ is positive definite: c is positive because the mean square "
              "of $f$ times the squared norm of $x$ is positive, the link not being identically 0."),
        nonzero, "Squares have nonnegative expectations.", "exact: the link is not the zero "
        "expression", display=(math("C succ 0"),),
        computed=(Relation(SympyNode(CSYM), "=", c_value),)), EVERY_D)


def _tidy(expr):
    """canonical() for rational functions of d; a plain together/expand when powers q^(d/2)
    occur (factor is slow and unhelpful on them)."""
    return canonical(expr) if not expr.has(sp.Pow) or all(
        not (e.is_Pow and e.exp.has(D)) for e in sp.preorder_traversal(expr)) else \
        sp.together(sp.expand(expr))


def prove_single_index(link, c=1) -> Derivation:
    """Theorem 3 for y = g(w^T x) + eps at symbolic d, n, s2 (Sigma = I, Omega = c I)."""
    link = parse_link(link) if isinstance(link, str) else link
    c = sp.Rational(c)
    inner = InnerIntegrals.of(link)
    proof = Derivation(("Theorem 3 for ", Relation(e("y"), "=", SympyNode(link)),
                        *words(" with $s = w^T * x$, $Sigma = I$ and "
                               + ("$Omega = I$" if c == 1 else f"$Omega = {c} * I$")
                               + ", for every $d$, $n$ and noise variance")))
    proof.add(_scoped(step_decomposition(link, inner), EVERY_D))
    proof.add(_scoped(step_inner(inner), EVERY_D))
    chi = step_chi_symbolic(inner, c)
    proof.add(chi)
    if not chi.proved:
        proof.conclusion = {"strength": "none", "eta": None}
        return proof
    mom = isotropic_moments(link, D, c, inner)
    m2, f2x2, f2 = mom.m2, mom.f2x2, mom.f2
    proof.add(step_moments(link, inner, c, m2, f2x2, f2))
    proof.add(_scoped(step_odd_block_structural("single-index"), EVERY_D))
    lemma = replace(scalar_matrix_step(4), data={},
                    method="exact orbit computation at d = 1 to 8; for larger d the case argument "
                           "(group elements on at most 4 coordinates)")
    if all(scalar_matrix_step(k).proved for k in range(1, 9)):
        proof.add(_scoped(lemma, EVERY_D))
    else:
        proof.add(_scoped(lemma.with_status("refuted", "lemma fails at some d <= 8"), EVERY_D))
    proof.add(_scoped(step_context_split(n), EVERY_D))
    c_value = ((n - 1) * m2 + f2x2 + D * s2) / (n * D)
    b_value = m2 / D
    eta = _tidy(eta_formula(m2, f2x2 + D * s2, n))
    loss = _tidy(f2 + s2 - eta * m2)
    proof.add(step_normal_equations_alld())
    proof.add(step_completed_square_alld())
    proof.add(step_convexity(link, c_value))
    proof.add(step_values(eta, loss, c_value, b_value, f2 + s2))
    every = all(s.data.get("scope") == EVERY_D for s in proof)
    proof.setup = (f"x_1..x_n, x_q iid N(0, I_d); w ~ N(0, {c} I_d); y = g(w^T x) + eps, "
                   "eps ~ N(0, s2); g = (1/n) sum_i y_i x_i; yhat = x_q^T Gamma g; d, n, s2 symbolic")
    proof.conclusion = {"strength": "symbolic-d" if proof.holds and every else "symbolic-n",
                        "gamma": eta * sp.Symbol("I"), "eta": eta, "loss": loss,
                        "moments": {"m2": m2, "f2x2": f2x2, "f2": f2},
                        "scope": {s.key: s.data.get("scope") for s in proof}}
    return proof


__all__ = ["prove_single_index", "EVERY_D", "FIXED_D"]
