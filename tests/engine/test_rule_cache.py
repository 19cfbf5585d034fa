"""The compiled-rules cache returns what compiling returns, and recompiles when an input changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from iisdetect.engine import rule_cache
from iisdetect.engine.ruleset import load_rules

RULE = """title: Cache probe
id: 6f1d2c1e-0000-4000-8000-00000000c0de
status: test
logsource: {product: windows, category: process_creation}
detection:
  sel: {CommandLine|contains: '%s', Image|endswith: '\\\\w3wp.exe'}
  glob: {CommandLine: 'a*b?c'}
  condition: sel or glob
level: high
detection_type: IIS_Test
correlation_role: none
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IISDETECT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("IISDETECT_NO_CACHE", raising=False)
    return tmp_path / "cache"


def test_hit_equals_compile_and_edit_invalidates(tmp_path: Path, cache: Path) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text(RULE % "appcmd")
    first = rule_cache.load_rules_cached(None, [str(rule)])
    assert first.rules == load_rules(None, [str(rule)]).rules
    (entry,) = cache.iterdir()
    assert oct(entry.stat().st_mode & 0o777) == "0o600"
    again = rule_cache.load_rules_cached(None, [str(rule)])
    assert again.rules == first.rules  # wildcards (ir.STAR/ONE) keep their identity through the pickle
    assert again.rules[0] is not first.rules[0]  # read back from the file, not a memo
    mtime = rule.stat().st_mtime_ns
    rule.write_text(RULE % "gacutil")
    os.utime(rule, ns=(mtime, mtime))  # same size, same time: the content still tells them apart
    changed = rule_cache.load_rules_cached(None, [str(rule)])
    assert "gacutil" in repr(changed.rules[0].variants) and "appcmd" not in repr(changed.rules[0].variants)


def test_foreign_writable_entry_is_not_loaded(tmp_path: Path, cache: Path) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text(RULE % "appcmd")
    rule_cache.load_rules_cached(None, [str(rule)])
    (entry,) = cache.iterdir()
    entry.write_bytes(b"not a pickle")
    entry.chmod(0o666)  # writable by others: never unpickled, compiled instead
    assert rule_cache.load_rules_cached(None, [str(rule)]).rules == load_rules(None, [str(rule)]).rules


def test_missing_rule_path_is_the_loaders_error(cache: Path) -> None:
    from iisdetect.errors import UsageError

    with pytest.raises(UsageError, match="rule path not found"):
        rule_cache.load_rules_cached(None, ["/nonexistent/rule.yml"])
