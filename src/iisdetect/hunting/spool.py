"""Alerts kept on disk, with only the columns correlation needs in memory (docs/correlation.md).

Why: an :class:`~iisdetect.hunting.alerts.Alert` holds its whole event, about 5 KB in Python; a noisy
rule raising a million alerts needed gigabytes. The spool writes each alert once, in arrival order,
to an anonymous temporary file (``tempfile.TemporaryFile``: in ``$TMPDIR``, removed by the OS when
the run ends, even on a crash) and keeps, per alert, about 45 bytes of typed arrays: the event time
in microseconds, the host and Computer (interned), the rule, the module keys
(:func:`~iisdetect.hunting.incidents.module_keys`, interned) and the EID 29 element key. Correlation
(:mod:`iisdetect.hunting.stream_incidents`) runs on those columns alone; renderers load the alerts
back one at a time (:meth:`AlertSpool.load`) in output order.

Memory is still linear in the number of alerts, but with a constant ~100x smaller; it needs no
assumption about the order alerts arrive in (files, hosts and ``--jobs`` workers interleave freely).
"""

from __future__ import annotations

import marshal
import pickle
import re
import tempfile
from array import array
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import IO

from iisdetect.engine.ir import CompiledRule
from iisdetect.errors import UsageError
from iisdetect.hunting.alerts import Alert
from iisdetect.hunting.incidents import _ELEMENT, module_keys
from iisdetect.model.event import Event
from iisdetect.model.times import EPOCH, parse_time

_US = timedelta(microseconds=1)
#: the readers' one time shape (model/times.py); a time of this shape that parses round-trips exactly
_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\Z")
#: the time column of an alert without a readable time: one microsecond before ``parse_time("")`` (the
#: minimum datetime), so untimed alerts sort first, as the empty string does, and subtract like it
UNTIMED = (datetime.min.replace(tzinfo=UTC) - EPOCH) // _US - 1


def micros(time_created: str) -> int:
    """The canonical event time as microseconds since the epoch (``UNTIMED`` for ``""``)."""
    if not time_created:
        return UNTIMED
    return (parse_time(time_created) - EPOCH) // _US


def time_text(us: int) -> str:
    """Inverse of :func:`micros` for canonical times (``YYYY-MM-DDTHH:MM:SS.ffffffZ``)."""
    if us == UNTIMED:
        return ""
    d = EPOCH + timedelta(microseconds=us)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}.{d.microsecond:06d}Z"


class StringTable:
    """Interned strings (hosts, module keys, element keys): one copy each, referred to by number."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.strings: list[str] = []

    def id(self, s: str) -> int:
        n = self.ids.get(s)
        if n is None:
            n = self.ids[s] = len(self.strings)
            self.strings.append(s)
        return n


class AlertSpool:
    """Append-only alert store: bodies on disk, correlation columns in typed arrays."""

    def __init__(self, with_columns: bool = True) -> None:
        try:
            self._file: IO[bytes] = tempfile.TemporaryFile(prefix="iisdetect-alerts-")  # noqa: SIM115
        except OSError as exc:
            raise _spool_error(exc) from None
        self._writing = True
        self.with_columns = with_columns
        self.rules: list[CompiledRule] = []
        self._rule_index: dict[int, int] = {}
        self.strings = StringTable()
        self.offsets = array("q", [0])
        self.times = array("q")
        self.host = array("i")  #: lower-cased Computer (the correlation host)
        self.computer = array("i")  #: Computer as written (the incident's host, the sort key)
        self.rule = array("i")
        self.key_start = array("I", [0])
        self.keys = array("i")
        self.elem = array("i")  #: EID 29 element key, -1 for any other alert
        #: times that are not canonical (never seen from the readers; kept exact all the same)
        self.odd_times: dict[int, str] = {}
        self.extra: list[str] = []  #: per alert: the suppressing tuning entry (suppressed spools only)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def add(self, alert: Alert, extra: str | None = None) -> None:
        ev = alert.event
        ridx = self._rule_index.get(id(alert.rule))
        if ridx is None:
            ridx = self._rule_index[id(alert.rule)] = len(self.rules)
            self.rules.append(alert.rule)
        body = (
            ridx, ev.channel, ev.provider, ev.event_id, ev.computer, ev.time_created, ev.record_id, ev.user_sid,
            ev.data, ev.source, ev.locator, ev.message, alert.level, alert.incident, alert.notes,
        )  # fmt: skip
        try:
            blob = b"M" + marshal.dumps(body)
        except ValueError:  # a value marshal cannot carry (never from the readers): pickle it
            blob = b"P" + pickle.dumps(body, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self._file.write(blob)
        except OSError as exc:  # a full $TMPDIR: one line, not a traceback
            raise _spool_error(exc) from None
        self.offsets.append(self.offsets[-1] + len(blob))
        if extra is not None:
            self.extra.append(extra)
        if not self.with_columns:
            return
        if alert.level != alert.rule.level or alert.notes or alert.incident:
            raise ValueError("the spool correlates fresh alerts only (rule level, no notes)")
        n = len(self.times)
        us = micros(ev.time_created)
        self.times.append(us)
        if ev.time_created and not _CANONICAL.match(ev.time_created):
            self.odd_times[n] = ev.time_created
        sid = self.strings.id
        self.computer.append(sid(ev.computer))
        self.host.append(sid(ev.computer.lower()))
        self.rule.append(ridx)
        ks = module_keys(alert)
        self.keys.extend(sid(k) for k in ks)
        self.key_start.append(len(self.keys))
        self.elem.append(sid(_element_key(ev, ks)) if _is_eid29(ev) else -1)

    def time_str(self, i: int) -> str:
        t = self.odd_times.get(i)
        return t if t is not None else time_text(self.times[i])

    def key_ids(self, i: int) -> array:
        return self.keys[self.key_start[i] : self.key_start[i + 1]]

    def load(self, i: int) -> Alert:
        """Alert ``i`` (arrival order) as it was added, read back from disk."""
        if self._writing:
            self._file.flush()
            self._writing = False
        start = self.offsets[i]
        self._file.seek(start)
        blob = self._file.read(self.offsets[i + 1] - start)
        body = marshal.loads(blob[1:]) if blob[:1] == b"M" else pickle.loads(blob[1:])  # noqa: S301 (our own file)
        ridx, chan, prov, eid, comp, t, rid, sid, data, src, loc, msg, level, incident, notes = body
        event = Event(chan, prov, eid, comp, t, rid, sid, data, src, loc, msg)
        return Alert(self.rules[ridx], event, level, incident, list(notes))

    def __iter__(self) -> Iterator[Alert]:
        for i in range(len(self)):
            yield self.load(i)

    def close(self) -> None:
        self._file.close()


def _spool_error(exc: OSError) -> UsageError:
    return UsageError(
        f"cannot write the alert spool in {tempfile.gettempdir()}: {exc.strerror or exc} "
        "(set TMPDIR to a folder with room; docs/correlation.md)"
    )


def _is_eid29(ev: Event) -> bool:
    return ev.event_id == 29 and "configuration" in ev.channel.lower()


def _element_key(ev: Event, ks: list[str]) -> str:
    """The change an EID 29 record belongs to (as incidents._dedupe_eid29 names it)."""
    conf = ev.data.get("Configuration") or ""
    m = _ELEMENT.search(conf)
    return m.group(1).lower() if m else (ks[0] if ks else conf.rsplit("/@", 1)[0].lower())
