"""model/userfiles.py: user YAML is bounded (alias bombs, oversized files) and fails in one line."""

from __future__ import annotations

import pytest
import yaml

from iisdetect.errors import UsageError
from iisdetect.model import userfiles
from iisdetect.model.userfiles import YamlRefused, load_documents, load_text, read_yaml


def bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_before_expansion():
    with pytest.raises(YamlRefused, match="alias bomb"):
        load_text(bomb(9))  # 9**10 nodes if expanded


def test_small_aliases_still_work():
    assert load_text("base: &b {x: 1}\nother: *b\n") == {"base": {"x": 1}, "other": {"x": 1}}
    assert load_text(bomb(3))["a3"][0][0][0] == ["x"] * 9


def test_recursive_alias_is_refused():
    with pytest.raises(YamlRefused, match="recursive"):
        load_text("a: &a [*a]\n")


def test_multi_document_and_unsafe_tags():
    assert list(load_documents("a: 1\n---\nb: 2\n")) == [{"a": 1}, {"b": 2}]
    with pytest.raises(yaml.YAMLError):
        load_text("!!python/object/apply:os.system ['true']")


def test_tuning_alias_bomb_reproducer_is_a_one_line_error(tmp_path):
    from pathlib import Path

    repro = Path(__file__).resolve().parents[3] / "shared" / "hostile-inputs" / "tuning_alias_bomb.yaml"
    if not repro.is_file():
        pytest.skip(f"reproducer not found at {repro}")
    with pytest.raises(UsageError, match="refused: expands to more than") as info:
        read_yaml(repro, "tuning file")
    assert "\n" not in str(info.value) and len(str(info.value)) < 300


def test_oversized_and_non_utf8_files(tmp_path, monkeypatch):
    monkeypatch.setattr(userfiles, "MAX_BYTES", 100)
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 200)
    with pytest.raises(UsageError, match="refused: larger than"):
        read_yaml(big, "tuning file")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"a: \xe9\n")
    with pytest.raises(UsageError, match="invalid YAML"):
        read_yaml(bad, "tuning file")
