"""The examples in docs/output-formats.md are real outputs: each marked block validates against its schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.report.schema_util import errors

DOC = Path(__file__).resolve().parents[2] / "docs" / "output-formats.md"
BLOCK = re.compile(r"<!-- schema: ([\w.-]+) -->\n```json\n(.*?)\n```", re.S)


def test_every_marked_example_validates() -> None:
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert {name for name, _ in blocks} == {"alert", "ndjson-record", "timesketch", "navigator-layer-4.5"}
    for name, body in blocks:
        assert errors(name, json.loads(body)) == [], name


def test_documented_csv_header_is_the_real_one() -> None:
    from iisdetect.report.hunt_output import CSV_COLUMNS

    text = DOC.read_text(encoding="utf-8")
    assert ",".join(CSV_COLUMNS) in text
