"""The convex lift: yhat = <theta, F> with a reduced feature vector F (the README, "The certified global optimum").

With T_abc = u_a M_bc (a, b in 1..D = d+1, c in 1..d) and S = (1/n) sum_{keys} z_i z_i^T,
yhat = sum_abc T_abc S_ab x_qc [+ r^T x_q]. S is symmetric, so only the unordered pair {a, b}
matters: theta_{ab,c} = T_abc + T_bac (a != b), T_aac (a = b).

ORDERING of the reduced vector (1-based names; p = d^2 + d * d(d+1)/2 + d [+ d]):

1. GD block, d*d entries, index (b, c) row-major, b, c in 1..d: pair {b, d+1};
   feature g_b x_qc with g = (1/n) sum_i y_i x_i; coefficient Gamma[c, b] (= Gamma^T[b, c]).
   Name ``"gd[b;c]"``.
2. Odd block, in this order:
   * ``"xx[a,b;c]"`` for 1 <= a <= b <= d (pairs lexicographic), c = 1..d innermost;
     feature (1/n)[sum_i x_ia x_ib + qik x_qa x_qb] x_qc;
     coefficient u_a A_bc + u_b A_ac (a != b) or u_a A_ac (a = b).
   * ``"yy[;c]"`` for c = 1..d: feature (1/n) sum_i y_i^2 x_qc; coefficient u_y b_c.
   * ``"r[c]"`` for c = 1..d (only with ``residual``): feature x_qc; coefficient r_c.

>>> names(2, residual=False)[4:]
['xx[1,1;1]', 'xx[1,1;2]', 'xx[1,2;1]', 'xx[1,2;2]', 'xx[2,2;1]', 'xx[2,2;2]', 'yy[;1]', 'yy[;2]']
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .sampling import DTYPE, Prompts


def dimension(d: int, residual: bool) -> int:
    """Length p of the reduced feature vector."""
    return d * d + d * d * (d + 1) // 2 + d + (d if residual else 0)


def gd_size(d: int) -> int:
    return d * d


@lru_cache(maxsize=64)
def _layout(d: int, residual: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Row/column pair indices (0-based into S) for the pair features, in output order.

    Returns (pair_a, pair_b, c_index, names) for the pair part (GD block then xx then yy);
    the residual block (if any) is appended separately.
    """
    D = d + 1
    pa, pb, pc, nm = [], [], [], []
    for b in range(d):  # GD block: pair {b, d+1}, row-major (b, c)
        for c in range(d):
            pa.append(b), pb.append(D - 1), pc.append(c), nm.append(f"gd[{b + 1};{c + 1}]")
    for a in range(d):  # xx block
        for b in range(a, d):
            for c in range(d):
                pa.append(a), pb.append(b), pc.append(c), nm.append(f"xx[{a + 1},{b + 1};{c + 1}]")
    for c in range(d):  # yy block
        pa.append(D - 1), pb.append(D - 1), pc.append(c), nm.append(f"yy[;{c + 1}]")
    if residual:
        nm += [f"r[{c + 1}]" for c in range(d)]
    return np.array(pa), np.array(pb), np.array(pc), tuple(nm)


def names(d: int, residual: bool) -> list[str]:
    """Names of all p reduced coefficients in order (GD block first)."""
    return list(_layout(d, residual)[3])


def odd_names(d: int, residual: bool) -> list[str]:
    """Names of the odd-block coefficients, in the documented order."""
    return names(d, residual)[gd_size(d) :]


def feature_matrix(prompts: Prompts, query_in_keys: bool, residual: bool) -> torch.Tensor:
    """Reduced features F of shape (B, p), so that yhat = F @ theta."""
    Z, zq = prompts.tokens()
    n, d = Z.shape[1], prompts.xq.shape[1]
    S = Z.transpose(1, 2) @ Z  # sum_i z_i z_i^T, (B, D, D)
    if query_in_keys:
        S = S + zq.unsqueeze(2) * zq.unsqueeze(1)
    S = S / n
    pa, pb, pc, _ = _layout(d, residual)
    dev = S.device
    pa, pb, pc = (torch.as_tensor(i, device=dev) for i in (pa, pb, pc))
    F = S[:, pa, pb] * prompts.xq[:, pc]
    if residual:
        F = torch.cat([F, prompts.xq], dim=1)
    return F


def theta(u: torch.Tensor, M: torch.Tensor, r: torch.Tensor | None, residual: bool) -> torch.Tensor:
    """Reduced coefficients theta(u, M, r) in the documented order (differentiable in torch)."""
    d = M.shape[1]
    T = u[:, None, None] * M[None, :, :]  # T_abc = u_a M_bc, (D, D, d)
    sym = T + T.transpose(0, 1)  # T_abc + T_bac
    pa, pb, pc, _ = _layout(d, residual)
    dev = T.device
    pa_t, pb_t, pc_t = (torch.as_tensor(i, device=dev) for i in (pa, pb, pc))
    vals = sym[pa_t, pb_t, pc_t]
    diag = torch.as_tensor(pa == pb, device=dev)
    vals = torch.where(diag, T[pa_t, pb_t, pc_t], vals)  # a = b: T_aac, not 2 T_aac
    if residual:
        r = torch.zeros(d, dtype=DTYPE, device=dev) if r is None else r
        vals = torch.cat([vals, r])
    return vals


def theta_numpy(u, M, r=None, residual: bool = False) -> np.ndarray:
    """:func:`theta` for numpy inputs."""
    t = theta(
        torch.as_tensor(np.asarray(u), dtype=DTYPE),
        torch.as_tensor(np.asarray(M), dtype=DTYPE),
        None if r is None else torch.as_tensor(np.asarray(r), dtype=DTYPE),
        residual,
    )
    return t.numpy()


def split(theta_vec: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """(Gamma (d x d), odd block) from a reduced coefficient vector."""
    theta_vec = np.asarray(theta_vec)
    gd = theta_vec[..., : d * d].reshape(*theta_vec.shape[:-1], d, d)  # [b, c] = Gamma[c, b]
    return np.swapaxes(gd, -1, -2), theta_vec[..., d * d :]
