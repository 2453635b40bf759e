"""The theorems for every d, n, s2 (and symbolic Sigma, Omega) as checked Derivations.

Route, each line a :class:`~derivations.proof.Step`
decided by the all-d engine (index-level Isserlis + canonical chains/traces; pointwise
identities by :mod:`.pointwise`), so that every step holds for every d:

0. reduction: the paper parameterisation (W^K, W^Q, W^V, h) and the merged one (W^KQ,
   W^PV), with and without the residual and the query among the keys, predict exactly the
   effective model in (u, M = [A; b^T], r) -- the weights written in d x d, d x 1 and 1 x 1
   blocks; convex lift: yhat = <T, F> with T = u (x) M (full contractions of 3-index
   tensors), so the loss is a convex quadratic in T; the GD block of the lift is
   x_q^T Gamma g with Gamma = u_y A^T + b u_x^T;
1. odd-degree features (and the variants' features) are orthogonal to the GD block and to
   the target;
2. C = E[g g^T] and B = E[w g^T] in closed form (g = (1/n) sum_i y_i x_i);
3. L(Gamma) = E[(x_q^T Gamma g - y_q)^2] = tr(Gamma C Gamma^T Sigma)
   - 2 tr(Gamma^T Sigma B) + tr(Sigma Omega) + s2, for a symbolic matrix Gamma;
4. normal equations Gamma* C = B at the claimed Gamma*;
5. completed square L(Gamma) = tr((Gamma - Gamma*) C (Gamma - Gamma*)^T Sigma) + L*;
6. C and Sigma positive definite, so Gamma* is the unique minimiser and L* the minimum;
7. realisability: the effective, paper and merged weights with u = e_{d+1}, A = Gamma*^T,
   b = 0 predict x_q^T Gamma* g;
8. (Theorems 1, 2, 3) an independent recomputation: E[(x_q^T Gamma* g - y_q)^2] = L*.

For the general prior C is an opaque symmetric positive-definite atom in steps 4-6
(so C^{-1} C = I cancels), justified by step 2 which shows E[g g^T] equals its
definition. ``prove(kind, overrides)`` replaces any claim (C, B, gamma, loss) so a
perturbed input can be seen to break the proof.

>>> from derivations.alld.proofs import prove
>>> D = prove("theorem2")
>>> D.holds, D.conclusion["strength"], D.conclusion["gamma"]
(True, 'symbolic-sigma', (n/(d + n + s2 + 1))*Sigma**(-1))
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..notation.display import InnerNode, OuterNode
from ..notation.tree import AddNode, DivNode, ExpectNode, MulNode, RelationNode
from ..proof import Derivation, Relation, Step
from ..symbols import n, s2
from ..vocabulary import e, math, words  # noqa: F401 (late-bound statement vocabulary)
from .canonical import Canonical, decide
from .positivity import certify_positive_definite
from .tensor import (
    Tensor,
    average,
    d,
    example,
    example_scalar,
    gaussian,
    identity,
    inverse,
    matrix,
    scalar,
    scalar_gaussian,
    trace,
    vector,
)
from .wick import expect

KINDS = ("theorem1", "theorem2", "general-prior", "theorem3-cubic")
ENGINE = "all-d engine: index-level Isserlis, delta contraction, canonical chains/traces"

#: the step size of Theorems 1 and 2
ETA = n / (n + d + 1 + s2)
#: the optimal loss of Theorems 1 and 2
LOSS = s2 + d * (d + 1 + s2) / (n + d + 1 + s2)
#: Theorem 3's step size for y = (w^T x)^3 + eps, Sigma = Omega = I
ETA3 = 9 * n * (d + 2) * (d + 4) / ((d + 2) * (d + 4) * (9 * n + 15 * d + 81) + s2)


@dataclass
class Setting:
    """The distribution: x_i, x_q ~ N(0, Sigma), w ~ N(0, Omega), noise variance s2."""

    kind: str
    Sigma: Tensor
    Omega: Tensor
    pd: set            # atoms known to be positive definite
    strength: str
    cubic: bool = False   # y = (w^T x)^3 + eps (Theorem 3 instance) instead of w^T x + eps

    def response(self, x: Tensor) -> Tensor:
        """f(x) without noise: w^T x, or (w^T x)^3 for the cubic single-index link."""
        s = gaussian("w").T @ x
        return s * s * s if self.cubic else s

    @property
    def covariances(self) -> dict:
        return {"x": self.Sigma, "xq": self.Sigma, "w": self.Omega, "e": s2, "eq": s2}

    # the random objects, rebuilt on demand (each call gives fresh slots)
    def g(self) -> Tensor:
        x = example("x")
        y = self.response(x) + example_scalar("e")
        return average(y * x)

    def y_query(self, xq: Tensor) -> Tensor:
        return self.response(xq) + scalar_gaussian("eq")

    def target_energy(self):
        """E[y_q^2] as the closed form the quadratic is written with."""
        if self.cubic:
            return 15 * d * (d + 2) * (d + 4) + s2       # E[(w^T x)^6] = 15 E|w|^6
        return trace(self.Sigma @ self.Omega) + s2

    def E(self, t: Tensor) -> Canonical:
        return Canonical.of(expect(t, self.covariances))

    # --- how the claims are written (statement language; Sigma = I leaves no factor) -------
    @property
    def identity_covariance(self) -> bool:
        return self.kind in ("theorem1", "theorem3-cubic")

    def quadratic_text(self, gamma: str = "Gamma") -> str:
        """tr(Gamma C Gamma^T Sigma) - 2 tr(Gamma^T Sigma B) + E[y_q^2] in the statement language."""
        if self.identity_covariance:
            return f"tr({gamma} * C * ({gamma})^T) - 2 * tr(({gamma})^T * B) + E[y_q^2]"
        return f"tr({gamma} * C * ({gamma})^T * Sigma) - 2 * tr(({gamma})^T * Sigma * B) + E[y_q^2]"

    def energy_text(self) -> str:
        """E[y_q^2] as the closed form the quadratic is written with."""
        if self.cubic:
            return "15 * d * (d + 2) * (d + 4) + s2"
        return "tr(Sigma * Omega) + s2" if self.kind == "general-prior" else "d + s2"


def setting(kind: str) -> Setting:
    if kind == "theorem1":
        return Setting(kind, identity(), identity(), set(), "symbolic-d")
    if kind == "theorem2":
        return Setting(kind, matrix("Sigma", True), inverse("Sigma", True), {"Sigma"},
                       "symbolic-sigma")
    if kind == "general-prior":
        return Setting(kind, matrix("Sigma", True), matrix("Omega", True), {"Sigma", "Omega", "C"},
                       "symbolic-sigma")
    if kind == "theorem3-cubic":
        return Setting(kind, identity(), identity(), set(), "symbolic-d", cubic=True)
    raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")


def claims(s: Setting) -> dict:
    """The closed forms the theorem asserts (Tensors / SymPy scalars)."""
    S, O = s.Sigma, s.Omega
    if s.cubic:
        # C = ((n-1)/n) E[m m^T] + (1/n) E[y^2 x x^T], B = E[y_q x_q g^T] = E[m m^T],
        # m = E_x[x f(x)] = 3 |w|^2 w, so E[m m^T] = 9 (d+2)(d+4) I
        b = 9 * (d + 2) * (d + 4)
        c = ((n - 1) * b + 15 * (d + 2) * (d + 4) * (d + 6) + s2) / n
        return {"C": c * identity(), "B": b * identity(), "gamma": ETA3 * identity(),
                "loss": 15 * d * (d + 2) * (d + 4) + s2 - d * b * ETA3}
    if s.kind == "general-prior":
        C = matrix("C", True)
        return {"C": (n + 1) / n * (S @ O @ S) + (trace(O @ S) + s2) / n * S,
                "C_opaque": C, "B": O @ S, "gamma": O @ S @ inverse("C", True),
                "loss": trace(S @ O) + s2 - trace(S @ (O @ S) @ inverse("C", True) @ (O @ S).T)}
    # Theorems 1, 2: C = ((n+d+1+s2)/n) Sigma, B = I, Gamma* = eta Sigma^{-1}
    Sinv = identity() if s.kind == "theorem1" else inverse("Sigma", True)
    return {"C": (n + d + 1 + s2) / n * S, "B": identity(), "gamma": ETA * Sinv, "loss": LOSS}


def _as_tensor(value) -> Tensor:
    if isinstance(value, Tensor):
        return value
    from .tensor import scalar
    return scalar(value)


def _step(key, title, statement, lhs_canon, rhs_canon, display, justification, method=ENGINE,
          shown=None, computed=(), **decide_args):
    """A step decided by the engine: ``display`` states the claim; when it fails, the engine's
    value of the side ``shown`` (a statement tree) is added to ``computed``."""
    ok, reason = decide(lhs_canon, rhs_canon, **decide_args)
    computed = tuple(computed)
    if ok is not True and shown is not None:
        computed += (Relation(shown, "=", lhs_canon.to_sympy()),)
    return Step.checked(key, title, statement, ok, justification, method, detail=reason,
                        data={"computed": lhs_canon, "claimed": rhs_canon},
                        display=tuple(display), computed=computed)


def _value(obj):
    """A claimed value (Tensor or SymPy) as a SymPy object for display."""
    if isinstance(obj, Tensor):
        return Canonical.of(obj).to_sympy()
    return sp.sympify(obj, strict=True)   # never parses text


#: the display of the default odd features and of the targets they are orthogonal to
ODD_FEATURE_DISPLAY = {
    "x_i x_i^T (x) x_q": lambda: OuterNode((e("avg(x_i * x_i^T)"), e("x_q"))),
    "y_i^2 x_q": lambda: e("avg(y_i^2) * x_q"),
    "(1/n) x_q (x) x_q (x) x_q": lambda: DivNode(OuterNode((e("x_q"), e("x_q"), e("x_q"))), e("n")),
    "x_q (residual)": lambda: e("x_q"),
}
SYMMETRY_JUSTIFICATION = (
    "Replacing $x_i$, $x_q$ and $w$ by their negatives leaves the law of the labels unchanged and "
    "flips the sign of a product of odd degree; the engine finds no surviving Isserlis pairing.")


def _orthogonality_display(feature, target_label):
    """E[F (x) g (x) x_q] = 0 or E[y_q F] = 0 as a relation of trees."""
    if target_label.startswith("GD"):
        return Relation(ExpectNode(OuterNode((feature, e("g"), e("x_q")))), "=", sp.Integer(0))
    return Relation(ExpectNode(MulNode((e("y_q"), feature))), "=", sp.Integer(0))


def _orthogonality_words(kind, feature, target_label):
    target = (" to the GD-block feature ", OuterNode((e("g"), e("x_q")))) if target_label.startswith("GD") \
        else (" to the target ", e("y_q"))
    return (f"The {kind} feature ", feature, " is orthogonal") + target + (
        ", entry by entry, for every ", e("d"), ", ", e("n"), " and noise variance.")


# --- the steps (each takes its inputs explicitly so tests can perturb them) -----------

def orthogonality_steps(s: Setting, odd_features=None) -> list:
    """E[F_odd (x) F_GD] = 0 and E[F_odd y_q] = 0 for the odd-degree features.

    The default odd features are F_abc = (1/n) sum_i x_ia x_ib x_qc and
    F_c = (1/n) sum_i y_i^2 x_qc; the GD-block feature is (1/n) sum_j y_j x_ja x_qb.
    ``odd_features``: (label, feature tensor) pairs, optionally with a third element, the
    feature's statement tree for the display (otherwise it is shown as F).
    """
    if odd_features is None:
        odd_features = []
        xq = gaussian("xq")
        x = example("x")
        odd_features.append(("x_i x_i^T (x) x_q", average(x * x.T) * xq))
        x = example("x")
        y = s.response(x) + example_scalar("e")
        odd_features.append(("y_i^2 x_q", average(y * y) * gaussian("xq")))
    steps = []
    for label, feature, *shown in odd_features:
        tree = shown[0] if shown else ODD_FEATURE_DISPLAY.get(label, lambda: e("F"))()
        xq = gaussian("xq")
        gd_feature = s.g() * xq
        for target_label, target in (("GD-block feature g (x) x_q", gd_feature),
                                     ("target y_q", s.y_query(xq))):
            product = feature * target
            lhs = s.E(product)
            zero = Canonical({}, lhs.order)
            steps.append(_step(
                f"odd-orthogonal:{label}|{target_label}", "Odd block is orthogonal",
                _orthogonality_words("odd", tree, target_label), lhs, zero,
                (_orthogonality_display(tree, target_label),), words(SYMMETRY_JUSTIFICATION),
                shown=_orthogonality_display(tree, target_label).lhs))
    return steps


def moment_steps(s: Setting, C: Tensor, B: Tensor) -> list:
    computed_C = s.E(s.g() * s.g().T)
    claimed_C, claimed_B = Canonical.of(C), Canonical.of(B)
    if s.cubic:
        # nonlinear target: the cross moment is E[y_q x_q g^T] = E[m g^T] (Sigma = I)
        xq = gaussian("xq")
        computed_B = s.E(s.y_query(xq) * xq * s.g().T)
        lhs = e("E[y_q * x_q * g^T]")
        B_step = _step("moment-B", "Cross moment",
                       words("The cross moment $B$ of the target with $g$ has the closed form shown; "
                             "it equals the second moment of $m_f$ with $g$."),
                       computed_B, claimed_B, (Relation(lhs, "=", claimed_B.to_sympy()),),
                       words("Given $w$, the expectation of $y_q * x_q$ is $m_f$, with "
                             "$m_f = 3 * w^T * w * w$ for the cubic link; Isserlis on $w$."),
                       shown=lhs)
    else:
        computed_B = s.E(gaussian("w") * s.g().T)
        lhs = e("E[w * g^T]")
        B_step = _step("moment-B", "Cross moment",
                       words("The cross moment $B$ of the task vector with $g$ has the closed form shown."),
                       computed_B, claimed_B, (Relation(lhs, "=", claimed_B.to_sympy()),),
                       words("Given $w$, the expectation of $y_i * x_i^T$ is $w^T * Sigma$; then "
                             "$E[w * w^T] = Omega$."), shown=lhs)
    lhs = e("E[g * g^T]")
    return [
        _step("moment-C", "Second moment of g",
              words("The second moment $C$ of $g = avg(y_i * x_i)$ has the closed form shown."),
              computed_C, claimed_C, (Relation(lhs, "=", claimed_C.to_sympy()),),
              words("Split the double sum over examples into its $n$ diagonal terms and its "
                    "$n * (n - 1)$ off-diagonal ones; Isserlis on the covariates and the task vector; "
                    "$tr(I) = d$."), shown=lhs),
        B_step,
    ]


def loss_quadratic_step(s: Setting, C: Tensor, B: Tensor) -> Step:
    G = matrix("Gamma")
    xq = gaussian("xq")
    residual = xq.T @ G @ s.g() - s.y_query(xq)
    computed = s.E(residual * residual)
    quadratic = (trace(G @ C @ G.T @ s.Sigma) - 2 * trace(G.T @ s.Sigma @ B)
                 + s.target_energy())
    claimed = Canonical.of(quadratic)
    loss = e("E[(x_q^T * Gamma * g - y_q)^2]")
    display = (Relation(loss, "=", e(s.quadratic_text())), math(f"E[y_q^2] = {s.energy_text()}"))
    return _step("loss-quadratic", "Loss of the GD block",
                 words("For every matrix $Gamma$ the loss of the predictor $x_q^T * Gamma * g$ is a "
                       "quadratic in $Gamma$, with $C$ and $B$ the closed forms above."),
                 computed, claimed, display,
                 words("The query $x_q$ is independent of the context, with $E[x_q * x_q^T] = Sigma$; "
                       "expand the square."),
                 computed=(Relation(loss, "=", computed.to_sympy()),))


def normal_equation_step(s: Setting, gamma: Tensor, C: Tensor, B: Tensor) -> Step:
    lhs, rhs = Canonical.of(gamma @ C), Canonical.of(B)
    return _step("normal-equations", "Normal equations",
                 words("The claimed $Gammastar$ solves the normal equations, so the gradient of the "
                       "loss vanishes there."),
                 lhs, rhs, (math("Gammastar * C = B"),),
                 "Substitute the claimed optimum and cancel each matrix against its inverse.",
                 shown=e("Gammastar * C"), computed=(Relation(e("Gammastar"), "=", _value(gamma)),))


def completed_square_step(s: Setting, gamma: Tensor, C: Tensor, B: Tensor, loss) -> Step:
    G = matrix("Gamma")
    quadratic = (trace(G @ C @ G.T @ s.Sigma) - 2 * trace(G.T @ s.Sigma @ B)
                 + s.target_energy())
    M = G - gamma
    square = trace(M @ C @ M.T @ s.Sigma) + _as_tensor(loss)
    lhs, rhs = Canonical.of(quadratic), Canonical.of(square)
    tail = "" if s.identity_covariance else " * Sigma"
    square_text = f"tr((Gamma - Gammastar) * C * (Gamma - Gammastar)^T{tail}) + Lstar"
    return _step("completed-square", "Completed square",
                 words("For every matrix $Gamma$ the loss is a completed square around the claimed "
                       "$Gammastar$ plus the claimed optimal loss $Lstar$."),
                 lhs, rhs, (Relation(e(s.quadratic_text()), "=", e(square_text)),),
                 "Expand; the second moment is symmetric and cancels against its inverse; what "
                 "remains is the optimal loss.",
                 computed=(Relation(e("Lstar"), "=", _value(loss)),))


def convexity_step(s: Setting, C: Tensor) -> Step:
    c = Canonical.of(C)
    ok = certify_positive_definite(c, s.pd | {"Sigma"})
    display = (math("C succ 0"),) + (() if s.identity_covariance else (math("Sigma succ 0"),))
    return Step.checked(
        "convexity", "Unique minimiser",
        words(("The second moment $C$ is positive definite" if s.identity_covariance else
               "The second moment $C$ and the covariance $Sigma$ are positive definite")
              + ", so the completed square is positive for every $Gamma$ other than $Gammastar$: "
              "$Gammastar$ is the unique minimiser of the loss and $Lstar$ its minimum."),
        ok, "Each term of the second moment is a nonnegative multiple of a congruence of a "
        "positive-definite matrix (traces of products of two such matrices are positive), and one "
        "term is strictly positive.",
        "syntactic positive-definiteness certificate on the canonical form of C",
        detail="" if ok else "cannot certify C positive definite", display=display,
        computed=(Relation(e("C"), "=", c.to_sympy()),) if ok is not True else ())


def optimal_loss_step(s: Setting, gamma: Tensor, loss) -> Step:
    """Recompute L(Gamma*) from scratch (Gamma* substituted before the expectation)."""
    xq = gaussian("xq")
    residual = xq.T @ gamma @ s.g() - s.y_query(xq)
    computed = s.E(residual * residual)
    claimed = Canonical.of(_as_tensor(loss))
    lhs = e("E[(x_q^T * Gammastar * g - y_q)^2]")
    return _step("optimal-loss", "Optimal loss",
                 "The loss at the claimed optimum, recomputed from scratch with the optimum inside "
                 "the expectation, is the claimed optimal loss.",
                 computed, claimed, (Relation(lhs, "=", e("Lstar")),),
                 words("Isserlis at the index level; each covariance cancels against its inverse; "
                       "$tr(I) = d$."), shown=lhs,
                 computed=(Relation(e("Lstar"), "=", claimed.to_sympy()),))


def theorem3_eta_tree(noise_in_energy: bool = False):
    """eta* = n E|m_f|^2 / (E[y^2 |x|^2] + (n - 1) E|m_f|^2) as a statement tree; with
    ``noise_in_energy`` the energy is written E[f^2 |x|^2] + d s2."""
    m2 = e("E[m_f^T * m_f]")
    energy = e("E[f^2 * x^T * x] + d * s2") if noise_in_energy else e("E[y^2 * x^T * x]")
    den = AddNode((energy, MulNode((e("n - 1"), m2))))
    return RelationNode(e("etastar"), "=", DivNode(MulNode((e("n"), m2)), den))


def theorem3_formula_step(s: Setting, eta) -> Step:
    """eta equals Theorem 3's n E|m_f|^2 / (E[y^2 |x|^2] + (n - 1) E|m_f|^2).

    E|m_f|^2 = E[y_1 y_2 x_1^T x_2] for two independent covariates sharing w, and
    E[y^2 |x|^2] are both computed by the engine at symbolic d.
    """
    x1, x2, x = gaussian("x1"), gaussian("x2"), gaussian("x")
    covs = {"x1": identity(), "x2": identity(), "x": identity(), "w": identity(), "e": s2}
    m2 = Canonical.of(expect(s.response(x1) * s.response(x2) * (x1.T @ x2), covs)).scalar()
    y = s.response(x) + scalar_gaussian("e")
    energy = Canonical.of(expect(y * y * (x.T @ x), covs)).scalar()
    display = (theorem3_eta_tree(),)
    if m2 is None or energy is None:
        return Step.checked("theorem3-eta", "Theorem 3 step size", "The moments did not reduce to "
                            "scalars.", None, "", ENGINE, display=display)
    paper = n * m2 / (energy + (n - 1) * m2)
    return Step.identity("theorem3-eta", "Theorem 3 step size", lhs=eta, rhs=paper,
                         statement=words("The step size is Theorem 3's formula in the two moments "
                                         "of the response, computed at symbolic d."),
                         justification=words("Here $m_f$ is the expectation of $x * f$ over $x$; both "
                                             "moments by index-level Isserlis (the sixth moment of "
                                             "$w$ gives $d * (d + 2) * (d + 4)$ through delta loops)."),
                         display=display,
                         computed=(Relation(e("E[m_f^T * m_f]"), "=", sp.factor(m2)),
                                   Relation(e("E[y^2 * x^T * x]"), "=", sp.factor(energy)),
                                   Relation(e("etastar"), "=", eta)))


# --- the derivations --------------------------------------------------------------------

def prove(kind: str, overrides: dict | None = None) -> Derivation:
    """The Derivation for ``kind`` in KINDS; ``overrides`` replaces claimed C/B/gamma/loss."""
    s = setting(kind)
    c = claims(s)
    c.update(overrides or {})
    C_for_algebra = c.get("C_opaque", c["C"])
    steps = reduction_steps() + lift_steps()
    steps += orthogonality_steps(s)
    steps += variant_orthogonality_steps(s)
    steps += moment_steps(s, c["C"], c["B"])
    steps.append(loss_quadratic_step(s, c["C"], c["B"]))
    steps.append(normal_equation_step(s, c["gamma"], C_for_algebra, c["B"]))
    steps.append(completed_square_step(s, c["gamma"], C_for_algebra, c["B"], c["loss"]))
    steps.append(convexity_step(s, c["C"]))
    steps += realisability_steps(c["gamma"])
    if kind != "general-prior":
        steps.append(optimal_loss_step(s, c["gamma"], c["loss"]))
    if s.cubic:
        steps.append(theorem3_formula_step(s, ETA3 if "eta" not in c else c["eta"]))
    gamma = Canonical.of(c["gamma"]).to_sympy()
    loss = c["loss"] if not isinstance(c["loss"], Tensor) else Canonical.of(c["loss"]).to_sympy()
    # general prior: Gamma* = eta P with eta = 1 and the preconditioner P = Omega Sigma C^{-1}
    conclusion = {"strength": s.strength, "gamma": gamma, "loss": loss,
                  "eta": {"general-prior": sp.Integer(1), "theorem3-cubic": ETA3}.get(kind, ETA)}
    if kind == "general-prior":
        conclusion["C"] = Canonical.of(c["C"]).to_sympy()
        conclusion["B"] = Canonical.of(c["B"]).to_sympy()
    titles = {"theorem1": words("Theorem 1 ($Sigma = I$, $Omega = I$) for every $d$, $n$ and noise variance"),
              "theorem2": words("Theorem 2 ($Omega = inv(Sigma)$) for every $d$, $n$, noise variance and "
                                "positive definite $Sigma$"),
              "general-prior": words("General prior: $Gammastar = Omega * Sigma * inv(C)$ for every $d$ and "
                                     "positive definite $Sigma$, $Omega$"),
              "theorem3-cubic": words("Theorem 3 for $y = (w^T * x)^3 + eps$ ($Sigma = I$, $Omega = I$) "
                                      "for every $d$, $n$ and noise variance")}
    link = "(w^T x)^3" if s.cubic else "w^T x"
    setup = (f"x_1..x_n, x_q iid N(0, Sigma); w ~ N(0, Omega); y = {link} + eps, eps ~ N(0, s2); "
             "g = (1/n) sum_i y_i x_i; yhat = x_q^T Gamma g; d, n, s2 symbolic")
    return Derivation(titles[kind], steps, setup, conclusion)


# --- structural steps at symbolic d: reduction, convex lift, realisability ------------------
#
# These are identities between *random* expressions (for every context, query and weight),
# decided by the pointwise canonical form (:mod:`.pointwise`). A (d+1) x (d+1) weight W acts
# on tokens z = (x, y) through its blocks [[W_xx, w_xy], [w_yx^T, w_yy]] (a d x d matrix, two
# vectors, a scalar), so every statement below is in index notation with a symbolic d.
# The label y_i is a generic per-example scalar: the reductions do not depend on the response.

def _const(name):
    return scalar(sp.Symbol(name, real=True))


def _zero_vector():
    from .tensor import fresh
    return Tensor([], (fresh(),))


def _zero_matrix():
    return identity() * 0


class Tokens:
    """Fresh template tensors of the prompt: x_i, y_i (per example) and the query x_q."""

    def x(self):
        return example("x")

    def y(self):
        return example_scalar("y")

    def xq(self):
        return gaussian("xq")


def effective_prediction(u_x, u_y, A, b, r=None, qik=False):
    """yhat = avg((u_x^T x_i + u_y y_i)(x_i^T A x_q + y_i b^T x_q)) [+ r^T x_q]
    [+ (1/n)(u_x^T x_q)(x_q^T A x_q)] with the weights as tensors (u_y a scalar tensor)."""
    t = Tokens()
    x, y, xq = t.x(), t.y(), t.xq()
    out = average((u_x.T @ x + u_y * y) * (x.T @ A @ xq + y * (b.T @ xq)))
    if r is not None:
        out = out + r.T @ t.xq()
    if qik:
        xq = t.xq()
        out = out + (u_x.T @ xq) * (xq.T @ A @ xq) / n
    return out


def paper_blocks(K=None, Q=None, V=None, vectors=None, scalars=None):
    """The blocks of W^K, W^Q, W^V, h (symbolic atoms unless given)."""
    vec = {k: vector(k) for k in ("k_xy", "k_yx", "q_yx", "v_xy", "v_yx", "h_x")}
    vec.update(vectors or {})
    sc = {k: _const(k) for k in ("k_yy", "v_yy", "h_y")}
    sc.update(scalars or {})
    return {"K": K if K is not None else matrix("K"), "Q": Q if Q is not None else matrix("Q"),
            "V": V if V is not None else matrix("V"), **vec, **sc}


def paper_prediction(B, residual=False, qik=False):
    """h^T([res] z_q + (1/n) sum_{keys} W^V z_i (W^K z_i)^T W^Q z_q) from the blocks, z_q = (x_q, 0)."""
    t = Tokens()

    def value_read(x, y):          # h^T W^V z
        return B["h_x"].T @ (B["V"] @ x + B["v_xy"] * y) + B["h_y"] * (B["v_yx"].T @ x + B["v_yy"] * y)

    def attention(x, y, xq):       # (W^K z)^T W^Q z_q, the query's label slot being 0
        return ((B["K"] @ x + B["k_xy"] * y).T @ B["Q"] @ xq
                + (B["k_yx"].T @ x + B["k_yy"] * y) * (B["q_yx"].T @ xq))

    x, y = t.x(), t.y()
    out = average(value_read(x, y) * attention(x, y, t.xq()))
    if residual:
        out = out + B["h_x"].T @ t.xq()
    if qik:
        xq = t.xq()
        zero = scalar(0)
        out = out + value_read(xq, zero) * attention(xq, zero, xq) / n
    return out


def paper_effective(B):
    """u = W^V^T h, M = first d columns of W^K^T W^Q = [A; b^T], r = h_x (from the blocks)."""
    u_x = B["V"].T @ B["h_x"] + B["h_y"] * B["v_yx"]
    u_y = B["v_xy"].T @ B["h_x"] + B["h_y"] * B["v_yy"]
    A = B["K"].T @ B["Q"] + B["k_yx"] * B["q_yx"].T
    b = B["Q"].T @ B["k_xy"] + B["k_yy"] * B["q_yx"]
    return u_x, u_y, A, b, B["h_x"]


def merged_blocks(KQ=None, P=None, vectors=None, scalars=None):
    vec = {k: vector(k) for k in ("kq_yx", "p_yx")}
    vec.update(vectors or {})
    sc = {"p_yy": _const("p_yy")}
    sc.update(scalars or {})
    return {"KQ": KQ if KQ is not None else matrix("KQ"), **vec, **sc}


def merged_prediction(B, residual=False, qik=False):
    """e_{d+1}^T([res] z_q + (1/n) sum_{keys} W^PV z_i z_i^T W^KQ z_q): the label slot of
    W^PV z is p_yx^T x + p_yy y; the query's own label slot (the residual) holds 0."""
    t = Tokens()

    def label(x, y):
        return B["p_yx"].T @ x + B["p_yy"] * y

    def kq(x, y, xq):
        return x.T @ B["KQ"] @ xq + y * (B["kq_yx"].T @ xq)

    x, y = t.x(), t.y()
    out = average(label(x, y) * kq(x, y, t.xq()))
    if qik:
        xq = t.xq()
        out = out + label(xq, scalar(0)) * kq(xq, scalar(0), xq) / n
    return out


def merged_effective(B):
    return B["p_yx"], B["p_yy"], B["KQ"], B["kq_yx"], None


POINTWISE = ("all-d engine, pointwise: every value of the examples, the query and the weights; "
             "averages split into distinct-index sums, canonical chains")


def _pointwise_step(key, title, statement, lhs, rhs, justification, display=()):
    from .pointwise import Pointwise
    from .search import Atoms, find_counterexample

    left, right = Pointwise.of(lhs), Pointwise.of(rhs)
    if left == right:
        ok, detail = True, ""
    else:
        names = left.atoms() | right.atoms()
        atoms = Atoms(matrices={a[1]: ("spd" if a[2] else "general") for a in names if a[0] == "mat"},
                      vectors=[a[1] for a in names if a[0] == "vec"],
                      random={"x": ("vector", "example"), "y": ("scalar", "example"),
                              "xq": ("vector", "shared")})
        atoms.inverted = set(atoms.matrices)
        free = set()
        for form in (left, right):
            for c in form.coeffs.values():
                free |= sp.sympify(c).free_symbols
        atoms.scalars = {s.name: s for s in free if s not in (n, s2, d)}
        cx = find_counterexample(left, right, atoms)
        ok = False if cx is not None else None
        detail = (f"counterexample at {cx.describe()}" if cx is not None else
                  "pointwise canonical forms differ and no counterexample was found")
    return Step.checked(key, title, statement, ok, justification, POINTWISE, detail=detail,
                        data={"computed": left, "claimed": right}, display=tuple(display))


#: the effective model in blocks: u = (u_x, u_y), M = [A; b^T]
EFFECTIVE = "avg((u_x^T * x_i + u_y * y_i) * (x_i^T * A * x_q + y_i * b^T * x_q))"
#: the prediction of the paper's and the merged parameterisation, per key (plain model)
PREDICTION = {"paper": "avg(h^T * W_V * z_i * (W_K * z_i)^T * W_Q * z_q)",
              "merged": "avg(e^T * W_PV * z_i * (z_i^T * W_KQ * z_q))"}
#: the variants' extra terms: the residual, and the query among the keys
VARIANT_TERMS = {"paper": "h^T * z_q + h^T * W_V * z_q * (W_K * z_q)^T * W_Q * z_q / n",
                 "merged": "e^T * W_PV * z_q * (z_q^T * W_KQ * z_q) / n"}
EFFECTIVE_VARIANT_TERMS = {"paper": "r^T * x_q + (u_x^T * x_q) * (x_q^T * A * x_q) / n",
                           "merged": "(u_x^T * x_q) * (x_q^T * A * x_q) / n"}


def reduction_display(name: str, variants: bool) -> tuple:
    """The reduction identity at every d: the parameterisation's prediction = the effective model."""
    if not variants:
        return (math(f"{PREDICTION[name]} = {EFFECTIVE}"),)
    return (math(f"{PREDICTION[name]} + {VARIANT_TERMS[name]} = {EFFECTIVE} + {EFFECTIVE_VARIANT_TERMS[name]}"),)


def reduction_statement(name: str, variants: bool) -> tuple:
    what = " with the residual connection and the query among the keys" if variants else ""
    if name == "paper":
        read = words("with $u = W_V^T * h$ and $M$ the first $d$ columns of $W_K^T * W_Q$")
        if variants:
            read += words(", and $r$ the first $d$ entries of $h$")
    else:
        read = words("with $u^T$ the last row of $W_PV$ and $M$ the first $d$ columns of $W_KQ$")
        if variants:
            read += (" (the residual adds the query's label slot, which holds 0)",)
    return (words(f"For every $d$ and all weights, the {name} parameterisation{what} predicts "
                  "exactly the effective model, ") + read
            + words("; here $u_x$, $u_y$ are the blocks of $u$ and $A$, $b^T$ those of $M$."))


REDUCTION_JUSTIFICATION = (
    "Write each weight matrix in blocks acting on the token $z_i$ (its covariates and its label) and "
    "on the query token $z_q$, whose label slot holds 0; expand.")


def reduction_steps() -> list:
    """Paper and merged parameterisations predict exactly the effective model (all d)."""
    steps = []
    for name, blocks, predict, effective in (
            ("paper", paper_blocks, paper_prediction, paper_effective),
            ("merged", merged_blocks, merged_prediction, merged_effective)):
        for residual, qik in ((False, False), (True, True)):
            B = blocks()
            u_x, u_y, A, b, r = effective(B)
            steps.append(_pointwise_step(
                f"reduction:{name}{':variants' if residual else ''}",
                f"Reduction of the {name} parameterisation" + (" (variants)" if residual else ""),
                reduction_statement(name, residual),
                predict(B, residual, qik),
                effective_prediction(u_x, u_y, A, b, r if residual else None, qik),
                words(REDUCTION_JUSTIFICATION), reduction_display(name, residual)))
    return steps


def lift_display(variants: bool = False) -> tuple:
    """yhat = <u (x) M, F> with F = avg(z_i (x) z_i) (x) x_q (and the variants' terms)."""
    lifted = InnerNode(OuterNode((e("u"), e("M"))), e("F"))
    if variants:
        extra = DivNode(InnerNode(OuterNode((e("u_x"), e("A"))), OuterNode((e("x_q"), e("x_q"), e("x_q")))),
                        e("n"))
        lifted = AddNode((lifted, e("r^T * x_q"), extra))
    return (Relation(e("yhat"), "=", lifted),
            Relation(e("F"), "=", OuterNode((e("avg(z_i * z_i^T)"), e("x_q")))))


def lift_steps() -> list:
    """The prediction is linear in the lift T = u (x) M (and r): the convex lift at every d."""
    u_x, A, b, r = vector("u_x"), matrix("A"), vector("b"), vector("r")
    u_y = _const("u_y")
    t = Tokens()

    def features():
        x, xq = t.x(), t.xq()
        x2, y2 = t.x(), t.y()
        x3, y3 = t.x(), t.y()
        y4 = t.y()
        return {"xx": average(x * x.T) * xq, "xy": average(x2 * y2) * t.xq(),
                "yx": average(y3 * x3) * t.xq(), "yy": average(y4 * y4) * t.xq()}

    from .tensor import inner

    F = features()
    lifted = (inner(u_x * A, F["xx"]) + inner(u_x * b, F["xy"]) + inner(u_y * A, F["yx"])
              + inner(u_y * b, F["yy"]))
    steps = [_pointwise_step(
        "convex-lift", "Convex lift",
        ("For every ", e("d"), " the prediction is linear in the lift ", OuterNode((e("u"), e("M"))))
        + words(", so the loss is a convex quadratic in it. The check runs block by block: "
                "$u_x$, $u_y$ of $u$ against $A$, $b^T$ of $M$."),
        effective_prediction(u_x, u_y, A, b), lifted,
        words("Bilinear in the two effective parameters: each term pairs one entry of $u$ with one "
              "entry of $M$."),
        lift_display())]
    xq = t.xq()
    qik_feature = (xq * xq) * xq / n
    steps.append(_pointwise_step(
        "convex-lift:variants", "Convex lift (variants)",
        words("With the residual connection and the query among the keys the prediction is still "
              "linear in the lift and in $r$."),
        effective_prediction(u_x, u_y, A, b, r, qik=True),
        lifted + r.T @ t.xq() + inner(u_x * A, qik_feature),
        words("The extra terms are linear in $r$ and in the block ") + (OuterNode((e("u_x"), e("A"))),)
        + (" of the lift.",),
        lift_display(variants=True)))
    # the GD block
    x, y = t.x(), t.y()
    x2, y2 = t.x(), t.y()
    gd = inner(u_x * b, average(x * y) * t.xq()) + inner(u_y * A, average(y2 * x2) * t.xq())
    G = u_y * A.T + b * u_x.T
    x3, y3 = t.x(), t.y()
    steps.append(_pointwise_step(
        "gd-block", "GD block of the lift",
        words("The features of even degree in the covariates give one step of preconditioned "
              "gradient descent, with the preconditioner $Gamma = u_y * A^T + b * u_x^T$."),
        gd, t.xq().T @ G @ average(y3 * x3),
        words("Collect the terms $y_i * x_i^T$ on the left of $x_q$."),
        (math("avg((u_x^T * x_i) * y_i * b^T * x_q) + avg(u_y * y_i * x_i^T * A * x_q) = x_q^T * Gamma * g"),
         math("Gamma = u_y * A^T + b * u_x^T"))))
    return steps


def variant_orthogonality_steps(s: Setting) -> list:
    """The variant features (x_q (x) x_q (x) x_q / n and x_q) are orthogonal to the GD block
    and to the target, for every d: E[x_q^(x)k] E[g] = 0 since E[g] = 0."""
    steps = []
    for label, make in (("(1/n) x_q (x) x_q (x) x_q", lambda q: (q * q) * q / n),
                        ("x_q (residual)", lambda q: q)):
        tree = ODD_FEATURE_DISPLAY[label]()
        for target_label, target in (("GD-block feature g (x) x_q", lambda q: s.g() * q),
                                     ("target y_q", s.y_query)):
            q = gaussian("xq")
            product = make(q) * target(q)
            lhs = s.E(product)
            shown = _orthogonality_display(tree, target_label)
            steps.append(_step(
                f"odd-orthogonal:{label}|{target_label}", "Variant feature is orthogonal",
                _orthogonality_words("variant", tree, target_label), lhs, Canonical({}, lhs.order),
                (shown,), words("The query $x_q$ is independent of the context and of $w$, and "
                                "$E[g] = 0$ and $E[w] = 0$."), shown=shown.lhs))
    return steps


def realisability_steps(gamma: Tensor) -> list:
    """Explicit weights realise the one-step GD predictor x_q^T Gamma* g (all d, every Gamma*)."""
    t = Tokens()
    x, y = t.x(), t.y()
    gd = t.xq().T @ gamma @ average(y * x)
    zero_v, one = _zero_vector, scalar(1)
    claim = (math("yhat = x_q^T * Gammastar * g"),)
    steps = [_pointwise_step(
        "realisability:effective", "Realisability (effective parameters)",
        words("With $u_x = 0$, $u_y = 1$, $A = Gammastar^T$ and $b = 0$ the effective model predicts "
              "one step of preconditioned gradient descent."),
        effective_prediction(zero_v(), one, gamma.T, zero_v()), gd,
        "Substitute; the odd features drop out.", claim)]
    B = paper_blocks(K=identity(), Q=gamma.T, V=identity(),
                     vectors={k: zero_v() for k in ("k_xy", "k_yx", "q_yx", "v_xy", "v_yx", "h_x")},
                     scalars={"k_yy": one, "v_yy": one, "h_y": one})
    x, y = t.x(), t.y()
    steps.append(_pointwise_step(
        "realisability:paper", "Realisability (paper weights)",
        words("The paper's weights $W_K = I$, $W_V = I$, $h = e$ and ") + (realising_query(),)
        + (" predict the same.",),
        paper_prediction(B), t.xq().T @ gamma @ average(y * x), "Substitute the blocks.", claim))
    B = merged_blocks(KQ=gamma.T, vectors={"kq_yx": zero_v(), "p_yx": zero_v()}, scalars={"p_yy": one})
    x, y = t.x(), t.y()
    steps.append(_pointwise_step(
        "realisability:merged", "Realisability (merged weights)",
        words("The merged weights $W_PV = I$ and ") + (realising_query("W_KQ"),) + (" predict the same.",),
        merged_prediction(B), t.xq().T @ gamma @ average(y * x), "Substitute the blocks.", claim))
    return steps


def realising_query(name: str = "W_Q") -> Relation:
    """W^Q (or W^KQ) = [[Gamma*^T, 0], [0, 0]], a block matrix with a symbolic d."""
    G = sp.MatrixSymbol("Gammastar", d, d)
    block = sp.BlockMatrix([[G.T, sp.ZeroMatrix(d, 1)], [sp.ZeroMatrix(1, d), sp.ZeroMatrix(1, 1)]])
    return Relation(e(name), "=", block)
