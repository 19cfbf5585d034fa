"""Find IIS configuration files (and the DLLs they name) in folders, zip and tar triage packages.

Responders rarely hand over a bare ``inetsrv\\config`` folder: they collect with KAPE (``<target>\\C\\Windows\\...``),
Velociraptor (``uploads/auto/C%3A/Windows/...`` or ``uploads/ntfs/%5C%5C.%5CC%3A/...``) or zip a copy of
``%windir%\\System32\\inetsrv\\config`` and ``C:\\inetpub``. Every member is mapped back to the Windows path it had
on the server when the layout shows one (a drive folder), so a DLL path in ``applicationHost.config`` can be found in
the package. Nothing is extracted to disk; members are read into memory up to ``MAX_CONFIG_BYTES`` /
``MAX_DLL_BYTES`` and anything larger is refused with a counted skip.
"""

from __future__ import annotations

import os
import re
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from iisdetect.errors import InputError
from iisdetect.model.stats import RunStats

MAX_CONFIG_BYTES = 16 * 1024 * 1024
MAX_DLL_BYTES = 64 * 1024 * 1024
#: members looked at per package (a zip with millions of entries is a bomb, not a triage package)
MAX_MEMBERS = 200_000

CONFIG_NAMES = {
    "applicationhost.config": "applicationHost",
    "administration.config": "administration",
    "redirection.config": "redirection",
    "web.config": "web.config",
}
_HISTORY = re.compile(r"^cfghistory_(\d+)$", re.I)
_DRIVE = re.compile(r"^(?:\\\\[.?]\\)?([a-z])(?::|\$)?$", re.I)
_ROOTS = {"windows", "inetpub", "program files", "program files (x86)", "programdata", "users", "perflogs"}


@dataclass
class Member:
    """One file in the input: where it is (``display``), the Windows path it had, and how to read it."""

    display: str
    rel: str
    windows_path: str
    size: int
    mtime: str
    read: Callable[[], bytes]
    package: str

    @property
    def kind(self) -> str | None:
        return CONFIG_NAMES.get(self.rel.rsplit("/", 1)[-1].lower())

    @property
    def root(self) -> str:
        """The collection root the member sits under (one per machine in a multi-host package)."""
        return split_path(self.rel)[0]

    @property
    def snapshot(self) -> str | None:
        """``CFGHISTORY_0000000003`` when the file sits in an IIS configuration-history folder."""
        parts = self.rel.split("/")
        for part in parts[:-1]:
            if _HISTORY.match(part):
                return part.upper()
        return None


def split_path(rel: str) -> tuple[str, str]:
    """(collection root, server path) of a member: ``HOST1/C/Windows/x`` -> (``HOST1``, ``C:\\Windows\\x``).

    The root is what comes before the drive folder (a KAPE destination per host, Velociraptor's
    ``uploads/auto``); members under different roots are different machines. Without a drive or root folder
    in the layout the member's own relative path is returned (with backslashes) and the root is empty.
    """
    parts = [unquote(p) for p in rel.replace("\\", "/").split("/") if p not in ("", ".")]
    for i, part in enumerate(parts[:-1]):
        m = _DRIVE.match(part)
        if m and parts[i + 1].lower() in _ROOTS:
            return "/".join(parts[:i]), m.group(1).upper() + ":\\" + "\\".join(parts[i + 1 :])
    for i, part in enumerate(parts[:-1]):  # a copy that starts at a root folder (Windows\..., inetpub\...)
        if part.lower() in _ROOTS:
            return "/".join(parts[:i]), "C:\\" + "\\".join(parts[i:])
    return "", "\\".join(parts)


def windows_path(rel: str) -> str:
    """The server path a package member had: ``C/Windows/x`` or ``C%3A/Windows/x`` -> ``C:\\Windows\\x``."""
    return split_path(rel)[1]


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _zip_time(info: zipfile.ZipInfo) -> str:
    try:  # zip times are local time without a zone; shown as written (documented in docs/audit.md)
        return datetime(*info.date_time).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    except ValueError:
        return ""


def iter_members(paths: list[str], stats: RunStats) -> Iterator[Member]:
    """Every file under the inputs: plain files, folders (recursive), .zip and .tar(.gz/.bz2/.xz)."""
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputError(f"no such file or folder: {raw}")
        if p.is_dir():
            yield from _folder(p, stats)
        else:
            yield from _file(p, p.name, p.name, stats)


def _folder(root: Path, stats: RunStats) -> Iterator[Member]:
    count = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            f = Path(dirpath) / name
            if not f.is_file():  # FIFOs, sockets, devices: never opened
                continue
            count += 1
            if count > MAX_MEMBERS:
                stats.file_failed(str(root), "too many files", f"more than {MAX_MEMBERS}")
                return
            rel = f.relative_to(root).as_posix()
            yield from _file(f, rel, str(f), stats, package=str(root))


def _file(f: Path, rel: str, display: str, stats: RunStats, package: str = "") -> Iterator[Member]:
    low = f.name.lower()
    if low.endswith(".zip"):
        yield from _zip(f, stats)
        return
    if low.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
        yield from _tar(f, stats)
        return
    st = f.stat()
    yield Member(display, rel, windows_path(rel), st.st_size, _iso(st.st_mtime), f.read_bytes, package or str(f.parent))


def _zip(f: Path, stats: RunStats) -> Iterator[Member]:
    try:
        zf = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, OSError) as exc:
        stats.file_failed(str(f), "unreadable zip", str(exc))
        return
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_MEMBERS:
            stats.file_failed(str(f), "too many files", f"{len(infos)} members")
            return
        for info in infos:
            yield Member(
                f"{f}!{info.filename}",
                info.filename,
                windows_path(info.filename),
                info.file_size,
                _zip_time(info),
                _now(lambda i=info: zf.read(i))
                if _small_config(info.filename, info.file_size)
                else _reader_zip(f, info),
                str(f),
            )


def _small_config(name: str, size: int) -> bool:
    """Configuration files are read while the archive is open (one pass); DLLs later, only when named."""
    return size <= MAX_CONFIG_BYTES and name.replace("\\", "/").rsplit("/", 1)[-1].lower() in CONFIG_NAMES


def _now(read: Callable[[], bytes]) -> Callable[[], bytes]:
    """Read now; a damaged member (bad CRC, truncated stream) fails later, when used, as an ``OSError``."""
    try:
        data = read()
    except Exception as exc:  # zipfile/zlib/tarfile each raise their own types for a damaged member
        err = OSError(f"damaged member ({type(exc).__name__}: {str(exc)[:100]})")

        def fail() -> bytes:
            raise err

        return fail
    return lambda: data


def _tar_read(tf: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    fh = tf.extractfile(info)
    return fh.read(info.size + 1) if fh else b""


_OPEN: dict[str, zipfile.ZipFile | tarfile.TarFile] = {}


def _zip_handle(f: Path) -> zipfile.ZipFile:
    key = str(f)
    if key not in _OPEN:
        _OPEN[key] = zipfile.ZipFile(f)
    return _OPEN[key]  # type: ignore[return-value]


def close_archives() -> None:
    """Close the handles lazy readers opened (``audit()`` calls this when it is done)."""
    while _OPEN:
        _OPEN.popitem()[1].close()


def _reader_zip(f: Path, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    """Read after the listing, and only for the few members that are needed (one open handle per archive)."""

    def read() -> bytes:
        try:
            with _zip_handle(f).open(info) as fh:  # at most the declared size + 1 byte
                return fh.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise OSError(f"damaged member ({exc})") from None

    return read


def _tar(f: Path, stats: RunStats) -> Iterator[Member]:
    try:
        tf = tarfile.open(f)  # noqa: SIM115 - closed below
    except (tarfile.TarError, OSError, EOFError) as exc:
        stats.file_failed(str(f), "unreadable tar", str(exc))
        return
    with tf:
        try:
            infos = []
            for info in tf:
                if info.isfile():
                    infos.append(info)
                if len(infos) > MAX_MEMBERS:
                    stats.file_failed(str(f), "too many files", f"more than {MAX_MEMBERS}")
                    return
        except (tarfile.TarError, OSError, EOFError) as exc:
            stats.file_failed(str(f), "damaged tar", str(exc))
        for info in infos:
            yield Member(
                f"{f}!{info.name}",
                info.name,
                windows_path(info.name),
                info.size,
                _iso(info.mtime),
                _now(lambda i=info: _tar_read(tf, i)) if _small_config(info.name, info.size) else _reader_tar(f, info),
                str(f),
            )


def _reader_tar(f: Path, info: tarfile.TarInfo) -> Callable[[], bytes]:
    """One handle per archive and the member's own header (its data offset): no rescan of a .tar.gz per read."""

    def read() -> bytes:
        try:
            key = f"tar:{f}"
            if key not in _OPEN:
                _OPEN[key] = tarfile.open(f)  # noqa: SIM115 - closed by close_archives()
            return _tar_read(_OPEN[key], info)  # type: ignore[arg-type]
        except (tarfile.TarError, zlib.error, EOFError, KeyError) as exc:
            raise OSError(f"damaged member ({exc})") from None

    return read
