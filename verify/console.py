"""Console output: progress lines while running (stderr) and the final table (stdout)."""

from __future__ import annotations

import sys
import threading
import time


def progress_line(done: int, total: int, result, seconds: float, stream=sys.stderr):
    status = result.status.upper()
    stream.write(f"[{done:>2}/{total}] {result.spec.name:<44} {status:<4} {seconds:6.1f} s\n")
    stream.flush()


def announce_long(costs, threshold: float = 60.0, stream=sys.stderr):
    """Before the run: one line per task whose estimated cost exceeds ``threshold`` seconds."""
    for cost in costs:
        if cost.seconds > threshold:
            stream.write(f"note: task {cost.spec.name} is estimated to take about {cost.seconds / 60:.1f} min "
                         f"(exact {cost.exact_seconds:.0f} s, Monte Carlo {cost.numeric_seconds:.0f} s); "
                         "a line every 30 s shows it is still running\n")
    stream.flush()


def heartbeat(running, seconds: float, stream=sys.stderr):
    if running:
        stream.write(f"[{seconds:6.0f} s] still running: {', '.join(running)}\n")
        stream.flush()


class Heartbeat:
    """While a task runs in this process: a 'still running' line every ``every`` seconds."""

    def __init__(self, name: str, every: float, enabled: bool = True, stream=sys.stderr):
        self.name, self.every, self.enabled, self.stream = name, every, enabled, stream
        self._stop = threading.Event()
        self._thread = None

    def _beat(self):
        start = time.perf_counter()
        while not self._stop.wait(self.every):
            heartbeat([self.name], time.perf_counter() - start, self.stream)

    def __enter__(self):
        if self.enabled:
            self._thread = threading.Thread(target=self._beat, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


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
            if c.status == "n/a":
                rows.append(f"    n/a {c.id}: {c.detail}")
            elif not c.passed:
                rows.append(f"    {'ERROR' if c.status == 'error' else 'FAILED'} {c.id}: {c.detail}")
    return "\n".join(rows)
