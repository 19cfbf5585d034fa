"""Command-line entry point: argument parsing and error reporting only.

Each subcommand lives in ``iisdetect.commands.<name>``; this module finds them, parses the
arguments and turns any ``IisdetectError`` (or an unusable argument) into a one-line message and
exit code 2. ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from iisdetect import __version__
from iisdetect.errors import IisdetectError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        sys.stderr.write(f"iisdetect: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    import iisdetect.commands as commands

    parser = _Parser(
        prog="iisdetect",
        description="Find malicious IIS components (ATT&CK T1505.004) in Windows telemetry.",
    )
    parser.add_argument("--version", action="version", version=f"iisdetect {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"iisdetect.commands.{info.name}")
        sub_parser = module.add_parser(sub)
        sub_parser.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except IisdetectError as exc:
        if args.debug:
            raise
        sys.stderr.write(f"iisdetect: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("iisdetect: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
