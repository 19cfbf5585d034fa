"""Weigh a triaged DLL against the entry that registers it: right exports for its role, expected signer.

Levels: informational when the file agrees with its registration; medium when it is unsigned while not an OS
file, not a PE, or lacks the exports its role needs; high when it carries a signature by someone other than the
expected signer, or a product-signed Microsoft component (URL Rewrite, ANCM, Exchange) is unsigned.
"""

from __future__ import annotations

from iisdetect.audit.entries import Entry
from iisdetect.audit.pe import ROLE_EXPORTS, DllReport
from iisdetect.baseline import MICROSOFT_SIGNERS

ROLE_BY_KIND = {
    "global_module": "native_module",
    "isapi_filter": "isapi_filter",
    "isapi_cgi_restriction": "isapi_extension",
    "handler": "isapi_extension",
}


def _other_signer(expected: str, got: str) -> bool:
    """The embedded signer is not the one this component should carry (both lower-cased)."""
    if not expected or expected.startswith("unknown"):
        return False
    if expected in MICROSOFT_SIGNERS:
        return got not in MICROSOFT_SIGNERS
    return not got.startswith(expected.split("/")[0].strip())


def weigh(rep: DllReport, entry: Entry | None, expected_signer: str) -> tuple[str, list[str]]:
    """(level, reasons) for one DLL; ``entry`` None for a ``--dll`` file no configuration names."""
    reasons: list[str] = []
    levels = ["informational"]
    if not rep.is_pe:
        return "medium", ["not a PE file: " + "; ".join(rep.notes)]
    role = ROLE_BY_KIND.get(entry.kind) if entry is not None else None
    if entry is not None and entry.kind == "handler" and not entry.resolved.lower().endswith(".dll"):
        role = None  # a CGI/FastCGI executable, not an ISAPI DLL
    if role and role not in rep.roles and not rep.dotnet:
        levels.append("medium")
        reasons.append(
            f"registered as {entry.kind if entry else '?'} but does not export {', '.join(ROLE_EXPORTS[role])}"
        )
    if entry is not None and entry.kind == "module" and rep.dotnet and not rep.http_modules:
        levels.append("low")
        reasons.append("no type in this assembly implements System.Web.IHttpModule directly")
    exp = expected_signer.replace("(expected)", "").strip().lower()
    got = rep.signer.strip().lower()
    if rep.signature.startswith("signed"):
        if _other_signer(exp, got):
            levels.append("high")
            reasons.append(f"signed by '{rep.signer}', expected '{expected_signer}' (signature not verified)")
        else:
            reasons.append(f"signed by '{rep.signer}' (not verified)")
    elif rep.signature.startswith("damaged"):
        levels.append("medium")
        reasons.append(f"signature {rep.signature}")
    elif entry is not None and entry.kind == "module" and rep.dotnet:
        levels.append("low")
        reasons.append("no embedded signature (common for .NET assemblies; the strong name is not a signature check)")
    elif exp == "microsoft windows":
        reasons.append(
            "no embedded signature (expected: Windows files are catalog-signed; check the catalog on the host)"
        )
    elif exp in MICROSOFT_SIGNERS:
        levels.append("high")
        reasons.append(f"no embedded signature, but '{expected_signer}' signs this product")
    else:
        levels.append("medium")
        reasons.append("no embedded signature")
    from iisdetect.audit.findings import max_level

    return max_level(levels), reasons
