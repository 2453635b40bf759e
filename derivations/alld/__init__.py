"""All-d proof engine: Gaussian expectations in index notation with a symbolic dimension.

Modules, one job each: :mod:`.tensor` (index-notation terms and builders), :mod:`.wick`
(slot partitions and Isserlis pairings), :mod:`.contract` (delta contraction, chain and
trace canonicalisation), :mod:`.canonical` (collected canonical forms, rendering, exact
instantiation, deciding identities), :mod:`.pointwise` (identities of random expressions),
:mod:`.positivity` (positive (semi)definite certificates), :mod:`.search` (the simplest
counterexample), :mod:`.proofs` (the theorems as Derivations).

>>> from derivations.alld import prove
>>> prove("theorem1").holds
True
"""

from .canonical import Canonical, decide
from .pointwise import Pointwise
from .proofs import KINDS, prove
from .search import Atoms, Counterexample, find_counterexample
from .tensor import (
                     Tensor,
                     average,
                     d,
                     example,
                     example_scalar,
                     gaussian,
                     identity,
                     inverse,
                     matrix,
                     scalar,
                     scalar_gaussian,
                     trace,
                     vector,
)
from .wick import expect

__all__ = ["Tensor", "Canonical", "Pointwise", "decide", "find_counterexample", "Atoms",
           "Counterexample", "expect", "prove", "KINDS", "d", "matrix", "inverse",
           "identity", "vector", "gaussian", "scalar_gaussian", "example", "example_scalar",
           "average", "trace", "scalar"]
