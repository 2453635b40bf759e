"""One form rule everywhere: a multiple of I is 'gd'; with Sigma = c I it is also eta' Sigma^{-1}.

Regression for a wrong verdict: a true claim (Sigma or Omega a multiple of I other than I) was
reported as failed because the derived form said 'gd' and the published one 'general'.
Expected values are hand derivations from C = ((n+1)/n) S O S + ((tr(O S) + s2)/n) S, B = O S.
"""

import pytest
import sympy as sp

from derivations import Task, global_optimum
from derivations.exact import exact_equal
from derivations.forms import classify
from derivations.symbols import n, s2
from verify.claims import published_optimum
from verify.runner import exact_side
from verify.spec import TaskSpec

c = sp.Rational(2)
half = sp.Rational(1, 2)


def test_classify_rule():
    f = classify(sp.Rational(3, 4) * sp.eye(2), 2 * sp.eye(2))
    assert (f.kind, f.eta, f.preconditioned_eta) == ("gd", sp.Rational(3, 4), sp.Rational(3, 2))
    assert f.also_preconditioned
    sigma = sp.Matrix([[2, 1], [1, 3]])
    f = classify(5 * sigma.inv(), sigma)
    assert (f.kind, f.eta, f.also_preconditioned) == ("preconditioned-gd", 5, False)
    f = classify(sp.Rational(1, 3) * sp.eye(2), sigma)
    assert (f.kind, f.eta, f.preconditioned_eta) == ("gd", sp.Rational(1, 3), None)
    assert classify(sp.diag(1, 2), sp.eye(2)).kind == "general"
    assert classify(sp.zeros(2, 2), sp.eye(2)).kind == "gd"          # eta = 0 is a multiple of I


# (task, hand-derived Gamma*) -- symbolic n, s2 and fixed ones
CASES = [
    ("cov-2-d1-fixed", Task(d=1, n=4, noise="1/4", covariance=[[2]]),
     sp.Matrix([[sp.Rational(4, 2 * 6 + sp.Rational(1, 4))]])),          # n/(c(n+d+1) + s2)
    ("cov-2-d1", Task(d=1, covariance=[[2]]), sp.Matrix([[n / (2 * (n + 2) + s2)]])),
    ("cov-2I-d2", Task(d=2, covariance=[[2, 0], [0, 2]]), n / (2 * (n + 3) + s2) * sp.eye(2)),
    ("prior-2-d1", Task(d=1, prior=[[2]]), sp.Matrix([[2 * n / (2 * n + 4 + s2)]])),
    ("inverse-cov-half-d1", Task(d=1, covariance=[["1/2"]], prior="inverse-covariance"),
     sp.Matrix([[2 * n / (n + 2 + s2)]])),                                 # eta Sigma^{-1}
]


@pytest.mark.parametrize("name,task,gamma", CASES, ids=[c[0] for c in CASES])
def test_true_claim_with_scaled_identity_passes(name, task, gamma):
    opt = global_optimum(task)
    assert exact_equal(opt.gamma, gamma)
    assert opt.form == "gd"
    form, pub_gamma, pub_loss = published_optimum(task)
    assert form == "gd" and exact_equal(pub_gamma, opt.gamma) and exact_equal(pub_loss, opt.loss)
    _, symbolic, checks = exact_side(TaskSpec(name, task))
    assert all(ch.passed for ch in checks), [ch.detail for ch in checks if not ch.passed]
    assert symbolic["form"] == "gd"


def test_scaled_identity_records_the_preconditioned_step():
    opt = global_optimum(Task(d=1, covariance=[[2]], prior="inverse-covariance"))
    # Sigma = 2, Omega = 1/2: Gamma* = (n/(n+2+s2)) Sigma^{-1} = n/(2(n+2+s2)) I
    assert exact_equal(opt.eta, n / (2 * (n + 2 + s2)))
    assert exact_equal(opt.form_detail.preconditioned_eta, n / (n + 2 + s2))


@pytest.mark.parametrize("what", ["gamma", "loss"])
def test_wrong_published_value_still_fails(monkeypatch, what):
    """Near miss: a published value off by 10^-30 must make the exact check fail."""
    import verify.runner as runner

    task = Task(d=1, n=4, noise="1/4", covariance=[[2]])
    true_form, true_gamma, true_loss = published_optimum(task)
    eps = sp.Rational(1, 10**30)
    wrong = (true_form, true_gamma + sp.Matrix([[eps]]), true_loss) if what == "gamma" else \
        (true_form, true_gamma, true_loss + eps)
    monkeypatch.setattr(runner, "published_optimum", lambda t: wrong)
    _, _, checks = exact_side(TaskSpec("near-miss", task))
    published = next(ch for ch in checks if ch.id == "published-optimum")
    assert not published.passed and "DIFFER" in published.detail
