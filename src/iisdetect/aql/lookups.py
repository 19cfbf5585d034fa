"""Local stand-ins for QRadar's configuration data, loaded into the query connection before it is
locked: reference sets, maps and tables, the network hierarchy and log source groups.

Each comes from a YAML/JSON file (read with :func:`iisdetect.model.userfiles.read_yaml`):

``--reference-data FILE``::

    sets:   {set name: [value, ...]}                     # REFERENCESETCONTAINS('set name', v)
    maps:   {map name: {key: value}}                     # REFERENCEMAP('map name', key)
    tables: {table name: {outer key: {column: value}}}   # REFERENCETABLE('table name', 'column', key)

``--reference-sets FILE``: ``{set name: [values]}`` (sets only, the older shape).
``--network-hierarchy FILE``: ``{network name: [CIDR, ...]}``; NETWORKNAME(ip) is the name of the
most specific network holding ip (IPv4 or IPv6), NULL when none does.
``--log-source-groups FILE``: ``{group name: [log source name or glob, ...]}``;
LOGSOURCEGROUPNAME(devicegrouplist) lists the groups of the event's log source, comma-separated.

Matching is exact and case-sensitive, as QRadar's reference data lookups of type ALN are. All
values enter DuckDB as parameters, never as SQL text.
"""

from __future__ import annotations

import contextlib
import fnmatch
import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import duckdb

from iisdetect.aql.table import LOOKUP_PREFIX as P
from iisdetect.aql.table import fill_table
from iisdetect.errors import UsageError
from iisdetect.model.userfiles import read_yaml


@dataclass(frozen=True)
class LocalData:
    """Paths of the local configuration files (each optional)."""

    reference_sets: str | None = None
    reference_data: str | None = None
    network_hierarchy: str | None = None
    log_source_groups: str | None = None


def _mapping(path: str, what: str) -> dict[str, Any]:
    data = read_yaml(path, what) or {}
    if not isinstance(data, dict):
        raise UsageError(f"{what} {path}: expected a mapping at top level")
    return data


def _sets(data: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, values in data.items():
        for v in values if isinstance(values, list) else [values]:
            out.append((str(name), str(v)))
    return out


def _read_reference_data(local: LocalData) -> tuple[list, list, list]:
    sets = _sets(_mapping(local.reference_sets, "reference sets")) if local.reference_sets else []
    maps: dict[tuple[str, str], str] = {}
    tables: dict[tuple[str, str, str], str] = {}
    if local.reference_data:
        path = local.reference_data
        data = _mapping(path, "reference data")
        unknown = set(data) - {"sets", "maps", "tables"}
        if unknown:
            raise UsageError(f"reference data {path}: unknown section(s) {', '.join(sorted(unknown))}")
        sets += _sets(data.get("sets") or {})
        for name, entries in (data.get("maps") or {}).items():
            if not isinstance(entries, dict):
                raise UsageError(f"reference data {path}: map {name!r} must be {{key: value}}")
            for k, v in entries.items():
                maps[(str(name), str(k))] = str(v)
        for name, rows in (data.get("tables") or {}).items():
            if not isinstance(rows, dict) or not all(isinstance(r, dict) for r in rows.values()):
                raise UsageError(f"reference data {path}: table {name!r} must be {{outer key: {{column: value}}}}")
            for outer, cols in rows.items():
                for col, v in cols.items():
                    tables[(str(name), str(outer), str(col))] = str(v)
    return (
        sorted(set(sets)),
        [(n, k, v) for (n, k), v in maps.items()],
        [(n, o, c, v) for (n, o, c), v in tables.items()],
    )


def _networks(path: str | None) -> list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]:
    if not path:
        return []
    out = []
    for name, cidrs in _mapping(path, "network hierarchy").items():
        for cidr in cidrs if isinstance(cidrs, list) else [cidrs]:
            try:
                out.append((ipaddress.ip_network(str(cidr), strict=False), str(name)))
            except ValueError:
                raise UsageError(f"network hierarchy {path}: {cidr!r} (network {name!r}) is no CIDR") from None
    out.sort(key=lambda x: -x[0].prefixlen)  # most specific first
    return out


@lru_cache(maxsize=65536)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def incidr(cidr: str | None, ip: str | None) -> bool | None:
    """INCIDR('cidr', ip): IPv4 or IPv6; a bare address is a /32 (/128). NULL when ip is no address."""
    if cidr is None or ip is None:
        return None
    net, addr = _network(cidr), _address(ip)
    if net is None or addr is None:
        return None
    return addr.version == net.version and addr in net


def prepare(con: duckdb.DuckDBPyConnection, local: LocalData, log_sources: list[tuple[int, str]]) -> None:
    """Fill the lookup tables and register the Python functions (before the connection is locked)."""
    sets, maps, tables = _read_reference_data(local)
    fill_table(con, "aql_refsets", f"{P}name VARCHAR, {P}value VARCHAR", sets)
    fill_table(con, "aql_refmaps", f"{P}name VARCHAR, {P}key VARCHAR, {P}value VARCHAR", maps)
    fill_table(con, "aql_reftables", f"{P}name VARCHAR, {P}outer VARCHAR, {P}inner VARCHAR, {P}value VARCHAR", tables)
    groups: list[tuple[int, str]] = []
    if local.log_source_groups:
        spec = _mapping(local.log_source_groups, "log source groups")
        patterns = {str(g): [str(p) for p in (v if isinstance(v, list) else [v])] for g, v in spec.items()}
        for ls_id, ls_name in log_sources:
            names = [g for g, pats in patterns.items() if any(fnmatch.fnmatchcase(ls_name, p) for p in pats)]
            if names:
                groups.append((ls_id, ", ".join(sorted(names))))
    fill_table(con, "aql_lsgroups", f"{P}id INTEGER, {P}name VARCHAR", groups)
    nets = _networks(local.network_hierarchy)

    def networkname(ip: str | None) -> str | None:
        addr = _address(ip) if ip is not None else None
        if addr is None:
            return None
        return next((name for net, name in nets if net.version == addr.version and addr in net), None)

    for name, fn, args, ret in (
        ("aql_incidr", incidr, [duckdb.sqltype("VARCHAR")] * 2, duckdb.sqltype("BOOLEAN")),
        ("aql_networkname", networkname, [duckdb.sqltype("VARCHAR")], duckdb.sqltype("VARCHAR")),
    ):
        with contextlib.suppress(Exception):  # not registered yet on this connection
            con.remove_function(name)
        con.create_function(name, fn, args, ret, null_handling="special")
