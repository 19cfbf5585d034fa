"""Command-line entry point: argument parsing and error reporting only.

Each subcommand lives in ``iisdetect.commands.<name>``; this module finds them, imports only the
one named on the command line (so ``--version`` and light commands start fast), parses the
arguments and turns any ``IisdetectError`` (or an unusable argument) into a one-line message and
exit code 2. ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from typing import Any

from iisdetect import __version__
from iisdetect.errors import IisdetectError
from iisdetect.report.escape import inert


class _ClosedStream:
    """Stands in for a stdout/stderr the caller closed (``>&-``): writing is a one-line error, not a crash."""

    encoding = "utf-8"

    def write(self, _: str) -> int:
        raise OSError(9, "standard output is closed")

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(9, "standard output is closed")


def _harden_streams() -> None:
    """Closed stdout/stderr stand-ins; any stdout encoding (``PYTHONIOENCODING=ascii``) never raises."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, _ClosedStream())
        elif hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


class _Parser(argparse.ArgumentParser):
    """One-line errors; no prefix matching of long options (``validate --scenario X`` would silently
    have meant ``--scenario-dir X``: an unknown option is an error, not a guess)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        sys.stderr.write(f"iisdetect: error: {message}\n")
        raise SystemExit(2)


def command_names() -> list[str]:
    """The subcommands, found without importing them (``commands/<name>.py``)."""
    import iisdetect.commands as commands

    return sorted(m.name for m in pkgutil.iter_modules(commands.__path__))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that command's module is imported (fast start-up)."""
    parser = _Parser(
        prog="iisdetect",
        description="Find malicious IIS components (ATT&CK T1505.004) in Windows telemetry.",
    )
    parser.add_argument("--version", action="version", version=f"iisdetect {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in command_names():
        if only is not None and name != only:
            continue
        module = importlib.import_module(f"iisdetect.commands.{name}")
        sub_parser = module.add_parser(sub)
        sub_parser.set_defaults(_run=module.run)
    return parser


def _chosen(argv: Sequence[str]) -> str | None:
    """The command word, if the arguments name one (options before it are global flags)."""
    names = set(command_names())
    for arg in argv:
        if arg in ("--version", "-h", "--help"):
            return None
        if not arg.startswith("-"):
            return arg if arg in names else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    _harden_streams()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--version"]:  # answered before any command module (pySigma, DuckDB) loads
        sys.stdout.write(f"iisdetect {__version__}\n")
        return 0
    parser = build_parser(_chosen(argv))
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except IisdetectError as exc:
        if args.debug:
            raise
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("iisdetect: interrupted\n")
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except OverflowError as exc:  # a date or duration argument beyond the calendar (--last 99999999999d)
        if args.debug:
            raise
        _error(f"value out of range: {exc}")
        return 2
    except OSError as exc:  # -o /dev/full (ENOSPC), a closed stdout: one line, no traceback
        if args.debug:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        _error(f"cannot write output{where}: {exc.strerror or exc}")
        _silence_stdout()
        return 2


def _error(message: str) -> None:
    """One line on stderr; the message may quote event data, so it is made inert (report/escape.py)."""
    text = inert(" ".join(message.split("\n")))
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"iisdetect: error: {text}\n")


def _silence_stdout() -> None:
    from iisdetect.report.writer import silence_stdout

    silence_stdout()


if __name__ == "__main__":
    raise SystemExit(main())
