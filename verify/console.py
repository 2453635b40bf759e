"""Console output: progress lines while running (stderr) and the final table (stdout)."""

from __future__ import annotations

import sys
import threading
import time

from .stats import measured  # noqa: F401 (re-exported: the console's number format)


def progress_line(done: int, total: int, result, seconds: float, stream=sys.stderr):
    status = result.status.upper()
    stream.write(f"[{done:>2}/{total}] {result.spec.name:<44} {status:<4} {seconds:6.1f} s\n")
    stream.flush()


def announce_long(costs, threshold: float = 60.0, stream=sys.stderr):
    """Before the run: one line per task whose estimated cost exceeds ``threshold`` seconds."""
    for cost in costs:
        if cost.seconds > threshold:
            stream.write(f"note: task {cost.spec.name} is estimated to take about {cost.seconds / 60:.1f} min "
                         f"(exact {cost.exact_seconds:.0f} s, Monte Carlo {cost.numeric_seconds:.0f} s); "
                         "a line every 30 s shows it is still running\n")
    stream.flush()


def heartbeat(running, seconds: float, stream=sys.stderr):
    if running:
        stream.write(f"[{seconds:6.0f} s] still running: {', '.join(running)}\n")
        stream.flush()


class Heartbeat:
    """While a task runs in this process: a 'still running' line every ``every`` seconds."""

    def __init__(self, name: str, every: float, enabled: bool = True, stream=sys.stderr):
        self.name, self.every, self.enabled, self.stream = name, every, enabled, stream
        self._stop = threading.Event()
        self._thread = None

    def _beat(self):
        start = time.perf_counter()
        while not self._stop.wait(self.every):
            heartbeat([self.name], time.perf_counter() - start, self.stream)

    def __enter__(self):
        if self.enabled:
            self._thread = threading.Thread(target=self._beat, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class StageProgress:
    """A long certificate's stages on stderr: ``task: certificate, 3 of 10 stages done, now: ...``.

    Called as ``callback(done, total, title)`` (the ``progress`` hook of ``global_optimum``);
    silent for the first ``after`` seconds, so quick certificates print nothing.
    """

    def __init__(self, name: str, after: float = 5.0, stream=sys.stderr):
        self.name, self.after, self.stream = name, after, stream
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int, title: str):
        elapsed = time.perf_counter() - self.start
        if elapsed >= self.after:
            now = "done" if done == total else f"now: {title}"
            self.stream.write(f"[{elapsed:6.0f} s] {self.name}: certificate, {done} of {total} stages "
                              f"done, {now}\n")
            self.stream.flush()


# --- the answer: Gamma*, eta*, L* and the Monte Carlo estimate --------------------------------

def _cut(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def gamma_cell(symbolic: dict, width: int = 34) -> str:
    """Gamma* compactly: eta* when it is eta I or eta Sigma^-1, else the first row and '...'."""
    form, eta = symbolic.get("form"), symbolic.get("eta")
    if eta is not None and form == "gd":
        return _cut(f"eta I, eta = {eta}", width)
    if eta is not None and form == "preconditioned-gd":
        return _cut(f"eta Sigma^-1, eta = {eta}", width)
    rows = symbolic.get("gamma") or []
    if not rows:
        return "-"
    first = "[" + ", ".join(rows[0]) + "]"
    return _cut(f"[{first}{', ...' if len(rows) > 1 else ''}]", width)


def monte_carlo_cell(result, width: int = 40) -> str:
    """The Monte Carlo estimate (eta for gd, else Gamma[1,1]) with its SE, beside the exact value
    at the same n, s2."""
    num = result.numeric
    if not num:
        na = [c for c in result.checks if c.status == "n/a" and c.id == "numerics"]
        return "n/a" if na else "-"
    exact = num.get("exact") or {}
    if result.symbolic.get("form") == "gd":
        text, ref = f"eta {measured(num['eta'], num['eta_se'])}", exact.get("eta")
    else:
        text = f"G11 {measured(num['gamma'][0][0], num['gamma_se'][0][0])}"
        ref = exact["gamma"][0][0] if exact.get("gamma") else None
    if ref is not None:
        text += f" (exact {ref:.4g})"
    return _cut(text, width)


def matrix_lines(rows, indent: str = "  ") -> list:
    """A matrix of strings as aligned rows between brackets."""
    widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
    return [indent + "[ " + "  ".join(x.rjust(w) for x, w in zip(r, widths, strict=True)) + " ]" for r in rows]


def answer(result, latex: bool = False) -> str:
    """The full answer for one task (``python -m verify.optimum``): Gamma*, eta*, L*, verdicts."""
    sym, spec = result.symbolic, result.spec
    lines = [f"task {spec.name}: {spec.task.describe() if spec.task is not None else spec.description}"]
    if latex:
        lines += latex_lines(result)
    else:
        form = sym.get("form", "general")
        eta = sym.get("eta")
        if form == "gd" and eta is not None:
            lines.append("Gamma* = eta* I   (one step of gradient descent)")
            lines.append(f"eta*   = {eta}")
            if sym.get("preconditioned_eta"):
                lines.append(f"         equally Gamma* = eta' Sigma^-1 with eta' = {sym['preconditioned_eta']} "
                             "(Sigma is a multiple of I)")
        elif form == "preconditioned-gd" and eta is not None:
            lines.append("Gamma* = eta* Sigma^-1   (one step of preconditioned gradient descent)")
            lines.append(f"eta*   = {eta}")
        if sym.get("gamma") and not (form == "gd" and eta is not None):
            lines.append("Gamma* =" + ("" if form == "general" else "   (entries)"))
            lines += matrix_lines(sym["gamma"])
        lines.append(f"L*     = {sym.get('loss') or '-'}")
    lines.append(f"strength: {sym.get('strength', '-')}; in the averaging convention "
                 "yhat = x_q^T Gamma* g, g = (1/n) sum_i y_i x_i")
    num = result.numeric
    if num:
        if sym.get("form") == "gd":
            lines.append(f"Monte Carlo (n = {num['n']}, s2 = {num['noise']}, {num['samples']} prompts): "
                         f"eta = {measured(num['eta'], num['eta_se'])}")
        else:
            rows = [[measured(v, e) for v, e in zip(r, re, strict=True)]
                    for r, re in zip(num["gamma"], num["gamma_se"], strict=True)]
            lines.append(f"Monte Carlo Gamma (n = {num['n']}, s2 = {num['noise']}, {num['samples']} prompts):")
            lines += matrix_lines(rows)
    for c in result.checks:
        mark = {"pass": "ok", "fail": "FAILED", "n/a": "n/a", "error": "ERROR"}[c.status]
        lines.append(f"  [{mark}] {c.id}: {c.detail}")
    lines.append(f"status: {result.status}")
    return "\n".join(lines)


def latex_lines(result) -> list:
    """Gamma*, eta*, L* as LaTeX (SymPy's printer, the project's symbol names)."""
    import sympy as sp

    from derivations.printing import latex as tex

    exact = result.exact
    out = []

    gamma = getattr(exact, "gamma", None)
    eta = getattr(exact, "eta", None)
    loss = getattr(exact, "loss", None)
    form = result.symbolic.get("form")
    if isinstance(eta, sp.Basic) and form in ("gd", "preconditioned-gd"):
        base = "I" if form == "gd" else r"\Sigma^{-1}"
        out.append(rf"\Gamma^\star = \eta^\star {base}, \qquad \eta^\star = {tex(eta)}")
    if isinstance(gamma, sp.MatrixBase) and form != "gd":
        out.append(r"\Gamma^\star = " + tex(gamma))
    if isinstance(loss, sp.Basic):
        out.append(r"L^\star = " + tex(loss))
    return out or ["(no exact closed form to print)"]


def table(results) -> str:
    """The summary: per task the exact answer, L*, the Monte Carlo estimate and the verdict."""
    head = (f"{'task':<36} {'Gamma* (exact)':<34} {'L* (exact)':<26} {'Monte Carlo vs exact, at its n and s2':<40} "
            f"{'strength':<20} status")
    rows = [head, "-" * len(head)]
    for r in results:
        sym = r.symbolic or {}
        role = " (control)" if r.spec.role == "control" else ""
        applicable = [c for c in r.checks if c.status != "n/a"]
        passed = sum(c.passed for c in applicable)
        status = f"{r.status}{role} {passed}/{len(applicable)}"
        rows.append(f"{_cut(r.spec.name, 36):<36} {gamma_cell(sym):<34} {_cut(sym.get('loss') or '-', 26):<26} "
                    f"{monte_carlo_cell(r):<40} {_cut(str(sym.get('strength', '-')), 20):<20} {status}")
        for c in r.checks:
            if c.status == "n/a":
                rows.append(f"    n/a {c.id}: {c.detail}")
            elif not c.passed:
                rows.append(f"    {'ERROR' if c.status == 'error' else 'FAILED'} {c.id}: {c.detail}")
    return "\n".join(rows)
