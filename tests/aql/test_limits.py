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


def test_a_slow_query_is_interrupted_by_the_time_limit(limits):
    """aql_seconds really stops a running query (con.interrupt on a timer), with one line naming the limit.

    Each nested REPLACEALL('.', s, '$0' * 8) multiplies a value's length by 8, so two levels over
    20,000 events of 2 KB regex-replace about 2.6 GB (tens of seconds); DuckDB checks the interrupt
    between 2,048-row chunks. The control query over the same table is answered, so the error is the
    timer's, not a failure to load or translate.
    """
    from iisdetect.aql import AqlError
    from tests.helpers import ev

    limits.seconds = 1
    rep = "'" + "$0" * 8 + "'"
    slow = (f"SELECT SUM(STRLEN(REPLACEALL('.', REPLACEALL('.', \"Command\", {rep}), {rep}))) "
            "FROM events LAST 1000 DAYS")  # fmt: skip
    big = "powershell.exe -NoProfile " + "A" * 2000
    emu = Emulator()
    try:
        emu.load(ev(1, {"CommandLine": f"{big} {i}", "Image": "C:\\x.exe"}) for i in range(20_000))
        assert emu.query("SELECT COUNT(*) FROM events LAST 1000 DAYS").rows == [(20_000,)]
        with pytest.raises(AqlError, match=r"^query stopped after 1 s \(limit aql_seconds\)$"):
            emu.query(slow)
    finally:
        emu.close()
