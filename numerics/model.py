"""The one-layer linear self-attention (LSA) model and its effective parameters.

Three parameterisations, all with the variants ``query_in_keys`` and ``residual``
(the conventions in the README; D = d + 1):

* ``"paper"``  (Mahankali et al.): W^K, W^Q, W^V in R^{DxD}, head h in R^D,
  yhat = h^T([residual] z_q + (1/n) sum_{i in keys} W^V z_i (W^K z_i)^T W^Q z_q).
* ``"merged"`` (Zhang-Frei-Bartlett, Ahn et al.): W^KQ, W^PV in R^{DxD}, yhat is the label
  slot of Z + (1/n) W^PV Z_keys Z_keys^T W^KQ z_q at the query column; the residual adds
  z_q's label slot, which is 0, so ``residual`` changes nothing here (r = 0).
* ``"effective"``: the effective parameters themselves, u in R^D, M in R^{Dxd} [, r in R^d].

Every parameterisation reduces to (u, M, r) with
  yhat = (1/n) sum_i (u^T z_i)(z_i^T M x_q) + [qik] (1/n)(u_x^T x_q)(x_q^T A x_q) + [res] r^T x_q,
where M = [A ; b^T]. The GD block of yhat is g^T (u_y A + u_x b^T) x_q with
g = (1/n) sum_i y_i x_i, so **Gamma = u_y A^T + b u_x^T** (yhat_GD = x_q^T Gamma g).

>>> import torch
>>> from numerics.task import make_generator
>>> m = LSA(d=2, n=4, parameterisation="paper", generator=make_generator(0))
>>> u, M, r = m.effective(); tuple(u.shape), tuple(M.shape), tuple(r.shape)
((3,), (3, 2), (2,))
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .sampling import DTYPE, Prompts

PARAMETERISATIONS = ("paper", "merged", "effective")


def _keys(Z: torch.Tensor, zq: torch.Tensor, query_in_keys: bool) -> torch.Tensor:
    """The key tokens: the context, plus the query when ``query_in_keys``."""
    return torch.cat([Z, zq.unsqueeze(1)], dim=1) if query_in_keys else Z


class LSA(nn.Module):
    """One-layer linear self-attention (float64). ``forward(prompts) -> yhat`` of shape (B,).

    init_std: standard deviation of the iid normal initialisation of every weight
    (drawn from ``generator``; default 1/sqrt(D)). The normalisation is always 1/n,
    also when the query is among the keys.
    """

    def __init__(
        self,
        d: int,
        n: int,
        parameterisation: str = "paper",
        query_in_keys: bool = False,
        residual: bool = False,
        init_std: float | None = None,
        generator: torch.Generator | None = None,
        device: str | torch.device = "cpu",
    ):
        super().__init__()
        if parameterisation not in PARAMETERISATIONS:
            raise ValueError(
                f"parameterisation: must be one of {', '.join(PARAMETERISATIONS)}, "
                f"got {parameterisation!r}"
            )
        self.d, self.n, self.D = d, n, d + 1
        self.parameterisation = parameterisation
        self.query_in_keys, self.residual = query_in_keys, residual
        std = 1.0 / np.sqrt(self.D) if init_std is None else float(init_std)
        D = self.D

        def weight(*shape):
            t = torch.randn(*shape, generator=generator, dtype=DTYPE, device=device) * std
            return nn.Parameter(t)

        if parameterisation == "paper":
            self.W_K, self.W_Q, self.W_V, self.h = (
                weight(D, D),
                weight(D, D),
                weight(D, D),
                weight(D),
            )
        elif parameterisation == "merged":
            self.W_KQ, self.W_PV = weight(D, D), weight(D, D)
        else:
            self.u, self.M = weight(D), weight(D, d)
            self.r = weight(d) if residual else None

    # ------------------------------------------------------------------------------
    def forward(self, prompts: Prompts) -> torch.Tensor:
        Z, zq = prompts.tokens()
        keys = _keys(Z, zq, self.query_in_keys)
        if self.parameterisation == "paper":
            q = zq @ self.W_Q.T  # W^Q z_q
            scores = torch.einsum("bmk,bk->bm", keys @ self.W_K.T, q)  # (W^K z_i)^T W^Q z_q
            values = keys @ self.W_V.T  # W^V z_i
            out = torch.einsum("bmk,bm->bk", values, scores) / self.n
            if self.residual:
                out = out + zq
            return out @ self.h
        if self.parameterisation == "merged":
            scores = torch.einsum("bmk,bk->bm", keys, zq @ self.W_KQ.T)  # z_i^T W^KQ z_q
            label_row = keys @ self.W_PV[-1]  # e_{d+1}^T W^PV z_i
            out = (label_row * scores).sum(1) / self.n
            if self.residual:
                out = out + zq[:, -1]  # the query's label slot: 0
            return out
        u, M, r = self.effective()
        return predict_effective(prompts, u, M, r, self.query_in_keys)

    def effective(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Differentiable effective parameters (u (D,), M (D, d), r (d,))."""
        d = self.d
        if self.parameterisation == "paper":
            u = self.W_V.T @ self.h
            M = (self.W_K.T @ self.W_Q)[:, :d]
            r = self.h[:d] if self.residual else torch.zeros(d, dtype=DTYPE, device=u.device)
        elif self.parameterisation == "merged":
            u, M = self.W_PV[-1], self.W_KQ[:, :d]
            r = torch.zeros(d, dtype=DTYPE, device=u.device)
        else:
            u, M = self.u, self.M
            r = self.r if self.r is not None else torch.zeros(d, dtype=DTYPE, device=u.device)
        return u, M, r


def predict_effective(prompts: Prompts, u, M, r=None, query_in_keys: bool = False) -> torch.Tensor:
    """yhat from effective parameters (the formula in the module docstring), shape (B,)."""
    dev = prompts.x.device
    u = torch.as_tensor(u, dtype=DTYPE, device=dev)
    M = torch.as_tensor(M, dtype=DTYPE, device=dev)
    Z, zq = prompts.tokens()
    keys = _keys(Z, zq, query_in_keys)
    scores = torch.einsum("bmk,bk->bm", keys, prompts.xq @ M.T)  # z_i^T M x_q
    out = torch.einsum("bm,bm->b", keys @ u, scores) / Z.shape[1]
    if r is not None:
        out = out + prompts.xq @ torch.as_tensor(r, dtype=DTYPE, device=dev)
    return out


def effective_parameters(model: LSA) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u, M, r) of a trained model as float64 numpy arrays (r = 0 without a residual)."""
    with torch.no_grad():
        return tuple(t.detach().cpu().numpy().copy() for t in model.effective())


def gamma_from_effective(u, M) -> np.ndarray:
    """Gamma = u_y A^T + b u_x^T (the pinned convention: yhat_GD = x_q^T Gamma g)."""
    u = np.asarray(u, dtype=np.float64)
    M = np.asarray(M, dtype=np.float64)
    A, b = M[:-1], M[-1]
    return u[-1] * A.T + np.outer(b, u[:-1])


def gamma_of(model: LSA) -> np.ndarray:
    """Gamma of a model (see :func:`gamma_from_effective`)."""
    u, M, _ = effective_parameters(model)
    return gamma_from_effective(u, M)
