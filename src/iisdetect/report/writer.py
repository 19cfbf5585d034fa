"""The one output writer hunt, aql and export share: where results go and how cells are made safe.

Why one place: every command that writes results must behave the same way when it fails. ``-o FILE``
writes a temporary file beside FILE and renames it over FILE only when the command finished, so a
crash, a Ctrl-C or a bad argument found late never truncates an earlier result (``os.replace`` is
atomic on POSIX and Windows). Escaping is report/escape.py's one function, re-exported here as ``safe``
(terminal text) and ``csv_cell`` (CSV cells: formula prefixes neutralised, OWASP CSV-injection advice).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from iisdetect.errors import UsageError
from iisdetect.report.escape import csv_value, inert

#: The one escaping function (report/escape.py), under the names this module's callers use:
#: ``safe`` for terminal text, ``csv_cell`` for CSV cells (formula prefixes neutralised, OWASP).
safe = inert
csv_cell = csv_value


@contextlib.contextmanager
def open_output(path: str | None, *, binary: bool = False) -> Iterator[IO[Any]]:
    """stdout, or FILE written atomically: a temporary sibling renamed over FILE on success only."""
    if not path:
        yield sys.stdout.buffer if binary else sys.stdout
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder")
    if target.exists() and not target.is_file():
        # a device, FIFO or socket (/dev/stdout, /dev/full, a named pipe): write to it in place; a
        # rename over it would replace the device node with a regular file
        yield from _write_in_place(path, binary)
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or Path("."))
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    ok = False
    try:
        if binary:
            fh: IO[Any] = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding="utf-8", newline="")
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _keep_mode(target, tmp)
        os.replace(tmp, target)
        ok = True
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if not ok:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _write_in_place(path: str, binary: bool) -> Iterator[IO[Any]]:
    try:
        fh: IO[Any] = open(path, "wb") if binary else open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with fh:
            yield fh
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _keep_mode(target: Path, tmp: str) -> None:
    """mkstemp creates 0600; give the result the mode an ordinary new file would have (or the old one's)."""
    try:
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def silence_stdout() -> None:
    """After EPIPE/ENOSPC, point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    import contextlib
    import os
    import sys

    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
