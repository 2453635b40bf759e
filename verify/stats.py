"""Statistical agreement tests with thresholds derived from standard errors.

Every numeric check reports a z-score (estimate - exact) / se and passes when |z| is below
a threshold set by a per-check false-alarm probability ALPHA (two-sided, Bonferroni over the
entries the check covers). The standard errors are themselves estimated, from G jackknife
groups or B batch means, so the z-score is Student-t with G - 1 (B - 1) degrees of freedom,
and the threshold is the t quantile: with 30 groups a single-entry check uses |z| < 4.51
(the normal quantile 3.89 would raise the false-alarm rate about fivefold).

>>> round(z_threshold(1), 2), round(z_threshold(9), 2), round(z_threshold(1, df=29), 2)
(3.89, 4.39, 4.51)
"""

from __future__ import annotations

import math

from scipy.stats import chi2, norm
from scipy.stats import f as f_dist
from scipy.stats import t as t_dist

#: family-wise false-alarm probability of one check
ALPHA = 1e-4


def z_threshold(entries: int = 1, alpha: float = ALPHA, df: int | None = None) -> float:
    """|z| threshold for a check over ``entries`` estimates (two-sided, Bonferroni).

    ``df``: degrees of freedom of the estimated standard errors (None: known SEs, normal).
    """
    q = alpha / (2 * entries)
    return float(norm.isf(q) if df is None else t_dist.isf(q, df))


def frobenius_z(q: float, k: int, df: int | None) -> float:
    """The sum of k squared z-scores as an equivalent one-sided normal z.

    With estimated SEs (df degrees of freedom), q/k is approximately F(k, df); with known
    SEs, q is chi-square(k). The p-value is mapped back to N(0, 1) so it reads like a z.
    """
    p = f_dist.sf(q / k, k, df) if df is not None else chi2.sf(q, k)
    return float(norm.isf(max(p, 1e-300)))


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


def measured(value: float, se: float) -> str:
    """x +- se with the SE to two significant digits and x to the same decimal place."""
    if not (math.isfinite(value) and math.isfinite(se)) or se <= 0:
        return f"{value:.6g}" + ("" if se == 0 else " +- ?")
    places = max(0, 1 - int(math.floor(math.log10(se))))
    return f"{value:.{places}f} +- {se:.{places}f}"
