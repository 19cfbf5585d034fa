"""Bounded, defused parsing of IIS configuration XML.

A configuration file in a triage package is evidence from a compromised host: it may be an XML bomb
(entity expansion), point at external entities, be gigabytes of nesting or be in an encoding nothing
else on the server would write. IIS itself writes UTF-8 (with or without a BOM); UTF-16 appears when an
admin re-saves a file. ``parse`` therefore refuses, with a reason the caller counts as a skip:

- a DTD, any entity declaration or external reference (defusedxml, ``forbid_dtd=True``);
- more than ``MAX_ELEMENTS`` elements or nesting deeper than ``MAX_DEPTH`` (checked while streaming,
  so a bomb is stopped before its tree is built);
- an encoding outside ``ENCODINGS`` (declared or by byte-order mark).
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

MAX_ELEMENTS = 500_000
MAX_DEPTH = 64
ENCODINGS = {"utf-8", "utf8", "utf-16", "utf-16le", "utf-16be", "us-ascii", "ascii", "iso-8859-1", "windows-1252"}
_DECL = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']", re.I)


class Refused(Exception):
    """The file is not parsed; ``str(exc)`` is the skip reason."""


def _encoding(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if data[:4] in (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00") or data[:2] == b"\x00\x00":
        return "utf-32"
    m = _DECL.match(data[:200])
    return m.group(1).decode("ascii").lower() if m else "utf-8"


def parse(data: bytes) -> ET.Element:
    """The root element of a configuration file, or ``Refused`` with the reason."""
    enc = _encoding(data)
    if enc not in ENCODINGS:
        raise Refused(f"unsupported encoding '{enc}'")
    depth = count = 0
    root: ET.Element | None = None
    try:
        for event, elem in iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                depth += 1
                count += 1
                if root is None:
                    root = elem
                if depth > MAX_DEPTH:
                    raise Refused(f"nesting deeper than {MAX_DEPTH}")
                if count > MAX_ELEMENTS:
                    raise Refused(f"more than {MAX_ELEMENTS} elements")
            else:
                depth -= 1
    except DefusedXmlException as exc:
        raise Refused(f"forbidden XML construct ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise Refused(f"not well-formed XML ({exc})") from None
    except (LookupError, ValueError, UnicodeError) as exc:
        raise Refused(f"undecodable ({exc})") from None
    if root is None:
        raise Refused("empty document")
    return root
