from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from iisdetect.aql import Emulator, Options, Result
from iisdetect.model.event import Event

Run = Callable[..., Result]


@pytest.fixture
def run() -> Run:
    """run(events, query, **Emulator/Options keywords) -> Result; one fresh in-memory table each."""
    opened: list[Emulator] = []

    def _run(events: Sequence[Event], query: str, **kw: object) -> Result:
        opt_keys = {"backslash_escapes", "matches_search", "default_last_ms"}
        options = Options(**{k: v for k, v in kw.items() if k in opt_keys})  # type: ignore[arg-type]
        emu = Emulator(options=options, **{k: v for k, v in kw.items() if k not in opt_keys})  # type: ignore[arg-type]
        opened.append(emu)
        emu.load(events)
        return emu.query(query)

    yield _run
    for emu in opened:
        emu.close()
