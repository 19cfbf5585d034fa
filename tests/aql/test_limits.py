"""aql/guard.py resource limits: memory and threads set on the connection, query size and nesting."""

from __future__ import annotations

import pytest

from iisdetect.aql import Emulator, guard
from iisdetect.aql.errors import QueryRefused


@pytest.fixture
def limits():
    saved = guard.AqlLimits(**vars(guard.AQL_LIMITS))
    yield guard.AQL_LIMITS
    for k, v in vars(saved).items():
        setattr(guard.AQL_LIMITS, k, v)


def test_memory_and_threads_are_set_before_loading(limits):
    limits.memory, limits.threads = 300 << 20, 1
    emu = Emulator()
    try:
        mem, threads = emu.con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()
        assert threads == 1 and mem == "300.0 MiB"
    finally:
        emu.close()


def test_query_size_and_nesting_are_refused(limits):
    limits.query_bytes = 100
    with pytest.raises(QueryRefused, match="aql_query_bytes"):
        guard.precheck("SELECT qid FROM events WHERE " + "qid = 1 OR " * 20 + "qid = 2")
    limits.query_bytes = 1 << 16
    with pytest.raises(QueryRefused, match="aql_nesting"):
        guard.precheck("SELECT qid FROM events WHERE " + "(" * 65 + "1=1" + ")" * 65)
