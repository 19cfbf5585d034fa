"""The committed examples are what examples/regenerate.sh produces, and they hit the seed's three
patterns (the README's first command must show every seed branch firing, next to benign events)."""

from __future__ import annotations

import shlex
from pathlib import Path

from iisdetect.cli import main
from iisdetect.engine.detector import Detector
from iisdetect.engine.ruleset import load_ruleset
from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _commands() -> list[list[str]]:
    text = (EXAMPLES / "regenerate.sh").read_text(encoding="utf-8").replace("\\\n", " ")
    return [shlex.split(line)[1:] for line in text.splitlines() if line.startswith("iisdetect simulate")]


def test_examples_are_up_to_date(tmp_path: Path) -> None:
    commands = _commands()
    assert len(commands) == 3
    for argv in commands:
        argv[argv.index("-o") + 1] = str(tmp_path)
        assert main(argv) == 0
    produced = sorted(p.name for p in tmp_path.iterdir())
    assert len(produced) == 3
    for name in produced:
        committed = EXAMPLES / name
        assert committed.read_bytes() == (tmp_path / name).read_bytes(), f"{name}: run sh examples/regenerate.sh"


def test_examples_cover_formats_and_every_seed_pattern() -> None:
    stats = RunStats()
    files = [str(p) for p in sorted(EXAMPLES.iterdir()) if p.suffix in (".jsonl", ".xml")]
    events = list(iter_events(files, stats))
    assert stats.records_skipped == 0
    assert {"evtx-json", "xml", "ecs"} <= {str(getattr(k, "value", k)) for k in stats.formats}
    assert sum(p.stat().st_size for p in EXAMPLES.iterdir()) < 400_000
    detector = Detector(load_ruleset("seed"))
    fired = {r.detection_type for e in events for r in detector.match(e)}
    assert fired == {"IIS_Component_Registration", "IIS_Dir_DLL_Write", "IIS_Non_Standard_Module_Load"}
    quiet = [e for e in events if not detector.match(e)]
    assert len(quiet) > len(events) // 2  # mostly benign events
