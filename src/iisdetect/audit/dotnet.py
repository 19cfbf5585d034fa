"""Which types in a .NET assembly implement ``System.Web.IHttpModule`` (read from metadata with dnfile).

A managed IIS module is any class implementing ``IHttpModule`` (learn.microsoft.com/dotnet/api/system.web.ihttpmodule);
the InterfaceImpl metadata table lists each (class, interface) pair. Only direct implementations are seen: a
class deriving from another module class is not followed through its base (documented limit).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import dnfile


def _full(row: object) -> str:
    ns = str(getattr(row, "TypeNamespace", "") or "")
    name = str(getattr(row, "TypeName", "") or "")
    return f"{ns}.{name}" if ns else name


class _Notes(logging.Handler):
    """dnfile logs malformed metadata as warnings; they belong in the report's notes, not on the terminal."""

    def __init__(self, notes: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.notes = notes

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.notes) < 20:
            self.notes.append(record.getMessage()[:200])


@contextmanager
def _captured(notes: list[str]) -> Iterator[None]:
    log = logging.getLogger("dnfile")
    handler, propagate = _Notes(notes), log.propagate
    log.addHandler(handler)
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.propagate = propagate


def http_module_types(data: bytes, notes: list[str]) -> list[str]:
    """Full names of the TypeDefs whose InterfaceImpl rows name ``IHttpModule``."""
    with _captured(notes):
        return _types(data, notes)


def _types(data: bytes, notes: list[str]) -> list[str]:
    try:
        pe = dnfile.dnPE(data=data)
    except Exception as exc:  # dnfile/pefile raise many types on malformed metadata
        notes.append(f".NET metadata unreadable ({type(exc).__name__})")
        return []
    try:
        tables = pe.net.mdtables if pe.net is not None else None
        impl = getattr(tables, "InterfaceImpl", None) if tables is not None else None
        if impl is None:
            return []
        out = []
        for row in impl.rows[:100_000]:
            iface = getattr(row.Interface, "row", None)
            cls = getattr(row.Class, "row", None)
            if iface is not None and cls is not None and _full(iface) == "System.Web.IHttpModule":
                out.append(_full(cls))
        return sorted(set(out))
    except Exception as exc:
        notes.append(f".NET metadata unreadable ({type(exc).__name__})")
        return []
