"""Theorem 3 in the verifier: nonlinear tasks, their exact/high-precision side and Monte Carlo side."""

from __future__ import annotations

import numpy as np
import sympy as sp

from derivations.nonlinear import theorem3_optimum
from derivations.task import Response, Task

from . import checks as C
from .runner import numeric_json
from .spec import TaskSpec


def default_specs():
    def si(link):
        return Response("single-index", link=link)
    hp = {"n": 10, "noise": "1/4"}        # the high-precision route works at fixed n, s2
    return [
        TaskSpec("thm3-cubic-d1", Task(d=1, response=si("s**3")),
                 description="Theorem 3, odd polynomial link g(s) = s^3, exact, n and s2 symbolic"),
        TaskSpec("thm3-odd-poly-d2", Task(d=2, response=si("s + s**3/3")),
                 description="Theorem 3, link g(s) = s + s^3/3, exact, d = 2"),
        TaskSpec("thm3-tanh-d2", Task(d=2, **hp, response=si("tanh(s)")),
                 description="Theorem 3, link tanh, high precision"),
        TaskSpec("thm3-relu-d2", Task(d=2, **hp, response=si("relu(s)")),
                 description="Theorem 3, link relu, high precision"),
        TaskSpec("thm3-two-layer-relu-w3-d2", Task(d=2, **hp, response=Response("two-layer-relu", width=3)),
                 description="Theorem 3, random two-layer ReLU network of width 3"),
        TaskSpec("thm3-all-d-cubic", None, alld="theorem3-cubic", numeric=False,
                 description="Theorem 3 for the cubic link at every d (index-notation proof)"),
        TaskSpec("control-thm3-x1-cubed-d2", Task(d=2, response=Response("expression", expr="s + x1**3")),
                 role="control", control={"kind": "reflection-broken"},
                 description="y = w^T x + x1^3 breaks reflection symmetry: the GD claim must be refuted"),
        TaskSpec("control-thm3-x1-squared-d2", Task(d=2, response=Response("expression", expr="s + x1**2")),
                 role="control", control={"kind": "rotation-broken"},
                 description="y = w^T x + x1^2 breaks rotation invariance: the GD claim must be refuted"),
    ]


def numeric_response(task: Task):
    from derivations.nonlinear.responses import response_model
    from numerics.task import Response as NR

    from .torch_expr import expression_function, link_function

    model = response_model(task)
    if task.response.family == "two-layer-relu":
        return NR.two_layer_relu(task.response.width)
    if model.link is not None:
        return NR.single_index(link_function(model.link))
    from derivations.nonlinear.parse import parse_expression
    return NR.from_callable(expression_function(parse_expression(task.response.expr, task.d), task.d))


def symbolic_nonlinear(spec: TaskSpec):
    task = spec.task
    opt = theorem3_optimum(task)
    checks = []
    assumptions = {k: v["holds"] for k, v in opt.assumptions.items()}
    if spec.role == "claim":
        failure = opt.certificate.first_failure
        checks.append(C.exact_check(
            "certificate", opt.certificate.holds,
            f"{len(opt.certificate)} steps (symmetry assumptions, odd block, normal equations at Gamma = eta I)"
            + ("" if opt.certificate.holds else f"; FAILED at {failure.title}: {failure.detail or failure.statement}")))
        checks.append(C.exact_check("gd-form", opt.form == "gd",
                                    f"Gamma* = eta I with eta = {opt.eta_digits or opt.eta}"
                                    + (f" (error estimate {opt.eta_error:.1e})" if opt.eta_error else "")
                                    if opt.form == "gd" else f"not of GD form: {opt.reason}"))
    else:
        refuted = opt.form != "gd" and bool(opt.reason)
        checks.append(C.exact_check("refuted-exactly", refuted,
                                    ("GD claim refuted as expected: " if refuted else "GD claim NOT refuted: ")
                                    + (opt.reason or "no reason")))
    exact_path = opt.eta_error is None
    strength = "symbolic-n" if exact_path and task.n_symbolic and task.noise_symbolic else "instance"
    if opt.gamma is not None:
        gamma = opt.gamma
    elif opt.eta is not None and opt.form == "gd":
        # high precision: eta is an mpf, or (n, s2 symbolic) an expression with 40-digit floats
        eta = opt.eta if isinstance(opt.eta, sp.Basic) else sp.Float(str(opt.eta), 40)
        gamma = eta * sp.eye(task.d)
    else:
        gamma = None
    symbolic = {"gamma": [[str(x) for x in row] for row in gamma.tolist()] if gamma is not None else [],
                "eta": (str(opt.eta) if isinstance(opt.eta, sp.Basic) else (opt.eta_digits or str(opt.eta)))
                if opt.eta is not None else None,
                "loss": str(opt.loss) if opt.loss is not None else "",
                "form": opt.form, "assumptions": assumptions, "strength": strength}
    if opt.eta_error is not None:
        symbolic["eta_error"] = float(opt.eta_error)
    return opt, symbolic, checks


def numeric_nonlinear(spec: TaskSpec, opt, seed: int, progress: bool):
    from .numeric import fit, loss_at_gd_point, numeric_task

    task = spec.task
    n, s2 = spec.numeric_values()
    ntask = numeric_task(task, n, s2)
    res = fit(ntask, spec.samples, seed, "effective", progress)
    checks = []

    def at(value):
        return float(spec.at_numeric_values(sp.sympify(value)))

    kind = spec.control.get("kind")
    if opt.gamma is not None:
        gamma_exact = np.array([[at(x) for x in row] for row in opt.gamma.tolist()])
    elif opt.eta is not None:
        gamma_exact = at(opt.eta if isinstance(opt.eta, sp.Basic) else str(opt.eta)) * np.eye(task.d)
    else:
        gamma_exact = None
    if spec.role == "claim":
        checks += C.claim_gamma_checks(res, gamma_exact, "Gamma (LSA fit) vs eta* I")
        if opt.loss is not None and str(opt.loss):
            est = loss_at_gd_point(ntask, gamma_exact, spec.samples, seed + 1, progress)
            checks.append(C.scalar("loss-at-optimum", est.mean, est.se, at(opt.loss),
                                   "MC loss at the exact optimum vs L*", df=est.batches - 1))
    elif kind == "reflection-broken":
        # the convex-lift optimum (least squares over every feature) shows whether odd-in-x
        # features carry signal about y_q; the rank-one LSA fit need not exploit it fully
        checks.append(C.entrywise("odd-block-nonzero", res.lifted_odd, res.lifted_odd_se,
                                  np.zeros_like(res.lifted_odd),
                                  "convex-lift odd-block coefficients vs 0 (must differ: odd features carry signal)",
                                  expect_agree=False, df=res.groups - 1))
    elif kind == "rotation-broken":
        checks.append(C.entrywise("gamma-vs-best-gd", res.gamma, res.gamma_se, gamma_exact,
                                  "Gamma (LSA fit) vs the exact best GD-block Gamma*", df=res.groups - 1))
        from derivations.nonlinear.certificate import eta_formula
        from derivations.nonlinear.exact_optimum import exact_gd_block
        block = exact_gd_block(task, odd=False)
        claim = at(eta_formula(block.m2, block.y2x2, task.n)) * np.eye(task.d)
        checks.append(C.entrywise("gamma-vs-gd-claim", res.gamma, res.gamma_se, claim,
                                  "Gamma (LSA fit) vs the GD claim eta I (must differ)", expect_agree=False,
                                  df=res.groups - 1))
    numeric = numeric_json(res, n, s2)
    return res, numeric, checks
