"""``audit()``: read a triage package, list what IIS is configured to load, judge it, date it, triage the DLLs.

Data flow as everywhere in iisdetect: read (``package`` members, ``xmlsafe`` parse) -> normalise (``entries``)
-> detect (``judge``, ``history``, ``pe`` + ``dlls``) -> report (``findings`` alerts for the hunt writers).
Accounting: each configuration file found is one record, parsed (read) or refused (skipped, with a reason);
every entry gets at least one alert (informational when nothing is wrong), so none is dropped silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from iisdetect.audit import dlls as dll_weigh
from iisdetect.audit import findings as F
from iisdetect.audit.entries import Entry, extract
from iisdetect.audit.history import LIVE, Change, Snapshot, diff
from iisdetect.audit.judge import Judgement, judge_entry, parse_type
from iisdetect.audit.package import MAX_CONFIG_BYTES, MAX_DLL_BYTES, Member, close_archives, iter_members
from iisdetect.audit.pe import DllReport, triage
from iisdetect.audit.sites import location_of, virtual_dirs
from iisdetect.audit.xmlsafe import Refused, parse
from iisdetect.errors import InputError
from iisdetect.model.stats import RunStats


@dataclass
class AuditOptions:
    paths: list[str]
    dlls: list[str] = field(default_factory=list)
    host: str | None = None
    triage_dlls: bool = True


@dataclass
class AuditResult:
    alerts: list[F.AuditAlert]
    entries: list[tuple[Entry, Judgement]]
    changes: list[Change]
    dlls: list[DllReport]
    stats: RunStats
    notes: list[str]


@dataclass
class _Package:
    name: str
    host: str
    configs: list[tuple[Member, list[Entry]]] = field(default_factory=list)
    binaries: dict[str, Member] = field(default_factory=dict)
    roots: list = field(default_factory=list)
    redirects: list[tuple[Member, str]] = field(default_factory=list)


#: collection folders that are not a host name (Velociraptor's upload accessors, KAPE's usual folder names)
_GENERIC = {"uploads", "auto", "ntfs", "lazy_ntfs", "file", "mft", "vss", "kape", "targets", "collection", "triage"}


def host_name(package: str, root: str = "") -> str:
    """The folder above the drive when it names a machine (``HOST1/C/...``), else the package's name."""
    last = root.rstrip("/").rsplit("/", 1)[-1]
    if last and last.lower() not in _GENERIC:
        return last
    name = Path(package).name
    for ext in (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip"):
        if name.lower().endswith(ext):
            return name[: -len(ext)]
    return name


def _read_packages(paths: list[str], stats: RunStats) -> dict[str, _Package]:
    packages: dict[str, _Package] = {}
    parsed: list[tuple[_Package, Member, object]] = []
    for m in iter_members(paths, stats):
        root_dir = m.root
        key = f"{m.package}\0{root_dir}"
        pkg = packages.setdefault(key, _Package(m.package, host_name(m.package, root_dir)))
        low = m.rel.lower()
        if low.endswith((".dll", ".exe")):
            pkg.binaries[_key(m.windows_path)] = m
            continue
        if m.kind is None:
            continue
        stats.files += 1
        stats.formats[m.kind] += 1
        if m.size > MAX_CONFIG_BYTES:
            stats.skip(m.display, "file", "configuration file too large", f"{m.size} bytes > {MAX_CONFIG_BYTES}")
            continue
        try:
            data = m.read()
            if len(data) > MAX_CONFIG_BYTES:  # the archive header lied about the size
                stats.skip(m.display, "file", "configuration file too large", f"more than {MAX_CONFIG_BYTES} bytes")
                continue
            root = parse(data)
        except Refused as exc:
            stats.skip(m.display, "file", "configuration file refused", str(exc))
            continue
        except (OSError, EOFError, KeyError, ValueError) as exc:
            stats.skip(m.display, "file", "configuration file unreadable", str(exc)[:200])
            continue
        stats.records_read += 1
        parsed.append((pkg, m, root))
        if m.kind == "applicationHost" and not m.snapshot:
            pkg.roots.extend(virtual_dirs(root))  # type: ignore[arg-type]
        if m.kind == "redirection" and not m.snapshot:
            redir = root.find("configurationRedirection")  # type: ignore[attr-defined]
            if redir is not None and redir.get("enabled", "").lower() == "true":
                pkg.redirects.append((m, redir.get("path", "")))
    for pkg, m, root in parsed:
        entries = extract(root, m.display, m.windows_path, m.snapshot or "")  # type: ignore[arg-type]
        if m.kind == "web.config":
            loc = location_of(m.windows_path, pkg.roots)
            for e in entries:
                e.location = "/".join(p for p in (loc, e.location) if p not in ("", "."))
        pkg.configs.append((m, entries))
    return packages


def audit(opts: AuditOptions) -> AuditResult:
    try:
        return _audit(opts)
    finally:
        close_archives()


def _audit(opts: AuditOptions) -> AuditResult:
    stats = RunStats()
    packages = _read_packages(opts.paths, stats)
    alerts: list[F.AuditAlert] = []
    judged: list[tuple[Entry, Judgement]] = []
    all_changes: list[Change] = []
    reports: list[DllReport] = []
    extra_dlls = _given_dlls(opts.dlls, stats)
    for pkg in packages.values():
        host = opts.host or pkg.host
        site_roots = tuple(vd.physical for vd in pkg.roots)
        current = [(m, es) for m, es in pkg.configs if not m.snapshot]
        if not any(m.kind == "applicationHost" for m, _ in current):  # no live file: newest snapshot stands in
            snaps = sorted(
                (m for m, _ in pkg.configs if m.snapshot and m.kind == "applicationHost"), key=lambda m: m.snapshot
            )
            if snaps:
                current += [(m, es) for m, es in pkg.configs if m is snaps[-1]]
        changes, first = _history(pkg)
        all_changes.extend(changes)
        verdicts: dict[tuple[str, str, str], Judgement] = {}
        for m, entries in current:
            for e in entries:
                j = judge_entry(e, site_roots)
                verdicts[e.key] = j
                judged.append((e, j))
                alerts.extend(_entry_alerts(e, j, m, host, first.get(e.key)))
                if opts.triage_dlls:
                    alerts.extend(_dll_alerts(e, j, pkg, extra_dlls, host, m, reports))
        for m, target in pkg.redirects:
            info = {"config_kind": "redirection", "windows_config": m.windows_path, "resolved": "", "target": target}
            note = f"configurationRedirection enabled: IIS reads its configuration from '{target}'"
            xpath = "/configuration/configurationRedirection"
            alerts.append(F.make("audit.redirected", host, m.mtime, m.display, xpath, info, [note]))
        for ch in changes:
            j = verdicts.get(ch.entry.key) or judge_entry(ch.entry, site_roots)
            alerts.append(_change_alert(ch, j, host))
    for path, rep in extra_dlls.items():
        if not any(r is rep for r in reports):  # a --dll file no configuration entry names
            level, reasons = dll_weigh.weigh(rep, None, "")
            reports.append(rep)
            info = {"config_kind": "--dll", "resolved": path, "dll": rep.as_dict(), "verdict": "not registered"}
            alerts.append(F.make("audit.dll", opts.host or "", "", path, "file", info, reasons, level, "DLL triage"))
    for a in alerts:
        stats.alerts_by_type[a.detection_type] += 1
    alerts.sort(key=lambda a: (-F.LEVELS.index(a.level), a.event.source, a.event.locator, a.rule.id))
    kinds = Counter(e.kind for e, _ in judged)
    notes = [f"entries: {len(judged)} (" + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + ")"]
    if all_changes:
        notes.append(f"history: {len(all_changes)} change(s) across configuration snapshots")
    if reports:
        notes.append(f"DLLs triaged: {len(reports)} (read from bytes, never loaded)")
    return AuditResult(alerts, judged, all_changes, reports, stats, notes)


def _history(pkg: _Package) -> tuple[list[Change], dict[tuple[str, str, str], tuple[str, str]]]:
    hosts = [(m, es) for m, es in pkg.configs if m.kind == "applicationHost"]
    snaps = [Snapshot(m.snapshot, m.mtime, es) for m, es in hosts if m.snapshot]
    if not snaps:
        return [], {}
    live = [(m, es) for m, es in hosts if not m.snapshot and not any(e.iis_express for e in es)]
    if live:
        snaps.append(Snapshot(LIVE, live[0][0].mtime, live[0][1]))
    return diff(snaps)


def _entry_alerts(e: Entry, j: Judgement, m: Member, host: str, first: tuple[str, str] | None) -> list[F.AuditAlert]:
    info = F.entry_info(e, m.kind or "", j.verdict)
    time = m.mtime
    if first is not None:
        info["first_seen"], info["first_seen_time"] = first
    findings = j.findings or [("audit.component", f"{e.kind} '{e.identity()}': {j.verdict}")]
    return [F.make(cid, host, time, m.display, e.xpath, dict(info), [reason]) for cid, reason in findings]


def _change_alert(ch: Change, j: Judgement, host: str) -> F.AuditAlert:
    level = F.max_level([F.checks()[c].level for c, _ in j.findings])
    e = ch.entry
    info = F.entry_info(e, "applicationHost", j.verdict)
    info.update(change=ch.what, change_snapshot=ch.snapshot)
    note = f"{ch.what} in {ch.snapshot} ({ch.time or 'time unknown'}): {e.kind} '{e.identity()}'"
    if ch.before is not None:
        note += f"; was image='{ch.before.image}' type='{ch.before.type}' preCondition='{ch.before.precondition}'"
    notes = [note] + [r for _, r in j.findings]
    return F.make(f"audit.history_{ch.what}", host, ch.time, e.config, e.xpath, info, notes, level)


def _dll_alerts(
    e: Entry,
    j: Judgement,
    pkg: _Package,
    extra: dict[str, DllReport],
    host: str,
    m: Member,
    reports: list[DllReport],
) -> list[F.AuditAlert]:
    path = e.resolved or _assembly_path(e, pkg)
    if not path or not path.lower().endswith((".dll", ".exe")):
        return []
    out = []
    for loaded, note in [(path, "")] + _twins(e, path):
        rep = _find_dll(loaded, pkg, extra, reports) if not note else _package_dll(loaded, pkg, reports)
        if rep is None:
            continue
        level, reasons = dll_weigh.weigh(rep, e, j.signer)
        info = F.entry_info(e, m.kind or "", j.verdict)
        info["dll"] = rep.as_dict()
        if note:
            info["resolved"], info["bitness"] = loaded, "32"
            reasons = [note, *reasons]
        out.append(F.make("audit.dll", host, m.mtime, m.display, e.xpath, info, reasons, level, "DLL triage"))
    return out


def _twins(e: Entry, path: str) -> list[tuple[str, str]]:
    """The file a 32-bit w3wp.exe loads for the same entry, when it is another one.

    WOW64 redirects ``System32`` to ``SysWOW64``, and expands ``%ProgramFiles%`` to ``Program Files (x86)``;
    a 64-bit-only entry (``bitness64``) has no twin. An attacker can plant just the 32-bit copy.
    """
    if e.bitness == "64" or e.kind == "module":
        return []
    low = path.lower()
    if "\\system32\\" in low:
        i = low.index("\\system32\\")
        twin = path[:i] + "\\SysWOW64\\" + path[i + len("\\system32\\") :]
    elif e.image.lower().startswith("%programfiles%\\"):
        twin = "C:\\Program Files (x86)\\" + e.image[len("%programfiles%\\") :]
    else:
        return []
    return [(twin, "32-bit twin: a 32-bit application pool loads this file for the same entry")]


def _package_dll(path: str, pkg: _Package, reports: list[DllReport]) -> DllReport | None:
    """A package member only (never a --dll file): a twin must be found at its own path."""
    return _find_dll(path, pkg, {}, reports)


def _assembly_path(e: Entry, pkg: _Package) -> str:
    """Where a managed module's assembly sits in the package: the GAC, or a bin folder (first in path order)."""
    if e.kind != "module" or not e.type:
        return ""
    assembly = parse_type(e.type)[1]
    if not assembly:
        return ""
    want = "\\" + assembly.lower() + ".dll"
    hits = sorted(k for k in pkg.binaries if k.endswith(want) and ("\\gac_" in k or "\\bin\\" in k))
    return pkg.binaries[hits[0]].windows_path if hits else ""


def _find_dll(resolved: str, pkg: _Package, extra: dict[str, DllReport], reports: list[DllReport]) -> DllReport | None:
    base = _key(resolved).rsplit("\\", 1)[-1]
    for path, rep in extra.items():  # --dll files match by name: the user said which file it is
        if Path(path).name.lower() == base:
            if not any(r is rep for r in reports):
                reports.append(rep)
            return rep
    member = pkg.binaries.get(_key(resolved))
    if member is None:
        return None
    for rep in reports:
        if rep.path == member.display:
            return rep
    if member.size > MAX_DLL_BYTES:
        return None
    rep = triage(member.read()[:MAX_DLL_BYTES], member.display)
    reports.append(rep)
    return rep


def _given_dlls(paths: list[str], stats: RunStats) -> dict[str, DllReport]:
    out: dict[str, DllReport] = {}
    for p in paths:
        f = Path(p)
        if not f.is_file():
            raise InputError(f"--dll: no such file: {p}")
        if f.stat().st_size > MAX_DLL_BYTES:
            stats.file_failed(p, "DLL too large", f"{f.stat().st_size} bytes > {MAX_DLL_BYTES}")
            continue
        out[p] = triage(f.read_bytes(), p)
    return out


def _key(path: str) -> str:
    """Exact server path, case-folded (no 32-bit twin folding: System32 and SysWOW64 copies stay apart)."""
    return path.replace("/", "\\").lower()
