"""TEXT SEARCH: the Quick Filter syntax over the payload, on hand-built events, rows worked out by hand.

Sources (docs/aql.md, "TEXT SEARCH"): IBM's WHERE clause page (TEXT SEARCH next to AND / OR),
IBM's Building AQL queries page (``WHERE TEXT SEARCH '127.0.0.1'``), IBM's sample AQL queries page
(``TEXT SEARCH = 'VPN Authenticated user'``), IBM Security's "QRadar Searches" deck (Quick Filter =
Lucene full-text index of payloads; ``Session* AND NOT SessionToken``, ``Session* -SessionToken``,
``"firewall accept" AND (admin OR nobody)``) and IBM's QVM quick search page (wildcards, not at the
start of a term; AND, OR, NOT or !, upper-case).

Every payload also carries the WinCollect header (``AgentLogFile=Security``, ``EventID=4648``, ...);
the terms below occur in none of it. Each event's username names it; its ``Note`` is the text.
"""

from __future__ import annotations

import pytest

from iisdetect.aql.errors import AqlError, AqlSyntaxError
from iisdetect.aql.lint import lint
from iisdetect.aql.prepass import Unsupported
from tests.helpers import SECURITY, ev

NOTES = {
    "s1": "Session opened SessionToken=abc",
    "s2": "SessionId=42 opened",
    "s3": "session closed",
    "f1": "firewall accept from admin",
    "f2": "firewall deny from nobody",
    "f3": "Firewall, ACCEPT for nobody",
    "f4": "accept firewall as admin",
    "f5": "firewallaccept admin",
    "ad": "administrator logon",
    "ip1": "from 127.0.0.1 port 80",
    "ip2": "from 127.0.0.12 port 80",
    "vpn": "VPN Authenticated user jdoe",
    "hx": "x'); DROP TABLE events; -- y",
    "bs": "C:\\Windows\\Temp\\a.exe",
    "q": 'say "hi" now',
    "rx": "a.b (c+d) [e] ^$|?*",
    "rx2": "axb",
}
EVENTS = [ev(4648, {"SubjectUserName": u, "Note": n}, log=SECURITY) for u, n in NOTES.items()]


def users(run, search: str, where: str = "") -> list[str]:
    query = "SELECT username FROM events WHERE TEXT SEARCH '" + search.replace("'", "''") + "'" + where
    return sorted(r[0] for r in run(EVENTS, query).rows)


# --- IBM Security, "QRadar Searches" (Quick Filter examples) ------------------------------------------------
@pytest.mark.parametrize(
    "search", ["Session* AND NOT SessionToken", "Session* -SessionToken", "Session* !SessionToken"]
)
def test_wildcard_and_not_example(run, search: str) -> None:
    """Session* is a token starting with 'session' (s1, s2, s3, any case); s1 also has SessionToken."""
    assert users(run, search) == ["s2", "s3"]


def test_phrase_and_group_example(run) -> None:
    """f1: phrase + admin; f3: 'Firewall, ACCEPT' (case, comma between tokens) + nobody; f2 has no
    accept; f4 has the words in the other order; f5 has no token 'firewall'."""
    assert users(run, '"firewall accept" AND (admin OR nobody)') == ["f1", "f3"]


# --- IBM Building AQL queries: WHERE TEXT SEARCH '127.0.0.1' --------------------------------------------------
def test_ip_address_is_a_whole_token(run) -> None:
    assert users(run, "127.0.0.1") == ["ip1"]  # 127.0.0.12 continues with a digit


# --- IBM sample AQL queries: TEXT SEARCH = 'VPN Authenticated user' --------------------------------------------
def test_text_search_with_equals_sign(run) -> None:
    query = "SELECT username FROM events WHERE TEXT SEARCH = 'VPN Authenticated user'"
    assert [r[0] for r in run(EVENTS, query).rows] == ["vpn"]


# --- token matching, wildcards (IBM QVM quick searches: 'SSLv*') ------------------------------------------------
@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("admin", ["f1", "f4", "f5"]),  # not 'administrator'
        ("admin*", ["ad", "f1", "f4", "f5"]),
        ("adm?n", ["f1", "f4", "f5"]),
        ("fire?all", ["f1", "f2", "f3", "f4"]),  # f5's token is 'firewallaccept'
        ("fire?wall", []),
        ("SESSIONID", ["s2"]),  # case-insensitive
    ],
)
def test_terms_match_tokens(run, search: str, expected: list[str]) -> None:
    assert users(run, search) == expected


# --- operators, default AND, precedence ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("firewall nobody", ["f2", "f3"]),  # side by side: AND
        ("firewall AND nobody", ["f2", "f3"]),
        ("firewall && nobody", ["f2", "f3"]),
        ("+firewall +nobody", ["f2", "f3"]),
        ("accept OR deny", ["f1", "f2", "f3", "f4"]),
        ("accept || deny", ["f1", "f2", "f3", "f4"]),
        ("deny OR accept admin", ["f1", "f2", "f4"]),  # deny OR (accept AND admin)
        ("(deny OR accept) admin", ["f1", "f4"]),
        ("firewall or nobody", []),  # lower-case 'or' is a term, in no payload
        ("ANDROID OR nobody", ["f2", "f3"]),  # a word starting with AND is a term
    ],
)
def test_boolean_operators(run, search: str, expected: list[str]) -> None:
    assert users(run, search) == expected


# --- IBM WHERE clause: TEXT SEARCH with AND / OR and other conditions --------------------------------------------
def test_combined_with_other_conditions(run) -> None:
    assert users(run, "firewall", " AND username = 'f2'") == ["f2"]
    assert users(run, "deny", " OR username = 'ad'") == ["ad", "f2"]
    assert users(run, "deny", " AND NOT username = 'f2'") == []


def test_existing_default_and_example_still_holds(run) -> None:
    assert users(run, "Session opened") == ["s1"]  # s2 has 'opened' but no token 'session'


# --- hostile search texts stay data ---------------------------------------------------------------------------
def _count(run) -> int:
    return run(EVENTS, "SELECT COUNT(*) FROM events").rows[0][0]


def test_sql_fragments_are_searched_for_not_run(run) -> None:
    assert users(run, '"x\'); DROP TABLE events; -- y"') == ["hx"]
    assert users(run, "x'\\); DROP TABLE events; \\-\\- y") == ["hx"]
    with pytest.raises(AqlSyntaxError, match="unbalanced parentheses"):
        users(run, "x'); DROP TABLE events; -- y")  # unquoted: a ')' without '('
    assert _count(run) == len(NOTES)


def test_backslashes_and_quotes(run) -> None:
    assert users(run, "C\\:\\\\Windows\\\\Temp") == ["bs"]
    assert users(run, '"C:\\\\Windows"') == ["bs"]  # \\ in a phrase is one backslash
    assert users(run, '"say \\"hi\\" now"') == ["q"]


def test_regex_metacharacters_are_literal(run) -> None:
    assert users(run, '"a.b (c+d) [e] ^$|?*"') == ["rx"]
    assert users(run, '"^$|?*"') == ["rx"]
    assert users(run, "a.b") == ["rx"]  # '.' is a dot, not any character: not 'axb'
    assert users(run, "a\\.b\\ \\(c\\+d\\)") == ["rx"]


# --- refused, each naming the construct --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("search", "named"),
    [
        ("roam~", "fuzzy"),
        ('"firewall accept"~3', "proximity"),
        ("firewall^2", "boost"),
        ("user:admin", "field:value"),
        ("[a TO b]", "range"),
        ("{a TO b}", "range"),
        ("/fire.*/", "regular expression"),
        ("NOT firewall", "NOT"),
        ("firewall OR NOT deny", "NOT"),
        ("firewall AND (NOT deny)", "NOT"),
    ],
)
def test_lucene_constructs_not_emulated(run, search: str, named: str) -> None:
    with pytest.raises(Unsupported, match="not supported") as exc:
        users(run, search)
    assert named in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ("", "no term"),
        ("   ", "no term"),
        ("(firewall", "'(' is not closed"),
        ("firewall)", "')' without '('"),
        ('"firewall', "not closed"),
        ("*wall", "cannot start with a wildcard"),
        ("firewall AND", "'AND' needs a term after it"),
        ("OR firewall", "'OR' needs a term before it"),
        ("()", "empty parentheses"),
        ('""', "empty phrase"),
        ("firewall\\", "escapes nothing"),
    ],
)
def test_invalid_search_text_is_one_clear_line(run, search: str, message: str) -> None:
    with pytest.raises(AqlError) as exc:
        users(run, search)
    assert message in str(exc.value) and "\n" not in str(exc.value)
    assert not isinstance(exc.value, Unsupported)


# --- --lint -----------------------------------------------------------------------------------------------------
def test_lint_flags_text_search_it_would_refuse() -> None:
    found = lint("SELECT * FROM events WHERE TEXT SEARCH 'roam~' LAST 1 HOURS")
    assert [(f.kind, f.severity) for f in found] == [("unsupported", "error")] and "fuzzy" in found[0].message
    found = lint("SELECT * FROM events WHERE TEXT SEARCH '(a' LAST 1 HOURS")
    assert [(f.kind, f.severity) for f in found] == [("syntax", "error")]
    assert lint("SELECT * FROM events WHERE TEXT SEARCH 'Session* AND NOT SessionToken' LAST 1 HOURS") == []
