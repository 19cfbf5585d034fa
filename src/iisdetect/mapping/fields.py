"""Field roles (``fields.yaml``): which Windows fields are the acting process, the user, the DLL...

One definition read by alerts, tuning, correlation, the AQL emulator and the QRadar export, so a
field added to a role (say a new log source's process field) is picked up by all of them at once.
Event names (``event_names.yaml``, QRadar's QIDNAME) live here too: hunt and the emulator show the
same name for an event.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from iisdetect.model.event import Event


@cache
def _data() -> dict[str, Any]:
    return yaml.safe_load(resources.files("iisdetect.mapping").joinpath("fields.yaml").read_text("utf-8"))


def role(name: str) -> tuple[str, ...]:
    """The fields of one role, in order of preference (KeyError for an unknown role: a code bug)."""
    return tuple(_data()["roles"][name])


def roles(*names: str) -> tuple[str, ...]:
    """The fields of several roles, in order, each once."""
    return tuple(dict.fromkeys(f for n in names for f in role(n)))


def seed_column_roles() -> dict[str, str]:
    """Seed output column -> role (``initiating_process`` -> ``acting_process``...)."""
    return dict(_data()["seed_columns"])


def first(event: Event, name: str) -> str | None:
    """The first non-empty value among a role's fields, as the seed's columns show it."""
    d = event.data
    for f in role(name):
        v = d.get(f)
        if v:
            return v
    return None


def user_name(event: Event) -> str | None:
    """The acting account, ``DOMAIN\\user`` for the Security log's Subject fields; else the UserID SID."""
    d = event.data
    for key in role("user"):
        value = d.get(key)
        if value and value != "-":
            if key == "SubjectUserName" and d.get("SubjectDomainName"):
                return f"{d['SubjectDomainName']}\\{value}"
            return value
    return event.user_sid


def log_source_template() -> str:
    return str(_data()["log_source_name"])


def log_source_name(event: Event, template: str | None = None) -> str:
    """QRadar-style log source name (``Channel @ Computer``), from the mapping's template."""
    return (template or log_source_template()).format(channel=event.channel, computer=event.computer)


@cache
def _event_names() -> dict[str, dict[int, str]]:
    text = resources.files("iisdetect.mapping").joinpath("event_names.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    return {prov.lower(): {int(k): str(v) for k, v in ids.items()} for prov, ids in raw.items()}


def event_name(event: Event) -> str:
    """Name of the event type (QRadar's QIDNAME), e.g. ``Image loaded``."""
    name = _event_names().get(event.provider.lower(), {}).get(event.event_id)
    return name or f"{event.provider or event.channel} {event.event_id}"
