"""The theorems for every d, n, s2 (and symbolic Sigma, Omega) as checked Derivations.

Route (DESIGN.md section 2, steps 3-6), each line a :class:`~derivations.proof.Step`
decided by the all-d engine (index-level Isserlis + canonical chains/traces):

1. odd-degree features are orthogonal to the GD block and to the target;
2. C = E[g g^T] and B = E[w g^T] in closed form (g = (1/n) sum_i y_i x_i);
3. L(Gamma) = E[(x_q^T Gamma g - y_q)^2] = tr(Gamma C Gamma^T Sigma)
   - 2 tr(Gamma^T Sigma B) + tr(Sigma Omega) + s2, for a symbolic matrix Gamma;
4. normal equations Gamma* C = B at the claimed Gamma*;
5. completed square L(Gamma) = tr((Gamma - Gamma*) C (Gamma - Gamma*)^T Sigma) + L*;
6. C and Sigma positive definite, so Gamma* is the unique minimiser and L* the minimum;
7. (Theorems 1, 2) an independent recomputation: E[(x_q^T Gamma* g - y_q)^2] = L*.

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

from ..proof import Derivation, Step
from ..symbols import n, s2
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
    scalar_gaussian,
    trace,
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


def _sym(text):
    """A display symbol whose name is LaTeX (renders verbatim)."""
    return sp.Symbol(text)


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


def _step(key, title, statement, lhs_canon, rhs_canon, lhs, rhs, justification, method=ENGINE,
          **decide_args):
    ok, reason = decide(lhs_canon, rhs_canon, **decide_args)
    return Step.checked(key, title, statement, ok, justification, method, lhs=lhs, rhs=rhs,
                        detail=reason, data={"computed": lhs_canon, "claimed": rhs_canon})


# --- the steps (each takes its inputs explicitly so tests can perturb them) -----------

def orthogonality_steps(s: Setting, odd_features=None) -> list:
    """E[F_odd (x) F_GD] = 0 and E[F_odd y_q] = 0 for the odd-degree features.

    The default odd features are F_abc = (1/n) sum_i x_ia x_ib x_qc and
    F_c = (1/n) sum_i y_i^2 x_qc; the GD-block feature is (1/n) sum_j y_j x_ja x_qb.
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
    for label, feature in odd_features:
        xq = gaussian("xq")
        gd_feature = s.g() * xq
        for target_label, target in (("GD-block feature g (x) x_q", gd_feature),
                                     ("target y_q", s.y_query(xq))):
            product = feature * target
            lhs = s.E(product)
            zero = Canonical({}, lhs.order)
            steps.append(_step(
                f"odd-orthogonal:{label}|{target_label}", "Odd block is orthogonal",
                f"E[({label}) (x) {target_label}] = 0 (every coordinate, all d, n, s2)",
                lhs, zero, _sym(rf"\mathbb{{E}}[({label}) \otimes {target_label}]"), sp.Integer(0),
                "(x_i, x_q, w) -> -(x_i, x_q, w) leaves the labels' law invariant and flips the "
                "sign of an odd-degree product; the engine finds no surviving Isserlis pairing"))
    return steps


def moment_steps(s: Setting, C: Tensor, B: Tensor) -> list:
    computed_C = s.E(s.g() * s.g().T)
    claimed_C, claimed_B = Canonical.of(C), Canonical.of(B)
    if s.cubic:
        # nonlinear target: the cross moment is E[y_q x_q g^T] = E[m g^T] (Sigma = I)
        xq = gaussian("xq")
        computed_B = s.E(s.y_query(xq) * xq * s.g().T)
        B_step = _step("moment-B", "Cross moment", "B := E[y_q x_q g^T] = E[m_f g^T]",
                       computed_B, claimed_B, _sym(r"\mathbb{E}[y_q x_q g^\top]"),
                       claimed_B.to_sympy(), "E[y_q x_q | w] = m_f(w) = 3 |w|^2 w; Isserlis on w")
    else:
        computed_B = s.E(gaussian("w") * s.g().T)
        B_step = _step("moment-B", "Cross moment", "B := E[w g^T]",
                       computed_B, claimed_B, _sym(r"\mathbb{E}[w g^\top]"), claimed_B.to_sympy(),
                       "E[y_i x_i^T | w] = w^T Sigma, then E[w w^T] = Omega")
    return [
        _step("moment-C", "Second moment of g", "C := E[g g^T] with g = (1/n) sum_i y_i x_i",
              computed_C, claimed_C, _sym(r"\mathbb{E}[g g^\top]"), claimed_C.to_sympy(),
              "split sum_{i,j} into i = j (n terms) and i != j (n(n-1) terms); Isserlis on "
              "x_i and w; tr(I) = d"),
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
    return _step("loss-quadratic", "Loss of the GD block",
                 "for every d x d matrix Gamma, L(Gamma) = E[(x_q^T Gamma g - y_q)^2] = "
                 "tr(Gamma C Gamma^T Sigma) - 2 tr(Gamma^T Sigma B) + E[y_q^2], with "
                 + ("E[y_q^2] = 15 d(d+2)(d+4) + s2" if s.cubic
                    else "E[y_q^2] = tr(Sigma Omega) + s2"),
                 computed, claimed, _sym(r"L(\Gamma)"), claimed.to_sympy(),
                 "x_q is independent of the context: E[x_q x_q^T] = Sigma; expand the square")


def normal_equation_step(s: Setting, gamma: Tensor, C: Tensor, B: Tensor) -> Step:
    lhs, rhs = Canonical.of(gamma @ C), Canonical.of(B)
    return _step("normal-equations", "Normal equations",
                 "the claimed Gamma* solves Gamma* C = B (gradient of L vanishes: "
                 "2 Sigma (Gamma C - B) = 0)",
                 lhs, rhs, _sym(r"\Gamma^\ast C"), rhs.to_sympy(),
                 "substitute Gamma*, cancel X X^{-1}")


def completed_square_step(s: Setting, gamma: Tensor, C: Tensor, B: Tensor, loss) -> Step:
    G = matrix("Gamma")
    quadratic = (trace(G @ C @ G.T @ s.Sigma) - 2 * trace(G.T @ s.Sigma @ B)
                 + s.target_energy())
    M = G - gamma
    square = trace(M @ C @ M.T @ s.Sigma) + _as_tensor(loss)
    lhs, rhs = Canonical.of(quadratic), Canonical.of(square)
    return _step("completed-square", "Completed square",
                 "for every Gamma: tr(Gamma C Gamma^T Sigma) - 2 tr(Gamma^T Sigma B) + "
                 "E[y_q^2] = tr((Gamma - Gamma*) C (Gamma - Gamma*)^T Sigma) + L*",
                 lhs, rhs, _sym(r"L(\Gamma)"), rhs.to_sympy(),
                 "expand; C symmetric, C^{-1} C = I; the rest is L*")


def convexity_step(s: Setting, C: Tensor) -> Step:
    c = Canonical.of(C)
    ok = certify_positive_definite(c, s.pd | {"Sigma"})
    return Step.checked(
        "convexity", "Unique minimiser",
        "C is positive definite (and so is Sigma), hence tr(M C M^T Sigma) = "
        "|Sigma^(1/2) M C^(1/2)|_F^2 > 0 for M != 0: Gamma* is the unique minimiser of L and "
        "L* = L(Gamma*) its minimum",
        ok, "each term of C is a nonnegative multiple of a congruence of a positive-definite "
        "matrix (traces of products of two PD matrices are positive), one strictly positive",
        "syntactic positive-definiteness certificate on the canonical form of C",
        lhs=c.to_sympy(), relation="succ", rhs=sp.Integer(0),
        detail="" if ok else "cannot certify C positive definite")


def optimal_loss_step(s: Setting, gamma: Tensor, loss) -> Step:
    """Recompute L(Gamma*) from scratch (Gamma* substituted before the expectation)."""
    xq = gaussian("xq")
    residual = xq.T @ gamma @ s.g() - s.y_query(xq)
    computed = s.E(residual * residual)
    claimed = Canonical.of(_as_tensor(loss))
    value = computed.scalar()
    return _step("optimal-loss", "Optimal loss",
                 "E[(x_q^T Gamma* g - y_q)^2] = L*, recomputed with Gamma* inside the expectation",
                 computed, claimed, _sym(r"L(\Gamma^\ast)"),
                 claimed.to_sympy() if value is None else value,
                 "Isserlis at the index level; Sigma Sigma^{-1} = I; tr(I) = d")


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
    if m2 is None or energy is None:
        return Step.checked("theorem3-eta", "Theorem 3 step size", "moments did not reduce to "
                            "scalars", None, "", ENGINE)
    paper = n * m2 / (energy + (n - 1) * m2)
    return Step.identity("theorem3-eta", "Theorem 3 step size", lhs=eta, rhs=paper,
                         statement=f"eta* = n E|m_f|^2 / (E[y^2 |x|^2] + (n - 1) E|m_f|^2) with "
                                   f"E|m_f|^2 = {sp.factor(m2)}, E[y^2|x|^2] = {sp.factor(energy)}",
                         justification="m_f = E_x[x f(x)]; both moments by index-level Isserlis "
                                       "(|w|^6 gives d(d+2)(d+4) through delta loops)")


# --- the derivations --------------------------------------------------------------------

def prove(kind: str, overrides: dict | None = None) -> Derivation:
    """The Derivation for ``kind`` in KINDS; ``overrides`` replaces claimed C/B/gamma/loss."""
    s = setting(kind)
    c = claims(s)
    c.update(overrides or {})
    C_for_algebra = c.get("C_opaque", c["C"])
    steps = orthogonality_steps(s)
    steps += moment_steps(s, c["C"], c["B"])
    steps.append(loss_quadratic_step(s, c["C"], c["B"]))
    steps.append(normal_equation_step(s, c["gamma"], C_for_algebra, c["B"]))
    steps.append(completed_square_step(s, c["gamma"], C_for_algebra, c["B"], c["loss"]))
    steps.append(convexity_step(s, c["C"]))
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
    titles = {"theorem1": "Theorem 1 (Sigma = Omega = I) for all d, n, s2",
              "theorem2": "Theorem 2 (Omega = Sigma^{-1}) for all d, n, s2 and every SPD Sigma",
              "general-prior": "General prior: Gamma* = Omega Sigma C^{-1} for all d and SPD "
                               "Sigma, Omega",
              "theorem3-cubic": "Theorem 3 instance y = (w^T x)^3 + eps (Sigma = Omega = I) for "
                                "all d, n, s2"}
    link = "(w^T x)^3" if s.cubic else "w^T x"
    setup = (f"x_1..x_n, x_q iid N(0, Sigma); w ~ N(0, Omega); y = {link} + eps, eps ~ N(0, s2); "
             "g = (1/n) sum_i y_i x_i; yhat = x_q^T Gamma g; d, n, s2 symbolic")
    return Derivation(titles[kind], steps, setup, conclusion)
