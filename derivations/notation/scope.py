"""What the names of a derivation mean: dimensions, declared objects, definitions.

A :class:`Scope` is plain data built from the ``[setup]`` and ``[define]`` parts of a
derivation (or directly in Python with :meth:`Scope.build`):

* ``d``, ``n``: ``None`` (symbolic: the claim must hold for every value) or an integer;
  ``s2`` (the noise variance): ``None`` or an exact rational >= 0;
* ``matrices``: name -> kind, one of ``"general"``, ``"symmetric"``, ``"spd"`` (symmetric
  positive definite);
* ``vectors`` / ``scalars``: name -> law, ``"N(0, X)"`` (a centred Gaussian, independent
  of every other declared Gaussian), ``"constant"`` or ``"opaque"`` (a random quantity whose
  law the engine does not know, e.g. a conditional expectation: claims that take E[...]
  of it can only be assumed);
* ``context``: per-example variables, iid over i = 1..n (names end in ``_i``); the law
  ``"N(0, X)"`` gives a vector for a matrix X and a scalar for a scalar variance;
* ``definitions``: name -> expression text, in order; a definition may use the names
  above and earlier definitions. One that uses per-example variables outside avg(...)
  (e.g. ``y_i = w^T * x_i + eps_i``) is itself per-example and its name ends in ``_i``.

>>> s = Scope.build(matrices={"Sigma": "spd"}, vectors={"w": "N(0, I)"},
...                 context={"x_i": "N(0, Sigma)", "eps_i": "N(0, s2)"},
...                 definitions={"y_i": "w^T * x_i + eps_i", "g": "avg(y_i * x_i)"})
>>> s.lookup("g").shape, s.lookup("y_i").shape, s.is_context("y_i")
('vector', 'scalar', True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp

from ..exact import ExactInputError, parse_rational
from .tree import MATRIX, SCALAR, VECTOR, NameNode, NotationError

MATRIX_KINDS = ("general", "symmetric", "spd")
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)?$")
MAX_NAME = 24
MAX_NAMES = 100
MAX_FIXED_D = 10
MAX_FIXED_N = 10**6


def show(value, limit=40):
    from .parse import show as _show
    return _show(value, limit)


@dataclass(frozen=True)
class Law:
    """How a declared vector/scalar is distributed: gaussian (with covariance), constant, opaque."""

    kind: str
    covariance: object = None
    text: str = ""


def builtin_symbol(name: str, scope=None):
    """The SymPy value of a built-in: the pinned symbols, or the scope's fixed values."""
    from ..alld.tensor import d as D
    from ..symbols import n as N
    from ..symbols import s2 as S2

    fixed = {"n": getattr(scope, "n", None), "d": getattr(scope, "d", None),
             "s2": getattr(scope, "s2", None)}.get(name)
    if fixed is not None:
        return sp.sympify(fixed)
    return {"n": N, "d": D, "s2": S2}[name]


@dataclass
class Scope:
    d: int | None = None
    n: int | None = None
    s2: object = None
    matrices: dict = field(default_factory=dict)
    vectors: dict = field(default_factory=dict)
    scalars: dict = field(default_factory=dict)
    context: dict = field(default_factory=dict)
    definitions: dict = field(default_factory=dict)
    definition_text: dict = field(default_factory=dict)
    context_defs: set = field(default_factory=set)

    # --- construction -------------------------------------------------------------------
    @classmethod
    def build(cls, d=None, n=None, s2=None, matrices=None, vectors=None, scalars=None,
              context=None, definitions=None, where: str = "setup") -> Scope:
        """Validate everything and parse the laws and definitions (NotationError on bad input).

        ``where`` prefixes error messages (e.g. "setup"): "setup.matrices: ...".
        """
        scope = cls(d=_dimension(d, f"{where}.d", MAX_FIXED_D), n=_dimension(n, f"{where}.n", MAX_FIXED_N),
                    s2=_variance(s2, f"{where}.s2"))
        tables = {"matrices": matrices, "vectors": vectors, "scalars": scalars, "context": context}
        seen = {}
        for table, entries in tables.items():
            entries = entries or {}
            if not isinstance(entries, dict):
                raise NotationError(f"{where}.{table}: must be a table of name = value")
            for name, value in entries.items():
                _check_name(name, f"{where}.{table}", context=(table == "context"))
                if name in seen:
                    raise NotationError(f"{where}.{table}: {show(name)} is already declared in {seen[name]}")
                seen[name] = f"{where}.{table}"
                if not isinstance(value, str):
                    raise NotationError(f"{where}.{table}.{name}: must be text, got {type(value).__name__}")
        if len(seen) > MAX_NAMES:
            raise NotationError(f"{where}: more than {MAX_NAMES} names")
        for name, kind in (matrices or {}).items():
            if kind not in MATRIX_KINDS:
                raise NotationError(f"{where}.matrices.{name}: kind must be one of "
                                    f"{', '.join(MATRIX_KINDS)}, got {show(kind)}")
            scope.matrices[name] = kind
        # constant scalars first: covariances may use them (e.g. N(0, c * I))
        for name, text in (scalars or {}).items():
            if text.strip() == "constant":
                scope.scalars[name] = Law("constant", None, text)
        for name, text in (scalars or {}).items():
            if name not in scope.scalars:
                scope.scalars[name] = scope._law(text, f"{where}.scalars.{name}", SCALAR)
        for name, text in (vectors or {}).items():
            scope.vectors[name] = scope._law(text, f"{where}.vectors.{name}", VECTOR)
        for name, text in (context or {}).items():
            law = scope._law(text, f"{where}.context.{name}", None)
            if law.kind != "gaussian":
                raise NotationError(f"{where}.context.{name}: per-example variables are Gaussian: "
                                    "write N(0, covariance)")
            scope.context[name] = law
        scope._check_covariances(where)
        defs = definitions or {}
        if not isinstance(defs, dict):
            raise NotationError("define: must be a table of name = \"expression\"")
        for name, text in defs.items():
            scope.define(name, text, f"define.{name}", seen)
        return scope

    def _law(self, text, field_name, shape):
        from .parse import parse_law

        kind, cov = parse_law(text, self, field_name)
        if kind == "gaussian":
            if shape == VECTOR and cov.shape != MATRIX:
                raise NotationError(f"{field_name}: a vector's covariance must be a d x d matrix")
            if shape == SCALAR and cov.shape != SCALAR:
                raise NotationError(f"{field_name}: a scalar's variance must be a scalar")
        return Law(kind, cov, text.strip())

    def _check_covariances(self, where):
        from .to_tensor import covariance_problem

        for table in ("vectors", "scalars", "context"):
            for name, law in getattr(self, table).items():
                if law.kind == "gaussian":
                    problem = covariance_problem(law.covariance, self)
                    if problem:
                        raise NotationError(f"{where}.{table}.{name}: {problem}")

    def define(self, name, text, field_name, seen=None):
        """Add one definition (parsed now, against everything defined before it)."""
        from .parse import parse_expression

        _check_name(name, "define", context=None)
        if self.lookup(name) is not None or (seen and name in seen):
            raise NotationError(f"define: {show(name)} is already declared")
        if len(self.definitions) >= MAX_NAMES:
            raise NotationError(f"define: more than {MAX_NAMES} definitions")
        node, uses_context = parse_expression(text, self, field_name, context_ok=True)
        if uses_context and not name.endswith("_i"):
            raise NotationError(f"{field_name}: uses per-example variables outside avg(...), so "
                                f"it is per-example: its name must end in _i (e.g. {name}_i)")
        if not uses_context and name.endswith("_i"):
            raise NotationError(f"{field_name}: names ending in _i are per-example, but this "
                                "expression has no per-example variable outside avg(...)")
        self.definitions[name] = node
        self.definition_text[name] = text
        if uses_context:
            self.context_defs.add(name)

    # --- queries ------------------------------------------------------------------------
    def lookup(self, name: str):
        """The NameNode for a name, or None if it is not declared or defined."""
        if name in self.matrices:
            return NameNode(name, MATRIX, "declared")
        if name in self.vectors:
            return NameNode(name, VECTOR, "declared")
        if name in self.scalars:
            return NameNode(name, SCALAR, "declared")
        if name in self.context:
            cov = self.context[name].covariance
            return NameNode(name, VECTOR if cov.shape == MATRIX else SCALAR, "context")
        if name in self.definitions:
            return NameNode(name, self.definitions[name].shape, "defined")
        return None

    def known_names(self) -> str:
        declared = sorted(set(self.matrices) | set(self.vectors) | set(self.scalars)
                          | set(self.context) | set(self.definitions))
        shown = ", ".join(declared[:12]) + (", ..." if len(declared) > 12 else "")
        return f"declared: {shown or 'none'}; built in: n, d, s2, I"

    def is_context(self, name: str) -> bool:
        return name in self.context or name in self.context_defs

    def law(self, name: str):
        return self.vectors.get(name) or self.scalars.get(name) or self.context.get(name)

    def is_random(self, name: str) -> bool:
        """A Gaussian or opaque declared name, or a per-example variable."""
        if name in self.context:
            return True
        law = self.vectors.get(name) or self.scalars.get(name)
        return law is not None and law.kind != "constant"

    def is_constant(self, name: str) -> bool:
        """A declared matrix or a declared constant vector/scalar."""
        if name in self.matrices:
            return True
        law = self.vectors.get(name) or self.scalars.get(name)
        return law is not None and law.kind == "constant"

    def constant_scalar(self, name: str):
        """The SymPy value of a constant scalar name (a symbol, or a definition's value)."""
        law = self.scalars.get(name)
        if law is not None:
            return sp.Symbol(name, real=True) if law.kind == "constant" else None
        if name in self.definitions and name not in self.context_defs:
            from .parse import plain_value
            return plain_value(self.definitions[name], self)
        return None

    @property
    def strength(self) -> str:
        """symbolic-d when d is symbolic (every step holds for every d), else instance."""
        return "symbolic-d" if self.d is None else "instance"


def _check_name(name, where, context):
    if not isinstance(name, str) or not NAME.match(name) or len(name) > MAX_NAME:
        raise NotationError(f"{where}: {show(name)} is not a valid name (letters and digits, "
                            f"at most one '_' before a subscript, at most {MAX_NAME} characters)")
    from .parse import RESERVED

    if name in RESERVED:
        raise NotationError(f"{where}: {show(name)} is reserved ({', '.join(sorted(RESERVED))})")
    if context is True and not name.endswith("_i"):
        raise NotationError(f"{where}: per-example names end in _i (e.g. {name.split('_')[0]}_i), "
                            f"got {show(name)}")
    if context is False and name.endswith("_i"):
        raise NotationError(f"{where}: names ending in _i are per-example; declare {show(name)} "
                            "under context")


def _ascii_text(value, where):
    """Refuse non-ASCII text (e.g. the Arabic-Indic digits of "١/٤") with a clear message."""
    if isinstance(value, str) and not value.isascii():
        from .parse import _char_problem
        bad = next(ch for ch in value if ord(ch) > 127)
        raise NotationError(f"{where}: {_char_problem(bad)}")


def _dimension(value, where, limit):
    _ascii_text(value, where)
    if value is None or value == "symbolic":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise NotationError(f"{where}: must be \"symbolic\" or an integer, got {show(value)}")
    if not 1 <= value <= limit:
        raise NotationError(f"{where}: must be in 1..{limit} when fixed, got {value}")
    return value


def _variance(value, where):
    _ascii_text(value, where)
    if value is None or value == "symbolic":
        return None
    try:
        r = parse_rational(value, where)
    except ExactInputError as err:
        raise NotationError(str(err)) from None
    if r < 0:
        raise NotationError(f"{where}: a variance must be >= 0, got {r}")
    return r


__all__ = ["Scope", "Law", "MATRIX_KINDS", "builtin_symbol"]
