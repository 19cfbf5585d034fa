"""The sections of the HTML report; every value goes through :func:`iisdetect.report.html.text`.

Attributes only ever hold constants, our own counters (``inc-3``) and the package's guide ids and https
source URLs; a level becomes a class name only through the fixed :data:`LEVEL_CLASS` table.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import IO, Any

import orjson

from iisdetect.guides import SECTIONS, Guide, Step, load_guides
from iisdetect.report.html import INLINE_MAX, text, text_plain
from iisdetect.report.result_doc import AlertView, RunDoc

LEVEL_CLASS = {k: f"lv-{k}" for k in ("critical", "high", "medium", "low", "informational")}
LEVEL_FILL = {"critical": "#7a0019", "high": "#c0392b", "medium": "#b9770e", "low": "#1f6f8b"}
STACK_ROWS = 200
STACK_HEAD = (
    '<table class="stack"><thead><tr><th class="num">hosts</th><th class="num">events</th><th>first .. last seen'
    "</th><th>baseline</th><th>item</th><th>detail / signer</th></tr></thead><tbody>"
)
NO_REASON = '<span class="muted">(no reason in the tuning file, or the file was not given)</span>'


def _lv(level: str) -> str:
    return f'<span class="lv {LEVEL_CLASS.get(level, "lv-other")}">{text(level, 20)}</span>'


def _guide_anchors() -> dict[str, str]:
    """Guide id -> the anchor we give it (our ids only; an id read from JSON never becomes an href)."""
    return {g.id: f"guide-{n}" for n, g in enumerate(sorted(load_guides().values(), key=lambda g: g.id))}


def accounting(doc: RunDoc, out: IO[str]) -> None:
    s = doc.summary
    seen = int(s.get("records_read") or 0) + int(s.get("records_skipped") or 0)
    out.write('<section id="accounting"><h2>Accounting</h2><table class="acct"><tbody>')
    fmts = ", ".join(f"{k} {v}" for k, v in sorted((s.get("formats") or {}).items())) or "none"
    read, ignored = int(s.get("files") or 0), int(s.get("files_ignored") or 0)
    rows = [  # the same figures as the summary line (report/summary.py files_line)
        ("files read", f"{read} ({fmts})"),
        ("files ignored (not event data)", ignored),
        (
            "of these, from containers",
            f"{s.get('files_in_containers', 0)} of {read + ignored}, from {s.get('containers', 0)} container(s)",
        ),
        ("unreadable files", s.get("files_failed", 0)),
        ("records seen", seen),
        ("records read", s.get("records_read", 0)),
        ("records skipped", s.get("records_skipped", 0)),
        ("outside the time window", s.get("filtered_by_time", 0)),
        ("alerts", len(doc.alerts())),
        ("suppressed by tuning", sum((s.get("suppressed_by_entry") or {}).values())),
    ]
    for k, v in rows:
        out.write(f"<tr><th>{text(k)}</th><td>{text(v)}</td></tr>")
    out.write("</tbody></table>")
    by_type = s.get("alerts_by_type") or {}
    if by_type:
        out.write('<h3>Alerts by type</h3><table class="bytype"><thead><tr><th>detection type</th>'
                  '<th class="num">alerts</th></tr></thead><tbody>')  # fmt: skip
        for k, v in sorted(by_type.items()):
            out.write(f'<tr><td>{text(k, 100)}</td><td class="num">{text(v)}</td></tr>')
        out.write("</tbody></table>")
    reasons = s.get("skipped_by_reason") or {}
    skips = s.get("skips") or []
    out.write(f"<h3>Skipped records ({text(s.get('records_skipped', 0))})</h3>")
    if reasons:
        out.write('<table><thead><tr><th>reason</th><th class="num">count</th></tr></thead><tbody>')
        for k, v in sorted(reasons.items(), key=lambda kv: -int(kv[1] or 0)):
            out.write(f'<tr><td>{text(k, INLINE_MAX)}</td><td class="num">{text(v)}</td></tr>')
        out.write("</tbody></table>")
    if skips:
        out.write('<table class="skips"><thead><tr><th>file</th><th>where</th><th>reason</th><th>detail</th>'
                  "</tr></thead><tbody>")  # fmt: skip
        for sk in skips:
            sk = sk if isinstance(sk, dict) else {}
            out.write(
                "<tr>"
                + "".join(f"<td>{text(sk.get(c), INLINE_MAX)}</td>" for c in ("source", "locator", "reason", "detail"))
                + "</tr>"
            )
        out.write("</tbody></table>")
        if len(skips) < int(s.get("records_skipped") or 0):
            out.write(f'<p class="muted">{len(skips)} skip locations kept; the counts above cover all.</p>')
    elif not reasons:
        out.write('<p class="muted">None: every record seen was read.</p>')
    for w in s.get("warnings") or []:
        out.write(f'<p class="flag">warning: {text(w, 1000)}</p>')
    out.write("</section>\n")


def _when(value: str) -> datetime | None:
    v = value.strip().replace(" ", "T")
    if not v:
        return None
    try:
        t = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def timeline(doc: RunDoc, out: IO[str]) -> None:
    """Incidents by host on a time axis (inline SVG; geometry from our own numbers only)."""
    spans: list[tuple[str, datetime, datetime, str, str, int]] = []
    unplaced = 0
    for n, inc in enumerate(doc.incidents):
        a, b = _when(inc.first), _when(inc.last) or _when(inc.first)
        if a is None or b is None:
            unplaced += 1
            continue
        spans.append((inc.host, a, max(a, b), inc.level, f"inc-{n}", len(inc.alerts)))
    for al in doc.loose:
        t = _when(al.time)
        if t is None:
            unplaced += 1
            continue
        spans.append((al.host, t, t, al.level, "loose", 1))
    out.write('<section id="timeline"><h2>Incidents by host</h2>')
    if not spans:
        out.write('<p class="muted">No incidents to place on a timeline.</p></section>\n')
        return
    hosts = sorted({s[0] for s in spans})
    t0, t1 = min(s[1] for s in spans), max(s[2] for s in spans)
    total = max((t1 - t0).total_seconds(), 1.0)
    left, width, row = 190, 790, 22
    height = 30 + row * len(hosts)
    out.write(f'<svg class="timeline" viewBox="0 0 1000 {height}" role="img" aria-label="incidents by host">')
    out.write(f'<text x="{left}" y="14">{text(t0.strftime("%Y-%m-%d %H:%M"))} UTC</text>')
    out.write(f'<text x="{left + width}" y="14" text-anchor="end">{text(t1.strftime("%Y-%m-%d %H:%M"))} UTC</text>')
    y_of = {h: 22 + i * row for i, h in enumerate(hosts)}
    for h, y in y_of.items():
        out.write(f'<text x="4" y="{y + 13}">{text(h, 28)}</text>')
        out.write(f'<line x1="{left}" y1="{y + 9}" x2="{left + width}" y2="{y + 9}" stroke="#d8dde3"/>')
    for host, a, b, level, anchor, count in spans:
        x = left + width * (a - t0).total_seconds() / total
        w = max(4.0, width * (b - a).total_seconds() / total)
        fill = LEVEL_FILL.get(level, "#6b7280")
        out.write(f'<a href="#{anchor}"><rect x="{x:.1f}" y="{y_of[host] + 2}" width="{w:.1f}" height="14" '
                  f'fill="{fill}" rx="2"><title>{text(host, 100)}: {count} alert(s) {text(level, 20)} '
                  f"{text(a.isoformat())}</title></rect></a>")  # fmt: skip
    out.write("</svg>")
    if unplaced:
        out.write(
            f'<p class="muted">{unplaced} incident(s) or alert(s) without a usable time are listed below only.</p>'
        )
    out.write("</section>\n")


def _alert(a: AlertView, anchors: dict[str, str], events: list[dict[str, Any]]) -> None:
    """Record one alert in ``events``: its summary line (``s``), details rows (``r``), guide anchor and event.

    Alerts live in the page's JSON data block and the script builds them, as text, when their incident
    (or group) is opened: keeping 10,000 alerts and their events out of the initial DOM is what lets a
    large report open fast. Strings are truncated and made visible-safe here and only ever set as
    ``textContent``; the level becomes a class only through the fixed table.
    """
    rows = [
        ("rule", f"{a.rule_title[:INLINE_MAX]}  [{a.rule_id[:80]}]"),
        ("detection type", a.detection_type[:100]),
        ("host", a.host[:INLINE_MAX]),
        ("found at", f"{a.source[:INLINE_MAX]} @ {a.record[:80]}"),
        ("guide", (a.guide or "none")[:100]),
    ]
    if a.notes:
        rows.append(("notes", a.notes[:2000]))
    if a.suppressed_by:
        rows.append(("suppressed by", a.suppressed_by[:INLINE_MAX]))
    anchor_of_guide = anchors.get(a.guide or "")
    evidence = (
        a.evidence
        if len(a.evidence) <= INLINE_MAX
        else f"{a.evidence[:INLINE_MAX]} \u2026 [+{len(a.evidence) - INLINE_MAX} chars]"
    )
    events.append(
        {
            "s": [text_plain(v) for v in (a.time[:40], a.level[:20], a.event_id[:8], a.detection_type[:80], evidence)],
            "l": LEVEL_CLASS.get(a.level, "lv-other"),
            "r": [[k, text_plain(v)] for k, v in rows],
            "g": int(anchor_of_guide.rsplit("-", 1)[1]) if anchor_of_guide else None,
            "f": a.full_event,
            "e": _jsonable(a.event),
        }
    )


def _group(alerts: list[AlertView], anchors: dict[str, str], events: list[dict[str, Any]]) -> str:
    """The placeholder a group's alerts are built into: ``data-group="start end"`` indexes the data block."""
    start = len(events)
    for a in alerts:
        _alert(a, anchors, events)
    return (
        f'<div class="alerts" data-group="{start} {len(events)}"><noscript>The alerts are built by the page '
        "script; they are also in the JSON.</noscript></div>"
    )


def _jsonable(event: dict[str, Any]) -> Any:
    """The event as orjson can encode it (integers beyond 64 bits, from forged records, become strings)."""
    try:
        orjson.dumps(event, default=str)
        return event
    except TypeError:
        return json.loads(json.dumps(event, default=str), parse_int=str)


def incidents(doc: RunDoc, out: IO[str], events: list[dict[str, Any]]) -> None:
    anchors = _guide_anchors()
    out.write('<section id="incidents"><h2>Incidents and alerts</h2>')
    out.write('<div id="controls" class="controls hidden">Filter alerts: <input id="filter" type="search" '
              'placeholder="host, type, path..."> <span id="shown"></span> shown'
              '<button id="expand" type="button">expand all</button>'
              '<button id="collapse" type="button">collapse all</button></div>')  # fmt: skip
    if not doc.incidents and not doc.loose:
        out.write('<p class="muted">No alerts.</p>')
    for n, inc in enumerate(doc.incidents):
        out.write(
            f'<details class="incident" id="inc-{n}"><summary><b>{text(inc.id, 40)}</b> {_lv(inc.level)} '
            f"{text(inc.host, 100)} &middot; {text(inc.first, 40)} .. {text(inc.last, 40)} &middot; "
            f'{len(inc.alerts)} alert(s)</summary><div class="body"><p>{text(inc.summary, 2000)}</p>'
        )
        if inc.module:
            out.write(f'<p class="muted">module: {text(inc.module, INLINE_MAX)}</p>')
        out.write(_group(inc.alerts, anchors, events) + "</div></details>\n")
    if doc.loose:
        out.write(
            f'<details class="incident" id="loose"><summary><b>{len(doc.loose)} alert(s) not grouped into '
            f'incidents</b></summary><div class="body">{_group(doc.loose, anchors, events)}</div></details>\n'
        )
    out.write("</section>\n")


def suppressed(doc: RunDoc, out: IO[str], events: list[dict[str, Any]]) -> None:
    counts = Counter(doc.summary.get("suppressed_by_entry") or {})
    for a in doc.suppressed:
        counts.setdefault(a.suppressed_by, 0)
    out.write('<section id="suppressed"><h2>What tuning suppressed, and why</h2>')
    if not counts:
        out.write('<p class="muted">Tuning suppressed nothing (no tuning file, or no entry matched).</p></section>\n')
        return
    out.write('<table><thead><tr><th>tuning entry</th><th class="num">alerts</th><th>reason</th></tr></thead><tbody>')
    for name, n in sorted(counts.items()):
        reason = text(doc.reasons.get(name, ""), 1000) or NO_REASON
        out.write(f'<tr><td>{text(name, INLINE_MAX)}</td><td class="num">{text(n)}</td><td>{reason}</td></tr>')
    out.write("</tbody></table>")
    if doc.suppressed:
        anchors = _guide_anchors()
        out.write(
            f'<details class="incident" id="suppressed-alerts"><summary><b>Suppressed alerts ({len(doc.suppressed)})'
            f'</b></summary><div class="body">{_group(doc.suppressed, anchors, events)}</div></details>'
        )
    else:
        out.write(
            '<p class="muted">The suppressed alerts themselves are not in this document (hunt --show-suppressed).</p>'
        )
    out.write("</section>\n")


def stacking(stack: list[dict[str, Any]] | None, out: IO[str]) -> None:
    out.write('<section id="stack"><h2>Stacking: rarest first</h2>')
    if stack is None:
        out.write(
            '<p class="muted">Not included (iisdetect report --stack STACK.json, from iisdetect stack '
            "--format json).</p></section>\n"
        )
        return
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in stack:
        if isinstance(e, dict):
            by_kind[str(e.get("kind"))].append(e)
    for kind in ("dll_load", "registration", "config_change"):
        rows = by_kind.get(kind, [])
        out.write(f"<h3>{text(kind)} ({len(rows)})</h3>")
        if not rows:
            out.write('<p class="muted">none</p>')
            continue
        out.write(STACK_HEAD)
        for e in rows[:STACK_ROWS]:
            flag = '<span class="flag">! </span>' if e.get("flagged") else ""
            detail = " ".join(text(e.get(k), INLINE_MAX) for k in ("detail", "signer") if e.get(k))
            out.write(
                f'<tr><td class="num">{text(e.get("host_count"))}</td><td class="num">{text(e.get("events"))}</td>'
                f"<td>{text(e.get('first_seen'), 40)} .. {text(e.get('last_seen'), 40)}</td>"
                f"<td>{flag}{text(e.get('baseline'), 40)}</td>"
                f"<td>{text(e.get('item'), INLINE_MAX)}</td><td>{detail}</td></tr>"
            )
        out.write("</tbody></table>")
        if len(rows) > STACK_ROWS:
            out.write(f'<p class="muted">{len(rows) - STACK_ROWS} more in iisdetect stack output.</p>')
    out.write("</section>\n")


def _step(step: Step) -> str:
    cmds = "".join(
        f'<pre><span class="muted">{text(c.shell)}&gt;</span> {text(c.run, multiline=True)}</pre>'
        for c in step.commands
    )
    srcs = "; ".join(
        f'<a href="{text(s.url)}" rel="noreferrer noopener" target="_blank">{text(s.title)}</a> ({text(s.publisher)})'
        for s in step.sources
    )
    return (f'<div class="step"><b>{text(step.title)}</b><p class="why">{text(step.why)}</p>{cmds}'
            f'<div class="src">Sources: {srcs}</div></div>')  # fmt: skip


def _guide(g: Guide, anchor: str) -> str:
    parts = [f'<div class="guide" id="{anchor}"><h3>{text(g.detection_type)}: {text(g.title)}</h3>',
             f'<p class="muted">guide {text(g.id)}</p><p>{text(g.what)}</p>']  # fmt: skip
    names = {"investigate": "Investigation guide", "contain": "Playbook: contain", "eradicate": "Playbook: eradicate",
             "scope": "Playbook: scope (hunt the fleet)"}  # fmt: skip
    for sec in SECTIONS:
        parts.append(f"<h4>{names[sec]}</h4><ol>" + "".join(f"<li>{_step(s)}</li>" for s in g.sections[sec]) + "</ol>")
    parts.append("<h4>Tuning</h4><ul>")
    for tip in g.tuning:
        srcs = "; ".join(
            f'<a href="{text(s.url)}" rel="noreferrer noopener" target="_blank">{text(s.title)}</a>'
            for s in tip.sources
        )
        ex = f"<pre>{text(tip.example, multiline=True)}</pre>" if tip.example else ""
        parts.append(f'<li><b>{text(tip.title)}</b>: {text(tip.why)}{ex}<div class="src">Sources: {srcs}</div></li>')
    parts.append("</ul></div>")
    return "".join(parts)


def guides(doc: RunDoc, out: IO[str]) -> None:
    """The guide and playbook of every detection type in this run (placeholders left for the analyst)."""
    anchors = _guide_anchors()
    types = sorted({a.detection_type for a in doc.alerts()} | {a.detection_type for a in doc.suppressed})
    out.write('<section id="guides"><h2>Investigation guides and response playbooks</h2>'
              '<p class="muted">Commands keep &lt;Placeholders&gt;: copy the values from the alert by hand; '
              "log text is attacker-controlled and is never pasted into a command.</p>")  # fmt: skip
    all_guides = load_guides()
    missing = [t for t in types if t not in all_guides]
    for t in types:
        g = all_guides.get(t)
        if g is not None:
            out.write(_guide(g, anchors[g.id]))
    if missing:
        out.write(f'<p class="flag">No guide for: {text(", ".join(missing), 1000)}</p>')
    if not types:
        out.write('<p class="muted">No alerts, so no guides.</p>')
    out.write("</section>\n")
