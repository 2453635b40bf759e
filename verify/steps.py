"""``python -m verify.steps FILE [--json OUT] [--report DIR] [--strict]``: check a derivation.

FILE is a TOML derivation (``[setup]``, ``[define]``, ``[[step]]``; see ``--help``). Each step
is proved (for every d when d is symbolic, every n, s2 and every matrix of its declared
kind), refuted (with an explicit counterexample), unproved (the engine could not decide),
or assumed (declared ``assume = true``: it rests on a rule the engine lacks).

Exit status: 0 when no step is refuted or unproved (assumed steps allowed; with --strict
they count as failures), 1 otherwise, 2 for bad input (one line on stderr, nothing written).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import tomllib
from pathlib import Path

from .errors import InputError, one_line
from .io import check_output_dir, check_output_file, probe_output

MAX_FILE_BYTES = 2 << 20
SLOW_STEP_SECONDS = 2.0

EPILOG = """\
derivation file (TOML):
  title = "..."                                  (optional)
  [setup]
  d = "symbolic"           n = "symbolic"        s2 = "symbolic"   (or integers / "1/4")
  matrices = { Sigma = "spd", A = "general", B = "symmetric" }
  vectors  = { x = "N(0, Sigma)", w = "N(0, I)", u = "constant", v = "opaque" }
  scalars  = { eps_q = "N(0, s2)", c = "constant" }
  context  = { x_i = "N(0, Sigma)", eps_i = "N(0, s2)" }   # iid over i = 1..n
  [define]
  g = "avg((w^T * x_i + eps_i) * x_i)"
  [[step]]
  name = "wishart"
  claim = "E[avg(x_i * x_i^T) * A * avg(x_i * x_i^T)] = ..."
  justification = "..."    assume = false
expressions: + - * / (by constant scalars), ^T, ^k (k = 0..8), inv(X), tr(X), E[...],
  avg(...) (a fresh index per occurrence), I, d, n, s2, integers; relations =, succeq, succ.
exit status: 0 no step refuted or unproved, 1 otherwise, 2 bad input."""


class _ArgParser(argparse.ArgumentParser):
    def error(self, message):                    # one line, exit 2 (argparse prints usage)
        raise InputError(f"verify.steps: {message} (see --help)")


def parse_args(argv):
    p = _ArgParser(prog="python -m verify.steps", description=__doc__.splitlines()[0].split(": ", 1)[1],
                   epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="FILE", help="the derivation (TOML)")
    p.add_argument("--json", metavar="OUT", help="write machine-readable results to OUT")
    p.add_argument("--report", metavar="DIR", help="write the derivation as LaTeX (and report.pdf) into DIR")
    p.add_argument("--strict", action="store_true", help="assumed steps count as failures (exit 1)")
    p.add_argument("--no-pdf", action="store_true", help="with --report: write the .tex files only")
    return p.parse_args(argv)


def _show(value) -> str:
    from derivations.notation.parse import show
    return show(value, 80)


def check_output_path(value, flag: str, input_path: Path, directory: bool = False) -> Path:
    """Validate an output path before anything is written (one InputError line otherwise), with
    the project's shared rules (:mod:`verify.io`); the writability probe runs last, in main."""
    if value is None:
        return None
    if directory:
        return check_output_dir(value, flag, probe=False)
    return check_output_file(value, flag, inputs=[input_path], probe=False)


def read_derivation(value) -> tuple:
    """(path, data): the TOML file read and parsed, or one InputError line."""
    if not value.strip():
        raise InputError("FILE: empty path")
    path = Path(value)
    if not path.exists():
        raise InputError(f"{_show(value)}: no such file")
    if not path.is_file():
        raise InputError(f"{_show(value)}: not a file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{_show(value)}: larger than {MAX_FILE_BYTES // (1 << 20)} MB")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"{_show(value)}: cannot read ({err.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"{_show(value)}: not UTF-8 text (byte {err.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]                          # a UTF-8 byte-order mark is accepted
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{_show(value)}: not valid TOML: {_show(str(err))}") from None
    except RecursionError:
        raise InputError(f"{_show(value)}: TOML nested too deeply to read") from None
    return path, data


def _progress(stream=None):
    """A progress callback: a stderr line for every step that takes longer than a moment."""
    state = {}
    stream = stream or sys.stderr

    def say(k, total, name):
        stream.write(f"[{k}/{total}] checking {name} ...\n")
        stream.flush()

    def callback(k, total, name, result):
        if result is None:
            timer = threading.Timer(SLOW_STEP_SECONDS, say, (k, total, name))
            timer.daemon = True
            timer.start()
            state["timer"] = timer
        else:
            state["timer"].cancel()
    return callback


def step_line(result) -> str:
    """One stdout line: status, name and, for refuted steps, the counterexample."""
    head = f"{result.status:<9} {result.name}"
    if result.status == "refuted":
        cx = result.counterexample
        return f"{head}: " + (cx.describe() if cx is not None else result.detail)
    if result.status == "unproved":
        return f"{head}: {result.detail}"
    if result.status == "assumed":
        return f"{head} (rests on: {' '.join(result.spec.justification.split())[:120]})"
    return head


def summary_line(doc_result, strict: bool) -> str:
    c = doc_result.counts()
    where = "symbolic d" if doc_result.document.scope.d is None else f"d = {doc_result.document.scope.d}"
    verdict = "holds" if doc_result.holds and not (strict and c["assumed"]) else "does NOT hold"
    return (f"{len(doc_result.steps)} steps: {c['proved']} proved, {c['assumed']} assumed, "
            f"{c['refuted']} refuted, {c['unproved']} unproved ({where}, "
            f"{doc_result.seconds:.1f} s): the derivation {verdict}"
            + (" with its assumptions" if c["assumed"] and verdict == "holds" else ""))


def stem_of(path: Path) -> str:
    import re
    return re.sub(r"[^A-Za-z0-9_-]+", "_", path.stem).strip("_") or "derivation"


def main(argv=None) -> int:
    from derivations.notation import NotationError, check_document, load_document

    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        path, data = read_derivation(args.file)
        json_path = check_output_path(args.json, "--json", path)
        report_dir = check_output_path(args.report, "--report", path, directory=True)
        stem = stem_of(path)
        if report_dir is not None:
            from .steps_report import output_files
            for target in output_files(report_dir, stem):
                if target.is_symlink():
                    raise InputError(f"--report: {_show(str(target))} is a symbolic link (refused)")
                if target.exists() and target.resolve() == path.resolve():
                    raise InputError(f"--report: would overwrite the input file {_show(str(target))}")
                if target.is_dir():
                    raise InputError(f"--report: {_show(str(target))} is a directory")
            if json_path is not None and json_path.resolve() in {t.resolve() for t in output_files(report_dir, stem)}:
                raise InputError("--json: the same file as a report file")
        try:
            doc = load_document(data, source=path.name)
        except NotationError as err:
            raise InputError(f"{path.name}: {err}") from None
        for target, flag in ((json_path, "--json"), (report_dir, "--report")):
            if target is not None:
                probe_output(target, flag)          # last: bad input never touches the disk
    except InputError as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    result = check_document(doc, progress=_progress())
    for r in result.steps:
        print(step_line(r))
    print(summary_line(result, args.strict))
    if json_path is not None:
        from .io import write_json
        doc_json = result.as_json()
        doc_json["file"] = str(path)
        write_json(json_path, doc_json)
    if report_dir is not None:
        from .steps_report import write_report
        built = write_report(result, report_dir, stem, build=not args.no_pdf)
        if built["skipped"]:
            print(f"report: {built['tex']} written; latexmk not found, no PDF", file=sys.stderr)
        elif built["pdf"] is None and not args.no_pdf:
            print(f"report: {built['tex']} written; the PDF build failed: "
                  f"{(built['problems'] or ['see report.log'])[0]}", file=sys.stderr)
        elif built["problems"]:
            print(f"report: {built['pdf']} ({len(built['problems'])} LaTeX warnings, first: "
                  f"{built['problems'][0]})", file=sys.stderr)
        else:
            print(f"report: {built['pdf'] or built['tex']}", file=sys.stderr)
    del start
    c = result.counts()
    ok = result.holds and not (args.strict and c["assumed"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
