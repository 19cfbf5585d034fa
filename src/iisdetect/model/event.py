"""The one canonical event every reader yields and every rule, mapping and export reads.

Why a single shape: the same Sysmon record can reach us as EVTX, wevtutil XML, evtx_dump JSON,
NXLog/OTRF flat JSON, Winlogbeat/ECS or a Splunk export. Rules are written once against Windows
field names, so every reader must land on exactly this structure (tests check that the same event
in every shape normalises to an equal ``Event``).

Conventions (decided once, here):
- ``event_id`` is an int; ``time_created`` is UTC ISO-8601 with microseconds and a ``Z``
  (``2021-03-14T01:40:19.702000Z``), so string order is time order.
- ``data`` holds EventData (or flattened UserData) under the Windows/Sysmon names, every value a
  ``str`` as Windows renders it in XML (numbers in decimal, booleans as ``true``/``false``).
- ``source``/``locator`` say where the event came from: file (``archive.zip!inner.evtx`` inside
  containers, ``-`` for stdin) and ``record 123`` / ``line 45`` / ``element 3``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from iisdetect.model.times import parse_time

#: Fields a rule may name that live in the System part, mapped to Event attributes.
SYSTEM_FIELDS: dict[str, str] = {
    "Channel": "channel",
    "Provider_Name": "provider",
    "Provider": "provider",
    "EventID": "event_id",
    "Computer": "computer",
    "TimeCreated": "time_created",
    "EventRecordID": "record_id",
    "UserID": "user_sid",
}

#: Sigma's name for the unnamed ``<Data>`` elements of classic providers. Readers keep them as
#: ``param1..N`` (Winlogbeat's names, so every shape agrees and rules may name them); a rule on
#: ``Data`` matches when its test holds for any of them (``Event.values``).
MULTI_FIELD = "Data"
#: The rendered message (``Event.message``), where keyword (field-less) Sigma searches look.
MESSAGE_FIELD = "Message"


def _is_param(key: str) -> bool:
    return key.startswith("param") and key[5:].isdigit()


class Event:
    """A normalised Windows event. Slotted and plain for speed: readers build ~100k/s."""

    __slots__ = (
        "channel",
        "provider",
        "event_id",
        "computer",
        "time_created",
        "record_id",
        "user_sid",
        "data",
        "source",
        "locator",
        "message",
    )

    def __init__(
        self,
        channel: str,
        provider: str,
        event_id: int,
        computer: str,
        time_created: str,
        record_id: int | None,
        user_sid: str | None,
        data: dict[str, str],
        source: str = "",
        locator: str = "",
        message: str | None = None,
    ) -> None:
        self.channel = channel
        self.provider = provider
        self.event_id = event_id
        self.computer = computer
        self.time_created = time_created
        self.record_id = record_id
        self.user_sid = user_sid
        self.data = data
        self.source = source
        self.locator = locator
        #: the rendered message where the input carries one (NXLog/Splunk ``Message``, ECS
        #: ``message``, RenderedXml); not content: the same event in EVTX has none
        self.message = message

    def get(self, field: str) -> str | None:
        """Value of a field by its Sigma name: System fields (``EventID``, ``Channel``...) first,
        then EventData/UserData. System names win: an EventData field called ``EventID`` (some
        providers log one) must not hide the record's real EventID. ``Data`` without a named
        ``Data`` field is the unnamed values joined with ``, `` (display; rules use ``values``).
        """
        attr = SYSTEM_FIELDS.get(field)
        if attr is not None:
            value = getattr(self, attr)
            return None if value is None else str(value)
        value = self.data.get(field)
        if value is None:
            if field == MESSAGE_FIELD:
                return self.message
            if field == MULTI_FIELD:
                unnamed = self.values(field)
                return ", ".join(unnamed) if unnamed else None
        return value

    def values(self, field: str) -> list[str]:
        """Every value of ``field``: one at most, except ``Data`` = all unnamed ``<Data>`` values."""
        if field == MULTI_FIELD and MULTI_FIELD not in self.data:
            return [v for k, v in self.data.items() if _is_param(k)]
        value = self.get(field)
        return [] if value is None else [value]

    def content(self) -> tuple[Any, ...]:
        """Everything but the provenance: equal for the same event read from any shape."""
        return (
            self.channel,
            self.provider,
            self.event_id,
            self.computer,
            self.time_created,
            self.record_id,
            self.user_sid,
            dict(sorted(self.data.items())),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Event) and self.content() == other.content()

    def __hash__(self) -> int:  # pragma: no cover - events are not used as keys
        return hash(self.content()[:6])

    def __repr__(self) -> str:
        return (
            f"Event({self.channel!r}, {self.event_id}, {self.computer!r}, {self.time_created!r}, "
            f"record={self.record_id}, src={self.source!r}@{self.locator!r}, data={self.data!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain dict used by the NDJSON writers and the DuckDB loader."""
        return {
            "Channel": self.channel,
            "Provider_Name": self.provider,
            "EventID": self.event_id,
            "Computer": self.computer,
            "TimeCreated": self.time_created,
            "EventRecordID": self.record_id,
            "UserID": self.user_sid,
            "EventData": self.data,
            "source": self.source,
            "locator": self.locator,
        }

    @property
    def timestamp(self) -> datetime:
        return parse_time(self.time_created)


def stringify(value: Any) -> str:
    """Render an EventData value the way Windows XML does, so every shape agrees.

    Fast path first: plain ``str`` and ``int`` (not ``bool``, whose type is not ``int``) are most
    values of every shape (pyevtx renders ProcessId, LogonType... as JSON numbers).
    """
    t = type(value)
    if t is str:
        return value
    if t is int:
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(stringify(v) for v in value)
    if isinstance(value, Mapping):
        text = value.get("#text")
        if text is not None:
            return stringify(text)
        if not value or set(value) == {"#attributes"}:
            return ""  # an empty element (attributes only): Windows renders no text
        # nested elements we have no name for: keep them as JSON rather than drop them
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()
    return str(value)


def message_text(value: Any) -> str | None:
    """A reader's rendered-message value as text (``None`` when absent or empty)."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else stringify(value)
