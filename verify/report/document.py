"""report.tex per task, index.tex for the run, and the latexmk build.

:func:`write_reports` is the entry point used by ``python -m verify.all``. The LaTeX sources
are written in this process (SymPy -> LaTeX); figures and PDF builds run in two worker
processes, one task at a time each.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from importlib import resources
from pathlib import Path

from ..io import write_atomic
from ..spec import report_dir_name
from . import latex as L
from .comparison import comparison_tex
from .figures import figure_data, make_figures
from .steps import certificate_of, steps_tex

LATEXMK = ("latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error")
BUILD_TIMEOUT = 180
NO_LATEXMK = (
    "latexmk was not found on PATH, so no PDF was built. The LaTeX sources here are "
    "complete: build them with\n\n    latexmk -pdf report.tex\n\n(or run pdflatex report.tex "
    "twice). On Debian/Ubuntu: apt-get install latexmk texlive-latex-base "
    "texlive-latex-recommended.\n"
)

FIGURE_CAPTIONS = {
    "gamma": (
        r"Monte Carlo estimate $\hat\Gamma$ of the optimal LSA's GD block (with standard errors) "
        r"next to the exact $\Gamma^\star$, on the same colour scale."
    ),
    "eta_n": (
        r"The exact optimal step size as a function of the context length $n$, with Monte Carlo "
        r"optima ($\pm 2$ standard errors; the extra points are independent fits "
        r"with 20\,000 prompts)."
    ),
    "convergence": (
        r"Convergence of the Monte Carlo minimiser: the fitted $\operatorname{tr}\hat\Gamma/d$ "
        r"and the in-sample loss as more prompts are used, against the exact values."
    ),
}


def template(name: str = "report_template.tex") -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def have_latexmk() -> bool:
    return shutil.which("latexmk") is not None


def task_status(result) -> str:
    """pass/fail of the checks, plus the certificate's verdict in words."""
    return result.status


def _abstract(result) -> str:
    spec = result.spec
    cert = certificate_of(getattr(result, "exact", None))
    steps = list(getattr(cert, "steps", []) or []) if cert is not None else []
    proved = sum(getattr(s, "status", "") == "proved" for s in steps)
    role = (
        "negative control (a deliberately false claim that must be refuted)"
        if spec.role == "control"
        else "claim"
    )
    lines = [
        r"\noindent\textbf{Task} \texttt{"
        + L.escape(spec.name)
        + "} ("
        + role
        + ")"
        + (": " + L.text(spec.description) if spec.description else "")
        + r".\par",
        rf"\noindent\textbf{{Verdict:}} {proved} of {len(steps)} proof steps proved; "
        + f"{sum(c.passed for c in result.checks)} of {len(result.checks)} checks passed; "
        + r"overall \textbf{"
        + result.status.upper()
        + r"}.\par",
    ]
    return "\n".join(lines)


def _figures_tex(stems) -> str:
    if not stems:
        return ""
    out = [r"\subsection*{Figures}"]
    for stem in stems:
        out.append(
            r"\begin{figure}[htbp]\centering"
            + rf"\IfFileExists{{{stem}.pdf}}{{\includegraphics"
            + r"[width=0.9\linewidth,height=0.32\textheight,"
            + rf"keepaspectratio]{{{stem}.pdf}}}}{{\fbox{{figure {stem}.pdf is missing}}}}"
            + rf"\caption{{{FIGURE_CAPTIONS[stem]}}}\label{{fig:{stem}}}\end{{figure}}"
        )
    return "\n".join(out)


def report_tex(result, stems, seed: int = 0) -> str:
    title = r"Derivation report: \texttt{" + L.escape(result.spec.name) + "}"
    return (
        template()
        .replace("<<TITLE>>", title)
        .replace("<<DATE>>", f"run seed {seed}")
        .replace("<<ABSTRACT>>", _abstract(result))
        .replace("<<FIGURES>>", _figures_tex(stems))
    )


def dir_name(name: str) -> str:
    """The task's report directory (see :func:`verify.spec.report_dir_name`)."""
    return report_dir_name(name)


# --- building ------------------------------------------------------------------------------------


def log_problems(log_text: str) -> list[str]:
    """Errors, undefined references/citations and missing files reported in a LaTeX log."""
    problems = []
    for line in log_text.splitlines():
        low = line.lower()
        if (
            line.startswith("! ")
            or "undefined" in low
            or "there were undefined" in low
            or ("file" in low and "not found" in low)
        ):
            problems.append(line.strip())
    return problems


def compile_tex(directory, name: str = "report", clean: bool = True) -> dict:
    """latexmk -pdf in ``directory``; returns ok, seconds, pdf path, problems (log lines)."""
    directory = Path(directory)
    start = time.perf_counter()
    if not have_latexmk():
        return {
            "ok": False,
            "skipped": True,
            "seconds": 0.0,
            "pdf": None,
            "problems": ["latexmk not found"],
        }
    env = dict(os.environ, max_print_line="1000")
    try:
        proc = subprocess.run(
            [*LATEXMK, f"{name}.tex"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        returncode = proc.returncode
    except subprocess.TimeoutExpired:
        returncode = -1
    log = directory / f"{name}.log"
    problems = (
        log_problems(log.read_text(encoding="latin-1")) if log.exists() else ["no log written"]
    )
    pdf = directory / f"{name}.pdf"
    ok = returncode == 0 and pdf.exists()
    if returncode == -1:
        problems.insert(0, f"latexmk timed out after {BUILD_TIMEOUT} s")
    if clean and ok:
        subprocess.run(
            ["latexmk", "-c", f"{name}.tex"],
            cwd=directory,
            capture_output=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        for junk in directory.glob(f"{name}.*"):
            if junk.suffix in (".fls", ".fdb_latexmk", ".aux", ".out", ".log"):
                junk.unlink(missing_ok=True)
    return {
        "ok": ok,
        "skipped": False,
        "seconds": time.perf_counter() - start,
        "pdf": str(pdf) if ok else None,
        "problems": problems,
    }


def _init_worker():
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass


def _task_job(data: dict, directory: str, build: bool, clean: bool) -> dict:
    start = time.perf_counter()
    figs = make_figures(data, directory)
    out = {"figures": figs, "build": None}
    if build:
        out["build"] = compile_tex(directory, "report", clean=clean)
    out["seconds"] = time.perf_counter() - start
    return out


# --- the index -----------------------------------------------------------------------------------


def index_tex(rows, seed: int) -> str:
    body = [
        r"\documentclass[10pt]{article}",
        r"\usepackage[margin=1.8cm]{geometry}",
        r"\usepackage{booktabs}",
        r"\usepackage[hidelinks]{hyperref}",
        r"\begin{document}",
        r"\section*{onestep: derivation reports}",
        rf"Run seed {seed}. One directory per task, each with \texttt{{steps.tex}}, "
        r"\texttt{comparison.tex}, figures and \texttt{report.tex} "
        r"(\texttt{report.pdf} when built). A claim passes when every check holds; "
        r"a negative control passes when the false claim is refuted.",
        r"\begin{center}\small\begin{tabular}{@{}llllrl@{}}\toprule",
        r"task & role & form & proof steps & checks & status \\ \midrule",
    ]
    for r in rows:
        status = (
            r["status"].upper()
            if r["status"] == "pass"
            else r"\textbf{" + r["status"].upper() + "}"
        )
        name = r"\texttt{" + L.escape(r["name"]) + "}"
        if r.get("pdf"):
            name = r"\href{run:" + r["dir"] + "/report.pdf}{" + name + "}"
        body.append(
            f"{name} & {r['role']} & {L.text(r['form'])} & {r['steps']} & {r['checks']} "
            f"& {status} \\\\"
        )
    body += [r"\bottomrule\end{tabular}\end{center}", r"\end{document}"]
    return "\n".join(body) + "\n"


def _index_row(result, directory, build) -> dict:
    cert = certificate_of(getattr(result, "exact", None))
    steps = list(getattr(cert, "steps", []) or []) if cert is not None else []
    proved = sum(getattr(s, "status", "") == "proved" for s in steps)
    return {
        "name": result.spec.name,
        "dir": directory.name,
        "role": result.spec.role,
        "form": str((result.symbolic or {}).get("form", "-")),
        "steps": f"{proved}/{len(steps)} proved" if steps else "--",
        "checks": f"{sum(c.passed for c in result.checks)}/{len(result.checks)}",
        "status": result.status,
        "pdf": bool(build and build.get("ok")),
    }


# --- entry point ---------------------------------------------------------------------------------


def write_reports(
    results,
    outdir,
    seed: int = 0,
    progress: bool = True,
    build: bool | None = None,
    clean: bool = True,
    workers: int = 2,
    extra_points: bool = True,
) -> dict:
    """Write outdir/<task>/{steps.tex, comparison.tex, figures, report.tex[, report.pdf]} and
    outdir/index.tex[, index.pdf].

    build: run latexmk (default: when it is installed; otherwise say so on stderr and in a
    README.txt per directory). clean: remove latexmk's auxiliary files after a good build.
    workers: processes for figures and builds. extra_points: extra Monte Carlo fits for the
    eta*(n) figure. Returns {"tasks": [per-task dicts], "index": build dict, "seconds": float}.
    """
    start = time.perf_counter()
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    latexmk = have_latexmk()
    if build is None:
        build = latexmk
    if build and not latexmk:
        build = False
    if not latexmk and progress is not None:
        print(
            "reports: latexmk not found; wrote LaTeX sources only "
            "(see README.txt in each directory)",
            file=sys.stderr,
        )
    jobs, summary = [], []
    used = set()
    for result in results:
        directory = out / dir_name(result.spec.name)
        used.add(directory.name)
        directory.mkdir(parents=True, exist_ok=True)
        entry = {
            "name": result.spec.name,
            "dir": str(directory),
            "status": result.status,
            "errors": [],
        }
        t0 = time.perf_counter()
        try:
            write_atomic(directory / "steps.tex", steps_tex(result))
        except Exception as err:  # noqa: BLE001 - one task must not stop the others
            entry["errors"].append(f"steps.tex: {type(err).__name__}: {err}")
            write_atomic(
                directory / "steps.tex",
                "% steps could not be rendered: " + L.text(f"{type(err).__name__}: {err}") + "\n",
            )
        try:
            write_atomic(directory / "comparison.tex", comparison_tex(result))
        except Exception as err:  # noqa: BLE001
            entry["errors"].append(f"comparison.tex: {type(err).__name__}: {err}")
            write_atomic(directory / "comparison.tex", "% comparison could not be rendered\n")
        try:
            data = figure_data(result, seed=seed, extra_points=extra_points)
        except Exception as err:  # noqa: BLE001
            entry["errors"].append(f"figures: {type(err).__name__}: {err}")
            data = {"name": result.spec.name}
        stems = [s for s in ("gamma", "eta_n", "convergence") if data.get(s) is not None]
        write_atomic(directory / "report.tex", report_tex(result, stems, seed))
        if not latexmk:
            write_atomic(directory / "README.txt", NO_LATEXMK)
        entry["tex_seconds"] = time.perf_counter() - t0
        entry["figures_planned"] = stems
        summary.append(entry)
        jobs.append((data, str(directory)))

    total = len(jobs)

    def finish(i, res, done):
        entry = summary[i]
        entry.update(
            figures=res["figures"]["files"],
            figure_errors=res["figures"]["errors"],
            build=res["build"],
            job_seconds=res["seconds"],
        )
        if progress:
            b = res["build"]
            pdf = (
                "no TeX build"
                if b is None
                else ("report.pdf" if b["ok"] else "BUILD FAILED: " + "; ".join(b["problems"][:2]))
            )
            nfig = len(res["figures"]["files"])
            errs = entry["errors"] + [f"{k}: {v}" for k, v in res["figures"]["errors"].items()]
            print(
                f"[report {done:>2}/{total}] {entry['name']:<44} {nfig} figures, {pdf} "
                f"({entry['tex_seconds'] + res['seconds']:.1f} s)"
                + (f"  errors: {errs}" if errs else ""),
                file=sys.stderr,
                flush=True,
            )

    if workers > 1 and total > 1:
        # fork: no re-import of the caller's main module (DataLoader-style;
        # torch threads are reset to 1 in the workers)
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        with ProcessPoolExecutor(
            max_workers=min(workers, total), mp_context=ctx, initializer=_init_worker
        ) as pool:
            futures = {
                pool.submit(_task_job, data, d, build, clean): i for i, (data, d) in enumerate(jobs)
            }
            for done, fut in enumerate(as_completed(futures), start=1):
                i = futures[fut]
                try:
                    res = fut.result()
                except Exception as err:  # noqa: BLE001
                    res = {
                        "figures": {"files": {}, "errors": {"job": repr(err)}},
                        "build": None,
                        "seconds": 0.0,
                    }
                finish(i, res, done)
    else:
        _init_worker()
        for i, (data, d) in enumerate(jobs):
            finish(i, _task_job(data, d, build, clean), i + 1)

    rows = [
        _index_row(r, Path(e["dir"]), e.get("build")) for r, e in zip(results, summary, strict=True)
    ]
    write_atomic(out / "index.tex", index_tex(rows, seed))
    index_build = compile_tex(out, "index", clean=clean) if build else None
    if not latexmk:
        write_atomic(out / "README.txt", NO_LATEXMK.replace("report.tex", "index.tex"))
    seconds = time.perf_counter() - start
    if progress:
        built = sum(bool(e.get("build") and e["build"]["ok"]) for e in summary)
        print(
            f"reports: {len(summary)} tasks written to {out}/ ({built} PDFs built) "
            f"in {seconds:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    return {"tasks": summary, "index": index_build, "seconds": seconds}
