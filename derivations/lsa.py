"""The one-layer linear self-attention model, symbolically, and its reduction to (u, M, r).

Parameterisations (the conventions in the README):

* paper:  yhat = h^T( [residual] z_q + (1/n) sum_{keys} W^V z_i (W^K z_i)^T W^Q z_q )
* merged: yhat = e_{d+1}^T (1/n) sum_{keys} W^PV z_i z_i^T W^KQ z_q   (label slot; its
  residual term is the query's label slot, which holds 0)

keys = context examples, plus the query when ``query_in_keys``. Both reduce to the
effective parameters u = W^V^T h (merged: last row of W^PV), M = first d columns of
W^K^T W^Q (merged: of W^KQ) = [A ; b^T], r = h_x (merged: 0):

    yhat = (1/n) sum_i (u^T z_i)(z_i^T M x_q) + [qik] (1/n)(u_x^T x_q)(x_q^T A x_q) + [res] r^T x_q

:func:`reduction_steps` checks this as an exact polynomial identity in every weight and
token coordinate (per context example, which suffices because the sum is termwise).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .proof import Step

PARAMETERISATIONS = ("paper", "merged")


def _matrix(prefix, rows, cols):
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{prefix}_{i + 1}{j + 1}", real=True))


def _vector(prefix, size, last=None):
    names = [f"{prefix}{i + 1}" for i in range(size)]
    if last:
        names[-1] = last
    return sp.Matrix([sp.Symbol(s, real=True) for s in names])


@dataclass(frozen=True)
class EffectiveParameters:
    """Symbols for u = (u_x, u_y) in R^{d+1}, M = [A ; b^T] in R^{(d+1) x d}, r in R^d.

    >>> p = EffectiveParameters.symbols(2)
    >>> p.u.T, p.b.T
    (Matrix([[ux1, ux2, uy]]), Matrix([[b1, b2]]))
    """

    u: sp.Matrix
    M: sp.Matrix
    r: sp.Matrix

    @classmethod
    def symbols(cls, d: int) -> EffectiveParameters:
        u = _vector("ux", d + 1, last="uy")
        A = _matrix("A", d, d)
        b = _vector("b", d)
        return cls(u, A.col_join(b.T), _vector("r", d))

    @classmethod
    def gd_point(cls, gamma: sp.Matrix) -> EffectiveParameters:
        """u = e_{d+1}, A = Gamma^T, b = 0, r = 0: the LSA predicting x_q^T Gamma g."""
        d = gamma.rows
        return cls(sp.Matrix([0] * d + [1]), gamma.T.col_join(sp.zeros(1, d)), sp.zeros(d, 1))

    @property
    def d(self):
        return self.M.cols

    @property
    def ux(self):
        return self.u[: self.d, :]

    @property
    def uy(self):
        return self.u[self.d, 0]

    @property
    def A(self):
        return self.M[: self.d, :]

    @property
    def b(self):
        return self.M[self.d, :].T

    def gamma(self) -> sp.Matrix:
        """The preconditioner of the GD block, yhat_GD = x_q^T Gamma g: (u_y A + u_x b^T)^T."""
        return (self.uy * self.A + self.ux * self.b.T).T

    def all_symbols(self):
        return list(self.u) + list(self.M) + list(self.r)


def effective_prediction(params: EffectiveParameters, z, xq, n, query_in_keys=False,
                         residual=False):
    """yhat for context tokens ``z`` (list of (d+1)-vectors) and query covariates ``xq``."""
    u, M = params.u, params.M
    out = sum(((u.T * zi)[0] * (zi.T * M * xq)[0] for zi in z), sp.Integer(0)) / n
    if query_in_keys:
        out += (params.ux.T * xq)[0] * (xq.T * params.A * xq)[0] / n
    if residual:
        out += (params.r.T * xq)[0]
    return out


def paper_weights(d):
    return {"WK": _matrix("WK", d + 1, d + 1), "WQ": _matrix("WQ", d + 1, d + 1),
            "WV": _matrix("WV", d + 1, d + 1), "h": _vector("h", d + 1)}


def merged_weights(d):
    return {"WKQ": _matrix("WKQ", d + 1, d + 1), "WPV": _matrix("WPV", d + 1, d + 1)}


def predict(parameterisation, weights, z, xq, n, query_in_keys=False, residual=False):
    """yhat of a parameterisation, computed from its own definition (not via (u, M))."""
    d = xq.rows
    zq = xq.col_join(sp.Matrix([0]))
    keys = list(z) + ([zq] if query_in_keys else [])
    if parameterisation == "paper":
        WK, WQ, WV, h = weights["WK"], weights["WQ"], weights["WV"], weights["h"]
        attn = sum((WV * zi * (WK * zi).T * WQ * zq for zi in keys), sp.zeros(d + 1, 1)) / n
        out = (h.T * ((zq if residual else sp.zeros(d + 1, 1)) + attn))[0]
        return out
    if parameterisation == "merged":
        WKQ, WPV = weights["WKQ"], weights["WPV"]
        attn = sum((WPV * zi * zi.T * WKQ * zq for zi in keys), sp.zeros(d + 1, 1)) / n
        return ((zq if residual else sp.zeros(d + 1, 1)) + attn)[d]
    raise ValueError(f"unknown parameterisation {parameterisation!r}; use one of {PARAMETERISATIONS}")


def to_effective(parameterisation, weights) -> EffectiveParameters:
    """The effective parameters (u, M, r) of a parameterisation's weights."""
    if parameterisation == "paper":
        WK, WQ, WV, h = weights["WK"], weights["WQ"], weights["WV"], weights["h"]
        d = h.rows - 1
        return EffectiveParameters(WV.T * h, (WK.T * WQ)[:, :d], h[:d, :])
    if parameterisation == "merged":
        WKQ, WPV = weights["WKQ"], weights["WPV"]
        d = WKQ.rows - 1
        return EffectiveParameters(WPV[d, :].T, WKQ[:, :d], sp.zeros(d, 1))
    raise ValueError(f"unknown parameterisation {parameterisation!r}")


def realising_weights(parameterisation, gamma: sp.Matrix):
    """Explicit weights whose prediction is the one-step-GD predictor x_q^T Gamma g.

    u = e_{d+1}, A = Gamma^T, b = 0 (and r = 0): W^K = I, W^Q = [[Gamma^T, 0], [0, 0]],
    W^V = I, h = e_{d+1}; merged: W^KQ = W^Q, W^PV = I.
    """
    d = gamma.rows
    block = sp.zeros(d + 1, d + 1)
    block[:d, :d] = gamma.T
    e = sp.zeros(d + 1, 1)
    e[d] = 1
    if parameterisation == "paper":
        return {"WK": sp.eye(d + 1), "WQ": block, "WV": sp.eye(d + 1), "h": e}
    return {"WKQ": block, "WPV": sp.eye(d + 1)}


def _token(d, tag):
    x = sp.Matrix([sp.Symbol(f"{tag}x{k + 1}", real=True) for k in range(d)])
    return x.col_join(sp.Matrix([sp.Symbol(f"{tag}y", real=True)]))


class _RingMatrix:
    """Minimal dense matrix over a sparse polynomial ring (for fast exact identities)."""

    def __init__(self, rows):
        self.rows = rows

    @classmethod
    def of(cls, matrix: sp.Matrix, ring):
        return cls([[ring.from_expr(matrix[i, j]) if matrix[i, j] != 0 else ring.zero
                     for j in range(matrix.cols)] for i in range(matrix.rows)])

    @property
    def T(self):
        return _RingMatrix([list(col) for col in zip(*self.rows, strict=True)])

    def __matmul__(self, other):
        cols = list(zip(*other.rows, strict=True))
        return _RingMatrix([[sum((a * b for a, b in zip(row, col, strict=True) if a and b), row[0].ring.zero)
                             for col in cols] for row in self.rows])

    def __add__(self, other):
        return _RingMatrix([[a + b for a, b in zip(r1, r2, strict=True)]
                            for r1, r2 in zip(self.rows, other.rows, strict=True)])

    def scalar(self):
        return self.rows[0][0]


def _ring_prediction(kind, W, z, zq, qik, res, ring):
    """n * yhat of a parameterisation, evaluated in the polynomial ring."""
    keys = list(z) + ([zq] if qik else [])
    zero = _RingMatrix([[ring.zero] for _ in zq.rows])
    if kind == "paper":
        attn = zero
        for zi in keys:
            attn = attn + (W["WV"] @ zi) @ ((W["WK"] @ zi).T @ (W["WQ"] @ zq))
        out = W["h"].T @ attn
        if res:
            out = out + (W["h"].T @ zq) @ _RingMatrix([[ring(len(z))]])  # n * h^T z_q with n = len(z)
        return out.scalar()
    attn = zero
    for zi in keys:
        attn = attn + (W["WPV"] @ zi) @ (zi.T @ (W["WKQ"] @ zq))
    return attn.rows[-1][0]


def _ring_effective(eff, z, zq, qik, res, ring, d):
    u, M = eff["u"], eff["M"]
    out = ring.zero
    for zi in z:
        out += (u.T @ zi).scalar() * (zi.T @ (M @ zq["x"])).scalar()
    if qik:
        xq = zq["x"]
        ux = _RingMatrix(u.rows[:d])
        A = _RingMatrix(M.rows[:d])
        out += (ux.T @ xq).scalar() * (xq.T @ (A @ xq)).scalar()
    if res:
        out += ring(len(z)) * (eff["r"].T @ zq["x"]).scalar()
    return out


def reduction_steps(d: int) -> list:
    """Check, for every parameterisation and variant, yhat(weights) == yhat(u, M, r)(weights).

    The tokens are generic symbols (the label y is a free symbol, so the identity holds
    for any response model); two context examples are used (n = 2 fixes the scale; the
    sum over keys is termwise, so this is the identity for every n). The polynomials are
    expanded in a sparse ring over every weight and token coordinate.
    """
    from sympy.polys.domains import QQ
    from sympy.polys.rings import ring as make_ring

    z_sym = [_token(d, "c1_"), _token(d, "c2_")]
    xq_sym = sp.Matrix([sp.Symbol(f"q_x{k + 1}", real=True) for k in range(d)])
    steps = []
    for kind in PARAMETERISATIONS:
        weights = paper_weights(d) if kind == "paper" else merged_weights(d)
        gens = [s for m in weights.values() for s in m] + [s for z in z_sym for s in z] + list(xq_sym)
        R, *_ = make_ring(gens, QQ)
        W = {k: _RingMatrix.of(m, R) for k, m in weights.items()}
        z = [_RingMatrix.of(zi, R) for zi in z_sym]
        zq = _RingMatrix.of(xq_sym.col_join(sp.Matrix([0])), R)
        # effective parameters computed from the weights IN the ring (u = W^V^T h, ...)
        if kind == "paper":
            K = W["WK"].T @ W["WQ"]
            eff = {"u": W["WV"].T @ W["h"], "M": _RingMatrix([row[:d] for row in K.rows]),
                   "r": _RingMatrix(W["h"].rows[:d])}
        else:
            eff = {"u": _RingMatrix([[x] for x in W["WPV"].rows[d]]),
                   "M": _RingMatrix([row[:d] for row in W["WKQ"].rows]),
                   "r": _RingMatrix([[R.zero] for _ in range(d)])}
        xq_ring = {"x": _RingMatrix(zq.rows[:d])}
        for qik in (False, True):
            for res in (False, True):
                lhs = _ring_prediction(kind, W, z, zq, qik, res, R)
                rhs = _ring_effective(eff, z, xq_ring, qik, res and kind == "paper", R, d)
                variant = ", ".join(v for v, on in (("query in keys", qik), ("residual", res)) if on) or "plain"
                same = lhs == rhs
                steps.append(Step.checked(
                    f"reduction-{kind}-{int(qik)}{int(res)}",
                    f"Reduction ({kind} parameterisation, {variant})", reduction_words(kind, qik, res), same,
                    reduction_justification(),
                    (f"exact: both predictions expanded in a sparse polynomial ring over all {len(gens)} "
                     f"weight and token coordinates at d = {d} (two generic context tokens) and compared"),
                    detail="" if same else "the two polynomials differ",
                    data={"terms": len(lhs)}, display=reduction_display(kind, qik, res)))
    return steps


def reduction_justification():
    from .statements import words

    return words("Associativity of the products; the query token carries 0 in its label slot, so "
                 "only the first $d$ columns of the key-query product meet it.")


def reduction_words(kind: str, qik: bool, res: bool):
    """The reduction claim in words, with the effective parameters read off the weights."""
    from .statements import expression as e
    from .statements import statement as st

    d, m = e("d"), e("M")
    if kind == "paper":
        read = (st("u = W_V^T * h"), " and ", m, " the first ", d, " columns of ", e("W_K^T * W_Q"))
        if res:
            read += (", ", e("r"), " the first ", d, " entries of ", e("h"))
    else:
        read = (e("u^T"), " the last row of ", e("W_PV"), " and ", m, " the first ", d, " columns of ",
                e("W_KQ"))
    what = {(False, False): "", (True, False): " with the query among the keys",
            (False, True): " with the residual connection", (True, True): " with both variants"}[(qik, res)]
    return (f"In the {kind} parameterisation{what}, every key contributes exactly the effective "
            "model's term, with ",) + read + (".",)


def reduction_display(kind: str, qik: bool, res: bool) -> tuple:
    """The identities behind a reduction, per key z (and the query z_q), as statement trees."""
    from .statements import statement as st

    if kind == "paper":
        out = [st("h^T * W_V * z * (W_K * z)^T * W_Q * z_q = (u^T * z) * (z^T * M * x_q)")]
        if qik:
            out.append(st("h^T * W_V * z_q * (W_K * z_q)^T * W_Q * z_q = (u_x^T * x_q) * (x_q^T * A * x_q)"))
        if res:
            out.append(st("h^T * z_q = r^T * x_q"))
        return tuple(out)
    out = [st("e^T * W_PV * z * (z^T * W_KQ * z_q) = (u^T * z) * (z^T * M * x_q)")]
    if qik:
        out.append(st("e^T * W_PV * z_q * (z_q^T * W_KQ * z_q) = (u_x^T * x_q) * (x_q^T * A * x_q)"))
    if res:
        out.append(st("e^T * z_q = 0"))
    return tuple(out)
