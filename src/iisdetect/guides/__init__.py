"""Investigation guides and response playbooks, as data beside the rules (one YAML per detection type).

Why data: the steps an analyst runs after an alert (collect, check the signature, diff the CFGHISTORY
snapshots, uninstall, restore, rotate, hunt the fleet) change with the public guidance, not with the code.
Each guide names its ``detection_type`` (the value the rules declare), lists investigation steps, the
response playbook (contain, eradicate, scope) and tuning advice; steps shared by several guides live in
``common.yaml`` and are referenced with ``use: <id>``. Every step cites at least one public source from
``sources.yaml``; loading refuses a step that does not, so an uncited step cannot ship.

Commands keep ``<Placeholders>``: a module name or a path in a log is attacker-controlled, so it is never
substituted into a command an analyst would paste into a shell.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from iisdetect.errors import UsageError

#: the playbook's sections, in the order a responder works through them
SECTIONS: tuple[str, ...] = ("investigate", "contain", "eradicate", "scope")
SHELLS = frozenset({"cmd", "powershell", "iisdetect", "text"})


@dataclass(frozen=True)
class Source:
    id: str
    publisher: str
    title: str
    url: str


@dataclass(frozen=True)
class Command:
    shell: str
    run: str


@dataclass(frozen=True)
class Step:
    title: str
    why: str
    commands: tuple[Command, ...]
    sources: tuple[Source, ...]
    shared: str = ""  #: the common.yaml id when the step is shared


@dataclass(frozen=True)
class Tip:
    """One piece of tuning advice, with an example entry for the tuning file."""

    title: str
    why: str
    example: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Guide:
    id: str
    detection_type: str
    title: str
    what: str
    sections: dict[str, tuple[Step, ...]]
    tuning: tuple[Tip, ...]
    file: str

    def all_sources(self) -> tuple[Source, ...]:
        seen: dict[str, Source] = {}
        for steps in self.sections.values():
            for step in steps:
                seen.update((s.id, s) for s in step.sources)
        for tip in self.tuning:
            seen.update((s.id, s) for s in tip.sources)
        return tuple(seen.values())


def _read(name: str) -> Any:
    return yaml.safe_load(resources.files("iisdetect.guides").joinpath(name).read_text("utf-8"))


def _guide_files() -> list[str]:
    skip = {"common.yaml", "sources.yaml"}
    return sorted(
        p.name for p in resources.files("iisdetect.guides").iterdir() if p.name.endswith(".yaml") and p.name not in skip
    )


def _sources(raw: dict[str, Any]) -> dict[str, Source]:
    out = {}
    for sid, s in raw["sources"].items():
        url = str(s.get("url", ""))
        if not url.startswith("https://"):
            raise UsageError(f"guide source {sid}: url must be https:// ({url!r})")
        out[sid] = Source(sid, str(s["publisher"]), str(s["title"]), url)
    return out


def _cite(ids: Any, sources: dict[str, Source], where: str) -> tuple[Source, ...]:
    if not ids:
        raise UsageError(f"{where}: cites no source")
    missing = [i for i in ids if i not in sources]
    if missing:
        raise UsageError(f"{where}: unknown source id(s) {', '.join(missing)}")
    return tuple(sources[i] for i in ids)


def _step(raw: dict[str, Any], sources: dict[str, Source], where: str, shared: str = "") -> Step:
    commands = []
    for c in raw.get("commands") or []:
        if c.get("shell") not in SHELLS or not str(c.get("run", "")).strip():
            raise UsageError(f"{where}: a command needs shell ({', '.join(sorted(SHELLS))}) and run")
        commands.append(Command(str(c["shell"]), str(c["run"]).rstrip("\n")))
    if not commands:
        raise UsageError(f"{where}: a step needs at least one command")
    if not raw.get("title") or not raw.get("why"):
        raise UsageError(f"{where}: a step needs a title and a why")
    return Step(str(raw["title"]), str(raw["why"]), tuple(commands), _cite(raw.get("sources"), sources, where), shared)


@functools.cache
def load_guides() -> dict[str, Guide]:
    """Every guide, keyed by detection type; raises ``UsageError`` on an invalid or uncited step."""
    sources = _sources(_read("sources.yaml"))
    common = {sid: _step(s, sources, f"common.yaml:{sid}", sid) for sid, s in _read("common.yaml")["steps"].items()}
    guides: dict[str, Guide] = {}
    ids: set[str] = set()
    for name in _guide_files():
        raw = _read(name)
        dtype = str(raw["detection_type"])
        if dtype in guides or raw["id"] in ids:
            raise UsageError(f"{name}: duplicate guide for {dtype} or id {raw['id']}")
        sections: dict[str, tuple[Step, ...]] = {}
        for sec in SECTIONS:
            steps = []
            for i, item in enumerate(raw.get(sec) or []):
                if "use" in item:
                    if item["use"] not in common:
                        raise UsageError(f"{name}:{sec}[{i}]: unknown shared step {item['use']!r}")
                    steps.append(common[item["use"]])
                else:
                    steps.append(_step(item, sources, f"{name}:{sec}[{i}]"))
            if not steps:
                raise UsageError(f"{name}: section {sec} is empty")
            sections[sec] = tuple(steps)
        tips = tuple(
            Tip(str(t["title"]), str(t["why"]), str(t.get("example", "")), _cite(t.get("sources"), sources, name))
            for t in raw.get("tuning") or []
        )
        if not tips:
            raise UsageError(f"{name}: no tuning guidance")
        guides[dtype] = Guide(str(raw["id"]), dtype, str(raw["title"]), str(raw["what"]).strip(), sections, tips, name)
        ids.add(str(raw["id"]))
    return guides


def guide_for(detection_type: str) -> Guide | None:
    return load_guides().get(detection_type)


def guide_id(detection_type: str) -> str | None:
    """The id JSON and the table print for an alert type (None when no guide covers it)."""
    g = guide_for(detection_type)
    return g.id if g else None
