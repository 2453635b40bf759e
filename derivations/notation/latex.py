r"""The LaTeX printer: expression trees (and SymPy results) as mathematics.

One ``_print_<Node>`` method per node class, falling back to SymPy's ``LatexPrinter`` for
SymPy leaves (exact coefficients, the engine's canonical forms). Notation: ``\Sigma``,
``\Omega``, ``\mathbb{E}``, ``\operatorname{tr}``, ``^\top``, ``^{-1}``,
``\frac{1}{n}\sum_{i=1}^{n}`` (nested averages use j, k, ... and rename their per-example
variables accordingly; an average followed by more factors is parenthesised, so its sum visibly
ends), ``\sigma^2`` for s2, ``\succeq`` / ``\succ``.

Names: a Greek name is its letter (``eps`` is ``\varepsilon``); ``base_sub`` is
``base_{sub}``; a base ending in ``hat`` gets a hat (``what_D`` is ``\hat{w}_{D}``);
one ending in ``star`` a star (``Lstar`` is ``L^{\star}``), one ending in ``prime`` a prime
(``xprime_q`` is ``x'_{q}``); other multi-letter names are upright (``\mathrm{Xty}``, set
off by thin spaces in products).

>>> from derivations.notation.scope import Scope
>>> from derivations.notation.parse import parse_claim
>>> s = Scope.build(matrices={"Sigma": "spd", "Omega": "spd"}, context={"x_i": "N(0, Sigma)"})
>>> latex(parse_claim("E[avg(x_i*x_i^T)*Omega] = Sigma*Omega", s))
'\\mathbb{E}\\left[\\left(\\frac{1}{n}\\sum_{i=1}^{n} x_{i} x_{i}^\\top\\right) \\Omega\\right] = \\Sigma \\Omega'
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter

from ..symbols import LATEX_NAMES
from .text import ADD, MUL, NEG, OUTER, POSTFIX, level
from .tree import AddNode, BuiltinNode, InverseNode, NameNode, NegNode, NumberNode, scalar_groups

GREEK = {g: "\\" + g for g in (
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega")}
GREEK["eps"] = r"\varepsilon"
RELATION_TEX = {"=": "=", "succeq": r"\succeq", "succ": r"\succ"}
#: summation indices of nested averages
INDICES = "ijklm"
#: visible characters of one display line (a 10pt article with 2 cm margins)
LINE_WIDTH = 70


def _base_tex(base: str) -> str:
    if base in GREEK:
        return GREEK[base]
    if base.endswith("hat") and len(base) > 3:
        return r"\hat{" + _base_tex(base[:-3]) + "}"
    if base.endswith("star") and len(base) > 4:
        return _base_tex(base[:-4]) + r"^{\star}"
    if base.endswith("prime") and len(base) > 5:
        return _base_tex(base[:-5]) + "'"
    m = re.match(r"^([A-Za-z]+)([0-9]+)$", base)
    if m:
        return f"{_base_tex(m[1])}_{{{m[2]}}}"
    return base if len(base) == 1 else r"\mathrm{" + base + "}"


#: the names onestep's own derivations give to coordinates and parameters (the effective
#: parameters ux1.., uy, A_ij, b_j, r_j; the paper's weights W_K..; generic Gamma entries)
_PARAMETER_NAMES = [
    (re.compile(r"^ux(\d+)$"), lambda m: f"u_{{x,{m[1]}}}"),
    (re.compile(r"^uy$"), lambda m: "u_{y}"),
    (re.compile(r"^([A-Z])_(\d)(\d)$"), lambda m: f"{m[1]}_{{{m[2]}{m[3]}}}"),
    (re.compile(r"^gamma_(\d)(\d)$"), lambda m: f"\\Gamma_{{{m[1]}{m[2]}}}"),
    (re.compile(r"^W_(K|Q|V|KQ|PV)$"), lambda m: f"W^{{{m[1]}}}"),
    (re.compile(r"^t(\d+)_x(\d+)$"), lambda m: f"x_{{{int(m[1]) + 1},{m[2]}}}"),
    (re.compile(r"^t(\d+)_y$"), lambda m: f"y_{{{int(m[1]) + 1}}}"),
    (re.compile(r"^t_q(\d+)$"), lambda m: f"x_{{q,{m[1]}}}"),
    (re.compile(r"^e$"), lambda m: "e_{d+1}"),
]


def name_tex(name: str, index: str = "i") -> str:
    """LaTeX of a declared name; a per-example ``_i`` subscript becomes ``index``."""
    if name in LATEX_NAMES_BY_NAME:
        return LATEX_NAMES_BY_NAME[name]
    for pattern, fmt in _PARAMETER_NAMES:
        m = pattern.match(name)
        if m:
            return fmt(m)
    base, _, sub = name.partition("_")
    out = _base_tex(base)
    if sub:
        if sub == "i":
            sub_tex = index
        elif sub in GREEK:
            sub_tex = GREEK[sub]
        elif len(sub) == 1 or sub.isdigit():
            sub_tex = sub
        else:
            sub_tex = r"\mathrm{" + sub + "}"
        out += "_{" + sub_tex + "}"
    return out


LATEX_NAMES_BY_NAME = {sym.name: tex for sym, tex in LATEX_NAMES.items()}


def _has_superscript(tex: str) -> bool:
    r"""A printed base that already carries a superscript (x^\top, x', L^\star) needs braces
    before another one (LaTeX refuses a double superscript)."""
    return "^" in tex or "'" in tex


class NotationLatexPrinter(LatexPrinter):
    """LaTeX for expression trees and SymPy leaves (see the module doc)."""

    printmethod = "_onestep_notation_latex"

    def __init__(self, settings=None):
        base = {"fold_short_frac": False, "mul_symbol": None, "mat_delim": "",
                "mat_str": "pmatrix"}
        base.update(settings or {})
        super().__init__(base)
        self._avg_depth = 0

    def paren(self, node, minimum: int) -> str:
        s = self._print(node)
        return r"\left(" + s + r"\right)" if level(node) < minimum else s

    # --- tree nodes ------------------------------------------------------------------------
    def _print_NumberNode(self, node):
        return str(node.value)

    def _print_BuiltinNode(self, node):
        return {"s2": r"\sigma^2"}.get(node.name, node.name)

    def _print_ZeroNode(self, node):
        return "0"

    def _print_IdentityNode(self, node):
        return "I"

    def _print_NameNode(self, node):
        index = INDICES[max(self._avg_depth - 1, 0) % len(INDICES)]
        return name_tex(node.name, index)

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
        groups = scalar_groups(node.args)
        if len(groups) > 1 and sum(len(g) > 1 for g in groups) >= 2:
            # several scalar factors: (u^T z)(z^T M x_q), each run in parentheses
            return "".join(r"\left(" + self._print_factors(g) + r"\right)" if len(g) > 1
                           else self.paren(g[0], MUL + 1) for g in groups)
        return self._print_factors(node.args)

    def _avg_factor(self, a, s, last: bool) -> str:
        """An average followed by more factors is parenthesised: its sum ends there."""
        if type(a).__name__ == "AvgNode" and not last:
            return r"\left(" + s + r"\right)"
        return s

    def _print_factors(self, args):
        out = prev = self._avg_factor(args[0], self.paren(args[0], MUL), len(args) == 1)
        for k, a in enumerate(args[1:], start=2):
            s = self._avg_factor(a, self.paren(a, MUL + 1), k == len(args))
            if s[:1].isdigit() or s.startswith("-") or isinstance(a, NumberNode):
                joiner = r" \cdot "
            elif s.startswith(r"\mathrm") or prev.startswith(r"\mathrm"):
                joiner = r" \, "                   # Xty w: keep an upright name apart
            else:
                joiner = " "
            out += joiner + s
            prev = s
        return out

    def _print_DivNode(self, node):
        return r"\frac{" + self._print(node.num) + "}{" + self._print(node.den) + "}"

    def _print_PowNode(self, node):
        if isinstance(node.base, BuiltinNode) and node.base.name == "s2":
            return rf"\sigma^{{{2 * node.exp}}}"
        s = self.paren(node.base, POSTFIX)
        if _has_superscript(s) and not s.endswith(r"\right)"):
            s = "{" + s + "}"
        return s + "^{" + str(node.exp) + "}"

    def _print_TransposeNode(self, node):
        if isinstance(node.arg, InverseNode) and isinstance(node.arg.arg, NameNode):
            return self._print(node.arg.arg) + r"^{-\top}"
        s = self.paren(node.arg, POSTFIX)
        m = re.fullmatch(r"([A-Za-z])\^\{([A-Za-z]+)\}", s)
        if m:                                   # W^{V} transposed: W^{V\top}, one superscript
            return f"{m[1]}^{{{m[2]}\\top}}"
        if _has_superscript(s) and not s.endswith(r"\right)"):
            s = "{" + s + "}"
        return s + r"^\top"

    def _print_InverseNode(self, node):
        arg = node.arg
        s = self._print(arg)
        if not isinstance(arg, (NameNode, BuiltinNode, NumberNode)) or _has_superscript(s):
            s = r"\left(" + s + r"\right)"
        return s + "^{-1}"

    def _print_TraceNode(self, node):
        return r"\operatorname{tr}\left(" + self._print(node.arg) + r"\right)"

    def _print_ExpectNode(self, node):
        return r"\mathbb{E}\left[" + self._print(node.arg) + r"\right]"

    def _print_AvgNode(self, node):
        self._avg_depth += 1
        try:
            index = INDICES[(self._avg_depth - 1) % len(INDICES)]
            arg = node.arg
            body = self._print(arg)
            if isinstance(arg, (AddNode, NegNode)):
                body = r"\left(" + body + r"\right)"
            return rf"\frac{{1}}{{n}}\sum_{{{index}=1}}^{{n}} " + body
        finally:
            self._avg_depth -= 1

    def _print_RelationNode(self, node):
        return f"{self._print(node.lhs)} {RELATION_TEX[node.rel]} {self._print(node.rhs)}"

    # --- display-only nodes (:mod:`.display`) ------------------------------------------------
    def _print_OuterNode(self, node):
        parts = []
        for k, a in enumerate(node.args):
            s = self.paren(a, OUTER + 1)
            if type(a).__name__ == "AvgNode" and k < len(node.args) - 1:
                s = r"\left(" + s + r"\right)"        # the sum ends before the next factor
            parts.append(s)
        return r" \otimes ".join(parts)

    def _print_InnerNode(self, node):
        return r"\left\langle " + self._print(node.left) + ", " + self._print(node.right) + r"\right\rangle"

    def _print_SympyNode(self, node):
        return self._print(node.expr)

    def _print_IntervalNode(self, node):
        return r"\left[" + node.lo + r",\ " + node.hi + r"\right]"

    # --- SymPy leaves ----------------------------------------------------------------------
    def _print_Symbol(self, expr, style="plain"):
        if expr.name in LATEX_NAMES_BY_NAME:
            return LATEX_NAMES_BY_NAME[expr.name]
        if re.match(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)?$", expr.name):
            return name_tex(expr.name)
        return super()._print_Symbol(expr, style)

    def _print_Dummy(self, expr):
        return self._print_Symbol(expr)

    def _print_MatrixSymbol(self, expr):
        return name_tex(expr.name)

    def _print_Pow(self, expr):
        base, exp = expr.as_base_exp()
        if isinstance(base, sp.Symbol) and base.name == "s2" and exp.is_Integer and exp > 0:
            return rf"\sigma^{{{2 * int(exp)}}}"
        return super()._print_Pow(expr)

    def _print_Identity(self, expr):
        return "I"

    def _print_ZeroMatrix(self, expr):
        return "0"

    def _print_Transpose(self, expr):
        s = self._print(expr.arg)
        if not isinstance(expr.arg, sp.MatrixSymbol):
            s = r"\left(" + s + r"\right)"
        elif _has_superscript(s):
            s = "{" + s + "}"
        return s + r"^\top"

    def _print_Inverse(self, expr):
        if isinstance(expr.arg, sp.Transpose) and isinstance(expr.arg.arg, sp.MatrixSymbol):
            return self._print(expr.arg.arg) + r"^{-\top}"
        s = self._print(expr.arg)
        if not isinstance(expr.arg, sp.MatrixSymbol):
            s = r"\left(" + s + r"\right)"
        elif _has_superscript(s):
            s = "{" + s + "}"
        return s + "^{-1}"

    def _print_Trace(self, expr):
        if expr.arg.shape == (1, 1):
            return self._print(expr.arg)        # u^T M v: the trace of a 1 x 1 product
        return r"\operatorname{tr}\left(" + self._print(expr.arg) + r"\right)"

    def _print_MatrixElement(self, expr):
        return self._print(expr.parent)

    def _print_Indexed(self, expr):
        # x[i, 1] is x_{i,1}: coordinate 1 of example i
        return (self._print(expr.base.label) + "_{" + ",".join(self._print(k) for k in expr.indices)
                + "}")


def latex(node) -> str:
    """LaTeX (math mode) of a tree or a SymPy object."""
    return NotationLatexPrinter().doprint(node)


# --- display lines ---------------------------------------------------------------------------

def visible_width(tex: str) -> int:
    """A rough count of the characters a LaTeX string shows (commands count as one)."""
    s = re.sub(r"\\(left|right|bigl|bigr|Bigl|Bigr)", "", tex)
    s = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", lambda m: "x" * max(len(m[1]), len(m[2])), s)
    s = re.sub(r"\\[A-Za-z]+", "x", s)
    s = re.sub(r"[{}^_ ]", "", s)
    return len(s)


def _terms(node) -> list:
    """Signed top-level terms of a sum: [("+", tex), ("-", tex), ...]."""
    printer = NotationLatexPrinter()
    if isinstance(node, AddNode):
        out = [("", printer.paren(node.args[0], ADD))]
        for a in node.args[1:]:
            if isinstance(a, NegNode):
                out.append(("-", printer.paren(a.arg, MUL)))
            else:
                out.append(("+", printer.paren(a, ADD + 1)))
        return out
    if isinstance(node, (sp.Add, sp.MatAdd)):
        args = list(node.args)
        out = []
        for k, a in enumerate(args):
            tex = printer.doprint(a)
            if k and tex.startswith("-"):
                out.append(("-", tex[1:].strip()))
            else:
                out.append(("+" if k else "", tex))
        return out
    return [("", printer.doprint(node))]


def _pack(terms, width: int, first_prefix: str, cont_prefix: str) -> list:
    lines, current = [], first_prefix
    current_width = 0
    for sign, tex in terms:
        piece = (f" {sign} " if sign else "") + tex
        w = visible_width(piece)
        if current_width and current_width + w > width:
            lines.append(current)
            current, current_width = cont_prefix + f"{sign} " + tex, w
        else:
            current += piece
            current_width += w
    lines.append(current)
    return lines


def display_lines(lhs, rel: str, rhs, width: int = LINE_WIDTH) -> list:
    """The body lines of an ``align`` display of ``lhs rel rhs`` (sums broken between terms).

    Each line has one ``&``; continuation lines are indented by ``\\quad``.
    """
    rel_tex = RELATION_TEX.get(rel, rel)
    lhs_terms, rhs_terms = _terms(lhs), _terms(rhs)
    lhs_width = sum(visible_width(t) + 3 for _, t in lhs_terms)
    rhs_width = sum(visible_width(t) + 3 for _, t in rhs_terms)
    if lhs_width + rhs_width <= width:
        return [_pack(lhs_terms, 10**6, "", "")[0] + f" &{rel_tex} " + _pack(rhs_terms, 10**6, "", "")[0]]
    if lhs_width <= width // 2:
        left = _pack(lhs_terms, 10**6, "", "")[0]
        return _pack(rhs_terms, width - lhs_width, f"{left} &{rel_tex} ", r"&\quad ")
    lines = _pack(lhs_terms, width, "&", r"&\quad ")
    lines += _pack(rhs_terms, width - 4, f"&{rel_tex} ", r"&\quad ")
    return lines


def expression_lines(expr, width: int = LINE_WIDTH, prefix: str = "&") -> list:
    """An expression alone, broken between the terms of its top-level sum."""
    return _pack(_terms(expr), width, prefix, r"&\quad ")


__all__ = ["NotationLatexPrinter", "latex", "name_tex", "display_lines", "expression_lines",
           "visible_width", "LINE_WIDTH"]
