"""Run a CLI entry point in a child process forked from the test process.

Each call forks: the child redirects its stdout and stderr (file descriptors 1 and 2) to files,
sets ``sys.argv``, runs ``main(argv)`` exactly as ``python -m`` would (an uncaught exception
prints its traceback to stderr and exits 1, like the interpreter), and exits with main's
return value. The parent waits and reads both streams. So every case is a separate process
with its own exit status and output streams -- what a user's shell sees -- without paying an
interpreter start and the imports of SymPy and torch per case (about 1.2 s each otherwise).
Used for the long tables of hostile inputs; a few tests still start real interpreters.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from dataclasses import dataclass


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


def run_main(main, argv, cwd=None) -> Completed:
    """Fork, run ``main(argv)`` in the child, return its exit status and output."""
    with tempfile.TemporaryDirectory() as tmp:
        out_path, err_path = os.path.join(tmp, "out"), os.path.join(tmp, "err")
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:                                  # the child: never returns
            code = 1
            try:
                out = os.open(out_path, os.O_WRONLY | os.O_CREAT, 0o600)
                err = os.open(err_path, os.O_WRONLY | os.O_CREAT, 0o600)
                os.dup2(out, 1)
                os.dup2(err, 2)
                sys.stdout = open(1, "w", closefd=False)   # noqa: SIM115 - the child's own streams
                sys.stderr = open(2, "w", closefd=False)   # noqa: SIM115
                if cwd is not None:
                    os.chdir(cwd)
                sys.argv = ["python -m", *argv]
                code = main(list(argv))
                code = 0 if code is None else int(code)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:  # noqa: BLE001 - what the interpreter would print
                traceback.print_exc()
                code = 1
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        with open(out_path, encoding="utf-8", errors="replace") as f:
            stdout = f.read()
        with open(err_path, encoding="utf-8", errors="replace") as f:
            stderr = f.read()
    return Completed(code, stdout, stderr)
