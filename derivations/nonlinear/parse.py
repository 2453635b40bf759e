"""Response links and expressions: text -> SymPy through the whitelist parser, never eval.

The grammar (:mod:`derivations.textparse`): numbers in ASCII digits (a decimal such as 0.5 is
the exact rational its digits denote), the operators ``+ - * / ** ^``, parentheses, the
allowed variable names and the functions in :data:`FUNCTIONS`. Division only by nonzero
constants, integer exponents in 0..12, polynomial degree at most 24. A function of a constant
whose value is not rational (``sin(1)``, ``exp(1)``) is refused: such constants would leave
the exact engines, and a disguised zero such as ``sin(1)**2 + cos(1)**2 - 1`` could not be
recognised. Everything else is refused with one line naming the field and the position.

>>> parse_link("0.5*s + s^3/3")
s**3/3 + s/2
>>> parse_expression("w1*x1 + x1**2", d=2)
w1*x1 + x1**2
>>> parse_link("relu(s) - relu(-s)")
-relu(-s) + relu(s)
>>> parse_link("s.__class__")
Traceback (most recent call last):
...
derivations.errors.ParseError: response.link: unexpected character '.' at position 1
"""

from __future__ import annotations

import sympy as sp

from ..errors import ParseError  # noqa: F401 (re-exported: the error type of this module)
from ..textparse import MAX_LENGTH, Grammar, parse  # noqa: F401 (MAX_LENGTH re-exported)

MAX_EXPONENT = 12
MAX_DEGREE = 24


class relu(sp.Function):
    """max(0, s), kept unevaluated on symbols so it can be recognised.

    >>> relu(-2), relu(sp.Rational(3, 2)), relu(sp.Symbol("s")).rewrite(sp.Max)
    (0, 3/2, Max(0, s))
    """

    nargs = 1

    @classmethod
    def eval(cls, arg):
        if arg.is_number and arg.is_extended_real:
            return arg if arg >= 0 else sp.Integer(0)
        if arg.is_nonnegative:
            return arg
        if arg.is_nonpositive:
            return sp.Integer(0)
        return None

    def _eval_rewrite_as_Max(self, arg, **kwargs):
        return sp.Max(0, arg)

    def _eval_rewrite_as_Piecewise(self, arg, **kwargs):
        return sp.Piecewise((arg, arg >= 0), (0, True))

    def fdiff(self, argindex=1):
        return sp.Heaviside(self.args[0])

    def _latex(self, printer):
        return r"\operatorname{relu}\left(" + printer._print(self.args[0]) + r"\right)"


#: the only callable names; each maps to a SymPy function class
FUNCTIONS = {"tanh": sp.tanh, "erf": sp.erf, "relu": relu, "sin": sp.sin, "cos": sp.cos,
             "exp": sp.exp, "abs": sp.Abs, "sign": sp.sign}

#: the symbol every parsed link and expression uses for w^T x
S = sp.Symbol("s", real=True)


def variables(d: int | None):
    """Allowed variable names -> symbols: s alone (links) or x1..xd, w1..wd, s (expressions)."""
    names = {"s": S}
    if d is not None:
        for k in range(1, d + 1):
            names[f"x{k}"] = sp.Symbol(f"x{k}", real=True)
            names[f"w{k}"] = sp.Symbol(f"w{k}", real=True)
    return names


def parse_text(text, field: str, names: dict) -> sp.Expr:
    """Parse ``text`` with the allowed variable ``names``; ParseError (a TaskError) on bad input."""
    grammar = Grammar(names=names, functions=FUNCTIONS, decimals=True, symbolic_division=False,
                      exponents=(0, MAX_EXPONENT), max_degree=MAX_DEGREE)
    return parse(text, field, grammar)


def parse_link(text, field: str = "response.link") -> sp.Expr:
    """A link g(s) of the single index s = w^T x."""
    return parse_text(text, field, variables(None))


def parse_expression(text, d: int, field: str = "response.expr") -> sp.Expr:
    """An expression in x1..xd, w1..wd and s = w^T x (s is left as the symbol ``s``)."""
    return parse_text(text, field, variables(d))
