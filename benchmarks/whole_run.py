"""Wall time of the whole default run, PDFs included: ``python -m verify.all`` as a user runs it.

Each repetition is a fresh ``python -m verify.all --report TMP --json TMP/run.json`` in a child
process (2 workers, seed 0); the table gives the suite's own time (from its summary line), the
report phase (from its ``reports:`` line), the wall time of the whole command and its peak
resident set size, and the machine.

    python benchmarks/whole_run.py            # one run
    python benchmarks/whole_run.py --repeat 3
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time


def one_run(suite: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "verify.all", "--suite", suite, "--report", tmp,
                               "--json", os.path.join(tmp, "run.json")],
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"verify.all exited with {proc.returncode}:\n{proc.stderr[-2000:]}")
    suite_s = re.search(r"passed, \d+ failed \(([\d.]+) s\)", proc.stdout)
    report_s = re.search(r"reports: \S+ \(([\d.]+) s\)", proc.stderr)
    tasks = re.search(r"(\d+) passed, (\d+) failed", proc.stdout)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return {"tasks": int(tasks.group(1)) + int(tasks.group(2)) if tasks else None,
            "suite": float(suite_s.group(1)) if suite_s else float("nan"),
            "reports": float(report_s.group(1)) if report_s else float("nan"),
            "wall": wall, "peak_mib": peak}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--suite", default="default")
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average at start {os.getloadavg()[0]:.2f}")
    print("| run | tasks | suite (s) | reports incl. PDF (s) | whole command (s) | peak RSS (MiB) |")
    print("|---|---|---|---|---|---|")
    for i in range(args.repeat):
        r = one_run(args.suite)
        print(f"| {i + 1} | {r['tasks']} | {r['suite']:.1f} | {r['reports']:.1f} | {r['wall']:.1f} | "
              f"{r['peak_mib']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
