"""Errors of the AQL emulator: each is one clear line for the CLI (exit 2)."""

from __future__ import annotations

from iisdetect.errors import IisdetectError


class AqlError(IisdetectError):
    """Any problem with an AQL query: syntax, unknown names, unsupported constructs."""


class AqlSyntaxError(AqlError):
    """The query does not parse as AQL."""


class UnknownName(AqlError):
    """A function or property the emulator (and its mapping) does not know; names it."""

    def __init__(self, kind: str, name: str, hint: str = "") -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"unknown {kind} {name!r}" + (f" ({hint})" if hint else ""))


class QueryRefused(AqlError):
    """The query tries something other than a SELECT over events/flows (files, settings, ...)."""
