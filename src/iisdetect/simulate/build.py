"""Turn a validated scenario into time-ordered ``SimEvent``s with ground truth attached.

Why the truth is copied from the step (never computed): ``validate`` measures the rules against
this truth, so it must not depend on them. Pids, GUIDs and thread ids come from ``--seed`` through a
private ``random.Random`` so the same seed yields byte-identical output.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from iisdetect.simulate import application, iis_config, powershell, security, sysmon
from iisdetect.simulate.model import RULESETS, Built, SimEvent, Truth, to_sim
from iisdetect.simulate.process import Process, resolve_account
from iisdetect.simulate.schema import Scenario, Step

#: Gap between consecutive records emitted by one step (EID 29 bursts, Sysmon 1 + 4688).
BURST_MS = 7


def _pid(rng: random.Random) -> int:
    return rng.randrange(600, 16000) * 4


def build_processes(scn: Scenario, seed: int) -> dict[str, Process]:
    """Instantiate every process alias once (parents first) so all events share its identity."""
    rng = random.Random(f"{seed}|{scn.id}|pids")
    starts = {s.args["process"]: s.at for s in scn.steps if s.action == "process_start"}
    out: dict[str, Process] = {}

    def make(alias: str) -> Process:
        if alias in out:
            return out[alias]
        spec: dict[str, Any] = scn.processes[alias]
        parent = make(spec["parent"]) if "parent" in spec else None
        offset = starts.get(alias, spec.get("started", -3600.0 - rng.randrange(0, 86400)))
        sid, logon = resolve_account(spec["user"], spec.get("sid"), scn.host, spec.get("logon_id"))
        default_integrity = "System" if sid in ("S-1-5-18", "S-1-5-19", "S-1-5-20") else "High"
        proc = Process(
            alias=alias,
            image=spec["image"],
            command_line=spec.get("command_line", f'"{spec["image"]}"'),
            user=spec["user"],
            pid=int(spec.get("pid", _pid(rng))),
            start=scn.start + timedelta(seconds=float(offset)),
            host=scn.host,
            seed=seed,
            parent=parent,
            integrity=spec.get("integrity", default_integrity),
            cwd=spec.get("cwd", "C:\\Windows\\system32\\"),
            user_sid=sid,
            logon_id=logon,
        )
        for key in ("file_version", "description", "product", "company", "original_file_name"):
            if key in spec:
                setattr(proc, key, str(spec[key]))
        out[alias] = proc
        return proc

    for alias in scn.processes:
        make(alias)
    return out


def _config_edits(args: dict[str, Any]) -> list[iis_config.ConfigEdit]:
    where = {}
    if "location" in args:
        where["location"] = str(args["location"])
    if "config_path" in args:
        where["config_path"] = str(args["config_path"])
    if "physical_path" in args:
        where["physical_path"] = str(args["physical_path"])
    if "edits" in args:
        return [
            iis_config.ConfigEdit(
                str(e["configuration"]), str(e.get("op", "set")), str(e.get("old", "")), str(e.get("new", "")),
                **where,
            )
            for e in args["edits"]
        ]  # fmt: skip
    attrs = {str(k): str(v) for k, v in args["attributes"].items()}
    return iis_config.element_edits(str(args["section"]), str(args["name"]), attrs, str(args.get("op", "add")), **where)


def _emit(step: Step, proc: Process, when: datetime, tid: int) -> list[Built]:
    a = step.args
    if step.action == "process_start":
        logs = a.get("logs", ["sysmon", "security"])
        out = []
        if "sysmon" in logs:
            out.append(sysmon.process_create(proc, when, tid))
        if "security" in logs:
            out.append(security.process_creation(proc, when, tid))
        return out
    if step.action == "image_load":
        img = dict(a["image"])
        img["signed"] = bool(img.get("signed", True))
        return [sysmon.image_load(proc, when, sysmon.ImageInfo(**img), tid)]
    if step.action == "file_create":
        return [sysmon.file_create(proc, when, str(a["target"]), tid)]
    if step.action == "registry_set":
        return [sysmon.registry_set(proc, when, str(a["target_object"]), str(a["details"]), tid)]
    if step.action == "file_access":
        return [security.object_access(proc, when, str(a["object"]), str(a.get("access_mask", "0x2")), tid)]
    if step.action == "script_block":
        text = str(a["text"]).rstrip("\n")
        core = a.get("edition") == "core"
        return powershell.script_block(proc, when, text, str(a.get("path", "")), tid, bool(a.get("warning")), core)
    if step.action == "config_change":
        edits = _config_edits(a)
        out = [iis_config.config_change(proc, when, e, tid) for e in edits]
        for path in dict.fromkeys(e.physical_path for e in edits):  # one commit (EID 50) per changed file
            out.append(iis_config.commit(proc, next(e for e in edits if e.physical_path == path), tid))
        return out
    if step.action == "module_load_failed":
        return [application.module_load_failed(proc, when, str(a["dll"]), tid, int(a.get("event_id", 2280)))]
    raise AssertionError(step.action)  # schema validation rejects unknown actions


def _truth(scn: Scenario, step: Step, index: int, total: int, commit: bool = False) -> Truth:
    """Ground truth of record ``index`` of a step. ``expect_events`` picks the records that must fire
    (malicious) or that carry the declared known FPs (benign); the others may fire them. The EID 50
    commit record of a configuration change is never required to fire."""
    key = f"{scn.id}/{step.id}" + (f"#{index}" if total > 1 else "")
    required = not commit and (step.expect_events is None or index in step.expect_events)
    expect = {rs: step.expect.get(rs, ()) for rs in RULESETS} if required else {}
    known_fp = dict(step.known_fp) if required else {}
    allow = {} if required else {rs: step.expect.get(rs, ()) + step.known_fp.get(rs, ()) for rs in RULESETS}
    return Truth(key, scn.id, step.id, step.malicious, expect, known_fp, dict(step.known_miss), allow=allow,
                 scored=not commit)  # fmt: skip


def scenario_events(scn: Scenario, seed: int) -> list[SimEvent]:
    """All events of one scenario, in time order, without record ids (see ``sequence``)."""
    procs = build_processes(scn, seed)
    rng = random.Random(f"{seed}|{scn.id}|tids")
    out: list[SimEvent] = []
    for step in scn.steps:
        proc = procs[step.args["process"]]
        base = scn.start + timedelta(seconds=step.at, milliseconds=rng.randrange(0, 400))
        built = _emit(step, proc, base, rng.randrange(1000, 9000) * 4)
        for i, b in enumerate(built):
            when = base + timedelta(milliseconds=BURST_MS * i)
            commit = step.action == "config_change" and b.event_id == 50
            out.append(to_sim(b, scn.host, when, _truth(scn, step, i, len(built), commit)))
    out.sort(key=lambda e: e.event.time_created)
    return out
