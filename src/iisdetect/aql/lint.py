"""Find the seed query's kinds of problems in any AQL query, without running it.

Each finding has a ``kind`` (stable, for tests and tooling), a severity and a message that says
what happens on a real QRadar and which emulator switch, if any, papers over it.

Kinds: ``syntax``, ``unsupported``, ``unknown-log-source-type``, ``not-a-property``, ``never-matches``,
``case-where-mismatch``, ``substring-exclusion``, ``redundant-pattern``, ``unknown-property``,
``windows-field-name``, ``unknown-function``, ``not-ibm-function``, ``string-event-id``, ``no-time-clause``.
``unsupported`` (error) names what QRadar runs but the emulator refuses: the same checks the
emulator makes (clauses, functions, Java regex features, DATEFORMAT letters, collations, the Lucene
syntax of TEXT SEARCH it does not run); a TEXT SEARCH text that does not parse is a ``syntax`` error.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from iisdetect.aql.dates import dateformat_sql
from iisdetect.aql.dialect import parse
from iisdetect.aql.errors import AqlError
from iisdetect.aql.functions import FUNCTIONS, NOT_IBM, UNSUPPORTED
from iisdetect.aql.javaregex import java_to_re2
from iisdetect.aql.prepass import Unsupported, prepare
from iisdetect.aql.table import FIXED, VIEW_ONLY
from iisdetect.aql.textsearch import parse_search
from iisdetect.mapping.qradar import QRadarMapping, load_mapping

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: str
    message: str

    def line(self) -> str:
        return f"{self.severity}: [{self.kind}] {self.message}"


def lint(query: str, mapping: QRadarMapping | None = None) -> list[Finding]:
    mapping = mapping or load_mapping()
    try:
        trees, clause = parse(prepare(query, extract=False).text)
    except AqlError as exc:
        kind = "unsupported" if str(exc).startswith("not supported") else "syntax"
        return [Finding(kind, "error", str(exc))]
    out: list[Finding] = []
    for tree in trees:
        _unsupported(tree, out)
        _log_source_types(tree, mapping, out)
        _patterns(tree, out)
        _case_vs_where(tree, out)
        _names(tree, mapping, out)
    out = list(dict.fromkeys(out))  # the seed repeats its CASE in SELECT and WHERE
    if clause is None:
        out.append(
            Finding(
                "no-time-clause",
                "info",
                "no LAST/START clause: QRadar searches the last 5 minutes; the emulator searches all loaded "
                "events unless --qradar-default-window is given",
            )
        )
    return out


def _unsupported(tree: exp.Expression, out: list[Finding]) -> None:
    """What the emulator would refuse, named (the emulator raises the same messages)."""
    for fn in tree.find_all(exp.Anonymous):
        name = str(fn.this).upper()
        if name in UNSUPPORTED:
            out.append(Finding("unsupported", "error", f"{name}() is not emulated: {UNSUPPORTED[name]}"))
        if name == "AQL_TEXT_SEARCH" and len(fn.expressions) == 1 and isinstance(fn.expressions[0], exp.Literal):
            try:
                parse_search(fn.expressions[0].this)
            except Unsupported as exc:
                out.append(Finding("unsupported", "error", str(exc)))
            except AqlError as exc:
                out.append(Finding("syntax", "error", str(exc)))
        if name == "DATEFORMAT" and len(fn.expressions) == 2 and isinstance(fn.expressions[1], exp.Literal):
            try:
                dateformat_sql(fn.expressions[1].this, "0")
            except AqlError as exc:
                out.append(Finding("unsupported", "error", str(exc)))
    for rx in tree.find_all(exp.RegexpLike, exp.RegexpILike):
        pat = rx.expression
        if isinstance(pat, exp.Literal) and pat.is_string:
            try:
                java_to_re2(pat.this)
            except AqlError as exc:
                out.append(Finding("unsupported", "error", str(exc)))


def _log_source_types(tree: exp.Expression, mapping: QRadarMapping, out: list[Finding]) -> None:
    for cmp in tree.find_all(exp.EQ, exp.In):
        col = cmp.this
        if not isinstance(col, exp.Column) or col.name.lower() not in {"logsourcetypeid", "devicetype"}:
            continue
        values = [cmp.expression] if isinstance(cmp, exp.EQ) else list(cmp.expressions)
        for v in values:
            if isinstance(v, exp.Literal) and not v.is_string and int(v.this) not in mapping.known_devicetypes:
                out.append(
                    Finding(
                        "unknown-log-source-type",
                        "error",
                        f"{col.name} = {v.this}: {v.this} is no QRadar log source type. Sysmon arrives through "
                        f"WinCollect as devicetype {mapping.default_devicetype} (Microsoft Windows Security "
                        f"Event Log); on QRadar this test matches nothing. Use devicetype = "
                        f"{mapping.default_devicetype} plus the EventID and channel. The emulator returns "
                        f"nothing too unless --sysmon-logsourcetypeid {v.this} (or --seed-compat) gives "
                        "Sysmon rows that id.",
                    )
                )
        if col.name.lower() == "logsourcetypeid":
            out.append(
                Finding(
                    "not-a-property",
                    "warning",
                    "logsourcetypeid is not an events property in IBM's AQL reference; the log source "
                    "type of an event is devicetype (LOGSOURCETYPENAME(devicetype) names it). The emulator "
                    "offers logsourcetypeid as devicetype, with Sysmon rows carrying --sysmon-logsourcetypeid.",
                )
            )


def _patterns(tree: exp.Expression, out: list[Finding]) -> None:
    seen: set[tuple[str, str]] = set()
    for like in tree.find_all(exp.Like, exp.ILike):
        pat = like.expression
        if not (isinstance(pat, exp.Literal) and pat.is_string) or "\\\\" not in pat.this:
            continue
        if (pat.this, "bs") in seen:
            continue
        seen.add((pat.this, "bs"))
        out.append(
            Finding(
                "never-matches",
                "error",
                f"{like.this.sql()} {'ILIKE' if isinstance(like, exp.ILike) else 'LIKE'} '{pat.this}': a "
                "backslash is literal in AQL, so '\\\\' asks for two backslashes in a row and no Windows "
                "path matches. Write single backslashes. The emulator reads '\\\\' as one backslash only "
                "with --backslash-escapes (or --seed-compat).",
            )
        )
    for group in _or_groups(tree):
        pats = [(c, p) for c, p in group]
        for i, (col, p) in enumerate(pats):
            for j, (col2, q) in enumerate(pats):
                if i != j and col == col2 and p != q and _contains_pattern(q, p):
                    out.append(
                        Finding(
                            "redundant-pattern",
                            "warning",
                            f"{col} ILIKE '{q}' is redundant: every value it matches also matches '{p}' "
                            "in the same OR.",
                        )
                    )
    for neg in tree.find_all(exp.Not):
        likes = [x for x in neg.find_all(exp.ILike, exp.Like) if isinstance(x.this, exp.Column)]
        subs = [x for x in likes if _is_substring(x.expression) and x.this.name.lower() in _PROCESS_FIELDS]
        exe = [x for x in subs if ".exe" in x.expression.this.lower()]
        if exe:
            names = ", ".join(x.expression.this.strip("%") for x in exe)
            out.append(
                Finding(
                    "substring-exclusion",
                    "warning",
                    f"NOT ({exe[0].this.sql()} ILIKE '%...%') excludes installers by substring ({names}): any "
                    "path containing them is exempt, e.g. C:\\Users\\Public\\evilsetup.exe or iissetup.exe. "
                    "Match the full path of each installer instead.",
                )
            )


_PROCESS_FIELDS = {"image", "process path", "process name", "parentimage", "parent process path"}


def _is_substring(p: exp.Expression) -> bool:
    return isinstance(p, exp.Literal) and p.is_string and p.this.startswith("%") and p.this.endswith("%")


def _contains_pattern(longer: str, shorter: str) -> bool:
    """``'%a\\b%'`` is covered by ``'%b%'`` when both are pure contains patterns."""
    if not (longer.startswith("%") and longer.endswith("%") and shorter.startswith("%") and shorter.endswith("%")):
        return False
    inner_l, inner_s = longer.strip("%"), shorter.strip("%")
    if "%" in inner_l or "%" in inner_s or "_" in inner_l + inner_s:
        return False
    return inner_s.lower() in inner_l.lower()


def _or_groups(tree: exp.Expression) -> list[list[tuple[str, str]]]:
    groups = []
    for node in tree.find_all(exp.Or):
        if isinstance(node.parent, exp.Or):
            continue
        items = []
        for leaf in node.flatten():
            lit = isinstance(leaf, exp.ILike) and isinstance(leaf.expression, exp.Literal)
            if lit and isinstance(leaf.this, exp.Column):
                items.append((leaf.this.name, leaf.expression.this))
        groups.append(items)
    return groups


def _branches(case: exp.Case) -> list[exp.Expression]:
    return [i.this for i in case.args.get("ifs") or []]


def _case_vs_where(tree: exp.Expression, out: list[Finding]) -> None:
    if not isinstance(tree, exp.Select):
        return
    sel_cases = [c for e in tree.expressions for c in e.find_all(exp.Case)]
    where = tree.args.get("where")
    where_cases = list(where.find_all(exp.Case)) if where else []
    for sc in sel_cases:
        for wc in where_cases:
            a, b = _branches(sc), _branches(wc)
            if len(a) != len(b):
                msg = "SELECT CASE and WHERE CASE have different branches"
                out.append(Finding("case-where-mismatch", "warning", msg))
                continue
            for n, (x, y) in enumerate(zip(a, b, strict=True), 1):
                lx, ly = _leaves(x), _leaves(y)
                if lx == ly:
                    continue
                only_sel = sorted(lx - ly)
                only_where = sorted(ly - lx)
                msg = f"branch {n} of the SELECT CASE differs from the WHERE's:"
                if only_sel:
                    msg += " only SELECT has " + "; ".join(only_sel) + "."
                if only_where:
                    msg += " only WHERE has " + "; ".join(only_where) + "."
                msg += (" Rows the WHERE returns but the SELECT branch rejects get a NULL (or another "
                        "branch's) detection_type; generate both from one definition.")  # fmt: skip
                out.append(Finding("case-where-mismatch", "warning", msg))


def _leaves(node: exp.Expression) -> set[str]:
    return {
        n.sql(dialect="duckdb") for n in node.find_all(exp.ILike, exp.Like, exp.EQ, exp.RegexpLike, exp.RegexpILike)
    }


def _names(tree: exp.Expression, mapping: QRadarMapping, out: list[Finding]) -> None:
    qradar = {c.lower() for c in (*FIXED, *VIEW_ONLY)} - {"eventid", "channel", "provider_name", "computer"}
    qradar |= {p.lower() for p in mapping.ibm_sources()} | {c.lower() for c in mapping.event_fields}
    windows = {w.lower(): w for w in (*mapping.known_windows_fields(), "EventID")}
    aliases = {a.alias.lower() for a in tree.find_all(exp.Alias)}
    reported: set[str] = set()
    for col in tree.find_all(exp.Column):
        name = col.name
        low = name.lower()
        if low in qradar or low in aliases or low in reported:
            continue
        reported.add(low)
        ibm = mapping.properties.get(windows.get(low, name))
        if ibm:
            out.append(
                Finding(
                    "windows-field-name",
                    "warning",
                    f"{name!r} is the Windows field name; QRadar's property for it is {ibm[0]!r} "
                    f"(mapping/qradar.yaml). On QRadar {name!r} exists only as a custom property.",
                )
            )
        else:
            where = "a Windows field with no IBM property" if low in windows else "in no mapping"
            out.append(
                Finding(
                    "unknown-property",
                    "warning",
                    f"property {name!r} is {where} (mapping/qradar.yaml): on QRadar it must exist as an "
                    "enabled custom property, or the query returns nothing; the emulator has it "
                    + ("as the Windows field." if low in windows else "only if loaded events carry it."),
                )
            )
    for fn in tree.find_all(exp.Anonymous):
        name = str(fn.this).upper()
        if name not in FUNCTIONS:
            out.append(Finding("unknown-function", "error", f"function {name} is not an AQL function"))
        elif name == "NOW" and name not in reported:
            reported.add(name)
            out.append(
                Finding(
                    "not-ibm-function",
                    "info",
                    "NOW() is not on IBM's AQL function pages, though published queries use it (epoch ms of "
                    "now). The emulator gives it the query's 'now'. A trailing LAST clause is the documented way.",
                )
            )
        elif name in NOT_IBM and name not in reported:
            reported.add(name)
            out.append(
                Finding(
                    "not-ibm-function",
                    "warning",
                    f"{name}() is not in IBM's AQL function reference; it may fail on QRadar. The emulator "
                    "treats DATEADD('unit', n, t) as t + n units and LOGSOURCETIME(t) as t. On QRadar, express "
                    "the window with a trailing LAST 24 HOURS instead.",
                )
            )
    for cmp in tree.find_all(exp.EQ):
        if isinstance(cmp.this, exp.Column) and cmp.this.name.lower() in {"eventid", "event id"}:
            v = cmp.expression
            if isinstance(v, exp.Literal) and v.is_string:
                out.append(
                    Finding(
                        "string-event-id",
                        "info",
                        f"{cmp.this.sql()} = '{v.this}' compares EventID as a string, which works because "
                        "QRadar's Event ID property is a string (the emulator keeps it one).",
                    )
                )
                break
