"""The HTML report in a real browser: Debian's headless Chromium driven by Playwright (no browser download).

Skipped when chromium or playwright is missing locally; under CI=true a missing browser fails (.ci/run
installs it). Checks: the example report renders with no console error and no network request, its
incident and alert counts equal the JSON's, every section is there; hostile fields run no script and
break no layout.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from iisdetect.cli import main
from iisdetect.report.html import render_html
from iisdetect.report.result_doc import from_dict
from tests.report.hostile import hostile_doc

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("IISDETECT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
SECTIONS = ("accounting", "timeline", "incidents", "suppressed", "stack", "guides")
HOSTILE_INPUTS = ROOT.parent / "shared" / "hostile-inputs"


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: .ci/run must install it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _missing(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Watched:
    """A page with every console message, page error, dialog and request recorded."""

    def __init__(self, browser: object, width: int = 1280) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, path: Path) -> None:
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")


def _layout_ok(w: Watched) -> None:
    width = w.page.evaluate("window.innerWidth")
    assert w.page.evaluate("document.documentElement.scrollWidth") <= width + 1
    assert w.page.evaluate("getComputedStyle(document.body).display") != "none"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    d = tmp_path_factory.mktemp("browser")
    js, page = d / "run.json", d / "run.html"
    ex = str(ROOT / "examples")
    assert main(["hunt", ex, "--format", "json", "-o", str(js), "--no-progress"]) == 0
    assert main(["report", str(js), "-o", str(page)]) == 0
    return json.loads(js.read_text()), page


def test_example_report_renders_cleanly_with_the_json_counts(browser: object, example: tuple[dict, Path]) -> None:
    doc, page = example
    w = Watched(browser)
    w.open(page)
    assert not [m for m in w.console if m[0] in ("error", "warning")], w.console
    assert not w.errors and not w.dialogs
    assert w.requests == [page.as_uri()]  # nothing fetched: offline, no CDN
    for sec in SECTIONS:
        assert w.page.locator(f"section#{sec}").count() == 1, sec
    n_alerts = sum(1 for a in doc["alerts"] if a["incident"])
    assert w.page.locator("details.incident").count() == len(doc["incidents"])
    assert w.page.inner_text("#shown") == str(n_alerts)
    w.page.click("#expand")  # builds every alert (and its details) from the data block
    assert w.page.locator("#incidents details.alert").count() == n_alerts
    assert w.page.locator("#incidents pre.event").count() == n_alerts
    w.page.click("#collapse")
    assert w.page.inner_text("#n-incidents") == str(len(doc["incidents"]))
    assert w.page.inner_text("#n-alerts") == str(n_alerts)
    assert w.page.locator("svg.timeline rect").count() == len(doc["incidents"])
    # the script ran under the CSP: the filter is visible and works
    assert w.page.is_visible("#controls")
    first = w.page.locator("#incidents details.alert").first
    w.page.locator("details.incident").first.click()
    first.locator("summary").click()
    assert '"System"' in first.locator("pre.event").inner_text()  # the whole event (json's `event`)
    w.page.fill("#filter", "IIS_Logging_Tamper")
    tamper = sum(1 for a in doc["alerts"] if a["detection_type"] == "IIS_Logging_Tamper")
    assert w.page.inner_text("#shown") == str(tamper)
    _layout_ok(w)
    w.page.close()


def test_hostile_fields_run_no_script_and_break_no_layout(browser: object, tmp_path: Path) -> None:
    page = tmp_path / "hostile.html"
    with page.open("w", encoding="utf-8") as fh:
        render_html(from_dict(hostile_doc()), fh)
    w = Watched(browser)
    w.page.add_init_script("window.__pwned = 0;")
    w.open(page)
    w.page.click("#expand")  # open every incident and alert, the 1 MB event included
    w.page.wait_for_timeout(200)
    assert w.page.evaluate("window.__pwned") == 0
    assert not w.dialogs and not w.errors
    assert not [m for m in w.console if m[0] == "error"], w.console  # a blocked inline script would log a CSP error
    assert w.requests == [page.as_uri()]
    assert w.page.evaluate("document.querySelectorAll('script:not([type])').length") == 1
    # opening an alert shows its event (as text) from the data block
    assert "window.__pwned=1" in w.page.locator("pre.event").first.inner_text()
    assert w.page.evaluate("document.querySelectorAll('img, iframe, svg [onload], a[href^=javascript]').length") == 0
    assert w.page.title() == "iisdetect investigation report"  # the terminal title escape did nothing
    _layout_ok(w)
    # the 1 MB event box scrolls instead of growing the page without bound
    tallest = w.page.evaluate("Math.max(...[...document.querySelectorAll('pre')].map(p => p.clientHeight))")
    assert tallest < 900
    w.page.close()


def test_shared_hostile_inputs_through_hunt(browser: object, tmp_path: Path) -> None:
    inputs = sorted(HOSTILE_INPUTS.glob("injection_hostile*.evtx.jsonl"))
    if not inputs:
        pytest.skip(f"no shared hostile inputs at {HOSTILE_INPUTS}")
    page = tmp_path / "h.html"
    assert main(["hunt", *map(str, inputs), "--format", "html", "-o", str(page), "--no-progress"]) == 0
    w = Watched(browser)
    w.page.add_init_script("window.__pwned = 0;")
    w.open(page)
    w.page.click("#expand")
    assert w.page.evaluate("window.__pwned") == 0 and not w.dialogs and not w.errors
    assert not [m for m in w.console if m[0] == "error"], w.console
    assert w.requests == [page.as_uri()]
    _layout_ok(w)
    w.page.close()


def test_screenshot_renders(browser: object, example: tuple[dict, Path], tmp_path: Path) -> None:
    """The docs screenshot is produced from this same page (scripts/screenshot_report.py); here: it renders."""
    w = Watched(browser)
    w.open(example[1])
    png = w.page.screenshot(full_page=False)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    w.page.close()


def test_html_report_is_written_to_stdout_too(capsys: pytest.CaptureFixture[str]) -> None:
    buf = io.StringIO()
    render_html(from_dict({"summary": {}}), buf)
    assert "No alerts." in buf.getvalue()
