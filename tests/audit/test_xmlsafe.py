"""Hostile configuration XML is refused with a reason; ordinary encodings parse."""

from __future__ import annotations

import pytest

from iisdetect.audit.xmlsafe import MAX_DEPTH, Refused, parse

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<configuration><x>&lol3;</x></configuration>"""
XXE = (
    b"""<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]><configuration>&x;</configuration>"""
)
DTD_ONLY = b"""<?xml version="1.0"?><!DOCTYPE configuration SYSTEM "http://127.0.0.1/x.dtd"><configuration/>"""
SIMPLE = '<?xml version="1.0" encoding="{enc}"?><configuration><system.webServer/></configuration>'


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (BOMB, "forbidden XML construct"),
        (XXE, "forbidden XML construct"),
        (DTD_ONLY, "forbidden XML construct"),
        (b"<configuration>" * (MAX_DEPTH + 1), "nesting deeper than"),
        (SIMPLE.format(enc="UTF-7").encode(), "unsupported encoding 'utf-7'"),
        (SIMPLE.format(enc="cp500").encode("cp500"), "not well-formed XML"),  # EBCDIC: no declaration is readable
        (b"\x00\x00\xfe\xff" + SIMPLE.format(enc="UTF-32").encode("utf-32-be"), "unsupported encoding 'utf-32'"),
        (b"<configuration><a></configuration>", "not well-formed XML"),
        (b"", "not well-formed XML"),
    ],
)
def test_refused(data: bytes, reason: str) -> None:
    with pytest.raises(Refused, match=reason.replace("(", r"\(")):
        parse(data)


def test_too_many_elements(monkeypatch: pytest.MonkeyPatch) -> None:
    import iisdetect.audit.xmlsafe as xs

    monkeypatch.setattr(xs, "MAX_ELEMENTS", 100)
    with pytest.raises(Refused, match="more than 100 elements"):
        parse(b"<configuration>" + b"<add/>" * 200 + b"</configuration>")


@pytest.mark.parametrize(
    "data",
    [
        SIMPLE.format(enc="UTF-8").encode(),
        b"\xef\xbb\xbf" + SIMPLE.format(enc="utf-8").encode(),
        "\ufeff".encode("utf-16-le") + SIMPLE.format(enc="utf-16").encode("utf-16-le"),
        SIMPLE.format(enc="windows-1252").encode("cp1252"),
    ],
)
def test_accepted(data: bytes) -> None:
    assert parse(data).tag == "configuration"
