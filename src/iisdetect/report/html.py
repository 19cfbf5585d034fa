"""One self-contained, offline HTML investigation report (``hunt --format html``, ``iisdetect report``).

Safety model, because every log value is attacker-controlled:

- Every value reaches the page through :func:`text`: control characters (ANSI/terminal escapes) and
  Unicode bidi overrides are made visible (``\\x1b``, ``\\u202e``) and the result is HTML-escaped. Values
  are only ever element *content*; attributes, URLs and styles are built from constants, our own counters
  and the guide sources shipped in the package (https links), never from log text.
- The page carries a strict Content-Security-Policy in a ``<meta>`` tag: ``default-src 'none'``, the one
  inline style and the one inline script allowed by their SHA-256 hashes. Even a value that escaped the
  escaping could not run script or load anything; there is no network access at all (no CDN, no fonts).
- Long values are truncated on summary lines and kept whole in the collapsible event, whose box scrolls.

The sections (accounting, timeline, incidents, suppressed, stacking, guides) are in :mod:`.html_sections`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
from importlib import resources
from typing import IO, Any

import orjson

from iisdetect import __version__
from iisdetect.report.result_doc import RunDoc, from_dict

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_CONTROL_NL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
INLINE_MAX = 300
_RUN = re.compile(r"\S{40}(?=\S)")


def _visible(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def text(value: Any, limit: int = 0, multiline: bool = False) -> str:
    """A value as safe element content: invisible/bidi characters shown, HTML-escaped, optionally truncated."""
    s = "" if value is None else str(value)
    more = ""
    if limit and len(s) > limit:
        more = f" \u2026 [+{len(s) - limit} chars]"
        s = s[:limit]
    s = (_CONTROL if multiline else _CONTROL_NL).sub(_visible, s)
    if multiline:
        return html.escape(s, quote=True) + more
    # break opportunities in long unbroken runs: Chromium's line breaking of many long words inside
    # tables took minutes (measured on 1 MB fields); <wbr> keeps the text identical when copied
    s = _RUN.sub(lambda m: m.group() + "\0", s)
    return html.escape(s, quote=True).replace("\0", "<wbr>") + more


def text_plain(value: str) -> str:
    """Multi-line text made visible-safe (controls, bidi) but not HTML-escaped: for ``textContent`` only."""
    return _CONTROL.sub(_visible, value)


def data_block(items: list[Any]) -> str:
    """A JSON array inside ``<script type="application/json">`` (never executed): ``<``, ``>`` and ``&``
    are written as ``\\u003c``-style escapes, so no value can close the element or open another."""
    raw = orjson.dumps(items, default=str).decode()
    raw = raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    # invisible and bidi characters (only ever inside JSON strings) as \\uXXXX: none reaches the page raw
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", raw)


def asset(name: str) -> str:
    return resources.files("iisdetect.report").joinpath("assets", name).read_text("utf-8")


def csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode() + "'"


def content_security_policy(css: str, js: str) -> str:
    return (
        f"default-src 'none'; style-src {csp_hash(css)}; script-src {csp_hash(js)}; img-src 'none'; "
        "font-src 'none'; connect-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


def render_html(doc: RunDoc, out: IO[str], stack: list[dict[str, Any]] | None = None, title: str = "") -> None:
    """Write the whole report for ``doc`` (and the stacking entries, when given) to ``out``."""
    from iisdetect.report import html_sections as sec

    css, js = asset("report.css"), asset("report.js")
    alerts = doc.alerts()
    heading = title or "iisdetect investigation report"
    out.write(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy(css, js)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{text(heading, 200)}</title>\n<style>{css}</style></head><body>\n"
    )
    out.write(
        f'<header><h1>{text(heading, 200)}</h1><div class="muted">'
        f'<span id="n-incidents">{len(doc.incidents)}</span> incident(s) &middot; '
        f'<span id="n-alerts">{len(alerts)}</span> alert(s) &middot; '
        f'<span id="n-suppressed">{len(doc.suppressed)}</span> suppressed by tuning'
        + f" &middot; hunt by iisdetect {text(doc.summary.get('version') or '?', 40)}, report by {text(__version__)}"
        + "</div></header>\n"
    )
    out.write(
        '<nav><a href="#accounting">Accounting</a><a href="#timeline">Timeline</a><a href="#incidents">Incidents'
        '</a><a href="#suppressed">Tuning</a><a href="#stack">Stacking</a><a href="#guides">Guides</a></nav>\n'
    )
    sec.accounting(doc, out)
    sec.timeline(doc, out)
    events: list[dict[str, Any]] = []
    sec.incidents(doc, out, events)
    sec.suppressed(doc, out, events)
    sec.stacking(stack, out)
    sec.guides(doc, out)
    out.write(f'<script type="application/json" id="events">{data_block(events)}</script>\n')
    out.write(f"<script>{js}</script>\n</body></html>\n")


def render_hunt_html(result: Any, args: Any, out: IO[str]) -> None:
    """``hunt --format html``: the JSON document of this run (with the full events) rendered as the report.

    The run goes through the same JSON document ``--format json`` writes and the same adapter
    ``iisdetect report`` reads, so the two reports cannot differ; events are attached from the run
    itself when the document does not carry them yet. Stacking reads the inputs once more (not stdin).
    """
    import orjson

    from iisdetect.report.hunt_output import render_json
    from iisdetect.report.summary import summary_dict

    buf = io.StringIO()
    render_json(result.alerts, result.incidents, summary_dict(result.stats), buf, result.suppressed)
    raw = orjson.loads(buf.getvalue())
    _attach_events(raw, result)
    reasons = tuning_reasons(getattr(args, "tuning", None))
    stack = None
    paths = list(getattr(args, "paths", []) or [])
    if paths and "-" not in paths:
        from iisdetect.hunting.stack import stack_events
        from iisdetect.model.stats import RunStats
        from iisdetect.readers import iter_events

        stack = [e.to_dict() for e in stack_events(iter_events(paths, RunStats()))]
    render_html(from_dict(raw, reasons), out, stack)


def _attach_events(raw: dict[str, Any], result: Any) -> None:
    """Give each alert row of the document its whole event (same order as render_json wrote them)."""
    rows = [r for inc in raw.get("incidents", []) for r in inc.get("alerts", [])] + raw.get("alerts", [])
    alerts = [a for inc in result.incidents for a in inc.alerts] if result.incidents else list(result.alerts)
    pairs = list(zip(rows, alerts, strict=False)) + list(
        zip(raw.get("suppressed", []), [a for a, _ in result.suppressed], strict=False)
    )
    for row, alert in pairs:
        row.setdefault("event", alert.event.to_dict())


def tuning_reasons(path: Any) -> dict[str, str]:
    """Tuning entry name -> its ``reason`` text, to say why tuning suppressed what it did."""
    if not path:
        return {}
    from iisdetect.tuning.entries import load_tuning

    return {e.name: e.reason for e in load_tuning(path).entries if e.reason}
