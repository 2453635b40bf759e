r"""comparison.tex: the Monte Carlo side against the exact one, from the checks themselves.

Every number in the table is the one the check used: the estimate, its standard error, the
exact value at the Monte Carlo's n and s2, the z-score and the tolerance (one tolerance per
check, everywhere). Estimates show their standard error to two significant digits and the
estimate to the same decimal place.
"""

from __future__ import annotations

import math

from derivations.printing import escape

STATUS = {"pass": "pass", "fail": r"\textbf{FAIL}", "n/a": "n/a", "error": r"\textbf{ERROR}"}


def measured_tex(value: float, se: float) -> str:
    """x \\pm se with the SE to two significant digits (math mode)."""
    if not (math.isfinite(value) and math.isfinite(se)) or se <= 0:
        return f"{value:.6g}"
    places = max(0, 1 - int(math.floor(math.log10(se))))
    return f"{value:.{places}f} \\pm {se:.{places}f}"


def _exact_num(x: float) -> str:
    return f"{x:.6g}"


def _row_values(check):
    """(estimate cell, exact cell) for a check with one estimate; None for multi-entry checks."""
    data = check.data or {}
    est, se, ex = data.get("estimate"), data.get("se"), data.get("exact")
    if not est or len(est) != 1:
        return None
    return "$" + measured_tex(est[0], se[0]) + "$", "$" + _exact_num(ex[0]) + "$"


def checks_table(checks) -> str:
    """One row per check: what was compared, the numbers, z, tolerance, verdict."""
    rows = []
    for c in checks:
        data = c.data or {}
        what = escape(data.get("what") or c.id)
        values = _row_values(c)
        est, ex = values if values else ("", "")
        z = "" if c.z is None or not math.isfinite(c.z) else f"${c.z:.2f}$"
        tol = "" if c.threshold is None else f"${c.threshold:.2f}$"
        expect = "" if data.get("expect_agree", True) else " (must differ)"
        rows.append(f"{escape(c.id)}{expect} & {what} & {est} & {ex} & {z} & {tol} & {STATUS[c.status]} "
                    r"\tabularnewline")
    if not rows:
        return ""
    head = (r"{\small\setlength{\tabcolsep}{4pt}\begin{tabular}{@{}>{\raggedright}p{2.5cm}>{\raggedright}p{3.9cm}"
            r"llrrl@{}}" "\n" r"\toprule" "\n"
            r"check & compared & estimate & exact & $z$ & tol. & \tabularnewline \midrule")
    return head + "\n" + "\n".join(rows) + "\n" + r"\bottomrule" + "\n" + r"\end{tabular}}" + "\n"


def gamma_table(numeric: dict) -> str:
    """Monte Carlo Gamma (with SEs) beside the exact Gamma* at the same n, s2, entry by entry."""
    exact = (numeric or {}).get("exact") or {}
    gamma, se, ref = numeric.get("gamma"), numeric.get("gamma_se"), exact.get("gamma")
    if not gamma or not ref:
        return ""
    rows = []
    for i, row in enumerate(gamma):
        for j, value in enumerate(row):
            s, r = se[i][j], ref[i][j]
            z = (value - r) / s if s > 0 else float("nan")
            zt = f"${z:.2f}$" if math.isfinite(z) else "--"
            rows.append(f"$\\Gamma_{{{i + 1}{j + 1}}}$ & ${measured_tex(value, s)}$ & ${_exact_num(r)}$ & {zt} \\\\")
    return (r"\begin{tabular}{@{}lrrr@{}}" "\n" r"\toprule" "\n"
            r"entry & Monte Carlo & exact & $z$ \\ \midrule" "\n" + "\n".join(rows) + "\n"
            r"\bottomrule" "\n" r"\end{tabular}" "\n")


def comparison_tex(result) -> str:
    """The Monte Carlo section of a task: the setting, Gamma entries, and every check."""
    num = result.numeric
    checks = [c for c in result.checks if c.kind == "numeric"]
    exact_checks = [c for c in result.checks if c.kind != "numeric"]
    out = []
    if num:
        out.append(rf"\noindent Monte Carlo: {num['samples']} prompts at $n = {num['n']}$, "
                   rf"$\sigma^2 = {escape(num['noise'])}$ (seconds: {num['seconds']:.1f}); "
                   r"standard errors from 30 jackknife groups or batch means, tolerances for a "
                   r"false-alarm probability of $10^{-4}$ per check (Student $t$, 29 degrees of freedom)."
                   r"\par\medskip")
        table = gamma_table(num)
        if table:
            # \par: the two tables are stacked, not set side by side in one paragraph
            out.append(r"\noindent" + "\n" + table + r"\par\medskip")
    if checks:
        out.append(r"\noindent" + "\n" + checks_table(checks))
    if exact_checks:
        items = "".join(rf"\item \texttt{{{escape(c.id)}}} ({STATUS[c.status]}): {escape(c.detail)}" "\n"
                        for c in exact_checks)
        out.append(r"\paragraph{Exact checks.}" "\n" r"\begin{itemize}\raggedright" "\n" + items + r"\end{itemize}")
    return "\n".join(out) + "\n"
