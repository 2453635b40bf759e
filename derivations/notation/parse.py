"""Whitelist parser for statements: text -> expression tree, never eval.

A hand-written tokenizer and recursive-descent parser accept only

* non-negative integers (ASCII digits; rationals are written ``1/4``),
* names from the :class:`~derivations.notation.scope.Scope` (declared matrices, vectors,
  scalars, per-example variables, definitions) and the built-ins ``n``, ``d``, ``s2``, ``I``,
* ``+ - * /``, ``^T`` (transpose), ``^k`` (integer power 0..8), parentheses,
* ``inv(X)``, ``tr(X)``, ``avg(X)``, ``E[X]``,
* one relation at the top of a claim: ``=``, ``succeq`` (positive semidefinite
  difference) or ``succ`` (positive definite difference).

Everything else is refused with one line naming the field and the position. Limits keep
hostile input cheap: text length, nesting depth, exponent, number length, and (checked
after parsing, :func:`check_size`) the number of terms the claim expands to, the factors of
each random variable (and of all of them) per term inside E[...], and the context averages
per term.

>>> from derivations.notation.scope import Scope
>>> scope = Scope.build(matrices={"Sigma": "spd"}, vectors={"x": "N(0, Sigma)"})
>>> from derivations.notation.text import text
>>> text(parse_claim("E[x * x^T] = Sigma", scope))
'E[x * x^T] = Sigma'
>>> parse_claim("x.__class__ = 1", scope)
Traceback (most recent call last):
...
derivations.notation.tree.NotationError: claim: unexpected character '.' at position 1
"""

from __future__ import annotations

import re
import unicodedata

import sympy as sp

from ..textparse import TokenCursor
from .tree import (
    MATRIX,
    SCALAR,
    AddNode,
    AvgNode,
    BuiltinNode,
    DivNode,
    ExpectNode,
    IdentityNode,
    InverseNode,
    MulNode,
    NameNode,
    NegNode,
    NotationError,
    NumberNode,
    PowNode,
    RelationNode,
    ShapeError,
    TraceNode,
    TransposeNode,
    ZeroNode,
    walk,
)

MAX_LENGTH = 4000          # characters of one expression
MAX_DEPTH = 40             # nesting of parentheses, brackets, unary signs, function calls
MAX_EXPONENT = 8
MAX_DIGITS = 30            # digits of one integer literal
MAX_TERMS = 20_000         # terms after expanding every sum (definitions included)
MAX_RANDOM = 12            # factors of one random variable in a term inside E[...] (11!! pairings)
MAX_RANDOM_TOTAL = 16      # random factors of all variables in a term inside E[...]
MAX_AVERAGES = 5           # context averages in one term (set partitions)

FUNCTIONS = ("inv", "tr", "avg")
RELATION_WORDS = ("succeq", "succ")
#: names a user may not declare
RESERVED = frozenset({"E", "I", "T", "N", "d", "n", "s2", *FUNCTIONS, *RELATION_WORDS})

_TOKEN = re.compile(r"[ \t\r\n]*(?:(?P<num>[0-9]+)|(?P<name>[A-Za-z][A-Za-z0-9_]*)"
                    r"|(?P<op>[-+*/^()\[\],=]))")


def show(text, limit: int = 60) -> str:
    """A value for an error message: quoted, control characters and non-ASCII escaped,
    shortened; the message stays one line whatever the input holds."""
    s = str(text)
    short = s[:limit]
    out = repr(short).encode("ascii", "backslashreplace").decode("ascii")
    return out + ("..." if len(s) > limit else "")


def _char_problem(ch: str) -> str:
    code = f"U+{ord(ch):04X}"
    if unicodedata.category(ch) == "Nd":
        return (f"non-ASCII digit {show(ch)} ({code}, {unicodedata.name(ch, 'digit')}); "
                "write numbers with the ASCII digits 0-9")
    if ord(ch) > 127:
        return f"non-ASCII character {show(ch)} ({code}); statements are ASCII text"
    return f"unexpected character {show(ch)}"


def tokens(text: str, field: str) -> list:
    """(kind, text, position) triples ending with ("end", "", len(text))."""
    out, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.lastgroup is None:
            rest = text[pos:]
            start = pos + len(rest) - len(rest.lstrip(" \t\r\n"))
            if start >= len(text):
                break
            raise NotationError(f"{field}: {_char_problem(text[start])} at position {start}")
        kind = match.lastgroup
        out.append((kind, match.group(kind), match.start(kind)))
        pos = match.end()
    out.append(("end", "", len(text)))
    return out


class Parser(TokenCursor):
    """Recursive descent over the token list (grammar in the method docstrings).

    ``context_ok``: per-example names may occur outside avg(...) (definitions of
    per-example quantities such as y_i = w^T x_i + eps_i).
    """

    def __init__(self, text: str, field: str, scope, context_ok: bool = False):
        if not isinstance(text, str):
            raise NotationError(f"{field}: must be text, got {type(text).__name__}")
        if len(text) > MAX_LENGTH:
            raise NotationError(f"{field}: text longer than {MAX_LENGTH} characters ({len(text)})")
        self.text, self.field, self.scope, self.context_ok = text, field, scope, context_ok
        self.toks = tokens(text, field)
        self.i = 0
        self.depth = 0
        self.avg_depth = 0
        self.uses_context = False

    # --- helpers (the cursor: fail, peek, take, enter, leave) ------------------------------
    error = NotationError
    max_depth = MAX_DEPTH

    def describe_token(self, value) -> str:
        return show(value)

    def build(self, cls, *args, pos):
        """Construct a node; a shape error gets the position of its operator."""
        try:
            return cls(*args)
        except ShapeError as err:
            self.fail(str(err), pos)

    def finish(self):
        if self.peek()[0] != "end":
            tok = self.peek()
            self.fail(f"unexpected {show(tok[1])}")

    # --- entry points ------------------------------------------------------------------
    def claim(self) -> RelationNode:
        """claim := expr REL expr,  REL := '=' | 'succeq' | 'succ'."""
        if self.peek()[0] == "end":
            raise NotationError(f"{self.field}: empty claim")
        lhs = self.expr()
        kind, word, pos = self.peek()
        if word == "=" or (kind == "name" and word in RELATION_WORDS):
            self.take()
        else:
            found = "end of text" if kind == "end" else show(word)
            self.fail(f"expected a relation (=, succeq, succ) but found {found}")
        if self.peek()[0] == "end":
            self.fail("the right-hand side is missing")
        rhs = self.expr()
        self.finish()
        lhs, rhs = _zero_as(lhs, rhs.shape), _zero_as(rhs, lhs.shape)
        return self.build(RelationNode, lhs, word, rhs, pos=pos)

    def expression(self):
        if self.peek()[0] == "end":
            raise NotationError(f"{self.field}: empty expression")
        value = self.expr()
        kind, word, _ = self.peek()
        if word == "=" or (kind == "name" and word in RELATION_WORDS):
            self.fail(f"a relation ({word}) is not allowed here")
        self.finish()
        return value

    # --- grammar -----------------------------------------------------------------------
    def expr(self):
        """expr := term (('+' | '-') term)*."""
        value = self.term()
        while self.peek()[1] in ("+", "-"):
            _, op, pos = self.take()
            rhs = self.term()
            value = self.build(AddNode, (value, rhs if op == "+" else NegNode(rhs)), pos=pos)
        return value

    def term(self):
        """term := factor (('*' | '/') factor)*."""
        value = self.factor()
        while self.peek()[1] in ("*", "/"):
            _, op, pos = self.take()
            rhs = self.factor()
            if op == "*":
                value = self.build(MulNode, (value, rhs), pos=pos)
            else:
                value = self.build(DivNode, value, rhs, pos=pos)
                self.check_denominator(rhs, pos)
        return value

    def factor(self):
        """factor := ('-' | '+') factor | postfix."""
        if self.peek()[1] in ("+", "-"):
            _, op, _ = self.take()
            self.enter()
            value = self.factor()
            self.leave()
            return NegNode(value) if op == "-" else value
        return self.postfix()

    def postfix(self):
        """postfix := primary ('^' ('T' | INTEGER))*."""
        value = self.primary()
        while self.peek()[1] == "^":
            _, _, pos = self.take()
            kind, word, wpos = self.peek()
            if kind == "name" and word == "T":
                self.take()
                value = TransposeNode(value)
            elif kind == "num":
                self.take()
                if len(word) > 3 or int(word) > MAX_EXPONENT:
                    self.fail(f"exponent must be an integer in 0..{MAX_EXPONENT}, got {show(word, 12)}", wpos)
                value = self.build(PowNode, value, int(word), pos=pos)
            elif word == "-":
                self.fail("negative exponents are not supported; write inv(X)", wpos)
            else:
                self.fail("'^' must be followed by T (transpose) or an integer exponent", wpos)
        return value

    def primary(self):
        """primary := INTEGER | NAME | 'E' '[' expr ']' | FUNC '(' expr ')' | '(' expr ')'."""
        kind, word, pos = self.take()
        if kind == "num":
            if len(word) > MAX_DIGITS:
                self.fail(f"number has more than {MAX_DIGITS} digits", pos)
            return NumberNode(sp.Integer(int(word)))
        if kind == "op" and word == "(":
            self.enter()
            value = self.expr()
            self.leave()
            self.take(")")
            return value
        if kind == "name":
            return self.named(word, pos)
        if kind == "end":
            self.fail("unexpected end of text", pos)
        self.fail(f"unexpected {show(word)}", pos)

    def named(self, word, pos):
        if word == "E":
            if self.peek()[1] != "[":
                self.fail("E must be followed by [ ... ] (an expectation)", pos)
            self.take("[")
            self.enter()
            value = self.expr()
            self.leave()
            self.take("]")
            return ExpectNode(value)
        if word in FUNCTIONS:
            if self.peek()[1] != "(":
                self.fail(f"{word} must be followed by ( ... )", pos)
            self.take("(")
            self.enter()
            if word == "avg":
                self.avg_depth += 1
            arg = self.expr()
            if word == "avg":
                self.avg_depth -= 1
            self.leave()
            self.take(")")
            if word == "inv":
                if arg.shape == SCALAR:
                    self.check_denominator(arg, pos)
                return self.build(InverseNode, arg, pos=pos)
            if word == "tr":
                return self.build(TraceNode, arg, pos=pos)
            return AvgNode(arg)
        if word in ("n", "d", "s2"):
            return BuiltinNode(word)
        if word == "I":
            return IdentityNode()
        if word in ("T", "N") or word in RELATION_WORDS:
            self.fail(f"{show(word)} is reserved and cannot be used as a name", pos)
        node = self.scope.lookup(word)
        if node is None:
            raise NotationError(f"{self.field}: unknown name {show(word)} at position {pos} "
                                f"({self.scope.known_names()})")
        if self.scope.is_context(word) and self.avg_depth == 0:
            if not self.context_ok:
                self.fail(f"{word} is a per-example quantity: use it inside avg(...)", pos)
            self.uses_context = True
        return node

    def check_denominator(self, node, pos):
        """A divisor (or inverted scalar) must be a nonzero constant scalar."""
        value = plain_value(node, self.scope)
        if value is None:
            self.fail("can only divide by a constant scalar built from numbers, n, d, s2 and "
                      "constant scalars", pos)
        if sp.cancel(value) == 0:
            self.fail("division by zero", pos)


def _zero_as(node, shape):
    """A bare 0 on one side of a relation is the zero of the other side's shape."""
    if isinstance(node, NumberNode) and node.value == 0 and shape != SCALAR:
        return ZeroNode(shape)
    return node


# --- plain scalars -----------------------------------------------------------------------

def plain_value(node, scope):
    """The SymPy value of a constant scalar tree (numbers, n, d, s2, constant scalars and
    their + - * / ^ combinations, definitions of such), or None if the tree is anything else."""
    from .scope import builtin_symbol

    if node.shape != SCALAR:
        return None
    if isinstance(node, NumberNode):
        return node.value
    if isinstance(node, BuiltinNode):
        return builtin_symbol(node.name, scope)
    if isinstance(node, NameNode):
        return scope.constant_scalar(node.name)
    if isinstance(node, NegNode):
        v = plain_value(node.arg, scope)
        return None if v is None else -v
    if isinstance(node, AddNode):
        vals = [plain_value(a, scope) for a in node.args]
        return None if any(v is None for v in vals) else sp.Add(*vals)
    if isinstance(node, MulNode):
        vals = [plain_value(a, scope) for a in node.args]
        return None if any(v is None for v in vals) else sp.Mul(*vals)
    if isinstance(node, DivNode):
        a, b = plain_value(node.num, scope), plain_value(node.den, scope)
        return None if a is None or b is None else a / b
    if isinstance(node, PowNode):
        v = plain_value(node.base, scope)
        return None if v is None else v ** node.exp
    if isinstance(node, InverseNode):
        v = plain_value(node.arg, scope)
        return None if v is None else 1 / v
    if isinstance(node, TransposeNode):
        return plain_value(node.arg, scope)
    return None


# --- size limits --------------------------------------------------------------------------

def _merge(a: dict, b: dict, op) -> dict:
    return {k: op(a.get(k, 0), b.get(k, 0)) for k in set(a) | set(b)}


def _measure(node, scope, memo):
    """(terms, {random name: occurrences per term}, averages per term) after expanding
    definitions; occurrences are upper bounds (a sum takes the larger of its terms)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if isinstance(node, NameNode):
        body = scope.definitions.get(node.name) if node.role == "defined" else None
        if body is not None:
            out = _measure(body, scope, memo)
        else:
            out = (1, {node.name: 1} if scope.is_random(node.name) else {}, 0)
    elif isinstance(node, AddNode):
        parts = [_measure(a, scope, memo) for a in node.args]
        counts = {}
        for p in parts:
            counts = _merge(counts, p[1], max)
        out = (sum(p[0] for p in parts), counts, max(p[2] for p in parts))
    elif isinstance(node, MulNode):
        parts = [_measure(a, scope, memo) for a in node.args]
        terms, counts = 1, {}
        for p in parts:
            terms *= p[0]
            counts = _merge(counts, p[1], lambda a, b: a + b)
        out = (terms, counts, sum(p[2] for p in parts))
    elif isinstance(node, PowNode):
        t, r, a = _measure(node.base, scope, memo)
        out = (t ** node.exp, {k: v * node.exp for k, v in r.items()}, a * node.exp)
    elif isinstance(node, DivNode):
        out = _measure(node.num, scope, memo)
    elif isinstance(node, InverseNode):
        t, _, _ = _measure(node.arg, scope, memo)
        out = (t, {}, 0)
    elif isinstance(node, ExpectNode):
        t, r, a = _measure(node.arg, scope, memo)
        worst = max(r.values(), default=0)
        if worst > MAX_RANDOM:
            name = max(r, key=r.get)
            raise NotationError(f"a term inside E[...] has {worst} factors of the random "
                                f"{name} (at most {MAX_RANDOM})")
        if sum(r.values()) > MAX_RANDOM_TOTAL:
            raise NotationError(f"a term inside E[...] multiplies {sum(r.values())} random factors "
                                f"(at most {MAX_RANDOM_TOTAL})")
        out = (t, {}, 0)
    elif isinstance(node, AvgNode):
        t, r, a = _measure(node.arg, scope, memo)
        out = (t, r, a + 1)
    elif node.children:
        out = _measure(node.children[0], scope, memo)
    else:
        out = (1, {}, 0)
    if out[0] > MAX_TERMS:
        raise NotationError(f"expands to more than {MAX_TERMS} terms")
    if out[2] > MAX_AVERAGES:
        raise NotationError(f"a term multiplies {out[2]} context averages (at most {MAX_AVERAGES})")
    memo[key] = out
    return out


def check_size(node, scope, field: str):
    """Refuse a tree whose evaluation would be too large (before any work starts)."""
    try:
        _measure(node, scope, {})
    except NotationError as err:
        raise NotationError(f"{field}: {err}") from None


# --- entry points --------------------------------------------------------------------------

def parse_claim(text, scope, field: str = "claim") -> RelationNode:
    """A claim ``lhs rel rhs`` (see the module doc); NotationError on bad input."""
    node = Parser(text, field, scope).claim()
    check_size(node, scope, field)
    return node


def parse_expression(text, scope, field: str = "expression", context_ok: bool = False):
    """An expression (no relation). Returns (node, uses_context) when ``context_ok``."""
    parser = Parser(text, field, scope, context_ok)
    node = parser.expression()
    check_size(node, scope, field)
    return (node, parser.uses_context) if context_ok else node


def parse_law(text, scope, field: str):
    """``"constant"``, ``"opaque"`` or ``"N(0, X)"`` -> ("constant" | "opaque" | "gaussian", node).

    The covariance X is a constant expression (declared matrices and scalars, I, n, d, s2).
    """
    if not isinstance(text, str):
        raise NotationError(f"{field}: must be text (\"N(0, Sigma)\", \"constant\" or \"opaque\"), "
                            f"got {type(text).__name__}")
    stripped = text.strip()
    if stripped in ("constant", "opaque"):
        return stripped, None
    parser = Parser(text, field, scope)
    kind, word, pos = parser.take()
    if word != "N":
        parser.fail("expected N(0, covariance), \"constant\" or \"opaque\"", pos)
    parser.take("(")
    kind, word, pos = parser.take()
    if word != "0":
        parser.fail("Gaussians are centred: write N(0, covariance)", pos)
    parser.take(",")
    cov = parser.expr()
    parser.take(")")
    parser.finish()
    for node in walk(cov):
        if isinstance(node, (ExpectNode, AvgNode)) or (isinstance(node, NameNode) and not scope.is_constant(node.name)):
            raise NotationError(f"{field}: the covariance must be a constant (declared matrices and "
                                "scalars, I, n, d, s2)")
    if cov.shape not in (SCALAR, MATRIX):
        raise NotationError(f"{field}: the covariance must be a d x d matrix or a scalar variance, "
                            f"got a {cov.shape}")
    check_size(cov, scope, field)
    return "gaussian", cov


__all__ = ["parse_claim", "parse_expression", "parse_law", "plain_value", "check_size",
           "tokens", "show", "RESERVED", "MAX_LENGTH", "MAX_DEPTH", "MAX_EXPONENT",
           "MAX_TERMS", "MAX_RANDOM", "MAX_RANDOM_TOTAL", "MAX_AVERAGES", "NotationError"]
