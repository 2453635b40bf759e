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


def _pointwise_step(key, title, statement, lhs, rhs, justification):
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
    return Step.checked(key, title, statement, ok, justification,
                        "all-d engine, pointwise: every value of x_i, y_i, x_q and of the weights; "
                        "averages split into distinct-index sums, canonical chains",
                        detail=detail, data={"computed": left, "claimed": right})


def reduction_steps() -> list:
    """Paper and merged parameterisations predict exactly the effective model (all d)."""
    steps = []
    for name, blocks, predict, effective in (
            ("paper", paper_blocks, paper_prediction, paper_effective),
            ("merged", merged_blocks, merged_prediction, merged_effective)):
        for residual, qik in ((False, False), (True, True)):
            B = blocks()
            u_x, u_y, A, b, r = effective(B)
            variants = " with the residual and the query among the keys" if residual else ""
            steps.append(_pointwise_step(
                f"reduction:{name}{':variants' if residual else ''}",
                f"Reduction of the {name} parameterisation" + (" (variants)" if residual else ""),
                f"for every d and all weights, the {name} LSA{variants} predicts exactly the "
                "effective model avg((u_x^T x_i + u_y y_i) (x_i^T A x_q + y_i b^T x_q))"
                + (" + r^T x_q + (1/n) (u_x^T x_q) (x_q^T A x_q)" if residual else "")
                + (" with u = W^V^T h, M = [A; b^T] = first d columns of W^K^T W^Q, r = h_x"
                   if name == "paper" else
                   " with u = last row of W^PV, M = first d columns of W^KQ"
                   + (", r = 0 (the query's label slot holds 0)" if residual else "")),
                predict(B, residual, qik),
                effective_prediction(u_x, u_y, A, b, r if residual else None, qik),
                "write each (d+1) x (d+1) weight in blocks [[W_xx, w_xy], [w_yx^T, w_yy]] acting "
                "on z = (x, y) and z_q = (x_q, 0); expand"))
    return steps


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
        "for every d: yhat = <T, F> with T = u (x) M, i.e. yhat = <u_x (x) A, F^xx> + "
        "<u_x (x) b, F^xy> + <u_y A, F^yx> + <u_y b, F^yy>, F^xx_abc = avg(x_ia x_ib) x_qc, "
        "F^xy_ac = avg(x_ia y_i) x_qc, F^yx_bc = avg(y_i x_ib) x_qc, F^yy_c = avg(y_i^2) x_qc: "
        "the prediction is linear in T, so the loss is a convex quadratic in T",
        effective_prediction(u_x, u_y, A, b), lifted,
        "bilinear in (u, M): each term pairs one entry of u with one entry of M")]
    xq = t.xq()
    qik_feature = (xq * xq) * xq / n
    steps.append(_pointwise_step(
        "convex-lift:variants", "Convex lift (variants)",
        "with the residual and the query among the keys: yhat = <T, F> + <r, x_q> + "
        "<u_x (x) A, F^q> with F^q_abc = (1/n) x_qa x_qb x_qc: still linear in (T, r)",
        effective_prediction(u_x, u_y, A, b, r, qik=True),
        lifted + r.T @ t.xq() + inner(u_x * A, qik_feature),
        "the extra terms are linear in r and in u_x (x) A"))
    # the GD block
    x, y = t.x(), t.y()
    x2, y2 = t.x(), t.y()
    gd = inner(u_x * b, average(x * y) * t.xq()) + inner(u_y * A, average(y2 * x2) * t.xq())
    G = u_y * A.T + b * u_x.T
    x3, y3 = t.x(), t.y()
    steps.append(_pointwise_step(
        "gd-block", "GD block of the lift",
        "the features of even degree in x (F^xy, F^yx) give one step of preconditioned GD: "
        "<u_x (x) b, F^xy> + <u_y A, F^yx> = x_q^T Gamma g with Gamma = u_y A^T + b u_x^T, "
        "g = avg(y_i x_i)",
        gd, t.xq().T @ G @ average(y3 * x3),
        "collect the terms y_i x_i^T (...) x_q"))
    return steps


def variant_orthogonality_steps(s: Setting) -> list:
    """The variant features (x_q (x) x_q (x) x_q / n and x_q) are orthogonal to the GD block
    and to the target, for every d: E[x_q^(x)k] E[g] = 0 since E[g] = 0."""
    steps = []
    for label, make in (("(1/n) x_q (x) x_q (x) x_q", lambda q: (q * q) * q / n),
                        ("x_q (residual)", lambda q: q)):
        for target_label, target in (("GD-block feature g (x) x_q", lambda q: s.g() * q),
                                     ("target y_q", s.y_query)):
            q = gaussian("xq")
            product = make(q) * target(q)
            lhs = s.E(product)
            steps.append(_step(
                f"odd-orthogonal:{label}|{target_label}", "Variant feature is orthogonal",
                f"E[({label}) (x) {target_label}] = 0 (every coordinate, all d, n, s2)",
                lhs, Canonical({}, lhs.order), None, sp.Integer(0),
                "x_q is independent of the context and of w; E[g] = 0 and E[w] = 0"))
    return steps


def realisability_steps(gamma: Tensor) -> list:
    """Explicit weights realise the one-step GD predictor x_q^T Gamma* g (all d, every Gamma*)."""
    t = Tokens()
    x, y = t.x(), t.y()
    gd = t.xq().T @ gamma @ average(y * x)
    zero_v, one = _zero_vector, scalar(1)
    steps = [_pointwise_step(
        "realisability:effective", "Realisability (effective parameters)",
        "u = e_{d+1} (u_x = 0, u_y = 1), A = Gamma*^T, b = 0: yhat = x_q^T Gamma* g",
        effective_prediction(zero_v(), one, gamma.T, zero_v()), gd,
        "substitute; the odd features drop out")]
    B = paper_blocks(K=identity(), Q=gamma.T, V=identity(),
                     vectors={k: zero_v() for k in ("k_xy", "k_yx", "q_yx", "v_xy", "v_yx", "h_x")},
                     scalars={"k_yy": one, "v_yy": one, "h_y": one})
    x, y = t.x(), t.y()
    steps.append(_pointwise_step(
        "realisability:paper", "Realisability (paper weights)",
        "W^K = I, W^Q = [[Gamma*^T, 0], [0, 0]], W^V = I, h = e_{d+1}: the paper's LSA predicts "
        "x_q^T Gamma* g",
        paper_prediction(B), t.xq().T @ gamma @ average(y * x), "substitute the blocks"))
    B = merged_blocks(KQ=gamma.T, vectors={"kq_yx": zero_v(), "p_yx": zero_v()}, scalars={"p_yy": one})
    x, y = t.x(), t.y()
    steps.append(_pointwise_step(
        "realisability:merged", "Realisability (merged weights)",
        "W^KQ = [[Gamma*^T, 0], [0, 0]], W^PV = I: the merged LSA predicts x_q^T Gamma* g",
        merged_prediction(B), t.xq().T @ gamma @ average(y * x), "substitute the blocks"))
    return steps
