"""Figures (matplotlib, Agg; vector PDF): Gamma heatmaps, eta*(n), convergence.

:func:`figure_data` turns a TaskResult into plain data (floats, lists, a NumericTask per extra
context length) in the parent process; :func:`make_figures` draws from that data alone, so it
can run in a worker process. Extra Monte Carlo points for eta*(n) are fitted here with
``numerics.minimise`` (only for "gd"/"preconditioned-gd" tasks with d <= 2 and symbolic n).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import sympy as sp

from ..answer import answer_of

#: context lengths of the extra Monte Carlo points on the eta*(n) figure
EXTRA_N = (2, 5, 20)
EXTRA_SAMPLES = 20_000
FIGURES = ("gamma", "eta_n", "convergence")


def _eta_transform(form: str, sigma: np.ndarray | None, d: int):
    """The linear map Gamma -> eta used on the eta*(n) figure, and its name."""
    if form == "preconditioned-gd" and sigma is not None:
        return sigma.T / d, "tr(ΣΓ)/d"
    return np.eye(d) / d, "tr(Γ)/d"


def _eta_from_gamma(weights: np.ndarray, gamma, gamma_se):
    g, s = np.asarray(gamma, float), np.asarray(gamma_se, float)
    value = float(np.sum(weights * g))
    se = float(np.sqrt(np.sum((weights * s) ** 2)))  # entries treated as independent
    return value, se


def _plain(expr) -> str:
    """An expression as plain Unicode text for a figure legend (mathtext is slow to lay out)."""
    text = sp.sstr(expr).replace("**", "^").replace("*", "·")
    return text.replace("s2", "σ²")


def figure_data(result, seed: int = 0, extra_points: bool = True) -> dict:
    """Plain data for :func:`make_figures` (no SymPy objects)."""
    from derivations import symbols

    from ..runner import task_seed

    spec = result.spec
    fit = getattr(result, "fit", None)
    data = {"name": spec.name, "gamma": None, "eta_n": None, "convergence": None}
    task = spec.task
    if task is None:
        return data
    ans = answer_of(result)
    form, gamma, loss = ans.form, ans.gamma, ans.loss
    numeric_sigma = not (task.Sigma.free_symbols or task.Omega.free_symbols)
    sigma = np.array(task.Sigma.tolist(), dtype=float) if numeric_sigma else None
    n_num, s2_num = spec.numeric_values()
    d = task.d

    gamma_exact = None
    if isinstance(gamma, sp.MatrixBase):
        try:
            at = spec.at_numeric_values(gamma)
            if all(x.is_number for x in at):
                gamma_exact = np.array(at.tolist(), dtype=float)
        except Exception:  # noqa: BLE001
            gamma_exact = None
    loss_exact = None
    if isinstance(loss, sp.Expr):
        value = spec.at_numeric_values(loss)
        loss_exact = float(value) if value.is_number else None

    weights, eta_name = _eta_transform(form, sigma, d)
    if fit is not None and gamma_exact is not None:
        data["gamma"] = {
            "estimate": np.asarray(fit.gamma, float).tolist(),
            "se": np.asarray(fit.gamma_se, float).tolist(),
            "exact": gamma_exact.tolist(),
            "n": int(n_num),
            "noise": str(s2_num),
            "samples": int(fit.samples),
        }

    # eta*(n): exact curve from the symbolic eta when it depends on n
    eta_expr = ans.eta
    if (
        eta_expr is not None
        and isinstance(eta_expr, sp.Expr)
        and symbols.n in eta_expr.free_symbols
        and eta_expr.free_symbols <= {symbols.n, symbols.s2}
        and form in ("gd", "preconditioned-gd")
    ):
        f = sp.lambdify(symbols.n, eta_expr.xreplace({symbols.s2: s2_num}), "numpy")
        ns = np.unique(np.round(np.geomspace(1, 200, 120)))
        curve = [float(f(k)) for k in ns]
        points = []
        if fit is not None:
            value, se = (
                (float(fit.eta), float(fit.eta_se))
                if form == "gd"
                else _eta_from_gamma(weights, fit.gamma, fit.gamma_se)
            )
            points.append({"n": int(n_num), "eta": value, "se": se, "source": "task fit"})
        extra = []
        if (
            extra_points
            and fit is not None
            and spec.role == "claim"
            and d <= 2
            and task.n_symbolic
            and numeric_sigma
            and task.is_linear
            and not spec.control.get("parameterisation")
        ):
            from ..numeric import numeric_task

            for k in EXTRA_N:
                if k != int(n_num):
                    extra.append(
                        {
                            "n": k,
                            "task": numeric_task(task, k, s2_num),
                            "seed": task_seed(seed, f"{spec.name}/eta-n/{k}"),
                        }
                    )
        data["eta_n"] = {
            "ns": ns.tolist(),
            "curve": curve,
            "points": points,
            "extra": extra,
            "weights": weights.tolist(),
            "form": form,
            "noise": str(s2_num),
            "eta_name": eta_name,
            "text": _plain(eta_expr),
        }

    history = list(getattr(fit, "history", None) or []) if fit is not None else []
    if history:
        data["convergence"] = {
            "samples": [float(h.get("samples", np.nan)) for h in history],
            "eta": [float(h.get("eta", np.nan)) for h in history],
            "lifted_eta": [float(h.get("lifted_eta", np.nan)) for h in history],
            "loss": [float(h.get("loss", np.nan)) for h in history],
            "eta_exact": None if gamma_exact is None else float(np.trace(gamma_exact) / d),
            "loss_exact": loss_exact,
            "eta_se": float(fit.eta_se),
            "loss_se": float(fit.loss_se),
        }
    return data


# --- drawing -------------------------------------------------------------------------------------


#: the report's figures are included as vector PDF only (a PNG of each doubled the drawing time
#: of the whole report); the stand-alone figures (weights, shift) keep a PNG for viewing
REPORT_FORMATS = ("pdf",)


def _save(fig, directory: Path, stem: str, formats=("pdf", "png")) -> list[str]:
    written = []
    for ext in formats:
        target = directory / f"{stem}.{ext}"
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{stem}.", suffix=f".{ext}")
        os.close(fd)
        try:
            fig.savefig(tmp, format=ext, dpi=110 if ext == "png" else None)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        written.append(target.name)
    return written


def _log_x(ax):
    """A log x axis with ticks at 1, 2, 5 x 10^k labelled in plain numbers (a single decade
    would otherwise carry one label; mathtext labels are slow to lay out)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _gamma_figure(plt, g: dict, directory: Path) -> list[str]:
    est, se, ex = (np.asarray(g[k], float) for k in ("estimate", "se", "exact"))
    d = est.shape[0]
    lo, hi = float(min(est.min(), ex.min())), float(max(est.max(), ex.max()))
    pad = 0.05 * (hi - lo or 1.0)
    size = 1.1 + 0.9 * d
    fig = plt.figure(figsize=(2 * size + 0.9, size + 0.5))
    grid = fig.add_gridspec(
        1, 3, width_ratios=[1, 1, 0.07], left=0.07, right=0.9, bottom=0.1, top=0.84, wspace=0.25
    )
    axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])]
    mid = (lo + hi) / 2
    for ax, mat, title, errs in (
        (axes[0], est, "Monte Carlo Γ", se),
        (axes[1], ex, "exact Γ*", None),
    ):
        im = ax.imshow(mat, cmap="viridis", vmin=lo - pad, vmax=hi + pad)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(d), [str(j + 1) for j in range(d)])
        ax.set_yticks(range(d), [str(i + 1) for i in range(d)])
        for i in range(d):
            for j in range(d):
                label = f"{mat[i, j]:.3f}" + (f"\n±{errs[i, j]:.3f}" if errs is not None else "")
                ax.text(
                    j,
                    i,
                    label,
                    ha="center",
                    va="center",
                    fontsize=8 if d <= 3 else 6,
                    color="white" if mat[i, j] < mid else "black",
                )
    fig.colorbar(im, cax=fig.add_subplot(grid[0, 2]))
    fig.suptitle(f"n = {g['n']}, σ² = {g['noise']}, {g['samples']} prompts", fontsize=9)
    out = _save(fig, directory, "gamma", REPORT_FORMATS)
    plt.close(fig)
    return out


def _extra_fits(e: dict) -> list[dict]:
    from numerics import minimise

    weights = np.asarray(e["weights"], float)
    points = []
    for item in e["extra"]:
        res = minimise(
            item["task"],
            samples=EXTRA_SAMPLES,
            seed=item["seed"],
            groups=20,
            restarts=2,
            fresh_samples=0,
            history=False,
            progress=False,
        )
        if e["form"] == "gd":
            value, se = float(res.eta), float(res.eta_se)
        else:
            value, se = _eta_from_gamma(weights, res.gamma, res.gamma_se)
        points.append({"n": item["n"], "eta": value, "se": se, "source": "extra fit"})
    return points


def _eta_figure(plt, e: dict, directory: Path) -> list[str]:
    points = list(e["points"])
    if e["extra"]:
        points += _extra_fits(e)
    # fixed margins (measured to fit the labels): a solved layout costs more than the drawing
    fig, ax = plt.subplots(figsize=(4.8, 3.3))
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.15, top=0.9)
    ax.plot(e["ns"], e["curve"], color="C0", lw=1.5, label=f"exact η*(n) = {e['text']}")
    for source, marker, color in (("task fit", "o", "C3"), ("extra fit", "s", "C1")):
        pts = [p for p in points if p["source"] == source]
        if pts:
            ax.errorbar(
                [p["n"] for p in pts],
                [p["eta"] for p in pts],
                yerr=[2 * p["se"] for p in pts],
                fmt=marker,
                color=color,
                ms=4,
                capsize=3,
                label=f"Monte Carlo ({source}), ±2 SE",
            )
    _log_x(ax)
    ax.set_xlabel("context length n")
    ax.set_ylabel(e["eta_name"])
    ax.set_title(f"step size of the optimal LSA, σ² = {e['noise']}", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    out = _save(fig, directory, "eta_n", REPORT_FORMATS)
    plt.close(fig)
    return out


def _convergence_figure(plt, c: dict, directory: Path) -> list[str]:
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.0))
    fig.subplots_adjust(left=0.09, right=0.99, bottom=0.16, top=0.87, wspace=0.28)
    s = np.asarray(c["samples"], float)
    panels = (
        (axes[0], "eta", "step size tr(Γ)/d of the fit", c["eta_exact"], c["eta_se"]),
        (axes[1], "loss", "in-sample loss of the fit", c["loss_exact"], c["loss_se"]),
    )
    for ax, key, label, exact, se in panels:
        ax.plot(s, c[key], "o-", ms=3, color="C0", label="LSA fit (cumulative samples)")
        if key == "eta" and np.isfinite(c["lifted_eta"]).any():
            ax.plot(
                s, c["lifted_eta"], "x--", ms=3, color="C2", lw=0.8, label="convex-lift optimum"
            )
        if exact is not None:
            ax.axhline(exact, color="C3", lw=1, label="exact")
            ax.axhspan(
                exact - 2 * se,
                exact + 2 * se,
                color="C3",
                alpha=0.12,
                lw=0,
                label="exact ±2 SE (final)",
            )
        _log_x(ax)
        ax.set_xlabel("prompts used")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=6, loc="best", framealpha=0.7)
    fig.suptitle("convergence of the Monte Carlo minimiser", fontsize=10)
    out = _save(fig, directory, "convergence", REPORT_FORMATS)
    plt.close(fig)
    return out


def make_figures(data: dict, directory) -> dict:
    """Draw the figures described by ``data`` into ``directory``; {stem: [files]} plus errors."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory = Path(directory)
    out, errors = {}, {}
    start = time.perf_counter()
    for stem, draw in (
        ("gamma", _gamma_figure),
        ("eta_n", _eta_figure),
        ("convergence", _convergence_figure),
    ):
        if data.get(stem) is None:
            continue
        try:
            out[stem] = draw(plt, data[stem], directory)
        except Exception as err:  # noqa: BLE001 - a figure must not stop the report
            errors[stem] = f"{type(err).__name__}: {err}"
            plt.close("all")
    return {"files": out, "errors": errors, "seconds": time.perf_counter() - start}
