"""A tiny progress bar on stderr (no dependency). Silent unless stderr is a TTY."""

from __future__ import annotations

import sys
import time


class Progress:
    """``with Progress(total, "label") as bar: bar.update(k)``.

    enabled: None or True = only when the stream is a TTY; False = never.
    Redraws at most ~10 times a second so it never costs measurable time.
    """

    def __init__(self, total: int, label: str = "", enabled: bool | None = None, stream=None):
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", lambda: False)()
        # never on a non-terminal (logs, CI, pipes): a bar there is only noise
        self.enabled = isatty and enabled is not False
        self.total, self.label, self.done = max(int(total), 1), label, 0
        self.start = self._last = time.perf_counter()

    def update(self, k: int = 1) -> None:
        self.done += k
        now = time.perf_counter()
        if self.enabled and (now - self._last > 0.1 or self.done >= self.total):
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        frac = min(self.done / self.total, 1.0)
        width = 30
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        elapsed = now - self.start
        eta = elapsed / frac - elapsed if frac > 0 else float("nan")
        self.stream.write(
            f"\r{self.label} [{bar}] {100 * frac:5.1f}% {elapsed:6.1f}s (eta {eta:5.1f}s)"
        )
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self._draw(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()
