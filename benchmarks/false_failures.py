"""Calibration of the verifier's numeric checks over many seeds.

Runs the default suite's Monte Carlo side for seeds 0..S-1 (the exact side once per task)
and reports: the false-failure rate of true claims (expected: about ALPHA per check, i.e.
essentially none), whether every negative control is refuted at every seed, and the
distribution of single-estimate z-scores (loss checks), which should look like N(0, 1):
mean ~ 0, sd ~ 1, about 4.6% beyond |z| = 2.

    python benchmarks/false_failures.py --seeds 20
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from verify.runner import can_sample, exact_side, numeric_side  # noqa: E402
from verify.stats import ALPHA  # noqa: E402
from verify.suite import default_suite  # noqa: E402

_EXACT = {}


def _init(specs_exact):
    import torch

    torch.set_num_threads(1)
    _EXACT.update(specs_exact)


def _one(args):
    name, seed = args
    spec, exact = _EXACT[name]
    _, _, checks = numeric_side(spec, exact, seed)
    return name, seed, spec.role, [(c.id, c.passed, c.z) for c in checks]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}")
    specs = [s for s in default_suite() if s.task is not None and can_sample(s)]
    start = time.perf_counter()
    exact = {}
    for s in specs:
        obj, _, _ = exact_side(s)
        exact[s.name] = (s, obj)
    print(f"exact side for {len(specs)} tasks: {time.perf_counter() - start:.1f} s")
    jobs = [(s.name, seed) for seed in range(args.seeds) for s in specs]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.workers, initializer=_init, initargs=(exact,)) as pool:
        rows = list(pool.map(_one, jobs))
    print(f"numeric side, {len(jobs)} task-seeds: {time.perf_counter() - start:.1f} s\n")
    claim_checks = claim_fail = 0
    control_runs = control_missed = 0
    z_single = []
    per_check = {}
    for name, seed, role, checks in rows:
        if role == "claim":
            for cid, ok, z in checks:
                claim_checks += 1
                claim_fail += not ok
                per_check.setdefault(cid, [0, 0])
                per_check[cid][0] += 1
                per_check[cid][1] += not ok
                if cid in ("loss-at-optimum", "loss-at-random") and z is not None:
                    z_single.append(z)
                if not ok:
                    print(f"  false failure: {name} seed {seed} {cid} z = {z:.2f}")
        else:
            control_runs += 1
            refuted = all(ok for _, ok, _ in checks)
            control_missed += not refuted
            if not refuted:
                print(f"  control NOT refuted: {name} seed {seed}")
    z = np.array(z_single)
    print(f"{'check':<18} {'runs':>6} {'failures':>9}")
    for cid, (runs, fails) in sorted(per_check.items()):
        print(f"{cid:<18} {runs:>6} {fails:>9}")
    print(f"\nseeds: {args.seeds}, tasks with a numeric side: {len(specs)}")
    print(f"true-claim checks: {claim_checks}, failures: {claim_fail} "
          f"(expected under the thresholds: <= {claim_checks * ALPHA:.3f})")
    print(f"controls: {control_runs} runs, not refuted: {control_missed}")
    print(f"single z-scores (loss checks): {len(z)}, mean {z.mean():+.3f}, sd {z.std(ddof=1):.3f}, "
          f"|z| > 2: {np.mean(np.abs(z) > 2) * 100:.1f}% (N(0,1): 4.6%), max |z| {np.abs(z).max():.2f}")


if __name__ == "__main__":
    main()
