"""The HTML report without a browser: structure, CSP hashes, escaping of hostile fields, counts, CLI."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from iisdetect.cli import main
from iisdetect.report.html import asset, render_html, text
from iisdetect.report.result_doc import from_dict
from tests.report.hostile import MB, hostile_doc

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SECTIONS = ("accounting", "timeline", "incidents", "suppressed", "stack", "guides")
CLASSES = {
    "lv", "lv-critical", "lv-high", "lv-medium", "lv-low", "lv-informational", "lv-other", "muted", "type", "ev",
    "kv", "body", "flag", "guide", "step", "why", "src", "timeline", "controls", "hidden", "incident", "alert",
    "num", "acct", "bytype", "skips", "stack", "event", "alerts",
}  # fmt: skip
MARKERS = ("pwned", "evil", "javascript", "onerror", "onload", "\u202e", "\x1b")


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.texts: dict[str, list[str]] = {"style": [], "script": [], "data": []}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))
        # the JSON data block is not code: its text is collected apart from the one executable script
        self.stack.append("data" if tag == "script" and dict(attrs).get("type") == "application/json" else tag)

    def handle_endtag(self, tag: str) -> None:
        if self.stack and self.stack[-1] in (tag, "data"):
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] in self.texts:
            self.texts[self.stack[-1]].append(data)


def render(doc: dict, stack: list | None = None) -> str:
    buf = io.StringIO()
    render_html(from_dict(doc), buf, stack)
    return buf.getvalue()


def parse(page: str) -> Page:
    p = Page()
    p.feed(page)
    return p


def _sha(s: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"


@pytest.fixture(scope="module")
def example_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rep") / "run.json"
    assert main(["hunt", str(EXAMPLES), "--format", "json", "-o", str(out), "--no-progress"]) == 0
    return out


def test_text_escapes_markup_controls_and_bidi() -> None:
    assert text('<b a="1">&') == "&lt;b a=&quot;1&quot;&gt;&amp;"
    assert text("a\x1b[31mb") == "a\\x1b[31mb"
    assert text("x\u202ey\u2066z") == "x\\u202ey\\u2066z"
    assert text("a\nb") == "a\\x0ab" and text("a\nb", multiline=True) == "a\nb"
    assert text("x" * 10, limit=4) == "xxxx \u2026 [+6 chars]"


def test_example_report_has_every_section_and_the_json_counts(example_json: Path) -> None:
    doc = json.loads(example_json.read_text())
    page = render(doc)
    p = parse(page)
    ids = {a.get("id") for _, a in p.tags}
    assert set(SECTIONS) <= ids
    n_alerts = sum(1 for a in doc["alerts"] if a["incident"])
    assert f'<span id="n-incidents">{len(doc["incidents"])}</span>' in page
    assert f'<span id="n-alerts">{n_alerts}</span>' in page
    assert sum(1 for t, a in p.tags if t == "details" and a.get("class") == "incident") == len(doc["incidents"])
    items = json.loads("".join(p.texts["data"]))  # alerts are built from the data block when opened
    assert len(items) == n_alerts
    groups = [a["data-group"] for t, a in p.tags if a.get("class") == "alerts"]
    assert [tuple(map(int, g.split())) for g in groups][-1][1] == n_alerts
    # one guide per detection type present, each with the playbook headings
    types = {a["detection_type"] for a in doc["alerts"]}
    assert sum(1 for t, a in p.tags if t == "div" and a.get("class") == "guide") == len(types)
    for heading in ("Investigation guide", "Playbook: contain", "Playbook: eradicate", "Playbook: scope", "Tuning"):
        assert heading in page


def test_csp_pins_the_inline_style_and_script_by_hash_and_allows_nothing_else(example_json: Path) -> None:
    p = parse(render(json.loads(example_json.read_text())))
    csp = next(a["content"] for t, a in p.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    style, script = "".join(p.texts["style"]), "".join(p.texts["script"])
    assert style == asset("report.css") and script == asset("report.js")
    assert f"style-src {_sha(style)};" in csp and f"script-src {_sha(script)};" in csp
    assert "default-src 'none'" in csp and "unsafe" not in csp and "http" not in csp
    # nothing is loaded: no src attribute, no stylesheet link, every href an anchor or a cited https source
    assert not [a for _, a in p.tags if "src" in a]
    assert not [t for t, _ in p.tags if t in ("link", "img", "iframe", "object", "embed")]
    assert all(a["href"].startswith(("#", "https://")) for _, a in p.tags if "href" in a)


def test_hostile_fields_stay_text_everywhere() -> None:
    page = render(hostile_doc())
    p = parse(page)
    scripts = [a for t, a in p.tags if t == "script"]
    assert len(scripts) == 2 and [a.get("type") for a in scripts] == ["application/json", None]  # ours only
    # the data block cannot be closed from inside: no "<" at all in it, and it decodes back to the values
    data = "".join(p.texts["data"])
    assert "<" not in data and ">" not in data
    shown = json.loads(data)
    blob = json.dumps(shown, ensure_ascii=False)
    assert "<script>window.__pwned=1</script>" in blob and MB in blob
    assert [t for t, _ in p.tags].count("style") == 1
    assert not [t for t, _ in p.tags if t in ("img", "iframe", "link", "object")]
    for tag, attrs in p.tags:
        assert not [k for k in attrs if k.startswith("on")], tag
        for k, v in attrs.items():
            low = (v or "").lower()
            assert not [m for m in MARKERS if m in low], (tag, k, v[:80] if v else v)
    # invisible controls never reach the page; they are shown as escapes
    assert "\x1b" not in page and "\u202e" not in page and "\u2066" not in page
    assert "\\x1b[2J" in page and "\\u202e" in page
    # markup arrives as visible text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    # the 1 MB value: truncated on summary lines, whole in the event
    assert f"[+{len(MB) - 300} chars]" in page
    # a level that is not a level never becomes a class: every class token is one of ours
    tokens = {tok for _, a in p.tags for tok in (a.get("class") or "").split()}
    assert tokens <= CLASSES, tokens - CLASSES
    assert "lv-other" in tokens  # the hostile level fell back to the neutral class


def test_guide_links_only_for_known_guide_ids() -> None:
    page = render(hostile_doc())
    # the alerts carry a hostile 'guide' id: it is shown as text, never linked
    hrefs = [a["href"] for _, a in parse(page).tags if "href" in a]
    assert not [h for h in hrefs if "pwned" in h or "javascript" in h]
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page


def test_suppressed_section_names_the_entry_and_its_reason(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    tuning = tmp_path / "tuning.yaml"  # the example tuning, with a reason on an entry that still suppresses
    entry = "  - name: developer-builds\n"
    reason = '    reason: "CHG-42: developer workstations"\n'
    tuning.write_text((EXAMPLES / "tuning.example.yaml").read_text().replace(entry, entry + reason))
    assert (
        main(["hunt", str(EXAMPLES), "--tuning", str(tuning), "--format", "html", "-o", str(out), "--no-progress"]) == 0
    )
    page = out.read_text()
    section = page[page.index('<section id="suppressed">') : page.index('<section id="stack">')]
    assert "developer-builds" in section
    assert "CHG-42: developer workstations" in section
    assert "Suppressed alerts (" in section
    # hunt --format html attaches the whole event (EventData) even though the JSON has none yet
    assert '"EventData":' in page  # inside the details data block
    stack = page[page.index('<section id="stack">') : page.index('<section id="guides">')]
    assert "dll_load" in stack and "registration" in stack


def test_report_command_and_errors(example_json: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert main(["report", str(example_json), "-o", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    bad = tmp_path / "bad.json"
    bad.write_text('{"incidents": 3, "summary": {}}')
    for args in (["report", str(tmp_path / "missing.json")], ["report", str(bad)], ["report", __file__]):
        r = subprocess.run([sys.executable, "-m", "iisdetect", *args], capture_output=True, text=True)
        assert r.returncode == 2 and r.stderr.startswith("iisdetect: error:") and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
