"""Differential test: iisdetect's engine vs pySigma's reference SQLite backend, over the real corpus.

A deterministic sample of SigmaHQ's Windows rules (every ``STEP``-th compilable rule by path) is
evaluated two ways on the same events:

- iisdetect: the rule compiled by our loader, the variant's condition run by ``evaluate``;
- pySigma 2.0.1 + pysigma-backend-sqlite 2.1.1 (a side environment: their pySigma version conflicts
  with ours): the rule converted to SQL and run by SQLite over a table of the same events, with
  columns ``TEXT COLLATE NOCASE`` as Zircolite (the backend's reference consumer) builds them.

Only the condition is compared: each side sees the events the variant's log source admits (the
same filter, applied once). Variants that rename fields or derive them (Security 4688) and rules
on ``Data`` (any unnamed value) or keyword searches (rendered message) are outside the comparison,
their semantics differ by design; they are counted, not silently dropped. The assertion: identical
matched records for every compared rule; disagreements are listed by rule.

The side environment is ``<repo>/.venv-sigma2`` (made on first use with pip; skipped if that fails,
failed under CI=true). Without the corpus or the SigmaHQ data beside the repository it is skipped.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from iisdetect.engine import ir
from iisdetect.engine.evaluate import compile_node
from iisdetect.engine.ruleset import compile_rule
from iisdetect.mapping.logsources import logsource_key, logsource_table
from iisdetect.model.event import MESSAGE_FIELD, MULTI_FIELD, SYSTEM_FIELDS, Event
from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events
from tests.conftest import CORPUS
from tests.sigmahq.suite import RULE_FOLDERS, require_suite

REPO = Path(__file__).resolve().parents[2]
SIDE = REPO / ".venv-sigma2"
SIDE_PACKAGES = ("pysigma==2.0.1", "pysigma-backend-sqlite==2.1.1")
STEP = 6
SYSTEM_COLUMNS = {"EventID": "event_id", "Channel": "channel", "Provider_Name": "provider", "Computer": "computer"}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def side_python() -> Path:
    py = SIDE / "bin" / "python"
    if not py.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(SIDE)], check=True, capture_output=True, timeout=120)
            subprocess.run([str(py), "-m", "pip", "install", "-q", *SIDE_PACKAGES],
                           check=True, capture_output=True, timeout=600)  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            _unavailable(f"cannot build the pySigma 2 side environment at {SIDE}: {exc}")
    return py


@cache
def corpus_events() -> tuple[Event, ...]:
    return tuple(iter_events([str(CORPUS)], RunStats()))


def sample(root: Path) -> list[tuple[Path, ir.CompiledRule, ir.Variant]]:
    """Every STEP-th compilable rule with a variant that keeps Sigma's field names."""
    out = []
    paths = sorted(p for folder in RULE_FOLDERS for p in (root / folder).rglob("*.yml"))
    for path in paths[::STEP]:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        ls = doc.get("logsource") or {}
        specs = logsource_table().get(logsource_key(ls.get("category"), ls.get("service"), ls.get("product")) or "")
        if not specs:
            continue
        try:
            rule = compile_rule(doc, path)
        except Exception:  # not compilable: the coverage script reports those
            continue
        for spec, variant in zip(specs, rule.variants, strict=True):
            if not (spec.fields or spec.conditions or spec.source.derived):
                out.append((path, rule, variant))
                break
    return out


def admits(src: ir.Source, ev: Event) -> bool:
    chans = {c.lower() for c in src.channels}
    provs = {p.lower() for p in src.providers}
    return (ev.channel.lower() in chans or ev.provider.lower() in provs) and (
        not src.event_ids or ev.event_id in src.event_ids
    )


def _regexp(pattern: str, value: object) -> bool:
    return value is not None and re.search(pattern, str(value)) is not None


def table(events: list[Event], fields: set[str]) -> sqlite3.Connection:
    """The events as one SQLite table ``logs`` (rowid = index + 1), a column per field name.

    SQLite column names are case-insensitive: names differing only in case share a column.
    """
    names: dict[str, str] = {}
    for name in [*SYSTEM_COLUMNS, *sorted(fields), *(k for ev in events for k in ev.data)]:
        names.setdefault(name.lower(), name)
    columns = list(names.values())
    db = sqlite3.connect(":memory:")
    db.create_function("regexp", 2, _regexp, deterministic=True)
    quoted = ", ".join('"' + c.replace('"', '""') + '" TEXT COLLATE NOCASE' for c in columns)
    db.execute(f"CREATE TABLE logs ({quoted})")
    rows = []
    for ev in events:
        row = {k.lower(): v for k, v in ev.data.items()}
        # System fields win (an EventData "EventID" in Security 1108 must not replace the record's)
        row.update((c.lower(), str(getattr(ev, a))) for c, a in SYSTEM_COLUMNS.items())
        rows.append(tuple(row.get(c.lower()) for c in columns))
    db.executemany(f"INSERT INTO logs VALUES ({', '.join('?' * len(columns))})", rows)
    return db


def run_sql(db: sqlite3.Connection, sql: str) -> set[int]:
    """Rows (event indexes) SQLite returns for pySigma's ``SELECT * FROM logs WHERE ...``."""
    return {r[0] - 1 for r in db.execute(sql.replace("SELECT *", "SELECT rowid", 1))}


@pytest.mark.corpus
def test_engine_agrees_with_pysigma_sqlite_backend() -> None:
    root = require_suite()
    if not CORPUS.is_dir():
        pytest.skip(f"real-data corpus not found at {CORPUS}")
    py = side_python()
    picked = sample(root)
    assert len(picked) > 300
    proc = subprocess.run([str(py), str(Path(__file__).with_name("sigma2_convert.py"))],
                          input=json.dumps([str(p) for p, _, _ in picked]), capture_output=True, text=True,
                          check=True, timeout=600)  # fmt: skip
    converted = json.loads(proc.stdout)
    events = corpus_events()
    fields_by_source: dict[ir.Source, set[str]] = {}
    for _, rule, variant in picked:
        fields_by_source.setdefault(variant.source, set()).update(rule.fields())
    dbs: dict[ir.Source, tuple[list[Event], sqlite3.Connection]] = {}
    compared = matched_rules = 0
    excluded: list[str] = []
    disagreements: list[str] = []
    for path, rule, variant in picked:
        fields = rule.fields()
        result = converted[str(path)]
        if "sql" not in result:
            excluded.append(f"{path.name}: pySigma: {result['error'][:120]}")
            continue
        if fields & {MULTI_FIELD, MESSAGE_FIELD}:
            excluded.append(f"{path.name}: names Data/Message (multi-value / rendered message semantics)")
            continue
        if variant.source not in dbs:
            pool = [ev for ev in events if admits(variant.source, ev)]
            dbs[variant.source] = (pool, table(pool, fields_by_source[variant.source] - set(SYSTEM_FIELDS)))
        pool, db = dbs[variant.source]
        pred = compile_node(variant.condition)
        ours = {i for i, ev in enumerate(pool) if pred(ev)}
        theirs = run_sql(db, result["sql"])
        compared += 1
        matched_rules += bool(ours)
        if ours != theirs:
            only_ours = [pool[i].locator for i in sorted(ours - theirs)[:3]]
            only_theirs = [pool[i].locator for i in sorted(theirs - ours)[:3]]
            disagreements.append(
                f"{path.name}: iisdetect {len(ours)}, pySigma {len(theirs)}; "
                f"only iisdetect {only_ours}, only pySigma {only_theirs}"
            )
    print(f"\ncompared {compared} rules ({matched_rules} matched something), excluded {len(excluded)}")
    print("\n".join(excluded))
    assert compared > 250
    assert not disagreements, "\n".join(disagreements)
