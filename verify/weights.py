"""``python -m verify.weights``: how far is a trained LSA from the exact optimum?

    python -m verify.weights --task FILE --weights WEIGHTS [--sign -1|1] [--json OUT] [--report DIR]

FILE is a task file with one ``[[task]]`` (linear response, n and noise fixed); WEIGHTS a
``.npz``, a torch ``.pt`` state dict or a JSON object holding the weights in one of the
parameterisations (recognised from the names; :data:`PARAMETERISATIONS`):

* ``paper``: W_K, W_Q, W_V ((d+1) x (d+1)) and h (d+1): yhat = h^T(W^V z (W^K z)^T W^Q z_q)/n;
* ``merged``: W_KQ, W_PV: yhat = the label slot of W^PV Z Z^T W^KQ z_q / n (Zhang-Frei-Bartlett);
* ``ahn``: P, Q (Ahn et al.'s one layer): yhat = sign * label slot of P Z Z^T Q z_q / n, with
  sign = -1 by default as in their code (``--sign`` or a ``sign`` entry in the file changes it);
* ``effective``: u (d+1), M ((d+1) x d) [, r (d)] (numerics' effective LSA).

Aliases: WK, WQ, WV, WKQ, WPV for the names with underscores; a prefix shared by every key
("model.W_K", "model.W_Q", ...) is dropped. Every weight is converted to the exact rational of its
binary float64 value; the report is exact: Gamma = u_y A^T + b u_x^T and the odd block of the
lifted coefficients, the expected loss at those weights, L* (certified, from
:func:`derivations.global_optimum`), the excess loss, the relative distance
||Gamma - Gamma*||_F / ||Gamma*||_F (its exact square, and a truncated decimal: every digit
shown is correct), the nearest certified critical point and, with a ``test`` key, the exact risk
of these weights on the test distribution.

Exit status 0 with the report, 2 for bad input (one line on stderr, nothing written).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from math import isqrt
from pathlib import Path

import numpy as np
import sympy as sp

from .errors import InputError, one_line, quote

#: parameterisation -> (required canonical names, optional names)
PARAMETERISATIONS = {
    "paper": (("W_K", "W_Q", "W_V", "h"), ()),
    "merged": (("W_KQ", "W_PV"), ()),
    "ahn": (("P", "Q"), ("sign",)),
    "effective": (("u", "M"), ("r",)),
}
ALIASES = {"WK": "W_K", "WQ": "W_Q", "WV": "W_V", "WKQ": "W_KQ", "WPV": "W_PV"}
#: a trained model is "near" a critical point when the relative distance of its lifted
#: coefficients is at most this
NEAR = Fraction(1, 10)
DIGITS = 10


# --- exact decimals --------------------------------------------------------------------------

def decimal(q, digits: int = DIGITS) -> str:
    """A rational as a decimal with ``digits`` significant digits, truncated toward zero: every
    digit shown is correct (e.g. 2/3 -> '0.6666666666')."""
    q = Fraction(int(sp.Rational(q).p), int(sp.Rational(q).q))
    if q == 0:
        return "0"
    sign, q = ("-" if q < 0 else ""), abs(q)
    exponent = len(str(q.numerator)) - len(str(q.denominator))
    while Fraction(10) ** exponent > q:
        exponent -= 1
    while Fraction(10) ** (exponent + 1) <= q:
        exponent += 1
    scaled = q / Fraction(10) ** (exponent - digits + 1)
    return sign + _place(scaled.numerator // scaled.denominator, exponent, digits)


def sqrt_decimal(q, digits: int = DIGITS) -> str:
    """sqrt(q) for a rational q >= 0, truncated to ``digits`` significant digits (exact integer
    square roots: floor(sqrt(floor(x))) = floor(sqrt(x)))."""
    q = Fraction(int(sp.Rational(q).p), int(sp.Rational(q).q))
    if q == 0:
        return "0"
    exponent = 0
    while Fraction(100) ** exponent > q:
        exponent -= 1
    while Fraction(100) ** (exponent + 1) <= q:
        exponent += 1
    # sqrt(q) in [10^e, 10^(e+1)); digits d: floor(sqrt(q) * 10^(d-1-e))
    shift = digits - 1 - exponent
    scaled = q * Fraction(10) ** (2 * shift)
    return _place(isqrt(scaled.numerator // scaled.denominator), exponent, digits)


def _place(mantissa: int, exponent: int, digits: int) -> str:
    text = str(mantissa).rjust(digits, "0")
    if -6 <= exponent < digits:
        if exponent >= 0:
            whole, frac = text[: exponent + 1], text[exponent + 1:]
            return whole + ("." + frac if frac else "")
        return "0." + "0" * (-exponent - 1) + text
    return f"{text[0]}.{text[1:]}e{exponent:+d}"


# --- recognising the parameterisation --------------------------------------------------------

def _strip_prefix(names):
    """Drop a prefix shared by every key ("model.W_K" -> "W_K"), when that is unambiguous."""
    if names and all("." in k for k in names):
        prefixes = {k.rsplit(".", 1)[0] for k in names}
        if len(prefixes) == 1:
            stripped = [k.rsplit(".", 1)[1] for k in names]
            if len(set(stripped)) == len(stripped):
                return dict(zip(names, stripped, strict=True))
    return {k: k for k in names}


def recognise(raw: dict):
    """(parameterisation, {canonical name: array}) from the file's names; InputError otherwise."""
    renamed = _strip_prefix(list(raw))
    canonical = {}
    for original, name in renamed.items():
        name = ALIASES.get(name, name)
        if name in canonical:
            raise InputError(f"--weights: two entries name the weight {name!r}")
        canonical[name] = raw[original]
    known = {n for req, opt in PARAMETERISATIONS.values() for n in req + opt}
    unknown = sorted(k for k in canonical if k not in known)
    if unknown:
        raise InputError(f"--weights: unknown key {quote(unknown[0])} (recognised: {_expected()})")
    matches = [p for p, (req, opt) in PARAMETERISATIONS.items()
               if set(req) <= set(canonical) <= set(req) | set(opt)]
    if len(matches) != 1:
        raise InputError(f"--weights: cannot recognise the parameterisation from the keys "
                         f"{', '.join(sorted(canonical)) or '(none)'}; expected {_expected()}")
    return matches[0], canonical


def _expected() -> str:
    parts = []
    for name, (req, opt) in PARAMETERISATIONS.items():
        parts.append(f"{name} ({', '.join(req)}" + (f"[, {', '.join(opt)}]" if opt else "") + ")")
    return "; ".join(parts)


def _sign(canonical: dict, flag) -> int:
    from_file = canonical.pop("sign", None)
    value = None
    if from_file is not None:
        arr = np.asarray(from_file, dtype=object).ravel()
        if arr.size != 1 or arr[0] not in (1, -1):
            raise InputError("--weights: 'sign' must be 1 or -1")
        value = int(arr[0])
    if flag is not None:
        if value is not None and value != flag:
            raise InputError(f"--sign: {flag} contradicts the file's sign {value}")
        value = flag
    return -1 if value is None else value


def exact_weights(parameterisation: str, canonical: dict, d: int) -> dict:
    """name -> exact SymPy matrix, shapes checked against d (see :func:`weights_io.exact_array`)."""
    from .weights_io import exact_array

    D = d + 1
    shapes = {"W_K": (D, D), "W_Q": (D, D), "W_V": (D, D), "h": (D,), "W_KQ": (D, D), "W_PV": (D, D),
              "P": (D, D), "Q": (D, D), "u": (D,), "M": (D, d), "r": (d,)}
    out = {}
    for name, value in canonical.items():
        arr = exact_array(value, name, shapes[name])
        matrix = sp.Matrix(arr.shape[0], arr.shape[1] if arr.ndim == 2 else 1,
                           lambda i, j, a=arr: sp.Rational(a[i, j] if a.ndim == 2 else a[i]))
        out[name] = matrix
    return out


def effective_of(parameterisation: str, W: dict, sign: int, residual: bool):
    """The effective parameters (u, M, r) of exact weights (derivations.lsa.to_effective)."""
    from derivations.lsa import EffectiveParameters, to_effective

    if parameterisation == "paper":
        p = to_effective("paper", {"WK": W["W_K"], "WQ": W["W_Q"], "WV": W["W_V"], "h": W["h"]})
        return p if residual else EffectiveParameters(p.u, p.M, sp.zeros(p.d, 1))
    if parameterisation == "merged":
        return to_effective("merged", {"WKQ": W["W_KQ"], "WPV": W["W_PV"]})
    if parameterisation == "ahn":
        p = to_effective("merged", {"WKQ": W["Q"], "WPV": W["P"]})
        return EffectiveParameters(sign * p.u, p.M, p.r)
    d = W["M"].cols
    r = W.get("r", sp.zeros(d, 1))
    if not residual and any(x != 0 for x in r):
        raise InputError("--weights: 'r' (a residual head) is nonzero but the task has no residual")
    return EffectiveParameters(W["u"], W["M"], r)


# --- the analysis ----------------------------------------------------------------------------

@dataclass
class Candidate:
    kind: str
    how: str
    loss: object
    distance_squared: object = None      # exact rational (exact candidates)
    distance: str = ""                   # decimal, every digit correct

    def as_json(self) -> dict:
        return {"kind": self.kind, "how": self.how, "loss": str(self.loss),
                "relative_distance_squared": None if self.distance_squared is None else str(self.distance_squared),
                "relative_distance": self.distance}


@dataclass
class WeightsReport:
    task: object
    parameterisation: str
    sign: int | None
    gamma: sp.Matrix
    gamma_star: sp.Matrix
    odd: dict
    loss: sp.Expr
    optimal_loss: sp.Expr
    excess: sp.Expr
    distance_squared: sp.Expr
    candidates: list
    nearest: Candidate | None
    test_loss: sp.Expr | None = None
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        def strs(m):
            return [[str(x) for x in row] for row in m.tolist()]

        out = {"task": self.task.name, "parameterisation": self.parameterisation, "sign": self.sign,
               "gamma": strs(self.gamma), "gamma_star": strs(self.gamma_star),
               "odd": {k: str(v) for k, v in self.odd.items()},
               "loss": str(self.loss), "optimal_loss": str(self.optimal_loss), "excess": str(self.excess),
               "relative_distance_squared": str(self.distance_squared),
               "relative_distance": sqrt_decimal(self.distance_squared),
               "decimals": {"loss": decimal(self.loss), "optimal_loss": decimal(self.optimal_loss),
                            "excess": decimal(self.excess),
                            "gamma": [[decimal(x, 6) for x in row] for row in self.gamma.tolist()],
                            "gamma_star": [[decimal(x, 6) for x in row] for row in self.gamma_star.tolist()]},
               "nearest_critical_point": None if self.nearest is None else self.nearest.kind,
               "critical_points": [c.as_json() for c in self.candidates],
               "near_threshold": str(NEAR)}
        if self.test_loss is not None:
            out["test_loss"] = str(self.test_loss)
            out["decimals"]["test_loss"] = decimal(self.test_loss)
        return out


def _lifted(task, params):
    from derivations.features import FeatureBasis

    basis = FeatureBasis.of(task)
    return basis, basis.coefficients(params, task.residual)


def _relative_squared(theta, theta_ref, scale):
    diff = theta - theta_ref
    return sp.Rational(sum(x**2 for x in diff)) / scale


def _zero_is_stationary(task) -> bool:
    """The exact loss has no term of degree 1 in the parameters: its gradient vanishes at 0."""
    from derivations import expected_loss
    from derivations.lsa import EffectiveParameters

    params = EffectiveParameters.symbols(task.d).all_symbols()
    poly = sp.Poly(sp.expand(expected_loss(task)), *params)
    return all(sum(monomial) != 1 for monomial in poly.monoms())


def _d1_points(task):
    """Every real stationary point at d = 1 (Gaussian, Sigma = Omega = I, no variants) when (n, s2)
    is on the grid of the d = 1 study, as (kind, loss, params); else []."""
    from derivations.landscape import D1_GRID, stationary_points_d1
    from derivations.lsa import EffectiveParameters

    if (task.d != 1 or not task.covariates.is_gaussian or task.query_in_keys or task.residual
            or task.Sigma != sp.eye(1) or task.Omega != sp.eye(1)
            or (int(task.n), task.noise) not in D1_GRID):
        return []
    out = []
    for point in stationary_points_d1(int(task.n), task.noise):
        if point.kind == "global minimum":
            continue
        values = {str(k): v for k, v in point.point.items()}
        if all(v == 0 for v in values.values()):
            continue           # the origin: the zero predictor, already a candidate
        params = EffectiveParameters(sp.Matrix([values["ux1"], values["uy"]]),
                                     sp.Matrix([[values["A_11"]], [values["b1"]]]), sp.zeros(1, 1))
        out.append((point.kind, point.loss, params))
    return out


def analyse(task, parameterisation: str, W: dict, sign: int | None) -> WeightsReport:
    """The exact report for exact weights ``W`` (see the module docstring)."""
    from derivations import expected_loss, global_optimum
    from derivations.exact import canonical

    params = effective_of(parameterisation, W, sign if sign is not None else 1, task.residual)
    gamma = params.gamma()
    basis, theta = _lifted(task, params)
    odd = {basis.names[i]: theta[i] for i in basis.odd}
    loss = sp.Rational(expected_loss(task, params.u, params.M, params.r))
    opt = global_optimum(task)
    L_star = sp.Rational(opt.loss)
    star = params.gd_point(opt.gamma)
    _, theta_star = _lifted(task, star)
    scale = sp.Rational(sum(x**2 for x in theta_star))
    gamma_scale = sp.Rational(sum(x**2 for x in opt.gamma))
    distance_squared = sp.Rational(sum(x**2 for x in (gamma - opt.gamma))) / gamma_scale

    candidates = [Candidate("global minimum", "certified: exact certificate of global optimality", L_star,
                            _relative_squared(theta, theta_star, scale))]
    if _zero_is_stationary(task):
        zero_loss = sp.Rational(expected_loss(task, sp.zeros(task.d + 1, 1), sp.zeros(task.d + 1, task.d),
                                              sp.zeros(task.d, 1)))
        candidates.append(Candidate("zero predictor (u = 0, M = 0)",
                                    "exact: the loss has no term of degree 1, so its gradient vanishes at 0",
                                    zero_loss, _relative_squared(theta, sp.zeros(len(theta), 1), scale)))
    for kind, value, p in _d1_points(task):
        _, th = _lifted(task, p)
        rel = sp.sqrt(sum((a - b) ** 2 for a, b in zip(theta, th, strict=True)) / scale)
        candidates.append(Candidate(f"{kind} (d = 1 stationary point)",
                                    "exact Groebner basis of the gradient, roots at 60 digits",
                                    sp.Float(value, 15), None, f"{sp.Float(rel, 30):.10f}"))
    for c in candidates:
        if c.distance_squared is not None:
            c.distance = sqrt_decimal(c.distance_squared)
    nearest = None
    for c in candidates:
        close = (c.distance_squared <= NEAR**2) if c.distance_squared is not None else float(c.distance) <= NEAR
        if close and (nearest is None or float(c.distance) < float(nearest.distance)):
            nearest = c
    test_loss = None
    if task.test is not None:
        from derivations.shift import risk_at
        test_loss = canonical(risk_at(task.test, params))
    return WeightsReport(task, parameterisation, sign, gamma, opt.gamma, odd, loss, L_star,
                         loss - L_star, distance_squared, candidates, nearest, test_loss)


# --- CLI ---------------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise InputError(f"verify.weights: {message} (see --help)")

    def exit(self, status=0, message=None):
        if message:
            sys.stderr.write(one_line(message) + "\n")
        sys.exit(status)


def parse_args(argv):
    p = _Parser(prog="python -m verify.weights", description=__doc__.split("\n\n")[0],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", metavar="FILE", required=True, help="a task file with one [[task]] (n and noise fixed)")
    p.add_argument("--weights", metavar="WEIGHTS", required=True, help=".npz, torch .pt state dict or .json")
    p.add_argument("--sign", type=int, choices=(-1, 1), default=None,
                   help="Ahn et al.'s P, Q: prediction = sign * label slot (default -1)")
    p.add_argument("--json", metavar="OUT", help="write the exact report as JSON")
    p.add_argument("--report", metavar="DIR", help="write gamma.{pdf,png}, summary.tex and weights.json under DIR")
    return p.parse_args(argv)


def load_inputs(args):
    """Everything checked before any work: the task, the weights, the output paths, the cost."""
    from derivations import budget as exact_budget

    from .io import check_output_dir, check_output_file
    from .taskfile import load_task_file
    from .weights_io import load_weights

    specs = load_task_file(args.task)
    if len(specs) != 1:
        raise InputError(f"--task: {quote(args.task)} must hold exactly one [[task]], got {len(specs)}")
    task = specs[0].task
    label = f"task {task.name!r}"
    if not task.is_linear:
        raise InputError(f"{label}: trained weights are compared for linear responses only")
    if task.n_symbolic or task.noise_symbolic:
        raise InputError(f"{label}: give n and noise (trained weights belong to one context length and noise level)")
    reason = exact_budget.estimate(task).verdict()
    if reason:
        raise InputError(f"{label}: {reason}; lower d")
    raw = load_weights(args.weights)
    parameterisation, canonical = recognise(raw)
    if parameterisation != "ahn" and args.sign is not None:
        raise InputError(f"--sign: applies to Ahn et al.'s P, Q only (these weights are {parameterisation})")
    sign = _sign(canonical, args.sign) if parameterisation == "ahn" else None
    W = exact_weights(parameterisation, canonical, task.d)
    effective_of(parameterisation, W, sign or 1, task.residual)       # refuses an r the task cannot use
    inputs = [args.task, args.weights]
    if args.json is not None:
        check_output_file(args.json, "--json", inputs, probe=False)
    if args.report is not None:
        check_output_dir(args.report, "--report", probe=False)
    return task, parameterisation, W, sign


def _text(report: WeightsReport) -> str:
    t = report.task
    lines = [f"task {t.name!r}: {t.describe()}",
             f"weights: {report.parameterisation}" + (f" (sign {report.sign})" if report.sign is not None else "")
             + "; every float taken as the exact rational of its binary value"]

    def mat(m):
        return "[" + "; ".join(", ".join(decimal(x, 6) for x in row) for row in m.tolist()) + "]"

    lines.append(f"Gamma  = {mat(report.gamma)}")
    lines.append(f"Gamma* = {mat(report.gamma_star)}")
    big = max((abs(v) for v in report.odd.values()), default=0)
    lines.append(f"odd block: {len(report.odd)} coefficients, largest |coefficient| = {decimal(big, 6)}")
    lines.append(f"loss   = {decimal(report.loss)}")
    lines.append(f"L*     = {decimal(report.optimal_loss)}")
    lines.append(f"excess = {decimal(report.excess)}")
    lines.append(f"||Gamma - Gamma*||_F / ||Gamma*||_F = {sqrt_decimal(report.distance_squared)}")
    if report.test_loss is not None:
        lines.append(f"test loss (the test distribution) = {decimal(report.test_loss)}")
    if report.nearest is not None:
        lines.append(f"near: {report.nearest.kind} (relative distance of the lifted coefficients "
                     f"{report.nearest.distance} <= {float(NEAR)})")
    else:
        closest = min(report.candidates, key=lambda c: float(c.distance))
        lines.append(f"near: no certified critical point within relative distance {float(NEAR)} "
                     f"(closest: {closest.kind} at {closest.distance})")
    lines.append("decimals are truncated (every digit shown is correct); exact values in --json")
    return "\n".join(lines)


def _write_report(report: WeightsReport, directory: Path):
    from .io import write_atomic, write_json

    directory.mkdir(parents=True, exist_ok=True)
    write_json(directory / "weights.json", report.as_json())
    rows = [("loss", report.loss), ("L^\\star", report.optimal_loss), ("excess", report.excess)]
    tex = ["% onestep: a trained LSA against the exact optimum (\\input-able; needs booktabs)",
           "\\begin{tabular}{lr}", "\\toprule", "quantity & value (truncated decimals) \\\\", "\\midrule"]
    tex += [f"${name}$ & {decimal(value)} \\\\" for name, value in rows]
    distance = sqrt_decimal(report.distance_squared)
    tex.append(f"$\\|\\Gamma - \\Gamma^\\star\\|_F / \\|\\Gamma^\\star\\|_F$ & {distance} \\\\")
    tex += ["\\bottomrule", "\\end{tabular}", ""]
    write_atomic(directory / "summary.tex", "\n".join(tex))
    _gamma_figure(report, directory)


def _gamma_figure(report: WeightsReport, directory: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .report.figures import _save

    trained = np.array(report.gamma.tolist(), dtype=float)
    star = np.array(report.gamma_star.tolist(), dtype=float)
    d = trained.shape[0]
    lo, hi = float(min(trained.min(), star.min())), float(max(trained.max(), star.max()))
    fig, axes = plt.subplots(1, 2, figsize=(2.2 + 1.6 * d, 1.4 + 0.9 * d))
    for ax, mat, title in ((axes[0], trained, "trained Γ"), (axes[1], star, "exact Γ*")):
        im = ax.imshow(mat, cmap="viridis", vmin=lo, vmax=hi if hi > lo else lo + 1)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(d), [str(j + 1) for j in range(d)])
        ax.set_yticks(range(d), [str(i + 1) for i in range(d)])
        ax.set_xlabel("column j")
        ax.set_ylabel("row i")
        if d <= 4:
            for i in range(d):
                for j in range(d):
                    ax.text(j, i, f"{mat[i, j]:.3f}", ha="center", va="center", fontsize=8,
                            color="white" if mat[i, j] < (lo + hi) / 2 else "black")
    fig.colorbar(im, ax=list(axes), shrink=0.8)
    fig.suptitle(f"relative distance {sqrt_decimal(report.distance_squared, 4)}", fontsize=9)
    _save(fig, directory, "gamma")
    plt.close(fig)


def main(argv=None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        task, parameterisation, W, sign = load_inputs(args)
        from .io import probe_output

        if args.json is not None:
            probe_output(Path(args.json), "--json")
        if args.report is not None:
            probe_output(Path(args.report), "--report")
    except InputError as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2
    report = analyse(task, parameterisation, W, sign)
    print(_text(report))
    if args.json is not None:
        from .io import write_json
        write_json(args.json, report.as_json())
    if args.report is not None:
        _write_report(report, Path(args.report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
