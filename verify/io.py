"""File output: atomic writes with ordinary permissions, and output paths checked before work.

* :func:`write_atomic` writes to a temporary file beside the target, then renames it over the
  target, so a reader never sees half a file. The file gets the permissions an ordinary
  ``open(..., "w")`` would give (0666 minus the umask), not the 0600 of a temporary file.
* :func:`check_output_file` / :func:`check_output_dir` are called by the CLIs for every output
  path *before* any task runs: a bad path is one line and exit status 2, never a traceback
  after minutes of work.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .errors import InputError, quote


def _ordinary_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path, data: str | bytes):
    path = Path(path)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _ordinary_mode())
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path, obj):
    write_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def _probe(directory: Path, flag: str):
    """Create and remove a temporary file in ``directory``: the only reliable writability test
    (permission bits say nothing for root, read-only mounts and /proc refuse anyway)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".onestep-probe-")
    except OSError as err:
        raise InputError(f"{flag}: cannot write in {quote(str(directory))} ({err.strerror})") from None
    os.close(fd)
    os.unlink(tmp)


def _nonempty(text, flag) -> Path:
    if text is None or not str(text).strip():
        raise InputError(f"{flag}: the path is empty")
    if "\x00" in text:
        raise InputError(f"{flag}: the path contains a NUL character")
    return Path(text)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output_file(text, flag: str, inputs=(), probe: bool = True) -> Path:
    """A path a file will be written to: a regular file or a new name in a writable directory,
    not a directory, not a symbolic link (it would be replaced), not one of ``inputs``.

    ``probe=False`` skips the writability probe (run :func:`probe_output` last, once every
    other check has passed, so bad input never touches the file system)."""
    path = _nonempty(text, flag)
    if path.is_symlink():
        raise InputError(f"{flag}: {quote(text)} is a symbolic link; give the path of a regular file")
    if path.is_dir():
        raise InputError(f"{flag}: {quote(text)} is a directory")
    if path.exists() and not path.is_file():
        raise InputError(f"{flag}: {quote(text)} exists and is not a regular file")
    for other in inputs:
        if _same(path, Path(other)) or path.resolve() == Path(other).resolve():
            raise InputError(f"{flag}: {quote(text)} is the input file {quote(str(other))}; "
                             "it would be overwritten")
    parent = path.resolve().parent
    if not parent.is_dir():
        raise InputError(f"{flag}: directory does not exist: {quote(str(parent))}")
    if probe:
        _probe(parent, flag)
    return path


def probe_output(path: Path, flag: str):
    """The writability probe for a path accepted by :func:`check_output_file` / ``_dir``."""
    target = Path(path).resolve()
    while not target.exists():
        target = target.parent
    _probe(target if target.is_dir() else target.parent, flag)


def check_output_dir(text, flag: str, probe: bool = True) -> Path:
    """A directory reports will be written under: an existing writable directory, or a new one
    whose nearest existing ancestor is a writable directory (``probe`` as for files)."""
    path = _nonempty(text, flag)
    if path.exists() and not path.is_dir():
        raise InputError(f"{flag}: {quote(text)} exists and is not a directory")
    target = path.resolve()
    ancestor = target
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"{flag}: {quote(str(ancestor))} is not a directory")
    if probe:
        _probe(ancestor, flag)
    return path
