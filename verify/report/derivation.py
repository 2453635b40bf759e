r"""A Derivation (the ordered, checked proof steps of a task) as LaTeX to ``\input`` in a paper.

Every step is typeset from its mathematical objects by the one printer
(:mod:`derivations.printing`): its displayed relations (numbered, labelled
``eq:<prefix>:<step>``), the values the check computed (shown beside the claim, never in place
of it), the claim in words, the justification, how it was checked, and its status. A refuted
or unproved step shows the reason; an assumed one says it was not checked. The file needs only
amsmath and amssymb; its macros are ``\providecommand``\ s, so a paper can redefine them.
"""

from __future__ import annotations

import re

import sympy as sp

from derivations.notation.latex import expression_lines, visible_width
from derivations.notation.tree import Node
from derivations.printing import display_tex, escape, latex, latex_words, value_lines
from derivations.proof import ASSUMED, PROVED, REFUTED, UNPROVED

MACROS = r"""\providecommand{\onestepstatus}[1]{\hfill\textsc{#1}}
\providecommand{\onestepfail}[1]{\hfill\textbf{#1}}
"""

STATUS_TEX = {PROVED: r"\onestepstatus{proved}", ASSUMED: r"\onestepstatus{assumed}",
              REFUTED: r"\onestepfail{REFUTED}", UNPROVED: r"\onestepfail{NOT DECIDED}"}


def slug(text) -> str:
    """A label-safe identifier."""
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower() or "x"


#: a computed value whose left side is at most this wide is shown by value_lines (a matrix too
#: wide for the line entry by entry, a long fraction as numerator over denominator)
SHORT_NAME = 16
#: the visible characters a display line is packed to: below the printers' line width, because
#: their width of a fraction or a transpose is an estimate (long displays overflowed at 70)
DISPLAY_WIDTH = 56


def _lines(rel, computed: bool) -> list:
    """The align body lines of one relation."""
    value = rel.rhs
    if (computed and rel.rel == "=" and isinstance(value, (sp.Basic, sp.MatrixBase))
            and not isinstance(value, Node)):
        name = latex(rel.lhs)
        if visible_width(name) <= SHORT_NAME:
            return value_lines(name, value, DISPLAY_WIDTH)
        lines = display_tex(rel, DISPLAY_WIDTH)
        if max(visible_width(x) for x in lines) > DISPLAY_WIDTH + 10:
            # a long side and a value that cannot be broken between terms (one big fraction):
            # the side on its own line(s), then the value as value_lines shows it
            return expression_lines(rel.lhs, DISPLAY_WIDTH) + value_lines("", value, DISPLAY_WIDTH)
        return lines
    return display_tex(rel, DISPLAY_WIDTH)


def _display(relations, label_prefix: str, key: str, numbered: bool) -> str:
    lines = []
    for k, rel in enumerate(relations):
        body = _lines(rel, computed=not numbered)
        if numbered:
            label = f"eq:{label_prefix}:{slug(key)}" + (f"-{k + 1}" if len(relations) > 1 else "")
            body[-1] += rf" \label{{{label}}}"
            body = [b + r" \notag" for b in body[:-1]] + body[-1:]
        else:
            body = [b + r" \notag" for b in body]
        lines += body
    env = "align"
    return f"\\begin{{{env}}}\n" + " \\\\\n".join(lines) + f"\n\\end{{{env}}}\n"


def step_tex(step, number: int, label_prefix: str) -> str:
    """One step: heading with status, the claim in words, its displays, computed values, why."""
    out = [rf"\par\medskip\noindent\textbf{{Step {number}: {escape(step.title)}.}}"
           + STATUS_TEX[step.status] + r"\par\nopagebreak"]
    if step.statement:
        out.append(r"\noindent " + latex_words(step.statement) + r"\par")
    if step.display:
        out.append(_display(step.display, label_prefix, step.key, numbered=True))
    if step.computed:
        label = "Counterexample" if step.data.get("counterexample") else "Computed"
        out.append(r"\noindent\emph{" + label + ":}")
        out.append(_display(step.computed, label_prefix, step.key, numbered=False))
    if step.status == REFUTED and step.computed and step.data.get("counterexample"):
        # the detail repeats the displayed counterexample as text
        out.append(r"\noindent\textbf{At the values shown the two sides differ.}\par")
    elif step.status in (REFUTED, UNPROVED) and step.detail:
        reason = "Counterexample / reason" if step.status == REFUTED else "Why it is not decided"
        out.append(rf"\noindent\textbf{{{reason}:}} " + latex_words(step.detail) + r"\par")
    notes = []
    if step.justification:
        label = "Assumed; rests on" if step.status == ASSUMED else "Justification"
        notes.append(rf"\emph{{{label}.}} " + latex_words(step.justification))
    if step.method and step.status != ASSUMED:
        notes.append(r"\emph{Checked by.} " + latex_words(step.method))
    if notes:
        out.append(r"{\small\noindent " + " ".join(notes) + r"\par}")
    return "\n".join(out) + "\n"


def derivation_tex(derivation, label_prefix: str, heading: str | None = None) -> str:
    """The whole derivation (\\input-able): a verdict line, then every step."""
    steps = list(derivation.steps)
    counts = {s: sum(x.status == s for x in steps) for s in (PROVED, ASSUMED, REFUTED, UNPROVED)}
    out = [f"% onestep derivation ({label_prefix}); \\input this file; needs amsmath, amssymb", MACROS]
    if heading:
        out.append(r"\noindent " + latex_words(heading) + r"\par")
    verdict = (f"All {len(steps)} steps are proved." if counts[PROVED] == len(steps) else
               f"{counts[PROVED]} of {len(steps)} steps are proved"
               + (f", {counts[ASSUMED]} assumed (not checked)" if counts[ASSUMED] else "")
               + (f", {counts[REFUTED]} REFUTED" if counts[REFUTED] else "")
               + (f", {counts[UNPROVED]} NOT DECIDED" if counts[UNPROVED] else "") + ".")
    if counts[REFUTED] or counts[UNPROVED]:
        verdict += " The argument does not go through as stated."
    out.append(r"\noindent\emph{" + verdict + r"}\par")
    out += [step_tex(step, i, label_prefix) for i, step in enumerate(steps, start=1)]
    return "\n".join(out)
