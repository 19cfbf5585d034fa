"""The generated tables: docs/rules.md's behaviour table (each public-source scenario, its source, the
rules that fire, the logs) and README.md's validation table (``iisdetect validate`` by detection type).

Why generated: the table claims what the default ruleset does on each scenario, so it is measured by
running the rules (seed 1, no background for the behaviours; validate's background for the scores) rather
than written by hand; ``scripts/render_behaviours.py`` rewrites both and ``tests/simulate/test_behaviours.py``
fails when a document and the rules disagree (README's figures had drifted from validate's by then).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from iisdetect.engine.detector import Detector
from iisdetect.engine.ruleset import load_ruleset
from iisdetect.simulate import load_scenarios, scenario_stream
from iisdetect.simulate.schema import Scenario

HEADER = "| behaviour (scenario) | public source | rules that fire (level) | logs needed |\n|---|---|---|---|\n"
#: how the table names a channel: the Microsoft-Windows- / Microsoft- prefix dropped, Sysmon by its product name
_SHORT = {"Microsoft-Windows-Sysmon/Operational": "Sysmon"}


def short_channel(channel: str) -> str:
    return _SHORT.get(channel, channel.removeprefix("Microsoft-Windows-").removeprefix("Microsoft-"))


def source(scn: Scenario) -> str:
    """The first reference; when that is a local one (detections.md, the seed), the first public URL too."""
    refs = scn.references
    if not refs:
        return "-"
    urls = [r for r in refs[1:] if r.startswith(("http://", "https://"))]
    return refs[0] if refs[0].startswith(("http://", "https://")) or not urls else f"{refs[0]}; {urls[0]}"


def row(scn: Scenario, detector: Detector) -> str:
    """One scenario's row: every rule that fires on any of its events, and the logs those events came from."""
    fired: dict[str, str] = {}
    logs: dict[str, set[int]] = defaultdict(set)
    for sim in scenario_stream(scn, 1):
        rules = detector.match(sim.event)
        for rule in rules:
            fired[Path(rule.path).stem] = rule.level
        if rules:
            logs[short_channel(sim.event.channel)].add(sim.event.event_id)
    rules_text = ", ".join(f"`{stem}` ({fired[stem]})" for stem in sorted(fired)) or "none"
    logs_text = "; ".join(f"{ch} {'/'.join(str(i) for i in sorted(ids))}" for ch, ids in sorted(logs.items())) or "-"
    return f"| {scn.title} (`{scn.id}`, {scn.kind}) | {source(scn)} | {rules_text} | {logs_text} |"


def render_table() -> str:
    """The whole table, attacks then benign activities, each sorted by scenario id."""
    detector = Detector(load_ruleset("iis"))
    scenarios = sorted(load_scenarios(), key=lambda s: (s.kind != "attack", s.id))
    return HEADER + "\n".join(row(s, detector) for s in scenarios) + "\n"


def current_table(doc: str, header: str = HEADER) -> str:
    """The table with this header as it stands in a document: from its header to the first blank line."""
    start = doc.index(header)
    end = doc.find("\n\n", start)
    return doc[start : end + 1 if end >= 0 else len(doc)]


def replace_table(doc: str, table: str, header: str = HEADER) -> str:
    """``doc`` with the table that has this header replaced by ``table``."""
    return doc.replace(current_table(doc, header), table, 1)


VALIDATION_HEADER = (
    "| detection type | seed TP | seed FP | seed FN | seed P | seed R | default TP | default FP | default FN "
    "| default P | default R |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
)


def _cells(counts: object | None) -> list[str]:
    if counts is None:
        return ["-"] * 5
    c = counts.as_dict()  # type: ignore[attr-defined]
    ratios = ("-" if c[k] is None else f"{c[k]:.2f}" for k in ("precision", "recall"))
    return [str(c["tp"]), str(c["fp"]), str(c["fn"]), *ratios]


def render_validation_table() -> str:
    """README's table: ``iisdetect validate`` (seed 1, background 2000) by detection type, both rulesets."""
    from iisdetect.api import validate

    report = validate("all")
    types = sorted(set(report.by_type["seed"]) | set(report.by_type["iis"]))
    rows = [
        "| " + " | ".join([t, *_cells(report.by_type["seed"].get(t)), *_cells(report.by_type["iis"].get(t))]) + " |"
        for t in types
    ]
    return VALIDATION_HEADER + "\n".join(rows) + "\n"
