"""What each step of the global-optimality certificate claims, as mathematics.

The certificate of :mod:`derivations.optimum` (and of its structured route) checks the same
claims whichever route computes them; this module states them once: the words of each step
(rich words: plain sentences with statement trees inline) and its displayed relations. The
checks themselves stay with the steps; nothing here decides anything.

>>> from derivations.printing import latex
>>> latex(optimal_loss_display()[0])
'\\\\mathbb{E}\\\\left[\\\\left(x_{q}^\\\\top \\\\Gamma^{\\\\star} g - y_{q}\\\\right)^{2}\\\\right] = L^{\\\\star}'
"""

from __future__ import annotations

import sympy as sp

from .notation.display import OuterNode, SympyNode
from .proof import Relation
from .vocabulary import e as _e
from .vocabulary import math as _math
from .vocabulary import words as _words


def words(text):
    """Rich words: plain text with $...$ math in the statement vocabulary."""
    return _words(text)


def lift():
    """u (x) M, the lift the prediction is linear in."""
    return OuterNode((_e("u"), _e("M")))


def gram_factor():
    """C (x) Sigma, the Gram matrix of the GD block."""
    return OuterNode((_e("C"), _e("Sigma")))


# --- (a) the convex lift -----------------------------------------------------------------------

def convex_lift_words():
    return (_words("The prediction is linear in the lifted coefficients $theta$, which are linear in "
                   "the entries of the lift ") + (lift(),)
            + _words(" and in $r$; the features pair two entries of a token $z_i$ with one of the "
                     "query (a symmetric pair counted once, plus the variants' features)."))


def convex_lift_display():
    return (_math("yhat = theta^T * F"),
            Relation(_e("F"), "=", OuterNode((_e("avg(z_i * z_i^T)"), _e("x_q")))))


CONVEX_LIFT_JUSTIFICATION = ("Expand both sides in every parameter and token coordinate, with two "
                             "generic context tokens (the sum over the context is termwise).")


# --- (b) the loss as a quadratic ---------------------------------------------------------------

def quadratic_words():
    return _words("The loss is a quadratic in $theta$ with $H = E[F * F^T]$ (a Gram matrix, so positive "
                  "semidefinite), $c = E[F * y_q]$ and $k = E[y_q^2]$: it is convex in $theta$, and its "
                  "minimum over all $theta$ lower-bounds every LSA.")


def quadratic_display():
    return (_math("E[(yhat - y_q)^2] = theta^T * H * theta - 2 * c^T * theta + k"),)


# --- (c) the symmetry split --------------------------------------------------------------------

def symmetry_split_words():
    return _words("The features of odd degree in the covariates are orthogonal to the GD block and to "
                  "the target, so the loss splits into the loss of the GD block and a positive "
                  "semidefinite quadratic in $theta_odd$.")


def symmetry_split_display():
    return (_math("E[F_odd * F_gd^T] = 0"), _math("E[F_odd * y_q] = 0"))


def symmetry_split_justification():
    return _words("Replacing $x_i$, $x_q$ and $w$ by their negatives preserves the law and every label, "
                  "flips the odd features and fixes the GD features and $y_q$; the cross moments are "
                  "computed and found to be exactly zero.")


# --- (d) the normal equations ------------------------------------------------------------------

def normal_equations_words():
    return _words("The normal equations of the GD block hold exactly at the optimum $Gammastar$: the "
                  "coefficients $theta_gd$ are the entries of $Gammastar^T$, and $theta_odd = 0$.")


def normal_equations_display():
    return (_math("H_gd * theta_gd = c_gd"),)


def gamma_computed(gamma):
    """Gamma* = its value, shown beside a claim about it."""
    return (Relation(_e("Gammastar"), "=", gamma),)


# --- (e) realisability -------------------------------------------------------------------------

def realising_block(name: str = "W_Q", d=None):
    """W^Q (or W^KQ) = [[Gamma*^T, 0], [0, 0]] as a block matrix."""
    d = d if d is not None else sp.Symbol("d", integer=True, positive=True)
    G = sp.MatrixSymbol("Gammastar", d, d)
    block = sp.BlockMatrix([[G.T, sp.ZeroMatrix(d, 1)], [sp.ZeroMatrix(1, d), sp.ZeroMatrix(1, 1)]])
    return Relation(_e(name), "=", block)


def realisable_words():
    return (_words("The optimum is attained by an LSA: in effective parameters $u = e$, "
                   "$A = Gammastar^T$, $b = 0$ and $r = 0$; in the paper's weights $W_K = I$, "
                   "$W_V = I$, $h = e$ and ") + (realising_block("W_Q"),)
            + _words("; in merged weights $W_PV = I$ and $W_KQ = W_Q$."))


def realisable_display():
    return (_math("yhat = x_q^T * Gammastar * g"),)


def realisable_justification():
    d = sp.Symbol("d", integer=True, positive=True)
    stacked = sp.BlockMatrix([[sp.MatrixSymbol("Gammastar", d, d).T], [sp.ZeroMatrix(1, d)]])
    return ("The lift is of rank one, ", Relation(lift(), "=", OuterNode((_e("e"), SympyNode(stacked)))),
            "; the predictions are expanded and compared.")


# --- (f) the optimal loss ----------------------------------------------------------------------

def optimal_loss_words():
    return _words("The loss at the optimum, computed directly from the model at the realising "
                  "parameters, equals $Lstar$ from the normal equations.")


def optimal_loss_display():
    return (_math("E[(x_q^T * Gammastar * g - y_q)^2] = Lstar"), _math("Lstar = k - c_gd^T * thetastar"))


def loss_computed(loss):
    return (Relation(_e("Lstar"), "=", loss),)


# --- (g) uniqueness ----------------------------------------------------------------------------

def unique_words():
    return (_words("The optimal predictor is unique: $C = E[g * g^T]$ and $Sigma$ are positive "
                   "definite, so ") + (Relation(_e("H_gd"), "=", gram_factor()),)
            + _words(" is, and $theta_gd$ is the unique minimiser of the GD block; an odd direction "
                     "with $theta_odd^T * H_odd * theta_odd = 0$ has $E[(theta_odd^T * F_odd)^2] = 0$, "
                     "so it does not change the prediction."))


def unique_display(factored: bool = True):
    """C and Sigma positive definite; without the product structure, H_gd itself."""
    if factored:
        return (_math("C succ 0"), _math("Sigma succ 0"))
    return (_math("H_gd succ 0"),)


UNIQUE_JUSTIFICATION = ("A Kronecker product of positive definite matrices is positive definite (its "
                        "eigenvalues are the products of theirs). Positive definiteness is certified by "
                        "leading principal minors whose coefficients are positive once n is shifted by 1 "
                        "(every n at least 1, every noise variance).")


# --- a claimed optimum -------------------------------------------------------------------------

def claim_words():
    return _words("The claimed $Gamma$ satisfies the normal equations of the GD block.")


def claim_display():
    return (_math("Gamma * C = B"),)

