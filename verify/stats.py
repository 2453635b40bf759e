"""Statistical agreement tests with thresholds derived from standard errors.

Every numeric check reports a z-score (estimate - exact) / se and passes when |z| is below
a threshold set by a per-check false-alarm probability ALPHA (two-sided, Bonferroni over the
entries the check covers). With ALPHA = 1e-4 a single-entry check uses |z| < 3.89.

>>> round(z_threshold(1), 2), round(z_threshold(9), 2)
(3.89, 4.42)
"""

from __future__ import annotations

import math

from scipy.stats import norm

#: family-wise false-alarm probability of one check
ALPHA = 1e-4


def z_threshold(entries: int = 1, alpha: float = ALPHA) -> float:
    """|z| threshold for a check over ``entries`` estimates (two-sided, Bonferroni)."""
    return float(norm.isf(alpha / (2 * entries)))


def z_score(estimate: float, exact: float, se: float) -> float:
    if se <= 0 or not math.isfinite(se):
        return math.inf if estimate != exact else 0.0
    return (estimate - exact) / se


def chi2_to_z(q: float, k: int) -> float:
    """Wilson-Hilferty: a chi-square(k) statistic q mapped to an approximately N(0,1) z."""
    if k <= 0:
        return 0.0
    mean = 1 - 2 / (9 * k)
    return ((q / k) ** (1 / 3) - mean) / math.sqrt(2 / (9 * k))
