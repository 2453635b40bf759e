"""Up-front cost estimates for the exact side, so work too large for the machine is refused
before it starts (with the estimate and the limit in the message), never a MemoryError.

The estimates are calibrated on the 2-core reference machine (see the README's "Resource
limits"); they are deliberately on the high side. :func:`check` raises
:class:`~derivations.errors.TooLargeError`; :func:`estimate` only reports.

>>> from derivations.task import Task
>>> estimate(Task(d=2)).seconds < 60
True
>>> check(Task(d=14, query_in_keys=True))
Traceback (most recent call last):
...
derivations.errors.TooLargeError: exact side of d = 14 (linear, n and s2 symbolic): estimated ...
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from math import comb

import sympy as sp

from .errors import TooLargeError
from .task import Task

GIB = 2**30
#: the machine this project targets: 2 cores, 24 GiB; two tasks may run at once
LIMIT_SECONDS = float(os.environ.get("ONESTEP_MAX_SECONDS", 30 * 60))
LIMIT_BYTES = float(os.environ.get("ONESTEP_MAX_BYTES", 8 * GIB))


@dataclass(frozen=True)
class Estimate:
    """seconds and bytes (peak) of a piece of work, and what it is."""

    seconds: float
    bytes: float
    what: str

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(self.seconds + other.seconds, max(self.bytes, other.bytes),
                        f"{self.what}; {other.what}")

    def verdict(self, limit_seconds=None, limit_bytes=None) -> str | None:
        """None when within the limits, else the one-line reason."""
        ls = LIMIT_SECONDS if limit_seconds is None else limit_seconds
        lb = LIMIT_BYTES if limit_bytes is None else limit_bytes
        if self.bytes > lb:
            return (f"{self.what}: estimated peak memory {_size(self.bytes)} exceeds the limit "
                    f"{_size(lb)}")
        if self.seconds > ls:
            return (f"{self.what}: estimated {_duration(self.seconds)} exceeds the limit "
                    f"{_duration(ls)}")
        return None


def _size(b: float) -> str:
    return f"{b / GIB:.3g} GiB" if b >= GIB / 10 else f"{b / 2**20:.3g} MiB"


def _duration(s: float) -> str:
    if s >= 3600 * 24 * 365:
        return f"{s / (3600 * 24 * 365):.2g} years"
    if s >= 3600:
        return f"{s / 3600:.3g} h"
    if s >= 60:
        return f"{s / 60:.3g} min"
    return f"{s:.2g} s"


def polynomial_degree(expr: sp.Expr) -> int | None:
    """Total degree of a parsed response without expanding it (None if not a polynomial)."""
    if expr.is_Symbol:
        return 1
    if expr.is_number:
        return 0
    if expr.is_Add:
        parts = [polynomial_degree(a) for a in expr.args]
        return None if None in parts else max(parts)
    if expr.is_Mul:
        parts = [polynomial_degree(a) for a in expr.args]
        return None if None in parts else sum(parts)
    if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0:
        base = polynomial_degree(expr.base)
        return None if base is None else base * int(expr.exp)
    return None


def _linear_general_route(task: Task) -> Estimate:
    """The lifted Gram matrix route: p ~ d^3/2 features, p^2 symbolic entries.

    Calibration (dense Sigma, 2 cores): fixed n 2.0 s at d = 3, about x3 per dimension;
    n, s2 symbolic about 5x slower; 1.5 GB at d = 8 (about 12 kB per Gram entry).
    """
    d = task.d
    p = d * d + d * d * (d + 1) // 2 + d + (d if task.residual else 0)
    symbolic = task.n_symbolic or task.noise_symbolic or bool(task.parameters)
    seconds = (11.0 if symbolic else 2.0) * 3.0 ** (d - 3)
    per_entry = 24e3 if symbolic else 12e3
    return Estimate(seconds, 2e8 + p * p * per_entry, _label(task, "linear"))


def _linear_structured_route(task: Task) -> Estimate:
    """The structured route (plain model, :mod:`derivations.structured`): the Kronecker factors
    C (d x d) and D (q x q, q = d(d+1)/2 + 1) and d x d fraction-free solves; no p x p matrix.

    Calibration (dense Sigma, 2 cores at load average about 4, ``benchmarks/certified_optimum.py``):
    n, s2 symbolic 2.3 / 12 / 33 s at d = 8 / 12 / 16, fixed 1.2 / 6.9 / 21 s; peak RSS 0.24 GB
    at d = 16. The model keeps a margin of about 3x: time ~ d^5 (the odd factor's q^2 entries
    times d), memory ~ q^2.
    """
    d = task.d
    symbolic = task.n_symbolic or task.noise_symbolic or bool(task.parameters)
    seconds = 1.0 + (1e-4 if symbolic else 5e-5) * d ** 5
    q = d * (d + 1) // 2 + 1
    return Estimate(seconds, 3e8 + 1e4 * q * q, _label(task, "linear, structured route"))


def _label(task: Task, kind: str) -> str:
    sym = [s for s, on in (("n", task.n_symbolic), ("s2", task.noise_symbolic)) if on]
    what = " and ".join(sym) + " symbolic" if sym else f"n = {task.n}, s2 = {task.noise}"
    return f"exact side of d = {task.d} ({kind}, {what})"


def _polynomial_response(task: Task, degree: int) -> Estimate:
    """Exact moments of a polynomial response of degree k: the integrands y^2 |x|^2 have
    M = C(d + 2k + 1, 2k + 2) monomials; about 5e-6 s per d^3 M k (2 cores)."""
    d = task.d
    monomials = comb(d + 2 * degree + 1, 2 * degree + 2)
    seconds = 0.5 + 5e-6 * d**3 * monomials * degree
    return Estimate(seconds, 2e8 + 2e3 * monomials * d * d, _label(task, f"polynomial response of degree {degree}"))


def estimate(task: Task, route: str = "auto") -> Estimate:
    """The estimated cost of the task's exact optimum (linear or nonlinear) on the route that
    :func:`derivations.optimum.global_optimum` takes (``route`` as there)."""
    if task.is_linear:
        from .structured import structure_reason

        if route != "general" and structure_reason(task) is None:
            return _linear_structured_route(task)
        return _linear_general_route(task)
    resp = task.response
    if resp.family == "two-layer-relu":
        return Estimate(5.0 * resp.width, 3e8, _label(task, "two-layer ReLU"))
    from .nonlinear.parse import S, parse_expression, parse_link

    expr = parse_link(resp.link) if resp.link is not None else parse_expression(resp.expr, task.d)
    degree = polynomial_degree(expr)
    if degree is None:                      # high-precision one-dimensional integrals
        return Estimate(10.0, 3e8, _label(task, "non-polynomial response"))
    if expr.free_symbols <= {S}:
        return _polynomial_response(task, degree)
    # an expression in x1..xd, w1..wd: count x and w together (a generous bound)
    return _polynomial_response(task, degree) + Estimate(0.0, 0.0, "expression in x and w")


def check(task: Task, limit_seconds=None, limit_bytes=None, route: str = "auto") -> Estimate:
    """Raise :class:`TooLargeError` when the exact side would exceed the limits."""
    est = estimate(task, route)
    reason = est.verdict(limit_seconds, limit_bytes)
    if reason:
        raise TooLargeError(reason + "; lower d or the polynomial degree, or fix n and s2")
    return est
