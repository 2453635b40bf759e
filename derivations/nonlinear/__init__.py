"""Theorem 3 (nonlinear responses): parsing, symmetry checks, exact and high-precision optima.

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
