"""The landscape of the LSA loss over the effective parameters (u, M): certified critical points.

>>> from derivations import Task
>>> land = landscape(Task(d=1, n=5, noise="1/4"))
>>> sorted({p.kind for p in land.points}), land.lowest_certified_loss == land.L_star
(['global-min', 'saddle'], True)

Modules: :mod:`.polynomial` (the exact loss and its evaluators), :mod:`.symmetry` (gauge and
data symmetries, checked exactly), :mod:`.certify` (Krawczyk / exact certificates and inertia
modulo symmetries), :mod:`.critical` (the search and the per-task landscape), :mod:`.search`
(the d = 1 Groebner solver and the earlier float multistart study).
"""

from .certify import KINDS, CriticalPoint, certify_exact, certify_numeric, exact_inertia
from .critical import MAX_D, Landscape, landscape, nearest_critical_point, origin_family
from .polynomial import LossPolynomial, loss_polynomial, parameter_symbols
from .search import D1_GRID, Limit, StationaryPoint, d1_study, multistart, stationary_points_d1
from .symmetry import check_invariance, generators, lie_algebra

__all__ = ["D1_GRID", "KINDS", "MAX_D", "CriticalPoint", "Landscape", "Limit", "LossPolynomial",
           "StationaryPoint", "certify_exact", "certify_numeric", "check_invariance", "d1_study",
           "exact_inertia", "generators", "landscape", "lie_algebra", "loss_polynomial", "multistart",
           "nearest_critical_point", "origin_family", "parameter_symbols", "stationary_points_d1"]
