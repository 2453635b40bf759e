"""The plain-text printer: expression trees (and SymPy results) in the input syntax.

One ``_print_<Node>`` method per node class, as in SymPy's printers; SymPy objects (the
engine's canonical forms, exact coefficients) fall back to SymPy's ``StrPrinter`` with
the input syntax's spelling: ``X^T``, ``inv(X)``, ``tr(X)``, ``^`` for powers, ``I``.
Parentheses are inserted by precedence only, so the output parses back to an equal tree.

>>> from derivations.notation.scope import Scope
>>> from derivations.notation.parse import parse_claim
>>> s = Scope.build(matrices={"A": "general"}, vectors={"x": "N(0, I)"})
>>> text(parse_claim("E[x*x^T*A*(x*x^T)] = A + A^T + tr(A)*I", s))
'E[x * x^T * A * x * x^T] = A + A^T + tr(A) * I'
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.str import StrPrinter

from .tree import NegNode

#: binding strength (higher binds tighter); a tensor product binds looser than a product
ADD, OUTER, MUL, NEG, POSTFIX, ATOM = 10, 15, 20, 25, 30, 40


def level(node) -> int:
    """The precedence of a node or a SymPy object (for deciding parentheses)."""
    name = type(node).__name__
    if name == "SympyNode":
        node = node.expr
    if isinstance(node, sp.Basic):
        if isinstance(node, (sp.Add, sp.MatAdd)):
            return ADD
        if isinstance(node, (sp.Mul, sp.MatMul)):
            return MUL
        return ATOM
    return {"AddNode": ADD, "MulNode": MUL, "DivNode": MUL, "NegNode": NEG, "PowNode": POSTFIX,
            "TransposeNode": POSTFIX, "RelationNode": 0, "OuterNode": OUTER}.get(name, ATOM)


class TextPrinter(StrPrinter):
    """Input-syntax text for expression trees and SymPy leaves."""

    printmethod = "_onestep_text"

    def paren(self, node, minimum: int) -> str:
        s = self._print(node)
        return f"({s})" if level(node) < minimum else s

    # --- tree nodes ------------------------------------------------------------------------
    def _print_NumberNode(self, node):
        return str(node.value)

    def _print_BuiltinNode(self, node):
        return node.name

    def _print_ZeroNode(self, node):
        return "0"

    def _print_IdentityNode(self, node):
        return "I"

    def _print_NameNode(self, node):
        return node.name

    def _print_AddNode(self, node):
        out = self.paren(node.args[0], ADD)
        for a in node.args[1:]:
            if isinstance(a, NegNode):
                out += " - " + self.paren(a.arg, MUL)
            else:
                out += " + " + self.paren(a, ADD + 1)
        return out

    def _print_NegNode(self, node):
        return "-" + self.paren(node.arg, NEG)

    def _print_MulNode(self, node):
        from .tree import scalar_groups

        groups = scalar_groups(node.args)
        if len(groups) > 1 and sum(len(g) > 1 for g in groups) >= 2:
            # (u^T * z) * (z^T * M * x_q): the scalar runs in parentheses (parses back equal)
            return " * ".join("(" + self._factors(g) + ")" if len(g) > 1 else self.paren(g[0], MUL + 1)
                              for g in groups)
        return self._factors(node.args)

    def _factors(self, args):
        parts = [self.paren(args[0], MUL)]
        parts += [self.paren(a, MUL + 1) for a in args[1:]]
        return " * ".join(parts)

    def _print_DivNode(self, node):
        return self.paren(node.num, MUL) + " / " + self.paren(node.den, MUL + 1)

    def _print_PowNode(self, node):
        return self.paren(node.base, POSTFIX) + f"^{node.exp}"

    def _print_TransposeNode(self, node):
        return self.paren(node.arg, POSTFIX) + "^T"

    def _print_InverseNode(self, node):
        return f"inv({self._print(node.arg)})"

    def _print_TraceNode(self, node):
        return f"tr({self._print(node.arg)})"

    def _print_ExpectNode(self, node):
        return f"E[{self._print(node.arg)}]"

    def _print_AvgNode(self, node):
        return f"avg({self._print(node.arg)})"

    def _print_RelationNode(self, node):
        return f"{self._print(node.lhs)} {node.rel} {self._print(node.rhs)}"

    # --- display-only nodes (:mod:`.display`) ------------------------------------------------
    def _print_OuterNode(self, node):
        return " (x) ".join(self.paren(a, OUTER + 1) for a in node.args)

    def _print_InnerNode(self, node):
        return f"<{self._print(node.left)}, {self._print(node.right)}>"

    def _print_SympyNode(self, node):
        return self._print(node.expr)

    def _print_IntervalNode(self, node):
        return f"[{node.lo}, {node.hi}]"

    # --- SymPy leaves in the input syntax ----------------------------------------------------
    def _print_Pow(self, expr, rational=False):
        base, exp = expr.as_base_exp()
        if exp.is_Integer and exp > 0 and not isinstance(base, sp.MatrixExpr):
            b = self._print(base)
            if not (base.is_Symbol or (base.is_Integer and base >= 0)):
                b = f"({b})"
            return f"{b}^{exp}"
        out = super()._print_Pow(expr, rational)
        return out.replace("**", "^")           # one spelling of powers: x^(k/2), never x**(k/2)

    def _print_Derivative(self, expr):
        variables = "".join(f"d{self._print(v)}" for v in expr.variables)
        return f"d/{variables} {self.parenthesize(expr.expr, 60)}"

    def _print_Subs(self, expr):
        where = ", ".join(f"{self._print(v)} = {self._print(p)}" for v, p in zip(expr.variables, expr.point,
                                                                                 strict=True))
        return f"({self._print(expr.expr)} at {where})"

    def _print_Indexed(self, expr):
        return f"{self._print(expr.base.label)}[{', '.join(self._print(k) for k in expr.indices)}]"

    def _print_MatPow(self, expr):
        return f"({self._print(expr.base)})^{self._print(expr.exp)}"

    def _print_Transpose(self, expr):
        arg = expr.arg
        s = self._print(arg)
        return (s if isinstance(arg, sp.MatrixSymbol) else f"({s})") + "^T"

    def _print_Inverse(self, expr):
        return f"inv({self._print(expr.arg)})"

    def _print_Trace(self, expr):
        if expr.arg.shape == (1, 1):
            return f"({self._print(expr.arg)})"  # u^T M v: the trace of a 1 x 1 product
        return f"tr({self._print(expr.arg)})"

    def _print_Identity(self, expr):
        return "I"

    def _print_ZeroMatrix(self, expr):
        return "0 * I"

    def _print_MatrixBase(self, expr):
        return "[" + ", ".join("[" + ", ".join(self._print(x) for x in row) + "]" for row in expr.tolist()) + "]"

    _print_ImmutableDenseMatrix = _print_MutableDenseMatrix = _print_MatrixBase

    def _print_BlockMatrix(self, expr):
        def block(b):
            return "0" if isinstance(b, sp.ZeroMatrix) else self._print(b)
        rows = expr.blocks.tolist()
        return "[" + ", ".join("[" + ", ".join(block(b) for b in row) + "]" for row in rows) + "]"

    def _print_MatMul(self, expr):
        return " * ".join(self.parenthesize(a, sp.printing.precedence.PRECEDENCE["Mul"])
                          for a in expr.args)

    def _print_MatrixElement(self, expr):
        # a 1 x 1 product u^T M v, read as the scalar it is
        return self._print(expr.parent)


def text(node) -> str:
    """Input-syntax text of a tree or a SymPy object."""
    return TextPrinter().doprint(node)


__all__ = ["TextPrinter", "text", "level"]
