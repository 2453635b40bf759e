"""Late-bound access to the statement vocabulary (:mod:`derivations.statements`).

``statements`` imports the all-d engine and the nonlinear package to build its scope, and the
proof modules of those packages state their steps in its vocabulary; importing it at call time
keeps that from becoming an import cycle. One place for the three entry points (the text
printer writes the input syntax back):

>>> from derivations.printing import text
>>> text(e("Gammastar * C"))
'Gammastar * C'
"""

from __future__ import annotations


def e(text: str):
    """A statement tree (expression) of the project's vocabulary."""
    from .statements import expression
    return expression(text)


def math(text: str):
    """A relation (statement) of the project's vocabulary."""
    from .statements import math as _math
    return _math(text)


def words(text: str) -> tuple:
    """Rich words: plain text with ``$...$`` math in the vocabulary."""
    from .statements import words as _words
    return _words(text)
