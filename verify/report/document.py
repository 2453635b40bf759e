r"""The report of a run: per-task ``\input``-able files and one combined document, built once.

``write_reports(results, DIR)`` writes, per task, ``DIR/<task dir>/``:
``steps.tex`` (the checked derivation, ``\input``-able in a paper), ``comparison.tex`` (Monte
Carlo against exact), ``task.tex`` (the task's section: verdict, distribution, answer, proof,
checks, figures) and the figures (``gamma``, ``eta_n``, ``convergence`` as PDF); and
``DIR/onestep.tex``: a summary table of every task followed by one section per task, built to
``DIR/onestep.pdf`` by one latexmk run (``-interaction=nonstopmode -halt-on-error``). The log is
checked: errors, undefined references, overfull/underfull boxes and LaTeX warnings are returned
as problems. Figures are drawn in two worker processes.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from derivations.printing import escape, latex

from ..answer import answer_of
from ..io import write_atomic
from ..spec import report_dir_name
from .comparison import comparison_tex
from .derivation import slug
from .figures import figure_data, make_figures
from .task import certificate_of, steps_tex, task_tex

LATEXMK = ("latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error")
BUILD_TIMEOUT = 300
DOCUMENT = "onestep"
NO_LATEXMK = (
    "latexmk was not found on PATH, so onestep.pdf was not built. The LaTeX sources are complete:\n"
    "build them with\n\n    latexmk -pdf onestep.tex\n\n(or run pdflatex onestep.tex twice). On "
    "Debian/Ubuntu: apt-get install latexmk texlive-latex-base texlive-latex-recommended.\n"
)

PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{booktabs,longtable,array}
\usepackage{graphicx}
\usepackage[hidelinks]{hyperref}
\setlength{\parindent}{0pt}
\allowdisplaybreaks
\emergencystretch=2em
"""


def have_latexmk() -> bool:
    return shutil.which("latexmk") is not None


def dir_name(name: str) -> str:
    """The task's report directory (see :func:`verify.spec.report_dir_name`)."""
    return report_dir_name(name)


# --- the combined document ---------------------------------------------------------------------

def _short_math(expr, limit: int = 28) -> str | None:
    from derivations.notation.latex import visible_width

    tex = latex(expr)
    return f"${tex}$" if visible_width(tex) <= limit else None


def _leading_digits(decimal: str, keep: int = 14) -> str:
    """The first ``keep`` characters of a correct-digits decimal, then an ellipsis (a truncation
    of correct digits is still correct; the section gives all of them)."""
    mantissa, e, exponent = decimal.partition("e")
    if len(mantissa) <= keep:
        return decimal
    return mantissa[:keep] + r"\ldots" + (rf"\times 10^{{{int(exponent)}}}" if e else "")


def _answer_cell(result) -> str:
    a = answer_of(result)
    ref = rf"(\S\ref{{sec:{slug(result.spec.name)}}})"
    if a.eta is not None and a.form in ("gd", "preconditioned-gd"):
        base = "I" if a.form == "gd" else r"\Sigma^{-1}"
        short = _short_math(a.eta)
        return (rf"$\eta^\star {base}$, $\eta^\star =$ {short}" if short else rf"$\eta^\star {base}$ {ref}")
    if a.eta_enclosure:
        return rf"$\eta^\star I$, $\eta^\star \approx {_leading_digits(a.eta_digits)}$"
    if a.gamma is not None:
        return f"general {ref}"
    return "--"


def _loss_cell(result) -> str:
    a = answer_of(result)
    if a.loss is not None:
        return _short_math(a.loss) or rf"(\S\ref{{sec:{slug(result.spec.name)}}})"
    if a.loss_digits:
        return f"${_leading_digits(a.loss_digits)}$"
    return "--"


def _monte_carlo_cell(result) -> str:
    numeric = [c for c in result.checks if c.kind == "numeric"]
    if not numeric:
        return "--"
    if all(c.status == "n/a" for c in numeric):
        return "n/a"
    zs = [abs(c.z) for c in numeric if c.z is not None and c.status != "n/a"]
    worst = f", $|z| \\le {max(zs):.1f}$" if zs else ""
    agree = sum(c.passed for c in numeric)
    return f"{agree}/{len(numeric)}{worst}"


def _breakable_tt(text: str) -> str:
    """Typewriter text that may break after '-' and '+' (tt fonts never hyphenate)."""
    return r"\texttt{" + escape(text).replace("-", r"-\allowbreak{}").replace("+", r"+\allowbreak{}") + "}"


def summary_table(results) -> str:
    rows = []
    for r in results:
        status = {"pass": "pass", "fail": r"\textbf{FAIL}", "error": r"\textbf{ERROR}", "n/a": "n/a"}[r.status]
        if r.spec.role == "control":
            status += r" \newline control"
        rows.append(rf"\hyperref[sec:{slug(r.spec.name)}]{{{_breakable_tt(r.spec.name)}}} & "
                    f"{_answer_cell(r)} & {_loss_cell(r)} & {_breakable_tt(r.symbolic.get('strength', ''))} & "
                    f"{_monte_carlo_cell(r)} & {status} \\\\")
    return (r"{\small\setlength{\tabcolsep}{3pt}"
            r"\begin{longtable}{@{}>{\raggedright}p{3.5cm}>{\raggedright}p{4.2cm}>{\raggedright}p{3.0cm}"
            r">{\raggedright}p{2.0cm}>{\raggedright}p{1.9cm}p{1.2cm}@{}}" "\n"
            r"\toprule task & $\Gamma^\star$ & $L^\star$ & strength & Monte Carlo & status \\ \midrule\endhead" "\n"
            + "\n".join(rows) + "\n" r"\bottomrule\end{longtable}}" "\n")


def document_tex(results, directories: dict, seed: int) -> str:
    passed = sum(r.status == "pass" for r in results)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    intro = (r"\noindent Machine-checked verification of Mahankali, Hashimoto and Ma (arXiv 2307.03576): "
             r"the one-layer linear self-attention that minimises the pre-training loss implements one step "
             r"of (preconditioned) gradient descent. Each task is checked exactly (a certificate of the "
             r"optimum, every step printed below) and, where it applies, by an independent Monte Carlo "
             r"minimisation (each check with its $z$-score and tolerance). A claim passes when it is "
             r"proved exactly and Monte Carlo agrees; a task without a claim (an exploration) passes when "
             r"its exact side is certified and Monte Carlo agrees; a negative control passes only when "
             r"every check refutes its false claim. Step sizes use the averaging convention "
             r"$\hat y = x_q^\top \Gamma g$, $g = \frac{1}{n}\sum_i y_i x_i$ (the paper sums over the "
             r"context: $\eta_{\mathrm{paper}} = \eta/n$)." "\n\n"
             rf"\noindent {passed} of {len(results)} tasks pass; Monte Carlo seed {seed}; {escape(machine)}.")
    body = [PREAMBLE, r"\title{onestep: machine-checked report}", r"\author{}", r"\date{}",
            r"\begin{document}",
            r"\maketitle", intro, r"\section*{Summary}", summary_table(results), r"\clearpage"]
    body += [rf"\input{{{directories[r.spec.name]}/task}}" for r in results]
    body.append(r"\end{document}")
    return "\n".join(body) + "\n"


# --- building ------------------------------------------------------------------------------------

_WARNING = re.compile(r"^(LaTeX|pdfTeX|(Package|Class) \S+) (Font )?Warning")


def log_problems(log_text: str) -> list[str]:
    """Errors, undefined references, missing files, overfull/underfull boxes and warnings."""
    problems = []
    for line in log_text.splitlines():
        low = line.lower()
        if (line.startswith("! ") or "undefined" in low or ("file" in low and "not found" in low)
                or line.startswith(("Overfull", "Underfull")) or _WARNING.search(line)):
            problems.append(line.strip())
    return problems


def compile_tex(directory, name: str = DOCUMENT, clean: bool = True) -> dict:
    """latexmk -pdf in ``directory``; returns ok, seconds, pdf path, problems (log lines)."""
    directory = Path(directory)
    start = time.perf_counter()
    if not have_latexmk():
        return {"ok": False, "skipped": True, "seconds": 0.0, "pdf": None, "problems": ["latexmk not found"]}
    env = dict(os.environ, max_print_line="1000")
    try:
        proc = subprocess.run([*LATEXMK, f"{name}.tex"], cwd=directory, capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT, env=env, stdin=subprocess.DEVNULL)
        returncode = proc.returncode
    except subprocess.TimeoutExpired:
        returncode = -1
    log = directory / f"{name}.log"
    problems = log_problems(log.read_text(encoding="latin-1")) if log.exists() else ["no log written"]
    pdf = directory / f"{name}.pdf"
    ok = returncode == 0 and pdf.exists()
    if returncode == -1:
        problems.insert(0, f"latexmk timed out after {BUILD_TIMEOUT} s")
    if clean and ok:
        for junk in directory.glob(f"{name}.*"):
            if junk.suffix in (".fls", ".fdb_latexmk", ".aux", ".out", ".toc"):
                junk.unlink(missing_ok=True)
    return {"ok": ok, "skipped": False, "seconds": time.perf_counter() - start,
            "pdf": str(pdf) if ok else None, "problems": problems}


def _init_worker():
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass


def _figures_job(data: dict, directory: str) -> dict:
    return make_figures(data, directory)


def write_reports(results, out_dir, seed: int = 0, progress: bool = True, build: bool = True,
                  workers: int = 2) -> dict:
    """Write every task's files and onestep.tex, build onestep.pdf; a summary dict."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    directories = {r.spec.name: dir_name(r.spec.name) for r in results}
    errors = {}
    for r in results:
        d = out / directories[r.spec.name]
        d.mkdir(parents=True, exist_ok=True)
        try:
            if certificate_of(r.exact) is not None:
                write_atomic(d / "steps.tex", steps_tex(r))
            write_atomic(d / "comparison.tex", comparison_tex(r))
        except Exception as err:  # noqa: BLE001 - reported, never a silent blank report
            errors[r.spec.name] = f"{type(err).__name__}: {err}"
    jobs = [(r, figure_data(r, seed=seed)) for r in results]
    figures = {}
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker) as pool:
        futures = {r.spec.name: pool.submit(_figures_job, data, str(out / directories[r.spec.name]))
                   for r, data in jobs}
        for name, fut in futures.items():
            made = fut.result()
            figures[name] = {stem: files for stem, files in made["files"].items()}
            errors.update({f"{name} ({stem})": e for stem, e in made["errors"].items()})
    for r in results:
        d = out / directories[r.spec.name]
        files = {stem: set(f) for stem, f in figures.get(r.spec.name, {}).items()}
        write_atomic(d / "task.tex", task_tex(r, directories[r.spec.name], files))
    write_atomic(out / f"{DOCUMENT}.tex", document_tex(results, directories, seed))
    readme = out / "README.txt"
    built = None
    if build and have_latexmk():
        built = compile_tex(out)
        readme.unlink(missing_ok=True)
    elif build:
        write_atomic(readme, NO_LATEXMK)
    summary = {"seconds": time.perf_counter() - start, "errors": errors, "build": built,
               "document": str(out / f"{DOCUMENT}.tex")}
    if progress:
        _report_line(summary, out)
    return summary


def _report_line(summary, out):
    built = summary["build"]
    if built is None:
        line = f"reports: LaTeX sources in {out}/ (latexmk not found; see README.txt)"
    elif built["ok"]:
        line = f"reports: {built['pdf']} ({summary['seconds']:.1f} s)"
        if built["problems"]:
            line += f"; {len(built['problems'])} LaTeX warnings, first: {built['problems'][0]}"
    else:
        line = f"reports: the PDF build FAILED: {(built['problems'] or ['see onestep.log'])[0]}"
    if summary["errors"]:
        first = next(iter(summary["errors"].items()))
        line += f"; {len(summary['errors'])} report errors, first: {first[0]}: {first[1]}"
    print(line, file=sys.stderr)
