"""Bad input is reported as one line on stderr with exit status 2.

:func:`one_line` is applied to every message at the one place that prints it (the CLI entry
points), so a user's text can never break the promise: control characters (newlines, tabs,
escape) are shown escaped and ANSI escape sequences are removed.

>>> one_line("task 'a\\nb': unknown key '\\x1b[31mred\\x1b[0m'")
"task 'a\\\\nb': unknown key 'red'"
"""

from __future__ import annotations

import re
import unicodedata

# CSI (ESC [ ... final byte) and OSC (ESC ] ... BEL or ESC \) sequences
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x9b[0-?]*[ -/]*[@-~]")


class InputError(Exception):
    """User input (CLI flag, task file) is invalid. The message is one line for stderr."""


def one_line(message: str) -> str:
    """The message with ANSI sequences removed and every other control character escaped."""
    text = _ANSI.sub("", str(message))
    out = []
    for ch in text:
        if ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch == "\x1b":
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def quote(text: str) -> str:
    """A user's text for a message: repr-quoted (escapes control characters), ANSI removed."""
    return repr(_ANSI.sub("", str(text)))


__all__ = ["InputError", "one_line", "quote"]
