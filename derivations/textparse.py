"""The whitelist parser: text -> SymPy, never ``eval``, never ``sympify`` of a string.

Every place where a user's text becomes mathematics goes through :func:`parse`. A
hand-written tokenizer and recursive-descent parser accept only

* numbers written with the ASCII digits 0-9 (integers; decimals only where a :class:`Grammar`
  allows them, and then as the exact rational the decimal text denotes);
* the operators ``+ - * / ** ^`` and parentheses;
* the names a :class:`Grammar` lists (variables and whitelisted functions).

Anything else is refused with one line naming the field and the position. Limits keep hostile
text cheap: length, nesting depth, the size of integer exponents and of numbers, and (for
polynomial responses) a bound on the degree, all checked while parsing, before any large
object exists.

>>> import sympy as sp
>>> n = sp.Symbol("n")
>>> parse("n/(n + 3)", "eta", Grammar(names={"n": n}))
n/(n + 3)
>>> parse("__import__(n)", "eta", Grammar(names={"n": n}))
Traceback (most recent call last):
...
derivations.errors.ParseError: eta: unknown name '__import__' (allowed: n) at position 0
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import sympy as sp

from .errors import ParseError

MAX_LENGTH = 2000
MAX_DEPTH = 40
MAX_NUMBER_DIGITS = 60


@dataclass(frozen=True)
class Grammar:
    """What a field's text may contain.

    names: variable name -> SymPy object; functions: name -> SymPy function class;
    decimals: accept ``0.25`` (as the exact 1/4); symbolic_division: accept division by
    expressions with symbols (rational functions), else only by nonzero constants;
    exponents: the allowed integer exponents (inclusive range); max_degree: bound on the
    polynomial degree of the result (None: no bound); constant_functions: accept a
    function of a constant argument whose value is not rational (e.g. sin(1)).
    """

    names: dict = field(default_factory=dict)
    functions: dict = field(default_factory=dict)
    decimals: bool = False
    symbolic_division: bool = True
    exponents: tuple = (-12, 12)
    max_degree: int | None = None
    constant_functions: bool = False


_OPERATORS = ("**", "+", "-", "*", "/", "^", "(", ")")


def _describe_char(ch: str) -> str:
    if ch.isdigit():   # a non-ASCII digit (ASCII digits never reach here)
        return (f"non-ASCII digit {ch!r} ({unicodedata.name(ch, 'unknown')}); "
                "write numbers with the ASCII digits 0-9")
    return f"unexpected character {ch!r}"


def tokenize(text: str, field_name: str) -> list:
    """(kind, text, position) tokens: 'num', 'name', 'op', and a final 'end'."""
    out, i, size = [], 0, len(text)
    while i < size:
        ch = text[i]
        if ch in " \t":
            i += 1
            continue
        start = i
        if "0" <= ch <= "9" or (ch == "." and i + 1 < size and "0" <= text[i + 1] <= "9"):
            while i < size and "0" <= text[i] <= "9":
                i += 1
            if i < size and text[i] == ".":
                i += 1
                while i < size and "0" <= text[i] <= "9":
                    i += 1
            out.append(("num", text[start:i], start))
            continue
        if ch == "_" or ("a" <= ch <= "z") or ("A" <= ch <= "Z"):
            while i < size and (text[i] == "_" or text[i].isascii() and text[i].isalnum()):
                i += 1
            out.append(("name", text[start:i], start))
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is None:
            raise ParseError(f"{field_name}: {_describe_char(ch)} at position {i}")
        out.append(("op", op, start))
        i += len(op)
    out.append(("end", "", size))
    return out


class TokenCursor:
    """The cursor of a recursive-descent parser over ``(kind, value, position)`` tokens ending
    in an ``("end", "", size)`` token: errors with the position, expected tokens, a nesting bound.

    Shared by this parser and the statement parser (:mod:`derivations.notation.parse`); a
    subclass sets ``toks``, ``i``, ``depth`` and ``field`` and may change the error class, the
    depth bound and how a found token is quoted in a message.
    """

    error = ParseError
    max_depth = MAX_DEPTH

    def describe_token(self, value) -> str:
        return repr(value)

    def fail(self, message, pos=None):
        pos = self.toks[self.i][2] if pos is None else pos
        raise self.error(f"{self.field}: {message} at position {pos}")

    def peek(self, ahead=0):
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def take(self, value=None):
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            found = "end of text" if tok[0] == "end" else self.describe_token(tok[1])
            self.fail(f"expected {value!r} but found {found}")
        self.i += 1
        return tok

    def enter(self):
        self.depth += 1
        if self.depth > self.max_depth:
            self.fail(f"nesting deeper than {self.max_depth}")

    def leave(self):
        self.depth -= 1


class _Parser(TokenCursor):
    """Recursive descent; every node carries a polynomial-degree bound."""

    def __init__(self, text: str, field_name: str, grammar: Grammar):
        self.field, self.g = field_name, grammar
        self.toks = tokenize(text, field_name)
        self.i = 0
        self.depth = 0

    # --- helpers ---------------------------------------------------------------------
    def check_degree(self, deg, pos):
        if self.g.max_degree is not None and deg > self.g.max_degree:
            self.fail(f"polynomial degree above {self.g.max_degree}", pos)

    # --- grammar: sum := term (('+'|'-') term)* ; term := unary (('*'|'/') unary)* -----
    def parse(self):
        if self.peek()[0] == "end":
            raise ParseError(f"{self.field}: empty expression")
        value, _ = self.sum()
        if self.peek()[0] != "end":
            self.fail(f"unexpected {self.peek()[1]!r}")
        if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise ParseError(f"{self.field}: expression is undefined (division by zero)")
        return value

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
                if rhs.free_symbols and not self.g.symbolic_division:
                    self.fail("division by a non-constant is not supported", pos)
                if _identically_zero(rhs):
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
            self.leave()
            return (-value if op == "-" else value), deg
        return self.power()

    def power(self):
        base, deg = self.atom()
        if self.peek()[1] in ("**", "^"):
            pos = self.take()[2]
            self.enter()
            exponent, _ = self.unary()
            self.leave()
            lo, hi = self.g.exponents
            if not (exponent.is_Integer and lo <= exponent <= hi):
                self.fail(f"exponent must be an integer in {lo}..{hi}, got {exponent}", pos)
            if exponent < 0 and _identically_zero(base):
                self.fail("division by zero", pos)
            deg = deg * max(int(exponent), 0)
            self.check_degree(deg, pos)
            base = base ** exponent
        return base, deg

    def atom(self):
        kind, text, pos = self.take()
        if kind == "num":
            return self.number(text, pos), 0
        if kind == "name":
            if text in self.g.functions:
                return self.call(text, pos), 1
            if text in self.g.names:
                return self.g.names[text], 1
            allowed = ", ".join(sorted(self.g.names)) or "none"
            if self.g.functions:
                allowed += "; functions " + ", ".join(self.g.functions)
            self.fail(f"unknown name {text!r} (allowed: {allowed})", pos)
        if text == "(":
            self.enter()
            value = self.sum()
            self.leave()
            self.take(")")
            return value
        if kind == "end":
            self.fail("unexpected end of text", pos)
        self.fail(f"unexpected {text!r}", pos)

    def number(self, text, pos):
        if len(text) > MAX_NUMBER_DIGITS:
            self.fail(f"number longer than {MAX_NUMBER_DIGITS} digits", pos)
        if "." not in text:
            return sp.Integer(int(text))
        if not self.g.decimals:
            self.fail(f"decimal {text!r} is not an exact value; write it as a fraction (e.g. 1/4)", pos)
        whole, _, frac = text.partition(".")
        return sp.Rational(int(whole or "0") * 10 ** len(frac) + int(frac or "0"), 10 ** len(frac))

    def call(self, name, pos):
        if self.peek()[1] != "(":
            self.fail(f"function {name!r} needs an argument in parentheses")
        self.take("(")
        self.enter()
        arg, _ = self.sum()
        self.leave()
        self.take(")")
        value = self.g.functions[name](arg)
        if not arg.free_symbols and not value.is_Rational and not self.g.constant_functions:
            self.fail(f"{name}({arg}) is a function of a constant, which is not supported; "
                      "write constants as exact rationals", pos)
        return value


def _identically_zero(expr: sp.Expr) -> bool:
    """Exact zero test for a parsed expression (rational function or number)."""
    if expr.is_number:
        return expr == 0
    numerator, _ = sp.together(expr).as_numer_denom()
    return sp.expand(numerator) == 0


def parse(text, field_name: str, grammar: Grammar) -> sp.Expr:
    """Parse ``text`` under ``grammar``; :class:`~derivations.errors.ParseError` on bad input."""
    if not isinstance(text, str):
        raise ParseError(f"{field_name}: must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"{field_name}: text longer than {MAX_LENGTH} characters")
    return _Parser(text, field_name, grammar).parse()


def names_of(symbols) -> dict:
    """{name: symbol} for an iterable of SymPy symbols (the names a text may use)."""
    return {str(s): s for s in symbols}


__all__ = ["Grammar", "parse", "tokenize", "names_of", "ParseError", "TokenCursor", "MAX_LENGTH",
           "MAX_DEPTH"]
