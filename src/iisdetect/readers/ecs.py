"""ECS JSON lines (Winlogbeat / Elastic Agent exports, ``simulate --format ecs``).

Both the nested shape (``{"winlog": {"event_data": {...}}}``) and the dotted shape Kibana/CSV
exports write (``{"winlog.event_data.Image": ...}``) are accepted: dotted keys are folded into the
nested form first. Winlogbeat already names unnamed ``<Data>`` ``param1``.., matching our XML/EVTX
choice. ``winlog.user_data`` is flattened like UserData (its ``xml_name`` key dropped).
Elasticsearch hits (``{"_index": .., "_source": {...}}``) are unwrapped.
Time: ``winlog.time_created`` when present, else ``@timestamp`` (Winlogbeat sets it to TimeCreated).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from iisdetect.model.event import Event, message_text, stringify
from iisdetect.model.stats import RunStats
from iisdetect.model.times import normalise_time

from .evtx_json import _flatten
from .json_loop import read_json


def _nest(obj: dict) -> dict:
    """Fold dotted keys (``winlog.event_data.X``) into nested dicts; EventData names keep their dots."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if "." not in key:
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key].update(value)
            else:
                out[key] = value
            continue
        parts = key.split(".")
        if parts[:2] in (["winlog", "event_data"], ["winlog", "user_data"]):
            parts = parts[:2] + [".".join(parts[2:])]
        node = out
        for p in parts[:-1]:
            nxt = node.get(p)
            if not isinstance(nxt, dict):
                nxt = node[p] = {}
            node = nxt
        node[parts[-1]] = value
    return out


def normalise_ecs(obj: Any, source: str, locator: str) -> Event | None:
    if type(obj) is not dict:
        return None
    if "_source" in obj and isinstance(obj["_source"], dict):  # Elasticsearch hit / _search export
        obj = obj["_source"]
    if any("." in k for k in obj):
        obj = _nest(obj)
    win = obj.get("winlog")
    if not isinstance(win, dict):
        return None
    eid = win.get("event_id")
    if eid is None:
        eid = (obj.get("event") or {}).get("code")
    if eid is None:
        return None
    ed = win.get("event_data")
    data = {k: (v if type(v) is str else stringify(v)) for k, v in ed.items()} if isinstance(ed, dict) else {}
    ud = win.get("user_data")
    if isinstance(ud, dict):
        ud = {k: v for k, v in ud.items() if k != "xml_name"}
        _flatten(ud, data)
    user = win.get("user")
    sid = user.get("identifier") if isinstance(user, dict) else None
    rid = win.get("record_id")
    computer = win.get("computer_name")
    if computer is None:
        host = obj.get("host")
        computer = host.get("name", "") if isinstance(host, dict) else ""
    provider = win.get("provider_name")
    if provider is None:
        provider = (obj.get("event") or {}).get("provider", "")
    return Event(
        win.get("channel") or "",
        provider or "",
        int(eid),
        computer or "",
        normalise_time(win.get("time_created") or obj.get("@timestamp")),
        None if rid is None or rid == "" else int(rid),
        sid or None,
        data,
        source,
        locator,
        message=message_text(obj.get("message")),
    )


def read(fobj: BinaryIO, source: str, stats: RunStats, gate: Any = None) -> Iterator[Event]:
    return read_json(fobj, source, stats, normalise_ecs, gate, route=False)
