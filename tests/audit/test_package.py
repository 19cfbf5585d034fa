"""Triage-package layouts map back to server paths; folders, zip and tar are read; bad members are counted."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from iisdetect.audit.package import iter_members, windows_path
from iisdetect.errors import InputError
from iisdetect.model.stats import RunStats


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        # KAPE target output: <dest>\C\Windows\...
        ("C/Windows/System32/inetsrv/config/applicationHost.config",
         "C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config"),
        ("WEB01/2024-03-07/D/inetpub/wwwroot/web.config", "D:\\inetpub\\wwwroot\\web.config"),
        # Velociraptor collection zips: uploads/auto/C%3A/... and uploads/ntfs/%5C%5C.%5CC%3A/...
        ("uploads/auto/C%3A/inetpub/history/CFGHISTORY_0000000001/applicationHost.config",
         "C:\\inetpub\\history\\CFGHISTORY_0000000001\\applicationHost.config"),
        ("uploads/ntfs/%5C%5C.%5CC%3A/Windows/System32/inetsrv/x.dll", "C:\\Windows\\System32\\inetsrv\\x.dll"),
        # a copy that starts at a root folder; and a bare config folder with no server path at all
        ("export/inetpub/wwwroot/web.config", "C:\\inetpub\\wwwroot\\web.config"),
        ("config/applicationHost.config", "config\\applicationHost.config"),
    ],
)  # fmt: skip
def test_windows_path(rel: str, expected: str) -> None:
    assert windows_path(rel) == expected


def test_folder_zip_tar(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "C" / "inetpub").mkdir(parents=True)
    (tmp_path / "pkg" / "C" / "inetpub" / "web.config").write_text("<configuration/>")
    zpath = tmp_path / "c.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr(
            zipfile.ZipInfo("uploads/auto/C%3A/inetpub/web.config", (2024, 3, 5, 14, 12, 0)), "<configuration/>"
        )
    tpath = tmp_path / "c.tar.gz"
    with tarfile.open(tpath, "w:gz") as tf:
        info = tarfile.TarInfo("C/inetpub/web.config")
        data = b"<configuration/>"
        info.size, info.mtime = len(data), 1709648000
        tf.addfile(info, io.BytesIO(data))
    stats = RunStats()
    members = list(iter_members([str(tmp_path / "pkg"), str(zpath), str(tpath)], stats))
    assert [m.windows_path for m in members] == ["C:\\inetpub\\web.config"] * 3
    assert [m.read() for m in members] == [b"<configuration/>"] * 3
    assert members[1].mtime == "2024-03-05T14:12:00.000000Z"
    assert members[2].mtime == "2024-03-05T14:13:20.000000Z"
    assert members[1].display == f"{zpath}!uploads/auto/C%3A/inetpub/web.config"
    assert all(m.kind == "web.config" for m in members)
    assert stats.files_failed == 0


def test_snapshot_name() -> None:
    stats = RunStats()
    assert stats.files == 0
    from iisdetect.audit.package import Member

    m = Member("x", "C/inetpub/history/cfghistory_0000000004/applicationHost.config", "", 0, "", bytes, "p")
    assert m.snapshot == "CFGHISTORY_0000000004" and m.kind == "applicationHost"


def test_bad_containers_and_special_files(tmp_path: Path) -> None:
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really")
    (tmp_path / "bad.tar").write_bytes(b"\x00" * 10 + b"garbage")
    os.mkfifo(tmp_path / "fifo")  # must never be opened (it would block the run)
    stats = RunStats()
    members = list(iter_members([str(tmp_path)], stats))
    assert members == []
    assert stats.files_failed == 2
    assert sorted(s.reason for s in stats.skips) == ["unreadable tar", "unreadable zip"]


def test_missing_path() -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        list(iter_members(["/nonexistent/x"], RunStats()))
