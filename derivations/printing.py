"""The printers: one LaTeX printer and one text printer for every mathematical object onestep
shows -- SymPy expressions and matrices, statement trees (:mod:`derivations.notation`), the
:class:`~derivations.proof.Relation` of a proof step, and "rich words" (a tuple mixing plain
words with mathematical objects, rendered inline).

Objects carry structure; these functions render it. Nothing here parses or guesses LaTeX from
prose: words are escaped as text, mathematics goes through the printers.

>>> import sympy as sp
>>> from derivations.proof import Relation
>>> n, s2 = sp.Symbol("n"), sp.Symbol("s2")
>>> latex(Relation(sp.Symbol("eta"), "=", n / (n + 3 + s2)))
'\\\\eta = \\\\frac{n}{n + \\\\sigma^2 + 3}'
>>> latex_words(("the step size ", sp.Symbol("eta"), " is 100% exact"))
'the step size $\\\\eta$ is 100\\\\% exact'
>>> text(Relation(sp.Symbol("eta"), "=", n / (n + 3 + s2)))
'eta = n/(n + s2 + 3)'
"""

from __future__ import annotations

import sympy as sp

from .notation.latex import NotationLatexPrinter, display_lines, expression_lines
from .notation.text import TextPrinter

#: LaTeX of the relations a Relation may carry
RELATION_TEX = {"=": "=", "<": "<", ">": ">", "<=": r"\le", ">=": r"\ge", "succ": r"\succ", "succeq": r"\succeq",
                "perp": r"\perp", "in": r"\in", "implies": r"\Longrightarrow"}
RELATION_TEXT = {"=": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "succ": "succ", "succeq": "succeq",
                 "perp": "perp", "in": "in", "implies": "=>"}

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                "|": r"\textbar{}", "<": r"\textless{}", ">": r"\textgreater{}"}


def _is_relation(obj) -> bool:
    return type(obj).__name__ == "Relation" and hasattr(obj, "rel")


def latex(obj) -> str:
    """Math-mode LaTeX of a Relation, a statement tree or a SymPy object."""
    printer = NotationLatexPrinter()
    if _is_relation(obj):
        left = printer.doprint(obj.lhs)
        if obj.rhs is None:
            return left
        return f"{left} {RELATION_TEX[obj.rel]} {printer.doprint(obj.rhs)}"
    return printer.doprint(obj)


def text(obj) -> str:
    """Plain text (the input syntax of the statement language; SymPy's spelling otherwise)."""
    printer = TextPrinter()
    if _is_relation(obj):
        left = printer.doprint(obj.lhs)
        return left if obj.rhs is None else f"{left} {RELATION_TEXT[obj.rel]} {printer.doprint(obj.rhs)}"
    return printer.doprint(obj)


def escape(words: str) -> str:
    """Plain words for LaTeX text mode: special characters escaped, and anything that is not
    printable ASCII (control characters, symbols a font may lack) shown as ``?``."""
    return "".join(_TEX_SPECIAL.get(ch, ch) if ch.isascii() and (ch.isprintable() or ch in "\n\t")
                   else "?" for ch in str(words))


def _parts(words):
    if words is None:
        return ()
    if isinstance(words, str) or not isinstance(words, (tuple, list)):
        return (words,)
    return tuple(words)


def latex_words(words) -> str:
    """Text-mode LaTeX of words: strings escaped, mathematical objects inline as $...$."""
    return "".join(escape(p) if isinstance(p, str) else f"${latex(p)}$" for p in _parts(words))


def text_words(words) -> str:
    """Plain text of words (mathematical objects by the text printer)."""
    return "".join(p if isinstance(p, str) else text(p) for p in _parts(words))


def display_tex(relation, width: int | None = None) -> list:
    """The body lines of an ``align`` display of a Relation, long sums broken between terms."""
    kwargs = {} if width is None else {"width": width}
    if relation.rhs is None:
        return expression_lines(relation.lhs, **kwargs)
    return display_lines(relation.lhs, relation.rel if relation.rel in ("=", "succeq", "succ")
                         else RELATION_TEX[relation.rel], relation.rhs, **kwargs)


__all__ = ["latex", "text", "escape", "latex_words", "text_words", "display_tex", "value_lines", "RELATION_TEX"]


def value_lines(name_tex: str, value, width: int | None = None) -> list:
    """``align`` body lines showing ``name = value`` readably within the line width.

    A matrix whose entries fit is shown whole (pmatrix); otherwise entry by entry. A long
    fraction is shown as N/D with N and D on their own (broken) lines; other long sums are
    broken between terms.
    """
    from .notation.latex import LINE_WIDTH, visible_width

    width = width or LINE_WIDTH
    if isinstance(value, sp.MatrixBase):
        whole = latex(value)
        if visible_width(whole) <= width and all(visible_width(latex(x)) <= width // max(value.cols, 1)
                                                  for x in value):
            return [f"{name_tex} &= {whole}"]
        lines = []
        for i in range(value.rows):
            for j in range(value.cols):
                lines += value_lines(f"{name_tex}_{{{i + 1}{j + 1}}}", value[i, j], width)
        return lines
    tex = latex(value)
    if visible_width(tex) + visible_width(name_tex) <= width:
        return [f"{name_tex} &= {tex}"]
    num, den = sp.fraction(sp.together(value)) if isinstance(value, sp.Expr) else (value, sp.Integer(1))
    if den != 1 and visible_width(latex(num)) > width // 2:
        lines = [f"{name_tex} &= \\frac{{N}}{{D}}, \\quad \\text{{where}}"]
        lines += _broken("N", sp.expand(num), width)
        lines += _broken("D", sp.expand(den), width)
        return lines
    return _broken(name_tex, value, width)


def _broken(name_tex, value, width):
    """name = value with the value's top-level sum broken over lines (continuations indented)."""
    indent = "&\\quad "
    body = expression_lines(value, width=width - 6, prefix="")
    return [f"{name_tex} &= {body[0]}"] + [indent + b.replace(indent, "") for b in body[1:]]
