"""Check records: what was compared, its z-score, the tolerance used, and the verdict.

A check's status is one of

* ``pass`` -- the comparison came out as the claim predicts;
* ``fail`` -- it did not (for a true claim: disagreement; for a control: agreement);
* ``n/a``  -- numerics not applicable: the estimate, its standard error or the exact value is
  not a finite float64 number, or the standard error is 0 while the values differ, so no
  statistical statement can be made. This is neither a pass nor a refutation of the claim;
* ``error`` -- the tool itself failed on this task (an unexpected exception), not the claim.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm

from .stats import ALPHA, frobenius_z, measured, z_threshold


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

    @property
    def applicable(self) -> bool:
        return self.status != NOT_APPLICABLE

    def as_json(self) -> dict:
        z = None if self.z is None or not math.isfinite(self.z) else round(float(self.z), 6)
        return {"id": self.id, "status": self.status, "z": z, "detail": self.detail}


NOT_APPLICABLE = "n/a"
STATUSES = ("pass", "fail", NOT_APPLICABLE, "error")


def not_applicable(check_id: str, reason: str, kind: str = "numeric") -> Check:
    """A check that could not be carried out: says why, and is neither pass nor fail
    ("numerics not applicable: ..." for Monte Carlo checks, "not decided: ..." for exact ones)."""
    prefix = "numerics not applicable" if kind == "numeric" else "not decided"
    return Check(check_id, NOT_APPLICABLE, None, f"{prefix}: {reason}", None, kind)


def _unusable(check_id, est, se, ex, what):
    """A not-applicable check when the inputs of a z-test are not finite or the SE is degenerate."""
    for label, arr in (("estimate", est), ("standard error", se), ("exact value", ex)):
        if not np.all(np.isfinite(arr)):
            return not_applicable(check_id, f"{what}: the {label} is not a finite float64 number "
                                            f"({_first_bad(arr)}); no statistical test is possible")
    degenerate = (se <= 0) & (est != ex)
    if np.any(degenerate):
        return not_applicable(check_id, f"{what}: a standard error is 0 while estimate and exact value "
                                        "differ; no statistical test is possible")
    return None


def _first_bad(arr) -> str:
    flat = np.atleast_1d(arr).ravel()
    bad = flat[~np.isfinite(flat)]
    return f"{bad[0]!r}" if len(bad) else "?"


def exact_check(check_id: str, ok: bool, detail: str) -> Check:
    return Check(check_id, "pass" if ok else "fail", None, detail)


def entrywise(check_id: str, estimate, se, exact, what: str, expect_agree=True, df=None) -> Check:
    """max |z| over entries against the Bonferroni threshold for that many entries (t with df)."""
    est, se, ex = (np.atleast_1d(np.asarray(a, dtype=float)).ravel() for a in (estimate, se, exact))
    unusable = _unusable(check_id, est, se, ex, what)
    if unusable:
        return unusable
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (est - ex) / se, 0.0)
    k = int(np.argmax(np.abs(z)))
    zmax, tol = float(z[k]), z_threshold(len(z), df=df)
    agree = abs(zmax) <= tol
    ok = agree if expect_agree else not agree
    verb = "agrees with" if agree else "differs from"
    detail = (f"{what}: max |z| = {abs(zmax):.2f} at entry {k + 1} of {len(z)} "
              f"(tolerance |z| <= {tol:.2f}: alpha = 1e-4, Bonferroni, t with {df} df); "
              f"estimate {verb} the exact value")
    data = {"what": what, "test": f"max |z| over {len(z)} entries", "expect_agree": expect_agree,
            "estimate": est.tolist(), "se": se.tolist(), "exact": ex.tolist(), "df": df}
    return Check(check_id, "pass" if ok else "fail", zmax, detail, tol, "numeric", data)


def frobenius(check_id: str, estimate, se, exact, what: str, expect_agree=True, df=None) -> Check:
    """sum of squared z over entries (F(k, df) / chi-square(k)), reported as a one-sided z."""
    est, se, ex = (np.asarray(a, dtype=float).ravel() for a in (estimate, se, exact))
    unusable = _unusable(check_id, est, se, ex, what)
    if unusable:
        return unusable
    keep = se > 0                        # entries with se = 0 agree exactly (else unusable above)
    est, se, ex = est[keep], se[keep], ex[keep]
    if len(est) == 0:
        return not_applicable(check_id, f"{what}: every standard error is 0")
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
    data = {"what": what, "test": f"{'F' if df else 'chi-square'} test of sum z^2 over {k} entries, as a z",
            "expect_agree": expect_agree, "distance": dist, "df": df}
    return Check(check_id, "pass" if ok else "fail", z, detail, tol, "numeric", data)


def claim_gamma_checks(res, gamma_exact, what: str) -> list:
    """The three checks of a true claim on a fit: Gamma entrywise and in Frobenius norm, odd block vs 0."""
    df = res.groups - 1
    return [entrywise("gamma-entries", res.gamma, res.gamma_se, gamma_exact, what, df=df),
            frobenius("gamma-frobenius", res.gamma, res.gamma_se, gamma_exact, what, df=df),
            entrywise("odd-block", res.odd, res.odd_se, np.zeros_like(res.odd), "odd-block coefficients vs 0",
                      df=df)]


def scalar(check_id: str, estimate: float, se: float, exact: float, what: str, expect_agree=True,
           df=None) -> Check:
    unusable = _unusable(check_id, *(np.atleast_1d(np.asarray(a, dtype=float)) for a in (estimate, se, exact)),
                         what)
    if unusable:
        return unusable
    z = (estimate - exact) / se if se > 0 else 0.0
    tol = z_threshold(1, df=df)
    agree = abs(z) <= tol
    ok = agree if expect_agree else not agree
    # the estimate to the SE's last digit (no digits beyond its precision); the exact value to 6
    detail = (f"{what}: estimate {measured(estimate, se)} vs exact {exact:.6g} "
              f"(z = {z:.2f}; tolerance |z| <= {tol:.2f}: alpha = 1e-4, t with {df} df); "
              f"{'agrees' if agree else 'differs'}")
    data = {"what": what, "test": "|z|", "expect_agree": expect_agree, "estimate": [float(estimate)],
            "se": [float(se)], "exact": [float(exact)], "df": df}
    return Check(check_id, "pass" if ok else "fail", z, detail, tol, "numeric", data)
