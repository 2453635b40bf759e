"""LaTeX-ready reports (``python -m verify.all --report DIR``).

Per task, ``DIR/<task>/`` holds ``steps.tex`` (the checked derivation, every step typeset from
its mathematical objects; ``\\input``-able), ``comparison.tex`` (Monte Carlo against exact, every
number the one its check used), ``task.tex`` (the task's section) and figures; ``DIR/onestep.tex``
is the combined document (summary table, then one section per task), built once to
``DIR/onestep.pdf``. Rendering goes through the one pair of printers in
:mod:`derivations.printing`.
"""

from .document import compile_tex, write_reports

__all__ = ["compile_tex", "write_reports"]
