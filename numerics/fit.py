"""Fitting the LSA to the empirical lifted quadratic: objective, gradients and L-BFGS.

The empirical loss of an LSA with reduced coefficients theta is
L_hat = theta^T H theta - 2 c^T theta + k (see :mod:`numerics.minimise`). This module maps
the ACTUAL parameters of a parameterisation (flattened in the order of ``LSA.parameters()``)
to (u, M, r) -> theta, and back-propagates by hand, in numpy.

Why numpy and a hand-written L-BFGS: the problems are tiny (tens to hundreds of
variables) and are solved dozens of times per run (restarts, jackknife, history). Per-call
overhead dominates, and scipy's L-BFGS-B, whose BLAS thread pool competes with torch's
OpenMP pool on a small machine, ran ~20x slower in-process than in isolation. The tests
check these gradients against torch autograd through :class:`numerics.model.LSA`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .features import _layout


@lru_cache(maxsize=64)
def _theta_index(d: int, residual: bool) -> np.ndarray:
    """idx[a, b, c] = position in theta of T_abc (both orders of a pair share one slot)."""
    D = d + 1
    pa, pb, pc, _ = _layout(d, residual)
    idx = np.full((D, D, d), -1)
    pos = np.arange(len(pa))
    idx[pa, pb, pc] = pos
    idx[pb, pa, pc] = pos
    assert (idx >= 0).all()
    return idx


class Objective:
    """Value and gradient of L_hat over the flat parameters of one parameterisation."""

    def __init__(self, d: int, parameterisation: str, residual: bool):
        self.d, self.D, self.par, self.residual = d, d + 1, parameterisation, residual
        self.idx = _theta_index(d, residual).ravel()
        self.p_pair = int(self.idx.max()) + 1
        D = self.D
        self.size = {
            "effective": D + D * d + (d if residual else 0),
            "paper": 3 * D * D + D,
            "merged": 2 * D * D,
        }[parameterisation]

    def set(self, H: np.ndarray, c: np.ndarray, k: float) -> None:
        self.H, self.c, self.k = H, c, k

    # --- parameters -> effective (u, M, r) ---------------------------------------------
    def _unpack(self, x: np.ndarray) -> dict:
        D, d = self.D, self.d
        if self.par == "effective":
            out = {"u": x[:D], "M": x[D : D + D * d].reshape(D, d)}
            out["r"] = x[D + D * d :] if self.residual else None
            return out
        if self.par == "paper":
            W = x[: 3 * D * D].reshape(3, D, D)
            return {"W_K": W[0], "W_Q": W[1], "W_V": W[2], "h": x[3 * D * D :]}
        W = x.reshape(2, D, D)
        return {"W_KQ": W[0], "W_PV": W[1]}

    def from_gd_block(self, gamma: np.ndarray) -> np.ndarray:
        """Flat parameters whose prediction is x_q^T Gamma g (everything else zero).

        Used to round a convex-lift solution to an LSA as one starting point of L-BFGS:
        effective u = e_{d+1}, M = [Gamma^T; 0]; paper W^K = I, W^Q = [[Gamma^T, 0], [0, 0]],
        W^V = I, h = e_{d+1}; merged W^KQ = W^Q, W^PV = I.
        """
        D, d = self.D, self.d
        block = np.zeros((D, D))
        block[:d, :d] = np.asarray(gamma, dtype=np.float64).T
        e = np.zeros(D)
        e[d] = 1.0
        if self.par == "effective":
            parts = [e, block[:, :d].ravel()] + ([np.zeros(d)] if self.residual else [])
            return np.concatenate(parts)
        if self.par == "paper":
            return np.concatenate([np.eye(D).ravel(), block.ravel(), np.eye(D).ravel(), e])
        return np.concatenate([block.ravel(), np.eye(D).ravel()])

    def effective(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        P, d = self._unpack(x), self.d
        if self.par == "effective":
            return P["u"], P["M"], P["r"]
        if self.par == "paper":
            u = P["W_V"].T @ P["h"]
            M = (P["W_K"].T @ P["W_Q"])[:, :d]
            return u, M, (P["h"][:d] if self.residual else None)
        return P["W_PV"][-1], P["W_KQ"][:, :d], None

    def theta(self, x: np.ndarray) -> np.ndarray:
        u, M, r = self.effective(x)
        th = np.bincount(self.idx, weights=np.multiply.outer(u, M).ravel(), minlength=self.p_pair)
        if self.residual:
            th = np.concatenate([th, np.zeros(self.d) if r is None else r])
        return th

    # --- value and gradient -------------------------------------------------------------
    def loss(self, x: np.ndarray) -> float:
        """The empirical loss L_hat itself (without the gauge penalty)."""
        th = self.theta(x)
        return float(th @ (self.H @ th) - 2 * self.c @ th + self.k)

    def _balance(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Gauge-fixing penalty and its gradient.

        The loss depends on the parameters only through theta, which is invariant under
        rescalings such as (u, M) -> (c u, M / c) (paper: W^V, W^K, W^Q, h by factors whose
        product is 1). Along such an orbit L-BFGS can drift to wildly unbalanced scales where
        the problem is ill-conditioned and progress stalls. The penalty sum_j (n_j - n_{j+1})^2
        over squared norms n_j of the rescalable blocks vanishes at one point of every orbit,
        so adding it changes neither the minimum value nor the minimising theta.
        """
        if self.par == "effective":
            D, d = self.D, self.d
            blocks = [slice(0, D), slice(D, D + D * d)]
        elif self.par == "paper":
            DD = self.D * self.D
            blocks = [slice(2 * DD, 3 * DD), slice(0, DD), slice(DD, 2 * DD)]  # W_V, W_K, W_Q
            if not self.residual:  # with a residual, h also sets r
                blocks.insert(0, slice(3 * DD, 3 * DD + self.D))
        else:
            D = self.D
            last_row = slice(2 * D * D - D, 2 * D * D)
            blocks = [last_row, None]  # W_PV's last row vs W_KQ[:, :d]
        grad = np.zeros_like(x)
        value = 0.0
        if self.par == "merged":
            K = x[: D * D].reshape(D, D)
            diff = x[last_row] @ x[last_row] - (K[:, : self.d] ** 2).sum()
            gK = np.zeros((D, D))
            gK[:, : self.d] = -4 * diff * K[:, : self.d]
            grad[: D * D] = gK.ravel()
            grad[last_row] = 4 * diff * x[last_row]
            return float(diff**2), grad
        norms = [x[b] @ x[b] for b in blocks]
        for j in range(len(blocks) - 1):
            diff = norms[j] - norms[j + 1]
            value += diff**2
            grad[blocks[j]] += 4 * diff * x[blocks[j]]
            grad[blocks[j + 1]] -= 4 * diff * x[blocks[j + 1]]
        return float(value), grad

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Penalised objective L_hat + gauge penalty, and its gradient (for the optimiser)."""
        u, M, r = self.effective(x)
        th = self.theta(x)
        Hth = self.H @ th
        pen, gpen = self._balance(x)
        value = float(th @ Hth - 2 * self.c @ th + self.k) + pen
        g_th = 2 * (Hth - self.c)
        gT = g_th[self.idx].reshape(self.D, self.D, self.d)  # dL/dT_abc
        gu = np.einsum("abc,bc->a", gT, M)
        gM = np.einsum("abc,a->bc", gT, u)
        gr = g_th[self.p_pair :] if self.residual else None
        return value, self._pullback(x, gu, gM, gr) + gpen

    def _pullback(self, x, gu, gM, gr) -> np.ndarray:
        D, d = self.D, self.d
        if self.par == "effective":
            parts = [gu, gM.ravel()] + ([gr] if self.residual else [])
            return np.concatenate(parts)
        P = self._unpack(x)
        gK = np.zeros((D, D))
        gK[:, :d] = gM
        if self.par == "paper":
            # u = W_V^T h; K = W_K^T W_Q; r = h[:d]
            gh = P["W_V"] @ gu
            if self.residual:
                gh = gh.copy()
                gh[:d] += gr
            return np.concatenate(
                [
                    (P["W_Q"] @ gK.T).ravel(),
                    (P["W_K"] @ gK).ravel(),
                    np.outer(P["h"], gu).ravel(),
                    gh,
                ]
            )
        gPV = np.zeros((D, D))
        gPV[-1] = gu
        return np.concatenate([gK.ravel(), gPV.ravel()])


def lbfgs(
    fg,
    x0: np.ndarray,
    maxiter: int = 5_000,
    memory: int = 20,
    gtol: float = 1e-11,
    ftol: float = 1e-15,
) -> tuple[np.ndarray, float, int]:
    """Minimise a smooth function ``fg(x) -> (f, grad)`` by L-BFGS with Armijo backtracking.

    Stops when max|grad| <= gtol * max(1, |f|), when the decrease stalls below
    ftol * max(1, |f|) for 3 consecutive iterations, or when no step decreases f.
    Returns (x, f, iterations). Pure numpy; deterministic.
    """
    x = np.array(x0, dtype=np.float64)
    f, g = fg(x)
    S, Y, RHO = [], [], []
    stall = 0
    for it in range(1, maxiter + 1):
        if np.abs(g).max() <= gtol * max(1.0, abs(f)):
            return x, f, it
        # two-loop recursion for the quasi-Newton direction
        q = g.copy()
        alpha = []
        for s, y, rho in zip(reversed(S), reversed(Y), reversed(RHO), strict=True):
            a = rho * (s @ q)
            alpha.append(a)
            q -= a * y
        q *= (S[-1] @ Y[-1]) / (Y[-1] @ Y[-1]) if S else 1.0 / max(1.0, np.linalg.norm(g))
        for (s, y, rho), a in zip(zip(S, Y, RHO, strict=True), reversed(alpha), strict=True):
            q += (a - rho * (y @ q)) * s
        direction = -q
        slope = g @ direction
        if slope >= 0:  # not a descent direction: restart from steepest
            S, Y, RHO = [], [], []
            direction, slope = -g, -(g @ g)
        t = 1.0
        for _ in range(60):
            x_new = x + t * direction
            f_new, g_new = fg(x_new)
            if f_new <= f + 1e-4 * t * slope:
                break
            t *= 0.5
        else:
            return x, f, it  # no decrease possible at float64 precision
        s, y = x_new - x, g_new - g
        sy = s @ y
        if sy > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
            S.append(s), Y.append(y), RHO.append(1.0 / sy)
            if len(S) > memory:
                S.pop(0), Y.pop(0), RHO.pop(0)
        stall = stall + 1 if f - f_new <= ftol * max(1.0, abs(f)) else 0
        x, f, g = x_new, f_new, g_new
        if stall >= 3:
            return x, f, it
    return x, f, maxiter
