"""A task: one distribution of regression prompts, described once, as plain data.

``derivations`` reads it symbolically, ``verify`` hands the same numbers to ``numerics``.
Everything is validated on construction; a bad value raises :class:`TaskError` whose
message names the offending field.

>>> t = Task(d=2)                       # Theorem 1 at d = 2, n and s2 symbolic
>>> t.n, t.noise
(n, s2)
>>> Task(d=2, n=10, noise="1/4", covariance=[[2, 1], [1, 2]], prior="inverse-covariance").Omega
Matrix([
[ 2/3, -1/3],
[-1/3,  2/3]])
>>> Task(d=0)
Traceback (most recent call last):
...
derivations.errors.TaskError: d: must be an integer >= 1, got 0
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from . import symbols
from .errors import ExactInputError, TaskError
from .exact import is_zero, parse_exact, parse_rational

#: the fixed-d engines are exact; beyond this dimension they are not the right tool
MAX_D = 32
MAX_N = 10**9
RESPONSE_FAMILIES = ("linear", "single-index", "two-layer-relu", "expression")
PRIORS = ("identity", "inverse-covariance")


@dataclass(frozen=True)
class Response:
    """How responses are generated: y = w^T x + eps (linear) or y = f(x) + eps.

    family: "linear" | "single-index" (f(x) = link(w^T x)) | "two-layer-relu"
    (f(x) = sum_j a_j relu(v_j^T x), ``width`` units) | "expression" (``expr`` in
    x1..xd, w1..wd and s = w^T x). Text is parsed by a whitelist parser, never evaluated.
    """

    family: str = "linear"
    link: str | None = None
    width: int | None = None
    expr: str | None = None

    def __post_init__(self):
        if self.family not in RESPONSE_FAMILIES:
            raise TaskError(f"response.family: must be one of {', '.join(RESPONSE_FAMILIES)}; got {self.family!r}")
        needs = {"single-index": "link", "two-layer-relu": "width", "expression": "expr"}
        for fam, key in needs.items():
            present = getattr(self, key) is not None
            if fam == self.family and not present:
                raise TaskError(f"response.{key}: required for family {fam!r}")
            if fam != self.family and present:
                raise TaskError(f"response.{key}: not allowed for family {self.family!r}")
        if self.width is not None and (isinstance(self.width, bool) or not isinstance(self.width, int)
                                       or not 1 <= self.width <= 64):
            raise TaskError(f"response.width: must be an integer in 1..64, got {self.width!r}")
        for key in ("link", "expr"):
            text = getattr(self, key)
            if text is not None and not isinstance(text, str):
                raise TaskError(f"response.{key}: must be text, got {type(text).__name__}")

    @property
    def is_linear(self) -> bool:
        return self.family == "linear"


LINEAR = Response()


def _exact_matrix(value, d: int, field_name: str) -> sp.ImmutableMatrix:
    """An exact symmetric positive-definite d x d matrix, or TaskError."""
    try:
        rows = value.tolist() if isinstance(value, sp.MatrixBase) else value
        if not isinstance(rows, (list, tuple)) or not all(isinstance(r, (list, tuple)) for r in rows):
            raise TaskError(f"{field_name}: must be a {d}x{d} matrix (a list of rows)")
        if len(rows) != d or any(len(r) != d for r in rows):
            shape = f"{len(rows)}x{'/'.join(sorted({str(len(r)) for r in rows})) or 0}"
            raise TaskError(f"{field_name}: must be {d}x{d}, got {shape}")
        entries = [[parse_exact(x, f"{field_name}[{i}][{j}]") for j, x in enumerate(r)]
                   for i, r in enumerate(rows)]
    except ExactInputError as err:
        raise TaskError(str(err)) from None
    matrix = sp.ImmutableMatrix(entries)
    for i in range(d):
        for j in range(i + 1, d):
            if not is_zero(matrix[i, j] - matrix[j, i]):
                raise TaskError(f"{field_name}: not symmetric "
                                f"([{i}][{j}] = {matrix[i, j]} but [{j}][{i}] = {matrix[j, i]})")
    for k in range(1, d + 1):
        minor = sp.factor(matrix[:k, :k].det())
        if minor.is_positive:
            continue
        if minor.is_nonpositive:
            raise TaskError(f"{field_name}: not positive definite (leading principal minor {k} is {minor})")
        raise TaskError(
            f"{field_name}: cannot establish positive definiteness (leading principal minor {k} is {minor}); "
            "declare symbols positive, e.g. sympy.Symbol('a', positive=True)"
        )
    return matrix


@dataclass(frozen=True, eq=False)
class Task:
    """One pre-training distribution (the conventions in the README).

    d: covariate dimension; n: context length (None = symbolic ``n``); noise: variance
    s2 (None = symbolic ``s2``); covariance: Sigma (None = identity); prior: Omega,
    "identity", "inverse-covariance" or an exact matrix; query_in_keys / residual:
    model variants; response: :class:`Response` (linear by default); covariates: the law of
    x (:mod:`derivations.laws`; None or {"law": "gaussian"} = Gaussian, else e.g.
    {"law": "uniform", "half_width": 1}: iid coordinates, Sigma = E[x^2] I, no ``covariance``);
    test: a test-time distribution {"n", "covariance", "prior", "noise"} (any subset; the
    rest as in training), stored as a Task in ``test`` (see :mod:`derivations.shift`).
    """

    d: int
    n: object = None
    noise: object = None
    covariance: object = None
    prior: object = "identity"
    query_in_keys: bool = False
    residual: bool = False
    response: Response = field(default=LINEAR)
    name: str | None = None
    covariates: object = None
    test: object = None

    def __post_init__(self):
        set_ = object.__setattr__.__get__(self)
        if isinstance(self.d, bool) or not isinstance(self.d, int) or self.d < 1:
            raise TaskError(f"d: must be an integer >= 1, got {self.d!r}")
        if self.d > MAX_D:
            raise TaskError(f"d: {self.d} is too large for exact fixed-d derivations (at most {MAX_D})")
        if self.n is None:
            set_("n", symbols.n)
        elif isinstance(self.n, bool) or not isinstance(self.n, int) or not 1 <= self.n <= MAX_N:
            raise TaskError(f"n: must be an integer in 1..{MAX_N} (or omitted for symbolic n), got {self.n!r}")
        else:
            set_("n", sp.Integer(self.n))
        if self.noise is None:
            set_("noise", symbols.s2)
        else:
            try:
                noise = parse_rational(self.noise, "noise")
            except ExactInputError as err:
                raise TaskError(str(err)) from None
            if noise < 0:
                raise TaskError(f"noise: the variance must be >= 0, got {noise}")
            set_("noise", noise)
        for flag in ("query_in_keys", "residual"):
            if not isinstance(getattr(self, flag), bool):
                raise TaskError(f"{flag}: must be true or false, got {getattr(self, flag)!r}")
        if not isinstance(self.response, Response):
            raise TaskError(f"response: must be a Response, got {type(self.response).__name__}")
        if self.name is not None and not isinstance(self.name, str):
            raise TaskError(f"name: must be text, got {type(self.name).__name__}")
        if not self.response.is_linear:
            # parse the link/expression text now (whitelist parser; never evaluated), so a
            # bad or hostile text is rejected at construction
            from .nonlinear.parse import parse_expression, parse_link
            if self.response.link is not None:
                parse_link(self.response.link)
            if self.response.expr is not None:
                parse_expression(self.response.expr, self.d)

        law = _law(self)
        set_("covariates", law)
        if law.is_gaussian:
            sigma = sp.ImmutableMatrix(sp.eye(self.d)) if self.covariance is None else \
                _exact_matrix(self.covariance, self.d, "covariance")
        else:
            sigma = law.covariance(self.d)
        set_("covariance", sigma)
        if isinstance(self.prior, str):
            if self.prior not in PRIORS:
                raise TaskError(f"prior: must be {' or '.join(map(repr, PRIORS))} or a matrix, got {self.prior!r}")
            omega = sp.ImmutableMatrix(sp.eye(self.d)) if self.prior == "identity" else \
                sp.ImmutableMatrix(sigma.inv())
            set_("prior_kind", self.prior)
        else:
            omega = _exact_matrix(self.prior, self.d, "prior")
            set_("prior_kind", "matrix")
        set_("Omega", omega)
        set_("test", _test_task(self))

    # --- derived views -------------------------------------------------------------
    @property
    def Sigma(self) -> sp.ImmutableMatrix:
        """Covariance of every covariate vector."""
        return self.covariance

    @property
    def n_symbolic(self) -> bool:
        return not self.n.is_number

    @property
    def noise_symbolic(self) -> bool:
        return not self.noise.is_number

    @property
    def is_linear(self) -> bool:
        return self.response.is_linear

    @property
    def law(self):
        """The law of the covariates (:class:`derivations.laws.Law`)."""
        return self.covariates

    @property
    def parameters(self) -> set:
        """Free symbols the exact results may depend on (n, s2, symbolic matrix entries)."""
        free = set(self.Sigma.free_symbols) | set(self.Omega.free_symbols)
        free |= {s for s in (self.n, self.noise) if isinstance(s, sp.Symbol)}
        return free

    def describe(self) -> str:
        """One-line human description, e.g. 'd = 2, n symbolic, s2 symbolic, Sigma = I, Omega = I'."""
        def mat(m):
            return "I" if m == sp.eye(self.d) else str(m.tolist())
        parts = [f"d = {self.d}", "n symbolic" if self.n_symbolic else f"n = {self.n}",
                 "s2 symbolic" if self.noise_symbolic else f"s2 = {self.noise}",
                 f"Sigma = {mat(self.Sigma)}", f"Omega = {mat(self.Omega)}"]
        if self.response.family != "linear":
            parts.append(f"response={self.response.family}")
        if not self.covariates.is_gaussian:
            parts.append(f"x {self.covariates.describe()}")
        parts += [flag for flag in ("query_in_keys", "residual") if getattr(self, flag)]
        return ", ".join(parts)


TEST_KEYS = ("n", "covariance", "prior", "noise")


def _law(task: Task):
    """The covariate law of ``task``, and the combinations it refuses."""
    from .laws import law_from_spec

    law = law_from_spec(task.covariates)
    if law.is_gaussian:
        return law
    if task.covariance is not None:
        raise TaskError(f"covariance: not allowed with the {law.name} law (its coordinates are iid, "
                        "so the covariance is E[x^2] I); omit covariance")
    if not task.response.is_linear:
        raise TaskError(f"covariates: the {law.name} law is supported for linear responses only "
                        "(Theorem 3's derivation is Gaussian)")
    if task.query_in_keys and law._moments.get(6) is None:
        raise TaskError(f"covariates: query_in_keys needs E[x^6], which the {law.name} law does not give; "
                        "use uniform or rademacher, or drop query_in_keys")
    return law


def _test_task(task: Task):
    """The test-time distribution as a Task (None without ``test``): the given keys replace
    the training values, the others are inherited (Omega inherited as a matrix, so shifting
    only the covariance leaves the prior of w unchanged)."""
    spec = task.test
    if spec is None:
        return None
    if isinstance(spec, Task):
        spec = {"n": None if spec.n_symbolic else int(spec.n), "noise": spec.noise,
                "covariance": spec.Sigma, "prior": spec.Omega}
    if not isinstance(spec, dict):
        raise TaskError(f"test: must be a table with keys among {', '.join(TEST_KEYS)}, got {type(spec).__name__}")
    unknown = sorted(set(spec) - set(TEST_KEYS))
    if unknown:
        raise TaskError(f"test: unknown key {unknown[0]!r} (allowed: {', '.join(TEST_KEYS)})")
    if not task.response.is_linear:
        raise TaskError("test: a test-time shift is supported for linear responses only")
    n = spec.get("n", None if task.n_symbolic else int(task.n))
    noise = spec.get("noise", None if task.noise_symbolic else task.noise)
    law = task.covariates
    if "covariance" in spec and not law.is_gaussian:
        raise TaskError(f"test.covariance: not allowed with the {law.name} law (its covariance is E[x^2] I)")
    covariance = spec.get("covariance", task.Sigma if law.is_gaussian else None)
    prior = spec.get("prior", task.Omega)
    try:
        return Task(d=task.d, n=n, noise=noise, covariance=covariance, prior=prior,
                    query_in_keys=task.query_in_keys, residual=task.residual,
                    name=None if task.name is None else f"{task.name} (test)",
                    covariates=law)
    except TaskError as err:
        raise TaskError(f"test.{err}") from None
