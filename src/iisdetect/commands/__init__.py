"""One module per subcommand, each exposing ``add_parser(subparsers)`` and ``run(args) -> int``.

``cli.py`` discovers them here, so adding a command never means editing a shared dispatcher.
Shared option groups live here (not in a module, which would be taken for a command). Commands
call the library (``api`` and friends) and raise ``IisdetectError`` for a one-line error, exit 2.
"""

from __future__ import annotations

import argparse

from iisdetect.errors import UsageError
from iisdetect.rulesets import DEFAULT_RULESET, RULESETS


def add_rule_options(p: argparse.ArgumentParser, tuning_help: str) -> None:
    """``--ruleset/--rules/--no-ruleset/--tuning``: the same rule selection for hunt and export."""
    p.add_argument(
        "--ruleset", choices=sorted(RULESETS), default=DEFAULT_RULESET,
        help=f"built-in ruleset (default: {DEFAULT_RULESET})",
    )  # fmt: skip
    p.add_argument("--rules", action="append", default=[], metavar="PATH", help="extra Sigma rule file/folder")
    p.add_argument("--no-ruleset", action="store_true", help="use only the rules given with --rules")
    p.add_argument("--tuning", metavar="FILE", help=tuning_help)


def selected_ruleset(args: argparse.Namespace) -> str | None:
    """The built-in ruleset to load, or None with ``--no-ruleset`` (which needs ``--rules``)."""
    if args.no_ruleset and not args.rules:
        raise UsageError("--no-ruleset needs at least one --rules PATH")
    return None if args.no_ruleset else args.ruleset
