"""A verification task: an exact ``Task`` plus what to check and how hard.

role "claim": the published statement must hold (symbolically and numerically).
role "control": a deliberately false claim that every check must REFUTE.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import sympy as sp

from derivations.task import Task

#: n and s2 used by the Monte Carlo side when the exact task leaves them symbolic
DEFAULT_NUMERIC_N = 10
DEFAULT_NUMERIC_NOISE = sp.Rational(1, 4)
DEFAULT_SAMPLES = 40_000


SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}", re.ASCII)


def report_dir_name(name: str) -> str:
    """The report directory of a task, unambiguous by construction.

    A name of letters, digits, '-' and '_' is its own directory; any other name (spaces,
    dots, other scripts) becomes a slug plus 8 hex digits of its SHA-1, so no directory can be
    a path, a hidden file, or one of the report's own files (those all contain a '.').

    >>> report_dir_name("thm1-d2"), report_dir_name("index.tex")
    ('thm1-d2', 'index-tex-97a32979')
    """
    if SAFE_NAME.fullmatch(name):
        return name
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name, flags=re.ASCII).strip("-_")[:60] or "task"
    return f"{slug}-{hashlib.sha1(name.encode('utf-8')).hexdigest()[:8]}"


@dataclass
class TaskSpec:
    name: str
    task: Task | None                 # None for all-d proofs (no fixed d)
    role: str = "claim"               # "claim" | "control"
    description: str = ""
    numeric: bool = True
    samples: int = DEFAULT_SAMPLES
    numeric_n: int | None = None      # default: the task's n, else DEFAULT_NUMERIC_N
    numeric_noise: object = None      # default: the task's noise, else DEFAULT_NUMERIC_NOISE
    alld: str | None = None           # kind for derivations.alld.prove
    gd_family: tuple | None = None    # dimensions for the Theorem 1 GD-family derivation
    steps: str | None = None          # a derivation file checked step by step (verify.steps_suite)
    gd_family_task: bool = False      # exact side on the GD family of ``task`` only (cheap at large d)
    landscape: str | None = None      # "critical" | "training" (verify.landscape_suite)
    control: dict = field(default_factory=dict)   # the false claim of a control
    user: bool = False                # from a task file
    claim: object = None              # the task file's own claim (verify.claims.UserClaim), if any

    @property
    def theorem(self) -> str:
        return self.name.split("-")[0]

    def numeric_values(self):
        """(n, s2) for the Monte Carlo side, exact."""
        n = self.numeric_n or (int(self.task.n) if not self.task.n_symbolic else DEFAULT_NUMERIC_N)
        s2 = self.numeric_noise
        if s2 is None:
            s2 = self.task.noise if not self.task.noise_symbolic else DEFAULT_NUMERIC_NOISE
        return n, sp.Rational(s2)

    def at_numeric_values(self, expr):
        """An exact result of the task evaluated at the Monte Carlo (n, s2)."""
        from derivations import symbols

        n, s2 = self.numeric_values()
        return sp.sympify(expr).xreplace({symbols.n: n, symbols.s2: s2}) if not isinstance(expr, sp.MatrixBase) \
            else expr.xreplace({symbols.n: n, symbols.s2: s2})

    def describe(self) -> dict:
        """Plain-data description for the JSON results."""
        if self.task is None:
            out = {"alld": self.alld, "gd_family_dimensions": list(self.gd_family or []),
                   "role": self.role, "description": self.description}
            if self.steps:
                out["steps"] = self.steps
                out["control"] = {k: str(v) for k, v in self.control.items()}
            return out
        t = self.task
        out = {"d": t.d, "n": str(t.n), "noise": str(t.noise),
               "covariance": [[str(x) for x in row] for row in t.Sigma.tolist()],
               "prior": [[str(x) for x in row] for row in t.Omega.tolist()],
               "response": {k: v for k, v in vars(t.response).items() if v is not None},
               "query_in_keys": t.query_in_keys, "residual": t.residual, "role": self.role,
               "description": self.description}
        if not t.covariates.is_gaussian:
            out["covariates"] = t.covariates.spec()
        if t.test is not None:
            out["test"] = {"n": str(t.test.n), "noise": str(t.test.noise),
                           "covariance": [[str(x) for x in row] for row in t.test.Sigma.tolist()],
                           "prior": [[str(x) for x in row] for row in t.test.Omega.tolist()]}
        if self.numeric:
            n, s2 = self.numeric_values()
            out["numeric"] = {"n": n, "noise": str(s2), "samples": self.samples}
        if self.control:
            out["control"] = {k: str(v) for k, v in self.control.items()}
        if self.user:
            out["claim"] = self.claim.as_json() if self.claim is not None else None
        return out
