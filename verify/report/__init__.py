"""LaTeX-ready derivation reports (``python -m verify.all --report DIR``).

Per task, ``DIR/<task>/`` holds ``steps.tex`` (setup, every proof step as a numbered display
with its justification, check and status, the optimum in closed form; ``\\input``-able),
``comparison.tex`` (exact versus Monte Carlo, booktabs), figures (``gamma``, ``eta_n``,
``convergence`` as PDF and PNG), ``report.tex`` and, when latexmk is installed, ``report.pdf``.
``DIR/index.tex`` (and ``index.pdf``) lists every task with its status.
"""

from .document import compile_tex, write_reports
from .latex import OnestepPrinter
from .latex import latex as to_latex

__all__ = ["OnestepPrinter", "compile_tex", "to_latex", "write_reports"]
