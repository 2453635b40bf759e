"""Console output: progress lines while running (stderr) and the final table (stdout)."""

from __future__ import annotations

import sys


def progress_line(done: int, total: int, result, seconds: float, stream=sys.stderr):
    status = result.status.upper()
    stream.write(f"[{done:>2}/{total}] {result.spec.name:<44} {status:<4} {seconds:6.1f} s\n")
    stream.flush()


def table(results) -> str:
    rows = []
    head = f"{'task':<44} {'form':<18} {'strength':<15} {'checks':>7} {'worst |z|':>9}  status"
    rows.append(head)
    rows.append("-" * len(head))
    for r in results:
        zs = [abs(c.z) for c in r.checks if c.z is not None]
        worst = f"{max(zs):9.2f}" if zs else f"{'-':>9}"
        passed = sum(c.passed for c in r.checks)
        role = " (control)" if r.spec.role == "control" else ""
        rows.append(f"{r.spec.name:<44} {r.symbolic.get('form', '-'):<18} {str(r.symbolic.get('strength', '-')):<15} "
                    f"{passed:>3}/{len(r.checks):<3} {worst}  {r.status}{role}")
        for c in r.checks:
            if not c.passed:
                rows.append(f"    FAILED {c.id}: {c.detail}")
    return "\n".join(rows)
