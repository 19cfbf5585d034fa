"""Only one SELECT over events/flows runs, and the connection itself cannot touch files or settings."""

from __future__ import annotations

import duckdb
import pytest

from iisdetect.aql import Emulator
from iisdetect.aql.errors import QueryRefused
from tests.helpers import image_load


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    e = Emulator()
    e.load([image_load("x.dll")])
    e.prepare()
    yield e
    e.close()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
        ("SELECT * FROM events WHERE Image IN (SELECT column0 FROM read_csv('/etc/passwd'))", "read_csv"),
        ("SELECT read_text('/etc/passwd') FROM events", "read_text"),
        ("COPY events TO '/tmp/x.csv'", "not COPY"),
        ("ATTACH '/tmp/x.db' AS x", "not ATTACH"),
        ("PRAGMA database_list", "not PRAGMA"),
        ("SET enable_external_access = true", "not SET"),
        ("INSERT INTO events VALUES (1)", "not INSERT"),
        ("SELECT * FROM events; SELECT 1", "one statement"),
        ("SELECT * FROM events; DROP TABLE aql_events_base", "one statement"),
        ("SELECT * FROM events WHERE qid IN (SELECT qid FROM aql_qids)", "'aql_qids' is not allowed"),
        ("SELECT * FROM (SELECT * FROM aql_events_base)", "'aql_events_base' is not allowed"),
        ("SELECT (SELECT read_text('/etc/passwd') FROM events) FROM events", "read_text"),
        ("SELECT * FROM aql_events_base", "'aql_events_base' is not allowed"),
        ("SELECT * FROM events, aql_qids", "joins"),
        ("SELECT * FROM events JOIN aql_qids ON true", "joins"),
        ("SELECT * FROM main.events", "is not allowed"),
        ("WITH x AS (SELECT 1) SELECT * FROM events", "not WITH"),
    ],
)
def test_refused(emu: Emulator, query: str, message: str) -> None:
    with pytest.raises(QueryRefused, match=message):
        emu.query(query)


def test_connection_is_locked_underneath(emu: Emulator, tmp_path) -> None:
    """Even SQL that bypassed the AST check could not read files or change settings."""
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with pytest.raises(duckdb.Error, match="(?i)external access|disabled|permission"):
        emu.con.execute(f"SELECT * FROM read_csv('{secret}')").fetchall()
    with pytest.raises(duckdb.Error):
        emu.con.execute(f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'")
    with pytest.raises(duckdb.Error):
        emu.con.execute(f"ATTACH '{tmp_path / 'x.db'}' AS x")
    with pytest.raises(duckdb.Error, match="(?i)lock"):
        emu.con.execute("SET enable_external_access = true")
    with pytest.raises(duckdb.Error, match="(?i)lock"):
        emu.con.execute("SET threads = 1")
    assert not (tmp_path / "out.csv").exists()


def test_refused_query_cli_exit_code(tmp_path, capsys) -> None:
    from iisdetect.cli import main

    db = tmp_path / "e.duckdb"
    emu = Emulator(str(db))
    emu.load([image_load("x.dll")])
    emu.close()
    assert main(["aql", "COPY events TO '/tmp/x'", "--db", str(db)]) == 2
    assert "only SELECT" in capsys.readouterr().err
