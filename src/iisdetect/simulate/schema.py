"""Scenario files: load, validate and explain mistakes by file and key.

Why hand-written validation (not a JSON-Schema dependency): users write these files; an error must
say ``rgdoor.yaml: steps[3].expect.iis: unknown detection type 'IIS_Foo'`` and list what is allowed,
and the rules about ground truth (a malicious event either expects a detection or documents the
miss) are cross-field checks no generic schema expresses. The schema is documented in
docs/scenarios.md; keep both in step.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from iisdetect.errors import IisdetectError
from iisdetect.model.times import to_datetime
from iisdetect.simulate.model import RULESETS


#: Detection types each ruleset can report (ground truth may only name these).
@functools.cache
def detection_types(ruleset: str) -> frozenset[str]:
    """The detection types a built-in ruleset's rule files declare (read from the rules, never listed here)."""
    from iisdetect.engine.ruleset import ruleset_detection_types

    return frozenset(ruleset_detection_types(ruleset))


#: action -> (required keys, optional keys) beyond the common step keys.
ACTIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "process_start": (frozenset({"process"}), frozenset({"logs"})),
    "image_load": (frozenset({"process", "image"}), frozenset()),
    "file_create": (frozenset({"process", "target"}), frozenset()),
    "registry_set": (frozenset({"process", "target_object", "details"}), frozenset()),
    "file_access": (frozenset({"process", "object"}), frozenset({"access_mask"})),
    "script_block": (frozenset({"process", "text"}), frozenset({"path", "warning", "edition"})),
    "config_change": (
        frozenset({"process"}),
        frozenset({"section", "name", "attributes", "op", "location", "config_path", "physical_path", "edits"}),
    ),
    "module_load_failed": (frozenset({"process", "dll"}), frozenset({"event_id"})),
}
#: W3SVC-WP load failures the simulator writes (simulate/application.py)
LOAD_FAILURE_IDS = frozenset({2214, 2280, 2282, 2295})
STEP_COMMON = frozenset(
    {"id", "at", "action", "malicious", "expect", "expect_events", "known_fp", "known_miss", "note"}
)
PROCESS_KEYS = frozenset(
    {
        "image", "command_line", "user", "sid", "logon_id", "pid", "parent", "integrity", "cwd",
        "started", "file_version", "description", "product", "company", "original_file_name",
    }
)  # fmt: skip
TOP_KEYS = frozenset(
    {"schema", "id", "kind", "title", "description", "references", "host", "start", "processes", "steps"}
)
IMAGE_KEYS = frozenset(
    {
        "path", "signed", "signature", "status", "file_version", "description", "product",
        "company", "original_file_name", "variant",
    }
)  # fmt: skip


class ScenarioError(IisdetectError):
    """A scenario file is malformed; the message names the file and the key."""


@dataclass(slots=True)
class Step:
    id: str
    at: float
    action: str
    args: dict[str, Any]
    malicious: bool
    expect: dict[str, tuple[str, ...]]
    expect_events: tuple[int, ...] | None
    known_fp: dict[str, tuple[str, ...]]
    known_miss: dict[str, str]


@dataclass(slots=True)
class Scenario:
    id: str
    kind: str
    title: str
    description: str
    host: str
    start: datetime
    processes: dict[str, dict[str, Any]]
    steps: list[Step]
    references: list[str] = field(default_factory=list)
    path: str = ""

    @property
    def malicious_steps(self) -> list[Step]:
        return [s for s in self.steps if s.malicious]


def _fail(where: str, key: str, message: str) -> ScenarioError:
    return ScenarioError(f"{where}: {key}: {message}")


def _require_map(value: Any, where: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, key, f"must be a mapping, got {type(value).__name__}")
    return value


def _unknown(keys: set[str], allowed: frozenset[str], where: str, key: str) -> None:
    extra = sorted(keys - allowed)
    if extra:
        raise _fail(where, key, f"unknown key(s) {extra}; allowed: {sorted(allowed)}")


def _types(value: Any, ruleset: str, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, key, "must be a list of detection type names")
    bad = [v for v in value if v not in detection_types(ruleset)]
    if bad:
        allowed = sorted(detection_types(ruleset))
        raise _fail(where, key, f"unknown detection type(s) {bad} for ruleset '{ruleset}'; allowed: {allowed}")
    return tuple(value)


def _per_ruleset(value: Any, where: str, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    mapping = _require_map(value, where, key)
    _unknown(set(mapping), frozenset(RULESETS), where, key)
    return mapping


def _parse_step(raw: Any, index: int, where: str, processes: dict[str, Any], prev_at: float) -> Step:
    key = f"steps[{index}]"
    raw = _require_map(raw, where, key)
    for required in ("id", "action"):
        if required not in raw:
            raise _fail(where, f"{key}.{required}", "missing")
    action = raw["action"]
    if action not in ACTIONS:
        raise _fail(where, f"{key}.action", f"unknown action {action!r}; one of {sorted(ACTIONS)}")
    required, optional = ACTIONS[action]
    _unknown(set(raw), STEP_COMMON | required | optional, where, key)
    for name in sorted(required - set(raw)):
        raise _fail(where, f"{key}.{name}", f"missing (required for action '{action}')")
    if raw["process"] not in processes:
        raise _fail(where, f"{key}.process", f"unknown process alias {raw['process']!r}; define it under processes")
    if action == "config_change" and "edits" not in raw and not {"section", "name", "attributes"} <= set(raw):
        raise _fail(where, key, "config_change needs either 'edits' or 'section', 'name' and 'attributes'")
    at = raw.get("at", prev_at + 1.0)
    if not isinstance(at, int | float) or at < prev_at:
        raise _fail(where, f"{key}.at", f"must be a number of seconds >= the previous step's ({prev_at})")
    malicious = raw.get("malicious", False)
    if not isinstance(malicious, bool):
        raise _fail(where, f"{key}.malicious", "must be true or false")
    expect = {
        rs: _types(v, rs, where, f"{key}.expect.{rs}")
        for rs, v in _per_ruleset(raw.get("expect"), where, f"{key}.expect").items()
    }
    known_fp = {
        rs: _types(v, rs, where, f"{key}.known_fp.{rs}")
        for rs, v in _per_ruleset(raw.get("known_fp"), where, f"{key}.known_fp").items()
    }
    known_miss = {rs: str(v) for rs, v in _per_ruleset(raw.get("known_miss"), where, f"{key}.known_miss").items()}
    if not malicious and any(expect.values()):
        raise _fail(where, f"{key}.expect", "a benign step expects nothing; use known_fp for accepted false positives")
    if malicious and known_fp:
        raise _fail(where, f"{key}.known_fp", "only benign steps have false positives")
    if malicious:
        if not expect.get("iis") and not known_miss.get("iis"):  # a documented miss: a report, not an alert
            raise _fail(where, f"{key}.expect.iis", "a malicious step must expect at least one detection type")
        for rs in RULESETS:
            if not expect.get(rs) and not known_miss.get(rs):
                raise _fail(
                    where, f"{key}.known_miss.{rs}", f"malicious step expects nothing under '{rs}': document why"
                )
    ee = raw.get("expect_events")
    if ee is not None and (not isinstance(ee, list) or not all(isinstance(i, int) and i >= 0 for i in ee)):
        raise _fail(where, f"{key}.expect_events", "must be a list of event indexes (0-based)")
    args = {k: v for k, v in raw.items() if k not in STEP_COMMON}
    if action == "module_load_failed" and args.get("event_id", 2280) not in LOAD_FAILURE_IDS:
        raise _fail(where, f"{key}.event_id", f"must be one of {sorted(LOAD_FAILURE_IDS)}")
    if action == "script_block" and args.get("edition", "desktop") not in ("desktop", "core"):
        raise _fail(where, f"{key}.edition", "must be 'desktop' (Windows PowerShell 5.1) or 'core' (PowerShell 7)")
    if action == "image_load":
        image = args["image"]
        if isinstance(image, str):
            args["image"] = {"path": image}
        else:
            _unknown(set(_require_map(image, where, f"{key}.image")), IMAGE_KEYS, where, f"{key}.image")
            if "path" not in image:
                raise _fail(where, f"{key}.image.path", "missing")
    return Step(str(raw["id"]), float(at), action, args, malicious, expect,
                tuple(ee) if ee is not None else None, known_fp, known_miss)  # fmt: skip


def _parse_time(value: Any, where: str) -> datetime:
    return to_datetime(value, f"{where}: start", ScenarioError)


def parse_scenario(doc: Any, where: str) -> Scenario:
    """Validate one parsed YAML document; ``where`` (the file name) prefixes every error."""
    doc = _require_map(doc, where, "(top level)")
    _unknown(set(doc), TOP_KEYS, where, "(top level)")
    for name in ("id", "kind", "title", "start", "processes", "steps"):
        if name not in doc:
            raise _fail(where, name, "missing")
    if doc.get("schema", 1) != 1:
        raise _fail(where, "schema", "only schema 1 is supported")
    if doc["kind"] not in ("attack", "benign"):
        raise _fail(where, "kind", "must be 'attack' or 'benign'")
    processes = _require_map(doc["processes"], where, "processes")
    for alias, proc in processes.items():
        proc = _require_map(proc, where, f"processes.{alias}")
        _unknown(set(proc), PROCESS_KEYS, where, f"processes.{alias}")
        for name in ("image", "user"):
            if name not in proc:
                raise _fail(where, f"processes.{alias}.{name}", "missing")
        if "parent" in proc and proc["parent"] not in processes:
            raise _fail(where, f"processes.{alias}.parent", f"unknown process alias {proc['parent']!r}")
    if not isinstance(doc["steps"], list) or not doc["steps"]:
        raise _fail(where, "steps", "must be a non-empty list")
    steps: list[Step] = []
    prev = 0.0
    for i, raw in enumerate(doc["steps"]):
        step = _parse_step(raw, i, where, processes, prev)
        if any(s.id == step.id for s in steps):
            raise _fail(where, f"steps[{i}].id", f"duplicate step id {step.id!r}")
        steps.append(step)
        prev = step.at
    if doc["kind"] == "benign" and any(s.malicious for s in steps):
        raise _fail(where, "kind", "a benign scenario cannot contain malicious steps")
    return Scenario(str(doc["id"]), doc["kind"], str(doc["title"]), str(doc.get("description", "")),
                    str(doc.get("host", "WEB01.corp.local")), _parse_time(doc["start"], where),
                    processes, steps, list(doc.get("references", [])), where)  # fmt: skip


def load_file(path: Path) -> Scenario:
    """Load one scenario file; YAML syntax errors are reported with the file name too."""
    from iisdetect.model.userfiles import YamlRefused, load_text, read_text_bounded

    try:  # user scenarios too: bounded, and a non-UTF-8 file is a one-line error
        doc = load_text(read_text_bounded(path))
    except (yaml.YAMLError, YamlRefused, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path.name}: invalid YAML: {str(exc).splitlines()[0]}") from None
    except OSError as exc:
        raise ScenarioError(f"{path.name}: cannot read: {exc.strerror or exc}") from None
    scenario = parse_scenario(doc, path.name)
    if scenario.id != path.stem:
        raise _fail(path.name, "id", f"must equal the file name stem {path.stem!r}")
    scenario.path = str(path)
    return scenario
