"""Derivation documents: validation before any work, and the assumed status."""

import pytest

from derivations.notation import NotationError, check_document, load_document

SETUP = {"matrices": {"A": "general", "Sigma": "spd"}, "vectors": {"x": "N(0, Sigma)", "v": "opaque"}}


def doc(steps, setup=None, define=None, **top):
    data = {"setup": setup or SETUP, "step": steps, **top}
    if define is not None:
        data["define"] = define
    return load_document(data)


def step(claim, name="s", **kw):
    return {"name": name, "claim": claim, **kw}


def test_statuses_and_counts():
    result = check_document(doc([
        step("E[x^T * A * x] = tr(A * Sigma)", "proved"),
        step("E[x^T * A * x] = tr(A)", "refuted"),
        step("E[v^T * v] = 1", "assumed", assume=True, justification="v is a unit vector"),
        step("E[v] = 0", "unproved"),
    ]))
    assert [r.status for r in result.steps] == ["proved", "refuted", "assumed", "unproved"]
    s = result.summary()
    assert (s["proved"], s["refuted"], s["assumed"], s["unproved"], s["total"]) == (1, 1, 1, 1, 4)
    assert not s["holds"] and not s["fully_proved"]
    assert s["strength"] == "symbolic-d"


def test_assumed_steps_are_never_proved_but_a_false_assumption_is_refuted():
    result = check_document(doc([
        step("E[v] = 0", "a", assume=True, justification="v is centred (a rule the engine lacks)"),
        step("E[x^T * A * x] = tr(A)", "b", assume=True, justification="wrong on purpose"),
        step("E[x^T * A * x] = tr(A * Sigma)", "c", assume=True, justification="needless"),
    ]))
    a, b, c = result.steps
    assert a.status == "assumed" and "v is centred" in a.detail
    assert b.status == "refuted" and "FALSE" in b.detail and b.counterexample is not None
    assert c.status == "proved" and "declared assumed" in c.detail
    assert result.holds is False


def test_a_derivation_with_only_proved_and_assumed_steps_holds():
    result = check_document(doc([step("E[x] = 0", "a"), step("E[v] = 0", "b", assume=True, justification="j")]))
    assert result.holds and not result.fully_proved


def test_json_shape():
    result = check_document(doc([step("E[x^T * A * x] = tr(A)", "r"), step("E[x] = 0", "p")]))
    out = result.as_json()
    assert set(out) >= {"steps", "summary"}
    r, p = out["steps"]
    assert set(r) >= {"name", "claim", "status", "counterexample", "detail"}
    cx = r["counterexample"]
    assert cx["d"] == 1 and cx["lhs"] != cx["rhs"] and set(cx["matrices"]) == {"A", "Sigma"}
    assert all(isinstance(x, str) for row in cx["matrices"]["A"] for x in row)
    assert "counterexample" not in p
    assert out["summary"]["refuted"] == 1


@pytest.mark.parametrize("data, message", [
    ({"step": []}, "setup: a [setup] table is required"),
    ({"setup": SETUP}, "step: at least one [[step]] table is required"),
    ({"setup": SETUP, "step": [step("A = A")], "extra": 1}, "top level: unknown key 'extra'"),
    ({"setup": {**SETUP, "sigma": 1}, "step": [step("A = A")]}, "setup: unknown key 'sigma'"),
    ({"setup": SETUP, "step": [{"name": "a", "claim": "A = A", "proof": ""}]}, "step 'a': unknown key 'proof'"),
    ({"setup": SETUP, "step": [{"claim": "A = A"}]}, "step 1: 'name' is required"),
    ({"setup": SETUP, "step": [{"name": "a\nb", "claim": "A = A"}]}, "got 'a\\nb'"),
    ({"setup": SETUP, "step": [step("A = A", "a"), step("A = A", "a")]}, "step 'a': the name is used twice"),
    ({"setup": SETUP, "step": [step("A = B")]}, "step 's': claim: unknown name 'B'"),
    ({"setup": SETUP, "step": [step("A = A", assume=True)]}, "an assumed step needs a justification"),
    ({"setup": SETUP, "step": [step("A = A", assume="yes")]}, "assume: must be true or false"),
    ({"setup": SETUP, "step": [step(3)]}, "claim: must be text, got int"),
    ({"setup": SETUP, "step": [step("A = A", justification="a\x1b[2Jb")]}, "control character '\\x1b'"),
    ({"setup": {**SETUP, "d": 0}, "step": [step("A = A")]}, "setup.d: must be in 1..10 when fixed, got 0"),
    ({"setup": {**SETUP, "d": "\uff12"}, "step": [step("A = A")]}, "non-ASCII digit '\\uff12'"),
    ({"setup": {**SETUP, "s2": "\u0661/\u0664"}, "step": [step("A = A")]}, "non-ASCII digit '\\u0661'"),
    ({"setup": {**SETUP, "s2": -1}, "step": [step("A = A")]}, "a variance must be >= 0"),
    ({"setup": {**SETUP, "s2": 0.25}, "step": [step("A = A")]}, "is a float"),
    ({"setup": {**SETUP, "n": True}, "step": [step("A = A")]}, "setup.n: must be \"symbolic\" or an integer"),
    ({"setup": {"matrices": {"A": "orthogonal"}}, "step": [step("A = A")]}, "kind must be one of general, symmetric, spd"),  # noqa: E501
    ({"setup": {"matrices": {"__class__": "general"}}, "step": [step("A = A")]}, "'__class__' is not a valid name"),
    ({"setup": {"matrices": {"E": "general"}}, "step": [step("A = A")]}, "'E' is reserved"),
    ({"setup": {"matrices": {"A": "general"}, "vectors": {"A": "constant"}}, "step": [step("A = A")]}, "'A' is already declared"),  # noqa: E501
    ({"setup": {"matrices": {"A": "general"}, "vectors": {"x": "N(0, A)"}}, "step": [step("A = A")]}, "must be certified positive semidefinite"),  # noqa: E501
    ({"setup": {"vectors": {"x": "N(1, I)"}}, "step": [step("x = x")]}, "Gaussians are centred"),
    ({"setup": {"vectors": {"x": "N(0, s2)"}}, "step": [step("x = x")]}, "a vector's covariance must be a d x d matrix"),  # noqa: E501
    ({"setup": {"scalars": {"e": "N(0, -s2)"}}, "step": [step("e = e")]}, "a variance must be provably >= 0"),
    ({"setup": {"context": {"x": "N(0, I)"}}, "step": [step("I = I")]}, "per-example names end in _i"),
    ({"setup": {"vectors": {"x_i": "N(0, I)"}}, "step": [step("I = I")]}, "names ending in _i are per-example"),
    ({"setup": {"context": {"x_i": "N(0, I)"}}, "define": {"m": "x_i"}, "step": [step("I = I")]}, "its name must end in _i"),  # noqa: E501
    ({"setup": {"context": {"x_i": "N(0, I)"}}, "define": {"m_i": "avg(x_i)"}, "step": [step("I = I")]}, "names ending in _i are per-example"),  # noqa: E501
    ({"setup": SETUP, "define": {"g": "g + A"}, "step": [step("A = A")]}, "define.g: unknown name 'g'"),
])
def test_bad_documents_are_one_line_errors(data, message):
    with pytest.raises(NotationError) as err:
        load_document(data)
    assert message in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


def test_overrides_replace_a_definition():
    data = {"setup": SETUP, "define": {"k": "2"}, "step": [step("k = 2")]}
    assert check_document(load_document(data)).steps[0].status == "proved"
    assert check_document(load_document(data, overrides={"k": "3"})).steps[0].status == "refuted"
    with pytest.raises(NotationError, match="is not defined"):
        load_document(data, overrides={"q": "1"})
