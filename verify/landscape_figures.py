"""Figures of the landscape suite: training loss curves against the certified critical levels.

:func:`loss_curves_figure` draws, for one training task, one panel per (initialisation, optimiser):
the EMA of every run's batch loss against the step, coloured by where the run ended (global
minimum, spurious local minimum, saddle, still moving), with horizontal reference lines at the
exact L* and at every certified spurious-minimum and saddle level (from their enclosures). Files
are written atomically as PNG and PDF (matplotlib, Agg).

:func:`write_landscape_outputs` writes ``<report>/landscape/<task>_loss_curves.{png,pdf}`` for the
training tasks and ``<report>/landscape/<task>.json`` (the task's JSON) for every landscape task.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from .io import write_atomic
from .spec import report_dir_name

COLOURS = {"global-min": "#1b7837", "local-min": "#c51b7d", "saddle": "#e08214", "still moving": "#4d4d4d",
           "above L*": "#4d4d4d"}
LABELS = {"global-min": "ended at the global minimum", "local-min": "ended at a spurious local minimum",
          "saddle": "ended at a saddle level", "still moving": "still moving",
          "above L*": "above L* (no certified landscape at this d)"}


def loss_curves_figure(name: str, data: dict, L_star_text: str):
    """A matplotlib Figure of the training runs of one task (see the module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator, NullFormatter

    runs, levels, L_star = data["runs"], data["levels"], data["L_star"]
    panels = sorted({(r["config"]["init"], r["config"]["optimiser"]) for r in runs})
    cols = min(2, len(panels))
    rows = int(np.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 4.2 * rows), squeeze=False, sharey=True)
    finite = [v for r in runs for v in r["loss_ema"] if np.isfinite(v)]
    top = min(max(finite) * 1.25, 4 * L_star) if finite else 2 * L_star
    for ax, (init, opt) in zip(axes.ravel(), panels, strict=False):
        shown = set()
        for r in runs:
            if (r["config"]["init"], r["config"]["optimiser"]) != (init, opt):
                continue
            cls = r["class"]
            ax.plot(r["steps"], r["loss_ema"], color=COLOURS[cls], lw=1.1, alpha=0.85,
                    label=LABELS[cls] if cls not in shown else None)
            shown.add(cls)
        ax.axhline(L_star, color="black", ls="-", lw=1.0, label=f"L* = {L_star_text} (exact)")
        by_kind = {"local-min": [], "saddle": []}
        for lev in levels:
            if lev["certified"] and lev["kind"] in by_kind and sum(lev["loss"]) / 2 <= top:
                by_kind[lev["kind"]].append(sum(lev["loss"]) / 2)
        for kind, values in by_kind.items():
            style = "--" if kind == "local-min" else ":"
            what = "certified spurious local min" if kind == "local-min" else "certified saddle level"
            for j, mid in enumerate(sorted(values)):
                label = f"{what}{'s' if len(values) > 1 else ''} " + ", ".join(f"{v:.6f}" for v in sorted(values)) \
                    if j == 0 else None
                ax.axhline(mid, color=COLOURS[kind], ls=style, lw=0.9, label=label)
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(L_star * 0.9, top)
        ax.set_xlabel("training step (fresh prompts each step)")
        ax.set_ylabel("loss (EMA of the batch loss)")
        cfg = next(r["config"] for r in runs if (r["config"]["init"], r["config"]["optimiser"]) == (init, opt))
        init_text = "small Gaussian" if init == "gaussian" else "Zhang-Frei-Bartlett"
        ax.set_title(f"{init_text} init, {opt.upper()} (lr {cfg['lr']:g}, batch {cfg['batch']})", fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7.5, loc="upper right", framealpha=0.9)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(f"{name}: paper-parameterisation LSA trained by gradient methods, "
                 "with the certified critical levels", fontsize=11)
    fig.tight_layout()
    return fig


def _save(fig, base: Path):
    for ext in ("png", "pdf"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=130)
        write_atomic(base.with_suffix(f".{ext}"), buf.getvalue())


def write_landscape_outputs(results, outdir) -> list:
    """Figures and JSON of the landscape tasks under ``outdir/landscape`` (paths written)."""
    import matplotlib.pyplot as plt

    target = Path(outdir) / "landscape"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for r in results:
        base = target / report_dir_name(r.spec.name)
        path = base.with_suffix(".json")
        write_atomic(path, json.dumps(r.as_json(), indent=1) + "\n")
        written.append(path)
        exact = r.exact if isinstance(r.exact, dict) else {}
        if exact.get("kind") == "training" and exact.get("runs"):
            fig = loss_curves_figure(r.spec.name, exact, str(r.symbolic.get("loss", "")))
            out = target / f"{report_dir_name(r.spec.name)}_loss_curves"
            _save(fig, out)
            plt.close(fig)
            written += [out.with_suffix(".png"), out.with_suffix(".pdf")]
    return written


__all__ = ["loss_curves_figure", "write_landscape_outputs"]
