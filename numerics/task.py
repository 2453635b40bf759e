"""A numeric task: the float64 twin of ``derivations.task.Task`` (plain data, no SymPy).

``verify`` builds one from an exact task by converting rationals to floats; ``numerics``
never sees the exact side. Everything is validated on construction and a bad value raises
:class:`NumericTaskError` naming the field.

>>> import numpy as np
>>> t = NumericTask(d=2, n=10, noise=0.25)          # Theorem 1 at d = 2
>>> t.Sigma.tolist(), t.response.family
([[1.0, 0.0], [0.0, 1.0]], 'linear')
>>> import torch
>>> NumericTask(d=2, n=10, noise=0.0, response=Response.single_index(torch.tanh)).response.family
'single-index'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

RESPONSE_FAMILIES = ("linear", "single-index", "two-layer-relu", "callable")


class NumericTaskError(ValueError):
    """An invalid numeric task. The message names the field."""


def _relu(s: torch.Tensor) -> torch.Tensor:
    return torch.clamp(s, min=0.0)


#: ready-made links g for single-index responses y = g(w^T x) + eps
LINKS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "identity": lambda s: s,
    "tanh": torch.tanh,
    "erf": torch.erf,
    "relu": _relu,
    "sin": torch.sin,
    "cube": lambda s: s**3,
}


def polynomial_link(coefficients) -> Callable[[torch.Tensor], torch.Tensor]:
    """g(s) = sum_k coefficients[k] s^k (Horner's rule, float64).

    >>> g = polynomial_link([0.0, 1.0, 0.0, 0.5]); float(g(torch.tensor(2.0)))
    6.0
    """
    coeffs = [float(c) for c in coefficients]
    if not coeffs:
        raise NumericTaskError("link: a polynomial needs at least one coefficient")

    def g(s: torch.Tensor) -> torch.Tensor:
        out = torch.full_like(s, coeffs[-1])
        for c in reversed(coeffs[:-1]):
            out = out * s + c
        return out

    return g


@dataclass(frozen=True)
class Response:
    """How the noiseless response f is generated (noise N(0, s2) is always added).

    family:
      * ``"linear"``: f(x) = w^T x.
      * ``"single-index"``: f(x) = link(w^T x); ``link`` maps a float64 tensor elementwise.
      * ``"two-layer-relu"``: f(x) = sum_j a_j relu(v_j^T x), ``width`` units, v_j ~ N(0, I_d)
        and a_j ~ N(0, 1) drawn once per prompt (shared by its context and query).
      * ``"callable"``: f = ``fn(x, w)`` with x of shape (B, m, d) and w of shape (B, d)
        (w ~ N(0, Omega), one per prompt); must return shape (B, m).
    Use the classmethods rather than the raw constructor.
    """

    family: str = "linear"
    link: Callable[[torch.Tensor], torch.Tensor] | None = None
    width: int | None = None
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None

    def __post_init__(self):
        if self.family not in RESPONSE_FAMILIES:
            raise NumericTaskError(
                f"response.family: must be one of {', '.join(RESPONSE_FAMILIES)}; "
                f"got {self.family!r}"
            )
        needs = {"single-index": "link", "two-layer-relu": "width", "callable": "fn"}
        for fam, key in needs.items():
            present = getattr(self, key) is not None
            if fam == self.family and not present:
                raise NumericTaskError(f"response.{key}: required for family {fam!r}")
            if fam != self.family and present:
                raise NumericTaskError(f"response.{key}: not allowed for family {self.family!r}")
        for key in ("link", "fn"):
            if getattr(self, key) is not None and not callable(getattr(self, key)):
                raise NumericTaskError(f"response.{key}: must be callable")
        if self.width is not None and (
            isinstance(self.width, bool) or not isinstance(self.width, int) or self.width < 1
        ):
            raise NumericTaskError(f"response.width: must be an integer >= 1, got {self.width!r}")

    @classmethod
    def linear(cls) -> Response:
        return cls()

    @classmethod
    def single_index(cls, link: str | Callable[[torch.Tensor], torch.Tensor]) -> Response:
        """``link`` is a callable or a name from :data:`LINKS`."""
        if isinstance(link, str):
            if link not in LINKS:
                raise NumericTaskError(
                    f"response.link: unknown name {link!r}; known: {', '.join(LINKS)}"
                )
            link = LINKS[link]
        return cls(family="single-index", link=link)

    @classmethod
    def two_layer_relu(cls, width: int) -> Response:
        return cls(family="two-layer-relu", width=width)

    @classmethod
    def from_callable(cls, fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Response:
        return cls(family="callable", fn=fn)

    @property
    def is_linear(self) -> bool:
        return self.family == "linear"


COVARIATE_LAWS = ("gaussian", "uniform", "rademacher", "three-point")


@dataclass(frozen=True)
class Covariates:
    """The law of the covariates x (context and query alike).

    * ``"gaussian"`` (default): x ~ N(0, Sigma).
    * ``"uniform"``: iid coordinates uniform on [-a, a] (``scale`` = a); Sigma = a^2/3 I.
    * ``"rademacher"``: iid coordinates +-1; Sigma = I.
    * ``"three-point"``: iid coordinates 0 with probability 1 - p and +-a with probability
      p/2 each (``scale`` = a, ``p``): E[x^2] = p a^2, E[x^4] = p a^4. Any symmetric law with
      variance s and fourth moment m4 >= s^2 has these two moments with a^2 = m4/s, p = s^2/m4.
    Use the classmethods.

    >>> Covariates.with_moments(1 / 3, 1 / 5).variance
    0.3333333333333333
    """

    law: str = "gaussian"
    scale: float = 1.0
    p: float = 1.0

    def __post_init__(self):
        if self.law not in COVARIATE_LAWS:
            raise NumericTaskError(f"covariates: must be one of {', '.join(COVARIATE_LAWS)}, got {self.law!r}")
        for key in ("scale", "p"):
            v = getattr(self, key)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v <= 0:
                raise NumericTaskError(f"covariates.{key}: must be a finite number > 0, got {v!r}")
        if self.p > 1:
            raise NumericTaskError(f"covariates.p: must be <= 1, got {self.p}")

    @classmethod
    def gaussian(cls) -> Covariates:
        return cls()

    @classmethod
    def uniform(cls, half_width: float) -> Covariates:
        return cls("uniform", float(half_width))

    @classmethod
    def rademacher(cls) -> Covariates:
        return cls("rademacher")

    @classmethod
    def with_moments(cls, variance: float, fourth_moment: float) -> Covariates:
        """A symmetric three-point law with the given E[x^2] and E[x^4] (needs m4 >= s^2)."""
        s, m4 = float(variance), float(fourth_moment)
        if not (s > 0 and m4 >= s * s):
            raise NumericTaskError(f"covariates: need variance > 0 and fourth moment >= variance^2, got {s}, {m4}")
        return cls("three-point", math.sqrt(m4 / s), min(1.0, s * s / m4))

    @property
    def is_gaussian(self) -> bool:
        return self.law == "gaussian"

    @property
    def variance(self) -> float:
        """E[x_k^2] of one coordinate (iid laws only)."""
        return {"uniform": self.scale**2 / 3, "rademacher": 1.0,
                "three-point": self.p * self.scale**2}.get(self.law, 1.0)


def _spd(value, d: int, name: str) -> np.ndarray:
    """A float64 symmetric positive-definite d x d array, or NumericTaskError."""
    if value is None:
        return np.eye(d)
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise NumericTaskError(f"{name}: must be a {d}x{d} array of numbers") from None
    if arr.shape != (d, d):
        raise NumericTaskError(f"{name}: must be {d}x{d}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise NumericTaskError(f"{name}: entries must be finite")
    if not np.allclose(arr, arr.T, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(arr).max())):
        raise NumericTaskError(f"{name}: not symmetric")
    arr = (arr + arr.T) / 2
    try:
        np.linalg.cholesky(arr)
    except np.linalg.LinAlgError:
        raise NumericTaskError(f"{name}: not positive definite") from None
    return arr


@dataclass(frozen=True, eq=False)
class NumericTask:
    """One distribution of regression prompts (the conventions in the README), float64.

    d: covariate dimension; n: context length; noise: the noise VARIANCE s2;
    Sigma: covariance of x (None = I); Omega: covariance of w (None = I);
    response: :class:`Response`; query_in_keys / residual: model variants.
    """

    d: int
    n: int
    noise: float = 0.0
    Sigma: np.ndarray | None = None
    Omega: np.ndarray | None = None
    response: Response = field(default_factory=Response)
    query_in_keys: bool = False
    residual: bool = False
    covariates: Covariates = field(default_factory=Covariates)

    def __post_init__(self):
        set_ = object.__setattr__.__get__(self)
        for key in ("d", "n"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise NumericTaskError(f"{key}: must be an integer >= 1, got {v!r}")
            set_(key, int(v))
        try:
            noise = float(self.noise)
        except (TypeError, ValueError):
            raise NumericTaskError(f"noise: must be a number, got {self.noise!r}") from None
        if not math.isfinite(noise) or noise < 0:
            raise NumericTaskError(f"noise: the variance must be finite and >= 0, got {noise}")
        set_("noise", noise)
        if not isinstance(self.covariates, Covariates):
            raise NumericTaskError(
                f"covariates: must be a Covariates, got {type(self.covariates).__name__}"
            )
        if not self.covariates.is_gaussian:
            # iid coordinates: the covariance is the law's variance times I
            if self.Sigma is not None:
                raise NumericTaskError(
                    f"Sigma: not allowed with {self.covariates.law} covariates (Sigma = E[x^2] I)"
                )
            set_("Sigma", np.eye(self.d) * self.covariates.variance)
        set_("Sigma", _spd(self.Sigma, self.d, "Sigma"))
        set_("Omega", _spd(self.Omega, self.d, "Omega"))
        for flag in ("query_in_keys", "residual"):
            if not isinstance(getattr(self, flag), bool):
                raise NumericTaskError(
                    f"{flag}: must be True or False, got {getattr(self, flag)!r}"
                )
        if not isinstance(self.response, Response):
            raise NumericTaskError(
                f"response: must be a Response, got {type(self.response).__name__}"
            )
        self.Sigma.setflags(write=False)
        self.Omega.setflags(write=False)

    @property
    def D(self) -> int:
        """Token dimension d + 1."""
        return self.d + 1

    def describe(self) -> str:
        def mat(m):
            return "I" if np.array_equal(m, np.eye(self.d)) else np.array2string(m, precision=4)

        parts = [
            f"d={self.d}",
            f"n={self.n}",
            f"noise={self.noise:g}",
            f"Sigma={mat(self.Sigma)}",
            f"Omega={mat(self.Omega)}",
            f"response={self.response.family}",
        ]
        if not self.covariates.is_gaussian:
            parts.append(f"covariates={self.covariates.law}")
        parts += [flag for flag in ("query_in_keys", "residual") if getattr(self, flag)]
        return ", ".join(parts)


def resolve_device(device: str | torch.device = "cpu") -> torch.device:
    """``"cpu"`` (default) or ``"cuda"``; CUDA only when asked for AND available."""
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "device 'cuda' was requested but CUDA is not available; use device='cpu'"
        )
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device: must be 'cpu' or 'cuda', got {device!r}")
    return dev


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """An explicitly seeded torch.Generator (never the global RNG)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: must be an integer >= 0, got {seed!r}")
    g = torch.Generator(device=torch.device(device))
    g.manual_seed(int(seed))
    return g


def spawn_seeds(seed: int, count: int) -> list[int]:
    """``count`` independent 63-bit seeds derived from ``seed`` (numpy SeedSequence)."""
    ss = np.random.SeedSequence(int(seed))
    return [int(child.generate_state(1, dtype=np.uint64)[0]) >> 1 for child in ss.spawn(count)]
