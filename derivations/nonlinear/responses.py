"""Response families as symbolic objects: f(x; w) plus what the optimum routines need.

``response_model(task)`` turns a :class:`~derivations.task.Response` into a
:class:`ResponseModel`: the response f as a SymPy expression in x1..xd, w1..wd (for
single-index responses also the link g(s) with f = g(w^T x)), whether f is a polynomial
(then the exact Gaussian engine applies) and the family's random parameters.

>>> from derivations.task import Task, Response
>>> m = response_model(Task(d=2, response=Response("single-index", link="s^3")))
>>> m.f, m.polynomial, m.link
((w1*x1 + w2*x2)**3, True, s**3)
>>> response_model(Task(d=2, response=Response("two-layer-relu", width=3))).f is None
True
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..task import Task
from .parse import S, parse_expression, parse_link, variables


@dataclass(frozen=True)
class ResponseModel:
    """y = f(x; w) + eps for one task.

    family: the task's family; f: SymPy expression in ``xs``, ``ws`` (None for
    two-layer-relu, whose hidden units are handled structurally); link: g(s) when f depends
    on (x, w) only through s = w^T x, else None; width: hidden units (two-layer-relu).
    """

    family: str
    d: int
    f: sp.Expr | None
    link: sp.Expr | None
    width: int | None
    xs: tuple
    ws: tuple

    @property
    def polynomial(self) -> bool:
        """True when f is a polynomial in x and w (the exact engine then applies)."""
        return self.f is not None and self.f.is_polynomial(*self.xs, *self.ws)

    @property
    def link_polynomial(self) -> bool:
        return self.link is not None and self.link.is_polynomial(S)

    def response_at(self, x, w) -> sp.Expr:
        """f with x and w replaced by the given vectors of SymPy expressions."""
        subs = dict(zip(self.xs, x, strict=True)) | dict(zip(self.ws, w, strict=True))
        return self.f.xreplace(subs)


def response_model(task: Task) -> ResponseModel:
    """Parse and assemble the task's response (ParseError, a TaskError, on bad text)."""
    d, resp = task.d, task.response
    names = variables(d)
    xs = tuple(names[f"x{k}"] for k in range(1, d + 1))
    ws = tuple(names[f"w{k}"] for k in range(1, d + 1))
    index = sum((w * x for w, x in zip(ws, xs, strict=True)), sp.Integer(0))
    if resp.family == "linear":
        link, f = S, index
    elif resp.family == "single-index":
        link = parse_link(resp.link)
        f = link.xreplace({S: index})
    elif resp.family == "expression":
        expr = parse_expression(resp.expr, d)
        f = sp.expand(expr.xreplace({S: index})) if expr.is_polynomial(*names.values()) \
            else expr.xreplace({S: index})
        # an expression in s alone is a single-index response (closed-form or enclosure routes)
        link = expr if expr.free_symbols <= {S} else None
    else:  # two-layer-relu: f = sum_j a_j relu(v_j^T x), a_j ~ N(0, 1), v_j ~ N(0, Omega)
        return ResponseModel(resp.family, d, None, None, resp.width, xs, ws)
    return ResponseModel(resp.family, d, f, link, None, xs, ws)
