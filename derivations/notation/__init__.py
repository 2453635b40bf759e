"""A statement language for matrix and index-notation derivations.

Statements such as ``E[avg(x_i * x_i^T) * Omega * avg(x_i * x_i^T)] = ...`` are parsed
(never evaluated as code) into immutable trees (:mod:`.tree`), printed by one text and one
LaTeX printer (:mod:`.text`, :mod:`.latex`), and checked by the all-d engine
(:mod:`.to_tensor`, :mod:`.check`): proved for every d, n, s2 and every matrix of the
declared kind, refuted with an explicit counterexample, or left unproved.

Modules, one job each: :mod:`.tree` (nodes and shapes), :mod:`.scope` (declarations and
definitions), :mod:`.parse` (the whitelist parser), :mod:`.text` and :mod:`.latex` (the
printers), :mod:`.to_tensor` (the bridge to the engine), :mod:`.check` (one claim's
verdict), :mod:`.document` (a derivation: setup, definitions, steps).
"""

from .check import Verdict, check_claim
from .document import Document, DocumentResult, StepResult, check_document, load_document
from .parse import parse_claim, parse_expression
from .scope import Scope
from .tree import NotationError, ShapeError

__all__ = ["Scope", "parse_claim", "parse_expression", "check_claim", "Verdict", "Document",
           "DocumentResult", "StepResult", "load_document", "check_document", "NotationError",
           "ShapeError"]
