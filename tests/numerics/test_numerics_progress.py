"""The progress bar: silent when the stream is not a TTY or when disabled."""

import io

from numerics import Progress


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_draws_on_a_tty_and_stays_silent_otherwise():
    tty = _Tty()
    with Progress(3, "work", stream=tty) as bar:
        for _ in range(3):
            bar.update()
    assert "work" in tty.getvalue() and "100.0%" in tty.getvalue()

    plain = io.StringIO()
    with Progress(3, "work", stream=plain) as bar:
        bar.update(3)
    assert plain.getvalue() == ""

    off = _Tty()
    with Progress(3, "work", enabled=False, stream=off) as bar:
        bar.update(3)
    assert off.getvalue() == ""
