"""The pinned symbols of the conventions in the README.

``n`` (context length) and ``s2`` (noise variance sigma^2) are shared by every module,
so that expressions from different derivations combine and compare.
"""

import sympy as sp

#: number of in-context examples (a positive integer when left symbolic)
n = sp.Symbol("n", integer=True, positive=True)
#: noise variance sigma^2 (nonnegative)
s2 = sp.Symbol("s2", nonnegative=True)
#: the scalar step size of one-step GD
eta = sp.Symbol("eta", real=True)

#: LaTeX names for the pinned symbols (used by every LaTeX printer in onestep)
LATEX_NAMES = {n: "n", s2: r"\sigma^2", eta: r"\eta"}
