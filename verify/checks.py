"""Check records: what was compared, its z-score, the tolerance used, and the verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .stats import chi2_to_z, z_threshold


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


def entrywise(check_id: str, estimate, se, exact, what: str, expect_agree=True) -> Check:
    """max |z| over entries against the Bonferroni threshold for that many entries."""
    est, se, ex = (np.atleast_1d(np.asarray(a, dtype=float)).ravel() for a in (estimate, se, exact))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (est - ex) / se, np.where(est == ex, 0.0, np.inf))
    k = int(np.argmax(np.abs(z)))
    zmax, tol = float(z[k]), z_threshold(len(z))
    agree = abs(zmax) <= tol
    ok = agree if expect_agree else not agree
    verb = "agrees with" if agree else "differs from"
    detail = (f"{what}: max |z| = {abs(zmax):.2f} at entry {k + 1} of {len(z)} "
              f"(tolerance |z| <= {tol:.2f}, from the standard errors); estimate {verb} the exact value")
    return Check(check_id, "pass" if ok else "fail", zmax, detail, tol, "numeric")


def frobenius(check_id: str, estimate, se, exact, what: str, expect_agree=True) -> Check:
    """sum of squared z over entries as chi-square(k), mapped to z by Wilson-Hilferty."""
    est, se, ex = (np.asarray(a, dtype=float).ravel() for a in (estimate, se, exact))
    q = float(np.sum(((est - ex) / se) ** 2))
    k = len(est)
    z = chi2_to_z(q, k)
    tol = z_threshold(1)
    agree = z <= tol
    ok = agree if expect_agree else not agree
    dist = float(np.linalg.norm(est - ex))
    detail = (f"{what}: ||estimate - exact||_F = {dist:.3g}, sum z^2 = {q:.2f} on {k} entries "
              f"(chi-square z = {z:.2f}; tolerance z <= {tol:.2f}); "
              f"{'agrees' if agree else 'differs'}")
    return Check(check_id, "pass" if ok else "fail", z, detail, tol, "numeric")


def scalar(check_id: str, estimate: float, se: float, exact: float, what: str, expect_agree=True) -> Check:
    z = (estimate - exact) / se if se > 0 else (0.0 if estimate == exact else math.inf)
    tol = z_threshold(1)
    agree = abs(z) <= tol
    ok = agree if expect_agree else not agree
    detail = (f"{what}: estimate {estimate:.6g} +- {se:.2g} vs exact {exact:.6g} "
              f"(z = {z:.2f}; tolerance |z| <= {tol:.2f}); {'agrees' if agree else 'differs'}")
    return Check(check_id, "pass" if ok else "fail", z, detail, tol, "numeric")
