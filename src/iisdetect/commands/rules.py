"""``iisdetect rules list`` / ``iisdetect rules check PATH``: what would run, and is a user's rule sound.

``list`` shows the rules a hunt with the same options would run (id, title, level, status, log
sources, detection type, correlation role, file) as a table, JSON or CSV. ``check`` lints rule files:
YAML syntax errors with file, line and column; pySigma's own validators (the ones that need no
network: ``attacktag`` and ``d3_fendtag`` download MITRE data and are replaced by a local ATT&CK tag
format check); and ours, which are what a hunt needs (the rule compiles for a mapped log source, its
``correlation_role`` is known, it names a ``detection_type`` and has an id and a level).
Exit 0 when no error was found, 1 when one was, 2 on unusable arguments.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from iisdetect.commands import add_rule_options, add_selection_options, options_selection, selected_ruleset
from iisdetect.engine.ir import CompiledRule
from iisdetect.engine.ruleset import load_rules, rule_files
from iisdetect.errors import UsageError
from iisdetect.hunting.alerts import LEVELS, rule_doc, rule_status
from iisdetect.report.writer import csv_cell, open_output, safe

LIST_COLUMNS = ("id", "title", "level", "status", "logsource", "detection_type", "correlation_role", "tags", "file")
#: pySigma validators left out of ``check``: they fetch MITRE ATT&CK / D3FEND data over the network.
NETWORK_VALIDATORS = frozenset({"attacktag", "d3_fendtag"})


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("rules", help="list the rules a hunt would run, or lint rule files")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", parser_class=type(p))
    verbs.required = True
    lst = verbs.add_parser("list", help="rules with id, title, level, status, log sources, type, file")
    add_rule_options(lst, "(ignored by list)")
    add_selection_options(lst)
    lst.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output (default: table)")
    lst.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    chk = verbs.add_parser("check", help="lint Sigma rule files: YAML errors, pySigma validators, iisdetect checks")
    chk.add_argument("paths", nargs="+", metavar="PATH", help="rule files or folders")
    chk.add_argument("--format", choices=("text", "json"), default="text", help="output (default: text)")
    return p


def run(args: argparse.Namespace) -> int:
    return _list(args) if args.verb == "list" else _check(args)


def logsource_text(rule: CompiledRule) -> str:
    ls = rule_doc(rule).get("logsource") or {}
    return "/".join(str(ls[k]) for k in ("product", "category", "service") if ls.get(k)) if isinstance(ls, dict) else ""


def rule_row(rule: CompiledRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "level": rule.level,
        "status": rule_status(rule),
        "logsource": logsource_text(rule),
        "sources": [v.source.name for v in rule.variants],
        "detection_type": rule.detection_type,
        "correlation_role": rule.role,
        "tags": list(rule.tags),
        "ruleset": rule.ruleset,
        "file": rule.path,
    }


def _list(args: argparse.Namespace) -> int:
    report = load_rules(selected_ruleset(args), args.rules)
    rules = options_selection(args).apply(report.rules)
    rows = [rule_row(r) for r in sorted(rules, key=lambda r: (-LEVELS.index(r.level), r.title))]
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    with open_output(args.output) as out:
        if args.format == "json":
            out.write(orjson.dumps({"rules": rows, "warnings": report.warnings}, option=orjson.OPT_INDENT_2).decode())
            out.write("\n")
        elif args.format == "csv":
            w = csv.DictWriter(out, fieldnames=LIST_COLUMNS, extrasaction="ignore", lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow({k: csv_cell(";".join(v) if isinstance(v, list) else ("" if v is None else v))
                            for k, v in r.items()})  # fmt: skip
        else:
            table = Table(header_style="bold", pad_edge=False)
            for c in ("level", "status", "detection_type", "logsource", "title", "id", "file"):
                table.add_column(c, overflow="fold")
            for r in rows:
                table.add_row(*(Text(safe(r[c] if c != "file" else Path(r[c]).name)) for c in
                                ("level", "status", "detection_type", "logsource", "title", "id", "file")))  # fmt: skip
            Console(file=out, highlight=False, width=None if out is sys.stdout and out.isatty() else 160).print(table)
    for w in report.warnings:
        err.print(Text(f"warning: {safe(w)}", style="yellow"))
    err.print(Text(f"{len(rows)} rule(s)"))
    return 0


@dataclass(frozen=True)
class Finding:
    """One problem in a rule file; line/column are 1-based (None when the problem has no place)."""

    file: str
    severity: str  # error | warning
    check: str
    message: str
    line: int | None = None
    column: int | None = None
    rule: str | None = None

    def text(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "") + (f":{self.column}" if self.column else "")
        who = f" [{self.rule}]" if self.rule else ""
        return f"{where}: {self.severity}: {self.check}: {self.message}{who}"


def check_file(path: Path) -> list[Finding]:
    """Every finding for one rule file (a YAML error stops that file: nothing else can be read)."""
    f = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Finding(f, "error", "read", str(exc))]
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        return [Finding(f, "error", "yaml", str(problem), line, col)]
    if not docs:
        return [Finding(f, "error", "yaml", "no YAML document in the file")]
    out: list[Finding] = []
    for doc in docs:
        out.extend(_check_doc(f, path, doc, text))
    return out


def _line_of(text: str, key: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if line.startswith(f"{key}:"):
            return i
    return None


def _check_doc(f: str, path: Path, doc: Any, text: str) -> list[Finding]:
    from sigma.exceptions import SigmaError
    from sigma.rule import SigmaRule

    from iisdetect.engine.compile import UnsupportedSigma
    from iisdetect.engine.ir import ROLES
    from iisdetect.engine.ruleset import compile_rule
    from iisdetect.errors import RuleError

    if not isinstance(doc, dict):
        return [Finding(f, "error", "structure", "a Sigma rule is a mapping of keys")]
    title = str(doc.get("title") or "?")
    if "detection" not in doc:
        kind = "correlation" if "correlation" in doc else "non-detection"
        return [Finding(f, "warning", "iisdetect", f"{kind} documents are not run by iisdetect", rule=title)]
    try:
        rule = SigmaRule.from_dict(doc)
    except SigmaError as exc:
        return [Finding(f, "error", "pysigma", str(exc), _line_of(text, "detection"), rule=title)]
    out = [
        Finding(f, _severity(i), f"pysigma.{type(i).__name__}", i.description, rule=title)
        for i in _validator().validate_rule(rule)
    ]

    def ours(severity: str, message: str, key: str | None = None) -> None:
        out.append(Finding(f, severity, "iisdetect", message, _line_of(text, key) if key else None, rule=title))

    for key in ("id", "level", "detection_type"):
        if not doc.get(key):
            ours("error" if key == "detection_type" else "warning", f"no {key!r}")
    if doc.get("level") and str(doc["level"]) not in LEVELS:
        ours("error", f"level {doc['level']!r} is not a Sigma level", "level")
    role = str(doc.get("correlation_role", "none"))
    if role not in ROLES:
        ours("error", f"correlation_role {role!r}: use one of {', '.join(ROLES)}", "correlation_role")
    for tag in doc.get("tags") or []:
        t = str(tag).lower()
        if t.startswith("attack.t") and not _ATTACK.match(t):
            ours("error", f"tag {tag!r} is not an ATT&CK technique id (attack.t1234[.001])", "tags")
    try:
        compile_rule(doc, path)
    except (SigmaError, UnsupportedSigma, RuleError, KeyError, TypeError, ValueError) as exc:
        out.append(Finding(f, "error", "iisdetect.compile", str(exc), _line_of(text, "logsource"), rule=title))
    return out


_ATTACK = re.compile(r"^attack\.t\d{4}(\.\d{3})?$")


def _severity(issue: Any) -> str:
    name = getattr(issue.severity, "name", str(issue.severity)).lower()
    return "error" if name in ("high", "critical") else "warning"


_VALIDATOR: list[Any] = []


def _validator() -> Any:
    if not _VALIDATOR:
        from sigma.validation import SigmaValidator
        from sigma.validators.core import validators

        _VALIDATOR.append(SigmaValidator([v for k, v in validators.items() if k not in NETWORK_VALIDATORS]))
    return _VALIDATOR[0]


def _check(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths]
    for p in paths:
        if not p.exists():
            raise UsageError(f"{p}: no such file or directory")
    files = rule_files(paths)
    if not files:
        raise UsageError("no .yml/.yaml rule files under the given paths")
    findings = [x for path in files for x in check_file(path)]
    if args.format == "json":
        doc = {"files": len(files), "findings": [x.__dict__ for x in findings]}
        sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        for x in findings:
            sys.stdout.write(safe(x.text()) + "\n")
        errors = sum(1 for x in findings if x.severity == "error")
        sys.stdout.write(f"{len(files)} file(s), {errors} error(s), {len(findings) - errors} warning(s)\n")
    return 1 if any(x.severity == "error" for x in findings) else 0
