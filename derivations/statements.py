"""The vocabulary of onestep's own proof statements, as statement trees.

Every certificate step *states* its claim as mathematics: a relation between statement trees
(:mod:`derivations.notation`) and SymPy values, rendered by :mod:`derivations.printing`. The
trees are parsed from short texts in the statement language, in one fixed scope that declares
the project's notation (x_i, x_q ~ N(0, Sigma), w ~ N(0, Omega), the LSA's weights, the effective
parameters u = (u_x, u_y), M = [A; b^T], Gamma, C, B, the lifted theta, F, H, ...). These texts
are the project's own constants, never user input; parsing them checks their shapes.

This module only *states*; whether a statement holds is decided by the step's own check.

>>> from derivations.printing import latex
>>> latex(statement("E[g * g^T] = C"))
'\\\\mathbb{E}\\\\left[g g^\\\\top\\\\right] = C'
>>> latex(expression("x_q^T * Gammastar * g"))
'x_{q}^\\\\top \\\\Gamma^{\\\\star} g'
"""

from __future__ import annotations

from functools import lru_cache

from .notation.parse import parse_claim, parse_expression
from .notation.scope import Scope

MATRICES = {
    "Sigma": "spd", "Omega": "spd", "Gamma": "general", "Gammastar": "general", "A": "general",
    "M": "general", "C": "spd", "B": "general", "D": "spd", "H": "symmetric", "H_gd": "spd",
    "H_odd": "symmetric", "W_K": "general", "W_Q": "general", "W_V": "general", "W_KQ": "general",
    "W_PV": "general", "P": "general", "Q": "general", "K": "spd", "R": "general",
}
VECTORS = {
    "x_q": "N(0, Sigma)", "w": "N(0, Omega)", "z_q": "opaque", "h": "constant", "u": "constant",
    "u_x": "constant", "b": "constant", "r": "constant", "theta": "constant", "thetastar": "constant",
    "theta_gd": "constant", "theta_odd": "constant", "c": "constant", "c_gd": "constant",
    "F": "opaque", "F_gd": "opaque", "F_odd": "opaque", "m_f": "opaque", "e": "constant",
    "v": "constant", "z": "opaque", "x": "N(0, Sigma)",
}
SCALARS = {
    "u_y": "constant", "yhat": "opaque", "y_q": "opaque", "eps_q": "N(0, s2)", "eta": "constant",
    "etastar": "constant", "L": "constant", "Lstar": "constant", "k": "constant", "rho": "constant",
    "a": "constant", "f_q": "opaque", "kappa": "constant", "f": "opaque", "y": "opaque",
    "s": "opaque", "eps": "N(0, s2)", "alpha": "opaque", "beta": "opaque",
}
CONTEXT = {"x_i": "N(0, Sigma)", "eps_i": "N(0, s2)", "z_i": "N(0, I)",
           # generic per-example scalars (the split of a double average into i = j and i != j)
           "alpha_i": "N(0, 1)", "beta_i": "N(0, 1)"}
DEFINITIONS = {"y_i": "w^T * x_i + eps_i", "g": "avg(y_i * x_i)", "S": "avg(x_i * x_i^T)"}


@lru_cache(maxsize=1)
def vocabulary() -> Scope:
    """The one scope every onestep statement is written in (symbolic d, n, s2)."""
    return Scope.build(matrices=MATRICES, vectors=VECTORS, scalars=SCALARS, context=CONTEXT,
                       definitions=DEFINITIONS, where="statements")


@lru_cache(maxsize=512)
def statement(text: str):
    """A relation (``lhs = rhs``, ``succeq``, ``succ``) of the vocabulary, as a statement tree."""
    return parse_claim(text, vocabulary(), field="statement")


@lru_cache(maxsize=512)
def expression(text: str):
    """An expression of the vocabulary, as a statement tree (per-example names allowed)."""
    node, _ = parse_expression(text, vocabulary(), field="expression", context_ok=True)
    return node


def math(text: str):
    """A relation when ``text`` has one (=, succeq, succ), else an expression."""
    padded = f" {text} "
    if "=" in text or " succ " in padded or " succeq " in padded:
        return statement(text)
    return expression(text)


@lru_cache(maxsize=512)
def words(text: str) -> tuple:
    """Rich words from a sentence with ``$...$`` math in the statement language.

    The math is parsed into statement trees (so it is shape-checked and rendered by the
    printers); the words stay plain. The sentences are the project's own constants.

    >>> from derivations.printing import latex_words, text_words
    >>> w = words("The second moment $C = E[g * g^T]$ of $g$ is positive definite.")
    >>> text_words(w)
    'The second moment C = E[g * g^T] of g is positive definite.'
    >>> latex_words(w)
    'The second moment $C = \\\\mathbb{E}\\\\left[g g^\\\\top\\\\right]$ of $g$ is positive definite.'
    """
    parts = text.split("$")
    if len(parts) % 2 == 0:
        raise ValueError(f"unbalanced $ in {text!r}")
    out = []
    for k, part in enumerate(parts):
        if k % 2:
            out.append(math(part))
        elif part:
            out.append(part)
    return tuple(out)


def task_words(task) -> tuple:
    """A task's distribution as rich words: ``d = 2, n and s2 symbolic, Sigma = I, Omega = I``.

    >>> from derivations.task import Task
    >>> from derivations.printing import latex_words
    >>> latex_words(task_words(Task(d=2, n=8)))
    '$d = 2$, $n = 8$, $\\\\sigma^2$ symbolic, $\\\\Sigma = I$, $\\\\Omega = I$'
    """
    import sympy as sp

    from .proof import Relation

    def value(name, v):
        return Relation(expression(name), "=", sp.sympify(v, strict=True))

    def matrix(name, m):
        return math(f"{name} = I") if m == sp.eye(task.d) else Relation(expression(name), "=", sp.Matrix(m))

    out = [value("d", task.d), ", "]
    if task.n_symbolic and task.noise_symbolic:
        out += [expression("n"), " and ", expression("s2"), " symbolic"]
    else:
        out += [expression("n"), " symbolic"] if task.n_symbolic else [value("n", task.n)]
        out += [", "] + ([expression("s2"), " symbolic"] if task.noise_symbolic else [value("s2", task.noise)])
    out += [", ", matrix("Sigma", task.Sigma), ", ", matrix("Omega", task.Omega)]
    if task.response.family != "linear":
        out.append(f", {task.response.family} response")
    if not task.covariates.is_gaussian:
        out.append(f", covariates {task.covariates.describe()}")
    out += [f", {flag}" for flag, on in (("the query among the keys", task.query_in_keys),
                                          ("a residual connection", task.residual)) if on]
    return tuple(out)


__all__ = ["statement", "expression", "math", "words", "task_words", "vocabulary"]
