"""Finding 3 / issue 15 item 5: forged far-future times cannot move ``--last``; garbage times hide nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from iisdetect.hunting.run import HuntOptions, hunt

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "web01-appcmd-and-rgdoor.evtx.jsonl"


def _with_times(tmp_path: Path, times: dict[int, str]) -> Path:
    """The example, with the i-th line's TimeCreated replaced (a forged or a garbage time)."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for i, t in times.items():
        obj = json.loads(lines[i])
        obj["Event"]["System"]["TimeCreated"]["#attributes"]["SystemTime"] = t
        lines[i] = json.dumps(obj)
    out = tmp_path / "forged.evtx.jsonl"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _alerts(path: Path, **kw):
    return hunt(HuntOptions(paths=[str(path)], correlate_window=None, **kw))


def test_a_year_9999_event_does_not_anchor_last_and_is_said_so(tmp_path):
    base = _alerts(EXAMPLE, last=timedelta(days=30))
    assert base.alerts and base.stats.future_times == 0
    forged = base.alerts[0].event.locator  # an event that fires, now dated 9999
    path = _with_times(tmp_path, {int(forged.split()[1]) - 1: "9999-12-31T23:59:59.9999999Z"})
    res = _alerts(path, last=timedelta(days=30))
    assert res.newest_event == base.newest_event  # the anchor ignores the forged time
    assert res.stats.future_times == 1
    assert any("not used as the --last anchor" in n for n in res.notes)
    before = {(a.rule.id, a.event.locator) for a in base.alerts}
    after = {(a.rule.id, a.event.locator) for a in res.alerts}
    assert before == after  # every genuine alert kept, and the forged one shown too


def test_unparseable_times_are_counted_apart_and_still_matched(tmp_path):
    base = _alerts(EXAMPLE)
    lines = EXAMPLE.read_text().splitlines()
    firing = sorted({int(a.event.locator.split()[1]) - 1 for a in base.alerts})
    garbage = ["abc", "-1", "2024-02-30T00:00:00Z"]
    path = _with_times(tmp_path, dict(zip(firing[:3], garbage, strict=True)))
    assert len(lines) > 3
    from datetime import UTC, datetime

    for kw in ({"last": timedelta(days=1)}, {"since": datetime(2030, 1, 1, tzinfo=UTC)}):
        res = _alerts(path, **kw)
        assert res.stats.untimed == 3
        kept = {a.event.locator for a in res.alerts}
        assert {f"line {i + 1}" for i in firing[:3]} <= kept  # a garbage time hides no alert
