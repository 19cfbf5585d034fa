"""Judge one configuration entry against the module baseline: built in, known vendor, or unknown, and why.

The name/image/signer comparison is the shared ``iisdetect.baseline.judge`` (the same data the rules' allow-lists
compile from). What only a configuration audit can check lives here: filters, extensions, handler processors and
compression DLLs (``known_images.yaml``), a known DLL file name in another folder, an unknown image in a system
folder, a managed type from an assembly without a Microsoft public key token, and a DLL where users can write.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from iisdetect.audit.entries import Entry
from iisdetect.baseline import KnownModule, Verdict, load_baseline, normalise_path
from iisdetect.baseline import judge as baseline_judge

#: public key tokens of Microsoft's strong-name keys (ASP.NET/WCF, .NET Framework ECMA and platform keys)
MICROSOFT_TOKENS = frozenset({"31bf3856ad364e35", "b77a5c561934e089", "b03f5f7f11d50a3a"})
BUILTIN_GROUPS = frozenset({"builtin"})
#: folders (after normalise_path: lower case, env expanded, 32-bit twins folded) where non-admins can write
_WRITABLE = (
    r"^c:\\users\\",
    r"\\appdata\\",
    r"\\temp\\",
    r"^c:\\programdata\\",
    r"^c:\\perflogs\\",
    r"^c:\\\$recycle\.bin\\",
    r"^c:\\windows\\tasks\\",
    r"^c:\\windows\\tracing\\",
    r"^c:\\windows\\system32\\tasks\\",
    r"^c:\\windows\\system32\\spool\\drivers\\color\\",
    r"\\temporary asp\.net files\\",
    r"^c:\\inetpub\\wwwroot\\",
    r"\\app_data\\",
    r"\\aspnet_client\\",
    r"\\downloads\\",
    r"^\\\\",  # UNC: a share, writable by whoever owns it
)
_WRITABLE_RE = re.compile("|".join(_WRITABLE))
_SYSTEM = re.compile(r"^c:\\windows\\(system32|microsoft\.net)\\")


@dataclass(frozen=True)
class KnownImage:
    path: str
    vendor: str
    signer: str
    source: str
    name: str = ""


@dataclass
class Judgement:
    """``verdict``: built-in, known vendor (group), unknown or suspicious; ``findings``: (check id, reason)."""

    verdict: str
    group: str = ""
    signer: str = ""
    findings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings


def _is_path(image: str) -> bool:
    return "\\" in image and image.lower().endswith((".dll", ".exe")) and "," not in image and "<" not in image


def _image_group(m: KnownModule) -> str:
    """Baseline ``not_a_module`` DLLs (filters, extensions, schemes w3wp loads) keep their vendor as the group."""
    if m.group != "not_a_module":
        return m.group
    return "builtin" if m.signer.lower().startswith("microsoft windows") else "third_party"


@functools.cache
def known_images() -> tuple[KnownImage, ...]:
    """Baseline module images plus the audit's own filters/extensions/processors list."""
    out = [
        KnownImage(m.image, _image_group(m), m.signer, ",".join(m.source), m.name)
        for m in load_baseline()
        if _is_path(m.image)
    ]
    text = resources.files("iisdetect.audit").joinpath("known_images.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    out += [
        KnownImage(str(i["path"]), str(i["vendor"]), str(i.get("signer", "")), str(i["source"])) for i in data["images"]
    ]
    return tuple(out)


def _exchange_tail(norm: str) -> str | None:
    m = re.search(r"\\microsoft\\exchange server\\v1\d\\(.+)$", norm)
    return m.group(1) if m else None


_EXCHANGE_ROOT = "\\microsoft\\exchange server\\"


@functools.cache
def _image_index() -> tuple[dict[str, KnownImage], dict[str, KnownImage]]:
    """Known images by normalised path, and Exchange ones by their path below the install folder."""
    exact: dict[str, KnownImage] = {}
    exchange: dict[str, KnownImage] = {}
    for k in known_images():
        kn = normalise_path(k.path)
        if kn.startswith(_EXCHANGE_ROOT):
            exchange.setdefault(kn[len(_EXCHANGE_ROOT) :], k)
        else:
            exact.setdefault(kn, k)
    return exact, exchange


@functools.lru_cache(maxsize=65536)
def find_image(image: str) -> KnownImage | None:
    """The known image at this path (any drive for Exchange's install path), else None."""
    norm = normalise_path(image)
    exact, exchange = _image_index()
    if norm in exact:
        return exact[norm]
    tail = _exchange_tail(norm)
    return exchange.get(tail) if tail is not None else None


@functools.lru_cache(maxsize=65536)
def _baseline_verdict(name: str, image: str | None = None) -> Verdict:
    """``baseline.judge`` is pure over a fixed baseline: cached, since a package repeats names thousands of times."""
    return baseline_judge(name, image)


@functools.cache
def _known_types() -> dict[str, KnownModule]:
    return {parse_type(m.type)[0].lower(): m for m in load_baseline() if m.kind == "managed" and m.type}


@functools.cache
def _folders_by_file() -> dict[str, set[str]]:
    """``defdoc.dll`` -> the folders Microsoft installs it in (fixed-path groups only)."""
    out: dict[str, set[str]] = {}
    for k in known_images():
        norm = normalise_path(k.path)
        if norm.startswith("\\") or k.vendor in ("exchange", "third_party"):
            continue
        folder, _, base = norm.rpartition("\\")
        out.setdefault(base, set()).add(folder)
    return out


def parse_type(type_: str) -> tuple[str, str, str]:
    """``Ns.Class, Assembly, Version=.., PublicKeyToken=..`` -> (class, assembly, token)."""
    parts = [p.strip() for p in type_.split(",")]
    cls = parts[0] if parts else ""
    assembly = parts[1] if len(parts) > 1 and "=" not in parts[1] else ""
    token = ""
    for p in parts[2:]:
        k, _, v = p.partition("=")
        if k.strip().lower() == "publickeytoken":
            token = v.strip().lower()
    return cls, assembly, token


def user_writable(resolved: str, site_roots: tuple[str, ...] = ()) -> str | None:
    """Why non-admins can write at this path, or None."""
    norm = normalise_path(resolved)
    if _WRITABLE_RE.search(norm):
        return f"'{resolved}' is in a user-writable folder"
    for root in site_roots:
        r = normalise_path(root).rstrip("\\") + "\\"
        if r != "\\" and norm.startswith(r):
            return f"'{resolved}' is inside a site's content folder '{root}'"
    return None


def _group_verdict(m: KnownModule | KnownImage) -> tuple[str, str]:
    group = m.group if isinstance(m, KnownModule) else m.vendor
    return ("built-in" if group in BUILTIN_GROUPS else f"known vendor ({group})"), group


def judge_entry(entry: Entry, site_roots: tuple[str, ...] = ()) -> Judgement:
    """All findings for one entry; an entry with none is inventory (informational)."""
    j = _judge_module(entry) if entry.kind == "module" else _judge_image(entry)
    if entry.resolved:
        why = user_writable(entry.resolved, site_roots)
        if why:
            j.findings.append(("audit.user_writable", why))
    if j.findings and j.verdict.startswith(("built-in", "known")):
        j.verdict = "suspicious"
    return j


def _judge_image(entry: Entry) -> Judgement:
    """Native global modules, ISAPI filters/extensions, handler processors, compression DLLs."""
    image = entry.image
    if entry.kind == "global_module":
        v = _baseline_verdict(entry.name, _express_image(entry))
        if v.status == "known" and v.module is not None:
            verdict, group = _group_verdict(v.module)
            return Judgement(verdict, group, v.module.signer)
        if v.status == "lookalike":
            j = Judgement("suspicious", findings=[("audit.lookalike", v.reasons[0])])
            _image_findings(j, entry.resolved or image)
            return j
        if v.status == "mismatch":
            j = Judgement("suspicious", findings=[("audit.image_mismatch", "; ".join(v.reasons))])
            _image_findings(j, entry.resolved or image)
            return j
    known = find_image(image) if image else None
    if known is not None:
        if entry.kind == "global_module":  # a known DLL under an unknown module name
            return Judgement(
                "suspicious",
                findings=[
                    ("audit.unknown", f"module name '{entry.name}' is not in the baseline (image is {known.path})")
                ],
            )
        verdict, group = _group_verdict(known)
        return Judgement(verdict, group, known.signer)
    j = Judgement(
        "unknown",
        findings=[("audit.unknown", f"{entry.kind} '{entry.identity()}' -> '{image}' is not in the baseline")],
    )
    _image_findings(j, entry.resolved or image)
    return j


def _express_image(entry: Entry) -> str:
    """IIS Express writes ``%IIS_BIN%\\<tail>`` for modules installed under its own folder (aspnetcore's
    Http.config; the ANCM installer runs ``appcmd install module /image:"%IIS_BIN%\\Asp.Net Core Module\\V2\\..."``).
    When the baseline image of that name ends in the same tail, the entry means the same module."""
    image = entry.image
    if not (entry.iis_express and image.lower().startswith("%iis_bin%\\")):
        return image
    tail = "\\" + normalise_path(image[len("%iis_bin%\\") :])
    m = next((m for m in load_baseline() if m.name.lower() == entry.name.lower() and m.image), None)
    return m.image if m is not None and normalise_path(m.image).endswith(tail) else image


def _image_findings(j: Judgement, image: str) -> None:
    norm = normalise_path(image)
    folder, _, base = norm.rpartition("\\")
    homes = _folders_by_file().get(base)
    if homes and folder not in homes:
        j.findings.append(("audit.outside_folder", f"{base} ships in {sorted(homes)[0]}, not in {folder}"))
    elif _SYSTEM.match(norm) and find_image(image) is None:
        j.findings.append(
            ("audit.system_folder", f"'{image}' is in a Windows system folder but no known component ships it")
        )


def _judge_module(entry: Entry) -> Judgement:
    """``<modules>``/``<httpModules>``: a managed type, or (no type) a native global module enabled by name."""
    v = _baseline_verdict(entry.name)
    if not entry.type:  # enables a <globalModules> entry, which is judged where it is registered
        if v.status == "lookalike":
            return Judgement("suspicious", findings=[("audit.lookalike", v.reasons[0])])
        if v.module is not None:
            verdict, group = _group_verdict(v.module)
            return Judgement(verdict, group)
        return Judgement("native module enabled by name (judged at its <globalModules> entry)")
    cls, assembly, token = parse_type(entry.type)
    known_types = _known_types()
    findings: list[tuple[str, str]] = []
    if v.status == "lookalike":
        findings.append(("audit.lookalike", v.reasons[0]))
    elif v.module is not None and v.module.kind == "managed":
        want = parse_type(v.module.type)[0]
        if want.lower() != cls.lower():
            findings.append(("audit.image_mismatch", f"type '{cls}' is not {v.module.name}'s '{want}'"))
    if token == "null":
        findings.append(("audit.managed_untrusted", f"assembly '{assembly}' is not strong-named (PublicKeyToken=null)"))
    elif token and token not in MICROSOFT_TOKENS:
        findings.append(
            ("audit.managed_untrusted", f"assembly '{assembly}' has public key token {token}, not Microsoft's")
        )
    elif not assembly and cls.lower() not in known_types:
        findings.append(
            (
                "audit.managed_untrusted",
                f"type '{cls}' is not assembly-qualified: it loads from the application's bin or App_Code",
            )
        )
    elif assembly and not token:
        findings.append(("audit.managed_untrusted", f"assembly '{assembly}' is not strong-named"))
    base = known_types.get(cls.lower())
    if findings:
        return Judgement("suspicious" if base or v.module else "unknown", findings=findings)
    if base is not None:
        verdict, group = _group_verdict(base)
        return Judgement(verdict, group)
    return Judgement(f"Microsoft-signed assembly {assembly} (strong name {token}; not verified)", "microsoft_token")
