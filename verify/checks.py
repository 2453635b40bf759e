"""Check records: what was compared, its z-score, the tolerance used, and the verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm

from .stats import ALPHA, frobenius_z, z_threshold


@dataclass
class Check:
    id: str
    status: str                  # "pass" | "fail"
    z: float | None = None
    detail: str = ""
    threshold: float | None = None
    kind: str = "symbolic"       # "symbolic" | "numeric"
    data: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def as_json(self) -> dict:
        z = None if self.z is None or not math.isfinite(self.z) else round(float(self.z), 6)
        return {"id": self.id, "status": self.status, "z": z, "detail": self.detail}


def exact_check(check_id: str, ok: bool, detail: str) -> Check:
    return Check(check_id, "pass" if ok else "fail", None, detail)


def entrywise(check_id: str, estimate, se, exact, what: str, expect_agree=True, df=None) -> Check:
    """max |z| over entries against the Bonferroni threshold for that many entries (t with df)."""
    est, se, ex = (np.atleast_1d(np.asarray(a, dtype=float)).ravel() for a in (estimate, se, exact))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (est - ex) / se, np.where(est == ex, 0.0, np.inf))
    k = int(np.argmax(np.abs(z)))
    zmax, tol = float(z[k]), z_threshold(len(z), df=df)
    agree = abs(zmax) <= tol
    ok = agree if expect_agree else not agree
    verb = "agrees with" if agree else "differs from"
    detail = (f"{what}: max |z| = {abs(zmax):.2f} at entry {k + 1} of {len(z)} "
              f"(tolerance |z| <= {tol:.2f}: alpha = 1e-4, Bonferroni, t with {df} df); "
              f"estimate {verb} the exact value")
    return Check(check_id, "pass" if ok else "fail", zmax, detail, tol, "numeric")


def frobenius(check_id: str, estimate, se, exact, what: str, expect_agree=True, df=None) -> Check:
    """sum of squared z over entries (F(k, df) / chi-square(k)), reported as a one-sided z."""
    est, se, ex = (np.asarray(a, dtype=float).ravel() for a in (estimate, se, exact))
    q = float(np.sum(((est - ex) / se) ** 2))
    k = len(est)
    z = frobenius_z(q, k, df)
    tol = float(norm.isf(ALPHA))
    agree = z <= tol
    ok = agree if expect_agree else not agree
    dist = float(np.linalg.norm(est - ex))
    detail = (f"{what}: ||estimate - exact||_F = {dist:.3g}, sum z^2 = {q:.2f} on {k} entries "
              f"({'F' if df else 'chi-square'} test as z = {z:.2f}; tolerance z <= {tol:.2f}); "
              f"{'agrees' if agree else 'differs'}")
    return Check(check_id, "pass" if ok else "fail", z, detail, tol, "numeric")


def claim_gamma_checks(res, gamma_exact, what: str) -> list:
    """The three checks of a true claim on a fit: Gamma entrywise and in Frobenius norm, odd block vs 0."""
    df = res.groups - 1
    return [entrywise("gamma-entries", res.gamma, res.gamma_se, gamma_exact, what, df=df),
            frobenius("gamma-frobenius", res.gamma, res.gamma_se, gamma_exact, what, df=df),
            entrywise("odd-block", res.odd, res.odd_se, np.zeros_like(res.odd), "odd-block coefficients vs 0",
                      df=df)]


def scalar(check_id: str, estimate: float, se: float, exact: float, what: str, expect_agree=True,
           df=None) -> Check:
    z = (estimate - exact) / se if se > 0 else (0.0 if estimate == exact else math.inf)
    tol = z_threshold(1, df=df)
    agree = abs(z) <= tol
    ok = agree if expect_agree else not agree
    detail = (f"{what}: estimate {estimate:.6g} +- {se:.2g} vs exact {exact:.6g} "
              f"(z = {z:.2f}; tolerance |z| <= {tol:.2f}: alpha = 1e-4, t with {df} df); "
              f"{'agrees' if agree else 'differs'}")
    return Check(check_id, "pass" if ok else "fail", z, detail, tol, "numeric")
