"""One error root so the CLI can turn any library failure into a one-line message and exit 2."""

from __future__ import annotations


class IisdetectError(Exception):
    """Base of every error iisdetect raises on purpose (bad arguments, unreadable input, bad rules)."""


class UsageError(IisdetectError):
    """The user asked for something that cannot be done (bad option value, missing path)."""


class InputError(IisdetectError):
    """An input path cannot be opened or is of no known format."""


class RuleError(IisdetectError):
    """A rule file cannot be loaded or compiled."""

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)
