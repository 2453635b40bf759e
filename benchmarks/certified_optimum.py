"""Time and peak memory of global_optimum (the certified optimum) on dense covariances.

Every case runs in a fresh Python process (so its peak resident set size is its own; the
baseline after importing onestep is printed too). Settings: a dense rational SPD covariance
Sigma = L L^T + I (small integer L from a seeded generator) with the prior Omega = I, a dense
general prior (another such matrix) or Omega = Sigma^{-1}; n and s2 symbolic or fixed
(n = 10, s2 = 1/2). The structured route runs for every d; the general route (the full lifted
Gram matrix, ``route="general"``) for d <= --general-max-d as the baseline. The reference time
of ``expected_loss(Task(d=8))`` (Theorem 1, symbolic n, s2) is measured in the same run.

    python benchmarks/certified_optimum.py                       # everything (long: ~1 hour)
    python benchmarks/certified_optimum.py --dims 2-8 --priors identity --modes symbolic
    python benchmarks/certified_optimum.py --general-max-d 0     # no baseline
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

PRIORS = ("identity", "dense", "inverse-covariance")
MODES = ("symbolic", "fixed")


def dense_spd(d: int, seed: int):
    import random

    import sympy as sp

    rng = random.Random(seed)
    L = sp.Matrix(d, d, lambda i, j: rng.randint(-2, 2) if j <= i else 0)
    return L * L.T + sp.eye(d)


def make_task(d: int, prior: str, mode: str):
    from derivations import Task

    omega = {"identity": "identity", "inverse-covariance": "inverse-covariance",
             "dense": dense_spd(d, 1000 + d)}[prior]
    extra = {"n": 10, "noise": "1/2"} if mode == "fixed" else {}
    return Task(d=d, covariance=dense_spd(d, d), prior=omega, **extra)


def peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # kB on Linux


def run_one(d: int, prior: str, mode: str, route: str) -> dict:
    """Runs in the child process: build the task, time global_optimum, report as JSON."""
    from derivations import global_optimum

    task = make_task(d, prior, mode)
    base = peak_rss_mib()
    start = time.perf_counter()
    opt = global_optimum(task, route=route)
    seconds = time.perf_counter() - start
    cert = opt.certificate
    return {"seconds": seconds, "peak_mib": peak_rss_mib(), "base_mib": base, "holds": cert.holds,
            "route": cert.conclusion.get("route"), "form": opt.form,
            "randomised": sum("randomised" in s.method for s in cert)}


def run_reference() -> dict:
    from derivations import Task, expected_loss

    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        expected_loss(Task(d=8))
        best = min(best, time.perf_counter() - start)
    return {"seconds": best, "peak_mib": peak_rss_mib()}


def child(args) -> dict:
    """Run one case in a fresh interpreter; {'error': ...} on a timeout or a crash."""
    cmd = [sys.executable, __file__, "--child", json.dumps(args)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=ARGS.timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {ARGS.timeout:.0f} s"}
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": last[:120]}
    return json.loads(lines[-1])


def parse_dims(text: str) -> list:
    dims = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            dims.extend(range(int(lo), int(hi) + 1))
        else:
            dims.append(int(part))
    return dims


def machine() -> str:
    import flint
    import sympy

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"machine: {cpu}; {os.cpu_count()} cores; Python {platform.python_version()}, "
            f"SymPy {sympy.__version__}, python-flint {flint.__version__}")


def loadavg() -> str:
    try:
        with open("/proc/loadavg", encoding="utf-8") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "n/a"


def fmt(result: dict | None, key: str, spec: str) -> str:
    if result is None:
        return "-"
    if "error" in result:
        return "error" if key != "seconds" else result["error"][:18]
    value = result[key]
    return format(value, spec)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dims", default="2-16", help="e.g. 2-16 or 2,4,8 (default 2-16)")
    parser.add_argument("--priors", default=",".join(PRIORS), help=f"subset of {','.join(PRIORS)}")
    parser.add_argument("--modes", default=",".join(MODES), help="symbolic,fixed")
    parser.add_argument("--general-max-d", type=int, default=6, help="baseline (general route) up to this d")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per case")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    ARGS = parser.parse_args()
    if ARGS.child:
        spec = json.loads(ARGS.child)
        result = run_reference() if spec["case"] == "reference" else run_one(
            spec["d"], spec["prior"], spec["mode"], spec["route"])
        print(json.dumps(result))
        return
    dims, priors, modes = parse_dims(ARGS.dims), ARGS.priors.split(","), ARGS.modes.split(",")
    print(machine())
    print(f"load average at start: {loadavg()}")
    reference = child({"case": "reference"})
    ref_s = reference.get("seconds")
    print(f"reference: expected_loss(Task(d=8)) (Theorem 1, n and s2 symbolic), best of 3: "
          f"{fmt(reference, 'seconds', '.2f')} s")
    print("time: wall seconds of global_optimum in a fresh process; memory: peak RSS of that process "
          "(MiB, includes the interpreter and imports, shown as 'base')")
    print()
    header = ("| prior | n, s2 | d | structured s | peak MiB | x ref | holds | randomised steps "
              "| general s | general peak MiB |")
    print(header)
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for prior in priors:
        for mode in modes:
            for d in dims:
                fast = child({"case": "one", "d": d, "prior": prior, "mode": mode, "route": "auto"})
                slow = (child({"case": "one", "d": d, "prior": prior, "mode": mode, "route": "general"})
                        if d <= ARGS.general_max_d else None)
                ratio = (f"{fast['seconds'] / ref_s:.1f}" if ref_s and "error" not in fast else "-")
                holds = "-" if "error" in fast else ("yes" if fast["holds"] else "NO")
                print(f"| {prior} | {mode} | {d} | {fmt(fast, 'seconds', '.2f')} | {fmt(fast, 'peak_mib', '.0f')} "
                      f"| {ratio} | {holds} | {fmt(fast, 'randomised', 'd')} | {fmt(slow, 'seconds', '.2f')} "
                      f"| {fmt(slow, 'peak_mib', '.0f')} |", flush=True)
                rows.append({"prior": prior, "mode": mode, "d": d, "structured": fast, "general": slow})
    base = next((r["structured"]["base_mib"] for r in rows if "base_mib" in r["structured"]), None)
    print()
    print(f"base RSS after imports: {base:.0f} MiB" if base else "")
    print(f"load average at end: {loadavg()}")
    if ARGS.json:
        from verify.io import write_atomic

        write_atomic(ARGS.json, json.dumps({"reference": reference, "rows": rows, "machine": machine()}, indent=1))


ARGS = None

if __name__ == "__main__":
    main()
