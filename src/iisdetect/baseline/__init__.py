"""Knowledge of legitimate IIS modules: the module baseline (``modules.yaml``) and how to judge one.

One home for "is this module what it claims to be?", used by the rules' allow-lists (compiled like
tuning, so exports carry it), by correlation and by ``audit``. The data is YAML with a public source
per entry; this module only loads it and compares name, image path and signer.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

#: environment variables IIS configs use, expanded for the default system drive
ENV = {
    "%windir%": r"c:\windows",
    "%systemroot%": r"c:\windows",
    "%programfiles%": r"c:\program files",
    "%programfiles(x86)%": r"c:\program files (x86)",
    "%iis_bin%": r"c:\windows\system32\inetsrv",
    "%exchangeinstallpath%": "\\microsoft\\exchange server\\",
}
#: 32-bit twins folded onto their 64-bit path, so either matches the baseline entry
_TWINS = (
    ("\\syswow64\\", "\\system32\\"),
    ("\\microsoft.net\\framework\\", "\\microsoft.net\\framework64\\"),
    ("\\program files (x86)\\", "\\program files\\"),
)
#: signer names Windows reports for Microsoft's own binaries (catalog, product and publisher signing)
MICROSOFT_SIGNERS = frozenset({"microsoft windows", "microsoft corporation", "microsoft windows publisher"})


@dataclass(frozen=True)
class KnownModule:
    name: str
    kind: str
    group: str
    image: str = ""
    type: str = ""
    #: extra image paths or patterns (``*`` any text) for DLLs that live in versioned or vendor folders
    images: tuple[str, ...] = ()
    signer: str = ""
    source: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Verdict:
    """``status``: known (name, image and signer agree), lookalike, mismatch or unknown."""

    status: str
    module: KnownModule | None = None
    reasons: tuple[str, ...] = field(default_factory=tuple)


@functools.cache
def _data() -> dict[str, Any]:
    text = resources.files("iisdetect.baseline").joinpath("modules.yaml").read_text("utf-8")
    return yaml.safe_load(text)


@functools.cache
def load_deployment() -> dict[str, tuple[str, ...]]:
    """Deployment tools' images and the server-wide folders (the ``deployment`` section), one home for
    the file-write rules that report a known deployment or leave it to the rule that does."""
    d = _data()["deployment"]
    return {"tools": tuple(str(x) for x in d["tools"]), "server_wide": tuple(str(x) for x in d["server_wide"])}


@functools.cache
def load_installers() -> dict[str, tuple[str, ...]]:
    """The Windows installers' images, by full path, and IIS's own setup (the ``installers`` section): one
    home for the exemption every file-write and registry rule applies, so the rules cannot drift apart."""
    d = _data()["installers"]
    return {"images": tuple(str(x) for x in d["images"]), "iis_setup": tuple(str(x) for x in d["iis_setup"])}


@functools.cache
def load_baseline() -> tuple[KnownModule, ...]:
    data = _data()
    out = []
    for m in data["modules"]:
        src = m.get("source") or ()
        out.append(
            KnownModule(
                name=str(m["name"]),
                kind=str(m.get("kind", "")),
                group=str(m.get("group", "")),
                image=str(m.get("image", "")),
                images=tuple(str(i) for i in m.get("images") or ()),
                type=str(m.get("type", "")),
                signer=str(m.get("signer", "")),
                source=tuple(src if isinstance(src, list) else [src]),
                note=str(m.get("note", "")),
            )
        )
    return tuple(out)


def normalise_path(path: str) -> str:
    """Lower-case, ``\\\\?\\`` and quotes stripped, env vars expanded, 32-bit twins folded."""
    p = path.strip().strip('"').lower().replace("/", "\\")
    if p.startswith("\\\\?\\"):
        p = p[4:]
    for var, value in ENV.items():
        p = p.replace(var, value)
    for a, b in _TWINS:
        p = p.replace(a, b)
    return p


def _same_image(known: str, image: str) -> bool:
    k, i = normalise_path(known), normalise_path(image)
    if k.startswith("\\microsoft\\exchange server\\"):  # %ExchangeInstallPath%: any drive and root, V14/V15
        return re.search(r"\\microsoft\\exchange server\\v1\d\\" + re.escape(k.split("\\", 3)[-1]) + "$", i) is not None
    return k == i


def _signer_ok(expected: str, signer: str) -> bool:
    exp = expected.replace("(expected)", "").strip().lower()
    got = signer.strip().lower()
    if not exp or exp.startswith("unknown"):
        return True
    if exp in MICROSOFT_SIGNERS:
        return got in MICROSOFT_SIGNERS
    return got.startswith(exp.split("/")[0].strip())


def _one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by exactly one substitution, insertion or deletion."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = sorted((a, b), key=len)
    i = next((i for i, (x, y) in enumerate(zip(short, long_, strict=False)) if x != y), len(short))
    return short[i:] == long_[i + 1 :]


def _lookalike(name: str) -> KnownModule | None:
    """A known name with a suffix, prefix or one-letter typo (``DefaultDocumentModule_Atomic``)."""
    low = name.lower()
    for m in load_baseline():
        k = m.name.lower()
        if len(k) < 5 or low == k:
            continue
        if low.startswith(k) or low.endswith(k) or _one_edit(low, k):
            return m
    return None


def judge(name: str, image: str | None = None, signer: str | None = None) -> Verdict:
    """Compare one registration/load against the baseline; any disagreement is reported, never excused."""
    by_name = {m.name.lower(): m for m in load_baseline()}
    m = by_name.get(name.strip().lower())
    if m is None:
        like = _lookalike(name)
        if like is not None:
            return Verdict("lookalike", like, (f"name {name!r} looks like the known module {like.name!r}",))
        return Verdict("unknown")
    reasons = []
    if image is not None and m.image and not _same_image(m.image, image):
        reasons.append(f"image {image!r} is not {m.name}'s {m.image!r}")
    if signer is not None and m.signer and not _signer_ok(m.signer, signer):
        reasons.append(f"signer {signer!r} is not {m.signer!r}")
    return Verdict("mismatch" if reasons else "known", m, tuple(reasons))
