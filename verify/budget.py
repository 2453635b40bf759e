"""The whole run's cost, estimated before any work: refuse what the machine cannot do.

For every task: the exact side (:mod:`derivations.budget`) plus, when it will run, the Monte
Carlo side (:mod:`numerics.budget`: the fit, its fresh-sample loss and the two loss checks).
A task over the limits is bad input (one line, exit status 2) naming the task, the estimate
and the limit, and what to change.
"""

from __future__ import annotations

from dataclasses import dataclass

from derivations import budget as exact_budget
from numerics import budget as mc_budget

from .errors import InputError
from .spec import TaskSpec


@dataclass(frozen=True)
class TaskCost:
    spec: TaskSpec
    exact_seconds: float
    numeric_seconds: float
    bytes: float

    @property
    def seconds(self) -> float:
        return self.exact_seconds + self.numeric_seconds


def numeric_cost(spec: TaskSpec) -> mc_budget.Cost:
    """The Monte Carlo side of one task: minimise + two loss checks of ``samples`` prompts."""
    n, s2 = spec.numeric_values()
    ntask = _shape_only(spec, n, s2)
    if spec.gd_family_task:                  # gd_step + one loss: sampling only
        return mc_budget.sampling_cost(ntask, spec.samples) + mc_budget.sampling_cost(ntask, spec.samples)
    cost = (mc_budget.minimise_cost(ntask, spec.samples)
            + mc_budget.sampling_cost(ntask, spec.samples)
            + mc_budget.sampling_cost(ntask, spec.samples))
    if spec.task.test is not None:          # the test-loss check samples the test distribution
        from .runner import shift_numeric_values

        n_test, _ = shift_numeric_values(spec)
        cost = cost + mc_budget.sampling_cost(_shape_only(spec, n_test, s2), spec.samples)
    return cost


def _shape_only(spec, n, s2):
    """A stand-in of the same size (the cost model needs only d, n, the response width and the
    variants; the matrices themselves may not even be representable in float64)."""
    from numerics.task import NumericTask, Response

    width = spec.task.response.width if spec.task.response.family == "two-layer-relu" else None
    resp = Response.two_layer_relu(width) if width else Response.linear()
    return NumericTask(d=spec.task.d, n=int(n), noise=0.0, response=resp,
                       query_in_keys=spec.task.query_in_keys, residual=spec.task.residual)


def plan(specs, numeric: bool) -> list:
    """TaskCost for every spec; InputError for the first task over the limits."""
    from .runner import can_sample

    out = []
    for spec in specs:
        if spec.task is None:               # all-d proofs and the GD family: seconds
            out.append(TaskCost(spec, 1.0, 0.0, 3e8))
            continue
        if spec.landscape:                  # verify.landscape_suite: small d, fixed n and s2
            from .landscape_suite import estimated_seconds
            out.append(TaskCost(spec, estimated_seconds(spec), 0.0, 5e8))
            continue
        exact = exact_budget.estimate(spec.task) if not spec.gd_family_task else \
            exact_budget.Estimate(1.0 + 0.01 * spec.task.d**3, 3e8, "GD family")
        reason = exact.verdict()
        if reason:
            raise InputError(f"task {spec.name!r}: {reason}; lower d or the response's degree, "
                             "or fix n and s2")
        mc = mc_budget.Cost(0.0, 0.0)
        if numeric and can_sample(spec):
            mc = numeric_cost(spec)
            why = mc.verdict("Monte Carlo side")
            if why:
                raise InputError(f"task {spec.name!r}: {why}; lower samples or n, or run with --no-numeric")
        out.append(TaskCost(spec, exact.seconds, mc.seconds, max(exact.bytes, mc.bytes)))
    return out
