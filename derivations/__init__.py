"""onestep.derivations: exact mathematics (SymPy, mpmath). Never imports torch."""

from .engine import context_moment, expectation
from .loss import expected_loss, loss_parts
from .lsa import EffectiveParameters
from .moments import GaussianVector
from .optimum import Optimum, check_claim, global_optimum
from .proof import Derivation, Step
from .task import Response, Task, TaskError

__all__ = ["Task", "TaskError", "Response", "GaussianVector", "expectation", "context_moment",
           "expected_loss", "loss_parts", "global_optimum", "check_claim", "Optimum",
           "EffectiveParameters", "Step", "Derivation"]
