"""User task files (TOML): one ``[[task]]`` table per task.

Keys: name (text), d (int), n (int; omit for symbolic), noise (variance: int or text such as
"1/2"; omit for symbolic), covariance (matrix of ints or "p/q" texts; omit for identity),
prior ("identity" | "inverse-covariance" | matrix), response (table: family = "linear" |
"single-index" | "two-layer-relu" | "expression", with link, width or expr),
query_in_keys, residual (booleans), samples (Monte Carlo budget, optional), covariates (table:
law = "gaussian" | "uniform" (half_width) | "rademacher" | "moments" (variance, fourth_moment)),
test (table: any of n, noise, covariance, prior -- the test-time distribution).
Unknown keys and invalid values raise :class:`~verify.errors.InputError` naming the task
and the key.
"""

from __future__ import annotations

import tomllib
import unicodedata
from pathlib import Path

from derivations.errors import InputError as InputErrorOfDerivations
from derivations.task import Response, Task, TaskError

from .claims import parse_user_claim
from .errors import InputError, quote
from .spec import TaskSpec, report_dir_name

TASK_KEYS = {"name", "d", "n", "noise", "covariance", "prior", "response", "query_in_keys",
             "residual", "samples", "claim", "covariates", "test"}
RESPONSE_KEYS = {"family", "link", "width", "expr"}
COVARIATE_KEYS = {"law", "half_width", "variance", "fourth_moment"}
TEST_KEYS = {"n", "noise", "covariance", "prior"}
MAX_TASKS = 100
MAX_SAMPLES = 10**8
MIN_SAMPLES = 3_000
MAX_FILE_BYTES = 1 << 20
#: task names are printable text; each maps to an unambiguous report directory
#: (:func:`verify.spec.report_dir_name`)
MAX_NAME = 80


def _type_name(value):
    return {bool: "a boolean", int: "an integer", float: "a float", str: "text", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def _matrix_value(value, where):
    if isinstance(value, str):
        return value
    if not isinstance(value, list) or not all(isinstance(r, list) for r in value):
        raise InputError(f"{where}: must be a matrix (a list of rows), got {_type_name(value)}")
    for row in value:
        for x in row:
            if isinstance(x, bool) or not isinstance(x, (int, str)):
                raise InputError(f"{where}: entries must be integers or texts like \"1/2\", got {_type_name(x)}")
    return value


def _exact_text(value, where):
    """An int or a "p/q" text (checked later by the exact parser); anything else is refused."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InputError(f"{where} must be an integer or text such as \"1/2\", got {_type_name(value)}")
    return value


def _check_sub_table(value, key: str, allowed, label: str, expects: str):
    """A nested table of a task (``response``, ``covariates``, ``test``): a table whose keys are
    among ``allowed``; one line naming the key otherwise."""
    if not isinstance(value, dict):
        raise InputError(f"{label}: key '{key}' must be a table {expects}, got {_type_name(value)}")
    bad = sorted(set(value) - allowed)
    if bad:
        raise InputError(f"{label}: unknown key '{key}.{bad[0]}' (allowed: {', '.join(sorted(allowed))})")


def _covariates_value(value, label):
    """The covariates table as plain data for derivations.laws (None when absent)."""
    if value is None:
        return None
    _check_sub_table(value, "covariates", COVARIATE_KEYS, label, "with 'law'")
    if not isinstance(value.get("law"), str):
        raise InputError(f"{label}: key 'covariates.law' is required text "
                         "(\"gaussian\", \"uniform\", \"rademacher\" or \"moments\")")
    for key in ("half_width", "variance", "fourth_moment"):
        if key in value:
            _exact_text(value[key], f"{label}: key 'covariates.{key}'")
    return dict(value)


def _test_value(value, label):
    """The test table as plain data for derivations.task (None when absent)."""
    if value is None:
        return None
    _check_sub_table(value, "test", TEST_KEYS, label, "(n, noise, covariance, prior)")
    if not value:
        raise InputError(f"{label}: key 'test' is empty; give at least one of {', '.join(sorted(TEST_KEYS))}")
    out = dict(value)
    if "n" in value and (isinstance(value["n"], bool) or not isinstance(value["n"], int)):
        raise InputError(f"{label}: key 'test.n' must be an integer, got {_type_name(value['n'])}")
    if "noise" in value:
        _exact_text(value["noise"], f"{label}: key 'test.noise'")
    if "covariance" in value:
        if isinstance(value["covariance"], str):
            raise InputError(f"{label}: key 'test.covariance' must be a matrix (a list of rows)")
        out["covariance"] = _matrix_value(value["covariance"], f"{label}: key 'test.covariance'")
    if "prior" in value and not isinstance(value["prior"], str):
        out["prior"] = _matrix_value(value["prior"], f"{label}: key 'test.prior'")
    return out


def parse_task(table: dict, index: int) -> TaskSpec:
    label = f"task {index + 1}"
    if not isinstance(table, dict):
        raise InputError(f"{label}: must be a table")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{label}: key 'name' is required text")
    if any(unicodedata.category(ch)[0] in "CZ" and ch != " " for ch in name):
        raise InputError(f"{label}: name {quote(name[:100])} contains control characters, escape "
                         "sequences or line breaks")
    if len(name) > MAX_NAME:
        raise InputError(f"{label}: name is longer than {MAX_NAME} characters")
    label = f"task {name!r}"
    unknown = sorted(set(table) - TASK_KEYS)
    if unknown:
        raise InputError(f"{label}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(TASK_KEYS))})")
    if "d" not in table:
        raise InputError(f"{label}: key 'd' is required")
    for key in ("d", "n", "samples"):
        if key in table and (isinstance(table[key], bool) or not isinstance(table[key], int)):
            raise InputError(f"{label}: key {key!r} must be an integer, got {_type_name(table[key])}")
    if "noise" in table and (isinstance(table["noise"], bool) or not isinstance(table["noise"], (int, str))):
        raise InputError(f"{label}: key 'noise' must be an integer or text such as \"1/2\", "
                         f"got {_type_name(table['noise'])}")
    for key in ("query_in_keys", "residual"):
        if key in table and not isinstance(table[key], bool):
            raise InputError(f"{label}: key {key!r} must be true or false, got {_type_name(table[key])}")
    covariance = _matrix_value(table["covariance"], f"{label}: key 'covariance'") if "covariance" in table else None
    if isinstance(covariance, str):
        raise InputError(f"{label}: key 'covariance' must be a matrix (a list of rows)")
    prior = table.get("prior", "identity")
    if not isinstance(prior, str):
        prior = _matrix_value(prior, f"{label}: key 'prior'")
    response = table.get("response", {"family": "linear"})
    _check_sub_table(response, "response", RESPONSE_KEYS, label, "with 'family'")
    covariates = _covariates_value(table.get("covariates"), label)
    test = _test_value(table.get("test"), label)
    samples = table.get("samples")
    if samples is not None and not MIN_SAMPLES <= samples <= MAX_SAMPLES:
        raise InputError(f"{label}: key 'samples' must be between {MIN_SAMPLES} and {MAX_SAMPLES}")
    try:
        resp = Response(**{k: response[k] for k in response})
        task = Task(d=table["d"], n=table.get("n"), noise=table.get("noise"), covariance=covariance,
                    prior=prior, query_in_keys=table.get("query_in_keys", False),
                    residual=table.get("residual", False), response=resp, name=name,
                    covariates=covariates, test=test)
        # Task parses the link / expression text on construction; nothing is expanded here, so
        # validation stays cheap whatever the degree (the size of the work is checked separately)
        claim = parse_user_claim(table["claim"], task, "claim") if "claim" in table else None
    except (TaskError, InputErrorOfDerivations) as err:
        raise InputError(f"{label}: {err}") from None
    spec = TaskSpec(name=name, task=task, user=True, claim=claim,
                    description="user task: " + (claim.describe() if claim else "exploration (no claim)"))
    if samples is not None:
        spec.samples = samples
    return spec


def load_task_file(path: str) -> list[TaskSpec]:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"--tasks: no such file: {quote(path)}")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"--tasks: {quote(path)} is larger than {MAX_FILE_BYTES} bytes")
    shown = quote(path)
    try:
        text = p.read_text(encoding="utf-8")
        # a UTF-8 byte-order mark (common from Windows editors) is not part of the TOML
        data = tomllib.loads(text[1:] if text.startswith("\ufeff") else text)
    except UnicodeDecodeError:
        raise InputError(f"--tasks: {shown} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"--tasks: {shown} is not valid TOML ({err})") from None
    except RecursionError:
        raise InputError(f"--tasks: {shown} nests arrays or tables too deeply to be a task file") from None
    except OSError as err:
        raise InputError(f"--tasks: cannot read {shown} ({err.strerror})") from None
    unknown = sorted(set(data) - {"task"})
    if unknown:
        raise InputError(f"--tasks: unknown top-level key {unknown[0]!r} (expected [[task]] tables)")
    tables = data.get("task")
    if not isinstance(tables, list) or not tables:
        raise InputError(f"--tasks: {shown} has no [[task]] tables")
    if len(tables) > MAX_TASKS:
        raise InputError(f"--tasks: at most {MAX_TASKS} tasks per file, got {len(tables)}")
    specs = [parse_task(t, i) for i, t in enumerate(tables)]
    names = [s.name for s in specs]
    dup = next((x for x in names if names.count(x) > 1), None)
    if dup:
        raise InputError(f"--tasks: duplicate task name {dup!r}")
    dirs = [report_dir_name(x) for x in names]
    clash = next((x for x in dirs if dirs.count(x) > 1), None)
    if clash:
        raise InputError(f"--tasks: two task names share the report directory {clash!r}; rename one")
    return specs
