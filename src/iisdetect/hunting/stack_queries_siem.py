"""The stacking hunts of :mod:`iisdetect.hunting.stack` for Splunk (SPL), Elastic (ES|QL), Sentinel and
Defender XDR (KQL): ``iisdetect stack --queries TARGET``.

Why through the exporters: each hunt is an IR condition per log-source variant (``engine/ir.py``), rendered
by the same renderer ``export --target`` uses (``SplunkRenderer``, ``EsqlRenderer``, ``KqlRenderer``) with
the same ``mapping/<target>.yaml``, so source/index/table selection, field names and string escaping
cannot drift from the exported rules. Grouped columns are read through the same mapping
(``TargetMapping.field``); the host is the mapping's ``Computer`` and the time the target's own.

A hunt whose variants have no place in a target (XDR has no IIS configuration table, so no EID 29
registrations) is omitted and named in ``omitted`` (``stack --queries`` prints it as a comment and on
stderr), never dropped silently. Differences from the native stack: groups are the exact strings (the
native stack folds case and ``%windir%``); Splunk's ``stats`` counts one event once per group.
"""

from __future__ import annotations

import dataclasses
import re

from iisdetect.engine import ir
from iisdetect.mapping.logsources import logsource_table
from iisdetect.mapping.targets import TargetMapping, field_source, load_target_mapping

SIEM_TARGETS = ("splunk", "elastic-esql", "sentinel", "xdr")
_MAPPING = {"splunk": "splunk", "elastic-esql": "elastic", "sentinel": "sentinel", "xdr": "xdr"}
#: registering command lines (appcmd/PowerShell/gacutil), searched case-insensitively
REGISTER_RX = (
    r"appcmd(\.exe)?\"?\s+(install|add)\s+module|New-WebGlobalModule|New-WebManagedModule|gacutil(\.exe)?\"?\s+[-/]i\s"
)
HISTORY = "\\inetpub\\history\\"


@dataclasses.dataclass(frozen=True)
class Hunt:
    """One stacking hunt: a condition per variant and the grouped columns (output name -> field per variant)."""

    name: str
    variants: tuple[ir.Variant, ...]
    columns: tuple[tuple[str, dict[str, str]], ...]

    def rule(self, variants: tuple[ir.Variant, ...]) -> ir.CompiledRule:
        return ir.CompiledRule(f"stack:{self.name}", self.name, "informational", "stack", "", "", (), (), variants)


def _source(name: str, event_ids: tuple[int, ...] | None = None) -> ir.Source:
    for variants in logsource_table().values():
        for v in variants:
            if v.name == name:
                return v.source if event_ids is None else dataclasses.replace(v.source, event_ids=event_ids)
    raise KeyError(name)


def _any(field: str, op: str, values: list[str]) -> ir.Or:
    return ir.Or(tuple(ir.Str(field, op, v) for v in values))  # type: ignore[arg-type]


def _written(path: str) -> ir.Node:
    ends = _any(path, "endswith", ["\\applicationHost.config", "\\web.config"])
    return ir.And((ends, ir.Not(ir.Str(path, "contains", HISTORY))))


def hunts() -> tuple[Hunt, ...]:
    """The four hunts of ``qradar_queries``, as IR over the Windows field names of each variant."""
    cfg = "Configuration"
    reg = ir.And((
        _any(cfg, "contains", ["/globalModules/add", "/modules/add", "/isapiFilters/filter", "/handlers/add"]),
        _any(cfg, "endswith", ["/@image", "/@path", "/@type", "/@scriptProcessor"]),
        ir.Not(ir.Null("NewValue")),
    ))  # fmt: skip
    cmd = ir.Regex("CommandLine", REGISTER_RX, ignore_case=True)
    s7, iis = _source("sysmon_7"), _source("iis_configuration", (29,))
    s1, s4688, s11, s4663 = (
        _source("sysmon_1"),
        _source("security_4688"),
        _source("sysmon_11"),
        _source("security_4663"),
    )
    dll = {
        "loaded_dll": "ImageLoaded",
        "hashes": "Hashes",
        "signer": "Signature",
        "signature_status": "SignatureStatus",
    }
    return (
        Hunt("dll_loads", (ir.Variant(s7, ir.Str("Image", "endswith", "\\w3wp.exe")),),
             tuple((k, {s7.name: v}) for k, v in dll.items())),
        Hunt("registrations", (ir.Variant(iis, reg),),
             (("configuration", {iis.name: cfg}), ("image", {iis.name: "NewValue"}))),
        Hunt("registration_commands", (ir.Variant(s1, cmd), ir.Variant(s4688, cmd)),
             (("command_line", {s1.name: "CommandLine", s4688.name: "CommandLine"}),)),
        Hunt("config_writes", (ir.Variant(s11, _written("TargetFilename")), ir.Variant(s4663, _written("ObjectName"))),
             (("file_path", {s11.name: "TargetFilename", s4663.name: "ObjectName"}),
              ("writer", {s11.name: "Image", s4663.name: "ProcessName"}))),
    )  # fmt: skip


def _col(m: TargetMapping, src: ir.Source, name: str) -> str | None:
    expr = m.field(src, name)
    if expr is None:
        return None
    return expr.split(":", 1)[1] if expr.startswith("@sha256:") else expr


def _exprs(m: TargetMapping, hunt: Hunt, variants: tuple[ir.Variant, ...], wrap) -> list[tuple[str, list[str]]]:  # noqa: ANN001
    """(output name, distinct per-variant expressions) for each grouped column; a missing field is skipped."""
    out = []
    for name, per in hunt.columns:
        exprs: list[str] = []
        for v in variants:
            e = _col(m, v.source, per[v.source.name])
            if e is not None and wrap(e) not in exprs:
                exprs.append(wrap(e))
        out.append((name, exprs))
    return out


# -- Splunk -----------------------------------------------------------------------------------------
def _splunk(m: TargetMapping, hunt: Hunt, days: int) -> str | None:
    from iisdetect.exporters.splunk import SplunkRenderer, _field, spl_string

    r = SplunkRenderer(m)
    vs = tuple(v for v in hunt.variants if m.source_entry(v.source) is not None)
    if not vs:
        return None
    rule = hunt.rule(vs)
    searches, wheres = [], []
    for v in vs:
        s, w = r.source_terms(v.source)
        searches.append(f"({s})")
        wheres.append(f"(({w}) AND {r.variant_condition(rule, v)})")
    cols = _exprs(m, hunt, vs, _field)
    evals = ", ".join(f"{n}={e[0] if len(e) == 1 else 'coalesce(' + ', '.join(e) + ')'}" if e else f'{n}=""'
                      for n, e in cols)  # fmt: skip
    names = " ".join(n for n, _ in cols)
    host = _field(m.field(vs[0].source, "Computer") or "host")
    t = m.setting(vs[0].source, "time_field", "_time")
    index = m.raw.get("index", "*")
    return (
        f"search index={index} earliest=-{days}d ({' OR '.join(searches)})\n| where {' OR '.join(wheres)}"
        f"\n| eval {evals}\n| fillnull value={spl_string('')} {names}"
        f"\n| stats dc({host}) AS hosts, count AS events, min({t}) AS first_seen, max({t}) AS last_seen BY {names}"
        f"\n| sort hosts, events"
    )


# -- Elastic ES|QL ----------------------------------------------------------------------------------
def _esql(m: TargetMapping, hunt: Hunt, days: int) -> str | None:
    from iisdetect.exporters.elastic_esql import EsqlRenderer, _ident

    r = EsqlRenderer(m)
    vs = tuple(v for v in hunt.variants if m.source_entry(v.source) is not None)
    if not vs:
        return None
    rule = hunt.rule(vs)
    parts, index = [], []
    for v in vs:
        parts.append(f"({r.source_test(v.source)} AND {r.variant_condition(rule, v)})")
        index.extend(i for i in m.source_entry(v.source).get("index") or () if i not in index)  # type: ignore[union-attr]
    index.extend(i for i in m.raw.get("index_extra") or () if i not in index)
    cols = _exprs(m, hunt, vs, _ident)
    evals = ", ".join(f"{n} = {e[0] if len(e) == 1 else 'COALESCE(' + ', '.join(e) + ')'}" if e else f'{n} = ""'
                      for n, e in cols)  # fmt: skip
    host = _ident(m.field(vs[0].source, "Computer") or "host.name")
    cond = parts[0] if len(parts) == 1 else "(" + "\n    OR ".join(parts) + ")"
    return (
        f"FROM {', '.join(index)}\n| WHERE @timestamp >= NOW() - {days} days AND {cond}\n| EVAL {evals}"
        f"\n| STATS hosts = COUNT_DISTINCT({host}), events = COUNT(*), first_seen = MIN(@timestamp), "
        f"last_seen = MAX(@timestamp) BY {', '.join(n for n, _ in cols)}\n| SORT hosts, events"
    )


# -- KQL (Sentinel, Defender XDR) -------------------------------------------------------------------
def _kql(m: TargetMapping, hunt: Hunt, days: int) -> str | None:
    from iisdetect.exporters.kql import KqlRenderer

    r = KqlRenderer(m)
    r.target = m.name
    branches: list[str] = []
    vs: list[ir.Variant] = []
    for v in hunt.variants:
        fsrc = field_source(v.source, v.condition)
        table = m.setting(fsrc, "table") if m.source_entry(v.source) is not None else None
        if not table:
            continue
        wanted = {per[v.source.name] for _, per in hunt.columns}
        join = m.setting(fsrc, "join", "")
        if join and wanted & set(m.setting(fsrc, "join_when", ())):
            table = f"{table}\n{' '.join(join.split())}"
        vs.append(v)
        t = m.setting(fsrc, "time_field", "TimeGenerated")
        host = m.field(fsrc, "Computer") or "Computer"
        test = r.source_test(fsrc)
        cond = r.variant_condition(hunt.rule((v,)), v)
        cols = []
        for name, per in hunt.columns:
            e = _col(m, fsrc, per[v.source.name])
            e = e if e is None or e.startswith("tostring(") else f"tostring({e})"
            cols.append(f"{name} = {e}" if e else f'{name} = ""')
        branches.append(
            f"{table}\n| where {t} > ago({days}d)\n| where " + (f"{test} and {cond}" if test else cond)
            + f"\n| project {', '.join(cols)}, Host = {host}, Time = {t}"
        )  # fmt: skip
    if not branches:
        return None
    body = branches[0] if len(branches) == 1 else "union\n  (" + "),\n  (".join(branches) + ")"
    names = ", ".join(n for n, _ in hunt.columns)
    return (
        f"{body}\n| summarize hosts = dcount(Host), events = count(), first_seen = min(Time), "
        f"last_seen = max(Time) by {names}\n| order by hosts asc, events asc"
    )


_RENDER = {"splunk": _splunk, "elastic-esql": _esql, "sentinel": _kql, "xdr": _kql}


def siem_queries(target: str, days: int = 30, mapping: TargetMapping | None = None) -> tuple[dict[str, str], list[str]]:
    """(name -> query, omitted notes) for a SIEM target of ``export``; a hunt with no source there is omitted."""
    if target not in _RENDER:
        raise ValueError(f"unknown SIEM target {target!r}")
    m = mapping or load_target_mapping(_MAPPING[target])
    out, omitted = {}, []
    for h in hunts():
        q = _RENDER[target](m, h, days)
        if q is None:
            whys = {str(m.setting(v.source, "why", "no source mapped")) for v in h.variants}
            omitted.append(f"{h.name}: not generated for {target}: {'; '.join(sorted(whys))}")
        else:
            out[h.name] = q
    return out, omitted


def comment(target: str, text: str) -> str:
    """``text`` as one comment line of the target's query language (SPL: triple backticks)."""
    text = re.sub(r"\s+", " ", text).replace("`", "'")
    if target == "splunk":
        return f"``` {text} ```"
    return ("// " if target in _RENDER else "-- ") + text
