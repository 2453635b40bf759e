"""LaTeX from SymPy and from plain-text proof prose, in the notation of DESIGN.md.

* :class:`OnestepPrinter` -- a SymPy ``LatexPrinter``: ``s2`` -> ``\\sigma^2`` (and
  ``s2**2`` -> ``\\sigma^{4}``), ``Sigma``/``Omega``/``Gamma`` -> ``\\Sigma``/``\\Omega``/
  ``\\Gamma``, ``Gamma*`` -> ``\\Gamma^\\star``, ``eta*`` -> ``\\eta^\\star``, ``I`` for the
  identity, ``^\\top`` for transposes, rationals as ``\\frac``, floats that are really small
  rationals printed exactly (no float noise), token/parameter placeholders of the fixed-d
  engine (``t0_x1``, ``t_q2``, ``ux1``, ``A_12`` ...) as subscripted symbols.
* :func:`latex` -- one expression; :func:`lines` -- an expression broken into display lines
  (long sums split between terms, long fractions as ``\\frac{1}{q}\\bigl(...\\bigr)``).
* :func:`relation_lines` -- ``lhs <rel> rhs`` as the body of an ``align`` environment.
* :func:`text` -- plain proof prose ("x_q^T Gamma* g", "E[g g^T]", "s2 >= 0") to LaTeX text
  mode with the identifiers typeset as math.
* :func:`size` / :func:`renderable` -- whether an expression is small enough to display.
"""

from __future__ import annotations

import re
import unicodedata

import sympy as sp
from sympy.printing.latex import LatexPrinter

from derivations.proof import RELATIONS
from derivations.symbols import LATEX_NAMES

#: expressions above these limits are summarised, not displayed
MAX_OPS = 150
MAX_CHARS = 1500
#: rough width (visible characters) of one display line
LINE_WIDTH = 64

GREEK = {
    name: "\\" + name
    for name in (
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
        "zeta",
        "eta",
        "theta",
        "iota",
        "kappa",
        "lambda",
        "mu",
        "nu",
        "xi",
        "pi",
        "rho",
        "sigma",
        "tau",
        "phi",
        "chi",
        "psi",
        "omega",
        "Gamma",
        "Delta",
        "Theta",
        "Lambda",
        "Xi",
        "Pi",
        "Sigma",
        "Phi",
        "Psi",
        "Omega",
    )
}
GREEK["eps"] = r"\varepsilon"

#: names with a fixed rendering (DESIGN.md section 1)
NAMED = {
    "s2": r"\sigma^2",
    "sigma2": r"\sigma^2",
    "n": "n",
    "d": "d",
    "Gamma*": r"\Gamma^\star",
    "Gamma_star": r"\Gamma^\star",
    "Gammastar": r"\Gamma^\star",
    "eta*": r"\eta^\star",
    "eta_star": r"\eta^\star",
    "etastar": r"\eta^\star",
    "L*": r"L^\star",
    "L_star": r"L^\star",
    "theta*": r"\theta^\star",
    "I": "I",
    "E": r"\mathbb{E}",
}
for _sym, _tex in LATEX_NAMES.items():
    NAMED.setdefault(_sym.name, _tex)

_PLACEHOLDERS = [
    (re.compile(r"^t(\d+)_x(\d+)$"), lambda m: f"x_{{{int(m[1]) + 1},{m[2]}}}"),
    (re.compile(r"^t(\d+)_y$"), lambda m: f"y_{{{int(m[1]) + 1}}}"),
    (re.compile(r"^t_q(\d+)$"), lambda m: f"x_{{q,{m[1]}}}"),
    (re.compile(r"^ux(\d+)$"), lambda m: f"u_{{x,{m[1]}}}"),
    (re.compile(r"^uy$"), lambda m: "u_y"),
    (re.compile(r"^([A-Za-z])_?(\d)(\d)$"), lambda m: f"{m[1]}_{{{m[2]}{m[3]}}}"),
    (re.compile(r"^([a-z])(\d+)$"), lambda m: f"{m[1]}_{{{m[2]}}}"),
    (re.compile(r"^gamma_(\d)(\d)$"), lambda m: f"\\Gamma_{{{m[1]}{m[2]}}}"),
    (re.compile(r"^([A-Za-z]+)_(\w+)$"), lambda m: f"{GREEK.get(m[1], m[1])}_{{{_sub(m[2])}}}"),
]


def _sub(s: str) -> str:
    return f"\\mathrm{{{s}}}" if len(s) > 1 and s.isalpha() else s


def raw_name(name: str) -> str:
    """A symbol whose name is already (mostly) LaTeX: tidy it so that it compiles and reads."""
    s = name.replace("(x)", r"\otimes ").replace(r"\ast", r"\star")
    s = re.sub(r"\^T\b", r"^\\top", s)
    # prose words inside math: upright text
    s = re.sub(
        r"(?<![\\{A-Za-z])([A-Za-z][A-Za-z]+(?:-[A-Za-z]+)+|[A-Za-z]{3,})(?![A-Za-z{])",
        lambda m: m[0] if m[0] in GREEK else f"\\text{{{m[0]}}}",
        s,
    )
    return s


def symbol_latex(name: str) -> str | None:
    """The LaTeX of a symbol name, or None to let SymPy decide."""
    if name in NAMED:
        return NAMED[name]
    if "\\" in name:
        return raw_name(name)
    if name in GREEK:
        return GREEK[name]
    for pattern, fmt in _PLACEHOLDERS:
        m = pattern.match(name)
        if m:
            return fmt(m)
    return None


class OnestepPrinter(LatexPrinter):
    """SymPy's LaTeX printer with onestep's notation (see the module docstring)."""

    printmethod = "_onestep_latex"

    def __init__(self, settings=None):
        base = {
            "fold_short_frac": False,
            "mul_symbol": None,
            "mat_delim": "(",
            "mat_str": "pmatrix",
            "inv_trig_style": "abbreviated",
        }
        base.update(settings or {})
        super().__init__(base)

    def _print_Symbol(self, expr, style="plain"):
        tex = symbol_latex(expr.name)
        return tex if tex is not None else super()._print_Symbol(expr, style)

    def _print_Dummy(self, expr):
        return self._print_Symbol(expr)

    def _print_MatrixSymbol(self, expr):
        tex = symbol_latex(expr.name)
        return tex if tex is not None else super()._print_MatrixSymbol(expr)

    def _print_Identity(self, expr):
        return "I"

    def _print_ZeroMatrix(self, expr):
        return "0"

    def _print_Transpose(self, expr):
        arg = expr.arg
        s = self._print(arg)
        if not isinstance(arg, (sp.MatrixSymbol, sp.Symbol)):
            s = r"\left(" + s + r"\right)"
        elif "^" in s:
            s = "{" + s + "}"
        return s + r"^\top"

    def _print_Inverse(self, expr):
        s = self._print(expr.arg)
        if not isinstance(expr.arg, (sp.MatrixSymbol, sp.Symbol)):
            s = r"\left(" + s + r"\right)"
        return s + "^{-1}"

    def _print_Trace(self, expr):
        return r"\operatorname{tr}\left(" + self._print(expr.arg) + r"\right)"

    def _print_Pow(self, expr):
        base, exp = expr.as_base_exp()
        if (
            isinstance(base, sp.Symbol)
            and base.name in ("s2", "sigma2")
            and exp.is_Integer
            and exp > 0
        ):
            return rf"\sigma^{{{2 * int(exp)}}}"
        return super()._print_Pow(expr)

    def _print_Float(self, expr):
        # exact results never hold floats; if one slipped in, print the rational it stands for
        value = float(expr)
        rat = sp.nsimplify(value, rational=True, tolerance=1e-12)
        if (
            isinstance(rat, sp.Rational)
            and rat.q <= 10**6
            and abs(float(rat) - value) <= 1e-12 * max(1, abs(value))
        ):
            return self._print(rat)
        return f"{value:.6g}".replace("e", r"\times 10^{") + ("}" if "e" in f"{value:.6g}" else "")


_PRINTER = OnestepPrinter()


def latex(expr) -> str:
    """LaTeX of a SymPy object (or a number/string) in onestep's notation."""
    if expr is None:
        return ""
    if isinstance(expr, str):
        try:
            expr = sp.sympify(expr)
        except (sp.SympifyError, TypeError, SyntaxError):
            return text(expr)
    if isinstance(expr, (list, tuple)):
        expr = sp.Matrix(expr)
    if isinstance(expr, float):
        expr = sp.Float(expr)
    return _PRINTER.doprint(expr)


def width(tex: str) -> int:
    """A rough count of the characters a formula occupies on the page."""
    s = re.sub(r"\\(left|right|bigl|bigr|Bigl|Bigr)", "", tex)
    s = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", lambda m: "x" * max(len(m[1]), len(m[2])), s)
    s = re.sub(r"\\[A-Za-z]+", "x", s)
    s = re.sub(r"[{}^_]", "", s)
    return len(s)


def size(expr) -> tuple[int, int]:
    """(count_ops, LaTeX length) of an expression or matrix; LaTeX only when count_ops is small."""
    if expr is None:
        return 0, 0
    try:
        if isinstance(expr, sp.MatrixBase):
            ops = sum(sp.count_ops(x) for x in expr)
        else:
            ops = sp.count_ops(sp.sympify(expr))
    except Exception:  # noqa: BLE001 - unknown objects: judge by their text
        ops = len(str(expr)) // 4
    if ops > MAX_OPS:
        return ops, -1
    return ops, len(latex(expr))


def renderable(expr) -> bool:
    ops, chars = size(expr)
    return ops <= MAX_OPS and 0 <= chars <= MAX_CHARS


def display_form(expr):
    """A small exact expression in a readable canonical form (common denominator, cancelled).

    Matrices entrywise; matrix expressions and anything non-commutative are left alone.
    """
    if expr is None:
        return None
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(display_form)
    try:
        e = sp.sympify(expr)
    except (sp.SympifyError, TypeError):
        return expr
    if not isinstance(e, sp.Expr) or not e.is_commutative or e.is_Symbol or e.is_Number:
        return e
    if e.has(sp.Float):
        e = sp.nsimplify(e, rational=True)
    try:
        out = sp.cancel(sp.together(e))
    except (sp.PolynomialError, TypeError, ValueError):
        return e
    return out if len(latex(out)) <= len(latex(e)) + 20 else e


def _is_matrix(expr) -> bool:
    return isinstance(expr, sp.MatrixBase)


def _signed_join(terms: list[str], width_limit: int) -> list[str]:
    """Join already-printed terms with + / - into lines of about width_limit characters."""
    out, cur = [], ""
    for i, t in enumerate(terms):
        piece = t if i == 0 else (" - " + t[1:].lstrip() if t.startswith("-") else " + " + t)
        if cur and width(cur + piece) > width_limit:
            out.append(cur)
            cur = piece.strip() if not piece.strip().startswith("+") else piece.strip()
        else:
            cur += piece
    if cur:
        out.append(cur)
    return out


def lines(expr, width_limit: int = LINE_WIDTH) -> list[str]:
    """An expression as one or more display lines (continuation lines start with + or -)."""
    if _is_matrix(expr):
        return [matrix_latex(expr)]
    expr = sp.sympify(expr)
    tex = latex(expr)
    if width(tex) <= width_limit:
        return [tex]
    if isinstance(expr, sp.Add):
        return _signed_join([latex(t) for t in expr.as_ordered_terms()], width_limit)
    num, den = sp.fraction(sp.together(expr)) if expr.is_commutative else (expr, sp.Integer(1))
    if den != 1 and isinstance(sp.expand(num), sp.Add) and width(latex(den)) < width_limit:
        num = sp.expand(num)
        body = _signed_join([latex(t) for t in num.as_ordered_terms()], width_limit - 8)
        if len(body) > 1:
            head = rf"\frac{{1}}{{{latex(den)}}}\Bigl("
            return [head + body[0]] + body[1:-1] + [body[-1] + r"\Bigr)"]
    return [tex]


def matrix_latex(m) -> str:
    """A matrix as pmatrix."""
    m = sp.Matrix(m)
    rows = [" & ".join(latex(x) for x in row) for row in m.tolist()]
    return r"\begin{pmatrix}" + r" \\ ".join(rows) + r"\end{pmatrix}"


def matrix_fits(m, entry_width: int = 28, total: int = LINE_WIDTH) -> bool:
    m = sp.Matrix(m)
    widths = [width(latex(x)) for x in m]
    per_row = max(sum(widths[i * m.cols : (i + 1) * m.cols]) for i in range(m.rows)) + 2 * m.cols
    return max(widths) <= entry_width and per_row <= total


def relation_lines(lhs, relation: str, rhs, lhs_tex: str | None = None) -> list[str]:
    """The lines of ``lhs <relation> rhs`` for an align environment (with & before the relation).

    Matrices that fit are printed as pmatrix; otherwise entry by entry, one line each.
    Long scalar sides are broken between terms.
    """
    rel = RELATIONS.get(relation, relation)
    if _is_matrix(lhs) or _is_matrix(rhs):
        lm = sp.Matrix(lhs) if _is_matrix(lhs) else None
        rm = sp.Matrix(rhs) if _is_matrix(rhs) else None
        if all(m is None or matrix_fits(m) for m in (lm, rm)):
            left = lhs_tex or latex(lhs)
            return [f"{left} &{rel} {latex(rhs)}"]
        shape = (lm if lm is not None else rm).shape
        out = []
        for i in range(shape[0]):
            for j in range(shape[1]):
                index = f"{i + 1}" if shape[1] == 1 else f"{i + 1}{j + 1}"
                pos = f"{i + 1}" if shape[1] == 1 else f"({i + 1},{j + 1})"
                b = rm[i, j] if rm is not None else rhs
                if lm is None:  # a named matrix = an explicit one: name its entries
                    name = lhs_tex or latex(lhs)
                    name = (
                        name
                        if re.fullmatch(r"\\?[A-Za-z]+(\^\\star)?", name)
                        else rf"\left({name}\right)"
                    )
                    out.extend(_scalar_relation(None, rel, b, lhs_tex=f"{name}_{{{index}}}"))
                else:
                    out.extend(_scalar_relation(lm[i, j], rel, b, lead=rf"\text{{entry }}{pos}:\ "))
        return out
    return _scalar_relation(lhs, rel, rhs, lhs_tex=lhs_tex)


def _scalar_relation(lhs, rel, rhs, lhs_tex=None, lead="") -> list[str]:
    left = [lhs_tex] if lhs_tex else lines(lhs)
    right = lines(rhs)
    if len(left) == 1:
        out = [f"{lead}{left[0]} &{rel} {right[0]}"]
    else:
        out = [f"&\\phantom{{{rel}}}\\ {lead}{left[0]}"] + [f"&\\qquad {x}" for x in left[1:]]
        out.append(f"&{rel} {right[0]}")
    out += [f"&\\qquad {x}" for x in right[1:]]
    return out


# --- prose -> LaTeX text ----------------------------------------------------------------------

_UNICODE = {
    "≥": "$\\ge$",
    "≤": "$\\le$",
    "≠": "$\\ne$",
    "→": "$\\to$",
    "⇒": "$\\Rightarrow$",
    "σ": "$\\sigma$",
    "Σ": "$\\Sigma$",
    "Ω": "$\\Omega$",
    "Γ": "$\\Gamma$",
    "η": "$\\eta$",
    "θ": "$\\theta$",
    "±": "$\\pm$",
    "×": "$\\times$",
    "⊗": "$\\otimes$",
    "∈": "$\\in$",
    "–": "--",
    "—": "---",
    "’": "'",
    "‘": "`",
    "“": "``",
    "”": "''",
    "…": "\\dots{}",
    "·": "$\\cdot$",
    "√": "$\\sqrt{}$",
    "∑": "$\\sum$",
    "²": "$^2$",
}
_ESCAPE = {
    "&": r"\&",
    "%": r"\%",
    "$": r"\textdollar{}",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\\": r"\textbackslash{}",
    "<": r"$<$",
    ">": r"$>$",
    "|": r"$|$",
}
_OPS = {
    ">=": r"$\ge$",
    "<=": r"$\le$",
    "!=": r"$\ne$",
    "->": r"$\to$",
    "=>": r"$\Rightarrow$",
    "+-": r"$\pm$",
    "(x)": r"$\otimes$",
    "^T": r"$^\top$",
    "^(-1)": r"$^{-1}$",
    "^{-1}": r"$^{-1}$",
    "^-1": r"$^{-1}$",
}
_IDENT = re.compile(
    r"(?P<base>[A-Za-z][A-Za-z0-9]*)(?P<star>\*)?"
    r"(?:_(?P<sub>\{[A-Za-z0-9+\-,*' ]*\}|[A-Za-z0-9]+))?(?P<star2>\*)?"
    r"(?:\^(?P<sup>\{[A-Za-z0-9+\-,*' ]*\}|\(-?[A-Za-z0-9]+\)|-?[A-Za-z0-9]+))?"
)
_OP = re.compile("|".join(re.escape(k) for k in sorted(_OPS, key=len, reverse=True)))


def _ident(m: re.Match) -> str:
    base, star, sub, sup = m["base"], m["star"] or m["star2"], m["sub"], m["sup"]
    if base in ("s2", "sigma2") and not (star or sub or sup):
        return r"$\sigma^2$"
    greek = base in GREEK
    if not (greek or star or sub or sup):
        return base
    if len(base) > 2 and not greek and base != "sum" and not star:
        # a word_with_underscores (an identifier in prose), not a subscripted symbol
        word = base + ("_" + sub if sub else "") + ("^" + sup if sup else "")
        return "".join(_ESCAPE.get(ch, ch) for ch in word)
    if base == "sum":
        base = "\\sum"
        greek = True
    tex = (
        base
        if base.startswith("\\")
        else GREEK.get(base, base if len(base) == 1 else rf"\mathrm{{{base}}}")
    )
    if sub:
        s = sub[1:-1] if sub.startswith("{") else sub
        tex += f"_{{{_sub(s)}}}"
    sups = []
    if star:
        sups.append(r"\star")
    if sup:
        s = sup.strip("{}()")
        sups.append(r"\top" if s == "T" else s)
    if sups:
        tex += "^{" + "".join(sups) + "}"
    return f"${tex}$"


def text(s) -> str:
    """Plain prose to LaTeX text mode: special characters escaped, identifiers as math."""
    if s is None:
        return ""
    s = str(s)
    out = []
    i = 0
    while i < len(s):
        ch = s[i]
        m = _OP.match(s, i)
        if m:
            out.append(_OPS[m[0]])
            i = m.end()
            continue
        if ch.isascii() and ch.isalpha():
            m = _IDENT.match(s, i)
            # an identifier glued to a preceding word character is part of that word
            out.append(_ident(m))
            i = m.end()
            continue
        if ch in _ESCAPE:
            out.append(_ESCAPE[ch])
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif not ch.isascii():
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(plain or "?")
        else:
            out.append(ch)
        i += 1
    return "".join(out).replace("$$", "{}")


def escape(s) -> str:
    """Verbatim-looking text: every LaTeX special character escaped, nothing typeset as math."""
    out = []
    for ch in str(s):
        if ch in _ESCAPE:
            out.append(_ESCAPE[ch])
        elif ch.isascii():
            out.append(ch)
        else:
            out.append(unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or "?")
    return "".join(out)


def math_text(s) -> str:
    """Prose for use inside math mode (e.g. a table cell already in $...$): wrapped in \\text."""
    return r"\text{" + text(s) + "}"
