"""Property tests of the task-file promise: valid input is accepted, anything else is refused
with exactly one line (InputError at the CLI's edge) -- never another exception.

hypothesis generates task-file structures mixing valid keys and values with wrong types,
unknown keys, hostile text, non-ASCII digits, deep nesting and control characters; they are
written out as TOML and read back by the CLI's own loader.
"""

import json
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify.errors import InputError, one_line
from verify.taskfile import load_task_file

ROOT = Path(__file__).resolve().parents[2]


def toml_value(value) -> str:
    """A minimal TOML writer for generated values (strings via JSON escaping, which TOML shares)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if not isinstance(value, float) or value == value else "nan"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def toml_document(tasks) -> str:
    out = []
    for table in tasks:
        out.append("[[task]]")
        out += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(out) + "\n"


# bad values for any key, and good values per key
bad_values = st.one_of(
    st.sampled_from(["1/0", "١/٤", "２", "0.5", "__import__('os')", "1e3", "", "a\nb", "\x1b[31m",
                     [[1, 2], [2, 1]], [[1, 0], [1]], [], {"a": 1}, True, -1, 10**12]),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10**10))
good = {
    "d": st.integers(1, 2),
    "n": st.integers(1, 12),
    "noise": st.sampled_from([0, 1, "1/4", "3/2"]),
    "covariance": st.sampled_from([[[2, 1], [1, 2]], [["1/2", 0], [0, 3]], [[1]], [[5]]]),
    "prior": st.sampled_from(["identity", "inverse-covariance", [[1, 0], [0, 2]], [[2]]]),
    "response": st.one_of(
        st.builds(lambda link: {"family": "single-index", "link": link},
                  st.sampled_from(["s", "s**3", "s + s**3/3", "relu(s)", "sin(1)*s", "s/(s-s)",
                                   "s.__class__", "exp(s**2)", "(" * 50 + "s" + ")" * 50, "\x1b[31ms"])),
        st.builds(lambda expr: {"family": "expression", "expr": expr},
                  st.sampled_from(["s + x1**2", "x1*w1", "x9", "s**30"])),
        st.builds(lambda w: {"family": "two-layer-relu", "width": w}, st.integers(-1, 70)),
        st.just({"family": "bogus"})),
    "samples": st.integers(3000, 10**5),
    "query_in_keys": st.booleans(),
    "residual": st.booleans(),
}
valid_names = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=12).filter(
    lambda t: t[0] not in "-_")
names = st.one_of(valid_names, valid_names, valid_names,
                  st.sampled_from(["index.tex", "../x", "a\nb", "\x1b[1mx", "", "x" * 90]))


@st.composite
def tables(draw):
    """A mostly valid task table, with (sometimes) one key given a bad value or a bad key added."""
    table = {"name": draw(names), "d": draw(good["d"])}
    for key in draw(st.lists(st.sampled_from(sorted(set(good) - {"d"})), unique=True, max_size=5)):
        table[key] = draw(good[key])
    for key in ("covariance", "prior"):        # matrices of the table's own size
        value = table.get(key)
        if isinstance(value, list) and len(value) != table["d"]:
            table[key] = [[2, 1], [1, 2]] if table["d"] == 2 else [[3]]
    if draw(st.integers(0, 2)) == 0:          # one mutation in a third of the tables
        key = draw(st.sampled_from(sorted(good) + ["name", "bogus\nkey", "sigma"]))
        table[key] = draw(bad_values)
    return table


documents = st.lists(tables(), min_size=0, max_size=3)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents)
def test_loader_promise(tmp_path, tasks):
    path = tmp_path / "tasks.toml"
    path.write_text(toml_document(tasks), encoding="utf-8")
    try:
        specs = load_task_file(str(path))
    except InputError as err:
        message = one_line(err)
        assert "\n" not in message and message.strip()
        return
    assert len(specs) == len(tasks) and all(s.task is not None for s in specs)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(tables(), min_size=1, max_size=1))
def test_cli_promise(tmp_path, tasks):
    """The whole CLI on generated files: exit 0/1 with a table, or exit 2 with one line."""
    for table in tasks:                       # keep valid runs short: exact side, small d
        if isinstance(table.get("d"), int) and table["d"] > 2:
            table["d"] = 2
    path = tmp_path / "tasks.toml"
    path.write_text(toml_document(tasks), encoding="utf-8")
    from cli_harness import run_main

    from verify.all import main

    proc = run_main(main, ["--tasks", str(path), "--no-numeric", "--no-report", "--no-progress"], cwd=ROOT)
    assert "Traceback" not in proc.stderr
    if proc.returncode == 2:
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stdout == ""
    else:
        assert proc.returncode in (0, 1) and "passed" in proc.stdout
