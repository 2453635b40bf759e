"""Theorem 3 (nonlinear responses): hypotheses, exact closed forms, rigorous enclosures.

Modules, one job each: :mod:`.parse` (whitelist parser), :mod:`.responses` (the response as
SymPy), :mod:`.hypotheses` (the paper's Assumption 1, onestep's reflection variant, rotation
invariance, decided exactly), :mod:`.expoly` (exact 1-D Gaussian integrals of exp-polynomial
links), :mod:`.closed_form` (the Theorem 3 moments in closed form, any Sigma, Omega),
:mod:`.enclosure` (rigorous arb enclosures for links without closed form), :mod:`.highprec`
(links compiled to ball functions), :mod:`.exact_optimum` (polynomial responses by the exact
Gaussian engine), :mod:`.certificate` (the optimum and its derivation),
:mod:`.alld_single_index` (eta*(n, d, s2) at symbolic d).

>>> from derivations.task import Task, Response
>>> theorem3_optimum(Task(d=1, response=Response("single-index", link="s"))).eta
n/(n + s2 + 2)
"""

from .certificate import NonlinearOptimum, eta_formula, theorem3_optimum
from .parse import ParseError, parse_expression, parse_link, relu


def validate_response(task):
    """Parse the task's link or expression text (ParseError, a TaskError, when it is bad)."""
    from .responses import response_model

    response_model(task)


__all__ = ["validate_response", "theorem3_optimum", "NonlinearOptimum", "eta_formula", "ParseError", "parse_link",
           "parse_expression", "relu"]
