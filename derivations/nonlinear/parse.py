"""Whitelist parser for response links and expressions: text -> SymPy, never eval.

A hand-written tokenizer and recursive-descent parser accept only numbers (decimals become
exact rationals), the operators ``+ - * / ** ^``, parentheses, the allowed variable names and
the functions in :data:`FUNCTIONS`. Everything else is refused with one line naming the field
and the position. Limits keep hostile input cheap: text length, nesting depth, integer
exponents in 0..12 and a bound on the polynomial degree of the result.

>>> parse_link("0.5*s + s^3/3")
s**3/3 + s/2
>>> parse_expression("w1*x1 + x1**2", d=2)
w1*x1 + x1**2
>>> parse_link("relu(s) - relu(-s)")
-relu(-s) + relu(s)
>>> parse_link("s.__class__")
Traceback (most recent call last):
...
derivations.nonlinear.parse.ParseError: response.link: unexpected character '.' at position 1
"""

from __future__ import annotations

import re

import sympy as sp

from ..task import TaskError

MAX_LENGTH = 2000
MAX_DEPTH = 40
MAX_EXPONENT = 12
MAX_DEGREE = 24


class ParseError(TaskError):
    """Malformed response text; the message names the field and the position."""


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

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d*)?|\.\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<op>\*\*|[-+*/^(),]))")


def variables(d: int | None):
    """Allowed variable names -> symbols: s alone (links) or x1..xd, w1..wd, s (expressions)."""
    names = {"s": S}
    if d is not None:
        for k in range(1, d + 1):
            names[f"x{k}"] = sp.Symbol(f"x{k}", real=True)
            names[f"w{k}"] = sp.Symbol(f"w{k}", real=True)
    return names


def _tokens(text: str, field: str):
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            start = pos + len(text[pos:]) - len(text[pos:].lstrip())
            raise ParseError(f"{field}: unexpected character {text[start]!r} at position {start}")
        kind = match.lastgroup
        start = match.start(kind)
        out.append((kind, match.group(kind), start))
        pos = match.end()
    out.append(("end", "", len(text)))
    return out


class _Parser:
    """Recursive descent over the token list; every node carries a degree bound."""

    def __init__(self, text, field, names):
        self.field, self.names = field, names
        self.toks = _tokens(text, field)
        self.i = 0
        self.depth = 0

    def fail(self, message, pos=None):
        pos = self.toks[self.i][2] if pos is None else pos
        raise ParseError(f"{self.field}: {message} at position {pos}")

    def peek(self):
        return self.toks[self.i]

    def take(self, value=None):
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            what = "end of text" if tok[0] == "end" else repr(tok[1])
            self.fail(f"expected {value!r} but found {what}")
        self.i += 1
        return tok

    def enter(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"nesting deeper than {MAX_DEPTH}")

    def parse(self):
        if self.peek()[0] == "end":
            raise ParseError(f"{self.field}: empty expression")
        value, _ = self.sum()
        if self.peek()[0] != "end":
            self.fail(f"unexpected {self.peek()[1]!r}")
        if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise ParseError(f"{self.field}: expression is undefined (division by zero)")
        return value

    # grammar: sum := term (('+'|'-') term)* ; term := unary (('*'|'/') unary)*
    def sum(self):
        value, deg = self.term()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            rhs, rdeg = self.term()
            value = value + rhs if op == "+" else value - rhs
            deg = max(deg, rdeg)
        return value, deg

    def term(self):
        value, deg = self.unary()
        while self.peek()[1] in ("*", "/"):
            _, op, pos = self.take()
            rhs, rdeg = self.unary()
            if op == "/":
                # division only by constants: keeps every response integrable and polynomial
                # responses polynomial (1/s would have no finite moments)
                if rhs.free_symbols:
                    self.fail("division by a non-constant is not supported", pos)
                if rhs == 0:
                    self.fail("division by zero", pos)
                value = value / rhs
            else:
                value, deg = value * rhs, deg + rdeg
            self.check_degree(deg, pos)
        return value, deg

    def unary(self):
        if self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            self.enter()
            value, deg = self.unary()
            self.depth -= 1
            return (-value if op == "-" else value), deg
        return self.power()

    def power(self):
        base, deg = self.atom()
        if self.peek()[1] in ("**", "^"):
            pos = self.take()[2]
            self.enter()
            exponent, _ = self.unary()
            self.depth -= 1
            if not (exponent.is_Integer and 0 <= exponent <= MAX_EXPONENT):
                self.fail(f"exponent must be an integer in 0..{MAX_EXPONENT}, got {exponent}", pos)
            deg = deg * int(exponent)
            self.check_degree(deg, pos)
            base = base ** exponent
        return base, deg

    def atom(self):
        kind, text, pos = self.take()
        if kind == "num":
            if len(text) > 60:
                self.fail("number has too many digits", pos)
            return sp.Rational(text if "." not in text else _decimal(text)), 0
        if kind == "name":
            if text in FUNCTIONS:
                if self.peek()[1] != "(":
                    self.fail(f"function {text!r} needs an argument in parentheses")
                self.take("(")
                self.enter()
                arg, _ = self.sum()
                self.depth -= 1
                self.take(")")
                return FUNCTIONS[text](arg), 1
            if text in self.names:
                return self.names[text], 1
            allowed = ", ".join(sorted(self.names)) + "; functions " + ", ".join(FUNCTIONS)
            self.fail(f"unknown name {text!r} (allowed: {allowed})", pos)
        if text == "(":
            self.enter()
            value = self.sum()
            self.depth -= 1
            self.take(")")
            return value
        if kind == "end":
            self.fail("unexpected end of text", pos)
        self.fail(f"unexpected {text!r}", pos)

    def check_degree(self, deg, pos):
        if deg > MAX_DEGREE:
            self.fail(f"polynomial degree above {MAX_DEGREE}", pos)


def _decimal(text: str) -> str:
    """'0.25' -> '25/100' (exact), so no binary float is ever created."""
    whole, _, frac = text.partition(".")
    return f"{int(whole or '0') * 10 ** len(frac) + int(frac or '0')}/{10 ** len(frac)}"


def parse_text(text, field: str, names: dict) -> sp.Expr:
    """Parse ``text`` with the allowed variable ``names``; ParseError (a TaskError) on bad input."""
    if not isinstance(text, str):
        raise ParseError(f"{field}: must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"{field}: text longer than {MAX_LENGTH} characters")
    return _Parser(text, field, names).parse()


def parse_link(text, field: str = "response.link") -> sp.Expr:
    """A link g(s) of the single index s = w^T x."""
    return parse_text(text, field, variables(None))


def parse_expression(text, d: int, field: str = "response.expr") -> sp.Expr:
    """An expression in x1..xd, w1..wd and s = w^T x (s is left as the symbol ``s``)."""
    return parse_text(text, field, variables(d))
