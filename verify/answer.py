"""The answer of a task as mathematical objects: Gamma*, its form, eta*, L* -- exact SymPy values,
or rigorous enclosures -- read from the exact side's own result object (never re-parsed from
text). The terminal, the JSON and the reports all show this one record.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


@dataclass
class Answer:
    """form: "gd" | "preconditioned-gd" | "general" | "unknown"; gamma / eta / loss: exact SymPy
    values or None; eta_enclosure / loss_enclosure: [lo, hi] decimal strings (rigorous), with
    eta_digits / loss_digits the decimal showing only correct digits; preconditioned_eta: eta'
    with Gamma* = eta' Sigma^-1 when Sigma is a multiple of I; strength: the strength label."""

    form: str = "unknown"
    gamma: sp.Matrix | None = None
    eta: sp.Expr | None = None
    loss: sp.Expr | None = None
    preconditioned_eta: sp.Expr | None = None
    eta_enclosure: list | None = None
    loss_enclosure: list | None = None
    eta_digits: str | None = None
    loss_digits: str | None = None
    strength: str = ""

    @property
    def exact(self) -> bool:
        return self.eta is not None or self.gamma is not None


def _basic(value):
    return value if isinstance(value, (sp.Basic, sp.MatrixBase)) else None


def answer_of(result) -> Answer:
    """The Answer of a TaskResult (any kind of exact side)."""
    exact, sym = result.exact, result.symbolic or {}
    out = Answer(form=sym.get("form") or "unknown", strength=str(sym.get("strength") or ""))
    if exact is None:
        return out
    concl = getattr(exact, "conclusion", None)
    concl = concl if isinstance(concl, dict) else {}
    for key in ("gamma", "eta", "loss"):
        value = _basic(getattr(exact, key, None))
        if value is None:
            value = _basic(concl.get(key))
        setattr(out, key, value)
    if isinstance(out.gamma, sp.MatrixBase):
        out.gamma = sp.Matrix(out.gamma)
    detail = getattr(exact, "form_detail", None)
    if detail is not None and getattr(detail, "also_preconditioned", False):
        out.preconditioned_eta = detail.preconditioned_eta
    for key in ("eta_enclosure", "loss_enclosure"):
        if sym.get(key):
            setattr(out, key, list(sym[key]))
    if out.eta_enclosure and out.eta is None:
        out.eta_digits = sym.get("eta")
    if out.loss_enclosure and out.loss is None:
        out.loss_digits = sym.get("loss")
    return out
