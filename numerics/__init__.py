"""numerics: Monte Carlo estimation and minimisation of the one-layer LSA pre-training loss.

The independent numerical side of onestep (the README, "The numeric side"): it never imports
``derivations`` and reaches the optimum by sampling and optimisation alone.

>>> from numerics import NumericTask, minimise
>>> res = minimise(NumericTask(d=1, n=4, noise=0.0), samples=6_000, groups=20, restarts=2)
>>> abs(res.eta - 4 / 6) < 4 * res.eta_se
True
"""

from .budget import TooLargeError
from .estimate import LossEstimate, StepEstimate, gd_step, mc_loss
from .features import dimension, feature_matrix, names, odd_names, theta, theta_numpy
from .minimise import MinimiseResult, minimise
from .model import LSA, effective_parameters, gamma_from_effective, gamma_of, predict_effective
from .progress import Progress
from .sampling import Prompts, iterate_prompts, sample_prompts
from .task import (
    LINKS,
    Covariates,
    NumericTask,
    NumericTaskError,
    Response,
    make_generator,
    polynomial_link,
    resolve_device,
    spawn_seeds,
)

__all__ = [
    "LINKS",
    "Covariates",
    "LSA",
    "LossEstimate",
    "MinimiseResult",
    "NumericTask",
    "NumericTaskError",
    "Progress",
    "Prompts",
    "Response",
    "StepEstimate",
    "gd_step",
    "TooLargeError",
    "dimension",
    "effective_parameters",
    "feature_matrix",
    "gamma_from_effective",
    "gamma_of",
    "iterate_prompts",
    "make_generator",
    "mc_loss",
    "minimise",
    "names",
    "odd_names",
    "polynomial_link",
    "predict_effective",
    "resolve_device",
    "sample_prompts",
    "spawn_seeds",
    "theta",
    "theta_numpy",
]
