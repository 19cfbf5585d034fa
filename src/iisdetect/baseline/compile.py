"""Compile the module baseline (``modules.yaml``) into Sigma detection items, before pySigma sees a rule.

Why at the Sigma level: the local engine and every export compile from the same IR, and the IR comes
from the rule's detection. A rule that wants baseline knowledge names the detection items to fill in
a top-level ``baseline:`` map (item name -> kind); :func:`apply` replaces each with items generated
from the YAML data, so a known module is excluded (or reported) identically everywhere, and adding a
module to ``modules.yaml`` changes every rule and export at once. The rule's ``condition`` decides
how an item is used (``not filter_main_known`` in an alerting rule, ``selection_known`` in the
informational companion that reports known modules).

Kinds (the event source each reads):

- ``config_known``: IIS-Configuration EID 29 records of a known module: its ``@name`` record, its
  ``@image`` record with one of its image spellings, its ``@type`` record, and its other attributes
  (``preCondition``, ``lockItem``) when the value is not a path. Element keys in single or double quotes.
- ``config_known_key``: EID 29 ``@image``/``@type`` records of a known name, whatever the value (with
  ``not config_known``: a known name re-pointed elsewhere, e.g. an existing module's image changed in place).
- ``config_lookalike``: EID 29 records whose element key or ``@name`` value is a known name plus a
  separator and suffix (``DefaultDocumentModule_Atomic``), the masquerading form the baseline warns of.
- ``command_known`` / ``script_known``: an appcmd ``install module`` / ``add module`` command line or a
  ``New-WebGlobalModule`` / ``New-WebManagedModule`` call that names a known module AND its image (or type).
- ``load_known``: a Sysmon 7 load of a known module's image from its folder, Signed, Valid, by its signer
  (every Microsoft signer name Windows reports counts for Microsoft's DLLs, see ``MICROSOFT_SIGNERS``).
- ``load_known_filename`` / ``load_known_path``: the file name of a known native module's image, and its
  full path(s) whatever the signer; ``filename and not path`` is a Microsoft DLL name outside its folder.
- ``deploy_tool`` / ``deploy_server_wide``: the ``Image`` of a known deployment tool (Web Deploy) and the
  ``TargetFilename`` folders a site deployment never writes (the ``deployment`` section).
- ``installer`` / ``iis_setup``: the ``Image`` of a Windows installer (msiexec, the servicing stack, DISM,
  wusa, pkgmgr) and of IIS's own setup (the ``installers`` section), by full path.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from iisdetect.baseline import MICROSOFT_SIGNERS, KnownModule, load_baseline, load_deployment, load_installers
from iisdetect.errors import RuleError

#: groups whose entries are registered IIS modules (``not_a_module`` entries are only loaded)
MODULE_GROUPS = frozenset({"builtin", "windows_role", "microsoft_oob", "exchange", "third_party"})
#: how IIS configs spell the system folders (Sigma strings compare case-insensitively)
_SPELLINGS = {
    "%windir%": ("%windir%", "%SystemRoot%", "C:\\Windows"),
    "%systemroot%": ("%windir%", "%SystemRoot%", "C:\\Windows"),
    "%programfiles%": ("%ProgramFiles%", "C:\\Program Files"),
    "%programfiles(x86)%": ("%ProgramFiles(x86)%", "C:\\Program Files (x86)"),
    "%exchangeinstallpath%": ("%ExchangeInstallPath%", "*\\Microsoft\\Exchange Server\\V1*\\"),
}
_TWINS = (
    ("\\system32\\", "\\SysWOW64\\"),
    ("\\framework64\\", "\\Framework\\"),
    ("\\program files\\", "\\Program Files (x86)\\"),
)
#: attributes a module element carries besides its name and image/type
_OTHER_ATTRS = "preCondition|lockItem|lockAttributes|lockElements"


def _known() -> list[KnownModule]:
    return [m for m in load_baseline() if m.group in MODULE_GROUPS]


def config_spellings(image: str) -> list[str]:
    """Every way an installer writes ``image`` into applicationHost.config (env var or literal path)."""
    if image.startswith("<"):  # '<AppMon install dir>\agent\...': any install folder
        return ["*" + image.split(">", 1)[1]]
    low = image.lower()
    for var, forms in _SPELLINGS.items():
        if low.startswith(var):
            rest = image[len(var) :]
            out = [f + rest for f in forms]
            if var in ("%windir%", "%systemroot%") and rest.lower().startswith("\\system32\\inetsrv\\"):
                out.append("%IIS_BIN%" + rest[len("\\system32\\inetsrv") :])
            return out
    return [image]


def disk_paths(image: str) -> list[str]:
    """The absolute paths Sysmon reports for ``image`` (any drive, 32-bit twins included)."""
    out = []
    for spelled in config_spellings(image):
        if spelled.startswith("%"):
            continue
        path = "?" + spelled[1:] if re.match(r"^[A-Za-z]:\\", spelled) else spelled
        out.append(path)
        for a, b in _TWINS:
            if a in path.lower():
                i = path.lower().index(a)
                out.append(path[:i] + b + path[i + len(a) :])
    return list(dict.fromkeys(out))


def _names_re(names: list[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


def _key(name: str, attr: str) -> str:
    return rf"\[@name=[\"']{re.escape(name)}[\"']\]/@(?:{attr})$"


def _config_known() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for m in _known():
        items.append({"Configuration|re": _key(m.name, "name"), "NewValue": _sigma(m.name)})
        items.append({"Configuration|re": _key(m.name, _OTHER_ATTRS), "NewValue|re": r"^[^\\]*$"})
        if m.image:
            spellings = [_sigma(v) for v in config_spellings(m.image)]
            items.append({"Configuration|re": _key(m.name, "image"), "NewValue": spellings})
        if m.type:
            items.append({"Configuration|re": _key(m.name, "type"), "NewValue": m.type})
    return items


def _config_known_key() -> dict[str, Any]:
    names = _names_re([m.name for m in _known()])
    return {"Configuration|re": rf"\[@name=[\"'](?:{names})[\"']\]/@(?:image|type)$"}


def _lookalike_re() -> str:
    names = _names_re([m.name for m in _known() if len(m.name) >= 5])
    return rf"(?:{names})[_.\-][A-Za-z0-9_.\-]+"


def _config_lookalike() -> list[dict[str, Any]]:
    like = _lookalike_re()
    return [
        {"Configuration|re|i": rf"\[@name=[\"']{like}[\"']\]"},
        {"Configuration|re": r"/@name$", "NewValue|re|i": rf"^{like}$"},
    ]


def _image_re(image: str) -> str:
    forms = [re.escape(s).replace(r"\*", r"[^\"']*").replace(r"\?", ".") for s in config_spellings(image)]
    return "(?:" + "|".join(forms) + ")"


def _cli_items(field: str, name_opt: str, image_opt: str, type_opt: str) -> list[dict[str, Any]]:
    """One item per known module: the command names it and gives its image (native) or type (managed)."""
    items = []
    for m in _known():
        name = rf"(?i){name_opt}\s*[\"']?{re.escape(m.name)}[\"']?(?:\s|$)"
        if m.image:
            value = rf"(?i){image_opt}\s*[\"']?{_image_re(m.image)}[\"']?(?:\s|$)"
        elif m.type:
            value = rf"(?i){type_opt}\s*[\"']?{re.escape(m.type)}[\"']?(?:\s|$)"
        else:
            continue
        items.append({f"{field}|contains": m.name, f"{field}|re|all": [name, value]})
    return items


def _signers(m: KnownModule) -> list[str] | None:
    exp = m.signer.replace("(expected)", "").strip()
    if not exp or exp.lower().startswith("unknown"):
        return None
    if exp.lower() in MICROSOFT_SIGNERS:
        return sorted(s.title() for s in MICROSOFT_SIGNERS)
    return [exp.split("/")[0].strip() + "*"]


def _sigma(value: str) -> str:
    """A path pattern as a Sigma string: ``*`` stays a wildcard even right after a backslash."""
    return value.replace("\\*", "\\\\*").replace("\\?", "\\\\?")


def _images(m: KnownModule) -> list[str]:
    """Concrete image paths/patterns of an entry (descriptive images such as 'x.dll, y.dll' are skipped)."""
    out = list(m.images)
    if m.image and (m.group in MODULE_GROUPS or m.image.startswith(("%", "C:"))) and "," not in m.image:
        out.insert(0, m.image)
    return out


def _loaded() -> list[KnownModule]:
    """Modules and other legitimate w3wp DLLs with a concrete image path or pattern."""
    return [m for m in load_baseline() if _images(m)]


def _disk(m: KnownModule) -> list[str]:
    paths = [p for img in _images(m) for p in (config_spellings(img) if img.startswith("<") else disk_paths(img))]
    return [_sigma(p) for p in dict.fromkeys(paths)]


def _load_known() -> list[dict[str, Any]]:
    items = []
    for m in _loaded():
        paths = _disk(m)
        item: dict[str, Any] = {"ImageLoaded": paths, "Signed": "true", "SignatureStatus": "Valid"}
        signers = _signers(m)
        if signers:
            item["Signature"] = signers
        items.append(item)
    return items


def _load_known_filename() -> dict[str, Any]:
    names = {"\\" + img.rsplit("\\", 1)[-1] for m in _loaded() for img in _images(m)}
    return {"ImageLoaded|endswith": sorted(n for n in names if "*" not in n and "." in n)}


def _load_known_path() -> dict[str, Any]:
    return {"ImageLoaded": list(dict.fromkeys(p for m in _loaded() for p in _disk(m)))}


KINDS = {
    "config_known": _config_known,
    "config_known_key": _config_known_key,
    "config_lookalike": _config_lookalike,
    "command_known": lambda: _cli_items("CommandLine", "/name:", "/image:", "/type:"),
    "script_known": lambda: _cli_items("ScriptBlockText", "-Name", "-Image", "-Type"),
    "load_known": _load_known,
    "load_known_filename": _load_known_filename,
    "load_known_path": _load_known_path,
    "deploy_tool": lambda: {"Image": list(load_deployment()["tools"])},
    "deploy_server_wide": lambda: {"TargetFilename|contains": list(load_deployment()["server_wide"])},
    "installer": lambda: {"Image": list(load_installers()["images"])},
    "iis_setup": lambda: {"Image": list(load_installers()["iis_setup"])},
}


@functools.cache
def generated(kind: str) -> Any:
    """The detection item of one kind (cached: the baseline is read once per process)."""
    if kind not in KINDS:
        raise RuleError(f"baseline: unknown kind {kind!r} (one of {', '.join(sorted(KINDS))})")
    return KINDS[kind]()


def apply(doc: dict[str, Any]) -> dict[str, Any]:
    """Fill the detection items a rule names under ``baseline:``; other rules are returned unchanged."""
    spec = doc.get("baseline")
    if spec is None:
        return doc
    if not isinstance(spec, dict) or not isinstance(doc.get("detection"), dict):
        raise RuleError("baseline: must map detection item names to baseline kinds")
    detection = dict(doc["detection"])
    for item, kind in spec.items():
        detection[str(item)] = generated(str(kind))
    out = {k: v for k, v in doc.items() if k != "baseline"}
    out["detection"] = detection
    return out
