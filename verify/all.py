"""``python -m verify.all``: verify the theorems end to end (or a user's task file).

Exit status: 0 when every true claim holds and every negative control is refuted, 1
otherwise, 2 for bad input (one line on stderr, nothing written).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from .errors import InputError, one_line, quote
from .spec import report_dir_name

DESCRIPTION = """\
Verify that the optimal one-layer linear self-attention implements one step of
(preconditioned) gradient descent (Mahankali, Hashimoto, Ma; arXiv 2307.03576).
For every task: the exact optimum (SymPy; certificate of global optimality), a Monte
Carlo optimum (torch), and checks between them, each with its z-score and tolerance.
Negative controls (tasks named control-*) are false claims and must be refuted."""

EPILOG = """\
task file (TOML), one [[task]] table per task:
  name = "my-task"          d = 2                 n = 20 (omit: symbolic)
  noise = "1/4" (omit: symbolic)                  covariance = [[2, 1], [1, "3/2"]]
  prior = "identity" | "inverse-covariance" | [[...]]
  response = { family = "linear" | "single-index" | "two-layer-relu" | "expression",
               link = "tanh(s)", width = 3, expr = "s + x1**2" }
  query_in_keys = false     residual = false      samples = 40000
  covariates = { law = "gaussian" | "uniform" (half_width) | "rademacher" | "moments" (variance, fourth_moment) }
  test = { n = 40, noise = 0, covariance = [[...]], prior = ... }   (test-time distribution; any subset)
exit status: 0 all pass, 1 a claim failed or a control was not refuted, 2 bad input."""


#: seconds between "still running" lines while long tasks run
HEARTBEAT = 30.0


class _Parser(argparse.ArgumentParser):
    def error(self, message):                    # one line, exit 2 (argparse prints usage)
        raise InputError(f"verify.all: {message} (see --help)")

    def exit(self, status=0, message=None):       # --help: print and exit normally
        if message:
            sys.stderr.write(one_line(message) + "\n")
        sys.exit(status)


def parse_args(argv):
    p = _Parser(prog="python -m verify.all", description=DESCRIPTION, epilog=EPILOG,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a representative subset (under 15 s on 2 cores)")
    p.add_argument("--suite", default="default", metavar="NAME",
                   help="default | landscape (certified critical points per distribution and trained runs "
                        "classified against them; a few minutes) | full (both)")
    p.add_argument("--seed", type=int, default=0, help="Monte Carlo seed (same seed, same results); default 0")
    p.add_argument("--json", metavar="PATH", help="write machine-readable results to PATH")
    p.add_argument("--report", metavar="DIR", default="reports",
                   help="write LaTeX reports under DIR (default: reports/): per task steps.tex, "
                        "comparison.tex, task.tex and figures; one onestep.tex/pdf")
    p.add_argument("--no-report", action="store_true", help="do not write reports")
    p.add_argument("--no-numeric", action="store_true", help="symbolic side only (no Monte Carlo)")
    p.add_argument("--tasks", metavar="FILE", help="run the tasks of a TOML file instead of the default suite")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    args = p.parse_args(argv)
    if args.seed < 0 or args.seed > 2**31 - 1:
        raise InputError(f"--seed: must be an integer in 0..{2**31 - 1}, got {args.seed}")
    if not 1 <= args.workers <= 64:
        raise InputError(f"--workers: must be in 1..64, got {args.workers}")
    if args.suite not in SUITES:
        raise InputError(f"--suite: must be one of {', '.join(SUITES)}, got {quote(args.suite)}")
    if args.tasks and args.suite != "default":
        raise InputError("--suite: cannot be combined with --tasks (a task file replaces the suite)")
    if args.quick and args.suite != "default":
        raise InputError("--quick: selects a subset of the default suite; it cannot be combined with "
                         f"--suite {args.suite}")
    return args


#: the named suites of --suite
SUITES = ("default", "landscape", "full")


def suite_specs(args) -> list:
    """The tasks to run for --quick / --suite (a task file is handled by the caller)."""
    from .suite import default_suite, quick_suite

    if args.quick:
        return quick_suite()
    if args.suite == "default":
        return default_suite()
    from .landscape_suite import landscape_suite

    return landscape_suite() if args.suite == "landscape" else default_suite() + landscape_suite()


def check_outputs(args, specs, probe: bool = False):
    """Every output path, checked before any task runs (see :mod:`verify.io`). With ``probe``
    each is also test-written (call it last: bad input must leave the file system untouched)."""
    from .io import check_output_dir, check_output_file, probe_output

    if probe:
        if args.json is not None:
            probe_output(Path(args.json), "--json")
        if not args.no_report:
            probe_output(Path(args.report), "--report")
        return
    inputs = [args.tasks] if args.tasks else []
    if args.json is not None:
        check_output_file(args.json, "--json", inputs, probe=False)
    if not args.no_report:
        report = check_output_dir(args.report, "--report", probe=False)
        figures = report / "landscape"
        if any(spec.landscape for spec in specs) and figures.exists() and not figures.is_dir():
            raise InputError(f"--report: {quote(str(figures))} exists and is not a directory "
                             "(it would hold the landscape figures)")
        for spec in specs:
            target = report / report_dir_name(spec.name)
            if target.exists() and not target.is_dir():
                raise InputError(f"--report: {quote(str(target))} exists and is not a directory "
                                 f"(it would hold the report of task {spec.name!r})")
        if args.json is not None:
            inside = _relative_to(Path(args.json).resolve(), report.resolve())
            if inside is not None and (len(inside.parts) > 1 or inside.name.startswith(("index.", "onestep."))):
                raise InputError(f"--json: {quote(args.json)} is among the files the report writes "
                                 f"under {quote(args.report)}")


def _relative_to(path: Path, base: Path):
    try:
        return path.relative_to(base)
    except ValueError:
        return None


def _init_worker():
    import torch

    torch.set_num_threads(1)


def _run(spec, seed, numeric):
    from .runner import run_spec

    return run_spec(spec, seed=seed, numeric=numeric)


def run_all(specs, seed=0, numeric=True, workers=2, progress=True):
    """Run specs (in parallel worker processes when workers > 1); results in input order."""
    from . import console
    from .runner import run_spec

    results = [None] * len(specs)
    if workers <= 1:
        for i, spec in enumerate(specs):
            start = time.perf_counter()
            with console.Heartbeat(spec.name, HEARTBEAT, enabled=progress):
                results[i] = run_spec(spec, seed=seed, numeric=numeric)
            if progress:
                console.progress_line(i + 1, len(specs), results[i], time.perf_counter() - start)
        return results
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker) as pool:
        futures = {pool.submit(_run, spec, seed, numeric): i for i, spec in enumerate(specs)}
        pending, done = set(futures), 0
        while pending:
            # wake up at least every HEARTBEAT seconds, so long tasks visibly make progress
            finished, pending = wait(pending, timeout=HEARTBEAT, return_when=FIRST_COMPLETED)
            for fut in finished:
                done += 1
                i = futures[fut]
                results[i] = fut.result()
                if progress:
                    console.progress_line(done, len(specs), results[i], time.perf_counter() - start)
            if progress and not finished and pending:
                running = [specs[futures[f]].name for f in pending if f.running()]
                console.heartbeat(running, time.perf_counter() - start)
    return results


def main(argv=None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        from .taskfile import load_task_file

        specs = load_task_file(args.tasks) if args.tasks else suite_specs(args)
        check_outputs(args, specs)
        from .budget import plan

        costs = plan(specs, numeric=not args.no_numeric)
        check_outputs(args, specs, probe=True)
    except InputError as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2
    from . import console
    from .results import summary_json

    start = time.perf_counter()
    progress = not args.no_progress
    if progress:
        console.announce_long(costs)
    results = run_all(specs, seed=args.seed, numeric=not args.no_numeric, workers=args.workers,
                      progress=progress)
    seconds = time.perf_counter() - start
    print(console.table(results))
    doc = summary_json(results, seconds, seed=args.seed)
    na = doc["summary"]["not_applicable"]
    print(f"\n{doc['summary']['passed']} passed, {doc['summary']['failed']} failed"
          + (f", {na} not applicable" if na else "") + f" ({seconds:.1f} s)")
    if args.json:
        from .io import write_json
        write_json(args.json, doc)
    if not args.no_report:
        try:
            from .report import write_reports
        except ImportError:
            write_reports = None
        standard = [r for r in results if not r.spec.landscape]
        if write_reports is not None and standard:
            write_reports(standard, args.report, seed=args.seed, progress=progress)
        landscape_results = [r for r in results if r.spec.landscape]
        if landscape_results:
            from .landscape_figures import write_landscape_outputs
            write_landscape_outputs(landscape_results, args.report)
    return 0 if doc["summary"]["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
