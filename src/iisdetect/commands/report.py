"""``iisdetect report RESULT.json -o report.html``: the investigation report from a saved JSON run."""

from __future__ import annotations

import argparse

from iisdetect.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "report",
        help="render a saved hunt JSON run as one self-contained offline HTML report",
        description="Read the JSON of 'iisdetect hunt --format json' and write the investigation report: the "
        "run's accounting, incidents by host on a timeline, every alert with its event, the guide and "
        "playbook for its type, and what tuning suppressed and why. One HTML file, no network access.",
    )
    p.add_argument("result", metavar="RESULT.json", help="output of iisdetect hunt --format json")
    p.add_argument("-o", "--output", metavar="FILE", help="write the HTML to FILE (default: stdout)")
    p.add_argument("--tuning", metavar="FILE", help="the tuning file of the run, to show each entry's reason")
    p.add_argument("--stack", metavar="STACK.json", help="add the output of iisdetect stack --format json")
    p.add_argument("--title", default="", help="report title")
    return p


def run(args: argparse.Namespace) -> int:
    import orjson

    from iisdetect.commands.hunt import open_output
    from iisdetect.report.html import render_html, tuning_reasons
    from iisdetect.report.result_doc import read_doc

    doc = read_doc(args.result, tuning_reasons(args.tuning))
    stack = None
    if args.stack:
        try:
            raw = orjson.loads(open(args.stack, "rb").read())  # noqa: SIM115 - read at once
        except (OSError, orjson.JSONDecodeError) as exc:
            raise UsageError(f"cannot read stack JSON {args.stack}: {exc}") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("stack"), list):
            raise UsageError(f"{args.stack}: not the output of iisdetect stack --format json")
        stack = raw["stack"]
    with open_output(args.output) as out:
        render_html(doc, out, stack, args.title)
    return 0
