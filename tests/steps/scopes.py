"""Scopes shared by the statement-language tests."""

from derivations.notation.scope import Scope


def general_scope(d=None, n=None):
    """Every kind of declaration, d and n symbolic unless given."""
    return Scope.build(
        d=d, n=n,
        matrices={"Sigma": "spd", "Omega": "spd", "A": "general", "B": "symmetric", "R": "general"},
        vectors={"x": "N(0, Sigma)", "w": "N(0, I)", "u": "constant", "v": "opaque"},
        scalars={"c": "constant", "eps_q": "N(0, s2)", "e": "opaque"},
        context={"x_i": "N(0, Sigma)", "eps_i": "N(0, s2)"},
        definitions={"y_i": "w^T * x_i + eps_i", "g": "avg(y_i * x_i)", "S": "avg(x_i * x_i^T)",
                     "C": "Sigma * Omega * Sigma + (tr(Omega * Sigma) + s2) / n * Sigma",
                     "eta": "n / (n + d + 1 + s2)"})
