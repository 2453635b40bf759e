r"""One task's section of the report: verdict, distribution, the answer, the proof, Monte Carlo.

Everything mathematical is printed from objects (the Task's matrices, the exact answer, the
steps' relations) by :mod:`derivations.printing`; words are escaped text.
"""

from __future__ import annotations

import sympy as sp

from derivations.printing import escape, latex, value_lines

from ..answer import answer_of
from .derivation import derivation_tex, slug

FIGURE_CAPTIONS = {
    "gamma": "Monte Carlo estimate of the optimal LSA's preconditioner (with standard errors) next "
             "to the exact one, on one colour scale.",
    "eta_n": "The exact optimal step size as a function of the context length, with Monte Carlo "
             "optima at plus or minus two standard errors.",
    "convergence": "The Monte Carlo minimiser's estimates as more prompts are used, against the "
                   "exact values.",
}


def _matrix_or_identity(m) -> str:
    m = sp.Matrix(m)
    if m == sp.eye(m.rows):
        return f"I_{{{m.rows}}}"
    return latex(m)


def _response_tex(task) -> str:
    resp = task.response
    if resp.family == "linear":
        return r"$y = w^\top x + \varepsilon$"
    if resp.family == "two-layer-relu":
        return (rf"a random two-layer ReLU network of width {resp.width}, $y = \sum_{{j}} a_j "
                r"\operatorname{relu}(v_j^\top x) + \varepsilon$, $a_j \sim N(0, 1)$, $v_j \sim N(0, \Omega)$")
    from derivations.nonlinear.parse import S, parse_expression, parse_link

    if resp.family == "single-index":
        link = parse_link(resp.link)
        return (r"$y = g(w^\top x) + \varepsilon$ with $g(s) = " + latex(link) + "$")
    expr = parse_expression(resp.expr, task.d)
    return r"$y = f(x; w) + \varepsilon$ with $f = " + latex(expr.xreplace({S: sp.Symbol("s")})) + r"$, $s = w^\top x$"


def distribution_tex(task) -> str:
    n = "$n$ symbolic" if task.n_symbolic else f"$n = {latex(task.n)}$"
    s2 = r"$\sigma^2$ symbolic" if task.noise_symbolic else rf"$\sigma^2 = {latex(task.noise)}$"
    variants = [w for w, on in (("the query among the keys", task.query_in_keys),
                                ("a residual connection", task.residual)) if on]
    law = task.covariates
    covariates = (r"covariates $x_i, x_q \sim N(0, \Sigma)$ i.i.d." if law.is_gaussian else
                  r"covariates $x_i, x_q$ i.i.d. with independent coordinates, each "
                  + escape(law.describe().removeprefix("iid ")) + r" (not Gaussian; $\Sigma = sI$)")
    out = [rf"\noindent\textbf{{Distribution.}} $d = {task.d}$, {n}, {s2}; {covariates}, "
           r"task vector $w \sim N(0, \Omega)$, noise "
           r"$\varepsilon \sim N(0, \sigma^2)$; responses " + _response_tex(task) + ".",
           r"\[ \Sigma = " + _matrix_or_identity(task.Sigma) + r", \qquad \Omega = "
           + _matrix_or_identity(task.Omega) + r". \]"]
    if variants:
        out.append(r"\noindent Model variant: " + " and ".join(variants) + r".\par")
    return "\n".join(out) + "\n"


def answer_tex(result) -> str:
    """Gamma*, eta*, L* as displayed mathematics (exact), or as rigorous enclosures."""
    a = answer_of(result)
    lines = []
    if a.form == "gd" and a.eta is not None:
        lines.append(r"\Gamma^\star &= \eta^\star I")
        lines += value_lines(r"\eta^\star", a.eta)
        sigma = result.spec.task.Sigma if result.spec.task is not None else None
        if a.preconditioned_eta is not None and sigma is not None and sigma != sp.eye(sigma.rows):
            # Sigma = c I with c != 1: the same matrix in Theorem 2's shape
            lines.append(r"\text{equally}\quad \Gamma^\star &= \eta' \Sigma^{-1}")
            lines += value_lines(r"\eta'", a.preconditioned_eta)
    elif a.form == "preconditioned-gd" and a.eta is not None:
        lines.append(r"\Gamma^\star &= \eta^\star \Sigma^{-1}")
        lines += value_lines(r"\eta^\star", a.eta)
    elif isinstance(a.gamma, (sp.MatrixBase, sp.MatrixExpr)):
        lines += value_lines(r"\Gamma^\star", a.gamma)
    if a.eta_enclosure:
        lines.append(r"\Gamma^\star &= \eta^\star I")
        lines.append(rf"\eta^\star &\in [{a.eta_enclosure[0]},\ {a.eta_enclosure[1]}]")
    if a.loss is not None:
        lines += value_lines(r"L^\star", a.loss)
    elif a.loss_enclosure:
        lines.append(rf"L^\star &\in [{a.loss_enclosure[0]},\ {a.loss_enclosure[1]}]")
    if not lines:
        return r"\noindent\textbf{Answer.} No exact optimum is available for this task.\par" + "\n"
    kind = ("rigorous enclosures (interval endpoints rounded outward)" if a.eta_enclosure
            else "exact")
    return (rf"\noindent\textbf{{Answer}} ({kind}; strength \texttt{{{escape(a.strength)}}}), in the averaging "
            r"convention $\hat y = x_q^\top \Gamma g$, $g = \frac{1}{n}\sum_{i} y_i x_i$:" "\n"
            r"\begin{align*}" "\n" + " \\\\\n".join(lines) + "\n" r"\end{align*}" "\n")


def verdict_tex(result) -> str:
    applicable = [c for c in result.checks if c.status != "n/a"]
    passed = sum(c.passed for c in applicable)
    na = len(result.checks) - len(applicable)
    role = ("a negative control: it passes only when every check refutes its false claim"
            if result.spec.role == "control" else
            "a claim" if result.spec.claim is not None or not result.spec.user else
            "an exploration (no claim): it passes when the exact side is certified and Monte Carlo agrees")
    status = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "n/a": "NOT APPLICABLE"}[result.status]
    return (rf"\noindent\textbf{{Verdict: {status}.}} {passed} of {len(applicable)} checks passed"
            + (f", {na} not applicable" if na else "") + f". This task is {escape(role)}.\\par\n")


def certificate_of(exact):
    """The Derivation of an exact result (its certificate, or the derivation itself)."""
    if exact is None:
        return None
    cert = getattr(exact, "certificate", None)
    if cert is not None:
        return cert
    if hasattr(exact, "steps"):
        return exact
    derivation = getattr(exact, "derivation", None)
    return derivation


def task_tex(result, directory: str, figures: dict) -> str:
    """The \\section of one task; ``directory`` is the task's directory relative to the document."""
    spec = result.spec
    label = slug(spec.name)
    name = escape(spec.name)
    out = [rf"\section{{\texorpdfstring{{\texttt{{{name}}}}}{{{name}}}}}\label{{sec:{label}}}"]
    if spec.description:
        out.append(r"\noindent " + escape(spec.description) + r"\par\smallskip")
    out.append(verdict_tex(result))
    if spec.task is not None:
        out.append(distribution_tex(spec.task))
    out.append(answer_tex(result))
    if certificate_of(result.exact) is not None:
        out.append(r"\subsection*{Proof}" "\n" rf"\input{{{directory}/steps}}")
    out.append(r"\subsection*{Checks}" "\n" rf"\input{{{directory}/comparison}}")
    for stem, files in (figures or {}).items():
        if f"{stem}.pdf" in files:
            out.append(r"\begin{figure}[htbp]\centering" "\n"
                       rf"\includegraphics[width=0.85\linewidth]{{{directory}/{stem}.pdf}}" "\n"
                       rf"\caption{{\texttt{{{escape(spec.name)}}}: {escape(FIGURE_CAPTIONS[stem])}}}" "\n"
                       r"\end{figure}")
    out.append(r"\clearpage")
    return "\n".join(out) + "\n"


def steps_tex(result) -> str:
    cert = certificate_of(result.exact)
    return derivation_tex(cert, slug(result.spec.name), heading=getattr(cert, "title", None))
