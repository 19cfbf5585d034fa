"""The stacking hunts of :mod:`iisdetect.hunting.stack`, as QRadar AQL (``iisdetect stack --aql``) and lake
SQL; Splunk, ES|QL, Sentinel and XDR are in :mod:`iisdetect.hunting.stack_queries_siem`.

The same selection as the native stack (w3wp.exe DLL loads, EID 29 module registrations, registering
command lines, config-file writes), grouped and counted by log source, rarest first. Property names come
from ``mapping/qradar.yaml`` through the exporter's helpers, so the queries run unchanged in the offline
emulator (``iisdetect aql``), which the tests use to check the counts equal the native stack's.

Differences from the native stack, by necessity: AQL groups by the exact strings (the native stack folds
case and ``%windir%``), and one EID 29 change with several attributes counts once per attribute row.
"""

from __future__ import annotations

from iisdetect.exporters.qradar import aql_string, prop
from iisdetect.mapping.qradar import QRadarMapping, load_mapping

COUNTS = (
    "UNIQUECOUNT(logsourceid) AS hosts",
    "COUNT(*) AS events",
    "DATEFORMAT(MIN(starttime), 'yyyy-MM-dd HH:mm:ss') AS first_seen",
    "DATEFORMAT(MAX(starttime), 'yyyy-MM-dd HH:mm:ss') AS last_seen",
)
_REGISTER_RE = (
    r"(?i).*(appcmd(\.exe)?\"?\s+(install|add)\s+module|New-WebGlobalModule|New-WebManagedModule"
    r"|gacutil(\.exe)?\"?\s+[-/]i\s).*"
)


def _query(select: list[str], where: list[str], group: list[str], days: int) -> str:
    return (
        "SELECT " + ",\n       ".join(select + list(COUNTS)) + "\nFROM events\nWHERE " + "\n  AND ".join(where)
        + "\nGROUP BY " + ", ".join(group) + "\nORDER BY hosts ASC, events ASC\nLAST " + f"{days} DAYS"
    )  # fmt: skip


def qradar_queries(mapping: QRadarMapping | None = None, days: int = 30) -> dict[str, str]:
    """Name -> AQL for each stacking hunt, over the last ``days`` days."""
    m = mapping or load_mapping()

    def f(name: str) -> str:
        return prop(m.ibm_name(name))

    def any_like(field: str, patterns: list[str]) -> str:
        return "(" + " OR ".join(f"{field} ILIKE {aql_string(p)}" for p in patterns) + ")"

    eid = f("EventID")
    loaded, image, hashes, sig, status = f("ImageLoaded"), f("Image"), f("Hashes"), f("Signature"), f("SignatureStatus")
    cfg, new = f("Configuration"), f("NewValue")
    cmd, fname = f("CommandLine"), f("TargetFilename")
    return {
        "dll_loads": _query(
            [f"{loaded} AS loaded_dll", f"{hashes} AS hashes", f"{sig} AS signer", f"{status} AS signature_status"],
            [f"{eid} = '7'", f"{image} ILIKE '%\\w3wp.exe'"],
            [loaded, hashes, sig, status],
            days,
        ),
        "registrations": _query(
            [f"{cfg} AS configuration", f"{new} AS image"],
            [
                f"{eid} = '29'",
                any_like(cfg, ["%/globalModules/add%", "%/modules/add%", "%/isapiFilters/filter%", "%/handlers/add%"]),
                any_like(cfg, ["%/@image", "%/@path", "%/@type", "%/@scriptProcessor"]),
                f"{new} <> ''",
            ],
            [cfg, new],
            days,
        ),
        "registration_commands": _query(
            [f"{cmd} AS command_line"],
            [f"{eid} IN ('1', '4688')", f"{cmd} IMATCHES {aql_string(_REGISTER_RE)}"],
            [cmd],
            days,
        ),
        "config_writes": _query(
            [f"{fname} AS file_path", f"{image} AS writer"],
            [
                f"{eid} IN ('11', '4663')",
                any_like(fname, ["%\\applicationHost.config", "%\\web.config"]),
                f"NOT {fname} ILIKE '%\\inetpub\\history\\%'",
            ],
            [fname, image],
            days,
        ),
    }


HISTORY = "\\inetpub\\history\\"  # CFGHISTORY snapshots: the config history service, benign


def lake_queries(target: str, days: int = 30, table: str = "events") -> dict[str, str]:
    """The same hunts as SQL over the lake table (``iisdetect convert``), for ``export``'s lake targets.

    Fields are read through the lake exporter's renderer (``mapping/lake.yaml``: EventData from the map
    column, System fields from their columns), so the names cannot drift from ``export --target``. Hosts
    are counted as distinct ``Computer`` values; the time window is on ``TimeCreated`` (canonical ISO).
    """
    from iisdetect.lake.sql import LAKE_TARGETS, SqlRenderer

    if target not in LAKE_TARGETS:
        raise ValueError(f"unknown lake target {target!r}")
    r = SqlRenderer(LAKE_TARGETS[target], table)
    f, s = r.field, r.string
    ends, has = r._fn("endswith"), r._fn("contains")
    comp, t = f("Computer"), f("TimeCreated")
    spark = r.dialect == "spark"
    since = (
        f"date_format(current_timestamp() - INTERVAL {days} DAYS, \"yyyy-MM-dd'T'HH:mm:ss\")"
        if spark
        else f"strftime(now() - INTERVAL {days} DAY, '%Y-%m-%dT%H:%M:%S')"
    )
    counts = f"count(DISTINCT {comp}) AS hosts, count(*) AS events, min({t}) AS first_seen, max({t}) AS last_seen"

    def q(select: list[str], where: list[str]) -> str:
        cols = ", ".join(select)
        return (
            f"SELECT {cols}, {counts}\nFROM {table}\nWHERE " + "\n  AND ".join([*where, f"{t} >= {since}"])
            + f"\nGROUP BY {', '.join(str(i + 1) for i in range(len(select)))}\nORDER BY hosts, events"
        )  # fmt: skip

    def any_of(expr: str, fn: str, values: list[str]) -> str:
        return "(" + " OR ".join(f"{fn}(lower({expr}), {s(v.lower())})" for v in values) + ")"

    eid = r.ident(r.schema.column_of("event_id"))
    cfg, fname, image = f("Configuration"), f("TargetFilename"), f("Image")
    written = f"coalesce({fname}, {f('ObjectName')})"
    return {
        "dll_loads": q(
            [
                f"{f('ImageLoaded')} AS loaded_dll",
                f"{f('Hashes')} AS hashes",
                f"{f('Signature')} AS signer",
                f"{f('SignatureStatus')} AS signature_status",
            ],  # fmt: skip
            [f"{eid} = 7", f"{ends}(lower({image}), {s(chr(92) + 'w3wp.exe')})"],
        ),
        "registrations": q(
            [f"{cfg} AS configuration", f"{f('NewValue')} AS image"],
            [
                f"{eid} = 29",
                any_of(cfg, has, ["/globalModules/add", "/modules/add", "/isapiFilters/filter", "/handlers/add"]),
                any_of(cfg, ends, ["/@image", "/@path", "/@type", "/@scriptProcessor"]),
                f"coalesce({f('NewValue')}, '') <> ''",
            ],
        ),
        "config_writes": q(
            [f"coalesce({fname}, {f('ObjectName')}) AS file_path", f"coalesce({image}, {f('ProcessName')}) AS writer"],
            [
                f"{eid} IN (11, 4663)",
                any_of(f"coalesce({fname}, {f('ObjectName')})", ends, ["\\applicationHost.config", "\\web.config"]),
                f"NOT coalesce({has}(lower({written}), {s(HISTORY)}), false)",
            ],
        ),
    }
