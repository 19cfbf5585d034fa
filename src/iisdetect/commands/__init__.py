"""One module per subcommand, each exposing ``add_parser(subparsers)`` and ``run(args) -> int``.

``cli.py`` discovers them here, so adding a command never means editing a shared dispatcher.
Shared option groups live here (not in a module, which would be taken for a command). Commands
call the library (``api`` and friends) and raise ``IisdetectError`` for a one-line error, exit 2.
"""

from __future__ import annotations

import argparse

from iisdetect.errors import UsageError
from iisdetect.hunting.alerts import LEVELS
from iisdetect.hunting.selection import STATUSES, RuleSelection
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


def add_selection_options(p: argparse.ArgumentParser) -> None:
    """``--min-level/--status/--tags/--rule-id``: which of the loaded rules run (as Hayabusa/Chainsaw offer)."""
    p.add_argument("--min-level", choices=LEVELS, help="only rules of this level or higher")
    p.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="S",
        help=f"only rules with this Sigma status ({', '.join(STATUSES)}); repeat or comma-separate",
    )
    p.add_argument(
        "--tags",
        action="append",
        default=[],
        metavar="TAG",
        help="only rules with one of these tags (attack.t1505.004, t1505.004, attack.persistence); repeatable",
    )
    p.add_argument("--rule-id", action="append", default=[], metavar="ID", help="only this rule (id or title)")


def _split(values: list[str]) -> tuple[str, ...]:
    return tuple(v.strip() for item in values for v in item.split(",") if v.strip())


def options_selection(args: argparse.Namespace) -> RuleSelection:
    return RuleSelection(
        min_level=getattr(args, "min_level", None),
        statuses=_split(getattr(args, "status", [])),
        tags=_split(getattr(args, "tags", [])),
        rule_ids=_split(getattr(args, "rule_id", [])),
    )
