"""Benchmark the HTML investigation report: build an N-alert report and time its opening in Chromium.

    python bench/bench_report.py [N=10000] [--chromium /usr/bin/chromium] [--runs 3]

Alerts: the bundled examples' real hunt (``hunt examples/`` with the whole events attached, as
``hunt --format html`` does) cycled until N alerts, each cycle on its own host names and a later day, so
incidents, timeline rows and values vary. The page is written to bench/data/report-N.html (ignored by git).

"Open time" is measured in Debian's headless Chromium (driven by Playwright, no browser download): from
``page.goto`` of the file until the ``load`` event has fired and a forced layout of the whole document
(``document.body.offsetHeight``) has returned, i.e. the report is parsed, styled, laid out and its script
has run. Prints the Python render time, the file size and the open time of each run (goal: under 3 s).
"""

from __future__ import annotations

import argparse
import copy
import io
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def base_doc() -> dict:
    from iisdetect.hunting.run import HuntOptions, hunt
    from iisdetect.report.html import _attach_events
    from iisdetect.report.hunt_output import render_json
    from iisdetect.report.summary import summary_dict

    result = hunt(HuntOptions(paths=[str(ROOT / "examples")]))
    buf = io.StringIO()
    render_json(result.alerts, result.incidents, summary_dict(result.stats), buf, result.suppressed)
    doc = orjson.loads(buf.getvalue())
    _attach_events(doc, result)
    return doc


def scaled(doc: dict, n: int) -> dict:
    """The base incidents (and their alerts) cycled until ``n`` alerts; cycle k renames hosts
    ``<host>-k`` and shifts the day. The JSON shape: top-level ``alerts`` carry their incident id."""
    by_incident: dict[str, list[dict]] = {}
    for a in doc["alerts"]:
        by_incident.setdefault(a.get("incident") or "", []).append(a)
    incidents: list[dict] = []
    alerts: list[dict] = []
    k = 0
    while len(alerts) < n:
        for inc in doc["incidents"]:
            if len(alerts) >= n:
                break
            c = copy.deepcopy(inc)
            members = copy.deepcopy(by_incident.get(inc["incident"], []))[: n - len(alerts)]
            c["incident"] = f"INC-{len(incidents) + 1:05d}"
            c["host"] = f"{inc['host']}-{k}"
            c["alert_count"] = len(members)
            for a in members:
                a["Computer"] = c["host"]
                a["incident"] = c["incident"]
                a["event_time"] = f"2024-{5 + (k // 28) % 7:02d}-{1 + k % 28:02d}{a['event_time'][10:]}"
            alerts.extend(members)
            incidents.append(c)
        k += 1
    out = dict(doc)
    out["incidents"], out["alerts"] = incidents, alerts
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=10_000)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from iisdetect.report.html import render_html
    from iisdetect.report.result_doc import from_dict

    doc = scaled(base_doc(), args.n)
    alerts = len(doc["alerts"])
    out = ROOT / "bench" / "data" / f"report-{args.n}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    with out.open("w", encoding="utf-8") as fh:
        render_html(from_dict(doc), fh)
    render_s = time.perf_counter() - t
    print(f"alerts {alerts}, incidents {len(doc['incidents'])}; render {render_s:.2f} s; "
          f"file {out.stat().st_size / 1e6:.1f} MB -> {out}")  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
        times = []
        for run in range(args.runs):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
            t = time.perf_counter()
            page.goto(out.as_uri(), wait_until="load", timeout=120_000)
            page.evaluate("document.body.offsetHeight")
            times.append(time.perf_counter() - t)
            shown = page.inner_text("#n-alerts")
            print(f"run {run + 1}: open {times[-1]:.2f} s (alerts shown {shown}, console errors {len(errors)})")
            page.close()
        browser.close()
    print(f"open time: best {min(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f} s (goal < 3 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
