"""The figure of the README's test-time shift section: exact risk against test length.

Zhang-Frei-Bartlett's setting: x ~ N(0, Lambda) with Lambda = diag(1, 3), w ~ N(0, I), no noise;
the optimum trained with N = 10 examples is evaluated at test lengths m = 2 .. 160 (exact curve,
Monte Carlo points with +-2 SE), next to L*_m, the best risk at each length.

    python benchmarks/shift_curve.py [OUT_DIR]      (default: verify/report/)
"""

import sys
import time

from derivations import Task
from derivations.shift import m
from verify.shift_figure import curve_data, draw

LENGTHS = [2, 5, 10, 20, 40, 80, 160]


def main(out="verify/report"):
    start = time.perf_counter()
    train = Task(d=2, n=10, noise=0, covariance=[[1, 0], [0, 3]], name="zfb")
    data = curve_data(train, LENGTHS, samples=20_000, seed=0)
    print(f"exact risk of Gamma*_10 at test length m: {data['curve']}  (m = {m})")
    print(" m | exact risk      | L*_m            | Monte Carlo (SE)")
    for k, exact, best, (_, mean, se) in zip(LENGTHS, data["exact"], data["best"], data["points"], strict=True):
        print(f"{k:>3} | {float(exact):.6f} ({exact}) | {float(best):.6f} | {mean:.6f} ({se:.2g})")
    print("wrote", draw(data, out, title="x ~ N(0, diag(1, 3)), w ~ N(0, I), noiseless; trained at n = 10"))
    print(f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main(*sys.argv[1:])
