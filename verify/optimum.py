"""``python -m verify.optimum``: what does the optimal one-layer LSA do for *my* distribution?

One command, the exact answer in seconds (no Monte Carlo unless asked):

    python -m verify.optimum --d 3 --covariance "[[2,1,0],[1,2,0],[0,0,1]]" --prior identity \\
        --noise 1/2 --n 10

prints Gamma*, its form and eta*, L* and the certificate's verdict; ``--latex`` prints the same
as LaTeX, ``--numeric`` adds the Monte Carlo check, ``--json`` writes the task's JSON record.
Values are validated exactly as in task files (omit --n / --noise for symbolic n, s2); a bad
value is one line on stderr and exit status 2. Exit status 0 when the certificate holds (and
Monte Carlo agrees, with --numeric), 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import tomllib

from .errors import InputError, one_line

DESCRIPTION = ("The exact optimum of the one-layer linear self-attention for one distribution: "
               "Gamma*, eta*, L*, with its certificate of global optimality.")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise InputError(f"verify.optimum: {message} (see --help)")


def _inline(text: str, flag: str):
    """A TOML inline value (a matrix such as [[2,1],[1,2]], or a number/text); never eval."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):
        raise InputError(f"{flag}: {text!r} is not a matrix such as [[2, 1], [1, 2]]") from None


def _number(text: str):
    """--n / --noise / --samples text as the task file would hold it (an int, or "p/q" text)."""
    return int(text) if text.strip().lstrip("+-").isdigit() and text.isascii() else text


def parse_args(argv):
    p = _Parser(prog="python -m verify.optimum", description=DESCRIPTION)
    p.add_argument("--d", required=True, help="covariate dimension")
    p.add_argument("--n", help="context length (omit: symbolic n)")
    p.add_argument("--noise", help="noise variance s2, e.g. 1/2 (omit: symbolic s2)")
    p.add_argument("--covariance", help='Sigma as a matrix, e.g. "[[2,1],[1,2]]" (omit: identity)')
    p.add_argument("--prior", default="identity",
                   help='Omega: identity, inverse-covariance, or a matrix (default identity)')
    p.add_argument("--link", help="single-index response y = g(w^T x) + eps, e.g. 'tanh(s)'")
    p.add_argument("--expr", help="response expression in x1..xd, w1..wd, s")
    p.add_argument("--width", help="two-layer ReLU network response of this width")
    p.add_argument("--query-in-keys", action="store_true", help="model variant: the query among the keys")
    p.add_argument("--residual", action="store_true", help="model variant: residual connection")
    p.add_argument("--latex", action="store_true", help="print Gamma*, eta*, L* as LaTeX")
    p.add_argument("--numeric", action="store_true", help="also run the Monte Carlo check")
    p.add_argument("--samples", help="Monte Carlo prompts (with --numeric; default 40000)")
    p.add_argument("--seed", default="0", help="Monte Carlo seed (default 0)")
    p.add_argument("--json", metavar="PATH", help="write the task's JSON record to PATH")
    return p.parse_args(argv)


def task_table(args) -> dict:
    """The task-file table these flags describe (validated by the task-file loader)."""
    table = {"name": "optimum", "d": _number(args.d)}
    if args.n is not None:
        table["n"] = _number(args.n)
    if args.noise is not None:
        table["noise"] = _number(args.noise)
    if args.covariance is not None:
        table["covariance"] = _inline(args.covariance, "--covariance")
    if args.prior in ("identity", "inverse-covariance"):
        table["prior"] = args.prior
    else:
        table["prior"] = _inline(args.prior, "--prior")
    responses = [(k, getattr(args, k)) for k in ("link", "expr", "width") if getattr(args, k) is not None]
    if len(responses) > 1:
        raise InputError("verify.optimum: give at most one of --link, --expr, --width")
    if responses:
        key, value = responses[0]
        family = {"link": "single-index", "expr": "expression", "width": "two-layer-relu"}[key]
        table["response"] = {"family": family, key: _number(value) if key == "width" else value}
    if args.query_in_keys:
        table["query_in_keys"] = True
    if args.residual:
        table["residual"] = True
    if args.samples is not None:
        table["samples"] = _number(args.samples)
    return table


def main(argv=None) -> int:
    from . import console
    from .budget import plan
    from .io import check_output_file, probe_output
    from .taskfile import parse_task

    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        seed = _number(args.seed)
        if not isinstance(seed, int) or not 0 <= seed <= 2**31 - 1:
            raise InputError(f"--seed: must be an integer in 0..{2**31 - 1}, got {args.seed!r}")
        spec = parse_task(task_table(args), 0)
        spec.numeric = args.numeric
        if args.json is not None:
            check_output_file(args.json, "--json", probe=False)
        plan([spec], numeric=args.numeric)
        if args.json is not None:
            from pathlib import Path
            probe_output(Path(args.json), "--json")
    except InputError as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2
    from .runner import run_spec

    # progress on stderr only for long work (a certificate past 5 s, a long Monte Carlo)
    result = run_spec(spec, seed=seed, numeric=args.numeric, progress=True)
    print(console.answer(result, latex=args.latex))
    if args.json is not None:
        from .io import write_json
        write_json(args.json, result.as_json())
    return 0 if result.status in ("pass", "n/a") else 1


if __name__ == "__main__":
    sys.exit(main())
